//! Single sign-on through an organisation's own OpenID Connect provider (Microsoft Entra ID,
//! Digdir's Ansattporten, ...): its configuration by the organisation's administrator or the
//! operator, the sign-in (authorization code flow with PKCE, `state` and `nonce`), and the
//! provider's back-channel logout.
//!
//! The protocol is the `openidconnect` crate's: discovery, the authorization URL, the code
//! exchange and every check of the ID token (signature against the provider's JWKS, issuer,
//! audience, expiry, nonce, access-token hash). The provider's metadata and keys are fetched at
//! every sign-in (two small requests), so a key the provider rotated in is known at once and
//! no cache can go stale. A successful sign-in creates the same session row as a password login,
//! so sign-out, deactivation and role changes act on it at once.

use crate::App;
use crate::actor::{Actor, RequestMeta};
use crate::audit::audit;
use crate::auth::{LoggedIn, WebGrant, audit_anonymous, web_session};
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use crate::secrets::hash_opaque;
use handover_db::sso::{self as db, Pending, Provider, ProviderInput};
use handover_db::users;
use handover_domain::org::OrgKind;
use handover_domain::policy::Action;
use handover_domain::validation::{Validator, normalise_email};
use handover_domain::{OrgId, UserId};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client,
    ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a sign-in may stay at the provider (the person types a password, approves a push).
pub const PENDING_TTL: time::Duration = time::Duration::minutes(10);
/// The path the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/sign-in/sso/callback";

/// Every claim of the ID token beyond the standard ones (`oid` of Entra ID, `pid` of
/// Ansattporten, ...), so the configured subject and e-mail claims can be any of them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// An organisation's sign-in settings, as an administrator enters them.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    /// The name of the file holding the client secret in the operator's secrets directory;
    /// None for a public client (PKCE only).
    pub client_secret_file: Option<String>,
    /// Scopes beyond `openid` (which is always asked for).
    pub scopes: Vec<String>,
    pub subject_claim: String,
    pub email_claim: String,
    pub email_domains: Vec<String>,
    /// `acr` values of which the ID token must carry one (e.g. Ansattporten's
    /// `idporten-loa-substantial`); empty: any.
    pub acr_values: Vec<String>,
    /// The ID token's `amr` must show a second factor (`mfa`, `otp`, `hwk`, ...).
    pub require_mfa: bool,
    /// Whether the organisation's users may still sign in with a local password.
    pub passwords_allowed: bool,
}

/// The stored configuration as the interfaces show it: never the secret, only whether its
/// file can be read.
#[derive(Debug, Clone)]
pub struct ProviderView {
    pub org_id: OrgId,
    pub settings: ProviderSettings,
    pub secret_readable: bool,
    /// What to register at the provider.
    pub redirect_uri: String,
    pub backchannel_logout_uri: String,
    pub version: i32,
    pub updated_at: time::OffsetDateTime,
}

fn settings_of(p: &Provider) -> ProviderSettings {
    ProviderSettings {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_secret_file: p.client_secret_file.clone(),
        scopes: p.scopes.clone(),
        subject_claim: p.subject_claim.clone(),
        email_claim: p.email_claim.clone(),
        email_domains: p.email_domains.clone(),
        acr_values: p.acr_values.clone(),
        require_mfa: p.require_mfa,
        passwords_allowed: p.passwords_allowed,
    }
}

fn view(app: &App, p: &Provider) -> ProviderView {
    ProviderView {
        org_id: OrgId(p.org_id),
        settings: settings_of(p),
        secret_readable: match &p.client_secret_file {
            Some(f) => read_secret(app, f).is_ok(),
            None => true,
        },
        redirect_uri: redirect_uri(app),
        backchannel_logout_uri: backchannel_logout_uri(app, OrgId(p.org_id)),
        version: p.version,
        updated_at: p.updated_at,
    }
}

fn redirect_uri(app: &App) -> String {
    format!(
        "{}{CALLBACK_PATH}",
        app.config.public_url.trim_end_matches('/')
    )
}

/// Where the provider posts its logout tokens for this organisation.
pub fn backchannel_logout_uri(app: &App, org: OrgId) -> String {
    format!(
        "{}/sign-in/sso/{}/backchannel-logout",
        app.config.public_url.trim_end_matches('/'),
        org.0
    )
}

async fn load_org(app: &App, id: Uuid) -> AppResult<handover_domain::org::Organisation> {
    match handover_db::orgs::get(&app.pool, OrgId(id)).await {
        Err(handover_db::DbError::NotFound) => Err(AppError::NotFound),
        other => Ok(other?),
    }
}

/// The organisation's identity provider; 404 when it has none.
pub async fn get(app: &App, actor: &Actor, org_id: Uuid) -> AppResult<ProviderView> {
    find(app, actor, org_id).await?.ok_or(AppError::NotFound)
}

/// The organisation's provider, or `None` when it has none. Not found (or forbidden) when the
/// caller may not manage the organisation's sign-in: that is never the same as "none configured".
pub async fn find(app: &App, actor: &Actor, org_id: Uuid) -> AppResult<Option<ProviderView>> {
    actor.require(Action::SignInManage)?;
    let org = load_org(app, org_id).await?;
    actor.check(Action::SignInManage, actor.relation_to_org(org.id))?;
    Ok(db::get(&app.pool, org.id).await?.map(|p| view(app, &p)))
}

const MAX_LIST: usize = 20;

fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && c != '"' && c != '\\'
}

fn is_claim_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// A file name in the secrets directory: no path, no hidden file.
pub fn is_secret_file_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// An issuer URL the service may ask: https (http only where the operator allows it, for
/// tests), no query, no fragment, no user info.
fn issuer_ok(app: &App, s: &str) -> bool {
    let Ok(u) = url::Url::parse(s) else {
        return false;
    };
    let scheme_ok = u.scheme() == "https" || (app.config.sso_allow_http && u.scheme() == "http");
    scheme_ok
        && u.host_str().is_some()
        && u.query().is_none()
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && s.len() <= 500
}

fn normalise(mut s: ProviderSettings) -> ProviderSettings {
    s.issuer = s.issuer.trim().to_owned();
    s.client_id = s.client_id.trim().to_owned();
    s.client_secret_file = s
        .client_secret_file
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    let clean = |v: Vec<String>, lower: bool| {
        let mut out: Vec<String> = Vec::new();
        for x in v {
            let x = x.trim();
            let x = if lower {
                x.to_lowercase()
            } else {
                x.to_owned()
            };
            if !x.is_empty() && !out.contains(&x) {
                out.push(x);
            }
        }
        out
    };
    s.scopes = clean(s.scopes, false)
        .into_iter()
        .filter(|x| x != "openid")
        .collect();
    s.email_domains = clean(s.email_domains, true);
    s.acr_values = clean(s.acr_values, false);
    s.subject_claim = match s.subject_claim.trim() {
        "" => "sub".to_owned(),
        c => c.to_owned(),
    };
    s.email_claim = match s.email_claim.trim() {
        "" => "email".to_owned(),
        c => c.to_owned(),
    };
    s
}

/// Creates or replaces the organisation's identity provider. Replacing names the version the
/// caller edited (428 without, 412 when stale). A new issuer unlinks every user (the same
/// subject at another provider is another person) and ends the sessions the old one started;
/// turning local passwords off ends the organisation's password sessions.
pub async fn put(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    expected: Precondition,
    settings: ProviderSettings,
) -> AppResult<ProviderView> {
    actor.require(Action::SignInManage)?;
    let org = load_org(app, org_id).await?;
    actor.check(Action::SignInManage, actor.relation_to_org(org.id))?;
    let s = normalise(settings);
    let mut v = Validator::new();
    v.check(
        issuer_ok(app, &s.issuer),
        "issuer",
        "invalid",
        if app.config.sso_allow_http {
            "an http(s) URL without query or fragment"
        } else {
            "an https URL without query or fragment"
        },
    );
    v.check(
        !s.client_id.is_empty()
            && s.client_id.len() <= 200
            && s.client_id.chars().all(is_token_char),
        "client_id",
        "invalid",
        "1 to 200 printable characters without spaces",
    );
    if let Some(f) = &s.client_secret_file {
        v.check(
            is_secret_file_name(f),
            "client_secret_file",
            "invalid",
            "a file name (letters, digits, '-', '_', '.') in the service's secrets directory",
        );
    }
    v.check(
        s.scopes.len() <= MAX_LIST
            && s.scopes
                .iter()
                .all(|x| x.len() <= 100 && x.chars().all(is_token_char)),
        "scopes",
        "invalid",
        "at most 20 scopes, each without spaces or quotes",
    );
    v.check(
        is_claim_name(&s.subject_claim),
        "subject_claim",
        "invalid",
        "a claim name such as sub, oid or pid",
    );
    v.check(
        is_claim_name(&s.email_claim),
        "email_claim",
        "invalid",
        "a claim name such as email or preferred_username",
    );
    v.check(
        s.email_domains.len() <= MAX_LIST && s.email_domains.iter().all(|d| is_domain(d)),
        "email_domains",
        "invalid",
        "at most 20 domain names such as kristiansand.kommune.no",
    );
    v.check(
        s.acr_values.len() <= 5
            && s.acr_values
                .iter()
                .all(|x| x.len() <= 200 && x.chars().all(is_token_char)),
        "acr_values",
        "invalid",
        "at most 5 values, each without spaces or quotes",
    );
    v.check(
        s.passwords_allowed || org.kind != OrgKind::Operator,
        "passwords_allowed",
        "operator_keeps_passwords",
        "the operator's accounts keep their local sign-in, so no provider can lock the service out",
    );
    v.check(
        s.passwords_allowed || !s.email_domains.is_empty(),
        "passwords_allowed",
        "needs_domain",
        "local passwords can be turned off only once an e-mail domain sends users to the provider",
    );
    v.finish()?;
    let taken = db::domains_taken(&app.pool, org.id, &s.email_domains).await?;
    if !taken.is_empty() {
        return Err(AppError::field(
            "email_domains",
            "taken",
            &format!(
                "signed in by another organisation's provider: {}",
                taken.join(", ")
            ),
        ));
    }

    let current = db::get(&app.pool, org.id).await?;
    let expected = match (&current, expected) {
        (None, Precondition::Missing) => None,
        (None, Precondition::Versions(_)) => return Err(AppError::PreconditionFailed),
        (Some(c), e) => Some(e.check(c.version)?),
    };
    let input = ProviderInput {
        issuer: &s.issuer,
        client_id: &s.client_id,
        client_secret_file: s.client_secret_file.as_deref(),
        scopes: &s.scopes,
        subject_claim: &s.subject_claim,
        email_claim: &s.email_claim,
        acr_values: &s.acr_values,
        require_mfa: s.require_mfa,
        passwords_allowed: s.passwords_allowed,
        email_domains: &s.email_domains,
    };
    let mut tx = app.pool.begin().await?;
    match db::put(&mut tx, org.id, expected, &input).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::PreconditionFailed),
        // Two organisations claiming one domain at the same moment.
        Err(handover_db::DbError::Conflict(_)) => {
            return Err(AppError::field(
                "email_domains",
                "taken",
                "signed in by another organisation's provider",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(c) = &current
        && (c.issuer != s.issuer || c.subject_claim != s.subject_claim)
    {
        db::unlink_all(&mut *tx, org.id).await?;
        db::revoke_sessions(&mut *tx, org.id, "identity_provider_changed").await?;
    }
    let was_allowed = current.as_ref().is_none_or(|c| c.passwords_allowed);
    if was_allowed && !s.passwords_allowed {
        db::revoke_password_sessions(&mut *tx, org.id).await?;
    }
    audit(
        &mut *tx,
        actor,
        if current.is_some() {
            "identity_provider.update"
        } else {
            "identity_provider.create"
        },
        Some(("organisation", org.id.0)),
        "success",
    )
    .await?;
    let stored = db::get(&mut *tx, org.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(view(app, &stored))
}

/// Removes the organisation's identity provider: its users sign in with passwords again (an
/// administrator issues them set-up links), and the sessions it started end now.
pub async fn delete(
    app: &App,
    actor: &Actor,
    org_id: Uuid,
    expected: Precondition,
) -> AppResult<()> {
    actor.require(Action::SignInManage)?;
    let org = load_org(app, org_id).await?;
    actor.check(Action::SignInManage, actor.relation_to_org(org.id))?;
    let current = db::get(&app.pool, org.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = expected.check(current.version)?;
    let mut tx = app.pool.begin().await?;
    db::revoke_sessions(&mut *tx, org.id, "identity_provider_removed").await?;
    if !db::delete(&mut *tx, org.id, version).await? {
        return Err(AppError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        actor,
        "identity_provider.delete",
        Some(("organisation", org.id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn read_secret(app: &App, name: &str) -> Result<String, String> {
    let dir = app
        .config
        .sso_secrets_dir
        .as_ref()
        .ok_or_else(|| "HANDOVER_SSO_SECRETS_DIR is not set".to_owned())?;
    if !is_secret_file_name(name) {
        return Err("not a file name".to_owned());
    }
    let s = std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())?;
    let s = s.trim();
    if s.is_empty() {
        return Err("the file is empty".to_owned());
    }
    Ok(s.to_owned())
}

/// Why a sign-in through the provider did not sign anyone in. The web page says which in the
/// user's words; the audit log keeps the precise outcome.
#[derive(Debug)]
pub enum SsoFailure {
    /// The provider did not answer or answered nonsense: try later.
    Unreachable,
    /// The provider is configured in a way that cannot work (its secret file is missing).
    Misconfigured,
    /// The answer was not a valid sign-in (wrong state, replayed or refused code, an ID token
    /// that fails a check, too low an assurance): start again.
    Rejected,
    /// The provider knows the person, the service has no account for them here.
    NoAccount,
    App(AppError),
}

impl From<AppError> for SsoFailure {
    fn from(e: AppError) -> Self {
        SsoFailure::App(e)
    }
}
impl From<sqlx::Error> for SsoFailure {
    fn from(e: sqlx::Error) -> Self {
        SsoFailure::App(e.into())
    }
}
impl From<handover_db::DbError> for SsoFailure {
    fn from(e: handover_db::DbError) -> Self {
        SsoFailure::App(e.into())
    }
}

fn http_client(app: &App) -> Result<reqwest::Client, SsoFailure> {
    reqwest::Client::builder()
        // Following redirects would let a provider's answer steer the service's requests
        // elsewhere (SSRF).
        .redirect(reqwest::redirect::Policy::none())
        .timeout(app.config.sso_timeout)
        .build()
        .map_err(|e| SsoFailure::App(AppError::internal(e)))
}

async fn client_for(app: &App, p: &Provider) -> Result<(OidcClient, reqwest::Client), SsoFailure> {
    let http = http_client(app)?;
    let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|_| SsoFailure::Misconfigured)?;
    // Discovery checks that the metadata names this very issuer.
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| {
            tracing::warn!(org = %p.org_id, error = %e, "identity provider discovery failed");
            SsoFailure::Unreachable
        })?;
    let secret = match &p.client_secret_file {
        Some(f) => Some(ClientSecret::new(read_secret(app, f).map_err(|e| {
            tracing::error!(org = %p.org_id, file = %f, error = %e, "identity provider secret unreadable");
            SsoFailure::Misconfigured
        })?)),
        None => None,
    };
    let redirect =
        RedirectUrl::new(redirect_uri(app)).map_err(|e| SsoFailure::App(AppError::internal(e)))?;
    let client =
        OidcClient::from_provider_metadata(metadata, ClientId::new(p.client_id.clone()), secret)
            .set_redirect_uri(redirect);
    Ok((client, http))
}

/// Where the sign-in page sends an e-mail address.
#[derive(Debug)]
pub enum Route {
    /// No provider signs in this address's domain: ask for the password.
    Password,
    /// To the provider: the browser goes to `url` and keeps `state` in a cookie for the
    /// callback.
    Provider { url: String, state: String },
}

/// The domain part of an e-mail address, lower-cased.
fn domain_of(email: &str) -> Option<String> {
    let e = normalise_email(email);
    let (_, d) = e.rsplit_once('@')?;
    (!d.is_empty()).then(|| d.to_owned())
}

/// The first step of a sign-in: by the address's domain (never by whether the address has an
/// account, which the page must not tell), the password or the organisation's provider.
pub async fn route(app: &App, email: &str, next: &str) -> Result<Route, SsoFailure> {
    let Some(domain) = domain_of(email) else {
        return Ok(Route::Password);
    };
    let Some(p) = db::for_domain(&app.pool, &domain).await? else {
        return Ok(Route::Password);
    };
    let (client, _) = client_for(app, &p).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .add_scopes(p.scopes.iter().cloned().map(Scope::new));
    if !p.acr_values.is_empty() {
        req = req.add_extra_param("acr_values", p.acr_values.join(" "));
    }
    // The provider may pre-fill its own sign-in with the address just typed.
    req = req.add_extra_param("login_hint", normalise_email(email));
    let (url, state, nonce) = req.url();
    let mut tx = app.pool.begin().await?;
    db::create_pending(
        &mut tx,
        &hash_opaque(state.secret()),
        &Pending {
            org_id: p.org_id,
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next: next.to_owned(),
        },
        app.now() + PENDING_TTL,
    )
    .await?;
    tx.commit().await?;
    Ok(Route::Provider {
        url: url.to_string(),
        state: state.secret().clone(),
    })
}

/// What the provider sent the browser back with.
#[derive(Debug, Default, Clone)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// `error` of the provider (the person cancelled, the provider refused).
    pub error: Option<String>,
    /// `iss` of the authorization response (RFC 9207), where the provider sends it: it must
    /// be the provider the sign-in set off to (a mix-up attack sends another's answer).
    pub iss: Option<String>,
    /// The state kept in the browser's cookie when it left.
    pub cookie_state: Option<String>,
}

/// A finished sign-in: the session and where to go.
#[derive(Debug)]
pub struct SsoDone {
    pub grant: WebGrant,
    pub next: String,
}

/// The authentication methods (`amr`, RFC 8176) that make a sign-in two-factor on their own
/// or with a password.
const SECOND_FACTORS: &[&str] = &[
    "mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm", "sms", "tel",
];

/// The second step: the callback from the provider. Checks the state against the one this
/// browser left with, takes the pending sign-in once, exchanges the code with the PKCE
/// verifier, checks the ID token, finds the user and starts the session.
pub async fn callback(app: &App, meta: &RequestMeta, cb: Callback) -> Result<SsoDone, SsoFailure> {
    let reject = |outcome: &'static str, user: Option<UserId>| async move {
        audit_anonymous(app, meta, "auth.sso_login", user, outcome).await?;
        Ok::<_, SsoFailure>(SsoFailure::Rejected)
    };
    let state = cb.state.as_deref().unwrap_or_default();
    if state.is_empty() || state.len() > 256 {
        return Err(reject("no_state", None).await?);
    }
    // The state must be the one this browser set off with: a callback from someone else's
    // sign-in (login CSRF) has another or none.
    if cb.cookie_state.as_deref() != Some(state) {
        return Err(reject("state_mismatch", None).await?);
    }
    let Some(pending) = db::take_pending(&app.pool, &hash_opaque(state)).await? else {
        return Err(reject("unknown_state", None).await?);
    };
    if cb.error.is_some() {
        return Err(reject("provider_error", None).await?);
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return Err(reject("no_code", None).await?);
    };
    let org = OrgId(pending.org_id);
    let Some(p) = db::get(&app.pool, org).await? else {
        return Err(reject("no_provider", None).await?);
    };
    if cb.iss.as_deref().is_some_and(|iss| iss != p.issuer) {
        return Err(reject("wrong_issuer_param", None).await?);
    }
    let (client, http) = client_for(app, &p).await?;
    let exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SsoFailure::App(AppError::internal(e)))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
    let tokens = match exchange.request_async(&http).await {
        Ok(t) => t,
        Err(RequestTokenError::ServerResponse(e)) => {
            tracing::info!(org = %org.0, error = %e, "identity provider refused the code");
            return Err(reject("code_refused", None).await?);
        }
        Err(e) => {
            tracing::warn!(org = %org.0, error = %e, "identity provider token request failed");
            return Err(SsoFailure::Unreachable);
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return Err(reject("no_id_token", None).await?);
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce.clone())) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(org = %org.0, error = %e, "ID token refused");
            return Err(reject(claims_outcome(&e), None).await?);
        }
    };
    if let Some(expected) = claims.access_token_hash() {
        let ok = match (id_token.signing_alg(), id_token.signing_key(&verifier)) {
            (Ok(alg), Ok(key)) => {
                AccessTokenHash::from_token(tokens.access_token(), alg, key)
                    .ok()
                    .as_ref()
                    == Some(expected)
            }
            _ => false,
        };
        if !ok {
            return Err(reject("access_token_hash", None).await?);
        }
    }
    let all = serde_json::to_value(claims).map_err(|e| SsoFailure::App(AppError::internal(e)))?;
    let claim = |name: &str| all.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let Some(subject) = claim(&p.subject_claim).filter(|s| !s.is_empty() && s.len() <= 255) else {
        return Err(reject("no_subject", None).await?);
    };
    if !p.acr_values.is_empty() && !claim("acr").is_some_and(|a| p.acr_values.contains(&a)) {
        return Err(reject("assurance_too_low", None).await?);
    }
    if p.require_mfa {
        let amr: Vec<&str> = all
            .get("amr")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        if !amr.iter().any(|m| SECOND_FACTORS.contains(m)) {
            return Err(reject("no_second_factor", None).await?);
        }
    }
    let sid = claim("sid").filter(|s| s.len() <= 255);

    let user = match find_user(app, &p, &subject, &all, &claim).await? {
        Ok(u) => u,
        Err((outcome, user)) => {
            audit_anonymous(app, meta, "auth.sso_login", user, outcome).await?;
            return Err(SsoFailure::NoAccount);
        }
    };
    let grant = web_session(app, meta, &user, Some((org, &subject, sid.as_deref()))).await?;
    Ok(SsoDone {
        grant,
        next: pending.next,
    })
}

fn claims_outcome(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "id_token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "wrong_audience",
        ClaimsVerificationError::InvalidIssuer(_) => "wrong_issuer",
        ClaimsVerificationError::InvalidNonce(_) => "wrong_nonce",
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => "unknown_key",
        ClaimsVerificationError::SignatureVerification(_) => "bad_signature",
        _ => "id_token_invalid",
    }
}

/// The active user of the provider's organisation this subject is: linked before, or linked
/// now by the e-mail claim. Err names the audit outcome (and the user, where one was found).
async fn find_user(
    app: &App,
    p: &Provider,
    subject: &str,
    all: &serde_json::Value,
    claim: &impl Fn(&str) -> Option<String>,
) -> AppResult<Result<LoggedIn, (&'static str, Option<UserId>)>> {
    let org = OrgId(p.org_id);
    if let Some(u) = db::linked_user(&app.pool, org, subject).await? {
        let user = users::get(&app.pool, u).await?;
        let found = users::find_for_login(&app.pool, &user.email).await?;
        return Ok(match found {
            Some(f) if f.active && f.org_active && f.organisation_id == org.0 => Ok(LoggedIn {
                id: u,
                org,
                role: f.role,
            }),
            _ => Err(("inactive_account", Some(u))),
        });
    }
    let Some(email) = claim(&p.email_claim).map(|e| normalise_email(&e)) else {
        return Ok(Err(("no_email_claim", None)));
    };
    // A provider that says the address is unverified cannot vouch for it.
    if p.email_claim == "email"
        && all.get("email_verified") == Some(&serde_json::Value::Bool(false))
    {
        return Ok(Err(("email_not_verified", None)));
    }
    let Some(f) = users::find_for_login(&app.pool, &email).await? else {
        return Ok(Err(("unknown_user", None)));
    };
    let id = UserId(f.id);
    if f.organisation_id != org.0 {
        // Role and organisation come from the service, never from the provider: a person of
        // another organisation is not let in by this one's provider.
        return Ok(Err(("other_organisation", None)));
    }
    if !(f.active && f.org_active) {
        return Ok(Err(("inactive_account", Some(id))));
    }
    if !db::link(&app.pool, org, subject, id).await? {
        return Ok(Err(("linked_to_other_subject", Some(id))));
    }
    Ok(Ok(LoggedIn {
        id,
        org,
        role: f.role,
    }))
}

/// The claims of an OpenID Connect back-channel logout token (Back-Channel Logout 1.0 §2.4).
#[derive(Debug, Deserialize)]
struct LogoutClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    events: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    nonce: Option<serde_json::Value>,
}

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The provider says a person's session there ended: end the sessions it started here. The
/// logout token is a JWT signed with one of the provider's keys (from its JWKS, fetched now),
/// for this service (`aud`) from this issuer, with the logout event and no nonce. Answers how
/// many sessions ended; a token that fails a check is `BadRequest`.
pub async fn backchannel_logout(
    app: &App,
    meta: &RequestMeta,
    org_id: Uuid,
    logout_token: &str,
) -> AppResult<u64> {
    let bad = |why: &str| AppError::BadRequest(format!("invalid logout token: {why}"));
    let Some(p) = db::get(&app.pool, OrgId(org_id)).await? else {
        return Err(AppError::NotFound);
    };
    if logout_token.is_empty() || logout_token.len() > 16 * 1024 {
        return Err(bad("missing or too long"));
    }
    let header = jsonwebtoken::decode_header(logout_token).map_err(|_| bad("not a JWT"))?;
    use jsonwebtoken::Algorithm as A;
    if !matches!(
        header.alg,
        A::RS256
            | A::RS384
            | A::RS512
            | A::PS256
            | A::PS384
            | A::PS512
            | A::ES256
            | A::ES384
            | A::EdDSA
    ) {
        return Err(bad("algorithm not allowed"));
    }
    let http = http_client(app).map_err(|_| AppError::Unavailable("identity provider".into()))?;
    let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|_| bad("issuer"))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|_| AppError::Unavailable("identity provider".into()))?;
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::to_value(metadata.jwks())
        .and_then(serde_json::from_value)
        .map_err(AppError::internal)?;
    let key = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or_else(|| bad("unknown key"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(key).map_err(|_| bad("unusable key"))?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[&p.client_id]);
    validation.set_issuer(&[&p.issuer]);
    validation.set_required_spec_claims(&["iss", "aud", "iat"]);
    validation.leeway = 60;
    let data = jsonwebtoken::decode::<LogoutClaims>(logout_token, &key, &validation)
        .map_err(|e| bad(&e.to_string()))?;
    let c = data.claims;
    if !c.events.contains_key(LOGOUT_EVENT) {
        return Err(bad("no logout event"));
    }
    if c.nonce.is_some() {
        return Err(bad("a logout token has no nonce"));
    }
    let sub = c.sub.as_deref().filter(|s| !s.is_empty());
    let sid = c.sid.as_deref().filter(|s| !s.is_empty());
    if sub.is_none() && sid.is_none() {
        return Err(bad("neither sub nor sid"));
    }
    // A logout that names the subject by another claim than `sub` cannot match stored
    // subjects by `sub`; it still ends the provider session named by `sid`.
    let sub = if p.subject_claim == "sub" { sub } else { None };
    if sub.is_none() && sid.is_none() {
        return Ok(0);
    }
    let mut tx = app.pool.begin().await?;
    let ended = db::revoke_by_logout(&mut *tx, OrgId(org_id), sub, sid).await?;
    tx.commit().await?;
    for u in &ended {
        audit_anonymous(
            app,
            meta,
            "auth.provider_logout",
            Some(UserId(*u)),
            "success",
        )
        .await?;
    }
    Ok(ended.len() as u64)
}
