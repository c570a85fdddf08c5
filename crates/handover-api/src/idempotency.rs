//! `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) for the creating POSTs whose
//! retry could create a duplicate.
//!
//! The key is per caller. The first successful answer to a key is stored in the transaction that
//! created the record and replayed (same status, body, `Location` and `ETag`, plus
//! `Idempotent-Replayed: true`) to retries of the same request for 24 hours. The same key with a
//! different request is 422. A request that fails stores nothing, so the client can correct it and
//! retry with the same key. Without the header nothing changes.
//!
//! In a handler: [`IdempotencyKey::bind`] after the access check, [`Idempotency::replay`] before
//! the state checks (a retry is answered even if the state has moved on since),
//! [`Idempotency::claim`] first thing in the creating transaction (concurrent duplicates wait there
//! for the first to commit), [`Idempotency::store`] last before the commit.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, RequestMeta};
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use handover_db::idempotency::{self as db, Stored};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

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
    /// Binds the key to the caller and the request. `body` is the parsed body (`None` when the
    /// operation takes none); its canonical JSON (keys sorted) goes into the fingerprint, so
    /// spacing and key order do not make a retry "different".
    pub fn bind<B: Serialize>(self, auth: &Auth, body: Option<&B>) -> ApiResult<Idempotency> {
        let Some(sent) = self.0 else {
            return Ok(Idempotency(None));
        };
        let canonical = match body {
            Some(b) => serde_json::to_vec(&serde_json::to_value(b).map_err(ApiError::internal)?)
                .map_err(ApiError::internal)?,
            None => Vec::new(),
        };
        let mut h = Sha256::new();
        for part in [sent.method.as_bytes(), sent.path.as_bytes(), &canonical] {
            // Length-prefixed, so no two different requests concatenate to the same input.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(Idempotency(Some(Bound {
            user: auth.0.user_id.0,
            key: sent.key,
            operation: sent.operation,
            fingerprint: h.finalize().into(),
        })))
    }
}

/// A key bound to its caller and request; without a key every method is a no-op.
#[derive(Debug, Clone)]
pub struct Idempotency(Option<Bound>);

#[derive(Debug, Clone)]
struct Bound {
    user: Uuid,
    key: String,
    operation: String,
    fingerprint: [u8; 32],
}

impl Idempotency {
    /// The stored answer when this is a retry (`Some`, to return as it is), 422 when the key was
    /// used for another request, `None` when the key is new (or expired): go on.
    pub async fn replay(&self, db: impl PgExecutor<'_>) -> ApiResult<Option<Response>> {
        let Some(b) = &self.0 else { return Ok(None) };
        match db::find(db, b.user, &b.key).await? {
            Some(s) => b.answer(s).map(Some),
            None => Ok(None),
        }
    }

    /// Claims the key in the creating transaction, before anything is written. `None`: ours, go
    /// on and [`store`](Self::store) the answer. `Some`: a concurrent duplicate committed first;
    /// return its answer (and drop the transaction).
    pub async fn claim(
        &self,
        tx: &mut PgConnection,
        participant: Option<Uuid>,
    ) -> ApiResult<Option<Response>> {
        let Some(b) = &self.0 else { return Ok(None) };
        let claim = db::Claim {
            user: b.user,
            key: &b.key,
            operation: &b.operation,
            fingerprint: &b.fingerprint,
            participant,
        };
        if db::claim(&mut *tx, &claim).await? {
            return Ok(None);
        }
        match db::find(&mut *tx, b.user, &b.key).await? {
            Some(s) => b.answer(s).map(Some),
            // Expired and purged between the two statements: rare; the retry will claim it.
            None => Err(ApiError::Conflict(
                "A request with this Idempotency-Key was being processed; retry it.".into(),
            )),
        }
    }

    /// Stores a successful answer under the claimed key, in the claiming transaction, and returns
    /// it unchanged.
    pub async fn store(&self, tx: &mut PgConnection, res: Response) -> ApiResult<Response> {
        let Some(b) = &self.0 else { return Ok(res) };
        let (parts, body) = res.into_parts();
        // Our own JSON answer, already in memory.
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(ApiError::internal)?;
        let text = |name: header::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        db::store(
            &mut *tx,
            b.user,
            &b.key,
            parts.status.as_u16(),
            &bytes,
            text(header::LOCATION).as_deref(),
            text(header::ETAG).as_deref(),
        )
        .await?;
        Ok(Response::from_parts(parts, Body::from(bytes)))
    }
}

impl Bound {
    /// The stored answer, replayed, if it answered this same request.
    fn answer(&self, s: Stored) -> ApiResult<Response> {
        if s.operation != self.operation || s.fingerprint.as_slice() != self.fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let status = u16::try_from(s.status)
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| ApiError::internal("stored idempotent answer has no valid status"))?;
        let mut res = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            s.body,
        )
            .into_response();
        let h = res.headers_mut();
        for (name, value) in [(header::LOCATION, s.location), (header::ETAG, s.etag)] {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(name, v);
            }
        }
        h.insert(REPLAYED, HeaderValue::from_static("true"));
        Ok(res)
    }
}

/// Audits a replay (the caller received the stored answer again: a disclosure, though not a
/// second creation) and returns the answer.
pub async fn replayed(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    target: Option<(&str, Uuid)>,
    res: Response,
) -> ApiResult<Response> {
    audit(db, auth, meta, action, target, "replayed").await?;
    Ok(res)
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
