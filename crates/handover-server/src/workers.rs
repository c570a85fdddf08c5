//! Background work every instance runs: e-mail delivery from the outbox, retention, housekeeping.
//! Safe with several instances: outbox rows are claimed with a lease, deletions skip locked rows.

use crate::settings::Settings;
use handover_db::PgPool;
use handover_db::outbox;
use handover_mail::Mailer;
use handover_mail::transport::Outgoing;
use std::time::Duration;
use tokio::sync::watch;

/// A name for this process in outbox claims.
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

#[derive(Debug, Clone)]
pub struct MailWorker {
    pub id: String,
    pub poll: Duration,
    pub batch: i64,
    pub lease: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl MailWorker {
    pub fn from_settings(s: &Settings) -> Self {
        MailWorker {
            id: instance_id(),
            poll: Duration::from_millis(s.mail_poll_ms.max(10)),
            batch: s.mail_batch.clamp(1, 500),
            lease: Duration::from_secs(s.mail_lease_secs.max(5)),
            max_attempts: s.mail_max_attempts.max(1),
            retry_base: Duration::from_secs(s.mail_retry_base_secs),
            retry_max: Duration::from_secs(s.mail_retry_max_secs.max(1)),
        }
    }

    /// Exponential backoff: base · 2^(attempt-1), capped.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 20) as u32);
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }

    /// Delivers due messages until `stop` turns true, then gives back its claims.
    pub async fn run(self, pool: PgPool, mailer: Mailer, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "mail worker started");
        loop {
            if *stop.borrow() {
                break;
            }
            let sent = match self.tick(&pool, &mailer, &stop).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker: database unavailable");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        match outbox::release(&pool, &self.id).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "mail worker released its claims"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "mail worker could not release its claims; their leases will expire")
            }
        }
        tracing::info!(worker = %self.id, "mail worker stopped");
    }

    /// One round: claim, send, mark. Returns how many were handled.
    pub async fn tick(
        &self,
        pool: &PgPool,
        mailer: &Mailer,
        stop: &watch::Receiver<bool>,
    ) -> Result<usize, handover_db::DbError> {
        let claimed = outbox::claim(pool, &self.id, self.batch, self.lease.as_secs_f64()).await?;
        let n = claimed.len();
        for m in claimed {
            if *stop.borrow() {
                // Not sent: released on the way out.
                break;
            }
            // A batch can take longer than its lease; take each message only while still ours.
            if !outbox::renew(pool, m.id, &self.id, self.lease.as_secs_f64()).await? {
                tracing::warn!(
                    outbox_id = m.id,
                    "lease lost before sending; another worker has it"
                );
                continue;
            }
            let ics = m.ics.as_deref().zip(m.ics_method.as_deref());
            let out = Outgoing {
                message_id: &m.dedupe_key.replace([':', '@', ' '], "."),
                to: &m.to_address,
                subject: &m.subject,
                body: &m.body_text,
                ics,
            };
            match mailer.send(&out).await {
                Ok(()) => {
                    outbox::mark_sent(pool, m.id, &self.id).await?;
                }
                Err(e) => {
                    let dead = Mailer::is_permanent(&e) || m.attempts >= self.max_attempts;
                    let retry = self.backoff(m.attempts);
                    if dead {
                        tracing::error!(outbox_id = m.id, attempts = m.attempts, error = %e, "e-mail dead-lettered");
                    } else {
                        tracing::warn!(outbox_id = m.id, attempts = m.attempts, retry_in_s = retry.as_secs(), error = %e, "e-mail delivery failed");
                    }
                    outbox::mark_failed(
                        pool,
                        m.id,
                        &self.id,
                        &e.to_string(),
                        retry.as_secs_f64(),
                        dead,
                    )
                    .await?;
                }
            }
        }
        Ok(n)
    }
}

/// Deletes participants past the retention period, every `interval`.
pub async fn retention(
    pool: PgPool,
    days: u32,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match handover_db::retention::purge(&pool, days).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(deleted = ids.len(), "retention: participants deleted")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Expired sessions, old login counters and expired idempotency keys.
pub async fn housekeeping(pool: PgPool, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = handover_db::sessions::purge_expired(&pool).await {
            tracing::warn!(error = %e, "purging expired sessions failed");
        }
        if let Err(e) = handover_db::throttle::purge(&pool).await {
            tracing::warn!(error = %e, "purging login counters failed");
        }
        if let Err(e) = handover_db::second_factor::purge_challenges(&pool).await {
            tracing::warn!(error = %e, "purging expired second-step challenges failed");
        }
        if let Err(e) = handover_db::idempotency::purge_expired(&pool).await {
            tracing::warn!(error = %e, "purging expired idempotency keys failed");
        }
    }
}

/// Queues reminders for conversations starting within `before`, every `interval`. Each reminder
/// is claimed by one instance (a conditional update) and enqueued under a unique key.
pub async fn reminders(
    state: handover_api::AppState,
    before: Duration,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let before = time::Duration::try_from(before).unwrap_or(time::Duration::DAY);
    loop {
        match handover_app::conversations::send_due_reminders(&state, before).await {
            Ok(n) if n > 0 => tracing::info!(reminders = n, "conversation reminders queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reminder run failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let w = MailWorker {
            id: "t".into(),
            poll: Duration::from_secs(1),
            batch: 1,
            lease: Duration::from_secs(60),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(600),
        };
        assert_eq!(w.backoff(1), Duration::from_secs(30));
        assert_eq!(w.backoff(2), Duration::from_secs(60));
        assert_eq!(w.backoff(5), Duration::from_secs(480));
        assert_eq!(w.backoff(6), Duration::from_secs(600));
        assert_eq!(w.backoff(100), Duration::from_secs(600));
    }
}
