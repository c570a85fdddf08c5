//! User accounts.

use crate::error::{DbError, DbResult};
use crate::orgs::{escape_like, parse};
use crate::page::{Counted, Page};
use handover_domain::{Caller, OrgId, Role, User, UserId};
use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(FromRow)]
struct Row {
    id: Uuid,
    organisation_id: Uuid,
    email: String,
    name: String,
    role: String,
    active: bool,
    has_password: bool,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<Row> for User {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Self> {
        Ok(User {
            id: UserId(r.id),
            organisation_id: OrgId(r.organisation_id),
            email: r.email,
            name: r.name,
            role: parse(&r.role)?,
            active: r.active,
            has_password: r.has_password,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! user_columns {
    () => {
        "u.id, u.organisation_id, u.email, u.name, u.role, u.active,
         u.password_hash IS NOT NULL AS has_password, u.version, u.created_at, u.updated_at"
    };
}

pub async fn get(db: impl PgExecutor<'_>, id: UserId) -> DbResult<User> {
    let row: Row = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.id = $1"
    ))
    .bind(id.0)
    .fetch_one(db)
    .await?;
    row.try_into()
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// `None` lists every organisation's users (operator administrators only).
    pub organisation_id: Option<OrgId>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Case-insensitive substring of name or e-mail.
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: impl PgExecutor<'_>, f: &UserFilter) -> DbResult<Page<User>> {
    let rows: Vec<Counted<Row>> = sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        ", count(*) OVER () AS total FROM users u
         WHERE ($1::uuid IS NULL OR u.organisation_id = $1)
           AND ($2::text IS NULL OR u.role = $2)
           AND ($3::boolean IS NULL OR u.active = $3)
           AND ($4::text IS NULL OR u.name ILIKE '%' || $4 || '%' ESCAPE '\\'
                OR u.email LIKE '%' || lower($4) || '%' ESCAPE '\\')
         ORDER BY lower(u.name), u.id
         LIMIT $5 OFFSET $6"
    ))
    .bind(f.organisation_id.map(|o| o.0))
    .bind(f.role.map(Role::as_str))
    .bind(f.active)
    .bind(f.q.as_deref().map(escape_like))
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(db)
    .await?;
    Page::from_counted(rows)
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub organisation_id: OrgId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
}

pub async fn create(db: impl PgExecutor<'_>, n: &NewUser<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO users (id, organisation_id, email, name, role, password_hash, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 IS NULL THEN NULL ELSE now() END)",
    )
    .bind(n.id.0)
    .bind(n.organisation_id.0)
    .bind(n.email)
    .bind(n.name)
    .bind(n.role.as_str())
    .bind(n.password_hash)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Default)]
pub struct UserChanges<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Conditional update: `Ok(false)` when the stored version is not `expected_version`.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: UserId,
    expected_version: i32,
    c: &UserChanges<'_>,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET
            name = COALESCE($3, name),
            email = COALESCE($4, email),
            role = COALESCE($5, role),
            active = COALESCE($6, active),
            deactivated_at = CASE WHEN $6 IS NULL THEN deactivated_at
                                  WHEN $6 THEN NULL ELSE COALESCE(deactivated_at, now()) END,
            version = version + 1,
            updated_at = now()
         WHERE id = $1 AND version = $2",
    )
    .bind(id.0)
    .bind(expected_version)
    .bind(c.name)
    .bind(c.email)
    .bind(c.role.map(Role::as_str))
    .bind(c.active)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What login needs: the stored hash and whether the account may log in at all.
#[derive(Debug, FromRow)]
pub struct LoginRecord {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub org_active: bool,
    /// False when the organisation signs its users in through its identity provider only.
    pub passwords_allowed: bool,
}

pub async fn find_for_login(db: impl PgExecutor<'_>, email: &str) -> DbResult<Option<LoginRecord>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.organisation_id, u.role, u.password_hash, u.active, o.active AS org_active,
                COALESCE(p.passwords_allowed, true) AS passwords_allowed
         FROM users u JOIN organisations o ON o.id = u.organisation_id
         LEFT JOIN identity_providers p ON p.org_id = u.organisation_id
         WHERE u.email = $1",
    )
    .bind(email)
    .fetch_optional(db)
    .await?)
}

pub async fn password_hash(db: impl PgExecutor<'_>, id: UserId) -> DbResult<Option<String>> {
    let h: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_one(db)
        .await?;
    Ok(h)
}

pub async fn set_password(db: impl PgExecutor<'_>, id: UserId, hash: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now(),
                version = version + 1
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct CallerRow {
    user_id: Uuid,
    org_id: Uuid,
    org_kind: String,
    role: String,
    name: String,
    serves: Option<Uuid>,
}

impl CallerRow {
    fn into_caller(self, session_id: Uuid) -> DbResult<Caller> {
        Ok(Caller {
            user_id: UserId(self.user_id),
            session_id,
            org_id: OrgId(self.org_id),
            org_kind: parse(&self.org_kind)?,
            role: parse(&self.role)?,
            name: self.name,
            serves: self.serves.map(OrgId),
        })
    }
}

#[derive(sqlx::FromRow)]
struct BatchCallerRow {
    session_id: Uuid,
    #[sqlx(flatten)]
    caller: CallerRow,
}

/// The callers behind (user, session) pairs, if the user, the organisation and the session are
/// all still valid: the caller checks of concurrent requests answered by one indexed query (one
/// round trip), read at the moment the query runs, which is after every one of the requests
/// arrived. No cache, so revocation is immediate. Pairs no longer valid are missing.
pub async fn callers(db: impl PgExecutor<'_>, keys: &[(UserId, Uuid)]) -> DbResult<Vec<Caller>> {
    let users: Vec<Uuid> = keys.iter().map(|(u, _)| u.0).collect();
    let sessions: Vec<Uuid> = keys.iter().map(|(_, s)| *s).collect();
    let rows: Vec<BatchCallerRow> = sqlx::query_as(
        "SELECT s.id AS session_id, u.id AS user_id, o.id AS org_id, o.kind AS org_kind, u.role,
                u.name, o.serves_reception_centre_id AS serves
         FROM unnest($1::uuid[], $2::uuid[]) AS k(user_id, session_id)
         JOIN sessions s ON s.id = k.session_id AND s.user_id = k.user_id
         JOIN users u ON u.id = s.user_id
         JOIN organisations o ON o.id = u.organisation_id
         WHERE s.revoked_at IS NULL AND s.expires_at > now() AND u.active AND o.active",
    )
    .bind(&users)
    .bind(&sessions)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| r.caller.into_caller(r.session_id))
        .collect()
}

#[derive(sqlx::FromRow)]
struct WebCallerRow {
    session_id: Uuid,
    csrf_token: String,
    #[sqlx(flatten)]
    caller: CallerRow,
}

/// The caller behind a browser session's cookie, with the session's CSRF token, if the session
/// is live (not revoked, within its absolute lifetime, used within `idle`) and its user and
/// organisation are active. Marks the session used, in the same statement: one round trip, and
/// no cache, so sign-out, deactivation and a role change act on the very next request.
pub async fn web_caller(
    db: impl PgExecutor<'_>,
    cookie_hash: &[u8],
    idle: time::Duration,
) -> DbResult<Option<(Caller, String)>> {
    let row: Option<WebCallerRow> = sqlx::query_as(
        "WITH s AS (
             UPDATE sessions SET last_seen_at = now()
             WHERE cookie_hash = $1 AND revoked_at IS NULL AND expires_at > now()
               AND last_seen_at > now() - make_interval(secs => $2)
             RETURNING id, user_id, csrf_token
         )
         SELECT s.id AS session_id, s.csrf_token, u.id AS user_id, o.id AS org_id,
                o.kind AS org_kind, u.role, u.name, o.serves_reception_centre_id AS serves
         FROM s
         JOIN users u ON u.id = s.user_id
         JOIN organisations o ON o.id = u.organisation_id
         WHERE u.active AND o.active",
    )
    .bind(cookie_hash)
    .bind(idle.as_seconds_f64())
    .fetch_optional(db)
    .await?;
    row.map(|r| Ok((r.caller.into_caller(r.session_id)?, r.csrf_token)))
        .transpose()
}

/// Number of active administrators in an organisation, locking their rows so two concurrent
/// removals cannot both see "one more left".
pub async fn lock_active_admins(db: impl PgExecutor<'_>, org: OrgId) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM users
          WHERE organisation_id = $1 AND role = 'admin' AND active FOR UPDATE) a",
    )
    .bind(org.0)
    .fetch_one(db)
    .await?)
}

/// The account holding an e-mail address, if any (to audit which record a conflict hit).
pub async fn id_by_email(db: impl PgExecutor<'_>, email: &str) -> DbResult<Option<UserId>> {
    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db)
        .await?;
    Ok(id.map(UserId))
}

/// The organisation and role of an account (for audit rows written before a caller exists).
pub async fn org_and_role(db: impl PgExecutor<'_>, id: UserId) -> DbResult<Option<(OrgId, Role)>> {
    let row: Option<(Uuid, String)> =
        sqlx::query_as("SELECT organisation_id, role FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    row.map(|(o, r)| Ok((OrgId(o), parse(&r)?))).transpose()
}
