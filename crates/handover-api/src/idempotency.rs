//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) for the creating POSTs whose
//! retry could create a duplicate.
//!
//! The key is per caller. The first successful answer to a key is stored in the transaction that
//! created the record and replayed (same status, body, `Location` and `ETag`, plus
//! `Idempotent-Replayed: true`) to retries of the same request for 24 hours. The same key with a
//! different request is 422. A request that fails stores nothing, so the client can correct it and
//! retry with the same key. Without the header nothing changes.
//!
//! The rules (claim, replay, store, in one transaction with the creation) are the use case's
//! (`handover_app::idempotency`). Here: the header ([`IdempotencyKey`], a malformed key is 400),
//! the answer to store ([`stored`]) and a stored answer rendered ([`respond`]).

use crate::error::ApiError;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const HEADER: &str = "idempotency-key";
/// Marks an answer that was replayed rather than produced anew.
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_LEN: usize = 255;

/// The `Idempotency-Key` header (optional), with the operation and path it was sent to. A
/// malformed key is 400.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(Option<Sent>);

#[derive(Debug, Clone)]
struct Sent {
    key: String,
    /// Method and route template: `POST /api/v1/participants/{id}/handovers`.
    operation: String,
    method: String,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(IdempotencyKey(None));
        };
        if values.next().is_some() {
            return Err(ApiError::BadRequest(
                "Send one Idempotency-Key header, not several.".into(),
            ));
        }
        let key = parse_key(value.as_bytes()).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "The Idempotency-Key must be 1 to {MAX_LEN} visible ASCII characters."
            ))
        })?;
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .map_or_else(|| parts.uri.path().to_owned(), |m| m.as_str().to_owned());
        Ok(IdempotencyKey(Some(Sent {
            key,
            operation: format!("{} {template}", parts.method),
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
        })))
    }
}

/// The key: 1..=255 visible ASCII characters (exactly what the OpenAPI pattern says). The draft
/// sends it as a structured-field string (`"…"`, RFC 9651); one names the same key as its
/// content, so `"abc"` and `abc` are one key.
fn parse_key(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?;
    let visible = s.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if s.is_empty() || s.len() > MAX_LEN || !visible {
        return None;
    }
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .and_then(unescape)
        .filter(|k| !k.is_empty());
    Some(inner.unwrap_or_else(|| s.to_owned()))
}

/// The content of an sf-string: `\"` and `\\` are the only escapes, a bare `"` ends it early.
fn unescape(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                e @ ('"' | '\\') => out.push(e),
                _ => return None,
            },
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

impl IdempotencyKey {
    /// The key as the use cases take it (`None` without the header); bind it with
    /// [`handover_app::Idempotency::bind`].
    pub fn request(self) -> Option<handover_app::KeyRequest> {
        self.0.map(|s| handover_app::KeyRequest {
            key: s.key,
            operation: s.operation,
            target: vec![s.method, s.path],
        })
    }
}

/// The answer to store for an idempotent create: `status` with the body as JSON, and the
/// `Location` and `ETag` it will carry. [`respond`] renders it, so a replay is byte for byte
/// the first answer.
pub fn stored<T: Serialize>(
    status: StatusCode,
    location: Option<String>,
    version: Option<i32>,
    body: &T,
) -> handover_app::AppResult<handover_app::StoredAnswer> {
    Ok(handover_app::StoredAnswer {
        status: status.as_u16(),
        body: serde_json::to_vec(body).map_err(handover_app::AppError::internal)?,
        location,
        etag: version.map(crate::extract::etag),
    })
}

/// Renders a stored answer; `replayed` marks it with `Idempotent-Replayed: true`.
pub fn respond(answer: handover_app::StoredAnswer, replayed: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut res = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.body,
    )
        .into_response();
    let h = res.headers_mut();
    for (name, value) in [
        (header::LOCATION, answer.location),
        (header::ETAG, answer.etag),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    if replayed {
        h.insert(REPLAYED, HeaderValue::from_static("true"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(parse_key(b"abc-123").as_deref(), Some("abc-123"));
        assert_eq!(parse_key(b"\"abc-123\"").as_deref(), Some("abc-123"));
        assert_eq!(parse_key(b"\"a\\\"b\"").as_deref(), Some("a\"b"));
        // Not a valid sf-string: the characters themselves are the key.
        assert_eq!(parse_key(b"\"a\\nb\"").as_deref(), Some("\"a\\nb\""));
        assert_eq!(parse_key(b"\"a\"b\"").as_deref(), Some("\"a\"b\""));
        assert_eq!(parse_key(b"\"\"").as_deref(), Some("\"\""));
        assert_eq!(parse_key(b""), None);
        assert_eq!(parse_key(b"a b"), None);
        assert_eq!(parse_key(b"\"a b\""), None);
        assert_eq!(parse_key(b" a"), None);
        assert_eq!(parse_key("blåbær".as_bytes()), None);
        assert_eq!(parse_key(&[b'k'; 255]).map(|k| k.len()), Some(255));
        assert_eq!(parse_key(&[b'k'; 256]), None);
    }
}
