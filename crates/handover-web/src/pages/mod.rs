//! The pages, by area. A handler extracts (a [`Staff`](crate::session::Staff) or a posted form),
//! calls one use case, and renders a template or redirects (POST-redirect-GET).

pub mod admin;
pub mod auth;
pub mod catalogue;
pub mod conversations;
pub mod documents;
pub mod erasure;
pub mod guidance;
pub mod handovers;
pub mod outcome;
pub mod participants;
pub mod prep;
pub mod programme;
pub mod second_factor;
pub mod sso;
pub mod start;
pub mod statistics;

use crate::error::WebError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub type PageResult = Result<Response, WebError>;

/// A rendered page.
pub fn page(t: &impl Template) -> PageResult {
    page_with(StatusCode::OK, t)
}

/// A rendered page with a status: 422 for a form shown again with its errors, 409 for one
/// whose record changed meanwhile.
pub fn page_with(status: StatusCode, t: &impl Template) -> PageResult {
    match t.render() {
        Ok(body) => Ok((status, Html(body)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(WebError::Internal)
        }
    }
}

/// The previous and next pages of a list, as addresses: `link(offset)` is the list's address
/// at that offset, with its filters.
pub fn pager(
    offset: i64,
    size: i64,
    total: i64,
    link: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    let prev = (offset > 0).then(|| link((offset - size).max(0)));
    let next = (offset.saturating_add(size) < total).then(|| link(offset + size));
    (prev, next)
}

/// 200 for a page, 422 for a form or filter shown again with its errors.
pub fn status_for(errors: &crate::view::FormErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// After a successful post: to the page that shows the result, with a confirmation.
pub fn see_other(path: &str) -> PageResult {
    Ok(Redirect::to(path).into_response())
}

/// The confirmation shown after a redirect, chosen from a fixed list (never text from the URL).
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub done: Option<String>,
}

impl NoticeQuery {
    pub fn key(&self) -> Option<&'static str> {
        Some(match self.done.as_deref()? {
            "saved" => "notice.saved",
            "created" => "notice.created",
            "deleted" => "notice.deleted",
            "password" => "notice.password_changed",
            "setup_sent" => "notice.setup_sent",
            "deactivated" => "notice.deactivated",
            "accepted" => "notice.accepted",
            "sent" => "notice.sent",
            "cancelled" => "notice.cancelled",
            "declined" => "notice.declined",
            "proposed" => "notice.proposed",
            "confirmed" => "notice.confirmed",
            "moved" => "notice.moved",
            "minutes" => "notice.minutes",
            "second_factor_reset" => "notice.second_factor_reset",
            "requeued" => "notice.requeued",
            "discarded" => "notice.discarded",
            "erased" => "notice.erased",
            "action_saved" => "notice.action_saved",
            "outcome" => "notice.outcome",
            _ => return None,
        })
    }
}

/// An optional form value: blank is none.
pub fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A path id that is not an id is a page that does not exist.
pub fn parse_id(s: &str) -> Result<uuid::Uuid, WebError> {
    s.parse().map_err(|_| WebError::NotFound)
}
