//! Idempotency keys (draft-ietf-httpapi-idempotency-key-header) for the creating use cases
//! whose retry could create a duplicate.
//!
//! The key is per caller. The first successful answer to a key is stored in the transaction that
//! created the record and handed back to retries of the same request for 24 hours; the same key
//! with a different request is [`AppError::IdempotencyKeyReused`]. A request that fails stores
//! nothing, so the client can correct it and retry with the same key. Without a key every
//! method is a no-op.
//!
//! The order is enforced by the use case that owns it: [`Idempotency::replay`] after the access
//! check and before the state checks (a retry is answered even if the state has moved on
//! since), [`Idempotency::claim`] first thing in the creating transaction (concurrent duplicates
//! wait there for the first to commit), [`Idempotency::store`] last before the commit. The
//! answer's form (status, body, location, tag) is the interface's: it passes a renderer.

use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use handover_db::idempotency::{self as db, Stored};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A key as the interface received it, with the operation it was sent to.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub key: String,
    /// The operation, e.g. method and route template: `POST /api/v1/participants/{id}/handovers`.
    pub operation: String,
    /// What makes two requests to the operation different besides the body (method and path).
    pub target: Vec<String>,
}

/// A stored answer, in the form the interface gave it.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: Vec<u8>,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// A use case's result when it was asked with a key: the new result, or the answer stored for
/// an earlier identical request.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Replayed(StoredAnswer),
}

/// A key bound to its caller and request; [`Idempotency::none`] when no key was sent.
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
    pub fn none() -> Self {
        Idempotency(None)
    }

    /// Binds the key to the caller and the request. `body` is the parsed body (`None` when the
    /// operation takes none); its canonical JSON (keys sorted) goes into the fingerprint, so
    /// spacing and key order do not make a retry "different".
    pub fn bind<B: Serialize>(
        key: Option<KeyRequest>,
        actor: &Actor,
        body: Option<&B>,
    ) -> AppResult<Self> {
        let Some(sent) = key else {
            return Ok(Idempotency(None));
        };
        let canonical = match body {
            Some(b) => serde_json::to_vec(&serde_json::to_value(b).map_err(AppError::internal)?)
                .map_err(AppError::internal)?,
            None => Vec::new(),
        };
        let mut h = Sha256::new();
        for part in sent
            .target
            .iter()
            .map(String::as_bytes)
            .chain([canonical.as_slice()])
        {
            // Length-prefixed, so no two different requests concatenate to the same input.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(Idempotency(Some(Bound {
            user: actor.caller.user_id.0,
            key: sent.key,
            operation: sent.operation,
            fingerprint: h.finalize().into(),
        })))
    }

    /// The stored answer when this is a retry, [`AppError::IdempotencyKeyReused`] when the key
    /// was used for another request, `None` when the key is new (or expired): go on.
    pub async fn replay(&self, db: impl PgExecutor<'_>) -> AppResult<Option<StoredAnswer>> {
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
    ) -> AppResult<Option<StoredAnswer>> {
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
            None => Err(AppError::Conflict(
                "A request with this Idempotency-Key was being processed; retry it.".into(),
            )),
        }
    }

    /// Stores a successful answer under the claimed key, in the claiming transaction.
    pub async fn store(&self, tx: &mut PgConnection, answer: &StoredAnswer) -> AppResult<()> {
        let Some(b) = &self.0 else { return Ok(()) };
        db::store(
            &mut *tx,
            b.user,
            &b.key,
            answer.status,
            &answer.body,
            answer.location.as_deref(),
            answer.etag.as_deref(),
        )
        .await?;
        Ok(())
    }

    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

impl Bound {
    /// The stored answer, if it answered this same request.
    fn answer(&self, s: Stored) -> AppResult<StoredAnswer> {
        if s.operation != self.operation || s.fingerprint.as_slice() != self.fingerprint {
            return Err(AppError::IdempotencyKeyReused);
        }
        let status = u16::try_from(s.status)
            .map_err(|_| AppError::internal("stored idempotent answer has no valid status"))?;
        Ok(StoredAnswer {
            status,
            body: s.body,
            location: s.location,
            etag: s.etag,
        })
    }
}

/// Audits a replay (the caller received the stored answer again: a disclosure, though not a
/// second creation) and returns it.
pub async fn replayed<T>(
    db: impl PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    target: Option<(&str, Uuid)>,
    answer: StoredAnswer,
) -> AppResult<Outcome<T>> {
    audit(db, actor, action, target, "replayed").await?;
    Ok(Outcome::Replayed(answer))
}
