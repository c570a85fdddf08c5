//! Identity providers for the single sign-on tests.
//!
//! - [`OidcProvider`]: a real OpenID provider, the OpenID-certified `oidc-provider` npm package
//!   run with Node.js from `tests/oidc-provider` (installed from its lock file on first use).
//! - [`Rogue`]: a provider of the test's own whose token endpoint answers the ID token the test
//!   forged (another issuer or audience, expired, a wrong nonce, keys rotated or unknown), for
//!   the checks a certified provider never gives a reason to make.
//! - [`OpBrowser`]: the browser's side of a sign-in at the provider (its cookies, its login
//!   form), so the HTTP tests go through the whole flow without a browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::TestApp;
pub use crate::web::enc;
use crate::web::{Page, WebSession, keep_cookies};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc-provider");

/// `npm ci` of the test provider once per test run when its packages are missing.
static INSTALLED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn ensure_installed() {
    INSTALLED
        .get_or_init(|| async {
            if std::path::Path::new(DIR)
                .join("node_modules/oidc-provider")
                .is_dir()
            {
                return;
            }
            let out = Command::new("npm")
                .args([
                    "ci",
                    "--prefix",
                    DIR,
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                ])
                .output()
                .await
                .expect("npm (Node.js) for the test OpenID provider");
            assert!(
                out.status.success(),
                "npm ci --prefix tests/oidc-provider failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .await;
}

/// A directory of its own under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("handover-{what}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real provider, running until dropped or stopped.
pub struct OidcProvider {
    pub issuer: String,
    child: Option<Child>,
    _dir: TempDir,
}

impl OidcProvider {
    /// Starts the provider with `config` (see tests/oidc-provider/README.md: its clients and
    /// accounts) and waits for its issuer line.
    pub async fn start(config: &Value) -> OidcProvider {
        ensure_installed().await;
        let dir = TempDir::new("oidc");
        let path = dir.0.join("config.json");
        std::fs::write(&path, serde_json::to_vec(config).unwrap()).unwrap();
        let mut child = Command::new("node")
            .arg(format!("{DIR}/server.mjs"))
            .arg(&path)
            .env("PORT", "0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node for the test OpenID provider");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the test OpenID provider did not start within 60 s")
            .unwrap()
            .expect("the test OpenID provider exited before it listened");
        let v: Value = serde_json::from_str(&line).unwrap();
        let issuer = v["issuer"].as_str().unwrap().to_owned();
        OidcProvider {
            issuer,
            child: Some(child),
            _dir: dir,
        }
    }

    /// Stops the provider: from now on it does not answer.
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
            let _ = c.wait().await;
        }
    }
}

/// The client registration of the service at a test provider, for `app`'s organisation
/// `org`.
pub fn client(app: &TestApp, org: uuid::Uuid, client_id: &str, secret: &str) -> Value {
    json!({
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uris": [format!("{}/sign-in/sso/callback", app.base)],
        "backchannel_logout_uri": format!("{}/sign-in/sso/{org}/backchannel-logout", app.base),
        "post_logout_redirect_uris": [format!("{}/sign-in", app.base)],
    })
}

/// An account at the test provider.
pub fn account(login: &str, sub: &str, email: &str) -> Value {
    json!({
        "login": login,
        "claims": { "sub": sub, "email": email, "email_verified": true, "pid": format!("pid-{sub}") },
    })
}

/// The value of attribute `attr` of the element with id `id` (HTML-unescaped).
pub fn attr_of(html: &str, id: &str, attr: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.split(&format!("{attr}=\"")).nth(1)?.split('"').next()?;
    Some(unescape(v))
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// A query parameter of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The path and query of a URL of the service.
pub fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

impl WebSession<'_> {
    /// The sign-in's first step for an address of an organisation with a provider: the page
    /// that sends the browser on, and the URL it sends it to.
    pub async fn start_sso(&mut self, email: &str, next: &str) -> String {
        let p = self
            .post_anon("/sign-in", &[("email", email), ("next", next)])
            .await;
        assert_eq!(p.status, 200, "first step for {email}: {}", p.text);
        attr_of(&p.text, "to-provider", "href")
            .unwrap_or_else(|| panic!("no link to the provider for {email}: {}", p.text))
    }

    /// The whole sign-in through the provider as `login`: the callback's answer.
    pub async fn sign_in_sso(&mut self, op: &mut OpBrowser, email: &str, login: &str) -> Page {
        let url = self.start_sso(email, "").await;
        let back = op.authorize(&url, login).await;
        self.get(&path_of(&back)).await
    }
}

/// The browser at the provider: its own cookies, redirects followed by hand.
pub struct OpBrowser {
    pub http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
    /// Where the provider's answers stop being followed (the service's address).
    pub stop_at: String,
}

impl OpBrowser {
    pub fn new(app: &TestApp) -> OpBrowser {
        OpBrowser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: Vec::new(),
            stop_at: app.base.clone(),
        }
    }

    pub async fn send(&mut self, method: reqwest::Method, url: &str, form: Option<String>) -> Page {
        let mut req = self.http.request(method, url);
        if let Some(c) = crate::web::cookie_header(&self.cookies) {
            req = req.header("cookie", c);
        }
        if let Some(f) = form {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(f);
        }
        let res = req.send().await.expect("request to the provider");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        keep_cookies(&mut self.cookies, &headers);
        Page {
            status,
            headers,
            text,
        }
    }

    /// Follows the provider from `url` (its authorization endpoint), signs in as `login` on its
    /// login page, and answers the URL it sends the browser back to at the service.
    pub async fn authorize(&mut self, url: &str, login: &str) -> String {
        let mut url = url.to_owned();
        let mut form: Option<String> = None;
        for _ in 0..20 {
            let method = if form.is_some() {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let p = self.send(method, &url, form.take()).await;
            if p.status.is_redirection() {
                let loc = p.location().to_owned();
                let next = url::Url::parse(&url)
                    .unwrap()
                    .join(&loc)
                    .unwrap()
                    .to_string();
                if next.starts_with(&self.stop_at) {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(p.status, StatusCode::OK, "provider at {url}: {}", p.text);
            if p.text.contains("id=\"login-error\"") {
                panic!("the provider refused the login {login}: {}", p.text);
            }
            let action = p
                .text
                .split("action=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .filter(|a| a.starts_with("/interaction/"))
                .map(unescape)
                .unwrap_or_else(|| panic!("no login form at {url}: {}", p.text));
            url = url::Url::parse(&url)
                .unwrap()
                .join(&action)
                .unwrap()
                .to_string();
            form = Some(crate::web::form_body(&[
                ("login", login),
                ("password", "x"),
            ]));
        }
        panic!("the provider never sent the browser back");
    }

    /// The provider's own sign-out (RP-initiated logout), confirmed on its page: the provider
    /// then sends its back-channel logout tokens.
    pub async fn sign_out(&mut self, issuer: &str, client_id: &str) -> Page {
        let p = self
            .send(
                reqwest::Method::GET,
                &format!("{issuer}/session/end?client_id={client_id}"),
                None,
            )
            .await;
        assert_eq!(p.status, 200, "the provider's sign-out page: {}", p.text);
        let action = p
            .text
            .split("action=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(unescape)
            .expect("the sign-out form");
        let xsrf = crate::web::hidden(&p.text, "xsrf").expect("the sign-out form's xsrf");
        let url = url::Url::parse(issuer)
            .unwrap()
            .join(&action)
            .unwrap()
            .to_string();
        self.send(
            reqwest::Method::POST,
            &url,
            Some(crate::web::form_body(&[("xsrf", &xsrf), ("logout", "yes")])),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The rogue provider
// ---------------------------------------------------------------------------------------------

/// The two RSA test keys (committed, used by no one else): the provider's current key, and
/// the one it rotates to.
pub const KEYS: [&str; 2] = [
    include_str!("../assets/sso/test-key-1.pem"),
    include_str!("../assets/sso/test-key-2.pem"),
];

pub fn kid(i: usize) -> String {
    format!("rogue-key-{}", i + 1)
}

/// What the rogue provider publishes and answers.
#[derive(Default)]
pub struct RogueState {
    /// The keys in its JWKS (indexes into [`KEYS`]).
    pub published: Vec<usize>,
    /// The ID token its token endpoint answers.
    pub id_token: Option<String>,
    /// The requests its token endpoint got.
    pub token_requests: usize,
}

pub struct Rogue {
    pub issuer: String,
    pub state: Arc<Mutex<RogueState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = (String, Arc<Mutex<RogueState>>);

async fn discovery(State((issuer, _)): State<Shared>) -> Json<Value> {
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State((_, state)): State<Shared>) -> Json<Value> {
    let published = state.lock().unwrap().published.clone();
    let keys: Vec<Value> = published
        .iter()
        .map(|&i| {
            let key = EncodingKey::from_rsa_pem(KEYS[i].as_bytes()).unwrap();
            let mut jwk =
                jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
            jwk.common.key_id = Some(kid(i));
            jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
            serde_json::to_value(jwk).unwrap()
        })
        .collect();
    Json(json!({ "keys": keys }))
}

async fn token(State((_, state)): State<Shared>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut s = state.lock().unwrap();
    s.token_requests += 1;
    let Some(id_token) = s.id_token.clone() else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        )
            .into_response();
    };
    Json(json!({
        "access_token": "rogue-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

impl Rogue {
    /// Starts the rogue provider publishing key 0.
    pub async fn start() -> Rogue {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(RogueState {
            published: vec![0],
            ..Default::default()
        }));
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state((issuer.clone(), state.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Rogue {
            issuer,
            state,
            task,
        }
    }

    /// An ID token signed with key `key`, its header naming `kid` (a forged one may name
    /// another key than it was signed with).
    pub fn sign(key: usize, kid: &str, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(kid.to_owned());
        let k = EncodingKey::from_rsa_pem(KEYS[key].as_bytes()).unwrap();
        jsonwebtoken::encode(&h, claims, &k).unwrap()
    }

    /// The claims of a valid ID token for `client_id`, this sign-in's `nonce` and `sub`.
    pub fn claims(&self, client_id: &str, nonce: &str, sub: &str, email: &str) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "iss": self.issuer,
            "aud": client_id,
            "sub": sub,
            "email": email,
            "email_verified": true,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": nonce,
        })
    }

    pub fn answer(&self, id_token: String) {
        self.state.lock().unwrap().id_token = Some(id_token);
    }

    pub fn publish(&self, keys: &[usize]) {
        self.state.lock().unwrap().published = keys.to_vec();
    }
}
