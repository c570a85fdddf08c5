use crate::config::ApiConfig;
use crate::password::Hasher;
use crate::tokens::TokenKeys;
use handover_db::PgPool;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<ApiConfig>,
    pub keys: Arc<TokenKeys>,
    pub hasher: Hasher,
    /// Set when shutdown begins: `/readyz` answers 503 so load balancers stop sending traffic.
    pub draining: Arc<AtomicBool>,
}
