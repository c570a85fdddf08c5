//! Dead-lettered e-mails, for the operator: listed without their subject or body, queued again
//! (after an SMTP outage, a mailbox that was full) or discarded. Audited like every change.

use crate::App;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use handover_db::outbox;
use handover_domain::Action;
use time::OffsetDateTime;

/// The most dead letters one list shows (the count says how many there are in all).
pub const LIST_LIMIT: i64 = 200;
/// The most ids one requeue or discard takes.
pub const MAX_IDS: usize = 500;

/// A dead letter as the operator sees it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: i64,
    /// `handover_sent`, `conversation_invitation`, `setup`, ...
    pub kind: String,
    /// The part after `@` of the address: enough to see which organisation's mail server
    /// refuses, without the person.
    pub recipient_domain: String,
    pub attempts: i32,
    /// The last delivery error, with the recipient's address replaced by `<recipient>`.
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The error text without the recipient's address (SMTP servers quote it back).
fn redact(error: &str, address: &str) -> String {
    if address.is_empty() {
        return error.to_owned();
    }
    let lower = error.to_lowercase();
    let needle = address.to_lowercase();
    let mut out = String::with_capacity(error.len());
    let mut rest = 0;
    for (i, _) in lower.match_indices(&needle) {
        if i >= rest && error.is_char_boundary(i) && error.is_char_boundary(i + needle.len()) {
            out.push_str(&error[rest..i]);
            out.push_str("<recipient>");
            rest = i + needle.len();
        }
    }
    out.push_str(&error[rest..]);
    out
}

/// The dead letters, newest first, and how many there are in all.
pub async fn list(app: &App, actor: &Actor) -> AppResult<(Vec<DeadLetter>, i64)> {
    actor.require(Action::OutboxManage)?;
    let (rows, total) = outbox::dead_letters(&app.pool, LIST_LIMIT).await?;
    audit(
        &app.pool,
        actor,
        "outbox.dead_letters_read",
        None,
        "success",
    )
    .await?;
    Ok((
        rows.into_iter()
            .map(|r| DeadLetter {
                id: r.id,
                kind: r.kind,
                recipient_domain: r
                    .to_address
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_owned())
                    .unwrap_or_default(),
                attempts: r.attempts,
                reason: r.last_error.as_deref().map(|e| redact(e, &r.to_address)),
                created_at: r.created_at,
            })
            .collect(),
        total,
    ))
}

fn check_ids(ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(AppError::field(
            "ids",
            if ids.is_empty() {
                "required"
            } else {
                "too_many"
            },
            &format!("give 1 to {MAX_IDS} ids of dead letters"),
        ));
    }
    Ok(())
}

/// What to do with dead letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Deliver again: pending at once, with all attempts anew.
    Requeue,
    /// Never deliver; the body is blanked.
    Discard,
}

/// Requeues or discards the dead letters among `ids` (others, already handled or never dead,
/// are left alone); the ids that were handled, in one transaction with one audit row each.
pub async fn handle(app: &App, actor: &Actor, ids: &[i64], how: Handling) -> AppResult<Vec<i64>> {
    actor.require(Action::OutboxManage)?;
    check_ids(ids)?;
    let by = actor.caller.user_id;
    let mut tx = app.pool.begin().await?;
    let done = match how {
        Handling::Requeue => outbox::requeue_dead(&mut *tx, ids, by).await?,
        Handling::Discard => outbox::discard_dead(&mut *tx, ids, by).await?,
    };
    let action = match how {
        Handling::Requeue => "outbox.requeue",
        Handling::Discard => "outbox.discard",
    };
    for id in &done {
        // The audit log names targets by uuid: an outbox row's is its id in the last 64 bits.
        let target = uuid::Uuid::from_u64_pair(0, u64::try_from(*id).unwrap_or_default());
        audit(&mut *tx, actor, action, Some(("outbox", target)), "success").await?;
    }
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_address_is_taken_out_of_the_error_in_any_case() {
        assert_eq!(
            redact(
                "550 5.1.1 <Kari.Nordmann@Kommune.no>: mailbox unavailable (kari.nordmann@kommune.no)",
                "kari.nordmann@kommune.no"
            ),
            "550 5.1.1 <<recipient>>: mailbox unavailable (<recipient>)"
        );
        assert_eq!(redact("connection refused", "a@b.no"), "connection refused");
        assert_eq!(redact("æøå a@b.no", "a@b.no"), "æøå <recipient>");
    }
}
