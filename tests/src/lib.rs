//! Test harness: every test starts the real service on a fresh PostgreSQL database (created from
//! scratch, migrated, demo data loaded) and talks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod smtp;

use handover_server::settings::{Settings, generate_key_spec};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use sqlx::PgPool;
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

/// Starts the service on a fresh database; `tweak` may change settings first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let db_name = format!("handover_test_{}", Uuid::new_v4().simple());
    let smtp = smtp::SmtpServer::start().await;
    let mut settings = Settings {
        database_url: with_db(&server_url(), &db_name),
        listen_addr: "127.0.0.1:0".into(),
        jwt_key: Some(generate_key_spec()),
        db_max_connections: 8,
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: smtp.addr.port(),
        smtp_security: "none".into(),
        smtp_timeout_secs: 3,
        mail_poll_ms: 50,
        mail_retry_base_secs: 1,
        mail_retry_max_secs: 2,
        // Tests stop their apps at once; the drain has its own test (hostile.rs).
        shutdown_drain_secs: 0,
        ..Settings::default()
    };
    tweak(&mut settings);
    let pool = handover_server::prepare_database(&settings)
        .await
        .expect("database");
    let state = handover_server::app_state(&settings, pool.clone()).expect("state");
    handover_server::demo::load(&state)
        .await
        .expect("demo data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
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
        smtp,
        db_name,
        shutdown: Some(tx),
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
        let r = self.try_login(email, DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.text);
        Session {
            access: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
        }
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
                let rest = body.split_once("#token=")?.1;
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
    pub fn mail_to(&self, email: &str) -> Vec<(String, String)> {
        self.smtp
            .messages()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(email)))
            .map(decoded)
            .collect()
    }
}
