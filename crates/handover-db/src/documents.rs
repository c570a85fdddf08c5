//! The documents a participant has at most one of, each versioned: the competence mapping,
//! Norwegian training, the settlement decision, health and adaptation needs. One conditional
//! write for all four: create when none exists and no version was named, otherwise replace the
//! named version.

use crate::error::DbResult;
use handover_domain::UserId;
use handover_domain::handover::{AdaptationNeedsInput, SettlementInput};
use handover_domain::participant::{CompetenceMappingInput, NorwegianTrainingInput};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

/// The result of a conditional write of a one-per-participant document.
#[derive(Debug, PartialEq, Eq)]
pub enum Upsert {
    Created,
    Updated,
    /// The version named did not match the stored one (or named a version of a document that
    /// does not exist yet).
    VersionMismatch,
    /// The document exists and no version was named.
    PreconditionRequired,
}

/// Who writes: some documents keep their author.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub id: UserId,
    pub name: &'a str,
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// How a document's input is stored: its table (keyed by `participant_id`, with `version` and
/// `updated_at`) and the columns one write sets, bound in the same order.
pub trait Document {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    fn bind<'q>(&'q self, q: PgQuery<'q>, by: Author<'q>) -> PgQuery<'q>;
}

impl Document for CompetenceMappingInput {
    const TABLE: &'static str = "competence_mappings";
    const COLUMNS: &'static [&'static str] = &["data", "mapped_on", "mapped_by", "mapped_by_name"];
    fn bind<'q>(&'q self, q: PgQuery<'q>, by: Author<'q>) -> PgQuery<'q> {
        q.bind(Json(self))
            .bind(self.mapped_on)
            .bind(by.id.0)
            .bind(by.name)
    }
}

impl Document for NorwegianTrainingInput {
    const TABLE: &'static str = "norwegian_training";
    const COLUMNS: &'static [&'static str] = &["data"];
    fn bind<'q>(&'q self, q: PgQuery<'q>, _: Author<'q>) -> PgQuery<'q> {
        q.bind(Json(self))
    }
}

impl Document for SettlementInput {
    const TABLE: &'static str = "settlements";
    const COLUMNS: &'static [&'static str] = &[
        "municipality_id",
        "settlement_date",
        "contacts",
        "recorded_by",
    ];
    fn bind<'q>(&'q self, q: PgQuery<'q>, by: Author<'q>) -> PgQuery<'q> {
        q.bind(self.municipality_id.0)
            .bind(self.settlement_date)
            .bind(Json(&self.contacts))
            .bind(by.id.0)
    }
}

impl Document for AdaptationNeedsInput {
    const TABLE: &'static str = "adaptation_needs";
    const COLUMNS: &'static [&'static str] = &["data"];
    fn bind<'q>(&'q self, q: PgQuery<'q>, _: Author<'q>) -> PgQuery<'q> {
        q.bind(Json(self))
    }
}

fn insert_sql<D: Document>() -> String {
    let values: Vec<String> = (0..D::COLUMNS.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    format!(
        "INSERT INTO {} (participant_id, {}) SELECT $1, {} WHERE $2::int IS NULL
         ON CONFLICT (participant_id) DO NOTHING",
        D::TABLE,
        D::COLUMNS.join(", "),
        values.join(", ")
    )
}

fn update_sql<D: Document>() -> String {
    let set: Vec<String> = D::COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect();
    format!(
        "UPDATE {} SET {}, version = version + 1, updated_at = now()
         WHERE participant_id = $1 AND version = $2",
        D::TABLE,
        set.join(", ")
    )
}

/// Creates the document (when none exists and `if_match` is `None`) or replaces it (when
/// `if_match` is its version).
pub async fn put<D: Document>(
    db: &mut PgConnection,
    participant: Uuid,
    if_match: Option<i32>,
    doc: &D,
    by: Author<'_>,
) -> DbResult<Upsert> {
    // Built from the `Document` constants only, never from input.
    let insert = sqlx::AssertSqlSafe(insert_sql::<D>());
    let q = sqlx::query(insert).bind(participant).bind(if_match);
    let created = doc.bind(q, by).execute(&mut *db).await?;
    if created.rows_affected() == 1 {
        return Ok(Upsert::Created);
    }
    let Some(v) = if_match else {
        return Ok(Upsert::PreconditionRequired);
    };
    let update = sqlx::AssertSqlSafe(update_sql::<D>());
    let q = sqlx::query(update).bind(participant).bind(v);
    let r = doc.bind(q, by).execute(&mut *db).await?;
    Ok(if r.rows_affected() == 1 {
        Upsert::Updated
    } else {
        Upsert::VersionMismatch
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        assert_eq!(
            insert_sql::<SettlementInput>(),
            "INSERT INTO settlements (participant_id, municipality_id, settlement_date, contacts, recorded_by) \
             SELECT $1, $3, $4, $5, $6 WHERE $2::int IS NULL\n         ON CONFLICT (participant_id) DO NOTHING"
        );
        assert_eq!(
            update_sql::<NorwegianTrainingInput>(),
            "UPDATE norwegian_training SET data = $3, version = version + 1, updated_at = now()\n         \
             WHERE participant_id = $1 AND version = $2"
        );
    }
}
