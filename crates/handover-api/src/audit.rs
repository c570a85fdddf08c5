//! Writing audit rows from handlers.

use crate::extract::{Auth, RequestMeta};
use handover_db::DbResult;
use handover_db::audit::{AuditEvent, record};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Records what `auth` did, in the caller's transaction when given one, so the audit row and the
/// change it describes commit together.
pub async fn audit(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    target: Option<(&str, Uuid)>,
    outcome: &str,
) -> DbResult<()> {
    let client = meta.client();
    record(
        db,
        &AuditEvent {
            actor_user_id: Some(auth.0.user_id),
            actor_org_id: Some(auth.0.org_id),
            actor_role: Some(auth.0.role.as_str()),
            action,
            target_type: target.map(|t| t.0),
            target_id: target.map(|t| t.1),
            outcome,
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await
}

/// The audit event of a list answer; the participants shown go in its `target_ids`.
pub fn list_event<'a>(
    auth: &'a Auth,
    meta: &'a RequestMeta,
    client: Option<&'a str>,
    action: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        actor_user_id: Some(auth.0.user_id),
        actor_org_id: Some(auth.0.org_id),
        actor_role: Some(auth.0.role.as_str()),
        action,
        target_type: Some("participant"),
        outcome: "success",
        request_id: meta.request_id.as_deref(),
        client_addr: client,
        ..Default::default()
    }
}

/// One row naming the participants shown in a list answer, in one statement.
pub async fn audit_list(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    participants: &[Uuid],
) -> DbResult<()> {
    let client = meta.client();
    handover_db::audit::record_many(
        db,
        &list_event(auth, meta, client.as_deref(), action),
        participants,
    )
    .await
}

mod proof {
    /// Proof that the audit row of an answer carrying participant data has been written, in the
    /// transaction or statement that produced the data. Only this module makes one, and only
    /// in the functions that write such a row; [`super::Disclosed`] needs one.
    #[derive(Debug)]
    pub struct Audited(());

    impl Audited {
        pub(super) fn new() -> Self {
            Audited(())
        }
    }
}
pub use proof::Audited;

/// Records that `auth` did `action` to participant `participant` (a read or a write) and returns
/// the proof an answer with that participant's data needs.
pub async fn audit_participant(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    participant: Uuid,
) -> DbResult<Audited> {
    audit(
        db,
        auth,
        meta,
        action,
        Some(("participant", participant)),
        "success",
    )
    .await?;
    Ok(Audited::new())
}

/// The proof for a change whose audit row the database layer wrote in the same statement as the
/// change (`WriteLog`): call it only with the log of a write that succeeded.
pub fn written(_log: &handover_db::participants::WriteLog<'_>) -> Audited {
    Audited::new()
}

/// An answer that carries participant data. It can only be built with an [`Audited`] proof, so
/// every path that hands out such data (a read, a write, a write that changed nothing) has
/// written its audit row first (docs/security.md, "Review findings of 2026-12", 2).
#[derive(Debug)]
pub struct Disclosed<T> {
    status: axum::http::StatusCode,
    version: Option<i32>,
    location: Option<String>,
    body: T,
}

impl<T> Disclosed<T> {
    /// 200 with the body, and its version as `ETag` when given.
    pub fn new(_proof: Audited, version: Option<i32>, body: T) -> Self {
        Disclosed {
            status: axum::http::StatusCode::OK,
            version,
            location: None,
            body,
        }
    }

    pub fn with_status(mut self, status: axum::http::StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 201 with a `Location`.
    pub fn created(mut self, location: String) -> Self {
        self.status = axum::http::StatusCode::CREATED;
        self.location = Some(location);
        self
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Disclosed<T> {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{HeaderValue, header};
        let mut res = (self.status, axum::Json(self.body)).into_response();
        if let Some(v) = self.version
            && let Ok(v) = HeaderValue::from_str(&crate::extract::etag(v))
        {
            res.headers_mut().insert(header::ETAG, v);
        }
        if let Some(loc) = self.location
            && let Ok(loc) = HeaderValue::from_str(&loc)
        {
            res.headers_mut().insert(header::LOCATION, loc);
        }
        res
    }
}
