//! Writing audit rows from use cases.

use crate::actor::Actor;
use handover_db::DbResult;
use handover_db::audit::{AuditEvent, record};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The audit event of something `actor` did; `client` is `actor.client()`, held by the caller
/// because the event borrows it.
pub fn event<'a>(
    actor: &'a Actor,
    client: Option<&'a str>,
    action: &'a str,
    target: Option<(&'a str, Uuid)>,
    outcome: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        actor_user_id: Some(actor.caller.user_id),
        actor_org_id: Some(actor.caller.org_id),
        actor_role: Some(actor.caller.role.as_str()),
        action,
        target_type: target.map(|t| t.0),
        target_id: target.map(|t| t.1),
        outcome,
        request_id: actor.request_id(),
        client_addr: client,
    }
}

/// Records what `actor` did, in the caller's transaction when given one, so the audit row and the
/// change it describes commit together.
pub async fn audit(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    target: Option<(&str, Uuid)>,
    outcome: &str,
) -> DbResult<()> {
    let client = actor.client();
    record(
        db,
        &event(actor, client.as_deref(), action, target, outcome),
    )
    .await
}

/// The audit event of a list answer; the participants shown go in its `target_ids`.
pub fn list_event<'a>(
    actor: &'a Actor,
    client: Option<&'a str>,
    action: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        target_type: Some("participant"),
        ..event(actor, client, action, None, "success")
    }
}

/// One row naming the participants shown in a list answer, in one statement.
pub async fn audit_list(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    participants: &[Uuid],
) -> DbResult<Audited> {
    let client = actor.client();
    handover_db::audit::record_many(
        db,
        &list_event(actor, client.as_deref(), action),
        participants,
    )
    .await
}

pub use handover_db::disclosure::{Audited, Sealed};

/// Records that `actor` did `action` to participant `participant` (a read or a write) and returns
/// the proof an answer with that participant's data needs.
pub async fn audit_participant(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    participant: Uuid,
) -> DbResult<Audited> {
    let client = actor.client();
    let target = Some(("participant", participant));
    handover_db::audit::disclosed(
        db,
        &event(actor, client.as_deref(), action, target, "success"),
    )
    .await
}

/// An answer that carries participant data. It can only be built with an [`Audited`] proof, so
/// every path that hands out such data (a read, a write, a write that changed nothing) has
/// written its audit row first (docs/security.md, "Review findings of 2026-12", 2). The
/// interface renders it (the JSON API with the version as `ETag`).
#[derive(Debug)]
pub struct Disclosed<T> {
    pub version: Option<i32>,
    pub body: T,
}

impl<T> Disclosed<T> {
    pub fn new(_proof: Audited, version: Option<i32>, body: T) -> Self {
        Disclosed { version, body }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Disclosed<U> {
        Disclosed {
            version: self.version,
            body: f(self.body),
        }
    }

    /// The same disclosure in another form made by CPU-heavy work (a document rendered from
    /// it), run off the request threads.
    pub async fn render<U: Send + 'static>(
        self,
        f: impl FnOnce(T) -> crate::AppResult<U> + Send + 'static,
    ) -> crate::AppResult<Disclosed<U>>
    where
        T: Send + 'static,
    {
        let version = self.version;
        let body = tokio::task::spawn_blocking(move || f(self.body))
            .await
            .map_err(crate::AppError::internal)??;
        Ok(Disclosed { version, body })
    }
}
