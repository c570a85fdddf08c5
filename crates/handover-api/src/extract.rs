//! Extractors: the verified caller, request metadata for the audit log, JSON bodies, query
//! strings, path ids and `If-Match`, each failing with a problem answer.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use bytes::Bytes;
use handover_app::Actor;
use handover_app::precondition::Precondition;
use handover_domain::UserId;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The authenticated caller, with the request's id and client address: the [`Actor`] every use
/// case takes. Loaded from the database on every request, so a deactivated user or a revoked
/// session is refused at once.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

impl std::ops::Deref for Auth {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let claims = state.keys.verify(token).ok_or(ApiError::Unauthenticated)?;
        let caller = handover_app::session::caller(&state.app, UserId(claims.sub), claims.sid)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if let Some(n) = parts.extensions.get::<handover_app::actor::CallerNote>() {
            n.note(&caller);
        }
        let Ok(meta) = RequestMeta::from_request_parts(parts, state).await;
        Ok(Auth(Actor {
            caller,
            meta: meta.into(),
        }))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Request id and client address, for the audit log.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub client_addr: Option<IpAddr>,
}

impl RequestMeta {
    pub fn client(&self) -> Option<String> {
        self.client_addr.map(|a| a.to_string())
    }
}

impl From<RequestMeta> for handover_app::RequestMeta {
    fn from(m: RequestMeta) -> Self {
        handover_app::RequestMeta {
            request_id: m.request_id,
            client_addr: m.client_addr,
        }
    }
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(64).collect());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client_addr =
            peer.map(|p| client_address(p, &parts.headers, &state.config.trusted_proxies));
        Ok(RequestMeta {
            request_id,
            client_addr,
        })
    }
}

/// The client's address (see [`handover_app::actor::client_address`]).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    handover_app::actor::client_address(
        peer,
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
        trusted,
    )
}

/// A JSON body: `application/json` required (415), syntax errors are 400, and type errors,
/// missing and unknown fields are 422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("The request body could not be read.".into())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        // Trailing data (a second document, garbage) is refused: another parser in front of
        // the service might read the body differently.
        Ok(v) => match de.end() {
            Ok(()) => Ok(v),
            Err(e) => Err(ApiError::MalformedJson(format!(
                "trailing characters at line {} column {}",
                e.line(),
                e.column()
            ))),
        },
        // JSON has one kind of number: `3.0` is the integer 3, and valid against an `integer`
        // schema. serde refuses it for integer fields, so parse again with such numbers as
        // integers (keeping the refusal of duplicate keys the typed parse has).
        Err(e)
            if e.inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            let value = match serde_json::from_slice::<StrictValue>(bytes) {
                Ok(StrictValue(v)) => v,
                Err(e) => return Err(json_error(String::new(), e)),
            };
            serde_path_to_error::deserialize::<_, T>(value)
                .map_err(|e| json_error(e.path().to_string(), e.into_inner()))
        }
        Err(e) => Err(json_error(e.path().to_string(), e.into_inner())),
    }
}

/// A JSON value with integral numbers (`3.0`) as integers; refuses duplicate object keys.
struct StrictValue(serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Within 2^53 every integral f64 is exact.
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            return Ok((v as i64).into());
        }
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate field `{key}`"
                )));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

fn json_error(path: String, inner: serde_json::Error) -> ApiError {
    match inner.classify() {
        serde_json::error::Category::Data => {
            let field = if path == "." { String::new() } else { path };
            let (code, message) = describe_data_error(&inner.to_string());
            ApiError::Validation(vec![handover_domain::FieldError {
                field,
                code: code.into(),
                message,
            }])
        }
        _ => ApiError::MalformedJson(format!(
            "{} at line {} column {}",
            short_syntax(&inner),
            inner.line(),
            inner.column()
        )),
    }
}

fn short_syntax(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category::*;
    match e.classify() {
        Eof => "unexpected end of input",
        Syntax => "syntax error",
        Io => "unreadable input",
        Data => "invalid value",
    }
}

/// serde's messages are clear but may quote the whole input value; keep them short.
fn describe_data_error(msg: &str) -> (&'static str, String) {
    let msg: String = msg
        .split(" at line ")
        .next()
        .unwrap_or(msg)
        .chars()
        .take(200)
        .collect();
    let code = if msg.starts_with("unknown field") {
        "unknown_field"
    } else if msg.starts_with("missing field") {
        "missing_field"
    } else if msg.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    (code, msg)
}

/// A query string; bad parameters are 422 naming the problem.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(ApiQuery(q.0)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let detail = text.split_once(": ").map(|(_, d)| d).unwrap_or(&text);
                Err(ApiError::Validation(vec![handover_domain::FieldError {
                    field: "query".into(),
                    code: "invalid_query".into(),
                    message: detail.chars().take(200).collect(),
                }]))
            }
            Err(_) => Err(ApiError::BadRequest("The query string is invalid.".into())),
        }
    }
}

/// Path parameters; an id that is not a UUID cannot name anything: 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(ApiPath(p.0)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(ApiError::NotFound),
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

/// The `If-Match` header. Read it with [`IfMatch::version`] after the access checks, so a
/// caller without access learns nothing from a 428/412.
#[derive(Debug, Clone)]
pub struct IfMatch(Option<axum::http::HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(parts.headers.get(header::IF_MATCH).cloned()))
    }
}

impl IfMatch {
    /// The header as the use cases take it. Missing or `*`: [`Precondition::Missing`]; tags
    /// that are not ours are dropped (none left: no version matches).
    pub fn precondition(&self) -> Precondition {
        let Some(v) = self.0.as_ref() else {
            return Precondition::Missing;
        };
        let Ok(s) = v.to_str() else {
            return Precondition::Versions(Vec::new());
        };
        let s = s.trim();
        if s == "*" {
            return Precondition::Missing;
        }
        Precondition::Versions(s.split(',').filter_map(|t| parse_etag(t.trim())).collect())
    }

    pub fn check(&self, current: i32) -> Result<i32, ApiError> {
        Ok(self.precondition().check(current)?)
    }

    pub fn check_optional(&self, current: Option<i32>) -> Result<Option<i32>, ApiError> {
        Ok(self.precondition().check_optional(current)?)
    }
}

fn parse_etag(s: &str) -> Option<i32> {
    // If-Match uses strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    s.strip_prefix('"')?
        .strip_suffix('"')?
        .parse()
        .ok()
        .filter(|v: &i32| *v > 0)
}

/// The ETag for a version number.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 192.0.2.7"),
        );
        let outsider: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(client_address(outsider, &h, &[proxy]), outsider);
        assert_eq!(
            client_address(proxy, &h, &[proxy]),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn etags() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"3\""), None);
        assert_eq!(parse_etag("3"), None);
        assert_eq!(parse_etag("\"-1\""), None);
        assert_eq!(etag(7), "\"7\"");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u32,
    }

    #[test]
    fn json_errors_are_classified() {
        assert!(matches!(
            parse_json::<T>(b"{"),
            Err(ApiError::MalformedJson(_))
        ));
        match parse_json::<T>(br#"{"a": 1, "role": "admin"}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].code, "unknown_field"),
            other => panic!("{other:?}"),
        }
        match parse_json::<T>(br#"{"a": "x"}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(
                (e[0].field.as_str(), e[0].code.as_str()),
                ("a", "invalid_type")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<T>(br#"{"a": 1} {"a": 2}"#),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(parse_json::<T>(b" {\"a\": 1}\n ").is_ok());
        // `3.0` is the integer 3 in JSON; `3.5` is not, and duplicate keys stay refused.
        assert!(matches!(parse_json::<T>(br#"{"a": 3.0}"#), Ok(T { a: 3 })));
        match parse_json::<T>(br#"{"a": 3.5}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].code, "invalid_type"),
            other => panic!("{other:?}"),
        }
        match parse_json::<T>(br#"{"a": 3.0, "a": 4}"#) {
            Err(ApiError::Validation(e)) => assert!(e[0].message.contains("duplicate")),
            other => panic!("{other:?}"),
        }
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse_json::<serde_json::Value>(deep.as_bytes()),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
