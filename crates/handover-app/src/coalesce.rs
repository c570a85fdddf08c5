//! Coalescing: the same statement wanted by many concurrent requests, made once for all of them.
//! A request puts what it needs in a queue and waits; a few worker tasks each take everything
//! waiting (up to a bound) and answer it with one statement. Nothing is cached and nothing is
//! deferred: the statement runs after every request in it arrived, and each request waits for
//! its answer (and for a write, its commit) before it goes on. When the service is quiet a
//! request finds the queue empty and its statement runs at once, as it would alone; under load
//! tens of requests share one round trip (docs/performance.md, "Coalescing").

use crate::error::{AppError, AppResult};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

type Pending<K, V> = (K, oneshot::Sender<AppResult<V>>);

pub struct Coalescer<K, V> {
    tx: mpsc::UnboundedSender<Pending<K, V>>,
}

impl<K: Send + 'static, V: Send + 'static> Coalescer<K, V> {
    /// `workers` tasks, each answering up to `max` requests per statement with `run`, which
    /// gives one result per key, in order.
    pub fn start<F, Fut>(workers: usize, max: usize, run: F) -> Self
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
                    let (keys, replies): (Vec<K>, Vec<_>) = batch.into_iter().unzip();
                    let results = run(keys).await;
                    // A reply without a result is dropped, and its request answers 503.
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result);
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
            .send((key, tx))
            .map_err(|_| AppError::Unavailable("the service is shutting down".into()))?;
        rx.await
            .map_err(|_| AppError::Unavailable("the statement was not answered".into()))?
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
        let c = Arc::new(Coalescer::start(2, 64, move |keys: Vec<u32>| {
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
        }));
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
        let c: Coalescer<u8, u8> = Coalescer::start(1, 8, |_keys: Vec<u8>| async { Vec::new() });
        assert!(matches!(c.ask(1).await, Err(AppError::Unavailable(_))));
    }
}
