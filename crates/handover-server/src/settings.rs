//! Configuration: defaults that work on a developer machine with PostgreSQL on localhost,
//! overridden by an optional TOML file, then by environment variables (`HANDOVER_*`, plus
//! `DATABASE_URL` and `LISTEN_ADDR`).

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use handover_api::ApiConfig;
use handover_api::config::ThrottleConfig;
use handover_api::tokens::{KeySpec, MIN_SECRET_BYTES, TokenKeys};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    pub mode: Mode,
    pub database_url: String,
    pub listen_addr: String,
    /// Where Prometheus metrics are served (`/metrics`), on their own address so that they are
    /// never public by accident. Off when unset.
    pub metrics_addr: Option<String>,
    /// Base URL users reach the service at (links in e-mails). Defaults to `http://LISTEN_ADDR`.
    pub public_url: Option<String>,
    /// Active signing key, `KID:BASE64SECRET` (at least 32 bytes). Required in production.
    pub jwt_key: Option<String>,
    /// Retired keys still accepted until a time: `KID:BASE64SECRET:UNIX_SECONDS`, comma-separated.
    pub jwt_retired_keys: Option<String>,
    /// Where development keys are kept.
    pub data_dir: PathBuf,
    pub token_issuer: String,
    pub token_audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub session_max_age_secs: u64,
    /// A browser session ends after this long without a request.
    pub web_idle_timeout_secs: u64,
    pub password_setup_ttl_secs: u64,
    /// Proxies whose X-Forwarded-For is believed, comma-separated IP addresses.
    pub trusted_proxies: String,
    /// Failures allowed for one account from one client address before that pair is locked.
    pub login_max_failures_per_account: i32,
    /// Failures allowed for one account from all addresses together (a distributed attack)
    /// before the account is locked for addresses it has not logged in from before.
    pub login_max_failures_per_account_total: i32,
    pub login_max_failures_per_address: i32,
    /// Conflicts on a DUF number, D-number or e-mail address one user may cause within the
    /// login window before further attempts are refused for the lock time (probing).
    pub identifier_conflicts_per_user: i32,
    pub login_window_secs: u64,
    pub login_lock_secs: u64,
    pub max_concurrent_hashes: usize,
    pub db_max_connections: u32,
    pub db_acquire_timeout_secs: u64,
    pub db_statement_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// A client must send a request's headers within this time; also how long an idle
    /// keep-alive connection stays open.
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers), in bytes; more is 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more is 431.
    pub max_headers: usize,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// On SIGTERM, first this long not ready (`/readyz` 503) but still serving, each keep-alive
    /// connection closed after its next answer; then the grace period.
    pub shutdown_drain_secs: u64,
    pub shutdown_grace_secs: u64,
    pub log_format: LogFormat,
    /// SMTP server for e-mail; without it, development mode writes messages to `mail_dir`.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_timeout_secs: u64,
    pub mail_from: String,
    /// Where development mode writes e-mails when no SMTP server is set (default `DATA_DIR/mail`).
    pub mail_dir: Option<PathBuf>,
    pub mail_poll_ms: u64,
    pub mail_batch: i64,
    pub mail_lease_secs: u64,
    pub mail_max_attempts: i32,
    pub mail_retry_base_secs: u64,
    pub mail_retry_max_secs: u64,
    /// Days after a handover is completed, cancelled or declined (or a participant left the
    /// programme) before the participant's personal data is deleted.
    pub retention_days: u32,
    pub retention_interval_secs: u64,
    /// How long before a transfer conversation its reminder goes out.
    pub reminder_before_secs: u64,
    /// How often instances look for due reminders.
    pub reminder_interval_secs: u64,
    /// Directory of the identity providers' client secrets, one file per secret.
    pub sso_secrets_dir: Option<PathBuf>,
    /// Accept identity providers on plain http (tests and development; refused in production).
    pub sso_allow_http: bool,
    pub sso_timeout_secs: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log.
        f.debug_struct("Settings")
            .field("mode", &self.mode)
            .field("listen_addr", &self.listen_addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("jwt_key", &self.jwt_key.as_ref().map(|_| "<set>"))
            .field("smtp_host", &self.smtp_host)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<set>"),
            )
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let api = ApiConfig::default();
        Self {
            mode: Mode::Development,
            database_url: "postgres://postgres@127.0.0.1:5432/handover".into(),
            listen_addr: "127.0.0.1:8080".into(),
            metrics_addr: None,
            public_url: None,
            jwt_key: None,
            jwt_retired_keys: None,
            data_dir: PathBuf::from(".handover"),
            token_issuer: api.issuer,
            token_audience: api.audience,
            access_token_ttl_secs: api.access_token_ttl.as_secs(),
            refresh_token_ttl_secs: api.refresh_token_ttl.as_secs(),
            session_max_age_secs: api.session_max_age.as_secs(),
            web_idle_timeout_secs: api.web_idle_timeout.as_secs(),
            password_setup_ttl_secs: api.password_setup_ttl.as_secs(),
            trusted_proxies: String::new(),
            login_max_failures_per_account: api.account_throttle.max_failures,
            login_max_failures_per_account_total: api.account_ceiling.max_failures,
            login_max_failures_per_address: api.address_throttle.max_failures,
            identifier_conflicts_per_user: api.probe_throttle.max_failures,
            login_window_secs: api.account_throttle.window.as_secs(),
            login_lock_secs: api.account_throttle.lock.as_secs(),
            max_concurrent_hashes: api.max_concurrent_hashes,
            db_max_connections: 16,
            db_acquire_timeout_secs: 3,
            db_statement_timeout_secs: 10,
            max_body_bytes: api.max_body_bytes,
            request_timeout_secs: api.request_timeout.as_secs(),
            header_read_timeout_secs: 10,
            max_header_bytes: 32 * 1024,
            max_headers: 64,
            max_connections: 1024,
            shutdown_drain_secs: 2,
            shutdown_grace_secs: 20,
            log_format: LogFormat::Text,
            smtp_host: None,
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_timeout_secs: 20,
            mail_from: "Overføringstjenesten <ikke-svar@overforing.example>".into(),
            mail_dir: None,
            mail_poll_ms: 1000,
            mail_batch: 20,
            mail_lease_secs: 120,
            mail_max_attempts: 10,
            mail_retry_base_secs: 30,
            mail_retry_max_secs: 3600,
            retention_days: 180,
            retention_interval_secs: 3600,
            reminder_before_secs: 24 * 3600,
            reminder_interval_secs: 60,
            sso_secrets_dir: None,
            sso_allow_http: false,
            sso_timeout_secs: 10,
        }
    }
}

impl Settings {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(f) = file {
            if !f.exists() {
                bail!("configuration file {} does not exist", f.display());
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig
            .merge(Env::prefixed("HANDOVER_"))
            .merge(Env::raw().only(&["DATABASE_URL", "LISTEN_ADDR"]));
        let s: Settings = fig.extract().context("invalid configuration")?;
        s.validate()?;
        let unknown =
            unknown_variables(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()));
        if !unknown.is_empty() {
            let list = unknown.join(", ");
            if s.mode == Mode::Production {
                bail!(
                    "unknown configuration variables: {list} (misspelt? every setting is listed in docs/operations.md)"
                );
            }
            // Tracing is not set up yet: it is configured from these very settings.
            eprintln!(
                "warning: unknown configuration variables are ignored: {list} (misspelt? production mode refuses them)"
            );
        }
        Ok(s)
    }

    /// The names of every `HANDOVER_*` variable the service reads.
    pub fn known_variables() -> Vec<String> {
        let fields = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        fields
            .iter()
            .map(|f| format!("HANDOVER_{}", f.to_uppercase()))
            // Read by the command line, not by the settings.
            .chain(std::iter::once("HANDOVER_CONFIG".to_owned()))
            .collect()
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.mode == Mode::Production && self.jwt_key.is_none() {
            bail!("HANDOVER_JWT_KEY is required in production mode");
        }
        match &self.public_url {
            None if self.mode == Mode::Production => bail!(
                "HANDOVER_PUBLIC_URL is required in production mode: the links in e-mails and \
                 calendar invitations are built from it (e.g. https://overforing.example.no)"
            ),
            Some(u) if !is_public_url(u) => bail!(
                "HANDOVER_PUBLIC_URL must be an http:// or https:// URL without a query or \
                 fragment, not {u:?}"
            ),
            _ => {}
        }
        if self.mode == Mode::Production && self.sso_allow_http {
            bail!(
                "HANDOVER_SSO_ALLOW_HTTP is for tests and development; production needs https identity providers"
            );
        }
        if self.access_token_ttl_secs < 60 || self.access_token_ttl_secs > 3600 {
            bail!("HANDOVER_ACCESS_TOKEN_TTL_SECS must be between 60 and 3600");
        }
        self.trusted_proxy_list()?;
        if self.header_read_timeout_secs == 0 || self.header_read_timeout_secs > 300 {
            bail!("HANDOVER_HEADER_READ_TIMEOUT_SECS must be between 1 and 300");
        }
        if !(1024..=1024 * 1024).contains(&self.max_header_bytes) {
            bail!("HANDOVER_MAX_HEADER_BYTES must be between 1024 and 1048576");
        }
        if !(16..=1000).contains(&self.max_headers) {
            bail!("HANDOVER_MAX_HEADERS must be between 16 and 1000");
        }
        if self.shutdown_drain_secs > 300 {
            bail!("HANDOVER_SHUTDOWN_DRAIN_SECS must be at most 300");
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            bail!("HANDOVER_MAX_CONNECTIONS must be between 1 and 1000000");
        }
        if self.login_max_failures_per_account < 1
            || self.login_max_failures_per_address < 1
            || self.identifier_conflicts_per_user < 1
            || self.login_max_failures_per_account_total < self.login_max_failures_per_account
        {
            bail!(
                "login limits must be at least 1, and HANDOVER_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL \
                 at least HANDOVER_LOGIN_MAX_FAILURES_PER_ACCOUNT"
            );
        }
        if self.mode == Mode::Production && self.smtp_host.is_none() {
            bail!("HANDOVER_SMTP_HOST is required in production mode");
        }
        self.mail_config()?;
        if self.retention_days == 0 {
            bail!("HANDOVER_RETENTION_DAYS must be at least 1");
        }
        Ok(())
    }

    /// `Name <address>` split; a bare address has the service's name.
    pub fn mail_from_parts(&self) -> (String, String) {
        match self.mail_from.rsplit_once('<') {
            Some((name, rest)) => (
                name.trim().trim_matches('"').to_owned(),
                rest.trim_end_matches('>').trim().to_owned(),
            ),
            None => (
                "Overføringstjenesten".into(),
                self.mail_from.trim().to_owned(),
            ),
        }
    }

    pub fn mail_config(&self) -> anyhow::Result<handover_mail::MailConfig> {
        use handover_mail::{SmtpSecurity, TransportConfig};
        let transport = match &self.smtp_host {
            Some(host) => TransportConfig::Smtp {
                host: host.clone(),
                port: self.smtp_port,
                security: match self.smtp_security.as_str() {
                    "none" => SmtpSecurity::None,
                    "starttls" => SmtpSecurity::StartTls,
                    "tls" => SmtpSecurity::Tls,
                    other => {
                        bail!("HANDOVER_SMTP_SECURITY must be none, starttls or tls, not {other:?}")
                    }
                },
                username: self.smtp_username.clone(),
                password: self.smtp_password.clone(),
                timeout: Duration::from_secs(self.smtp_timeout_secs),
            },
            None => TransportConfig::Files(
                self.mail_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("mail")),
            ),
        };
        Ok(handover_mail::MailConfig {
            from: self.mail_from.clone(),
            transport,
        })
    }

    pub fn trusted_proxy_list(&self) -> anyhow::Result<Vec<IpAddr>> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .with_context(|| format!("bad IP address {s:?} in HANDOVER_TRUSTED_PROXIES"))
            })
            .collect()
    }

    /// Where users reach the service. In development without `HANDOVER_PUBLIC_URL`, the listen
    /// address, with a wildcard address (`0.0.0.0`, `[::]`) named as loopback: a link to
    /// `http://0.0.0.0:8080` opens nothing.
    pub fn public_url(&self) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_owned();
        }
        let addr = match self.listen_addr.parse::<std::net::SocketAddr>() {
            Ok(a) if a.ip().is_unspecified() && a.is_ipv4() => format!("127.0.0.1:{}", a.port()),
            Ok(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
            _ => self.listen_addr.clone(),
        };
        format!("http://{addr}")
    }

    pub fn pool_settings(&self) -> handover_db::PoolSettings {
        handover_db::PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs),
            statement_timeout: Duration::from_secs(self.db_statement_timeout_secs),
        }
    }

    pub fn api_config(&self) -> anyhow::Result<ApiConfig> {
        let window = Duration::from_secs(self.login_window_secs);
        let lock = Duration::from_secs(self.login_lock_secs);
        Ok(ApiConfig {
            issuer: self.token_issuer.clone(),
            audience: self.token_audience.clone(),
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            session_max_age: Duration::from_secs(self.session_max_age_secs),
            web_idle_timeout: Duration::from_secs(self.web_idle_timeout_secs.max(60)),
            password_setup_ttl: Duration::from_secs(self.password_setup_ttl_secs),
            public_url: self.public_url(),
            trusted_proxies: self.trusted_proxy_list()?,
            account_throttle: ThrottleConfig {
                max_failures: self.login_max_failures_per_account,
                window,
                lock,
            },
            address_throttle: ThrottleConfig {
                max_failures: self.login_max_failures_per_address,
                window,
                lock,
            },
            account_ceiling: ThrottleConfig {
                max_failures: self.login_max_failures_per_account_total,
                window,
                lock,
            },
            probe_throttle: ThrottleConfig {
                max_failures: self.identifier_conflicts_per_user,
                window,
                lock,
            },
            own_password_throttle: ThrottleConfig {
                max_failures: self.login_max_failures_per_account,
                window,
                lock,
            },
            max_concurrent_hashes: self.max_concurrent_hashes,
            max_body_bytes: self.max_body_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            organizer_name: self.mail_from_parts().0,
            organizer_email: self.mail_from_parts().1,
            sso_secrets_dir: self.sso_secrets_dir.clone(),
            sso_allow_http: self.sso_allow_http,
            sso_timeout: Duration::from_secs(self.sso_timeout_secs.max(1)),
        })
    }

    /// The signing keys: from configuration, or in development generated once and kept in
    /// `data_dir` so tokens survive a restart.
    pub fn token_keys(&self) -> anyhow::Result<TokenKeys> {
        let active = match &self.jwt_key {
            Some(spec) => parse_key(spec, false)?,
            None if self.mode == Mode::Development => dev_key(&self.data_dir)?,
            None => bail!("HANDOVER_JWT_KEY is required in production mode"),
        };
        let retired = self
            .jwt_retired_keys
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| parse_key(s, true))
            .collect::<anyhow::Result<Vec<_>>>()?;
        TokenKeys::new(active, retired, &self.token_issuer, &self.token_audience)
            .map(|k| k.with_max_lifetime(Duration::from_secs(self.access_token_ttl_secs)))
            .map_err(anyhow::Error::msg)
    }
}

/// The `HANDOVER_*` variables among `names` that no setting reads.
pub fn unknown_variables(names: impl Iterator<Item = String>) -> Vec<String> {
    let known = Settings::known_variables();
    let mut unknown: Vec<String> = names
        .filter(|n| n.starts_with("HANDOVER_") && !known.contains(n))
        .collect();
    unknown.sort();
    unknown
}

fn is_public_url(u: &str) -> bool {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split('/').next().unwrap_or_default();
        !host.is_empty()
            && !r.contains(['?', '#', ' '])
            && !host.starts_with("0.0.0.0")
            && !host.starts_with("[::]")
    })
}

fn parse_key(spec: &str, retired: bool) -> anyhow::Result<KeySpec> {
    let mut parts = spec.splitn(3, ':');
    let (Some(kid), Some(secret)) = (parts.next(), parts.next()) else {
        bail!("a signing key must look like KID:BASE64SECRET");
    };
    let secret = STANDARD
        .decode(secret.trim())
        .context("signing key secret is not base64")?;
    let verify_until = match (parts.next(), retired) {
        (Some(t), true) => Some(t.trim().parse().context("retired key: bad UNIX time")?),
        (None, true) => bail!("a retired key must look like KID:BASE64SECRET:UNIX_SECONDS"),
        (Some(_), false) => bail!("the active key must look like KID:BASE64SECRET"),
        (None, false) => None,
    };
    Ok(KeySpec {
        kid: kid.trim().to_owned(),
        secret,
        verify_until,
    })
}

/// Generates a key, as `KID:BASE64SECRET`.
pub fn generate_key_spec() -> String {
    let mut secret = [0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    let mut kid = [0u8; 6];
    rand::rng().fill_bytes(&mut kid);
    let kid: String = kid.iter().map(|b| format!("{b:02x}")).collect();
    format!("{kid}:{}", STANDARD.encode(secret))
}

fn dev_key(dir: &Path) -> anyhow::Result<KeySpec> {
    let path = dir.join("jwt-signing-key");
    if let Ok(spec) = std::fs::read_to_string(&path) {
        return parse_key(spec.trim(), false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let spec = generate_key_spec();
    write_private(&path, &spec)?;
    tracing::info!(path = %path.display(), "generated a development signing key");
    parse_key(&spec, false)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        let spec = generate_key_spec();
        assert!(parse_key(&spec, false).is_ok());
        assert!(parse_key(&spec, true).is_err());
        assert!(parse_key(&format!("{spec}:1700000000"), true).is_ok());
        assert!(parse_key("nocolon", false).is_err());
        assert!(parse_key("k:!!!", false).is_err());
    }

    #[test]
    fn production_requires_a_key() {
        let s = Settings {
            mode: Mode::Production,
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        let s = Settings {
            mode: Mode::Production,
            jwt_key: Some(generate_key_spec()),
            ..Settings::default()
        };
        assert!(s.validate().is_err(), "production needs SMTP too");
        let s = Settings {
            smtp_host: Some("smtp.example.no".into()),
            ..s
        };
        assert!(s.validate().is_err(), "production needs the public URL too");
        let s = Settings {
            public_url: Some("https://overforing.example.no".into()),
            ..s
        };
        assert!(s.validate().is_ok());
        assert!(s.token_keys().is_ok());
    }

    #[test]
    fn public_urls() {
        for bad in [
            "overforing.example.no",
            "ftp://x.no",
            "http://0.0.0.0:8080",
            "https://x.no/?a=1",
            "https://",
        ] {
            let s = Settings {
                public_url: Some(bad.into()),
                ..Settings::default()
            };
            assert!(s.validate().is_err(), "{bad}");
        }
        let s = Settings {
            listen_addr: "0.0.0.0:8080".into(),
            ..Settings::default()
        };
        assert_eq!(s.public_url(), "http://127.0.0.1:8080");
        let s = Settings {
            listen_addr: "[::]:9000".into(),
            ..Settings::default()
        };
        assert_eq!(s.public_url(), "http://[::1]:9000");
        let s = Settings {
            public_url: Some("https://x.no/overforing/".into()),
            ..Settings::default()
        };
        assert_eq!(s.public_url(), "https://x.no/overforing");
    }

    #[test]
    fn misspelt_variables_are_found() {
        let names = [
            "HANDOVER_SMTP_HOTS",
            "HANDOVER_SMTP_HOST",
            "HANDOVER_CONFIG",
            "PATH",
            "HANDOVER_MODE",
        ]
        .map(String::from);
        assert_eq!(
            unknown_variables(names.into_iter()),
            vec!["HANDOVER_SMTP_HOTS"]
        );
        assert!(Settings::known_variables().contains(&"HANDOVER_PUBLIC_URL".to_owned()));
    }

    #[test]
    fn bad_proxy_list_is_refused() {
        let s = Settings {
            trusted_proxies: "10.0.0.1, nope".into(),
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }
}
