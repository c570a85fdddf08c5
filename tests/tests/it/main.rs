//! The black-box HTTP tests in one test binary (`it`), one module per feature: each test
//! binary links the whole service and its dependencies, so one binary is one link step for
//! `cargo test --workspace` instead of one per file. Cargo discovers this file as the test
//! target; the module files beside it are not targets of their own. One feature's tests:
//! `cargo test -p handover-tests --test it participants::`.

mod access_log;
mod access_matrix;
mod admin;
mod admin_rules;
mod auth;
mod catalogue;
mod coalescing;
mod conversations;
mod dead_letters;
mod docs;
mod guidance;
mod handovers;
mod health;
mod hostile;
mod idempotency;
mod mail;
mod metrics;
mod participants;
mod pdf;
mod regressions;
mod second_factor;
mod security_findings;
mod sso;
mod statistics;
mod throttle;
mod tokens;
mod web;
mod web_actions;
mod web_conversations;
mod web_erasure;
mod web_guidance;
mod web_http;
mod web_journey;
mod web_outcome;
mod web_second_factor;
mod web_statistics;
