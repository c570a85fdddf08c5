//! PostgreSQL persistence. Knows the domain, not HTTP. One module per aggregate.

pub mod actions;
pub mod audit;
pub mod conversations;
pub mod disclosure;
pub mod documents;
pub mod error;
pub mod guidance;
pub mod handovers;
pub mod idempotency;
pub mod orgs;
pub mod outbox;
pub mod page;
pub mod participants;
pub mod reference;
pub mod retention;
pub mod second_factor;
pub mod sessions;
pub mod sso;
pub mod statistics;
pub mod throttle;
pub mod users;

pub use error::{DbError, DbResult};
pub use page::Page;
pub use sqlx::{PgPool, Postgres, Transaction};

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// Creates the database if it does not exist yet.
pub async fn create_database_if_missing(url: &str) -> Result<(), sqlx::Error> {
    if !sqlx::Postgres::database_exists(url).await? {
        match sqlx::Postgres::create_database(url).await {
            Ok(()) => {}
            // Another instance may have created it in the meantime.
            Err(e) if DbError::is_duplicate_database(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A pool with a short acquire timeout (callers answer 503 rather than hang) and a statement
/// timeout on every connection (a runaway query cannot hold a connection forever).
pub async fn connect(url: &str, s: &PoolSettings) -> Result<PgPool, sqlx::Error> {
    let ms = s.statement_timeout.as_millis().to_string();
    let opts = PgConnectOptions::from_str(url)?
        .application_name("handover")
        // Generic plans: our statements are prepared once per connection and their parameters
        // do not change the best plan; re-planning every execution cost more than the query.
        .options([
            ("statement_timeout", ms.as_str()),
            ("lock_timeout", "5000"),
            ("plan_cache_mode", "force_generic_plan"),
        ]);
    PgPoolOptions::new()
        .max_connections(s.max_connections)
        .acquire_timeout(s.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .connect_with(opts)
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Is the database reachable? Used by `/readyz`.
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
