//! Browser sessions: the cookie, the signed-in staff member as an extractor, the language, and
//! the checks every posted form passes (same origin, and the session's CSRF token).
//!
//! A session is a row of the same sessions table the API uses, so sign-out, deactivation and a
//! role change end it on the very next request. The cookie holds an opaque token (only its
//! SHA-256 is stored); it is HttpOnly, SameSite=Lax, and `__Host-` with Secure when the service
//! is reached over https (browsers refuse a `__Host-` cookie without Secure, so a development
//! instance on plain http uses the same name without the prefix).

use crate::WebState;
use crate::error::WebError;
use crate::i18n::Lang;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use bytes::Bytes;
use handover_app::{Actor, RequestMeta};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// The name of the form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
pub const LANG_COOKIE: &str = "handover-lang";

/// The cookie names, by whether the service is reached over https.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub secure: bool,
    pub session: &'static str,
    pub setup: &'static str,
    /// The `state` of a sign-in that went to the organisation's identity provider, so the
    /// callback can tell it is this browser's own.
    pub sso: &'static str,
}

impl CookieNames {
    pub fn new(secure: bool) -> Self {
        if secure {
            CookieNames {
                secure,
                session: "__Host-handover-session",
                setup: "__Host-handover-setup",
                sso: "__Host-handover-sso",
            }
        } else {
            CookieNames {
                secure,
                session: "handover-session",
                setup: "handover-setup",
                sso: "handover-sso",
            }
        }
    }

    /// A cookie only this service's pages send back, invisible to scripts.
    pub fn private(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .build()
    }

    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut c = self.private(name, String::new());
        c.make_removal();
        c
    }
}

/// The user's language: the remembered choice, else bokmål.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_default()
}

/// The language of a page without a signed-in user, as an extractor.
pub struct UserLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UserLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UserLang(lang_of(&parts.headers)))
    }
}

/// The request's id and client address, for the audit rows of the use cases.
pub fn request_meta(parts: &Parts, state: &WebState) -> RequestMeta {
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client_addr = peer.map(|p| {
        handover_app::actor::client_address(
            p,
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok()),
            &state.app.config.trusted_proxies,
        )
    });
    RequestMeta {
        request_id,
        client_addr,
    }
}

/// Request metadata as an extractor, for the pages before sign-in.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<WebState> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts, state)))
    }
}

/// A signed-in staff member: the [`Actor`] every use case takes, the session's CSRF token for
/// the forms of the page, and the language. Without a live session, a page read redirects to
/// the sign-in page and back to the page afterwards.
#[derive(Debug, Clone)]
pub struct Staff {
    pub actor: Actor,
    pub csrf: String,
    pub lang: Lang,
}

impl std::ops::Deref for Staff {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

/// Why there is no [`Staff`]: the answer is the sign-in page, or an error page.
pub enum NotSignedIn {
    SignIn(Option<String>),
    Failed(WebError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::SignIn(next) => {
                let to = match next {
                    Some(n) => format!("/sign-in?next={}", encode_component(&n)),
                    None => "/sign-in".to_owned(),
                };
                Redirect::to(&to).into_response()
            }
            NotSignedIn::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<WebState> for Staff {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, NotSignedIn> {
        let lang = lang_of(&parts.headers);
        // Back to the page after sign-in: only for reads, whose address is the page itself.
        let next = (parts.method == Method::GET)
            .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_owned()))
            .flatten()
            .filter(|p| safe_next(p).is_some());
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(state.cookies.session).map(|c| c.value().to_owned()) else {
            return Err(NotSignedIn::SignIn(next));
        };
        let found = handover_app::session::web_caller(&state.app, &token)
            .await
            .map_err(|e| NotSignedIn::Failed(e.into()))?;
        let Some((caller, csrf)) = found else {
            return Err(NotSignedIn::SignIn(next));
        };
        if let Some(n) = parts.extensions.get::<handover_app::actor::CallerNote>() {
            n.note(&caller);
        }
        Ok(Staff {
            actor: Actor {
                caller,
                meta: request_meta(parts, state),
            },
            csrf,
            lang,
        })
    }
}

/// Whether a posted form comes from a page of this service: its `Origin` (or, failing that,
/// its `Referer`) is the service's public origin or the origin of the host it was sent to.
/// A browser always sends `Origin` with a form post; a post with neither header is refused.
pub fn same_origin(headers: &HeaderMap, state: &WebState) -> bool {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let r = headers.get(header::REFERER)?.to_str().ok()?;
            origin_of(r)
        });
    let Some(origin) = origin else { return false };
    if origin_of(&state.app.config.public_url).as_deref() == Some(origin.as_str()) {
        return true;
    }
    let scheme = if state.cookies.secure {
        "https"
    } else {
        "http"
    };
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| origin == format!("{scheme}://{host}"))
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// A `next` target after sign-in: a same-origin relative path only (`/…`, never `//host` or
/// `/\host`, which browsers treat as another host), so the sign-in page is no open redirect.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        // Printable ASCII only: a browser's own paths arrive percent-encoded, and anything else
        // would not be a valid `Location` header.
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && next.len() <= 512
        && !next.starts_with("/sign-in")
        && !next.starts_with("/api/");
    ok.then_some(next)
}

pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A form posted by a signed-in staff member, after the same-origin and CSRF checks: a post
/// that fails them changes nothing and is answered 403. `T` ignores fields it does not name.
pub struct Posted<T> {
    pub staff: Staff,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<WebState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !same_origin(&parts.headers, state) {
            return Err(WebError::CrossOrigin.into_response());
        }
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::BadForm.into_response())?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadForm.into_response())?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        if !bool::from(token.as_bytes().ct_eq(staff.csrf.as_bytes())) {
            return Err(WebError::CrossOrigin.into_response());
        }
        let form =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadForm.into_response())?;
        Ok(Posted { staff, form })
    }
}

/// A form posted before sign-in (sign-in, forgotten password, password setup, language): the
/// same-origin check, since there is no session token yet.
pub struct AnonForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<WebState> for AnonForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Response> {
        if !same_origin(req.headers(), state) {
            return Err(WebError::CrossOrigin.into_response());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::BadForm.into_response())?;
        serde_urlencoded::from_bytes(&bytes)
            .map(AnonForm)
            .map_err(|_| WebError::BadForm.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_same_origin_path_only() {
        for ok in ["/", "/participants?q=a", "/handovers/0190"] {
            assert_eq!(safe_next(ok), Some(ok));
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "/sign-in?next=/x",
            "/api/v1/me",
            "/a\nb",
            "/a b",
            "/ø",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_host_prefixed_and_secure_over_https() {
        let https = CookieNames::new(true);
        let c = https.private(https.session, "x".into());
        assert!(c.name().starts_with("__Host-"));
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.domain(), None);
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        let http = CookieNames::new(false);
        assert!(!http.session.starts_with("__Host-"));
        assert_eq!(http.private(http.session, "x".into()).secure(), Some(false));
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/x?y").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("https://a.example").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(origin_of("nonsense"), None);
    }
}
