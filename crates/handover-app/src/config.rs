//! Settings of the use cases and of the interfaces over them; the server crate fills them from
//! the environment. One struct, so a setting that two interfaces share (the session lifetime,
//! the public URL) cannot differ between them.

use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `iss` of access tokens.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// A session (a chain of refresh tokens) ends this long after login, however often refreshed.
    pub session_max_age: Duration,
    /// A browser session ends after this long without a request (and at `session_max_age`).
    pub web_idle_timeout: Duration,
    pub password_setup_ttl: Duration,
    /// Base URL of the service as users reach it, for links (e.g. password setup).
    pub public_url: String,
    /// Peers whose `X-Forwarded-For` is believed. Empty: the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Failures of one account from one client address.
    pub account_throttle: ThrottleConfig,
    /// Failures from one client address, whatever the account.
    pub address_throttle: ThrottleConfig,
    /// Failures of one account from all addresses together; when reached, only addresses the
    /// account has logged in from before may still try (see docs/security.md).
    pub account_ceiling: ThrottleConfig,
    /// Conflicts on unique identifiers (DUF number, D-number, e-mail) per caller: probes for
    /// whether a person is registered elsewhere.
    pub probe_throttle: ThrottleConfig,
    /// Failed current-password checks of `/me/password` per account: its own counter, so
    /// neither it nor a distributed attack on logins locks the other out.
    pub own_password_throttle: ThrottleConfig,
    /// Concurrent Argon2 computations; more wait, so a login burst cannot starve the CPU.
    pub max_concurrent_hashes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// The service's own address (`HANDOVER_MAIL_FROM`): the `SENT-BY` of calendar invitations,
    /// whose ORGANIZER is the staff member who proposed the conversation, and the ORGANIZER
    /// itself when that person is unknown.
    pub organizer_name: String,
    pub organizer_email: String,
    /// Where the client secrets of organisations' identity providers are kept, one file per
    /// secret, named in the provider's configuration (`HANDOVER_SSO_SECRETS_DIR`).
    pub sso_secrets_dir: Option<std::path::PathBuf>,
    /// Accept identity providers on plain http (tests and development only): an ID token
    /// fetched over http could be read or changed on the way.
    pub sso_allow_http: bool,
    /// How long the service waits for an identity provider's answer.
    pub sso_timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    pub max_failures: i32,
    pub window: Duration,
    pub lock: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            issuer: "handover".into(),
            audience: "handover-api".into(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(12 * 3600),
            web_idle_timeout: Duration::from_secs(30 * 60),
            session_max_age: Duration::from_secs(24 * 3600),
            password_setup_ttl: Duration::from_secs(72 * 3600),
            public_url: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            account_throttle: ThrottleConfig {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
                lock: Duration::from_secs(15 * 60),
            },
            address_throttle: ThrottleConfig {
                max_failures: 30,
                window: Duration::from_secs(15 * 60),
                lock: Duration::from_secs(15 * 60),
            },
            account_ceiling: ThrottleConfig {
                max_failures: 50,
                window: Duration::from_secs(15 * 60),
                lock: Duration::from_secs(15 * 60),
            },
            probe_throttle: ThrottleConfig {
                max_failures: 10,
                window: Duration::from_secs(15 * 60),
                lock: Duration::from_secs(15 * 60),
            },
            own_password_throttle: ThrottleConfig {
                max_failures: 5,
                window: Duration::from_secs(15 * 60),
                lock: Duration::from_secs(15 * 60),
            },
            max_concurrent_hashes: 2,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            organizer_name: "Overføringstjenesten".into(),
            organizer_email: "ikke-svar@overforing.example".into(),
            sso_secrets_dir: None,
            sso_allow_http: false,
            sso_timeout: Duration::from_secs(10),
        }
    }
}

impl ThrottleConfig {
    pub fn limit(&self) -> handover_db::throttle::Limit {
        let d = |v: Duration| time::Duration::try_from(v).unwrap_or(time::Duration::MINUTE);
        handover_db::throttle::Limit {
            max_failures: self.max_failures,
            window: d(self.window),
            lock: d(self.lock),
        }
    }
}
