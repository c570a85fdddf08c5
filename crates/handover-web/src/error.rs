//! Error pages. A handler answers a [`WebError`]; the layer [`render_failures`] turns it into a
//! page in the user's language with the status the JSON API would give (a record of another
//! organisation is "not found", never "forbidden"). A server error is logged with the request
//! id and never described.

use crate::i18n::Lang;
use crate::session::lang_of;
use crate::view::Shell;
use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use handover_app::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebError {
    NotFound,
    Forbidden,
    /// A form posted from another origin or without the session's token.
    CrossOrigin,
    /// A form body that is not a form, or a field of the wrong shape that no page offers.
    BadForm,
    /// The thing is gone (a cancelled or declined handover).
    Gone,
    /// A page asked for with a method it does not take (`GET /sign-out`).
    MethodNotAllowed,
    Conflict,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl WebError {
    fn status(self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::CrossOrigin => StatusCode::FORBIDDEN,
            WebError::BadForm => StatusCode::BAD_REQUEST,
            WebError::Gone => StatusCode::GONE,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::Conflict => StatusCode::CONFLICT,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn key(self) -> &'static str {
        match self {
            WebError::NotFound => "error.not_found",
            WebError::Forbidden => "error.forbidden",
            WebError::CrossOrigin => "error.cross_origin",
            WebError::BadForm => "error.bad_form",
            WebError::Gone => "error.gone",
            WebError::MethodNotAllowed => "error.method",
            WebError::Conflict => "error.conflict",
            WebError::TooManyRequests => "error.too_many",
            WebError::Unavailable => "error.unavailable",
            WebError::Internal => "error.internal",
        }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => WebError::NotFound,
            AppError::Forbidden => WebError::Forbidden,
            AppError::Gone(_) => WebError::Gone,
            AppError::Conflict(_)
            | AppError::DoubleBooked { .. }
            | AppError::PreconditionFailed => WebError::Conflict,
            AppError::TooManyRequests { .. } => WebError::TooManyRequests,
            AppError::Unavailable(d) => {
                tracing::warn!(detail = %d, "service unavailable");
                WebError::Unavailable
            }
            AppError::Unauthenticated
            | AppError::InvalidCredentials
            | AppError::InvalidCode
            | AppError::PasswordsDisabled
            | AppError::InvalidRefreshToken => WebError::Forbidden,
            AppError::BadRequest(_)
            | AppError::Validation(_)
            | AppError::IdempotencyKeyReused
            | AppError::PreconditionRequired => WebError::BadForm,
            AppError::Internal(d) => {
                tracing::error!(detail = %d, "internal error");
                WebError::Internal
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut res = self.status().into_response();
        res.extensions_mut().insert(self);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_title_and_a_text_in_both_languages() {
        use WebError::*;
        for e in [
            NotFound,
            Forbidden,
            CrossOrigin,
            BadForm,
            Gone,
            Conflict,
            TooManyRequests,
            Unavailable,
            Internal,
        ] {
            for lang in Lang::ALL {
                for part in ["title", "text"] {
                    let k = format!("{}.{part}", e.key());
                    assert!(lang.messages().has(&k), "{k} missing in {lang:?}");
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    message: &'a str,
}

/// Renders a [`WebError`] answer as a page in the user's language.
pub async fn render_failures(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.run(req).await;
    let failure = match res.extensions().get::<WebError>().copied() {
        Some(f) => f,
        // axum's own answer to a method a page does not take: a page too, not a bare status.
        None if res.status() == StatusCode::METHOD_NOT_ALLOWED => WebError::MethodNotAllowed,
        None => return res,
    };
    let allow = res.headers().get(header::ALLOW).cloned();
    error_page(lang, failure, request_id.as_deref(), allow)
}

fn error_page(
    lang: Lang,
    failure: WebError,
    request_id: Option<&str>,
    allow: Option<HeaderValue>,
) -> Response {
    let m = lang.messages();
    let mut shell = Shell::anonymous(lang, m.t(&format!("{}.title", failure.key())).to_owned());
    shell.request_id = request_id.map(str::to_owned);
    let text_key = format!("{}.text", failure.key());
    let message = m.t(&text_key);
    let page = ErrorPage { shell, message };
    let body = page
        .render()
        .unwrap_or_else(|_| m.t("error.internal.text").to_owned());
    let mut res = (failure.status(), Html(body)).into_response();
    res.extensions_mut().insert(failure);
    if let Some(allow) = allow {
        res.headers_mut().insert(header::ALLOW, allow);
    }
    if failure == WebError::TooManyRequests {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    res
}
