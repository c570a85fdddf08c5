//! Argon2id hashing off the async runtime, bounded by a semaphore.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// OWASP's Argon2id parameters: m=19456 KiB, t=2, p=1.
fn argon2() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(19_456, 2, 1, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so timing reveals nothing.
    dummy_hash: Arc<str>,
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Result<Self, ApiError> {
        let dummy = argon2()?
            .hash_password(b"no such account - constant work")
            .map_err(ApiError::internal)?
            .to_string();
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: dummy.into(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(ApiError::internal)?
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.blocking(move || {
            Ok(argon2()?
                .hash_password(password.as_bytes())
                .map_err(ApiError::internal)?
                .to_string())
        })
        .await
    }

    /// Verifies `password` against `hash`, or against a dummy hash when there is none, so an
    /// unknown account costs the same time as a wrong password.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .blocking(move || {
                Ok(argon2()?
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok())
            })
            .await?;
        Ok(ok && real)
    }
}
