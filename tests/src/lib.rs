//! Test harness: every test starts the real service on a fresh PostgreSQL database (a copy of a
//! template database that is migrated and has the demo data, made once per day and code version)
//! and talks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;
pub mod client;
pub mod oidc;
pub mod smtp;
pub mod web;

use handover_server::settings::{Settings, generate_key_spec};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use sqlx::{Connection as _, PgPool};
use std::io::Write as _;
use std::time::Duration;
use uuid::Uuid;

pub use handover_server::demo::DEMO_PASSWORD;

/// Base URL of the PostgreSQL server for tests (the database name is replaced).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) if url[..i].contains("://") && url[i..].len() > 1 || url.ends_with('/') => {
            format!("{}/{db}", &url[..i])
        }
        _ => format!("{url}/{db}"),
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub settings: Settings,
    /// The service's clock: move it forward (`clock.advance`) instead of sleeping.
    pub clock: handover_app::Clock,
    /// The service's state, for driving its jobs (reminders) from a test.
    pub state: handover_api::AppState,
    /// The SMTP server the service sends to.
    pub smtp: smtp::SmtpServer,
    db_name: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// One HTTP answer, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem answer with this status, and returns its `type`.
    pub fn assert_problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/problem+json")),
            "not a problem answer: {:?} {}",
            self.headers,
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string());
        assert!(
            self.body["request_id"].is_string(),
            "problem without request id: {}",
            self.text
        );
        self.body["type"].as_str().unwrap_or_default().to_owned()
    }

    /// The names of the invalid fields of a 422 answer.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The settings of a test app before `tweak`.
fn base_settings(database_url: String, smtp_port: u16) -> Settings {
    Settings {
        database_url,
        listen_addr: "127.0.0.1:0".into(),
        jwt_key: Some(generate_key_spec()),
        db_max_connections: 8,
        smtp_host: Some("127.0.0.1".into()),
        smtp_port,
        smtp_security: "none".into(),
        smtp_timeout_secs: 3,
        mail_poll_ms: 50,
        mail_retry_base_secs: 1,
        mail_retry_max_secs: 2,
        // Tests stop their apps at once; the drain has its own test (hostile.rs).
        shutdown_drain_secs: 0,
        ..Settings::default()
    }
}

/// Starts the service on a fresh database with the demo data; `tweak` may change settings
/// first. The database is a copy of a template database, migrated and with the demo data, made
/// once a day per version of the code (see `template`), unless `tweak` changes a setting not
/// known to leave that database as it is: then it is migrated and the demo loaded as before.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let db_name = format!("handover_test_{}", Uuid::new_v4().simple());
    let smtp = smtp::SmtpServer::start().await;
    let mut settings = base_settings(with_db(&server_url(), &db_name), smtp.addr.port());
    // Bound first, so that the service's public address (the links of its e-mails, the
    // redirect URI it gives an identity provider) is the one it answers on.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    settings.public_url = Some(format!("http://{addr}"));
    let untweaked = settings.clone();
    tweak(&mut settings);
    let copied = only_serving_differs(&untweaked, &settings) && copy_template(&db_name).await;
    let pool = handover_server::prepare_database(&settings)
        .await
        .expect("database");
    let clock = handover_app::Clock::system();
    let state = handover_server::app_state_with_clock(&settings, pool.clone(), clock.clone())
        .expect("state");
    if !copied {
        handover_server::demo::load(&state)
            .await
            .expect("demo data");
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let kept = state.clone();
    let serve_settings = Settings {
        shutdown_grace_secs: 5,
        ..settings.clone()
    };
    tokio::spawn(async move {
        let _ = handover_server::serve(listener, state, &serve_settings, async move {
            let _ = rx.await;
        })
        .await;
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client,
        pool,
        settings,
        clock,
        state: kept,
        smtp,
        db_name,
        shutdown: Some(tx),
    }
}

/// Settings that neither `prepare_database` nor `demo::load` reads, or that change only what
/// they do not keep: serving, logins, token signing (the demo's tokens are used in-process and
/// never stored), mail (the demo's own e-mails are discarded) and the background workers (they
/// run only once the app serves).
const SERVING_ONLY: &[&str] = &[
    "listen_addr",
    "public_url",
    "jwt_key",
    "jwt_retired_keys",
    "token_issuer",
    "token_audience",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "session_max_age_secs",
    "web_idle_timeout_secs",
    "password_setup_ttl_secs",
    "trusted_proxies",
    "login_max_failures_per_account",
    "login_max_failures_per_account_total",
    "login_max_failures_per_address",
    "identifier_conflicts_per_user",
    "login_window_secs",
    "login_lock_secs",
    "max_concurrent_hashes",
    "db_max_connections",
    "db_acquire_timeout_secs",
    "request_timeout_secs",
    "header_read_timeout_secs",
    "max_header_bytes",
    "max_headers",
    "max_connections",
    "shutdown_drain_secs",
    "shutdown_grace_secs",
    "log_format",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_timeout_secs",
    "mail_from",
    "mail_dir",
    "mail_poll_ms",
    "mail_batch",
    "mail_lease_secs",
    "mail_max_attempts",
    "mail_retry_base_secs",
    "mail_retry_max_secs",
    "retention_days",
    "retention_interval_secs",
    "reminder_before_secs",
    "reminder_interval_secs",
    "sso_secrets_dir",
    "sso_allow_http",
    "sso_timeout_secs",
];

/// Whether `tweaked` differs from `base` only in [`SERVING_ONLY`] settings, so that a copy of
/// the template is the database `tweaked` would have made.
fn only_serving_differs(base: &Settings, tweaked: &Settings) -> bool {
    let (Ok(Value::Object(base)), Ok(Value::Object(tweaked))) =
        (serde_json::to_value(base), serde_json::to_value(tweaked))
    else {
        return false;
    };
    base.len() == tweaked.len()
        && base
            .iter()
            .all(|(k, v)| tweaked.get(k) == Some(v) || SERVING_ONLY.contains(&k.as_str()))
}

/// Creates `db` as a copy of the template database. False when there is no template to copy
/// (see [`template_name`]): the caller then migrates and loads the demo itself.
async fn copy_template(db: &str) -> bool {
    // A template can disappear between two tests: another test run that built a newer one
    // drops old ones (see `drop_old_templates`). It is then built again.
    for _ in 0..3 {
        let Some(template) = template().await else {
            return false;
        };
        let mut admin = sqlx::PgConnection::connect(&server_url())
            .await
            .expect("PostgreSQL");
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {db} TEMPLATE {template}"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
        match r {
            Ok(_) => return true,
            Err(e) if db_code(&e).as_deref() == Some("3D000") => {
                let mut built = BUILT.lock().await;
                if built.as_deref() == Some(template.as_str()) {
                    *built = None;
                }
            }
            Err(e) => panic!("cannot copy the template database {template}: {e}"),
        }
    }
    panic!("the template database keeps disappearing");
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

/// The template this process has built or found, by name.
static BUILT: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);

/// The name of today's template database, made and filled if missing. The first test of a
/// process builds it (or waits for another process building it); later tests only copy it.
async fn template() -> Option<String> {
    let name = template_name()?;
    // A tokio mutex: each test has its own runtime, and this one works across runtimes.
    let mut built = BUILT.lock().await;
    if built.as_deref() != Some(name.as_str()) {
        // Built on a thread with its own runtime: the pool it uses must not belong to the
        // runtime of one test, which ends with that test.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let n = name.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let _ = tx.send(rt.block_on(build_template(&n)));
        });
        rx.await
            .expect("template thread")
            .unwrap_or_else(|e| panic!("cannot build the template database {name}: {e:#}"));
        *built = Some(name.clone());
    }
    Some(name)
}

/// `handover_test_tpl_<hash>`, the hash over everything that decides the template's content:
/// today's date in UTC (the demo's dates are relative to it) and the sources of the service,
/// its migrations and reference data. None when the sources cannot be read or changed after
/// this test binary was built (it may not be what they say).
fn template_name() -> Option<String> {
    static SOURCES: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let sources = (*SOURCES.get_or_init(|| {
        let r = sources_hash();
        if let Err(e) = &r {
            let _ = writeln!(
                std::io::stderr(),
                "note: tests load the demo data into every database: {e}"
            );
        }
        r.ok()
    }))?;
    let mut h = Fnv::new();
    h.write(&sources.to_le_bytes());
    h.write(
        time::OffsetDateTime::now_utc()
            .date()
            .to_string()
            .as_bytes(),
    );
    Some(format!("{TEMPLATE_PREFIX}{:016x}", h.0))
}

const TEMPLATE_PREFIX: &str = "handover_test_tpl_";

/// What the template's content depends on, relative to the workspace root. The whole of each
/// service crate: the demo is made partly through the API.
const TEMPLATE_SOURCES: &[&str] = &[
    "Cargo.lock",
    "migrations",
    "data/catalogue.json",
    "data/common-passwords.txt",
    "data/municipalities.csv",
    "crates/handover-domain/src",
    "crates/handover-db/src",
    "crates/handover-db/build.rs",
    "crates/handover-api/src",
    "crates/handover-mail/src",
    "crates/handover-server/src",
    "tests/src",
];

fn sources_hash() -> Result<u64, String> {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = tests.parent().unwrap_or(tests);
    let mut files = Vec::new();
    for s in TEMPLATE_SOURCES {
        list_files(&root.join(s), &mut files).map_err(|e| format!("{s}: {e}"))?;
    }
    files.sort();
    let exe = std::env::current_exe().and_then(|p| p.metadata()?.modified());
    let mut h = Fnv::new();
    for f in &files {
        let meta = f.metadata().map_err(|e| format!("{}: {e}", f.display()))?;
        let rel = f.strip_prefix(root).unwrap_or(f);
        // Not the lock file: it can change without the test binaries being rebuilt.
        if let (Ok(exe), Ok(m)) = (&exe, meta.modified())
            && m > *exe
            && rel != std::path::Path::new("Cargo.lock")
        {
            return Err(format!("{} changed after this test was built", f.display()));
        }
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        h.write(rel.to_string_lossy().as_bytes());
        h.write(&(bytes.len() as u64).to_le_bytes());
        h.write(&bytes);
    }
    Ok(h.0)
}

/// `p` if it is a file, else the library source files under it: not editors' swap or backup
/// files, nor those of programs (`main.rs`, `bin/`), which the test binaries do not contain:
/// they would change the hash, and when newer than the test binary turn the templates off.
fn list_files(p: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    const SOURCE: [&str; 8] = ["rs", "sql", "html", "js", "css", "csv", "json", "txt"];
    if !p.is_dir() {
        // Fails for a missing path: the list above is then out of date.
        p.metadata()?;
        out.push(p.to_owned());
        return Ok(());
    }
    for e in std::fs::read_dir(p)? {
        let path = e?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let source = path
            .extension()
            .is_some_and(|x| SOURCE.contains(&x.to_string_lossy().as_ref()));
        let program = path
            .file_name()
            .is_some_and(|n| n == "main.rs" || n == "bin");
        if hidden || program {
            continue;
        }
        if path.is_dir() {
            list_files(&path, out)?;
        } else if source {
            out.push(path);
        }
    }
    Ok(())
}

/// FNV-1a, 64 bits: stable across processes and Rust versions, unlike `DefaultHasher`.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Key of the PostgreSQL advisory lock under which templates are built: test binaries run as
/// parallel processes, and only one of them builds a template while the others wait.
const TEMPLATE_LOCK: i64 = 0x6861_6e64_6f76_6572; // "handover"

/// Templates kept besides the newest one (other checkouts or code versions may be testing at
/// the same time on this server); older ones are dropped when a new one is built.
const OLD_TEMPLATES_KEPT: usize = 3;

async fn build_template(name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect(&server_url()).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await?;
    let r = build_template_locked(&mut admin, name).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    r
}

async fn build_template_locked(admin: &mut sqlx::PgConnection, name: &str) -> anyhow::Result<()> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut *admin)
            .await?;
    if exists {
        return Ok(());
    }
    // Built under another name and renamed when complete, so that a half-built template (the
    // process was killed) is never copied. Not `handover_test_tpl_`: not taken for a template.
    let partial = name.replacen(TEMPLATE_PREFIX, "handover_test_tplpart_", 1);
    let execute = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql));
    execute(format!("DROP DATABASE IF EXISTS {partial} WITH (FORCE)"))
        .execute(&mut *admin)
        .await?;
    let settings = base_settings(with_db(&server_url(), &partial), 25);
    let pool = handover_server::prepare_database(&settings).await?;
    let state = handover_server::app_state(&settings, pool.clone())?;
    handover_server::demo::load(&state).await?;
    drop(state);
    // No connection may be open to a database that is renamed or copied.
    pool.close().await;
    execute(format!("ALTER DATABASE {partial} RENAME TO {name}"))
        .execute(&mut *admin)
        .await?;
    // Not `IS_TEMPLATE true`: a template database cannot be dropped, and `.ci/run` drops every
    // `handover_test_%` database.
    drop_old_templates(admin, name).await;
    Ok(())
}

/// Drops the templates older than the newest few (by OID: later databases have larger OIDs).
/// One in use (being copied) is dropped after the copy, and the next test copying it builds it
/// again (see `copy_template`).
async fn drop_old_templates(admin: &mut sqlx::PgConnection, current: &str) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2
         ORDER BY oid::bigint DESC",
    )
    .bind(TEMPLATE_PREFIX)
    .bind(current)
    .fetch_all(&mut *admin)
    .await
    else {
        return;
    };
    for old in names.iter().skip(OLD_TEMPLATES_KEPT) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {old}"
        )))
        .execute(&mut *admin)
        .await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let admin_url = server_url();
        let db = self.db_name.clone();
        // A separate thread with its own runtime: Drop cannot await, and the test's runtime may
        // be single-threaded.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await;
                }
            });
        })
        .join();
    }
}

/// Demo accounts, by what they are.
pub mod who {
    pub const OPERATOR_ADMIN: &str = "drift.admin@demo.no";
    pub const KRS_ADMIN: &str = "admin.mottak-kristiansand@demo.no";
    pub const KRS_STAFF: &str = "ansatt.mottak-kristiansand@demo.no";
    pub const STJ_ADMIN: &str = "admin.mottak-steinkjer@demo.no";
    pub const STJ_STAFF: &str = "ansatt.mottak-steinkjer@demo.no";
    pub const AGDER_ADMIN: &str = "admin.karriere-agder@demo.no";
    pub const AGDER_COUNSELLOR: &str = "veileder.karriere-agder@demo.no";
    pub const TRD_CC_ADMIN: &str = "admin.karriere-trondelag@demo.no";
    pub const TRD_COUNSELLOR: &str = "veileder.karriere-trondelag@demo.no";
    pub const KOMMUNE_KRS_ADMIN: &str = "admin.kommune-kristiansand@demo.no";
    pub const KOMMUNE_KRS_STAFF: &str = "ansatt.kommune-kristiansand@demo.no";
    pub const KOMMUNE_TRD_ADMIN: &str = "admin.kommune-trondheim@demo.no";
    pub const KOMMUNE_TRD_STAFF: &str = "ansatt.kommune-trondheim@demo.no";
    pub const IMDI_ADMIN: &str = "admin.imdi@demo.no";
    pub const IMDI_STAFF: &str = "analytiker.imdi@demo.no";

    pub const ALL: [&str; 13] = [
        OPERATOR_ADMIN,
        KRS_ADMIN,
        KRS_STAFF,
        STJ_ADMIN,
        STJ_STAFF,
        AGDER_ADMIN,
        AGDER_COUNSELLOR,
        TRD_CC_ADMIN,
        TRD_COUNSELLOR,
        KOMMUNE_KRS_ADMIN,
        KOMMUNE_KRS_STAFF,
        KOMMUNE_TRD_ADMIN,
        KOMMUNE_TRD_STAFF,
    ];

    /// [`ALL`] and the directorate's accounts, which take no part in a handover: the access
    /// matrix runs every one.
    pub const EVERY: [&str; 15] = {
        let mut every = [IMDI_STAFF; 15];
        let mut i = 0;
        while i < ALL.len() {
            every[i] = ALL[i];
            i += 1;
        }
        every[ALL.len()] = IMDI_ADMIN;
        every
    };
}

/// The tokens of one login.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.request(Method::GET, path, Some(token), None, &[])
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Res {
        self.request(Method::POST, path, token, Some(body), &[])
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Res {
        let h: Vec<(&str, &str)> = if_match.map(|m| vec![("if-match", m)]).unwrap_or_default();
        self.request(Method::PATCH, path, Some(token), Some(body), &h)
            .await
    }

    /// Sends raw bytes with a content type, for malformed-input tests.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Res {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Res {
        self.post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str) -> Session {
        self.login_with(email, DEMO_PASSWORD).await
    }

    /// Logs in, through the second step when the account has (or must set up) a second
    /// factor, as its authenticator app would.
    pub async fn login_with(&self, email: &str, password: &str) -> Session {
        let mut r = self.try_login(email, password).await;
        if r.status == StatusCode::ACCEPTED {
            r = self.pass_second_step(email, &r).await;
        }
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.text);
        Session {
            access: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Answers a login's 202 with a code of the authenticator: the key handed out in it (an
    /// administrator's first login sets one up) or the stored one.
    pub async fn pass_second_step(&self, email: &str, first: &Res) -> Res {
        let challenge = first.body["challenge_token"].as_str().unwrap_or_default();
        let shown = first.body["totp_setup"]["secret"].as_str();
        let code = authenticator_code(&self.pool, &self.clock, email, shown).await;
        self.post(
            "/api/v1/auth/login/second-factor",
            None,
            &serde_json::json!({ "challenge_token": challenge, "code": code }),
        )
        .await
    }

    pub async fn token(&self, email: &str) -> String {
        self.login(email).await.access
    }

    /// The id of a demo user or organisation, looked up in the database.
    pub async fn user_id(&self, email: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn org_of(&self, email: &str) -> Uuid {
        sqlx::query_scalar("SELECT organisation_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn audit_count(&self, action: &str, outcome: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2")
            .bind(action)
            .bind(outcome)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The code `email`'s authenticator app shows now at the service's clock: from the key shown
/// to the user (base32, maybe grouped) or else the stored key. The harness signs one user in
/// many times within one 30-second step, which a person never does and the service refuses
/// (a code works once), so for the stored key it forgets the step last used first; the
/// refusal itself is tested in `tests/it/second_factor.rs`, which never comes here.
pub async fn authenticator_code(
    pool: &sqlx::PgPool,
    clock: &handover_app::Clock,
    email: &str,
    shown_key: Option<&str>,
) -> String {
    let secret = match shown_key {
        Some(k) => totp_rs::Secret::Encoded(k.replace(' ', ""))
            .to_bytes()
            .expect("base32 key"),
        None => {
            let secret: Vec<u8> = sqlx::query_scalar(
                "UPDATE user_totp t SET last_used_step = 0 FROM users u
                 WHERE u.id = t.user_id AND u.email = $1 RETURNING t.secret",
            )
            .bind(email)
            .fetch_one(pool)
            .await
            .expect("an authenticator of the user");
            secret
        }
    };
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into())
        .expect("TOTP");
    t.generate(u64::try_from(clock.now().unix_timestamp()).expect("time"))
}

/// Prints a measured figure (cells tested, variants refused, ...) so that it shows in the
/// `cargo test` output of CI even when the test passes: libtest captures `println!`, not writes
/// to the stderr handle. The figures in `docs/` are taken from these lines.
#[macro_export]
macro_rules! figure {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "figure: {}", format_args!($($arg)*));
    }};
}

/// A date `days` before today, as `YYYY-MM-DD`.
pub fn ago(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(days)).to_string()
}

/// Today in Norway (the service's calendar day), as `YYYY-MM-DD`: between 23:00 and midnight
/// UTC it is already tomorrow there.
pub fn oslo_today() -> String {
    handover_domain::oslo::to_oslo(time::OffsetDateTime::now_utc())
        .date()
        .to_string()
}

/// A date `days` after today, as `YYYY-MM-DD`.
pub fn ahead(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// A fresh, valid DUF number no demo participant has (demo numbers are 2024/2025 followed by
/// 10 000 000 to about 11 200 000).
pub fn new_duf() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let salt = u64::from(Uuid::new_v4().as_u128() as u16) % 1000;
    format!("2023{:08}", 90_000_000 + salt * 1000 + n % 1000)
}

/// The `id` of a created record.
pub fn id_of(r: &Res) -> String {
    r.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {}", r.text))
        .to_owned()
}

/// Bytes of RFC 2045 quoted-printable text.
pub fn qp_decode(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The `ETag` of an answer.
pub fn etag(r: &Res) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {:?} {}", r.headers, r.text))
        .to_owned()
}

/// A header value with RFC 2047 encoded words decoded.
pub fn decode_words(s: &str) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = s;
    loop {
        let Some(i) = rest.find("=?") else {
            out.push_str(&String::from_utf8_lossy(&pending));
            out.push_str(rest);
            break;
        };
        let before = &rest[..i];
        let parts: Vec<&str> = rest[i + 2..].splitn(3, '?').collect();
        let end = parts.get(2).and_then(|t| t.find("?="));
        let (Some(end), true) = (end, parts.len() == 3) else {
            out.push_str(&String::from_utf8_lossy(&pending));
            out.push_str(rest);
            break;
        };
        // Whitespace between two encoded words is not part of the text.
        if !before.trim().is_empty() || pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&pending));
            pending.clear();
            out.push_str(before);
        }
        let text = &parts[2][..end];
        if parts[1].eq_ignore_ascii_case("b") {
            pending.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap(),
            );
        } else {
            pending.extend(qp_decode(&text.replace('_', " ")));
        }
        rest = &parts[2][end + 2..];
    }
    out
}

/// (subject, body) of a single-part message, decoded.
pub fn decoded(m: &smtp::Received) -> (String, String) {
    use base64::Engine as _;
    let subject = decode_words(&m.header("subject").unwrap_or_default());
    let body = m
        .data
        .split_once("\r\n\r\n")
        .map(|b| b.1)
        .unwrap_or_default();
    let cte = m
        .header("content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = match cte.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => String::from_utf8(qp_decode(body)).unwrap(),
        _ => body.to_owned(),
    };
    (subject, body)
}

impl TestApp {
    /// The password-setup tokens e-mailed to `email` so far, oldest first.
    pub fn mailed_setup_tokens(&self, email: &str) -> Vec<String> {
        self.smtp
            .messages()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
            .filter_map(|m| {
                let (_, body) = decoded(m);
                let rest = body.split_once("/password-setup?token=")?.1;
                Some(
                    rest.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect(),
                )
            })
            .collect()
    }

    /// Waits until the `n`-th setup e-mail to `email` arrived and returns its token.
    pub async fn wait_setup_token(&self, email: &str, n: usize) -> String {
        let start = std::time::Instant::now();
        loop {
            let tokens = self.mailed_setup_tokens(email);
            if tokens.len() >= n {
                return tokens[n - 1].clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "setup e-mail {n} to {email} did not arrive ({} so far)",
                tokens.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The decoded (subject, body) of every message to `email` so far.
    /// The mail to `email` once one of them has `needle` in its subject or body (10 s at most):
    /// waiting for a number of messages is not enough, other mail (an administrator's
    /// second-factor notice) may come first.
    pub async fn wait_mail_containing(&self, email: &str, needle: &str) -> Vec<(String, String)> {
        for _ in 0..100 {
            let mail = self.mail_to(email);
            if mail
                .iter()
                .any(|(s, b)| s.contains(needle) || b.contains(needle))
            {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.mail_to(email)
    }

    pub fn mail_to(&self, email: &str) -> Vec<(String, String)> {
        self.smtp
            .messages()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
            .map(decoded)
            .collect()
    }
}

/// A call with an optional body and `If-Match`, the shape nearly every test needs.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> Res {
    let h: Vec<(&str, &str)> = if_match.map(|m| vec![("if-match", m)]).unwrap_or_default();
    app.request(method, path, token, body, &h).await
}

/// The `(field, code)` pairs of a validation problem.
pub fn field_errors(r: &Res) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a 422 that names `field` with `code`.
pub fn assert_invalid(r: &Res, field: &str, code: &str, what: &str) {
    assert_eq!(
        r.assert_problem(422),
        "urn:handover:problem:validation",
        "{what}"
    );
    let errs = field_errors(r);
    assert!(
        errs.iter().any(|(f, c)| f == field && c == code),
        "{what}: expected {field}/{code} in {errs:?}"
    );
}

/// Asserts a 422 that names `field`, whatever the code.
pub fn assert_invalid_field(r: &Res, field: &str, what: &str) {
    assert_eq!(
        r.assert_problem(422),
        "urn:handover:problem:validation",
        "{what}: {}",
        r.text
    );
    let fields = r.invalid_fields();
    assert!(
        fields.iter().any(|f| f == field),
        "{what}: expected {field} in {fields:?}"
    );
}
