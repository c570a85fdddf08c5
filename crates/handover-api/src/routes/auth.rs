//! Login, token refresh, logout and password setup.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, RequestMeta};
use crate::state::AppState;
use crate::tokens::{hash_opaque, new_opaque_token};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use handover_db::audit::{AuditEvent, record};
use handover_db::sessions::{self, Rotation};
use handover_db::throttle;
use handover_db::users;
use handover_domain::UserId;
use handover_domain::password::{MAX_PASSWORD_CHARS, check_password};
use handover_domain::validation::{MAX_EMAIL_CHARS, normalise_email};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "kari.nordmann@example.no", max_length = 254)]
    pub email: String,
    #[schema(max_length = 256, format = Password)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use token for `/api/v1/auth/refresh`. Store it securely.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSetupRequest {
    /// The token from the password-setup link.
    #[schema(max_length = 128)]
    pub token: String,
    #[schema(min_length = 12, max_length = 256, format = Password)]
    pub new_password: String,
}

pub(crate) fn retry_after(until: OffsetDateTime) -> ApiError {
    let secs = (until - OffsetDateTime::now_utc()).whole_seconds().max(1) as u64;
    ApiError::TooManyRequests {
        retry_after_secs: secs,
    }
}

async fn tokens_for(
    state: &AppState,
    user: UserId,
    session: uuid::Uuid,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    let ttl = state.config.access_token_ttl;
    Ok(TokenResponse {
        access_token: state.keys.issue(user, session, ttl)?,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        refresh_token,
        refresh_expires_in: state.config.refresh_token_ttl.as_secs(),
    })
}

/// An audit row of an authentication event. With a user, the row carries the user's
/// organisation and role, so that organisation's administrators see it in `/audit-events`.
async fn audit_anonymous(
    state: &AppState,
    meta: &RequestMeta,
    action: &str,
    user: Option<UserId>,
    outcome: &str,
) -> ApiResult<()> {
    let client = meta.client();
    let org_role = match user {
        Some(u) => users::org_and_role(&state.pool, u).await?,
        None => None,
    };
    record(
        &state.pool,
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
    state: &AppState,
    keys: &[String],
    account_key: &str,
    known_key: &str,
) -> ApiResult<Option<OffsetDateTime>> {
    if let Some(until) = throttle::locked_until(&state.pool, keys).await? {
        return Ok(Some(until));
    }
    match throttle::locked_until(&state.pool, &[account_key.to_owned()]).await? {
        Some(until) if !throttle::is_known(&state.pool, known_key).await? => Ok(Some(until)),
        _ => Ok(None),
    }
}

/// Log in with e-mail and password.
///
/// Unknown e-mail, wrong password and inactive account get the same 401 in similar time.
/// Repeated failures per account and per client address are throttled with 429 and Retry-After.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let email = normalise_email(&req.email);
    if email.len() > MAX_EMAIL_CHARS || req.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::InvalidCredentials);
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
    if let Some(until) = current_lock(&state, &keys, &account_key, &known_key).await? {
        audit_anonymous(&state, &meta, "auth.login", None, "throttled").await?;
        return Err(retry_after(until));
    }

    let found = users::find_for_login(&state.pool, &email).await?;
    let hash = found.as_ref().and_then(|r| r.password_hash.clone());
    let password_ok = state.hasher.verify(req.password, hash).await?;
    // Checked again after the (queued) hash: a burst of concurrent attempts all pass the first
    // check before any failure is counted, and must not all get an answer once a lock is set.
    if let Some(until) = current_lock(&state, &keys, &account_key, &known_key).await? {
        audit_anonymous(&state, &meta, "auth.login", None, "throttled").await?;
        return Err(retry_after(until));
    }
    let user = found.filter(|r| password_ok && r.active && r.org_active);

    let Some(user) = user else {
        let limits = [
            (Some(&pair_key), state.config.account_throttle),
            (Some(&account_key), state.config.account_ceiling),
            (address_key.as_ref(), state.config.address_throttle),
        ];
        for (key, limit) in limits {
            if let Some(k) = key {
                throttle::record_failure(&state.pool, k, limit.limit()).await?;
            }
        }
        audit_anonymous(&state, &meta, "auth.login", None, "bad_credentials").await?;
        return Err(ApiError::InvalidCredentials);
    };

    let user_id = UserId(user.id);
    // The account-wide counter is not reset: the user's success must not refill an attacker's
    // budget elsewhere. It decays with its window.
    throttle::reset(&state.pool, &pair_key).await?;
    throttle::mark_known(&state.pool, &known_key).await?;
    let (refresh, refresh_hash) = new_opaque_token();
    let mut tx = state.pool.begin().await?;
    let session = sessions::create(
        &mut tx,
        user_id,
        time::Duration::try_from(state.config.session_max_age).unwrap_or(time::Duration::DAY),
        &refresh_hash,
        time::Duration::try_from(state.config.refresh_token_ttl).unwrap_or(time::Duration::HOUR),
    )
    .await?;
    let client = meta.client();
    record(
        &mut *tx,
        &AuditEvent {
            actor_user_id: Some(user_id),
            actor_org_id: Some(handover_domain::OrgId(user.organisation_id)),
            actor_role: Some(&user.role),
            action: "auth.login",
            target_type: Some("session"),
            target_id: Some(session),
            outcome: "success",
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(tokens_for(&state, user_id, session, refresh).await?))
}

/// Exchange a refresh token for new tokens.
///
/// Each refresh token works once. Presenting one that was already used revokes the whole
/// session (its chain of tokens): a sign that the token was stolen.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    if req.refresh_token.is_empty() || req.refresh_token.len() > 128 {
        return Err(ApiError::InvalidRefreshToken);
    }
    let (new_token, new_hash) = new_opaque_token();
    let mut tx = state.pool.begin().await?;
    let outcome = sessions::rotate(
        &mut tx,
        &hash_opaque(&req.refresh_token),
        &new_hash,
        time::Duration::try_from(state.config.refresh_token_ttl).unwrap_or(time::Duration::HOUR),
    )
    .await?;
    tx.commit().await?;
    match outcome {
        Rotation::Rotated {
            user_id,
            session_id,
        } => Ok(Json(
            tokens_for(&state, user_id, session_id, new_token).await?,
        )),
        Rotation::ReuseDetected { user_id, .. } => {
            tracing::warn!(user = %user_id, "refresh token reused; session revoked");
            audit_anonymous(
                &state,
                &meta,
                "auth.refresh",
                Some(user_id),
                "reuse_detected",
            )
            .await?;
            Err(ApiError::InvalidRefreshToken)
        }
        Rotation::Invalid => Err(ApiError::InvalidRefreshToken),
    }
}

/// Log out: revokes the session, its refresh tokens and its access tokens.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
) -> ApiResult<StatusCode> {
    let mut tx = state.pool.begin().await?;
    sessions::revoke(&mut *tx, auth.0.session_id, "logout").await?;
    crate::audit::audit(
        &mut *tx,
        &auth,
        &meta,
        "auth.logout",
        Some(("session", auth.0.session_id)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a password with a one-time setup link's token.
///
/// The link works once and only until it expires; every session of the user is revoked.
#[utoipa::path(post, path = "/api/v1/auth/password-setup", tag = "auth",
    request_body = PasswordSetupRequest,
    responses(
        (status = 204, description = "Password set"),
        (status = 400, description = "The link is invalid, used or expired", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn password_setup(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<PasswordSetupRequest>,
) -> ApiResult<StatusCode> {
    let invalid =
        || ApiError::BadRequest("The password-setup link is invalid, used or expired.".into());
    if req.token.is_empty() || req.token.len() > 128 {
        return Err(invalid());
    }
    let token_hash = hash_opaque(&req.token);
    let (user_id, email) = sessions::peek_password_setup(&state.pool, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    let owner = users::get(&state.pool, user_id).await?;
    let org_name = handover_db::orgs::get(&state.pool, owner.organisation_id)
        .await?
        .name;
    check_password(
        &req.new_password,
        &[email.as_str(), owner.name.as_str(), org_name.as_str()],
    )
    .map_err(|(code, msg)| ApiError::field("new_password", code, &msg))?;
    let hash = state.hasher.hash(req.new_password).await?;
    let mut tx = state.pool.begin().await?;
    let user = sessions::consume_password_setup(&mut tx, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    users::set_password(&mut *tx, user, &hash).await?;
    sessions::revoke_all(&mut *tx, user, "password_setup", None).await?;
    if owner.has_password {
        // A reset: the owner hears of it at their address, whoever used the link.
        crate::setup_mail::password_changed(&mut tx, user, &owner.email).await?;
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
    Ok(StatusCode::NO_CONTENT)
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
