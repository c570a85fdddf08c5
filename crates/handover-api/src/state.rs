use crate::config::ApiConfig;
use crate::password::Hasher;
use crate::tokens::TokenKeys;
use handover_db::PgPool;
use std::sync::Arc;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<ApiConfig>,
    pub keys: Arc<TokenKeys>,
    pub hasher: Hasher,
}
