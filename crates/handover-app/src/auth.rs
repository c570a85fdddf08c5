//! Login, refresh-token rotation, logout and password setup by a one-time token. The access
//! token itself is the interface's (the JSON API signs a JWT): these use cases create and end
//! sessions and hand back what the interface needs to issue one ([`Grant`]).

use crate::App;
use crate::actor::{Actor, RequestMeta};
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::secrets::{hash_opaque, new_opaque_token};
use handover_db::audit::{AuditEvent, record};
use handover_db::second_factor as second_factor_db;
use handover_db::sessions::{self, Rotation};
use handover_db::{throttle, users};
use handover_domain::password::{MAX_PASSWORD_CHARS, check_password};
use handover_domain::validation::{MAX_EMAIL_CHARS, normalise_email};
use handover_domain::{OrgId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// A login attempt.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// A setting of the password with the token from a password-setup link.
#[derive(Debug, Clone)]
pub struct PasswordSetup {
    pub token: String,
    pub new_password: String,
}

/// A live session: whom the interface issues an access token for, and the new single-use
/// refresh token to hand out with it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub user_id: UserId,
    pub session_id: Uuid,
    pub refresh_token: String,
}

/// An audit row of an authentication event, before there is an [`Actor`]. With a user, the row
/// carries the user's organisation and role, so that organisation's administrators see it in
/// the audit log.
pub(crate) async fn audit_anonymous(
    app: &App,
    meta: &RequestMeta,
    action: &str,
    user: Option<UserId>,
    outcome: &str,
) -> AppResult<()> {
    let client = meta.client();
    let org_role = match user {
        Some(u) => users::org_and_role(&app.pool, u).await?,
        None => None,
    };
    record(
        &app.pool,
        &AuditEvent {
            actor_user_id: user,
            actor_org_id: org_role.map(|(o, _)| o),
            actor_role: org_role.map(|(_, r)| r.as_str()),
            action,
            target_type: user.map(|_| "user"),
            target_id: user.map(|u| u.0),
            outcome,
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// What login throttling counts per: an IPv4 address, or the /64 network of an IPv6 address,
/// since one IPv6 subscriber usually holds a whole /64 and could rotate within it at will.
fn throttle_subject(addr: std::net::IpAddr) -> String {
    match addr {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let net = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(net))
            }
        },
    }
}

/// When the lock that applies to this attempt ends, if one does: the (account, address) pair
/// and the address; the account-wide ceiling only for addresses the account is not known at.
async fn current_lock(
    app: &App,
    keys: &[String],
    account_key: &str,
    known_key: &str,
) -> AppResult<Option<OffsetDateTime>> {
    if let Some(until) = throttle::locked_until(&app.pool, keys).await? {
        return Ok(Some(until));
    }
    match throttle::locked_until(&app.pool, &[account_key.to_owned()]).await? {
        Some(until) if !throttle::is_known(&app.pool, known_key).await? => Ok(Some(until)),
        _ => Ok(None),
    }
}

/// What a right password leads to: the session, or, for a user with a second factor, the
/// challenge its second step answers ([`login_second_step`]).
#[derive(Debug, Clone)]
pub enum LoginStep<G> {
    Done(G),
    SecondFactor(Challenge),
}

/// A pending second step: the token the client sends back with the code (only its hash is
/// stored), valid for [`CHALLENGE_TTL`] and [`CHALLENGE_TRIES`] wrong codes.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub token: String,
    pub expires_in: time::Duration,
    /// For a user who must have a second factor and has none: the key of the authenticator to
    /// set up now; the second step confirms it with a code.
    pub setup: Option<crate::second_factor::TotpSetup>,
}

/// A finished second step: the session, and the recovery codes when it set up the
/// authenticator (shown once).
#[derive(Debug, Clone)]
pub struct SecondStepDone<G> {
    pub grant: G,
    pub recovery_codes: Option<Vec<String>>,
}

/// How long the second step waits for its code.
pub const CHALLENGE_TTL: time::Duration = time::Duration::minutes(5);
/// Wrong codes one challenge takes before the password has to be given again.
pub const CHALLENGE_TRIES: i32 = 5;

/// Logs in with e-mail and password and starts a session. Unknown e-mail, wrong password and
/// inactive account all fail alike ([`AppError::InvalidCredentials`]) in similar time; repeated
/// failures per account and per client address are throttled (429). A user with a second
/// factor gets a challenge instead of a session.
pub async fn login(app: &App, meta: &RequestMeta, req: Login) -> AppResult<LoginStep<Grant>> {
    let user = authenticate(app, meta, req).await?;
    if let Some(c) = challenge_if_needed(app, meta, &user).await? {
        return Ok(LoginStep::SecondFactor(c));
    }
    Ok(LoginStep::Done(api_session(app, meta, &user).await?))
}

/// The second step of [`login`]: the challenge's token and a code of the user's authenticator
/// (or an unused recovery code).
pub async fn login_second_step(
    app: &App,
    meta: &RequestMeta,
    challenge: &str,
    code: &str,
) -> AppResult<SecondStepDone<Grant>> {
    let (user, recovery_codes) = second_step(app, meta, challenge, code).await?;
    Ok(SecondStepDone {
        grant: api_session(app, meta, &user).await?,
        recovery_codes,
    })
}

async fn api_session(app: &App, meta: &RequestMeta, user: &LoggedIn) -> AppResult<Grant> {
    let (refresh, refresh_hash) = new_opaque_token();
    let mut tx = app.pool.begin().await?;
    let session = sessions::create(
        &mut tx,
        user.id,
        session_ttl(app),
        &refresh_hash,
        time::Duration::try_from(app.config.refresh_token_ttl).unwrap_or(time::Duration::HOUR),
    )
    .await?;
    audit_login(&mut tx, meta, user, session, "auth.login").await?;
    tx.commit().await?;
    Ok(Grant {
        user_id: user.id,
        session_id: session,
        refresh_token: refresh,
    })
}

/// A browser session: the cookie token to set (only its hash is stored) and the CSRF token its
/// forms carry.
#[derive(Debug, Clone)]
pub struct WebGrant {
    pub session_id: Uuid,
    pub cookie_token: String,
    pub csrf_token: String,
}

/// Signs in from the web application: the same checks, throttling, second step and audit row
/// as [`login`], and a session of the same table, carried by a cookie instead of tokens.
pub async fn web_login(
    app: &App,
    meta: &RequestMeta,
    req: Login,
) -> AppResult<LoginStep<WebGrant>> {
    let user = authenticate(app, meta, req).await?;
    if let Some(c) = challenge_if_needed(app, meta, &user).await? {
        return Ok(LoginStep::SecondFactor(c));
    }
    Ok(LoginStep::Done(web_session(app, meta, &user, None).await?))
}

/// The second step of [`web_login`].
pub async fn web_login_second_step(
    app: &App,
    meta: &RequestMeta,
    challenge: &str,
    code: &str,
) -> AppResult<SecondStepDone<WebGrant>> {
    let (user, recovery_codes) = second_step(app, meta, challenge, code).await?;
    Ok(SecondStepDone {
        grant: web_session(app, meta, &user, None).await?,
        recovery_codes,
    })
}

/// A browser session for a user a password (and second step) or an identity provider proved;
/// with the provider's organisation, subject and session id in the second case, so that the
/// provider's logout finds it.
pub(crate) async fn web_session(
    app: &App,
    meta: &RequestMeta,
    user: &LoggedIn,
    sso: Option<(OrgId, &str, Option<&str>)>,
) -> AppResult<WebGrant> {
    let (cookie, cookie_hash) = new_opaque_token();
    let (csrf, _) = new_opaque_token();
    let mut tx = app.pool.begin().await?;
    let session =
        sessions::create_web(&mut *tx, user.id, session_ttl(app), &cookie_hash, &csrf).await?;
    if let Some((org, subject, sid)) = sso {
        handover_db::sso::mark_session(&mut *tx, session, org, subject, sid).await?;
    }
    audit_login(
        &mut tx,
        meta,
        user,
        session,
        if sso.is_some() {
            "auth.sso_login"
        } else {
            "auth.login"
        },
    )
    .await?;
    tx.commit().await?;
    Ok(WebGrant {
        session_id: session,
        cookie_token: cookie,
        csrf_token: csrf,
    })
}

/// A challenge for a user with a confirmed authenticator, or with none who must have one (then
/// with a new key to set up); None for a user without one who need not have one.
async fn challenge_if_needed(
    app: &App,
    meta: &RequestMeta,
    user: &LoggedIn,
) -> AppResult<Option<Challenge>> {
    let (purpose, setup) = if second_factor_db::has_totp(&app.pool, user.id).await? {
        (second_factor_db::Purpose::Verify, None)
    } else if second_factor_db::required(&app.pool, user.id).await? {
        let email = users::get(&app.pool, user.id).await?.email;
        let setup = crate::second_factor::begin_at_login(app, user.id, &email).await?;
        (second_factor_db::Purpose::Setup, Some(setup))
    } else {
        return Ok(None);
    };
    let (token, hash) = new_opaque_token();
    second_factor_db::create_challenge(
        &app.pool,
        &hash,
        user.id,
        purpose,
        app.now() + CHALLENGE_TTL,
    )
    .await?;
    let outcome = match purpose {
        second_factor_db::Purpose::Verify => "second_factor_required",
        second_factor_db::Purpose::Setup => "second_factor_setup_required",
    };
    audit_anonymous(app, meta, "auth.login", Some(user.id), outcome).await?;
    Ok(Some(Challenge {
        token,
        expires_in: CHALLENGE_TTL,
        setup,
    }))
}

/// The authenticator a live setup challenge is for, to show its key again (a wrong code, a
/// page reloaded); None for any other challenge.
pub async fn challenge_setup(
    app: &App,
    challenge: &str,
) -> AppResult<Option<crate::second_factor::TotpSetup>> {
    if challenge.is_empty() || challenge.len() > 128 {
        return Ok(None);
    }
    match second_factor_db::challenge_user(&app.pool, &hash_opaque(challenge)).await? {
        Some((user, second_factor_db::Purpose::Setup)) => {
            let email = users::get(&app.pool, user).await?.email;
            crate::second_factor::pending_for(app, user, &email).await
        }
        _ => Ok(None),
    }
}

/// Checks the second step: a live challenge, an account not locked, a code of the user's. A
/// wrong code counts against the challenge and, like a wrong password, against the account;
/// a right one ends the challenge (it works once).
async fn second_step(
    app: &App,
    meta: &RequestMeta,
    challenge: &str,
    code: &str,
) -> AppResult<(LoggedIn, Option<Vec<String>>)> {
    if challenge.is_empty() || challenge.len() > 128 {
        return Err(AppError::InvalidCredentials);
    }
    let token_hash = hash_opaque(challenge);
    let Some((user_id, purpose)) = second_factor_db::challenge_user(&app.pool, &token_hash).await?
    else {
        audit_anonymous(app, meta, "auth.second_factor", None, "no_challenge").await?;
        return Err(AppError::InvalidCredentials);
    };
    let key = format!("second_factor:{user_id}");
    if let Some(until) = throttle::locked_until(&app.pool, std::slice::from_ref(&key)).await? {
        audit_anonymous(app, meta, "auth.second_factor", Some(user_id), "throttled").await?;
        return Err(AppError::retry_after(until, app.now()));
    }
    let owner = users::get(&app.pool, user_id).await?;
    let (failure, recovery_codes) = match purpose {
        second_factor_db::Purpose::Verify => {
            match crate::second_factor::check_code(app, user_id, &owner.email, code).await? {
                crate::second_factor::Check::Ok(_) => (None, None),
                crate::second_factor::Check::Reused => (Some("reused_code"), None),
                crate::second_factor::Check::Wrong => (Some("bad_code"), None),
            }
        }
        second_factor_db::Purpose::Setup => {
            match crate::second_factor::confirm_at_login(app, user_id, &owner.email, code).await? {
                Some(codes) => (None, Some(codes)),
                None => (Some("bad_code"), None),
            }
        }
    };
    if let Some(outcome) = failure {
        let mut tx = app.pool.begin().await?;
        second_factor_db::fail_challenge(&mut tx, &token_hash, CHALLENGE_TRIES).await?;
        tx.commit().await?;
        metrics::counter!("handover_login_failures_total", "step" => "second_factor").increment(1);
        if throttle::record_failure(&app.pool, &key, app.config.account_throttle.limit())
            .await?
            .is_some()
        {
            metrics::counter!("handover_login_locks_total", "step" => "second_factor").increment(1);
        }
        audit_anonymous(app, meta, "auth.second_factor", Some(user_id), outcome).await?;
        return Err(AppError::InvalidCode);
    }
    if second_factor_db::consume_challenge(&app.pool, &token_hash)
        .await?
        .is_none()
    {
        return Err(AppError::InvalidCredentials);
    }
    // Deactivated (or its organisation) between the two steps.
    let found = users::find_for_login(&app.pool, &owner.email).await?;
    let Some(found) = found.filter(|f| f.active && f.org_active && f.id == user_id.0) else {
        return Err(AppError::InvalidCredentials);
    };
    Ok((
        LoggedIn {
            id: user_id,
            org: OrgId(found.organisation_id),
            role: found.role,
        },
        recovery_codes,
    ))
}

fn session_ttl(app: &App) -> time::Duration {
    time::Duration::try_from(app.config.session_max_age).unwrap_or(time::Duration::DAY)
}

/// Whom a successful login proved.
pub(crate) struct LoggedIn {
    pub(crate) id: UserId,
    pub(crate) org: OrgId,
    pub(crate) role: String,
}

async fn audit_login(
    tx: &mut sqlx::PgConnection,
    meta: &RequestMeta,
    user: &LoggedIn,
    session: Uuid,
    action: &str,
) -> AppResult<()> {
    let client = meta.client();
    record(
        &mut *tx,
        &AuditEvent {
            actor_user_id: Some(user.id),
            actor_org_id: Some(user.org),
            actor_role: Some(&user.role),
            action,
            target_type: Some("session"),
            target_id: Some(session),
            outcome: "success",
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// Checks e-mail and password, with the throttling below; the user on success.
async fn authenticate(app: &App, meta: &RequestMeta, req: Login) -> AppResult<LoggedIn> {
    let email = normalise_email(&req.email);
    if email.len() > MAX_EMAIL_CHARS
        || email.contains(char::is_control)
        || req.password.chars().count() > MAX_PASSWORD_CHARS
    {
        return Err(AppError::InvalidCredentials);
    }
    // Throttling (docs/security.md, "Login throttling"): failures count per (account, address),
    // per address and per account. The first two lock only the address that failed; the
    // account-wide ceiling, reached by a distributed attack, locks the account only for
    // addresses it has not logged in from within the last days, so an attacker can never keep
    // the user out from their usual address.
    let addr = meta
        .client_addr
        .map_or_else(|| "unknown".to_owned(), throttle_subject);
    let pair_key = format!("pair:{email}|{addr}");
    let known_key = format!("known:{email}|{addr}");
    let account_key = format!("account:{email}");
    let address_key = meta
        .client_addr
        .map(|a| format!("address:{}", throttle_subject(a)));
    let keys: Vec<String> = std::iter::once(pair_key.clone())
        .chain(address_key.clone())
        .collect();
    if let Some(until) = current_lock(app, &keys, &account_key, &known_key).await? {
        audit_anonymous(app, meta, "auth.login", None, "throttled").await?;
        return Err(AppError::retry_after(until, app.now()));
    }

    let found = users::find_for_login(&app.pool, &email).await?;
    let hash = found.as_ref().and_then(|r| r.password_hash.clone());
    let password_ok = app.hasher.verify(req.password, hash).await?;
    // Checked again after the (queued) hash: a burst of concurrent attempts all pass the first
    // check before any failure is counted, and must not all get an answer once a lock is set.
    if let Some(until) = current_lock(app, &keys, &account_key, &known_key).await? {
        audit_anonymous(app, meta, "auth.login", None, "throttled").await?;
        return Err(AppError::retry_after(until, app.now()));
    }
    let user = found.filter(|r| password_ok && r.active && r.org_active);

    let Some(user) = user else {
        let limits = [
            (Some(&pair_key), app.config.account_throttle),
            (Some(&account_key), app.config.account_ceiling),
            (address_key.as_ref(), app.config.address_throttle),
        ];
        metrics::counter!("handover_login_failures_total", "step" => "password").increment(1);
        for (key, limit) in limits {
            if let Some(k) = key
                && throttle::record_failure(&app.pool, k, limit.limit())
                    .await?
                    .is_some()
            {
                metrics::counter!("handover_login_locks_total", "step" => "password").increment(1);
            }
        }
        audit_anonymous(app, meta, "auth.login", None, "bad_credentials").await?;
        return Err(AppError::InvalidCredentials);
    };

    if !user.passwords_allowed {
        // The password was right, so saying why it is not enough tells nothing new.
        audit_anonymous(
            app,
            meta,
            "auth.login",
            Some(UserId(user.id)),
            "passwords_disabled",
        )
        .await?;
        return Err(AppError::PasswordsDisabled);
    }
    // The account-wide counter is not reset: the user's success must not refill an attacker's
    // budget elsewhere. It decays with its window.
    throttle::reset(&app.pool, &pair_key).await?;
    throttle::mark_known(&app.pool, &known_key).await?;
    Ok(LoggedIn {
        id: UserId(user.id),
        org: OrgId(user.organisation_id),
        role: user.role,
    })
}

/// Exchanges a refresh token for a new one in the same session. Each works once: presenting one
/// that was used before revokes the whole session (its chain of tokens), a sign that it was
/// stolen.
pub async fn refresh(app: &App, meta: &RequestMeta, refresh_token: &str) -> AppResult<Grant> {
    if refresh_token.is_empty() || refresh_token.len() > 128 {
        return Err(AppError::InvalidRefreshToken);
    }
    let (new_token, new_hash) = new_opaque_token();
    let mut tx = app.pool.begin().await?;
    let outcome = sessions::rotate(
        &mut tx,
        &hash_opaque(refresh_token),
        &new_hash,
        time::Duration::try_from(app.config.refresh_token_ttl).unwrap_or(time::Duration::HOUR),
    )
    .await?;
    tx.commit().await?;
    match outcome {
        Rotation::Rotated {
            user_id,
            session_id,
        } => Ok(Grant {
            user_id,
            session_id,
            refresh_token: new_token,
        }),
        Rotation::ReuseDetected { user_id, .. } => {
            tracing::warn!(user = %user_id, "refresh token reused; session revoked");
            audit_anonymous(app, meta, "auth.refresh", Some(user_id), "reuse_detected").await?;
            Err(AppError::InvalidRefreshToken)
        }
        Rotation::Invalid => Err(AppError::InvalidRefreshToken),
    }
}

/// Ends the caller's session: its refresh tokens and its access tokens stop working.
pub async fn logout(app: &App, actor: &Actor) -> AppResult<()> {
    let mut tx = app.pool.begin().await?;
    sessions::revoke(&mut *tx, actor.caller.session_id, "logout").await?;
    audit(
        &mut *tx,
        actor,
        "auth.logout",
        Some(("session", actor.caller.session_id)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a password with a one-time setup link's token. The link works once and only until it
/// expires; every session of the user is revoked, and the owner of an account that had a
/// password is told at their address.
pub async fn password_setup(app: &App, meta: &RequestMeta, req: PasswordSetup) -> AppResult<()> {
    let invalid =
        || AppError::BadRequest("The password-setup link is invalid, used or expired.".into());
    if req.token.is_empty() || req.token.len() > 128 {
        return Err(invalid());
    }
    let token_hash = hash_opaque(&req.token);
    let (user_id, email) = sessions::peek_password_setup(&app.pool, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    let owner = users::get(&app.pool, user_id).await?;
    let org_name = handover_db::orgs::get(&app.pool, owner.organisation_id)
        .await?
        .name;
    check_password(
        &req.new_password,
        &[email.as_str(), owner.name.as_str(), org_name.as_str()],
    )
    .map_err(|(code, msg)| AppError::field("new_password", code, &msg))?;
    let hash = app.hasher.hash(req.new_password).await?;
    let mut tx = app.pool.begin().await?;
    let user = sessions::consume_password_setup(&mut tx, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    users::set_password(&mut *tx, user, &hash).await?;
    sessions::revoke_all(&mut *tx, user, "password_setup", None).await?;
    if owner.has_password {
        // A reset: the owner hears of it at their address, whoever used the link.
        crate::setup_mail::password_changed(&mut tx, app, user, &owner.email).await?;
    }
    let client = meta.client();
    record(
        &mut *tx,
        &AuditEvent {
            actor_user_id: Some(user),
            actor_org_id: Some(owner.organisation_id),
            actor_role: Some(owner.role.as_str()),
            action: "user.password_setup",
            target_type: Some("user"),
            target_id: Some(user.0),
            outcome: "success",
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How many setup e-mails one address may be sent from the sign-in page per window; more asks
/// are answered alike and send nothing, so the page cannot be used to flood someone's inbox.
const FORGOTTEN_PER_WINDOW: i32 = 3;

/// "Forgot your password?": e-mails a one-time password link to the account with this address,
/// if there is an active one. The answer is the same whether there is or not, so the page does
/// not tell who has an account; the audit row says which it was, for the organisation's
/// administrators.
pub async fn forgotten_password(app: &App, meta: &RequestMeta, email: &str) -> AppResult<()> {
    let email = normalise_email(email);
    if email.is_empty()
        || email.len() > MAX_EMAIL_CHARS
        || !email.contains('@')
        || email.contains(char::is_control)
    {
        return Err(AppError::field(
            "email",
            "invalid_email",
            "must be an e-mail address",
        ));
    }
    let Some(found) = users::find_for_login(&app.pool, &email).await? else {
        return audit_anonymous(app, meta, "auth.password_forgotten", None, "unknown").await;
    };
    let user_id = UserId(found.id);
    if !(found.active && found.org_active) {
        return audit_anonymous(
            app,
            meta,
            "auth.password_forgotten",
            Some(user_id),
            "inactive",
        )
        .await;
    }
    if !found.passwords_allowed {
        // The organisation signs its staff in through its identity provider only: a password
        // link would be a way around it. The page answers alike.
        return audit_anonymous(
            app,
            meta,
            "auth.password_forgotten",
            Some(user_id),
            "passwords_disabled",
        )
        .await;
    }
    let key = format!("forgotten:{email}");
    let limit = throttle::Limit {
        max_failures: FORGOTTEN_PER_WINDOW,
        window: time::Duration::HOUR,
        lock: time::Duration::HOUR,
    };
    if throttle::locked_until(&app.pool, std::slice::from_ref(&key))
        .await?
        .is_some()
    {
        return audit_anonymous(
            app,
            meta,
            "auth.password_forgotten",
            Some(user_id),
            "throttled",
        )
        .await;
    }
    throttle::record_failure(&app.pool, &key, limit).await?;
    let user = users::get(&app.pool, user_id).await?;
    let mut tx = app.pool.begin().await?;
    crate::setup_mail::issue(&mut tx, app, &user, crate::setup_mail::AskedBy::SignInPage).await?;
    tx.commit().await?;
    audit_anonymous(app, meta, "auth.password_forgotten", Some(user_id), "sent").await
}

#[cfg(test)]
mod tests {
    use super::throttle_subject;

    #[test]
    fn ipv6_addresses_are_throttled_per_64_network() {
        let a = throttle_subject("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = throttle_subject("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let c = throttle_subject("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(throttle_subject("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(
            throttle_subject("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7"
        );
    }
}
