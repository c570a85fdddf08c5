//! `create-admin`: bootstrap an administrator of the operator organisation.

use anyhow::{Context, bail};
use handover_api::tokens::new_opaque_token;
use handover_db::{PgPool, orgs, sessions, users};
use handover_domain::validation::{is_plausible_email, normalise_email};
use handover_domain::{OrgId, OrgKind, Role, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// The operator organisation has a fixed id, so every instance and the demo agree on it.
pub fn operator_org_id() -> OrgId {
    OrgId(Uuid::new_v5(&Uuid::NAMESPACE_OID, b"handover-operator"))
}

pub async fn ensure_operator_org(pool: &PgPool) -> anyhow::Result<OrgId> {
    let id = operator_org_id();
    sqlx::query(
        "INSERT INTO organisations (id, kind, name) VALUES ($1, 'operator', 'Driftsoperatør')
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.0)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Creates the administrator and returns a one-time password-setup link (the password never
/// passes through a command line or a shell history).
pub async fn create_admin(
    pool: &PgPool,
    email: &str,
    name: &str,
    public_url: &str,
    setup_ttl: std::time::Duration,
) -> anyhow::Result<String> {
    let email = normalise_email(email);
    if !is_plausible_email(&email) {
        bail!("{email:?} is not an e-mail address");
    }
    if name.trim().is_empty() {
        bail!("the name must not be empty");
    }
    let org = ensure_operator_org(pool).await?;
    let kind = orgs::get(pool, org).await?.kind;
    debug_assert_eq!(kind, OrgKind::Operator);
    let id = UserId::new();
    let mut tx = pool.begin().await?;
    users::create(
        &mut *tx,
        &users::NewUser {
            id,
            organisation_id: org,
            email: &email,
            name: name.trim(),
            role: Role::Admin,
            password_hash: None,
        },
    )
    .await
    .with_context(|| format!("cannot create {email} (does the user exist already?)"))?;
    let (token, hash) = new_opaque_token();
    let ttl = time::Duration::try_from(setup_ttl).unwrap_or(time::Duration::DAY);
    sessions::create_password_setup(&mut *tx, id, None, &hash, OffsetDateTime::now_utc() + ttl)
        .await?;
    handover_db::audit::record(
        &mut *tx,
        &handover_db::audit::AuditEvent {
            action: "user.create",
            target_type: Some("user"),
            target_id: Some(id.0),
            outcome: "success",
            actor_role: Some("cli"),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(format!(
        "{}/password-setup?token={token}",
        public_url.trim_end_matches('/')
    ))
}
