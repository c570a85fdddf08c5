pub mod audit_log;
pub mod auth;
pub mod health;
pub mod me;
pub mod orgs;
pub mod participants;
pub mod programme;
pub mod users;
