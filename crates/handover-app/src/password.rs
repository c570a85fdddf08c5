//! Argon2id hashing on a small pool of dedicated threads.
//!
//! Each hash takes 19 MiB and tens of milliseconds of CPU. A fixed pool (not the runtime's
//! blocking pool) bounds both: at most `threads` hashes run at once, so a login burst queues
//! instead of starving request handling, and memory stays at `threads` × 19 MiB instead of one
//! allocator arena's worth per blocking thread.

use crate::error::AppError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

/// OWASP's Argon2id parameters: m=19456 KiB, t=2, p=1.
fn argon2() -> Result<Argon2<'static>, AppError> {
    let params = Params::new(19_456, 2, 1, None).map_err(AppError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// Verified against when the account does not exist, so timing reveals nothing.
    dummy_hash: Arc<str>,
}

impl Hasher {
    pub fn new(threads: usize) -> Result<Self, AppError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(AppError::internal)?;
        }
        let dummy = argon2()?
            .hash_password(b"no such account - constant work")
            .map_err(AppError::internal)?
            .to_string();
        Ok(Self {
            jobs: tx,
            dummy_hash: dummy.into(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| AppError::internal("hashing pool stopped"))?;
        rx.await.map_err(AppError::internal)?
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || {
            Ok(argon2()?
                .hash_password(password.as_bytes())
                .map_err(AppError::internal)?
                .to_string())
        })
        .await
    }

    /// Verifies `password` against `hash`, or against a dummy hash when there is none, so an
    /// unknown account costs the same time as a wrong password.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .run(move || {
                Ok(argon2()?
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok())
            })
            .await?;
        Ok(ok && real)
    }
}
