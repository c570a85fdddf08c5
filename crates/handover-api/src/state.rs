use crate::tokens::TokenKeys;
use handover_app::App;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases' context: the handlers call into it and nothing else.
    pub app: App,
    pub keys: Arc<TokenKeys>,
    /// Set when shutdown begins: `/readyz` answers 503 so load balancers stop sending traffic.
    pub draining: Arc<AtomicBool>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}
