//! Transfer conversations: proposals, confirmed bookings (no double-booking, enforced by an
//! exclusion constraint), minutes and reminders.

use crate::disclosure::Sealed;
use crate::error::{DbError, DbResult};
use crate::orgs::parse;
use crate::page::Counted;
use handover_domain::conversation::*;
use handover_domain::oslo::to_oslo;
use handover_domain::{OrgId, UserId};
use sqlx::types::Json;
use sqlx::{Acquire, FromRow, PgConnection, PgExecutor};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub fn calendar_uid(id: Uuid) -> String {
    format!("conversation-{id}@handover")
}

fn slot(position: i32, start: OffsetDateTime, minutes: i32) -> Slot {
    Slot {
        position,
        start_utc: start.to_offset(time::UtcOffset::UTC),
        start_oslo: to_oslo(start),
        duration_minutes: minutes,
    }
}

pub async fn create(
    db: &mut PgConnection,
    id: Uuid,
    handover: Uuid,
    by_org: OrgId,
    by_user: UserId,
    p: &ProposalInput,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO conversations (id, handover_id, state, proposed_by_org, proposed_by_user, mode, video_link, phone_number, address, external_attendees)
         VALUES ($1, $2, 'proposed', $3, $9, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(handover)
    .bind(by_org.0)
    .bind(p.mode.as_str())
    .bind(&p.video_link)
    .bind(&p.phone_number)
    .bind(&p.address)
    .bind(Json(&p.external_attendees))
    .bind(by_user.0)
    .execute(&mut *db)
    .await?;
    replace_slots(db, id, &p.slots).await?;
    let users: Vec<Uuid> = p.internal_attendees.iter().map(|u| u.0).collect();
    sqlx::query("INSERT INTO conversation_attendees (conversation_id, user_id) SELECT $1, u FROM unnest($2::uuid[]) u")
        .bind(id)
        .bind(&users)
        .execute(&mut *db)
        .await?;
    Ok(())
}

async fn replace_slots(db: &mut PgConnection, id: Uuid, slots: &[SlotInput]) -> DbResult<()> {
    sqlx::query("DELETE FROM conversation_slots WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    let positions: Vec<i32> = (0..slots.len() as i32).collect();
    let starts: Vec<OffsetDateTime> = slots.iter().map(|s| s.start).collect();
    let minutes: Vec<i32> = slots.iter().map(|s| s.duration_minutes).collect();
    sqlx::query(
        "INSERT INTO conversation_slots (conversation_id, position, starts_at, minutes)
         SELECT $1, p, s, m FROM unnest($2::int[], $3::timestamptz[], $4::int[]) AS t(p, s, m)",
    )
    .bind(id)
    .bind(&positions)
    .bind(&starts)
    .bind(&minutes)
    .execute(&mut *db)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    handover_id: Uuid,
    reference: String,
    state: String,
    proposed_by_org: Uuid,
    mode: String,
    video_link: Option<String>,
    phone_number: Option<String>,
    address: Option<String>,
    external_attendees: Json<Vec<ExternalAttendee>>,
    confirmed_start: Option<OffsetDateTime>,
    confirmed_minutes: Option<i32>,
    calendar_sequence: i32,
    cancel_reason: Option<String>,
    minutes: Option<Json<MinutesInput>>,
    minutes_by_name: Option<String>,
    minutes_at: Option<OffsetDateTime>,
    version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

macro_rules! conversation_select {
    () => {
        "SELECT c.id, c.handover_id, h.reference, c.state, c.proposed_by_org, c.mode, c.video_link, c.phone_number,
                c.address, c.external_attendees, c.confirmed_start, c.confirmed_minutes, c.calendar_sequence,
                c.cancel_reason, c.minutes, c.minutes_by_name, c.minutes_at, c.version, c.created_at, c.updated_at
         FROM conversations c JOIN handovers h ON h.id = c.handover_id"
    };
}

/// Loads conversations with their slots and attendees in three queries, whatever their number.
async fn load(db: &mut PgConnection, rows: Vec<Row>) -> DbResult<Vec<Conversation>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let slots: Vec<(Uuid, i32, OffsetDateTime, i32)> = sqlx::query_as(
        "SELECT conversation_id, position, starts_at, minutes FROM conversation_slots
         WHERE conversation_id = ANY($1) ORDER BY conversation_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    let people: Vec<(Uuid, Uuid, String, Uuid)> = sqlx::query_as(
        "SELECT a.conversation_id, u.id, u.name, u.organisation_id FROM conversation_attendees a
         JOIN users u ON u.id = a.user_id WHERE a.conversation_id = ANY($1) ORDER BY a.conversation_id, lower(u.name)",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let minutes = match (r.minutes, r.minutes_by_name, r.minutes_at) {
                (Some(m), Some(by), Some(at)) => Some(Minutes {
                    data: m.0,
                    recorded_by_name: by,
                    recorded_at: at,
                }),
                _ => None,
            };
            Ok(Conversation {
                id: r.id,
                handover_id: r.handover_id,
                handover_reference: r.reference,
                state: parse(&r.state)?,
                proposed_by_organisation_id: OrgId(r.proposed_by_org),
                mode: parse(&r.mode)?,
                video_link: r.video_link,
                phone_number: r.phone_number,
                address: r.address,
                slots: slots
                    .iter()
                    .filter(|s| s.0 == r.id)
                    .map(|s| slot(s.1, s.2, s.3))
                    .collect(),
                confirmed_slot: r
                    .confirmed_start
                    .zip(r.confirmed_minutes)
                    .map(|(s, m)| slot(0, s, m)),
                internal_attendees: people
                    .iter()
                    .filter(|p| p.0 == r.id)
                    .map(|p| InternalAttendee {
                        user_id: UserId(p.1),
                        name: p.2.clone(),
                        organisation_id: OrgId(p.3),
                    })
                    .collect(),
                external_attendees: r.external_attendees.0,
                calendar_uid: calendar_uid(r.id),
                calendar_sequence: r.calendar_sequence,
                cancel_reason: r.cancel_reason,
                minutes,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

pub async fn get(db: &mut PgConnection, id: Uuid) -> DbResult<Sealed<Conversation>> {
    get_unsealed(db, id).await.map(Sealed::new)
}

pub(crate) async fn get_unsealed(db: &mut PgConnection, id: Uuid) -> DbResult<Conversation> {
    let row: Row = sqlx::query_as(concat!(conversation_select!(), " WHERE c.id = $1"))
        .bind(id)
        .fetch_one(&mut *db)
        .await?;
    load(db, vec![row]).await?.pop().ok_or(DbError::NotFound)
}

pub async fn for_handover(
    db: &mut PgConnection,
    handover: Uuid,
) -> DbResult<Sealed<Vec<Conversation>>> {
    for_handover_unsealed(db, handover).await.map(Sealed::new)
}

pub(crate) async fn for_handover_unsealed(
    db: &mut PgConnection,
    handover: Uuid,
) -> DbResult<Vec<Conversation>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        conversation_select!(),
        " WHERE c.handover_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(handover)
    .fetch_all(&mut *db)
    .await?;
    load(db, rows).await
}

/// Which conversations a list may show: those whose handover relates to the caller's
/// organisation in a way the caller's grants for reading conversations cover. It is the relation
/// `GET /conversations/{id}` checks for one conversation (the API builds both from the policy):
/// `own` the handover's reception centre is the organisation, `recipient` it was sent to the
/// organisation's municipality, `serving` the organisation is a career centre that now serves the
/// handover's reception centre. Attendance gives no access by itself.
#[derive(Debug, Clone, Copy)]
pub struct ConversationScope {
    pub org: OrgId,
    /// Every conversation (a grant not tied to an organisation).
    pub everything: bool,
    pub own: bool,
    pub serving: bool,
    pub recipient: bool,
}

/// The scope as SQL over `h` (the handover), binding $1 org, $2 everything, $3 own, $4 serving,
/// $5 recipient.
macro_rules! scope_predicate {
    () => {
        "($2 OR ($3 AND h.reception_centre_id = $1)
              OR ($5 AND h.municipality_id = $1 AND h.latest_file_version > 0)
              OR ($4 AND h.reception_centre_id = (SELECT o.serves_reception_centre_id FROM organisations o
                                                 WHERE o.id = $1 AND o.kind = 'career_centre')))"
    };
}

/// Confirmed conversations a user attends that have not ended yet and are in scope, soonest
/// first, with the total across pages.
pub async fn upcoming_for_user(
    db: &mut PgConnection,
    user: UserId,
    scope: &ConversationScope,
    limit: i64,
    offset: i64,
) -> DbResult<Sealed<(Vec<Conversation>, i64)>> {
    upcoming_for_user_unsealed(db, user, scope, limit, offset, true)
        .await
        .map(Sealed::new)
}

/// Every conversation in scope that the user attends or proposed, in any state: the coming
/// ones by time first, then the others newest first.
pub async fn all_for_user(
    db: &mut PgConnection,
    user: UserId,
    scope: &ConversationScope,
    limit: i64,
    offset: i64,
) -> DbResult<Sealed<(Vec<Conversation>, i64)>> {
    upcoming_for_user_unsealed(db, user, scope, limit, offset, false)
        .await
        .map(Sealed::new)
}

pub(crate) async fn upcoming_for_user_unsealed(
    db: &mut PgConnection,
    user: UserId,
    scope: &ConversationScope,
    limit: i64,
    offset: i64,
    upcoming_only: bool,
) -> DbResult<(Vec<Conversation>, i64)> {
    let rows: Vec<Counted<Row>> = sqlx::query_as(concat!(
        "SELECT s.*, count(*) OVER () AS total FROM (",
        conversation_select!(),
        " WHERE ",
        scope_predicate!(),
        " AND (EXISTS (SELECT 1 FROM conversation_attendees a WHERE a.conversation_id = c.id AND a.user_id = $6)
               OR (NOT $9 AND c.proposed_by_user = $6))
          AND (NOT $9 OR (c.state = 'confirmed' AND c.confirmed_start + make_interval(mins => c.confirmed_minutes) > now()))
         ) s ORDER BY CASE WHEN $9 THEN s.confirmed_start END, s.confirmed_start DESC NULLS LAST,
              s.updated_at DESC, s.id LIMIT $7 OFFSET $8"
    ))
    .bind(scope.org.0)
    .bind(scope.everything)
    .bind(scope.own)
    .bind(scope.serving)
    .bind(scope.recipient)
    .bind(user.0)
    .bind(limit)
    .bind(offset)
    .bind(upcoming_only)
    .fetch_all(&mut *db)
    .await?;
    counted(db, rows).await
}

/// Conversations in scope, optionally in a period, newest first, with the total across pages.
pub async fn for_org(
    db: &mut PgConnection,
    scope: &ConversationScope,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limit: i64,
    offset: i64,
) -> DbResult<Sealed<(Vec<Conversation>, i64)>> {
    for_org_unsealed(db, scope, from, to, limit, offset)
        .await
        .map(Sealed::new)
}

pub(crate) async fn for_org_unsealed(
    db: &mut PgConnection,
    scope: &ConversationScope,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Conversation>, i64)> {
    let rows: Vec<Counted<Row>> = sqlx::query_as(concat!(
        "SELECT s.*, count(*) OVER () AS total FROM (",
        conversation_select!(),
        " WHERE ",
        scope_predicate!(),
        " AND ($6::timestamptz IS NULL OR COALESCE(c.confirmed_start, c.created_at) >= $6)
          AND ($7::timestamptz IS NULL OR COALESCE(c.confirmed_start, c.created_at) < $7)
         ) s ORDER BY COALESCE(s.confirmed_start, s.created_at) DESC, s.id
          LIMIT $8 OFFSET $9"
    ))
    .bind(scope.org.0)
    .bind(scope.everything)
    .bind(scope.own)
    .bind(scope.serving)
    .bind(scope.recipient)
    .bind(from)
    .bind(to)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *db)
    .await?;
    counted(db, rows).await
}

async fn counted(
    db: &mut PgConnection,
    rows: Vec<Counted<Row>>,
) -> DbResult<(Vec<Conversation>, i64)> {
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let list = load(db, rows.into_iter().map(|r| r.row).collect()).await?;
    Ok((list, total))
}

pub async fn counter_propose(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    by_org: OrgId,
    slots: &[SlotInput],
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE conversations SET proposed_by_org = $3, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND state = 'proposed'",
    )
    .bind(id)
    .bind(version)
    .bind(by_org.0)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    replace_slots(db, id, slots).await?;
    Ok(true)
}

/// The outcome of booking the attendees.
#[derive(Debug, PartialEq, Eq)]
pub enum Booking {
    Booked,
    Changed,
    /// An attendee is already booked then: their name and the other booking's time.
    Conflict {
        name: String,
        start: OffsetDateTime,
        end: OffsetDateTime,
    },
}

/// Books every internal attendee for `start`..`start+minutes`. The exclusion constraint decides;
/// the insert runs in a savepoint so the caller's transaction survives a conflict.
async fn book(
    db: &mut PgConnection,
    id: Uuid,
    start: OffsetDateTime,
    minutes: i32,
) -> DbResult<Booking> {
    let end = start + Duration::minutes(i64::from(minutes));
    sqlx::query("DELETE FROM conversation_bookings WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    let mut sp = db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO conversation_bookings (conversation_id, user_id, during)
         SELECT $1, a.user_id, tstzrange($2, $3, '[)') FROM conversation_attendees a WHERE a.conversation_id = $1",
    )
    .bind(id)
    .bind(start)
    .bind(end)
    .execute(&mut *sp)
    .await;
    match r.map_err(DbError::from) {
        Ok(_) => {
            sp.commit().await?;
            Ok(Booking::Booked)
        }
        Err(DbError::Conflict(_)) => {
            sp.rollback().await?;
            let who: Option<(String, OffsetDateTime, OffsetDateTime)> = sqlx::query_as(
                "SELECT u.name, lower(b.during), upper(b.during) FROM conversation_bookings b
                 JOIN conversation_attendees a ON a.user_id = b.user_id AND a.conversation_id = $1
                 JOIN users u ON u.id = b.user_id
                 WHERE b.conversation_id <> $1 AND b.during && tstzrange($2, $3, '[)')
                 ORDER BY lower(b.during) LIMIT 1",
            )
            .bind(id)
            .bind(start)
            .bind(end)
            .fetch_optional(&mut *db)
            .await?;
            // The other booking may have been committed after our check; report what we know.
            let (name, s, e) = who.unwrap_or_else(|| ("An attendee".into(), start, end));
            Ok(Booking::Conflict {
                name,
                start: s,
                end: e,
            })
        }
        Err(e) => Err(e),
    }
}

/// Confirms one of the proposed slots and books the attendees.
pub async fn confirm(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    position: i32,
) -> DbResult<Booking> {
    let chosen: Option<(OffsetDateTime, i32)> =
        sqlx::query_as("SELECT starts_at, minutes FROM conversation_slots WHERE conversation_id = $1 AND position = $2")
            .bind(id)
            .bind(position)
            .fetch_optional(&mut *db)
            .await?;
    let Some((start, minutes)) = chosen else {
        return Err(DbError::NotFound);
    };
    let r = sqlx::query(
        "UPDATE conversations SET state = 'confirmed', confirmed_start = $3, confirmed_minutes = $4,
            version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND state = 'proposed'",
    )
    .bind(id)
    .bind(version)
    .bind(start)
    .bind(minutes)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(Booking::Changed);
    }
    book(db, id, start, minutes).await
}

pub async fn reschedule(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    start: OffsetDateTime,
    minutes: i32,
) -> DbResult<Booking> {
    let r = sqlx::query(
        "UPDATE conversations SET confirmed_start = $3, confirmed_minutes = $4, calendar_sequence = calendar_sequence + 1,
            reminded_for = NULL, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND state = 'confirmed'",
    )
    .bind(id)
    .bind(version)
    .bind(start)
    .bind(minutes)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(Booking::Changed);
    }
    book(db, id, start, minutes).await
}

/// Cancels a proposed or confirmed conversation and frees its bookings.
pub async fn cancel(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    state: ConversationState,
    reason: &str,
) -> DbResult<bool> {
    // Only a confirmed conversation is in calendars; its cancellation is a new sequence.
    let r = sqlx::query(
        "UPDATE conversations SET state = 'cancelled', cancel_reason = $4,
            calendar_sequence = calendar_sequence + CASE WHEN $3 = 'confirmed' THEN 1 ELSE 0 END,
            version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND state = $3",
    )
    .bind(id)
    .bind(version)
    .bind(state.as_str())
    .bind(reason)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM conversation_bookings WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(true)
}

pub async fn record_minutes(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    m: &MinutesInput,
    by_name: &str,
) -> DbResult<bool> {
    let state = match m.outcome {
        Outcome::Held => "held",
        Outcome::NoShow => "no_show",
    };
    let r = sqlx::query(
        "UPDATE conversations SET state = $3, minutes = $4, minutes_by_name = $5, minutes_at = now(),
            version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2 AND state = 'confirmed'",
    )
    .bind(id)
    .bind(version)
    .bind(state)
    .bind(Json(m))
    .bind(by_name)
    .execute(&mut *db)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    if m.outcome == Outcome::NoShow {
        // Nobody needs the rest of the slot.
        sqlx::query("DELETE FROM conversation_bookings WHERE conversation_id = $1")
            .bind(id)
            .execute(&mut *db)
            .await?;
    }
    Ok(true)
}

/// The handover of a conversation.
pub async fn handover_of(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Option<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT handover_id FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// The live (proposed or confirmed) conversation of a handover, if any.
pub async fn live_for_handover(db: impl PgExecutor<'_>, handover: Uuid) -> DbResult<Option<Uuid>> {
    Ok(sqlx::query_scalar("SELECT id FROM conversations WHERE handover_id = $1 AND state IN ('proposed', 'confirmed')")
        .bind(handover)
        .fetch_optional(db)
        .await?)
}

/// Which of `users` may attend a conversation about a handover between these organisations:
/// active users of the centre, the career centre serving it, or the municipality.
pub async fn eligible_attendees(
    db: impl PgExecutor<'_>,
    users: &[Uuid],
    centre: OrgId,
    municipality: OrgId,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN organisations o ON o.id = u.organisation_id
         WHERE u.id = ANY($1) AND u.active AND u.role <> 'admin'
           AND (o.id = $2 OR o.id = $3 OR o.serves_reception_centre_id = $2)",
    )
    .bind(users)
    .bind(centre.0)
    .bind(municipality.0)
    .fetch_all(db)
    .await?)
}

/// The users who may attend a handover's conversation (as [`eligible_attendees`] checks): the
/// active staff of the centre, its career centre and the municipality, by organisation and name.
pub async fn attendee_candidates(
    db: impl PgExecutor<'_>,
    centre: OrgId,
    municipality: OrgId,
) -> DbResult<Vec<(Uuid, String, Uuid, String)>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.name, o.id, o.name FROM users u JOIN organisations o ON o.id = u.organisation_id
         WHERE u.active AND u.role <> 'admin'
           AND (o.id = $1 OR o.id = $2 OR o.serves_reception_centre_id = $1)
         ORDER BY (o.id = $1) DESC, (o.id = $2) DESC, o.name, u.name, u.id",
    )
    .bind(centre.0)
    .bind(municipality.0)
    .fetch_all(db)
    .await?)
}

/// E-mail addresses of a conversation's internal attendees.
pub async fn attendee_emails(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT u.name, u.email FROM conversation_attendees a JOIN users u ON u.id = a.user_id
         WHERE a.conversation_id = $1 ORDER BY u.email",
    )
    .bind(id)
    .fetch_all(db)
    .await?)
}

/// Who organises a conversation's calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizer {
    /// The staff member who proposed the conversation, while known and active: (name, e-mail,
    /// their organisation's name).
    pub proposer: Option<(String, String, String)>,
    /// The organisation that proposed the current slots.
    pub organisation: String,
}

pub async fn organizer(db: impl PgExecutor<'_>, id: Uuid) -> DbResult<Organizer> {
    let (name, email, org, proposing_org): (
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    ) = sqlx::query_as(
        "SELECT u.name, u.email, uo.name, po.name FROM conversations c
         JOIN organisations po ON po.id = c.proposed_by_org
         LEFT JOIN users u ON u.id = c.proposed_by_user AND u.active
         LEFT JOIN organisations uo ON uo.id = u.organisation_id
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(Organizer {
        proposer: match (name, email, org) {
            (Some(n), Some(e), Some(o)) => Some((n, e, o)),
            _ => None,
        },
        organisation: proposing_org,
    })
}

/// Claims the confirmed conversations starting within `before` whose reminder is not sent for
/// their current start time. Each is claimed by exactly one caller, however many run at once.
pub async fn claim_reminders(db: impl PgExecutor<'_>, before: Duration) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "UPDATE conversations SET reminded_for = confirmed_start
         WHERE state = 'confirmed' AND confirmed_start > now()
           AND confirmed_start <= now() + make_interval(secs => $1)
           AND reminded_for IS DISTINCT FROM confirmed_start
         RETURNING id",
    )
    .bind(before.as_seconds_f64())
    .fetch_all(db)
    .await?)
}
