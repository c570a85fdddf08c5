//! The organisation register.

use crate::error::{DbError, DbResult};
use crate::page::{Counted, Page};
use handover_domain::{OrgId, OrgKind, Organisation};
use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    name: String,
    municipality_number: Option<String>,
    county: Option<String>,
    serves_reception_centre_id: Option<Uuid>,
    served_by_career_centre_id: Option<Uuid>,
    active: bool,
    require_second_factor: bool,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

pub(crate) fn parse<T: std::str::FromStr>(s: &str) -> DbResult<T> {
    s.parse()
        .map_err(|_| DbError::Rejected(format!("unexpected stored value {s:?}")))
}

impl TryFrom<Row> for Organisation {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Self> {
        Ok(Organisation {
            id: OrgId(r.id),
            kind: parse(&r.kind)?,
            name: r.name,
            municipality_number: r.municipality_number,
            county: r.county,
            serves_reception_centre_id: r.serves_reception_centre_id.map(OrgId),
            served_by_career_centre_id: r.served_by_career_centre_id.map(OrgId),
            active: r.active,
            require_second_factor: r.require_second_factor,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! org_select {
    () => {
        "SELECT o.id, o.kind, o.name, o.municipality_number, o.county,
            o.serves_reception_centre_id,
            (SELECT c.id FROM organisations c WHERE c.serves_reception_centre_id = o.id)
                AS served_by_career_centre_id,
            o.active, o.require_second_factor, o.version, o.created_at, o.updated_at"
    };
}

pub async fn get(db: impl PgExecutor<'_>, id: OrgId) -> DbResult<Organisation> {
    let row: Row = sqlx::query_as(concat!(
        org_select!(),
        " FROM organisations o WHERE o.id = $1"
    ))
    .bind(id.0)
    .fetch_one(db)
    .await?;
    row.try_into()
}

pub async fn find_by_municipality_number(
    db: impl PgExecutor<'_>,
    number: &str,
) -> DbResult<Organisation> {
    let row: Row = sqlx::query_as(concat!(
        org_select!(),
        " FROM organisations o WHERE o.municipality_number = $1"
    ))
    .bind(number)
    .fetch_one(db)
    .await?;
    row.try_into()
}

#[derive(Debug, Default, Clone)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    /// Case-insensitive substring of the name, or a municipality-number prefix.
    pub q: Option<String>,
    pub active: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: impl PgExecutor<'_>, f: &OrgFilter) -> DbResult<Page<Organisation>> {
    let rows: Vec<Counted<Row>> = sqlx::query_as(concat!(
        org_select!(),
        ", count(*) OVER () AS total FROM organisations o
         WHERE ($1::text IS NULL OR o.kind = $1)
           AND ($2::text IS NULL OR o.name ILIKE '%' || $2 || '%' ESCAPE '\\' OR o.municipality_number LIKE $2 || '%' ESCAPE '\\')
           AND ($3::boolean IS NULL OR o.active = $3)
         ORDER BY o.kind, lower(o.name), o.id
         LIMIT $4 OFFSET $5"
    ))
    .bind(f.kind.map(|k| k.as_str()))
    .bind(f.q.as_deref().map(escape_like))
    .bind(f.active)
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(db)
    .await?;
    Page::from_counted(rows)
}

pub struct NewOrganisation<'a> {
    pub id: OrgId,
    pub kind: OrgKind,
    pub name: &'a str,
    pub municipality_number: Option<&'a str>,
    pub county: Option<&'a str>,
    pub serves_reception_centre_id: Option<OrgId>,
}

pub async fn create(db: impl PgExecutor<'_>, n: &NewOrganisation<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO organisations (id, kind, name, municipality_number, county, serves_reception_centre_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(n.id.0)
    .bind(n.kind.as_str())
    .bind(n.name)
    .bind(n.municipality_number)
    .bind(n.county)
    .bind(n.serves_reception_centre_id.map(|i| i.0))
    .execute(db)
    .await?;
    Ok(())
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct OrgChanges<'a> {
    pub name: Option<&'a str>,
    pub county: Option<Option<&'a str>>,
    pub active: Option<bool>,
    pub serves_reception_centre_id: Option<Option<OrgId>>,
    pub require_second_factor: Option<bool>,
}

/// Applies `changes` only if the stored version is `expected_version`.
/// `Ok(false)` means the version no longer matches (the caller answers 412).
pub async fn update(
    db: impl PgExecutor<'_>,
    id: OrgId,
    expected_version: i32,
    c: &OrgChanges<'_>,
) -> DbResult<bool> {
    let done = sqlx::query(
        "UPDATE organisations SET
            name = COALESCE($3, name),
            county = CASE WHEN $4 THEN $5 ELSE county END,
            active = COALESCE($6, active),
            serves_reception_centre_id = CASE WHEN $7 THEN $8 ELSE serves_reception_centre_id END,
            require_second_factor = COALESCE($9, require_second_factor),
            version = version + 1,
            updated_at = now()
         WHERE id = $1 AND version = $2",
    )
    .bind(id.0)
    .bind(expected_version)
    .bind(c.name)
    .bind(c.county.is_some())
    .bind(c.county.flatten())
    .bind(c.active)
    .bind(c.serves_reception_centre_id.is_some())
    .bind(c.serves_reception_centre_id.flatten().map(|i| i.0))
    .bind(c.require_second_factor)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Escapes `%`, `_` and `\` so user input in a LIKE pattern matches literally.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
