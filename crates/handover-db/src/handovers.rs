//! Settlement, consent, adaptation needs and handovers.

use crate::disclosure::{Audited, Sealed};
use crate::error::{DbError, DbResult};
use crate::orgs::parse;
use crate::page::{Counted, Page};
use handover_domain::handover::*;
use handover_domain::{OrgId, UserId};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

type SettlementRow = (
    Uuid,
    Date,
    Json<Vec<Contact>>,
    i32,
    OffsetDateTime,
    String,
    Option<String>,
);
type TransitionRow = (
    Option<String>,
    String,
    String,
    OffsetDateTime,
    String,
    Option<Uuid>,
    Option<String>,
);

pub async fn get_settlement(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Option<Settlement>>> {
    get_settlement_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn get_settlement_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Option<Settlement>> {
    let row: Option<SettlementRow> = sqlx::query_as(
        "SELECT s.municipality_id, s.settlement_date, s.contacts, s.version, s.updated_at, o.name, o.municipality_number
         FROM settlements s JOIN organisations o ON o.id = s.municipality_id WHERE s.participant_id = $1",
    )
    .bind(participant)
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(m, d, c, version, updated_at, name, number)| Settlement {
            participant_id: participant,
            data: SettlementInput {
                municipality_id: OrgId(m),
                settlement_date: d,
                contacts: c.0,
            },
            municipality_name: name,
            municipality_number: number,
            version,
            updated_at,
        }),
    )
}

#[derive(FromRow)]
struct ConsentRow {
    id: Uuid,
    participant_id: Uuid,
    sections: Vec<String>,
    given_on: Date,
    method: String,
    language: String,
    interpreter_present: bool,
    recorded_by_name: String,
    recorded_at: OffsetDateTime,
    withdrawn_at: Option<OffsetDateTime>,
    withdrawn_by_name: Option<String>,
    withdrawal_note: Option<String>,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = DbError;
    fn try_from(r: ConsentRow) -> DbResult<Self> {
        Ok(Consent {
            id: r.id,
            participant_id: r.participant_id,
            data: ConsentInput {
                sections: r
                    .sections
                    .iter()
                    .map(|s| parse(s))
                    .collect::<DbResult<_>>()?,
                given_on: r.given_on,
                method: parse(&r.method)?,
                language: r.language,
                interpreter_present: r.interpreter_present,
            },
            recorded_by_name: r.recorded_by_name,
            recorded_at: r.recorded_at,
            withdrawn_at: r.withdrawn_at,
            withdrawn_by_name: r.withdrawn_by_name,
            withdrawal_note: r.withdrawal_note,
        })
    }
}

macro_rules! consent_select {
    () => {
        "SELECT id, participant_id, sections, given_on, method, language, interpreter_present, recorded_by_name,
                recorded_at, withdrawn_at, withdrawn_by_name, withdrawal_note FROM consents"
    };
}

/// A participant's consent decisions, oldest first.
pub async fn consents(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Vec<Consent>>> {
    consents_unsealed(db, participant).await.map(Sealed::new)
}

pub(crate) async fn consents_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Vec<Consent>> {
    let rows: Vec<ConsentRow> = sqlx::query_as(concat!(
        consent_select!(),
        " WHERE participant_id = $1 ORDER BY recorded_at, id"
    ))
    .bind(participant)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Consent::try_from).collect()
}

pub async fn get_consent(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Sealed<Consent>> {
    get_consent_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn get_consent_unsealed(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Consent> {
    let row: ConsentRow = sqlx::query_as(concat!(consent_select!(), " WHERE id = $1"))
        .bind(id)
        .fetch_one(db)
        .await?;
    row.try_into()
}

pub async fn create_consent(
    db: impl PgExecutor<'_>,
    id: Uuid,
    participant: Uuid,
    c: &ConsentInput,
    by: UserId,
    by_name: &str,
) -> DbResult<()> {
    let sections: Vec<&str> = c.sections.iter().map(|s| s.as_str()).collect();
    sqlx::query(
        "INSERT INTO consents (id, participant_id, sections, given_on, method, language, interpreter_present,
                               recorded_by, recorded_by_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(participant)
    .bind(&sections)
    .bind(c.given_on)
    .bind(c.method.as_str())
    .bind(&c.language)
    .bind(c.interpreter_present)
    .bind(by.0)
    .bind(by_name)
    .execute(db)
    .await?;
    Ok(())
}

/// Withdraws a consent; `false` when it was already withdrawn.
pub async fn withdraw_consent(
    db: impl PgExecutor<'_>,
    id: Uuid,
    by_name: &str,
    note: Option<&str>,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE consents SET withdrawn_at = now(), withdrawn_by_name = $2, withdrawal_note = $3
         WHERE id = $1 AND withdrawn_at IS NULL",
    )
    .bind(id)
    .bind(by_name)
    .bind(note)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes, from every stored file version of the participant, the content of sections shared
/// under this consent: after a withdrawal it is not kept, not only not shown.
pub async fn purge_consented_content(
    db: impl PgExecutor<'_>,
    participant: Uuid,
    consent: Uuid,
) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE handover_files f
         SET snapshot = jsonb_set(f.snapshot::jsonb, '{sections}', (
             SELECT jsonb_agg(CASE WHEN s->>'consent_id' = $2::text
                                   THEN s || '{\"content\": null}'::jsonb ELSE s END ORDER BY ord)
             FROM jsonb_array_elements(f.snapshot::jsonb->'sections') WITH ORDINALITY AS x(s, ord)))::json
         FROM handovers h
         WHERE h.id = f.handover_id AND h.participant_id = $1
           AND f.snapshot::jsonb->'sections' @> jsonb_build_array(jsonb_build_object('consent_id', $2::text))",
    )
    .bind(participant)
    .bind(consent)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

pub async fn get_adaptation(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Option<AdaptationNeeds>>> {
    get_adaptation_unsealed(db, participant)
        .await
        .map(Sealed::new)
}

pub(crate) async fn get_adaptation_unsealed(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Option<AdaptationNeeds>> {
    let row: Option<(Json<AdaptationNeedsInput>, i32, OffsetDateTime)> = sqlx::query_as(
        "SELECT data, version, updated_at FROM adaptation_needs WHERE participant_id = $1",
    )
    .bind(participant)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(d, version, updated_at)| AdaptationNeeds {
        participant_id: participant,
        data: d.0,
        version,
        updated_at,
    }))
}

#[derive(FromRow)]
struct HandoverRow {
    id: Uuid,
    reference: String,
    participant_id: Uuid,
    reception_centre_id: Uuid,
    reception_centre_name: String,
    municipality_id: Uuid,
    municipality_name: String,
    state: String,
    participant_display_name: Option<String>,
    settlement_date: Option<Date>,
    latest_file_version: i32,
    sent_at: Option<OffsetDateTime>,
    recipient_opened_version: i32,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<HandoverRow> for Handover {
    type Error = DbError;
    fn try_from(r: HandoverRow) -> DbResult<Self> {
        Ok(Handover {
            id: r.id,
            reference: r.reference,
            participant_id: r.participant_id,
            reception_centre_id: OrgId(r.reception_centre_id),
            reception_centre_name: r.reception_centre_name,
            municipality_id: OrgId(r.municipality_id),
            municipality_name: r.municipality_name,
            state: parse(&r.state)?,
            participant_name: r.participant_display_name,
            settlement_date: r.settlement_date,
            latest_file_version: r.latest_file_version,
            sent_at: r.sent_at,
            recipient_opened_version: r.recipient_opened_version,
            unread: r.latest_file_version > r.recipient_opened_version,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! handover_select {
    () => {
        handover_select!(
            "(SELECT o.name FROM organisations o WHERE o.id = h.reception_centre_id)",
            "(SELECT o.name FROM organisations o WHERE o.id = h.municipality_id)"
        )
    };
    ($centre_name:literal, $municipality_name:literal) => {
        concat!(
            "SELECT h.id, h.reference, h.participant_id, h.reception_centre_id, ",
            $centre_name,
            " AS reception_centre_name, h.municipality_id, ",
            $municipality_name,
            " AS municipality_name,
                h.state, h.participant_display_name,
                h.settlement_date, h.latest_file_version, h.sent_at, h.recipient_opened_version, h.version,
                h.created_at, h.updated_at"
        )
    };
}
// Names come from primary-key subqueries, not joins: with generic plans the planner guessed one
// row and joined by scanning organisations once per handover (20 ms for an inbox at 10x volume).
macro_rules! handover_from {
    () => {
        " FROM handovers h"
    };
}

/// What decisions about a handover rest on (no participant data: see [`HandoverHead`]).
pub async fn head(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<HandoverHead> {
    get_unsealed(db, id).await.map(|h| HandoverHead::from(&h))
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Sealed<Handover>> {
    get_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn get_unsealed(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Handover> {
    let row: HandoverRow = sqlx::query_as(concat!(
        handover_select!(),
        handover_from!(),
        " WHERE h.id = $1"
    ))
    .bind(id)
    .fetch_one(db)
    .await?;
    row.try_into()
}

/// Which handovers a list shows.
#[derive(Debug, Clone, Default)]
pub struct HandoverFilter {
    pub reception_centre: Option<OrgId>,
    /// The municipality's inbox: never drafts.
    pub municipality: Option<OrgId>,
    pub participant: Option<Uuid>,
    pub state: Option<HandoverState>,
    pub settlement_from: Option<Date>,
    pub settlement_to: Option<Date>,
    pub unread: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

// A list's scope is one organisation (`$1`), so its own name is one uncorrelated subquery that
// PostgreSQL evaluates once per statement (an InitPlan) instead of once per row: half the name
// lookups of an inbox page of 50.
macro_rules! scoped_select {
    (municipality) => {
        handover_select!(
            "(SELECT o.name FROM organisations o WHERE o.id = h.reception_centre_id)",
            "(SELECT o.name FROM organisations o WHERE o.id = $1)"
        )
    };
    (centre) => {
        handover_select!(
            "(SELECT o.name FROM organisations o WHERE o.id = $1)",
            "(SELECT o.name FROM organisations o WHERE o.id = h.municipality_id)"
        )
    };
    (participant) => {
        handover_select!()
    };
}

macro_rules! handover_list {
    ($who:ident, $scope:literal) => {
        concat!(
            scoped_select!($who),
            ", count(*) OVER () AS total",
            handover_from!(),
            " WHERE ",
            $scope,
            " AND ($2::text IS NULL OR h.state = $2)
              AND ($3::date IS NULL OR h.settlement_date >= $3)
              AND ($4::date IS NULL OR h.settlement_date <= $4)
              AND ($5::boolean IS NULL OR (h.latest_file_version > h.recipient_opened_version) = $5)
              AND ($6::uuid IS NULL OR h.participant_id = $6)
            ORDER BY h.sent_at DESC NULLS FIRST, h.created_at DESC, h.id
            LIMIT $7 OFFSET $8"
        )
    };
}

/// Handovers of a municipality's inbox (sent ones only), of a reception centre, or of one
/// participant. The scope is a plain condition on an indexed column in each query, so the
/// prepared statement's generic plan uses the index.
pub async fn list(db: impl PgExecutor<'_>, f: &HandoverFilter) -> DbResult<Sealed<Page<Handover>>> {
    list_unsealed(db, f).await.map(Sealed::new)
}

pub(crate) async fn list_unsealed(
    db: impl PgExecutor<'_>,
    f: &HandoverFilter,
) -> DbResult<Page<Handover>> {
    let (sql, scope) = scoped(
        f,
        [
            handover_list!(
                municipality,
                "h.municipality_id = $1 AND h.latest_file_version > 0"
            ),
            handover_list!(centre, "h.reception_centre_id = $1"),
            handover_list!(participant, "h.participant_id = $1"),
        ],
    );
    let rows: Vec<Counted<HandoverRow>> = bind_filter(sqlx::query_as(sql), scope, f)
        .fetch_all(db)
        .await?;
    Page::from_counted(rows)
}

/// The list statement for the filter's scope (municipality, centre or participant) and the
/// scope's id.
fn scoped(f: &HandoverFilter, sql: [&'static str; 3]) -> (&'static str, Option<Uuid>) {
    match (f.municipality, f.reception_centre) {
        (Some(m), _) => (sql[0], Some(m.0)),
        (None, Some(c)) => (sql[1], Some(c.0)),
        (None, None) => (sql[2], f.participant),
    }
}

/// Binds `$1`..`$8` of a [`handover_list!`] statement.
fn bind_filter<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    scope: Option<Uuid>,
    f: &'q HandoverFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(scope)
        .bind(f.state.map(HandoverState::as_str))
        .bind(f.settlement_from)
        .bind(f.settlement_to)
        .bind(f.unread)
        .bind(f.participant)
        .bind(f.limit)
        .bind(f.offset)
}

// The page and the audit row naming the participants on it, as one statement: one round trip
// less, and the row exists exactly when the page was read. `$9`..`$16` are the audit event.
macro_rules! handover_list_audited {
    ($who:ident, $scope:literal) => {
        concat!(
            "WITH page AS MATERIALIZED (",
            handover_list!($who, $scope),
            "), a AS (
               INSERT INTO audit_log (actor_user_id, actor_org_id, actor_role, action, target_type,
                                      target_ids, outcome, request_id, client_addr)
               SELECT $9, $10, $11, $12, $13, array_agg(participant_id), $14, $15, $16
               FROM page HAVING count(*) > 0)
             SELECT * FROM page ORDER BY sent_at DESC NULLS FIRST, created_at DESC, id"
        )
    };
}

/// [`list`], writing in the same statement one audit row (`e`, with `target_ids`) naming the
/// participants shown; none when the page is empty.
pub async fn list_audited(
    db: impl PgExecutor<'_>,
    f: &HandoverFilter,
    e: &crate::audit::AuditEvent<'_>,
) -> DbResult<(Page<Handover>, Audited)> {
    let (sql, scope) = scoped(
        f,
        [
            handover_list_audited!(
                municipality,
                "h.municipality_id = $1 AND h.latest_file_version > 0"
            ),
            handover_list_audited!(centre, "h.reception_centre_id = $1"),
            handover_list_audited!(participant, "h.participant_id = $1"),
        ],
    );
    let rows: Vec<Counted<HandoverRow>> = bind_filter(sqlx::query_as(sql), scope, f)
        .bind(e.actor_user_id.map(|u| u.0))
        .bind(e.actor_org_id.map(|o| o.0))
        .bind(e.actor_role)
        .bind(e.action)
        .bind(e.target_type)
        .bind(e.outcome)
        .bind(e.request_id)
        .bind(e.client_addr)
        .fetch_all(db)
        .await?;
    // The statement wrote the audit row with the page.
    Ok((Page::from_counted(rows)?, Audited::new()))
}

pub async fn next_reference(db: impl PgExecutor<'_>) -> DbResult<String> {
    let (n, year): (i64, i32) =
        sqlx::query_as("SELECT nextval('handover_reference_seq'), extract(year FROM now())::int")
            .fetch_one(db)
            .await?;
    Ok(format!("HO-{year}-{n:06}"))
}

pub struct NewHandover<'a> {
    pub id: Uuid,
    pub reference: &'a str,
    pub participant: Uuid,
    pub reception_centre: OrgId,
    pub municipality: OrgId,
    pub settlement_date: Option<Date>,
    pub created_by: UserId,
}

pub async fn create(db: impl PgExecutor<'_>, n: &NewHandover<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO handovers (id, reference, participant_id, reception_centre_id, municipality_id, state,
                                settlement_date, created_by)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7)",
    )
    .bind(n.id)
    .bind(n.reference)
    .bind(n.participant)
    .bind(n.reception_centre.0)
    .bind(n.municipality.0)
    .bind(n.settlement_date)
    .bind(n.created_by.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Who did something to a handover.
pub struct Actor<'a> {
    pub user: UserId,
    pub name: &'a str,
    pub org: OrgId,
}

/// Moves a handover from `from` to `to` if it is still in `from` at `version`, and records the
/// transition. `false` when it changed meanwhile.
/// A state change.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub from: HandoverState,
    pub to: HandoverState,
    pub event: HandoverEvent,
}

pub async fn apply(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    m: Move,
    actor: &Actor<'_>,
    reason: Option<&str>,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE handovers SET state = $4, version = version + 1, updated_at = now(),
            closed_at = CASE WHEN $4 IN ('completed', 'cancelled', 'declined') THEN now() ELSE closed_at END
         WHERE id = $1 AND version = $2 AND state = $3",
    )
    .bind(id)
    .bind(version)
    .bind(m.from.as_str())
    .bind(m.to.as_str())
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO handover_transitions (handover_id, from_state, to_state, event, actor_user_id, actor_name, actor_org_id, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(m.from.as_str())
    .bind(m.to.as_str())
    .bind(m.event.as_str())
    .bind(actor.user.0)
    .bind(actor.name)
    .bind(actor.org.0)
    .bind(reason)
    .execute(&mut *db)
    .await?;
    Ok(true)
}

/// Records the creation of a draft in the history.
pub async fn record_created(db: impl PgExecutor<'_>, id: Uuid, actor: &Actor<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO handover_transitions (handover_id, from_state, to_state, event, actor_user_id, actor_name, actor_org_id)
         VALUES ($1, NULL, 'draft', 'create', $2, $3, $4)",
    )
    .bind(id)
    .bind(actor.user.0)
    .bind(actor.name)
    .bind(actor.org.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Stores a new frozen file version and the inbox columns derived from it.
/// A file version to store.
pub struct NewFile<'a> {
    pub file_version: i32,
    pub snapshot: &'a serde_json::Value,
    pub section_hashes: &'a serde_json::Value,
    pub sent_by: UserId,
    pub display_name: Option<&'a str>,
    pub settlement_date: Option<Date>,
}

pub async fn add_file(db: &mut PgConnection, id: Uuid, f: &NewFile<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO handover_files (handover_id, file_version, snapshot, section_hashes, sent_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(f.file_version)
    .bind(Json(f.snapshot))
    .bind(Json(f.section_hashes))
    .bind(f.sent_by.0)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "UPDATE handovers SET latest_file_version = $2, sent_at = now(), participant_display_name = $3,
            settlement_date = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.file_version)
    .bind(f.display_name)
    .bind(f.settlement_date)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A stored file version, its snapshot decoded straight into the caller's type.
pub struct StoredFile<T> {
    pub file_version: i32,
    pub snapshot: T,
    pub section_hashes: serde_json::Value,
    pub sent_at: OffsetDateTime,
}

/// What a file fetch reads.
pub struct FileBundle<T> {
    pub handover: Sealed<Handover>,
    /// The latest file and the section hashes of the version the municipality last opened;
    /// `None` before the first sending.
    pub file: Option<Sealed<(StoredFile<T>, Option<serde_json::Value>)>>,
    /// The participant's withdrawn consents, with when.
    pub withdrawn: Vec<(Uuid, OffsetDateTime)>,
}

/// Everything file fetches read, in one query for many of them: per `(handover, version)`
/// asked, in order, the handover, its latest file (or the sent version asked for), the hashes to
/// compare with, and the withdrawn consents (`None` where the handover does not exist).
pub async fn file_bundles<T: serde::de::DeserializeOwned + Send + Unpin + 'static>(
    db: impl PgExecutor<'_>,
    wanted: &[(Uuid, Option<i32>)],
) -> DbResult<Vec<Option<FileBundle<T>>>> {
    use sqlx::Row;
    let ids: Vec<Uuid> = wanted.iter().map(|w| w.0).collect();
    let versions: Vec<Option<i32>> = wanted.iter().map(|w| w.1).collect();
    let rows = sqlx::query(concat!(
        handover_select!(),
        ", w.ord, f.file_version AS file_version, f.snapshot, f.section_hashes, f.sent_at AS file_sent_at,
           (SELECT p.section_hashes FROM handover_files p
             WHERE p.handover_id = h.id AND p.file_version = h.recipient_opened_version) AS previous_hashes,
           ARRAY(SELECT c.id FROM consents c
                  WHERE c.participant_id = h.participant_id AND c.withdrawn_at IS NOT NULL
                  ORDER BY c.id) AS withdrawn_ids,
           ARRAY(SELECT c.withdrawn_at FROM consents c
                  WHERE c.participant_id = h.participant_id AND c.withdrawn_at IS NOT NULL
                  ORDER BY c.id) AS withdrawn_ats
         FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS w(id, version, ord)
         JOIN handovers h ON h.id = w.id
         LEFT JOIN LATERAL (SELECT file_version, snapshot, section_hashes, sent_at FROM handover_files
                             WHERE handover_id = h.id AND (w.version IS NULL OR file_version = w.version)
                             ORDER BY file_version DESC LIMIT 1) f ON true"
    ))
    .bind(ids)
    .bind(versions)
    .fetch_all(db)
    .await?;
    let mut out: Vec<Option<FileBundle<T>>> = wanted.iter().map(|_| None).collect();
    for row in rows {
        let ord: i64 = row.try_get("ord")?;
        let slot = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| out.get_mut(i))
            .ok_or(DbError::NotFound)?;
        *slot = Some(bundle_from_row(&row)?);
    }
    Ok(out)
}

fn bundle_from_row<T: serde::de::DeserializeOwned>(
    row: &sqlx::postgres::PgRow,
) -> DbResult<FileBundle<T>> {
    use sqlx::Row;
    let handover: Sealed<Handover> = Sealed::new(HandoverRow::from_row(row)?.try_into()?);
    let file = match row.try_get::<Option<i32>, _>("file_version")? {
        None => None,
        Some(file_version) => {
            let snapshot: Json<T> = row.try_get("snapshot")?;
            let hashes: Json<serde_json::Value> = row.try_get("section_hashes")?;
            let previous: Option<Json<serde_json::Value>> = row.try_get("previous_hashes")?;
            Some(Sealed::new((
                StoredFile {
                    file_version,
                    snapshot: snapshot.0,
                    section_hashes: hashes.0,
                    sent_at: row.try_get("file_sent_at")?,
                },
                previous.map(|p| p.0),
            )))
        }
    };
    let ids: Vec<Uuid> = row.try_get("withdrawn_ids")?;
    let ats: Vec<OffsetDateTime> = row.try_get("withdrawn_ats")?;
    Ok(FileBundle {
        handover,
        file,
        withdrawn: ids.into_iter().zip(ats).collect(),
    })
}

/// Records a reading of a file in one statement (one round trip, atomic): the audit row, and for
/// the municipality the opening and its latest opened version.
pub async fn record_file_read(
    db: impl PgExecutor<'_>,
    id: Uuid,
    file_version: i32,
    opener: Option<&Actor<'_>>,
    audit: &crate::audit::AuditEvent<'_>,
) -> DbResult<Audited> {
    let read = FileRead::new(id, file_version, opener, audit);
    let mut proofs = record_file_reads(db, std::slice::from_ref(&read)).await?;
    proofs.pop().ok_or(DbError::NotFound)
}

/// One reading of a file, owned, for [`record_file_reads`].
#[derive(Debug, Clone)]
pub struct FileRead {
    pub handover_id: Uuid,
    pub file_version: i32,
    /// The municipality's reader: an opening is recorded.
    pub opener: Option<(UserId, String, OrgId)>,
    pub actor_user_id: Option<UserId>,
    pub actor_org_id: Option<OrgId>,
    pub actor_role: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl FileRead {
    pub fn new(
        id: Uuid,
        file_version: i32,
        opener: Option<&Actor<'_>>,
        audit: &crate::audit::AuditEvent<'_>,
    ) -> FileRead {
        FileRead {
            handover_id: id,
            file_version,
            opener: opener.map(|a| (a.user, a.name.to_owned(), a.org)),
            actor_user_id: audit.actor_user_id,
            actor_org_id: audit.actor_org_id,
            actor_role: audit.actor_role.map(str::to_owned),
            action: audit.action.to_owned(),
            target_type: audit.target_type.map(str::to_owned),
            target_id: audit.target_id,
            outcome: audit.outcome.to_owned(),
            request_id: audit.request_id.map(str::to_owned),
            client_addr: audit.client_addr.map(str::to_owned),
        }
    }
}

/// Records many readings in one statement (the readings of concurrent requests): every audit
/// row, every opening, and each handover's latest opened version. All or nothing.
pub async fn record_file_reads(
    db: impl PgExecutor<'_>,
    reads: &[FileRead],
) -> DbResult<Vec<Audited>> {
    fn col<T>(reads: &[FileRead], f: impl Fn(&FileRead) -> T) -> Vec<T> {
        reads.iter().map(f).collect()
    }
    sqlx::query(
        "WITH k AS (
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::uuid[],
                                 $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::text[],
                                 $11::uuid[], $12::text[], $13::text[], $14::text[])
              AS k(handover_id, file_version, opener_id, opener_name, opener_org,
                   actor_user_id, actor_org_id, actor_role, action, target_type,
                   target_id, outcome, request_id, client_addr)
         ), o AS (
            INSERT INTO handover_opens (handover_id, file_version, user_id, user_name, org_id)
            SELECT handover_id, file_version, opener_id, opener_name, opener_org
            FROM k WHERE opener_id IS NOT NULL
         ), u AS (
            UPDATE handovers h SET recipient_opened_version = m.v
            FROM (SELECT handover_id, max(file_version) AS v FROM k
                  WHERE opener_id IS NOT NULL GROUP BY handover_id) m
            WHERE h.id = m.handover_id AND h.recipient_opened_version < m.v
         )
         INSERT INTO audit_log (actor_user_id, actor_org_id, actor_role, action, target_type,
                                target_id, outcome, request_id, client_addr)
         SELECT actor_user_id, actor_org_id, actor_role, action, target_type, target_id,
                outcome, request_id, client_addr FROM k",
    )
    .bind(col(reads, |r| r.handover_id))
    .bind(col(reads, |r| r.file_version))
    .bind(col(reads, |r| r.opener.as_ref().map(|o| o.0.0)))
    .bind(col(reads, |r| r.opener.as_ref().map(|o| o.1.clone())))
    .bind(col(reads, |r| r.opener.as_ref().map(|o| o.2.0)))
    .bind(col(reads, |r| r.actor_user_id.map(|u| u.0)))
    .bind(col(reads, |r| r.actor_org_id.map(|o| o.0)))
    .bind(col(reads, |r| r.actor_role.clone()))
    .bind(col(reads, |r| r.action.clone()))
    .bind(col(reads, |r| r.target_type.clone()))
    .bind(col(reads, |r| r.target_id))
    .bind(col(reads, |r| r.outcome.clone()))
    .bind(col(reads, |r| r.request_id.clone()))
    .bind(col(reads, |r| r.client_addr.clone()))
    .execute(db)
    .await?;
    Ok(reads.iter().map(|_| Audited::new()).collect())
}

pub async fn transitions(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Vec<Transition>> {
    let rows: Vec<TransitionRow> = sqlx::query_as(
        "SELECT from_state, to_state, event, at, actor_name, actor_org_id, reason
         FROM handover_transitions WHERE handover_id = $1 AND event <> 'create' ORDER BY id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(from, to, event, at, actor_name, org, reason)| {
            Ok(Transition {
                from_state: from.map(|f| parse(&f)).transpose()?,
                to_state: parse(&to)?,
                event: parse(&event)?,
                at,
                actor_name,
                actor_organisation_id: org.map(OrgId),
                reason,
            })
        })
        .collect()
}

pub async fn openings(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Vec<Opening>> {
    let rows: Vec<(i32, OffsetDateTime, String, Option<Uuid>)> =
        sqlx::query_as("SELECT file_version, at, user_name, org_id FROM handover_opens WHERE handover_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(file_version, at, user_name, org)| Opening {
            file_version,
            at,
            user_name,
            organisation_id: org.map(OrgId),
        })
        .collect())
}

/// Version, sent at, sender's name, count of missing items, reason for sending anyway.
type SentRow = (
    i32,
    OffsetDateTime,
    Option<String>,
    Option<i32>,
    Option<String>,
);

/// The file versions sent, oldest first; read from each frozen snapshot, so a later rename of
/// the sender does not change who sent it.
pub async fn sent_versions(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> DbResult<Vec<handover_domain::handover::SentVersion>> {
    let rows: Vec<SentRow> = sqlx::query_as(
        "SELECT file_version, sent_at, snapshot->>'sent_by_name',
                    CASE WHEN json_typeof(snapshot->'missing') = 'array'
                         THEN json_array_length(snapshot->'missing') ELSE 0 END,
                    snapshot->>'missing_reason'
             FROM handover_files WHERE handover_id = $1 ORDER BY file_version",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(file_version, sent_at, by, missing, reason)| {
            handover_domain::handover::SentVersion {
                file_version,
                sent_at,
                sent_by_name: by.unwrap_or_default(),
                missing_items: missing.unwrap_or(0),
                missing_reason: reason,
            }
        })
        .collect())
}

/// E-mail addresses of the active users with `role` in `org`.
pub async fn staff_emails(
    db: impl PgExecutor<'_>,
    org: OrgId,
    role: &str,
) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT email FROM users WHERE organisation_id = $1 AND role = $2 AND active ORDER BY email")
        .bind(org.0)
        .bind(role)
        .fetch_all(db)
        .await?)
}

/// Every file version of a handover, oldest first (for a participant's data export).
pub async fn files(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> DbResult<Sealed<Vec<(i32, OffsetDateTime, serde_json::Value)>>> {
    files_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn files_unsealed(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> DbResult<Vec<(i32, OffsetDateTime, serde_json::Value)>> {
    let rows: Vec<(i32, OffsetDateTime, Json<serde_json::Value>)> =
        sqlx::query_as("SELECT file_version, sent_at, snapshot FROM handover_files WHERE handover_id = $1 ORDER BY file_version")
            .bind(id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(v, t, s)| (v, t, s.0)).collect())
}

/// The participants of some handovers (for auditing list answers).
pub async fn participants_of(db: impl PgExecutor<'_>, handovers: &[Uuid]) -> DbResult<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT participant_id FROM handovers WHERE id = ANY($1)")
            .bind(handovers)
            .fetch_all(db)
            .await?,
    )
}

#[derive(FromRow)]
struct OutcomeRow {
    handover_id: Uuid,
    integration_plan_decided_on: Date,
    end_goal: String,
    recorded_by_name: String,
    municipality_name: String,
    version: i32,
    recorded_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const OUTCOME_SELECT: &str =
    "SELECT h.reference, o.handover_id, o.integration_plan_decided_on, o.end_goal,
            o.recorded_by_name, m.name AS municipality_name, o.version, o.recorded_at, o.updated_at
     FROM handover_outcomes o
     JOIN handovers h ON h.id = o.handover_id
     JOIN organisations m ON m.id = h.municipality_id";

#[derive(FromRow)]
struct ReferencedOutcomeRow {
    reference: String,
    #[sqlx(flatten)]
    outcome: OutcomeRow,
}

fn outcome_of(r: OutcomeRow) -> DbResult<HandoverOutcome> {
    Ok(HandoverOutcome {
        handover_id: r.handover_id,
        data: OutcomeInput {
            integration_plan_decided_on: r.integration_plan_decided_on,
            end_goal: parse(&r.end_goal)?,
        },
        recorded_by_name: r.recorded_by_name,
        municipality_name: r.municipality_name,
        version: r.version,
        recorded_at: r.recorded_at,
        updated_at: r.updated_at,
    })
}

/// The outcome the municipality reported for a handover, if any.
pub async fn get_outcome(
    db: impl PgExecutor<'_>,
    handover: Uuid,
) -> DbResult<Sealed<Option<HandoverOutcome>>> {
    let row: Option<ReferencedOutcomeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OUTCOME_SELECT} WHERE o.handover_id = $1"
    )))
    .bind(handover)
    .fetch_optional(db)
    .await?;
    Ok(Sealed::new(row.map(|r| outcome_of(r.outcome)).transpose()?))
}

/// The outcomes of a participant's handovers with each handover's reference, newest first.
pub async fn outcomes_of_participant(
    db: impl PgExecutor<'_>,
    participant: Uuid,
) -> DbResult<Sealed<Vec<(String, HandoverOutcome)>>> {
    let rows: Vec<ReferencedOutcomeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OUTCOME_SELECT} WHERE h.participant_id = $1 ORDER BY o.recorded_at DESC"
    )))
    .bind(participant)
    .fetch_all(db)
    .await?;
    let list = rows
        .into_iter()
        .map(|r| Ok((r.reference, outcome_of(r.outcome)?)))
        .collect::<DbResult<Vec<_>>>()?;
    Ok(Sealed::new(list))
}

/// Records the outcome (`if_match` `None`: only if there is none yet) or replaces the version
/// named.
pub async fn put_outcome(
    db: &mut PgConnection,
    handover: Uuid,
    if_match: Option<i32>,
    input: &OutcomeInput,
    by: UserId,
    by_name: &str,
) -> DbResult<crate::documents::Upsert> {
    use crate::documents::Upsert;
    let created = sqlx::query(
        "INSERT INTO handover_outcomes (handover_id, integration_plan_decided_on, end_goal,
                                        recorded_by, recorded_by_name)
         SELECT $1, $2, $3, $4, $5 WHERE $6::int IS NULL
         ON CONFLICT (handover_id) DO NOTHING",
    )
    .bind(handover)
    .bind(input.integration_plan_decided_on)
    .bind(input.end_goal.as_str())
    .bind(by.0)
    .bind(by_name)
    .bind(if_match)
    .execute(&mut *db)
    .await?;
    if created.rows_affected() == 1 {
        return Ok(Upsert::Created);
    }
    let Some(v) = if_match else {
        return Ok(Upsert::PreconditionRequired);
    };
    let updated = sqlx::query(
        "UPDATE handover_outcomes SET integration_plan_decided_on = $3, end_goal = $4,
                recorded_by = $5, recorded_by_name = $6, version = version + 1, updated_at = now()
         WHERE handover_id = $1 AND version = $2",
    )
    .bind(handover)
    .bind(v)
    .bind(input.integration_plan_decided_on)
    .bind(input.end_goal.as_str())
    .bind(by.0)
    .bind(by_name)
    .execute(&mut *db)
    .await?;
    Ok(if updated.rows_affected() == 1 {
        Upsert::Updated
    } else {
        Upsert::VersionMismatch
    })
}
