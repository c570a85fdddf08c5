//! Participants and their full-time-programme record.

use crate::disclosure::{Audited, Sealed};
use crate::error::{DbError, DbResult};
use crate::orgs::{escape_like, parse};
use crate::page::{Counted, Page};
use handover_domain::participant::*;
use handover_domain::{OrgId, UserId};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Who owns a participant, for the access decision.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub reception_centre_id: OrgId,
    /// The career centre serving that reception centre, if any.
    pub serving_career_centre_id: Option<OrgId>,
}

// A change, its history line and its audit row as one statement: atomic without a transaction,
// one round trip instead of six. `$1`..`$10` are the [`WriteLog`]; the change's own parameters
// start at `$11` and it must return `id` and `participant_id`.
macro_rules! logged {
    ($write:expr, $columns:expr) => {
        concat!(
            "WITH w AS (", $write, $columns, "),
             c AS (INSERT INTO record_changes (participant_id, actor_user_id, actor_name, section, record_id,
                                               operation, fields)
                   SELECT w.participant_id, $1, $2, $3, w.id, $4, $5 FROM w),
             a AS (INSERT INTO audit_log (actor_user_id, actor_org_id, actor_role, action, target_type, target_id,
                                          outcome, request_id, client_addr)
                   SELECT $1, $6, $7, $8, 'participant', w.participant_id, 'success', $9, $10 FROM w)
             SELECT * FROM w"
        )
    };
}

pub async fn owner(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Option<Owner>> {
    let row: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT p.reception_centre_id,
                (SELECT c.id FROM organisations c WHERE c.serves_reception_centre_id = p.reception_centre_id)
         FROM participants p WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(c, s)| Owner {
        reception_centre_id: OrgId(c),
        serving_career_centre_id: s.map(OrgId),
    }))
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    reception_centre_id: Uuid,
    given_name: String,
    family_name: String,
    date_of_birth: Date,
    duf_number: Option<String>,
    d_number: Option<String>,
    languages: Json<Vec<SpokenLanguage>>,
    interpreter_language: Option<String>,
    arrival_date: Date,
    programme_start: Option<Date>,
    programme_end: Option<Date>,
    status: String,
    notes: String,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<Row> for Participant {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Self> {
        Ok(Participant {
            id: r.id,
            reception_centre_id: OrgId(r.reception_centre_id),
            data: ParticipantInput {
                given_name: r.given_name,
                family_name: r.family_name,
                date_of_birth: r.date_of_birth,
                duf_number: r.duf_number,
                d_number: r.d_number,
                languages: r.languages.0,
                interpreter_language: r.interpreter_language,
                arrival_date: r.arrival_date,
                programme_start: r.programme_start,
                programme_end: r.programme_end,
                status: parse(&r.status)?,
                notes: Some(r.notes),
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! participant_columns {
    () => {
        "p.id, p.reception_centre_id, p.given_name, p.family_name, p.date_of_birth, p.duf_number,
         p.d_number, p.languages, p.interpreter_language, p.arrival_date, p.programme_start,
         p.programme_end, p.status, p.notes, p.version, p.created_at, p.updated_at"
    };
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Sealed<Participant>> {
    get_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn get_unsealed(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Participant> {
    let row: Row = sqlx::query_as(concat!(
        "SELECT ",
        participant_columns!(),
        " FROM participants p WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Finds a participant by DUF number or D-number among the given centres' participants.
pub async fn find_by_identifier(
    db: impl PgExecutor<'_>,
    duf_number: Option<&str>,
    d_number: Option<&str>,
    centres: &[Uuid],
) -> DbResult<Sealed<Option<Participant>>> {
    find_by_identifier_unsealed(db, duf_number, d_number, centres)
        .await
        .map(Sealed::new)
}

pub(crate) async fn find_by_identifier_unsealed(
    db: impl PgExecutor<'_>,
    duf_number: Option<&str>,
    d_number: Option<&str>,
    centres: &[Uuid],
) -> DbResult<Option<Participant>> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        participant_columns!(),
        " FROM participants p
          WHERE p.reception_centre_id = ANY($3)
            AND (($1::text IS NOT NULL AND p.duf_number = $1) OR ($2::text IS NOT NULL AND p.d_number = $2))
          LIMIT 1"
    ))
    .bind(duf_number)
    .bind(d_number)
    .bind(centres)
    .fetch_optional(db)
    .await?;
    row.map(Participant::try_from).transpose()
}

/// The participant holding a DUF number or D-number, wherever registered: only to name the
/// record a conflicting registration hit in the audit log, never to answer with.
pub async fn holder_of(
    db: impl PgExecutor<'_>,
    duf_number: Option<&str>,
    d_number: Option<&str>,
) -> DbResult<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM participants
          WHERE ($1::text IS NOT NULL AND duf_number = $1) OR ($2::text IS NOT NULL AND d_number = $2)
          LIMIT 1",
    )
    .bind(duf_number)
    .bind(d_number)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default, Clone)]
pub struct ParticipantFilter {
    /// Reception centres whose participants may be listed.
    pub centres: Vec<Uuid>,
    pub status: Option<ParticipantStatus>,
    pub arrived_from: Option<Date>,
    pub arrived_to: Option<Date>,
    /// Part of the given or family name.
    pub name: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    f: &ParticipantFilter,
) -> DbResult<Sealed<Page<Participant>>> {
    list_unsealed(db, f).await.map(Sealed::new)
}

pub(crate) async fn list_unsealed(
    db: impl PgExecutor<'_>,
    f: &ParticipantFilter,
) -> DbResult<Page<Participant>> {
    let rows: Vec<Counted<Row>> = sqlx::query_as(concat!(
        "SELECT ",
        participant_columns!(),
        ", count(*) OVER () AS total FROM participants p
         WHERE p.reception_centre_id = ANY($1)
           AND ($2::text IS NULL OR p.status = $2)
           AND ($3::date IS NULL OR p.arrival_date >= $3)
           AND ($4::date IS NULL OR p.arrival_date <= $4)
           AND ($5::text IS NULL OR (p.given_name || ' ' || p.family_name) ILIKE '%' || $5 || '%' ESCAPE '\\')
         ORDER BY lower(p.family_name), lower(p.given_name), p.id
         LIMIT $6 OFFSET $7"
    ))
    .bind(&f.centres)
    .bind(f.status.map(ParticipantStatus::as_str))
    .bind(f.arrived_from)
    .bind(f.arrived_to)
    .bind(f.name.as_deref().map(escape_like))
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(db)
    .await?;
    Page::from_counted(rows)
}

pub async fn create(
    db: impl PgExecutor<'_>,
    id: Uuid,
    centre: OrgId,
    p: &ParticipantInput,
    created_by: UserId,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO participants (id, reception_centre_id, given_name, family_name, date_of_birth,
            duf_number, d_number, languages, interpreter_language, arrival_date, programme_start,
            programme_end, status, notes, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(id)
    .bind(centre.0)
    .bind(p.given_name.trim())
    .bind(p.family_name.trim())
    .bind(p.date_of_birth)
    .bind(&p.duf_number)
    .bind(&p.d_number)
    .bind(Json(&p.languages))
    .bind(&p.interpreter_language)
    .bind(p.arrival_date)
    .bind(p.programme_start)
    .bind(p.programme_end)
    .bind(p.status.as_str())
    .bind(p.notes.as_deref().unwrap_or_default())
    .bind(created_by.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the participant's fields if the stored version is `version`; `false` otherwise.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    version: i32,
    p: &ParticipantInput,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE participants SET given_name = $3, family_name = $4, date_of_birth = $5,
            duf_number = $6, d_number = $7, languages = $8, interpreter_language = $9,
            arrival_date = $10, programme_start = $11, programme_end = $12, status = $13, notes = $14,
            version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(p.given_name.trim())
    .bind(p.family_name.trim())
    .bind(p.date_of_birth)
    .bind(&p.duf_number)
    .bind(&p.d_number)
    .bind(Json(&p.languages))
    .bind(&p.interpreter_language)
    .bind(p.arrival_date)
    .bind(p.programme_start)
    .bind(p.programme_end)
    .bind(p.status.as_str())
    .bind(p.notes.as_deref().unwrap_or_default())
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub use crate::documents::Upsert;

pub async fn get_mapping(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Option<CompetenceMapping>>> {
    get_mapping_unsealed(db, participant).await.map(Sealed::new)
}

pub(crate) async fn get_mapping_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Option<CompetenceMapping>> {
    let row: Option<(Json<CompetenceMappingInput>, String, i32, OffsetDateTime)> = sqlx::query_as(
        "SELECT data, mapped_by_name, version, updated_at FROM competence_mappings WHERE participant_id = $1",
    )
    .bind(participant)
    .fetch_optional(db)
    .await?;
    Ok(row.map(
        |(data, mapped_by_name, version, updated_at)| CompetenceMapping {
            participant_id: participant,
            data: data.0,
            mapped_by_name,
            version,
            updated_at,
        },
    ))
}

pub async fn get_norwegian(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Option<NorwegianTraining>>> {
    get_norwegian_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn get_norwegian_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Option<NorwegianTraining>> {
    let row: Option<(Json<NorwegianTrainingInput>, i32, OffsetDateTime)> = sqlx::query_as(
        "SELECT data, version, updated_at FROM norwegian_training WHERE participant_id = $1",
    )
    .bind(participant)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(data, version, updated_at)| NorwegianTraining {
        participant_id: participant,
        data: data.0,
        version,
        updated_at,
    }))
}

#[derive(FromRow)]
struct ElementRow {
    id: Uuid,
    participant_id: Uuid,
    kind: String,
    title: Option<String>,
    start_date: Date,
    end_date: Option<Date>,
    hours_planned: f64,
    hours_attended: f64,
    language_of_instruction: Option<String>,
    outcome: Option<String>,
    version: i32,
    updated_at: OffsetDateTime,
}

impl TryFrom<ElementRow> for ProgrammeElement {
    type Error = DbError;
    fn try_from(r: ElementRow) -> DbResult<Self> {
        Ok(ProgrammeElement {
            id: r.id,
            participant_id: r.participant_id,
            data: ProgrammeElementInput {
                kind: parse(&r.kind)?,
                title: r.title,
                start_date: r.start_date,
                end_date: r.end_date,
                hours_planned: r.hours_planned,
                hours_attended: r.hours_attended,
                language_of_instruction: r.language_of_instruction,
                outcome: r.outcome,
            },
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! element_columns {
    () => {
        element_columns!("")
    };
    // Prefixed with a table alias, for queries that join.
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "participant_id, ",
            $p,
            "kind, ",
            $p,
            "title, ",
            $p,
            "start_date, ",
            $p,
            "end_date, ",
            $p,
            "hours_planned, ",
            $p,
            "hours_attended, ",
            $p,
            "language_of_instruction, ",
            $p,
            "outcome, ",
            $p,
            "version, ",
            $p,
            "updated_at"
        )
    };
}

pub async fn list_elements(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Vec<ProgrammeElement>>> {
    list_elements_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn list_elements_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Vec<ProgrammeElement>> {
    let rows: Vec<ElementRow> = sqlx::query_as(concat!(
        "SELECT ",
        element_columns!(),
        " FROM programme_elements WHERE participant_id = $1 ORDER BY start_date, id"
    ))
    .bind(participant)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(ProgrammeElement::try_from).collect()
}

/// The element, if it belongs to `participant`.
pub async fn get_element(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Sealed<ProgrammeElement>> {
    get_element_unsealed(db, participant, id)
        .await
        .map(Sealed::new)
}

pub(crate) async fn get_element_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<ProgrammeElement> {
    let row: ElementRow = sqlx::query_as(concat!(
        "SELECT ",
        element_columns!(),
        " FROM programme_elements WHERE id = $1 AND participant_id = $2"
    ))
    .bind(id)
    .bind(participant)
    .fetch_one(db)
    .await?;
    row.try_into()
}

pub async fn create_element(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
    e: &ProgrammeElementInput,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO programme_elements (id, participant_id, kind, title, start_date, end_date,
            hours_planned, hours_attended, language_of_instruction, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(participant)
    .bind(e.kind.as_str())
    .bind(&e.title)
    .bind(e.start_date)
    .bind(e.end_date)
    .bind(e.hours_planned)
    .bind(e.hours_attended)
    .bind(&e.language_of_instruction)
    .bind(&e.outcome)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces an element at `version`, with its history line and audit row, in one statement;
/// `None` when the version no longer matches.
pub async fn update_element(
    db: impl PgExecutor<'_>,
    log: &WriteLog<'_>,
    participant: Uuid,
    id: Uuid,
    version: i32,
    e: &ProgrammeElementInput,
) -> DbResult<Option<(ProgrammeElement, Audited)>> {
    let row: Option<ElementRow> = log
        .bind(sqlx::query_as(logged!(
            "UPDATE programme_elements SET kind = $14, title = $15, start_date = $16, end_date = $17,
                hours_planned = $18, hours_attended = $19, language_of_instruction = $20, outcome = $21,
                version = version + 1, updated_at = now()
             WHERE id = $11 AND participant_id = $12 AND version = $13
             RETURNING ",
            element_columns!()
        )))
        .bind(id)
        .bind(participant)
        .bind(version)
        .bind(e.kind.as_str())
        .bind(&e.title)
        .bind(e.start_date)
        .bind(e.end_date)
        .bind(e.hours_planned)
        .bind(e.hours_attended)
        .bind(&e.language_of_instruction)
        .bind(&e.outcome)
        .fetch_optional(db)
        .await?;
    // The statement wrote the audit row with the change.
    row.map(|r| Ok((ProgrammeElement::try_from(r)?, Audited::new())))
        .transpose()
}

pub async fn delete_element(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
    version: i32,
) -> DbResult<bool> {
    let r = sqlx::query(
        "DELETE FROM programme_elements WHERE id = $1 AND participant_id = $2 AND version = $3",
    )
    .bind(id)
    .bind(participant)
    .bind(version)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(FromRow)]
struct PlacementRow {
    id: Uuid,
    participant_id: Uuid,
    kind: String,
    employer_name: String,
    start_date: Date,
    end_date: Option<Date>,
    hours: f64,
    tasks: String,
    employer_feedback: Option<String>,
    version: i32,
    updated_at: OffsetDateTime,
}

impl TryFrom<PlacementRow> for Placement {
    type Error = DbError;
    fn try_from(r: PlacementRow) -> DbResult<Self> {
        Ok(Placement {
            id: r.id,
            participant_id: r.participant_id,
            data: PlacementInput {
                kind: parse(&r.kind)?,
                employer_name: r.employer_name,
                start_date: r.start_date,
                end_date: r.end_date,
                hours: r.hours,
                tasks: r.tasks,
                employer_feedback: r.employer_feedback,
            },
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! placement_columns {
    () => {
        placement_columns!("")
    };
    // Prefixed with a table alias, for queries that join.
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "participant_id, ",
            $p,
            "kind, ",
            $p,
            "employer_name, ",
            $p,
            "start_date, ",
            $p,
            "end_date, ",
            $p,
            "hours, ",
            $p,
            "tasks, ",
            $p,
            "employer_feedback, ",
            $p,
            "version, ",
            $p,
            "updated_at"
        )
    };
}

pub async fn list_placements(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Vec<Placement>>> {
    list_placements_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn list_placements_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Vec<Placement>> {
    let rows: Vec<PlacementRow> = sqlx::query_as(concat!(
        "SELECT ",
        placement_columns!(),
        " FROM placements WHERE participant_id = $1 ORDER BY start_date, id"
    ))
    .bind(participant)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Placement::try_from).collect()
}

pub async fn get_placement(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Sealed<Placement>> {
    get_placement_unsealed(db, participant, id)
        .await
        .map(Sealed::new)
}

pub(crate) async fn get_placement_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Placement> {
    let row: PlacementRow = sqlx::query_as(concat!(
        "SELECT ",
        placement_columns!(),
        " FROM placements WHERE id = $1 AND participant_id = $2"
    ))
    .bind(id)
    .bind(participant)
    .fetch_one(db)
    .await?;
    row.try_into()
}

pub async fn create_placement(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
    p: &PlacementInput,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO placements (id, participant_id, kind, employer_name, start_date, end_date, hours,
            tasks, employer_feedback)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(participant)
    .bind(p.kind.as_str())
    .bind(p.employer_name.trim())
    .bind(p.start_date)
    .bind(p.end_date)
    .bind(p.hours)
    .bind(&p.tasks)
    .bind(&p.employer_feedback)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces a placement at `version`, with its history line and audit row, in one statement;
/// `None` when the version no longer matches.
pub async fn update_placement(
    db: impl PgExecutor<'_>,
    log: &WriteLog<'_>,
    participant: Uuid,
    id: Uuid,
    version: i32,
    p: &PlacementInput,
) -> DbResult<Option<(Placement, Audited)>> {
    let row: Option<PlacementRow> = log
        .bind(sqlx::query_as(logged!(
            "UPDATE placements SET kind = $14, employer_name = $15, start_date = $16, end_date = $17,
                hours = $18, tasks = $19, employer_feedback = $20, version = version + 1, updated_at = now()
             WHERE id = $11 AND participant_id = $12 AND version = $13
             RETURNING ",
            placement_columns!()
        )))
        .bind(id)
        .bind(participant)
        .bind(version)
        .bind(p.kind.as_str())
        .bind(p.employer_name.trim())
        .bind(p.start_date)
        .bind(p.end_date)
        .bind(p.hours)
        .bind(&p.tasks)
        .bind(&p.employer_feedback)
        .fetch_optional(db)
        .await?;
    // The statement wrote the audit row with the change.
    row.map(|r| Ok((Placement::try_from(r)?, Audited::new())))
        .transpose()
}

pub async fn delete_placement(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
    version: i32,
) -> DbResult<bool> {
    let r = sqlx::query(
        "DELETE FROM placements WHERE id = $1 AND participant_id = $2 AND version = $3",
    )
    .bind(id)
    .bind(participant)
    .bind(version)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The owner of participant `$1` and its child record `$2` of one kind, in one query: what an
/// edit reads before it checks access and `If-Match`. `None` when the participant does not
/// exist; the record is `None` when it does not exist or belongs to someone else.
async fn owner_and<R, T>(
    db: impl PgExecutor<'_>,
    sql: &'static str,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Option<(Owner, Option<Sealed<T>>)>>
where
    R: for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    T: TryFrom<R, Error = DbError>,
{
    use sqlx::Row;
    let Some(row) = sqlx::query(sql)
        .bind(participant)
        .bind(id)
        .fetch_optional(db)
        .await?
    else {
        return Ok(None);
    };
    let owner = Owner {
        reception_centre_id: OrgId(row.try_get("owner_centre_id")?),
        serving_career_centre_id: row
            .try_get::<Option<Uuid>, _>("owner_serving_id")?
            .map(OrgId),
    };
    let record = if row.try_get::<Option<Uuid>, _>("id")?.is_some() {
        Some(Sealed::new(T::try_from(R::from_row(&row)?)?))
    } else {
        None
    };
    Ok(Some((owner, record)))
}

macro_rules! owner_and_sql {
    ($table:literal, $columns:expr) => {
        concat!(
            "SELECT p.reception_centre_id AS owner_centre_id,
                    (SELECT c.id FROM organisations c
                      WHERE c.serves_reception_centre_id = p.reception_centre_id) AS owner_serving_id, ",
            $columns,
            " FROM participants p LEFT JOIN ", $table, " r ON r.id = $2 AND r.participant_id = p.id
              WHERE p.id = $1"
        )
    };
}

/// See [`owner_and`].
pub async fn owner_and_element(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Option<(Owner, Option<Sealed<ProgrammeElement>>)>> {
    owner_and::<ElementRow, _>(
        db,
        owner_and_sql!("programme_elements", element_columns!("r.")),
        participant,
        id,
    )
    .await
}

/// See [`owner_and`].
pub async fn owner_and_placement(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    id: Uuid,
) -> DbResult<Option<(Owner, Option<Sealed<Placement>>)>> {
    owner_and::<PlacementRow, _>(
        db,
        owner_and_sql!("placements", placement_columns!("r.")),
        participant,
        id,
    )
    .await
}

/// The history line and audit row of a change, for statements that write them together with
/// the change itself.
pub struct WriteLog<'a> {
    pub actor: UserId,
    pub actor_name: &'a str,
    pub actor_org: OrgId,
    pub actor_role: &'a str,
    pub section: &'a str,
    pub operation: &'a str,
    pub fields: &'a [&'a str],
    /// The audit action, `{section}.{operation}`.
    pub action: String,
    pub request_id: Option<&'a str>,
    pub client_addr: Option<&'a str>,
}

impl<'a> WriteLog<'a> {
    /// Binds `$1`..`$10` of a [`logged!`] statement.
    fn bind<'q, O>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(self.actor.0)
            .bind(self.actor_name)
            .bind(self.section)
            .bind(self.operation)
            .bind(self.fields)
            .bind(self.actor_org.0)
            .bind(self.actor_role)
            .bind(self.action.as_str())
            .bind(self.request_id)
            .bind(self.client_addr)
    }
}

/// One line of the record history.
pub struct Change<'a> {
    pub participant: Uuid,
    pub actor: UserId,
    pub actor_name: &'a str,
    pub section: &'a str,
    pub record_id: Uuid,
    pub operation: &'a str,
    pub fields: &'a [&'a str],
}

pub async fn record_change(db: impl PgExecutor<'_>, c: &Change<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO record_changes (participant_id, actor_user_id, actor_name, section, record_id, operation, fields)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.participant)
    .bind(c.actor.0)
    .bind(c.actor_name)
    .bind(c.section)
    .bind(c.record_id)
    .bind(c.operation)
    .bind(c.fields)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct ChangeRow {
    at: OffsetDateTime,
    actor_name: String,
    section: String,
    record_id: Uuid,
    operation: String,
    fields: Vec<String>,
}

impl From<ChangeRow> for RecordChange {
    fn from(r: ChangeRow) -> Self {
        RecordChange {
            at: r.at,
            actor_name: r.actor_name,
            section: r.section,
            record_id: r.record_id,
            operation: r.operation,
            fields: r.fields,
        }
    }
}

pub async fn history(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    limit: i64,
    offset: i64,
) -> DbResult<Sealed<Page<RecordChange>>> {
    history_unsealed(db, participant, limit, offset)
        .await
        .map(Sealed::new)
}

pub(crate) async fn history_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    limit: i64,
    offset: i64,
) -> DbResult<Page<RecordChange>> {
    let rows: Vec<Counted<ChangeRow>> = sqlx::query_as(
        "SELECT at, actor_name, section, record_id, operation, fields, count(*) OVER () AS total
         FROM record_changes WHERE participant_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(participant)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Page::from_counted(rows)
}

/// The whole record in a fixed number of queries (no N+1).
pub async fn record(db: &mut PgConnection, participant: Uuid) -> DbResult<Sealed<ProgrammeRecord>> {
    record_unsealed(db, participant).await.map(Sealed::new)
}

pub(crate) async fn record_unsealed(
    db: &mut PgConnection,
    participant: Uuid,
) -> DbResult<ProgrammeRecord> {
    let p = get_unsealed(&mut *db, participant).await?;
    let competence_mapping = get_mapping_unsealed(&mut *db, participant).await?;
    let norwegian_training = get_norwegian_unsealed(&mut *db, participant).await?;
    let programme_elements = list_elements_unsealed(&mut *db, participant).await?;
    let placements = list_placements_unsealed(&mut *db, participant).await?;
    let last: Option<(OffsetDateTime, String)> = sqlx::query_as(
        "SELECT at, actor_name FROM record_changes
         WHERE participant_id = $1
           AND section IN ('participant', 'competence_mapping', 'norwegian_training', 'programme_element', 'placement')
         ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(participant)
    .fetch_optional(&mut *db)
    .await?;
    let attendance = attendance(
        programme_elements
            .iter()
            .map(|e| (e.data.kind, e.data.hours_planned, e.data.hours_attended)),
    );
    Ok(ProgrammeRecord {
        participant: p,
        competence_mapping,
        norwegian_training,
        programme_elements,
        placements,
        attendance,
        last_updated_at: last.as_ref().map(|l| l.0),
        last_updated_by: last.map(|l| l.1),
    })
}

/// A participant whose settlement date is near and who has no handover sent yet.
#[derive(Debug, Clone, FromRow)]
pub struct SettlingSoon {
    pub participant_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub settlement_date: Date,
    pub municipality_name: String,
    /// `draft` when a handover has been started but not sent; `None` when none exists.
    pub handover_state: Option<String>,
}

/// Participants of `centres` settling between `from` and `to` (oldest date first) without a
/// handover that was sent (a draft or none), at most `limit`.
pub async fn settling_soon(
    db: impl PgExecutor<'_>,
    centres: &[Uuid],
    from: Date,
    to: Date,
    limit: i64,
) -> DbResult<Sealed<Vec<SettlingSoon>>> {
    let rows: Vec<SettlingSoon> = sqlx::query_as(
        "SELECT p.id AS participant_id, p.given_name, p.family_name, s.settlement_date,
                o.name AS municipality_name,
                (SELECT h.state FROM handovers h
                  WHERE h.participant_id = p.id AND h.state = 'draft' LIMIT 1) AS handover_state
         FROM participants p
         JOIN settlements s ON s.participant_id = p.id
         JOIN organisations o ON o.id = s.municipality_id
         WHERE p.reception_centre_id = ANY($1)
           AND s.settlement_date BETWEEN $2 AND $3
           AND NOT EXISTS (SELECT 1 FROM handovers h
                            WHERE h.participant_id = p.id
                              AND h.state NOT IN ('draft', 'cancelled'))
         ORDER BY s.settlement_date, p.id
         LIMIT $4",
    )
    .bind(centres)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(Sealed::new(rows))
}

/// A handover file that reached a municipality, as an erasure withdraws it.
#[derive(Debug, Clone, FromRow)]
pub struct SentHandover {
    pub id: Uuid,
    pub reference: String,
    pub municipality_id: Uuid,
}

/// Locks the participant for an erasure at the version the caller saw: None if it is gone, the
/// current version otherwise (the caller compares).
pub async fn lock_for_erasure(db: &mut PgConnection, id: Uuid) -> DbResult<Option<i32>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM participants WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?,
    )
}

/// The participant's handovers whose file was sent: their municipalities hold (or held) it.
pub async fn sent_handovers(db: &mut PgConnection, id: Uuid) -> DbResult<Vec<SentHandover>> {
    Ok(sqlx::query_as(
        "SELECT id, reference, municipality_id FROM handovers
         WHERE participant_id = $1 AND sent_at IS NOT NULL ORDER BY sent_at",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?)
}

/// What the centre documents about an erasure.
#[derive(Debug, Clone)]
pub struct ErasureRecord {
    pub id: Uuid,
    pub participant_id: Uuid,
    pub reception_centre_id: Uuid,
    pub ground: ErasureGround,
    pub request_received_on: Date,
    pub erased_by: UserId,
    pub handovers_withdrawn: i32,
    pub recipients_notified: i32,
}

/// Deletes the participant with everything that hangs off them (the same cascade as
/// retention), and keeps the erasure's documentation. The caller holds the row lock of
/// [`lock_for_erasure`].
pub async fn erase(db: &mut PgConnection, e: &ErasureRecord) -> DbResult<OffsetDateTime> {
    sqlx::query("DELETE FROM participants WHERE id = $1")
        .bind(e.participant_id)
        .execute(&mut *db)
        .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO participant_erasures (id, participant_id, reception_centre_id, ground,
            request_received_on, erased_by, handovers_withdrawn, recipients_notified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING erased_at",
    )
    .bind(e.id)
    .bind(e.participant_id)
    .bind(e.reception_centre_id)
    .bind(e.ground.as_str())
    .bind(e.request_received_on)
    .bind(e.erased_by.0)
    .bind(e.handovers_withdrawn)
    .bind(e.recipients_notified)
    .fetch_one(&mut *db)
    .await?)
}
