//! The HTTP API: thin handlers over the domain policy and the database modules.

pub mod answer;
pub mod app;
pub mod config;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod paging;
pub mod routes;
pub mod state;
pub mod tokens;

pub use app::{openapi, openapi_json, router};
pub use config::ApiConfig;
pub use state::AppState;
