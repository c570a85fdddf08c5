//! The settings live with the use cases (`handover_app::config`); the API reads the same struct.

pub use handover_app::config::{AppConfig as ApiConfig, ThrottleConfig};
