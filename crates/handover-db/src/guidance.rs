//! The qualification-pathway catalogue and career-guidance summaries.

use crate::disclosure::Sealed;
use crate::error::{DbError, DbResult};
use crate::orgs::{escape_like, parse};
use handover_domain::guidance::*;
use handover_domain::{OrgId, UserId};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

pub const CATALOGUE_JSON: &str = include_str!("../../../data/catalogue.json");

/// Offering ids derive from their key, so every installation agrees on them.
pub fn offering_id(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("handover-offering-{key}").as_bytes(),
    )
}

pub fn shipped_catalogue() -> Result<Vec<OfferingInput>, String> {
    let list: Vec<OfferingInput> =
        serde_json::from_str(CATALOGUE_JSON).map_err(|e| e.to_string())?;
    for o in &list {
        o.validate(OffsetDateTime::now_utc().date())
            .map_err(|e| format!("{}: {e:?}", o.key))?;
    }
    Ok(list)
}

/// What loading the shipped catalogue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueLoad {
    pub added: u64,
    /// Offerings no administrator ever changed, brought up to the shipped text as a new version.
    pub updated: u64,
}

/// Adds shipped offerings that are missing (by key), and brings those no administrator has ever
/// changed up to the shipped text (a new version, so summaries keep the version they pinned).
/// Offerings an administrator changed, retired or deleted are left as they keep them.
pub async fn load_catalogue(pool: &PgPool) -> DbResult<CatalogueLoad> {
    let list = shipped_catalogue().map_err(DbError::Rejected)?;
    let mut done = CatalogueLoad::default();
    let mut tx = pool.begin().await?;
    for o in &list {
        let id = offering_id(&o.key);
        let r = sqlx::query(
            "INSERT INTO catalogue_offerings (id, key, grp, data)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM catalogue_deleted_keys WHERE key = $2)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(id)
        .bind(&o.key)
        .bind(o.group.as_str())
        .bind(Json(o))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO catalogue_offering_versions (offering_id, version, data, retired, shipped)
                 VALUES ($1, 1, $2, false, true)",
            )
            .bind(id)
            .bind(Json(o))
            .execute(&mut *tx)
            .await?;
            done.added += 1;
            continue;
        }
        // The row lock makes a second instance starting at the same time see the new text and
        // leave it.
        let r = sqlx::query(
            "WITH untouched AS (
                 SELECT o.id FROM catalogue_offerings o
                 WHERE o.key = $1 AND o.retired_at IS NULL AND o.data <> $3
                   AND NOT EXISTS (SELECT 1 FROM catalogue_offering_versions v
                                   WHERE v.offering_id = o.id AND NOT v.shipped)
                 FOR UPDATE
             ), bumped AS (
                 UPDATE catalogue_offerings o SET data = $3, grp = $2, version = o.version + 1, updated_at = now()
                 FROM untouched WHERE o.id = untouched.id
                 RETURNING o.id, o.version
             )
             INSERT INTO catalogue_offering_versions (offering_id, version, data, retired, shipped)
             SELECT id, version, $3, false, true FROM bumped",
        )
        .bind(&o.key)
        .bind(o.group.as_str())
        .bind(Json(o))
        .execute(&mut *tx)
        .await?;
        done.updated += r.rows_affected();
    }
    tx.commit().await?;
    Ok(done)
}

#[derive(FromRow)]
struct OfferingRow {
    id: Uuid,
    data: Json<OfferingInput>,
    version: i32,
    retired_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

impl From<OfferingRow> for Offering {
    fn from(r: OfferingRow) -> Self {
        Offering {
            id: r.id,
            data: r.data.0,
            version: r.version,
            retired: r.retired_at.is_some(),
            updated_at: r.updated_at,
        }
    }
}

pub async fn get_offering(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Offering> {
    let r: OfferingRow = sqlx::query_as(
        "SELECT id, data, version, retired_at, updated_at FROM catalogue_offerings WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(r.into())
}

#[derive(Debug, Default, Clone)]
pub struct OfferingFilter {
    pub group: Option<OfferingGroup>,
    pub include_retired: bool,
    pub q: Option<String>,
}

pub async fn list_offerings(
    db: impl PgExecutor<'_>,
    f: &OfferingFilter,
) -> DbResult<Vec<Offering>> {
    let rows: Vec<OfferingRow> = sqlx::query_as(
        "SELECT id, data, version, retired_at, updated_at FROM catalogue_offerings
         WHERE ($1::text IS NULL OR grp = $1)
           AND ($2 OR retired_at IS NULL)
           AND ($3::text IS NULL OR data->>'name_nb' ILIKE '%' || $3 || '%' ESCAPE '\\'
                OR data->>'name_en' ILIKE '%' || $3 || '%' ESCAPE '\\' OR key LIKE '%' || $3 || '%' ESCAPE '\\')
         ORDER BY grp, key",
    )
    .bind(f.group.map(OfferingGroup::as_str))
    .bind(f.include_retired)
    .bind(f.q.as_deref().map(escape_like))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Offering::from).collect())
}

pub async fn create_offering(
    db: &mut PgConnection,
    id: Uuid,
    o: &OfferingInput,
    by: UserId,
) -> DbResult<()> {
    sqlx::query("INSERT INTO catalogue_offerings (id, key, grp, data) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(&o.key)
        .bind(o.group.as_str())
        .bind(Json(o))
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "INSERT INTO catalogue_offering_versions (offering_id, version, data, retired, changed_by)
         VALUES ($1, 1, $2, false, $3)",
    )
    .bind(id)
    .bind(Json(o))
    .bind(by.0)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Stores a new version (content and/or retired flag) if the current one is `version`.
pub async fn update_offering(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    o: &OfferingInput,
    retired: bool,
    by: UserId,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE catalogue_offerings SET data = $3, grp = $4, key = $5, version = version + 1,
            retired_at = CASE WHEN $6 THEN COALESCE(retired_at, now()) ELSE NULL END, updated_at = now()
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(Json(o))
    .bind(o.group.as_str())
    .bind(&o.key)
    .bind(retired)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO catalogue_offering_versions (offering_id, version, data, retired, changed_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version + 1)
    .bind(Json(o))
    .bind(retired)
    .bind(by.0)
    .execute(&mut *db)
    .await?;
    Ok(true)
}

/// Deletes an offering no summary references (`Conflict` when one does), and remembers its key
/// so the shipped catalogue does not bring it back at the next start.
pub async fn delete_offering(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    by: UserId,
) -> DbResult<bool> {
    let referenced: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM guidance_pathway_steps WHERE offering_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await?;
    if referenced {
        return Err(DbError::Conflict("catalogue_offering_referenced".into()));
    }
    let current: Option<i32> =
        sqlx::query_scalar("SELECT version FROM catalogue_offerings WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    if current != Some(version) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO catalogue_deleted_keys (key, deleted_by) SELECT key, $2 FROM catalogue_offerings WHERE id = $1
         ON CONFLICT (key) DO UPDATE SET deleted_at = now(), deleted_by = EXCLUDED.deleted_by",
    )
    .bind(id)
    .bind(by.0)
    .execute(&mut *db)
    .await?;
    sqlx::query("DELETE FROM catalogue_offering_versions WHERE offering_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    // The foreign key from pathway steps still guards against a reference made meanwhile.
    sqlx::query("DELETE FROM catalogue_offerings WHERE id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(true)
}

pub async fn offering_versions(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> DbResult<Vec<OfferingVersion>> {
    let rows: Vec<(i32, bool, OffsetDateTime, Json<OfferingInput>)> = sqlx::query_as(
        "SELECT version, retired, changed_at, data FROM catalogue_offering_versions
         WHERE offering_id = $1 ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, retired, changed_at, data)| OfferingVersion {
            version,
            retired,
            changed_at,
            data: data.0,
        })
        .collect())
}

/// The offering versions a set of summaries reference (for the handover snapshot).
pub async fn referenced_versions(
    db: impl PgExecutor<'_>,
    pairs: &[(Uuid, i32)],
) -> DbResult<Vec<(Uuid, OfferingVersion)>> {
    let ids: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
    let versions: Vec<i32> = pairs.iter().map(|p| p.1).collect();
    let rows: Vec<(Uuid, i32, bool, OffsetDateTime, Json<OfferingInput>)> = sqlx::query_as(
        "SELECT v.offering_id, v.version, v.retired, v.changed_at, v.data
         FROM unnest($1::uuid[], $2::int[]) AS p(id, version)
         JOIN catalogue_offering_versions v ON v.offering_id = p.id AND v.version = p.version",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, version, retired, changed_at, data)| {
            (
                id,
                OfferingVersion {
                    version,
                    retired,
                    changed_at,
                    data: data.0,
                },
            )
        })
        .collect())
}

/// A guidance summary's stored content (everything the counsellor writes but the pathway).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Content {
    sessions: Vec<GuidanceSession>,
    interests: String,
    strengths: String,
    experience: String,
    goals_short_term: String,
    goals_long_term: String,
    covered: String,
    left_for_section_11: String,
}

fn content(i: &GuidanceSummaryInput) -> Content {
    Content {
        sessions: i.sessions.clone(),
        interests: i.interests.clone(),
        strengths: i.strengths.clone(),
        experience: i.experience.clone(),
        goals_short_term: i.goals_short_term.clone(),
        goals_long_term: i.goals_long_term.clone(),
        covered: i.covered.clone(),
        left_for_section_11: i.left_for_section_11.clone(),
    }
}

/// A pathway step resolved against the catalogue when written.
#[derive(Debug, Clone)]
pub struct ResolvedStep {
    pub offering_id: Uuid,
    pub offering_version: i32,
    pub reason: String,
}

/// Resolves each step's offering to its current version. Returns the position of each step whose
/// offering does not exist or is retired.
pub async fn resolve_steps(
    db: impl PgExecutor<'_>,
    steps: &[PathwayStepInput],
) -> DbResult<Result<Vec<ResolvedStep>, Vec<(usize, bool)>>> {
    let ids: Vec<Uuid> = steps.iter().map(|s| s.offering_id).collect();
    let rows: Vec<(Uuid, i32, bool)> = sqlx::query_as(
        "SELECT id, version, retired_at IS NOT NULL FROM catalogue_offerings WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut bad = Vec::new();
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match rows.iter().find(|r| r.0 == s.offering_id) {
            Some((_, v, false)) => out.push(ResolvedStep {
                offering_id: s.offering_id,
                offering_version: *v,
                reason: s.reason.clone(),
            }),
            Some((_, _, true)) => bad.push((i, true)),
            None => bad.push((i, false)),
        }
    }
    Ok(if bad.is_empty() { Ok(out) } else { Err(bad) })
}

async fn insert_steps(
    db: &mut PgConnection,
    summary: Uuid,
    steps: &[ResolvedStep],
) -> DbResult<()> {
    let positions: Vec<i32> = (0..steps.len() as i32).collect();
    let ids: Vec<Uuid> = steps.iter().map(|s| s.offering_id).collect();
    let versions: Vec<i32> = steps.iter().map(|s| s.offering_version).collect();
    let reasons: Vec<&str> = steps.iter().map(|s| s.reason.as_str()).collect();
    sqlx::query(
        "INSERT INTO guidance_pathway_steps (summary_id, position, offering_id, offering_version, reason)
         SELECT $1, p, o, v, r FROM unnest($2::int[], $3::uuid[], $4::int[], $5::text[]) AS s(p, o, v, r)",
    )
    .bind(summary)
    .bind(&positions)
    .bind(&ids)
    .bind(&versions)
    .bind(&reasons)
    .execute(&mut *db)
    .await?;
    Ok(())
}

pub struct NewSummary<'a> {
    pub id: Uuid,
    pub participant: Uuid,
    pub career_centre: OrgId,
    pub author: UserId,
    pub author_name: &'a str,
}

/// Creates a draft. `Conflict("guidance_summaries_one_draft")` when one is already open.
pub async fn create_draft(
    db: &mut PgConnection,
    n: &NewSummary<'_>,
    input: &GuidanceSummaryInput,
    steps: &[ResolvedStep],
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO guidance_summaries (id, participant_id, career_centre_id, author_user_id, author_name, status, content)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6)",
    )
    .bind(n.id)
    .bind(n.participant)
    .bind(n.career_centre.0)
    .bind(n.author.0)
    .bind(n.author_name)
    .bind(Json(content(input)))
    .execute(&mut *db)
    .await?;
    insert_steps(db, n.id, steps).await
}

/// Replaces a draft's content if it is still a draft at `version`.
pub async fn update_draft(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    input: &GuidanceSummaryInput,
    steps: &[ResolvedStep],
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE guidance_summaries SET content = $3, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND status = 'draft'",
    )
    .bind(id)
    .bind(version)
    .bind(Json(content(input)))
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM guidance_pathway_steps WHERE summary_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    insert_steps(db, id, steps).await?;
    Ok(true)
}

pub async fn delete_draft(db: impl PgExecutor<'_>, id: Uuid, version: i32) -> DbResult<bool> {
    let r = sqlx::query(
        "DELETE FROM guidance_summaries WHERE id = $1 AND version = $2 AND status = 'draft'",
    )
    .bind(id)
    .bind(version)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Finalises a draft at `version`; the participant's previous final summary is superseded by it.
pub async fn finalise(db: &mut PgConnection, id: Uuid, version: i32, by: UserId) -> DbResult<bool> {
    let participant: Option<Uuid> = sqlx::query_scalar(
        "SELECT participant_id FROM guidance_summaries WHERE id = $1 AND version = $2 AND status = 'draft' FOR UPDATE",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *db)
    .await?;
    let Some(participant) = participant else {
        return Ok(false);
    };
    // Lock the current final summary (if any) so two finalisations serialise.
    let previous: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM guidance_summaries
         WHERE participant_id = $1 AND status = 'final' AND superseded_by IS NULL FOR UPDATE",
    )
    .bind(participant)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(prev) = previous {
        // Point the old one at the new one before the new one becomes the current final.
        sqlx::query("UPDATE guidance_summaries SET superseded_by = $2 WHERE id = $1")
            .bind(prev)
            .bind(id)
            .execute(&mut *db)
            .await?;
    }
    sqlx::query(
        "UPDATE guidance_summaries SET status = 'final', finalised_at = now(), finalised_by = $2,
            version = version + 1, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(by.0)
    .execute(&mut *db)
    .await?;
    Ok(true)
}

#[derive(FromRow)]
struct SummaryRow {
    id: Uuid,
    participant_id: Uuid,
    career_centre_id: Uuid,
    author_name: String,
    status: String,
    content: Json<Content>,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    finalised_at: Option<OffsetDateTime>,
    superseded_by: Option<Uuid>,
}

#[derive(FromRow)]
struct StepRow {
    summary_id: Uuid,
    position: i32,
    offering_id: Uuid,
    offering_version: i32,
    key: String,
    data: Json<OfferingInput>,
    retired_now: bool,
    reason: String,
}

/// Summaries with their steps, in two queries whatever their number.
async fn load(
    db: &mut PgConnection,
    rows: Vec<SummaryRow>,
) -> DbResult<
    Vec<(
        GuidanceSummary,
        Vec<Option<handover_domain::participant::Cefr>>,
    )>,
> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let steps: Vec<StepRow> = sqlx::query_as(
        "SELECT s.summary_id, s.position, s.offering_id, s.offering_version, o.key, v.data,
                o.retired_at IS NOT NULL AS retired_now, s.reason
         FROM guidance_pathway_steps s
         JOIN catalogue_offerings o ON o.id = s.offering_id
         JOIN catalogue_offering_versions v ON v.offering_id = s.offering_id AND v.version = s.offering_version
         WHERE s.summary_id = ANY($1)
         ORDER BY s.summary_id, s.position",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let mine: Vec<&StepRow> = steps.iter().filter(|s| s.summary_id == r.id).collect();
            let prereqs = mine
                .iter()
                .map(|s| s.data.0.prerequisites.min_cefr)
                .collect();
            let pathway = mine
                .into_iter()
                .map(|s| PathwayStep {
                    position: s.position,
                    offering_id: s.offering_id,
                    offering_version: s.offering_version,
                    offering_key: s.key.clone(),
                    offering_name_nb: s.data.0.name_nb.clone(),
                    offering_name_en: s.data.0.name_en.clone(),
                    offering_retired: s.retired_now,
                    reason: s.reason.clone(),
                })
                .collect();
            let c = r.content.0;
            Ok((
                GuidanceSummary {
                    id: r.id,
                    participant_id: r.participant_id,
                    career_centre_id: OrgId(r.career_centre_id),
                    guidance_kind: "reception_centre_guidance".into(),
                    guidance_notice_nb: GUIDANCE_NOTICE_NB.into(),
                    guidance_notice_en: GUIDANCE_NOTICE_EN.into(),
                    status: parse(&r.status)?,
                    author_name: r.author_name,
                    sessions: c.sessions,
                    interests: c.interests,
                    strengths: c.strengths,
                    experience: c.experience,
                    goals_short_term: c.goals_short_term,
                    goals_long_term: c.goals_long_term,
                    pathway,
                    covered: c.covered,
                    left_for_section_11: c.left_for_section_11,
                    warnings: Vec::new(),
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    finalised_at: r.finalised_at,
                    superseded_by: r.superseded_by,
                },
                prereqs,
            ))
        })
        .collect()
}

macro_rules! summary_columns {
    () => {
        "SELECT id, participant_id, career_centre_id, author_name, status, content, version, created_at,
                updated_at, finalised_at, superseded_by FROM guidance_summaries"
    };
}

/// A summary and the `min_cefr` of each step's offering (as recommended), for warnings.
pub async fn get_summary(
    db: &mut PgConnection,
    id: Uuid,
) -> DbResult<
    Sealed<(
        GuidanceSummary,
        Vec<Option<handover_domain::participant::Cefr>>,
    )>,
> {
    get_summary_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn get_summary_unsealed(
    db: &mut PgConnection,
    id: Uuid,
) -> DbResult<(
    GuidanceSummary,
    Vec<Option<handover_domain::participant::Cefr>>,
)> {
    let row: SummaryRow = sqlx::query_as(concat!(summary_columns!(), " WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *db)
        .await?;
    load(db, vec![row]).await?.pop().ok_or(DbError::NotFound)
}

/// All summaries of a participant, oldest first.
pub async fn list_summaries(
    db: &mut PgConnection,
    participant: Uuid,
) -> DbResult<
    Sealed<
        Vec<(
            GuidanceSummary,
            Vec<Option<handover_domain::participant::Cefr>>,
        )>,
    >,
> {
    list_summaries_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn list_summaries_unsealed(
    db: &mut PgConnection,
    participant: Uuid,
) -> DbResult<
    Vec<(
        GuidanceSummary,
        Vec<Option<handover_domain::participant::Cefr>>,
    )>,
> {
    let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
        summary_columns!(),
        " WHERE participant_id = $1 ORDER BY created_at, id"
    ))
    .bind(participant)
    .fetch_all(&mut *db)
    .await?;
    load(db, rows).await
}

/// The participant's current (latest, not superseded) final summary.
pub async fn current_final(
    db: &mut PgConnection,
    participant: Uuid,
) -> DbResult<
    Sealed<
        Option<(
            GuidanceSummary,
            Vec<Option<handover_domain::participant::Cefr>>,
        )>,
    >,
> {
    current_final_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn current_final_unsealed(
    db: &mut PgConnection,
    participant: Uuid,
) -> DbResult<
    Option<(
        GuidanceSummary,
        Vec<Option<handover_domain::participant::Cefr>>,
    )>,
> {
    let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
        summary_columns!(),
        " WHERE participant_id = $1 AND status = 'final' AND superseded_by IS NULL"
    ))
    .bind(participant)
    .fetch_all(&mut *db)
    .await?;
    Ok(load(db, rows).await?.pop())
}

/// The participant a summary belongs to.
pub async fn summary_participant(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Option<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT participant_id FROM guidance_summaries WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: every fact a counsellor acts on either names where it comes from or is marked
    /// as not verified, never silently neither, and a fact is not both.
    #[test]
    fn every_shipped_fact_has_a_source_or_an_uncertain_marker() {
        let list = shipped_catalogue().unwrap();
        let (mut sourced, mut marked) = (0, 0);
        for o in &list {
            assert!(!o.sources.is_empty(), "{}: no source at all", o.key);
            for f in FACT_FIELDS {
                let has_source = !o.sources_for(f).is_empty();
                let is_marked = o.uncertain.iter().any(|u| u == f);
                assert!(
                    has_source != is_marked,
                    "{}: {f} has a source: {has_source}, is marked uncertain: {is_marked}",
                    o.key
                );
                if has_source {
                    sourced += 1;
                } else {
                    marked += 1;
                }
            }
            for s in &o.sources {
                assert!(
                    !s.note.trim().is_empty(),
                    "{}: {} says nothing",
                    o.key,
                    s.url
                );
            }
        }
        // The counts docs/guidance.md gives; change both together.
        assert_eq!((sourced, marked), (180, 107));
    }
}
