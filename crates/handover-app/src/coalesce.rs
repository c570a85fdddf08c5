//! Coalescing: the same statement wanted by many concurrent requests, made once for all of them.
//! A request puts what it needs in a queue and waits; a few worker tasks each take everything
//! waiting (up to a bound) and answer it with one statement. Nothing is cached and nothing is
//! deferred: the statement runs after every request in it arrived, and each request waits for
//! its answer (and for a write, its commit) before it goes on. When the service is quiet a
//! request finds the queue empty and its statement runs at once, as it would alone; under load
//! tens of requests share one round trip (docs/performance.md, "Coalescing").
//!
//! A request never waits longer than it would alone: each has the pool's acquire timeout from
//! the moment it asked, spent in the queue or in the statement. When the database is down, a
//! request queued behind a statement that is waiting for a connection gets only what is left of
//! its time, and answers 503 within its own timeout (the restart fault test holds this).

use crate::error::{AppError, AppResult};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

type Pending<K, V> = (K, Instant, oneshot::Sender<AppResult<V>>);

pub struct Coalescer<K, V> {
    tx: mpsc::UnboundedSender<Pending<K, V>>,
}

fn out_of_time() -> AppError {
    AppError::Unavailable("the database did not answer in time".into())
}

impl<K: Send + 'static, V: Send + 'static> Coalescer<K, V> {
    /// `workers` tasks, each answering up to `max` requests per statement with `run`, which
    /// gives one result per key, in order; each request has `budget` from its asking.
    pub fn start<F, Fut>(workers: usize, max: usize, budget: Duration, run: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<AppResult<V>>> + Send,
    {
        let (tx, rx) = mpsc::unbounded_channel::<Pending<K, V>>();
        let rx = Arc::new(Mutex::new(rx));
        let run = Arc::new(run);
        for _ in 0..workers.max(1) {
            let rx = rx.clone();
            let run = run.clone();
            tokio::spawn(async move {
                loop {
                    // One worker gathers while the others run their statements.
                    let batch = {
                        let mut rx = rx.lock().await;
                        let Some(first) = rx.recv().await else {
                            return;
                        };
                        let mut batch = vec![first];
                        while batch.len() < max {
                            match rx.try_recv() {
                                Ok(p) => batch.push(p),
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    // What waited past its time answers now; the rest get what is left of the
                    // earliest one's time for the statement.
                    let now = Instant::now();
                    let mut keys = Vec::with_capacity(batch.len());
                    let mut replies = Vec::with_capacity(batch.len());
                    let mut deadline: Option<Instant> = None;
                    for (key, asked, reply) in batch {
                        let due = asked + budget;
                        if due <= now {
                            let _ = reply.send(Err(out_of_time()));
                            continue;
                        }
                        deadline = Some(deadline.map_or(due, |d| d.min(due)));
                        keys.push(key);
                        replies.push(reply);
                    }
                    let Some(deadline) = deadline else { continue };
                    match tokio::time::timeout(deadline - now, run(keys)).await {
                        // A reply without a result is dropped, and its request answers 503.
                        Ok(results) => {
                            for (reply, result) in replies.into_iter().zip(results) {
                                let _ = reply.send(result);
                            }
                        }
                        // A write cut off here may still have committed: then an audit row
                        // stands for an answer that was never given, never the other way.
                        Err(_) => {
                            for reply in replies {
                                let _ = reply.send(Err(out_of_time()));
                            }
                        }
                    }
                }
            });
        }
        Coalescer { tx }
    }

    /// Queues `key` and waits for its result.
    pub async fn ask(&self, key: K) -> AppResult<V> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((key, Instant::now(), tx))
            .map_err(|_| AppError::Unavailable("the service is shutting down".into()))?;
        rx.await
            .map_err(|_| AppError::Unavailable("the statement was not answered".into()))?
    }
}

/// Runs a batch with `run`, one answer per key in order; when the batch fails, runs each key on
/// its own, so that one bad key (a row that no longer decodes, a reading whose handover was
/// deleted meanwhile) cannot fail the others.
pub(crate) async fn batch_or_each<K, V, E, F, Fut>(keys: Vec<K>, run: F) -> Vec<AppResult<V>>
where
    K: Clone,
    E: Into<AppError>,
    F: Fn(Vec<K>) -> Fut,
    Fut: Future<Output = Result<Vec<V>, E>>,
{
    let n = keys.len();
    // The keys are kept for a retry one by one (rare); a batch is a few dozen small values.
    match run(keys.clone()).await {
        Ok(found) => found.into_iter().map(Ok).collect(),
        Err(e) if n <= 1 => vec![Err(e.into())],
        Err(_) => {
            let mut out = Vec::with_capacity(n);
            for k in keys {
                out.push(match run(vec![k]).await {
                    Ok(mut one) => one.pop().ok_or(AppError::NotFound),
                    Err(e) => Err(e.into()),
                });
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_asks_share_statements_and_each_gets_its_own_answer() {
        let statements = Arc::new(AtomicUsize::new(0));
        let counted = statements.clone();
        let c = Arc::new(Coalescer::start(
            2,
            64,
            Duration::from_secs(5),
            move |keys: Vec<u32>| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    keys.into_iter()
                        .map(|k| {
                            if k % 7 == 0 {
                                Err(AppError::NotFound)
                            } else {
                                Ok(k * 2)
                            }
                        })
                        .collect()
                }
            },
        ));
        let mut tasks = Vec::new();
        for k in 0..500u32 {
            let c = c.clone();
            tasks.push(tokio::spawn(async move { (k, c.ask(k).await) }));
        }
        for t in tasks {
            let (k, r) = t.await.unwrap();
            match r {
                Ok(v) => assert_eq!(v, k * 2),
                Err(AppError::NotFound) => assert_eq!(k % 7, 0),
                Err(e) => panic!("{e}"),
            }
        }
        let n = statements.load(Ordering::SeqCst);
        assert!(n < 100, "500 asks in {n} statements");
    }

    #[tokio::test]
    async fn a_short_answer_leaves_the_rest_unavailable_not_hanging() {
        let c: Coalescer<u8, u8> =
            Coalescer::start(1, 8, Duration::from_secs(5), |_keys: Vec<u8>| async {
                Vec::new()
            });
        assert!(matches!(c.ask(1).await, Err(AppError::Unavailable(_))));
    }

    /// A statement that hangs (the database down) holds its requests no longer than their
    /// budget, and those queued behind it get only what is left of theirs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_request_waits_longer_than_its_budget() {
        let budget = Duration::from_millis(300);
        let c = Arc::new(Coalescer::start(
            1,
            4,
            budget,
            |keys: Vec<u32>| async move {
                tokio::time::sleep(Duration::from_secs(60)).await;
                keys.into_iter().map(Ok).collect()
            },
        ));
        let mut tasks = Vec::new();
        for k in 0..20u32 {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let r = c.ask(k).await;
                (t.elapsed(), r)
            }));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for t in tasks {
            let (waited, r) = t.await.unwrap();
            assert!(matches!(r, Err(AppError::Unavailable(_))));
            assert!(
                waited < budget + Duration::from_millis(150),
                "waited {waited:?}"
            );
        }
    }
}
