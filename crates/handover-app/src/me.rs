//! The caller's own account.

use crate::App;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use handover_db::{orgs, sessions, throttle, users};
use handover_domain::password::{MAX_PASSWORD_CHARS, check_password};
use handover_domain::{Action, Organisation, User};

/// The caller's account and organisation.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub organisation: Organisation,
}

/// A change of one's own password.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The caller, their organisation and role.
pub async fn me(app: &App, actor: &Actor) -> AppResult<Me> {
    actor.require(Action::MeRead)?;
    let user = users::get(&app.pool, actor.caller.user_id).await?;
    let organisation = orgs::get(&app.pool, actor.caller.org_id).await?;
    Ok(Me { user, organisation })
}

/// Changes the caller's own password, given the current one. The caller's other sessions are
/// logged out and the owner is told at their address.
pub async fn change_password(app: &App, actor: &Actor, req: PasswordChange) -> AppResult<()> {
    actor.require(Action::OwnPasswordChange)?;
    let user = users::get(&app.pool, actor.caller.user_id).await?;
    // Its own counter (docs/security.md, "Login throttling"): wrong current passwords here never
    // lock the account's logins, and a distributed attack on the logins never stops the
    // signed-in owner from changing their password.
    let key = format!("own_password:{}", user.id);
    if let Some(until) = throttle::locked_until(&app.pool, std::slice::from_ref(&key)).await? {
        return Err(AppError::retry_after(until, app.now()));
    }
    let org_name = orgs::get(&app.pool, actor.caller.org_id).await?.name;
    check_password(
        &req.new_password,
        &[user.email.as_str(), user.name.as_str(), org_name.as_str()],
    )
    .map_err(|(code, msg)| AppError::field("new_password", code, &msg))?;
    let stored = users::password_hash(&app.pool, actor.caller.user_id).await?;
    let ok = req.current_password.chars().count() <= MAX_PASSWORD_CHARS
        && app.hasher.verify(req.current_password, stored).await?;
    if !ok {
        throttle::record_failure(&app.pool, &key, app.config.own_password_throttle.limit()).await?;
        audit(
            &app.pool,
            actor,
            "user.password_change",
            Some(("user", actor.caller.user_id.0)),
            "bad_credentials",
        )
        .await?;
        return Err(AppError::field(
            "current_password",
            "incorrect",
            "is not your current password",
        ));
    }
    let hash = app.hasher.hash(req.new_password).await?;
    let mut tx = app.pool.begin().await?;
    users::set_password(&mut *tx, actor.caller.user_id, &hash).await?;
    sessions::revoke_all(
        &mut *tx,
        actor.caller.user_id,
        "password_change",
        Some(actor.caller.session_id),
    )
    .await?;
    crate::setup_mail::password_changed(&mut tx, app, user.id, &user.email).await?;
    audit(
        &mut *tx,
        actor,
        "user.password_change",
        Some(("user", actor.caller.user_id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
