//! The use cases of the handover service, under every interface (the JSON API, the web pages,
//! and what comes later). Each takes the verified [`Actor`] and typed input and owns the access
//! decision, the transaction, the audit row, the history line, the outbox rows and the
//! idempotency claim; it returns domain types or [`AppError`]. No HTTP types here: an interface
//! extracts, calls one use case and renders the answer (docs/architecture.md).

pub mod access;
pub mod actions;
pub mod actor;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod catalogue;
pub mod clock;
pub mod coalesce;
pub mod config;
pub mod consent;
pub mod conversations;
pub mod dead_letters;
pub mod documents;
pub mod erasure;
pub mod error;
pub mod export;
pub mod guidance;
pub mod handovers;
pub mod health;
pub mod idempotency;
pub mod invitations;
pub mod me;
pub mod orgs;
pub mod outcome;
pub mod participants;
pub mod password;
pub mod precondition;
pub mod probe;
pub mod programme;
pub mod record;
pub mod second_factor;
pub mod secrets;
pub mod session;
pub mod setup_mail;
pub mod sso;
pub mod start;
pub mod statistics;
pub mod users;

pub use actor::{Actor, Granted, RequestMeta};
pub use audit::{Audited, Disclosed};
pub use clock::Clock;
pub use config::{AppConfig, ThrottleConfig};
pub use error::{AppError, AppResult};
pub use idempotency::{Idempotency, KeyRequest, Outcome, StoredAnswer};

use handover_db::PgPool;
use password::Hasher;
use std::sync::Arc;

/// What every use case runs on; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub pool: PgPool,
    pub config: Arc<AppConfig>,
    pub hasher: Hasher,
    pub clock: Clock,
    /// The coalesced caller check, file reading and its audit, started on first use (inside the
    /// runtime that serves).
    callers: Arc<std::sync::OnceLock<session::Callers>>,
    file_reads: Arc<std::sync::OnceLock<handovers::FileReads>>,
    file_bundles: Arc<std::sync::OnceLock<handovers::FileBundles>>,
}

impl App {
    pub fn new(pool: PgPool, config: AppConfig, clock: Clock) -> AppResult<Self> {
        let hasher = Hasher::new(config.max_concurrent_hashes)?;
        Ok(App {
            pool,
            config: Arc::new(config),
            hasher,
            clock,
            callers: Arc::default(),
            file_reads: Arc::default(),
            file_bundles: Arc::default(),
        })
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    fn callers(&self) -> &session::Callers {
        self.callers
            .get_or_init(|| session::start_callers(self.pool.clone()))
    }

    fn file_reads(&self) -> &handovers::FileReads {
        self.file_reads
            .get_or_init(|| handovers::start_file_reads(self.pool.clone()))
    }

    fn file_bundles(&self) -> &handovers::FileBundles {
        self.file_bundles
            .get_or_init(|| handovers::start_file_bundles(self.pool.clone()))
    }

    pub fn today(&self) -> time::Date {
        self.clock.today()
    }

    /// A link into the service as its users reach it.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url.trim_end_matches('/'))
    }
}
