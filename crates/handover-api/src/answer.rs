//! Rendering participant data that a use case disclosed.

use crate::extract::etag;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_app::Disclosed;

/// 200 with the body, and its version as `ETag` when it has one.
pub fn disclosed<T: serde::Serialize>(d: Disclosed<T>) -> Response {
    with_status(StatusCode::OK, None, d)
}

/// 201 with a `Location`.
pub fn disclosed_created<T: serde::Serialize>(location: String, d: Disclosed<T>) -> Response {
    with_status(StatusCode::CREATED, Some(location), d)
}

pub fn with_status<T: serde::Serialize>(
    status: StatusCode,
    location: Option<String>,
    d: Disclosed<T>,
) -> Response {
    let mut res = (status, Json(d.body)).into_response();
    if let Some(v) = d.version
        && let Ok(v) = HeaderValue::from_str(&etag(v))
    {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Some(loc) = location
        && let Ok(loc) = HeaderValue::from_str(&loc)
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// A body with its version as `ETag`, for answers without participant data.
pub fn with_etag(version: i32, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}
