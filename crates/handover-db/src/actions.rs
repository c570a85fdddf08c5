//! Agreed actions: the actions of a conversation's minutes, followed up by the organisation
//! responsible for each.

use crate::disclosure::Sealed;
use crate::error::DbResult;
use handover_domain::OrgId;
use handover_domain::conversation::{ActionStatus, AgreedAction, TrackedAction};
use sqlx::{FromRow, PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(FromRow)]
struct Row {
    id: Uuid,
    conversation_id: Uuid,
    handover_id: Uuid,
    handover_reference: String,
    description: String,
    responsible_organisation_id: Uuid,
    responsible_organisation_name: String,
    due_date: Option<Date>,
    status: String,
    drop_reason: Option<String>,
    status_changed_at: Option<OffsetDateTime>,
    status_changed_by_name: Option<String>,
    overdue: bool,
    version: i32,
}

impl Row {
    fn into_action(self) -> TrackedAction {
        TrackedAction {
            id: self.id,
            conversation_id: self.conversation_id,
            handover_id: self.handover_id,
            handover_reference: self.handover_reference,
            description: self.description,
            responsible_organisation_id: OrgId(self.responsible_organisation_id),
            responsible_organisation_name: self.responsible_organisation_name,
            due_date: self.due_date,
            status: self.status.parse().unwrap_or(ActionStatus::Open),
            drop_reason: self.drop_reason,
            status_changed_at: self.status_changed_at,
            status_changed_by_name: self.status_changed_by_name,
            overdue: self.overdue,
            version: self.version,
        }
    }
}

// `$1` is today: an open action is overdue once its due date has passed.
const SELECT: &str =
    "SELECT a.id, a.conversation_id, c.handover_id, h.reference AS handover_reference,
        a.description, a.responsible_organisation_id, o.name AS responsible_organisation_name,
        a.due_date, a.status, a.drop_reason, a.status_changed_at, a.status_changed_by_name,
        COALESCE(a.status = 'open' AND a.due_date < $1, false) AS overdue, a.version
    FROM agreed_actions a
    JOIN conversations c ON c.id = a.conversation_id
    JOIN handovers h ON h.id = c.handover_id
    JOIN organisations o ON o.id = a.responsible_organisation_id";

/// Stores the actions of minutes just recorded, each open.
pub async fn insert(
    db: &mut PgConnection,
    conversation: Uuid,
    actions: &[AgreedAction],
) -> DbResult<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = actions.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (0..actions.len() as i32).collect();
    let descriptions: Vec<&str> = actions.iter().map(|a| a.description.as_str()).collect();
    let orgs: Vec<Uuid> = actions
        .iter()
        .map(|a| a.responsible_organisation_id.0)
        .collect();
    let due: Vec<Option<Date>> = actions.iter().map(|a| a.due_date).collect();
    sqlx::query(
        "INSERT INTO agreed_actions (id, conversation_id, position, description,
            responsible_organisation_id, due_date)
         SELECT i, $2, p, d, o, due
         FROM unnest($1::uuid[], $3::int[], $4::text[], $5::uuid[], $6::date[]) AS t (i, p, d, o, due)",
    )
    .bind(&ids)
    .bind(conversation)
    .bind(&positions)
    .bind(&descriptions)
    .bind(&orgs)
    .bind(&due)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The actions of one conversation, in the order of the minutes.
pub async fn of_conversation(
    db: impl PgExecutor<'_>,
    conversation: Uuid,
    today: Date,
) -> DbResult<Sealed<Vec<TrackedAction>>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE a.conversation_id = $2 ORDER BY a.position"
    )))
    .bind(today)
    .bind(conversation)
    .fetch_all(db)
    .await?;
    Ok(Sealed::new(
        rows.into_iter().map(Row::into_action).collect(),
    ))
}

/// Which actions of an organisation a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActionFilter {
    pub status: Option<ActionStatus>,
    pub overdue_only: bool,
}

/// One page of the actions `org` is responsible for (open ones by due date first), with the
/// participant of each (for the audit row) and the total.
pub async fn for_org(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: ActionFilter,
    today: Date,
    limit: i64,
    offset: i64,
) -> DbResult<Sealed<(Vec<(TrackedAction, Uuid)>, i64)>> {
    #[derive(FromRow)]
    struct Listed {
        #[sqlx(flatten)]
        row: Row,
        participant_id: Uuid,
        total: i64,
    }
    let rows: Vec<Listed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT x.*, count(*) OVER () AS total FROM (
            SELECT s.*, h2.participant_id FROM ({SELECT}) s JOIN handovers h2 ON h2.id = s.handover_id
         ) x
         WHERE x.responsible_organisation_id = $2
           AND ($3::text IS NULL OR x.status = $3)
           AND (NOT $4 OR x.overdue)
         ORDER BY (x.status <> 'open'), x.due_date NULLS LAST, x.id
         LIMIT $5 OFFSET $6"
    )))
    .bind(today)
    .bind(org.0)
    .bind(filter.status.map(ActionStatus::as_str))
    .bind(filter.overdue_only)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok(Sealed::new((
        rows.into_iter()
            .map(|l| (l.row.into_action(), l.participant_id))
            .collect(),
        total,
    )))
}

/// One action with the participant it concerns.
pub async fn get(
    db: impl PgExecutor<'_>,
    id: Uuid,
    today: Date,
) -> DbResult<Option<Sealed<(TrackedAction, Uuid)>>> {
    #[derive(FromRow)]
    struct One {
        #[sqlx(flatten)]
        row: Row,
        participant_id: Uuid,
    }
    let row: Option<One> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.*, h2.participant_id FROM ({SELECT} WHERE a.id = $2) s
         JOIN handovers h2 ON h2.id = s.handover_id"
    )))
    .bind(today)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|o| Sealed::new((o.row.into_action(), o.participant_id))))
}

/// Sets the status at the version the caller saw; false when it moved on.
pub async fn set_status(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    status: ActionStatus,
    reason: Option<&str>,
    by_name: &str,
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE agreed_actions SET status = $3, drop_reason = $4, status_changed_at = now(),
            status_changed_by_name = $5, version = version + 1
         WHERE id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(status.as_str())
    .bind(reason)
    .bind(by_name)
    .execute(&mut *db)
    .await?;
    Ok(r.rows_affected() == 1)
}
