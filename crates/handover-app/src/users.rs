//! User administration. Administrators manage their own organisation's users; administrators of
//! the operator organisation manage other organisations' administrators.

use crate::App;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use crate::setup_mail::{self, SetupKind};
use handover_db::users::{self, NewUser, UserChanges, UserFilter};
use handover_db::{orgs, sessions};
use handover_domain::policy::{ListScope, account_relation};
use handover_domain::validation::{MAX_NAME_CHARS, normalise_email};
use handover_domain::{Action, OrgId, Page, Paging, Role, User, UserId, Validator};
use time::OffsetDateTime;
use uuid::Uuid;

/// What a list of users may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Only users of this organisation.
    pub organisation_id: Option<OrgId>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Part of the name or e-mail address.
    pub q: Option<String>,
    pub paging: Paging,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: OrgId,
}

/// A change to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the account: its sessions stop working at once.
    pub active: Option<bool>,
}

/// What sending a password-setup e-mail did. The link itself went only to the account's own
/// address.
#[derive(Debug, Clone)]
pub struct SetupSent {
    /// The account's own address.
    pub sent_to: String,
    pub kind: SetupKind,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

/// The user `id`, after checking the caller may do `action` to it (403 or 404 otherwise).
/// `role_after` is the role the account would have after the change: the operator reaches
/// another organisation's administrators only while they stay administrators (policy
/// `operator (admins)`).
pub async fn load_for(
    app: &App,
    actor: &Actor,
    id: Uuid,
    action: Action,
    role_after: Option<Role>,
) -> AppResult<User> {
    actor.require(action)?;
    let user = match users::get(&app.pool, UserId(id)).await {
        Err(handover_db::DbError::NotFound) => return Err(AppError::NotFound),
        other => other?,
    };
    actor.check(
        action,
        account_relation(
            actor.caller.org_id,
            user.organisation_id,
            user.role,
            role_after,
        ),
    )?;
    Ok(user)
}

/// The answer to a taken e-mail address: the same whoever holds it, audited and throttled as a
/// probe (docs/security.md, "Review findings of 2026-12", 3).
async fn email_conflict(app: &App, actor: &Actor, action: &str, email: &str) -> AppError {
    let hit = users::id_by_email(&app.pool, email).await.ok().flatten();
    crate::probe::conflict(
        app,
        actor,
        action,
        hit.map(|u| ("user", u.0)),
        "This e-mail address cannot be registered here.",
    )
    .await
}

/// The name of the caller's organisation, for "an administrator of ..." in e-mails.
async fn caller_org_name(app: &App, actor: &Actor) -> AppResult<String> {
    Ok(orgs::get(&app.pool, actor.caller.org_id).await?.name)
}

/// The users the caller may see. A filter naming another organisation than the caller's own,
/// for a caller who sees only their own, is answered as if it did not exist.
pub async fn list(app: &App, actor: &Actor, q: UserQuery) -> AppResult<Page<User>> {
    actor.require(Action::UserRead)?;
    let (limit, offset) = q.paging.resolve()?;
    let organisation_id = match actor.list_scope(Action::UserRead) {
        ListScope::Everything => q.organisation_id,
        ListScope::Related { .. } => {
            if q.organisation_id.is_some_and(|o| o != actor.caller.org_id) {
                return Err(AppError::NotFound);
            }
            Some(actor.caller.org_id)
        }
        ListScope::Nothing => return Err(AppError::Forbidden),
    };
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    if q.q.as_ref().is_some_and(|s| s.contains(char::is_control)) {
        return Err(AppError::field(
            "q",
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    let page = users::list(
        &app.pool,
        &UserFilter {
            organisation_id,
            role: q.role,
            active: q.active,
            q: q.q,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    })
}

/// Creates an account without a password and queues the password-setup e-mail to its own
/// address, in the same transaction.
pub async fn create(app: &App, actor: &Actor, req: UserInput) -> AppResult<User> {
    actor.require(Action::UserCreate)?;
    // A foreign organisation id in the body is treated like a foreign record: 404.
    actor.check(
        Action::UserCreate,
        account_relation(actor.caller.org_id, req.organisation_id, req.role, None),
    )?;
    crate::probe::check(app, actor).await?;
    let org = match orgs::get(&app.pool, req.organisation_id).await {
        Err(handover_db::DbError::NotFound) => return Err(AppError::NotFound),
        other => other?,
    };
    let email = normalise_email(&req.email);
    let mut v = Validator::new();
    v.email("email", &email);
    v.person_name("name", &req.name, MAX_NAME_CHARS);
    v.check(
        req.role.fits(org.kind),
        "role",
        "role_does_not_fit",
        "this role does not fit the organisation's kind",
    );
    v.check(
        org.active,
        "organisation_id",
        "inactive",
        "the organisation is deactivated",
    );
    v.finish()?;

    let id = UserId::new();
    let asked_by = caller_org_name(app, actor).await?;
    let mut tx = app.pool.begin().await?;
    match users::create(
        &mut *tx,
        &NewUser {
            id,
            organisation_id: org.id,
            email: &email,
            name: req.name.trim(),
            role: req.role,
            password_hash: None,
        },
    )
    .await
    {
        Err(handover_db::DbError::Conflict(c)) if c == "users_email_key" => {
            drop(tx);
            return Err(email_conflict(app, actor, "user.create", &email).await);
        }
        other => other?,
    }
    audit(
        &mut *tx,
        actor,
        "user.create",
        Some(("user", id.0)),
        "success",
    )
    .await?;
    let user = users::get(&mut *tx, id).await?;
    setup_mail::issue(
        &mut tx,
        app,
        &user,
        setup_mail::AskedBy::Admin {
            user: actor.caller.user_id,
            organisation: &asked_by,
        },
    )
    .await?;
    audit(
        &mut *tx,
        actor,
        "user.password_setup_email",
        Some(("user", id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// One user.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<User> {
    load_for(app, actor, id, Action::UserRead, None).await
}

/// Changes a user's e-mail, name, role or active flag, at the version the caller edited.
/// Deactivation and a role change revoke the user's sessions; a new e-mail address is told to
/// the old one, and setup links sent there stop working. Nobody deactivates themselves,
/// changes their own role, or takes away an organisation's last active administrator.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    req: UserPatch,
) -> AppResult<User> {
    let user = load_for(app, actor, id, Action::UserUpdate, req.role).await?;
    let version = expected.check(user.version)?;
    crate::probe::check(app, actor).await?;
    let email = req.email.as_deref().map(normalise_email);
    let mut v = Validator::new();
    if let Some(e) = &email {
        v.email("email", e);
    }
    if let Some(n) = &req.name {
        v.person_name("name", n, MAX_NAME_CHARS);
    }
    if let Some(role) = req.role {
        let org = orgs::get(&app.pool, user.organisation_id).await?;
        v.check(
            role.fits(org.kind),
            "role",
            "role_does_not_fit",
            "this role does not fit the organisation's kind",
        );
    }
    v.finish()?;
    if user.id == actor.caller.user_id
        && (req.active == Some(false) || req.role.is_some_and(|r| r != user.role))
    {
        return Err(AppError::Conflict(
            "You cannot deactivate yourself or change your own role; ask another administrator."
                .into(),
        ));
    }

    let new_email = email.as_deref().filter(|e| *e != user.email);
    let org_name = match new_email {
        Some(_) => caller_org_name(app, actor).await?,
        None => String::new(),
    };
    let mut tx = app.pool.begin().await?;
    let loses_admin = user.role == Role::Admin
        && user.active
        && (req.active == Some(false) || req.role.is_some_and(|r| r != Role::Admin));
    if loses_admin && users::lock_active_admins(&mut *tx, user.organisation_id).await? <= 1 {
        return Err(AppError::Conflict(
            "This is the organisation's last active administrator; appoint another first.".into(),
        ));
    }
    let changes = UserChanges {
        name: req.name.as_deref().map(str::trim),
        email: email.as_deref(),
        role: req.role,
        active: req.active,
    };
    match users::update(&mut *tx, user.id, version, &changes).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::PreconditionFailed),
        Err(handover_db::DbError::Conflict(c)) if c == "users_email_key" => {
            drop(tx);
            let taken = email.as_deref().unwrap_or_default();
            return Err(email_conflict(app, actor, "user.update", taken).await);
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(new) = new_email {
        // The owner learns at the old address; a setup link sent there stops working, so the
        // change cannot be used to take a link over.
        sessions::spend_password_setups(&mut *tx, user.id).await?;
        setup_mail::notify(
            &mut tx,
            format!("email_changed:{}:{}", user.id, version),
            &user.email,
            handover_mail::templates::email_changed(new, &org_name),
        )
        .await?;
    }
    let action = match req.active {
        Some(false) if user.active => {
            sessions::revoke_all(&mut *tx, user.id, "deactivated", None).await?;
            "user.deactivate"
        }
        Some(true) if !user.active => "user.reactivate",
        _ => "user.update",
    };
    if req.role.is_some_and(|r| r != user.role) {
        // New rights take effect with a new login.
        sessions::revoke_all(&mut *tx, user.id, "role_changed", None).await?;
    }
    audit(
        &mut *tx,
        actor,
        action,
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    let updated = users::get(&mut *tx, user.id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// E-mails a one-time password-setup link to the user's own address: the setup e-mail for an
/// account without a password, a reset (naming who asked) for one with a password. Only the
/// newest link works.
pub async fn send_password_setup(app: &App, actor: &Actor, id: Uuid) -> AppResult<SetupSent> {
    let user = load_for(app, actor, id, Action::UserPasswordSetupIssue, None).await?;
    if !user.active {
        return Err(AppError::Conflict("The user is deactivated.".into()));
    }
    let asked_by = caller_org_name(app, actor).await?;
    let mut tx = app.pool.begin().await?;
    let (kind, expires_at) = setup_mail::issue(
        &mut tx,
        app,
        &user,
        setup_mail::AskedBy::Admin {
            user: actor.caller.user_id,
            organisation: &asked_by,
        },
    )
    .await?;
    audit(
        &mut *tx,
        actor,
        match kind {
            SetupKind::Setup => "user.password_setup_email",
            SetupKind::Reset => "user.password_reset_email",
        },
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(SetupSent {
        sent_to: user.email,
        kind,
        expires_at,
    })
}
