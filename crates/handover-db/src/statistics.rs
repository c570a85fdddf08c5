//! The counts behind the figures, per month, reception centre and settlement municipality (the
//! finest cells; every breakdown is a sum of them). Counts only: nothing here names a person.

use crate::error::DbResult;
use handover_domain::OrgId;
use handover_domain::statistics::Measure;
use sqlx::{FromRow, PgExecutor};
use time::Date;
use uuid::Uuid;

/// The counts of one month, centre and municipality, in the order of [`Measure::ALL`].
#[derive(Debug, Clone)]
pub struct FineCell {
    /// The first day of the month.
    pub month: Date,
    pub centre: OrgId,
    pub municipality: OrgId,
    pub counts: Vec<i64>,
}

/// Days from the settlement date to the first held conversation, of one handover.
#[derive(Debug, Clone)]
pub struct FineDays {
    pub month: Date,
    pub centre: OrgId,
    pub municipality: OrgId,
    pub days: i64,
}

#[derive(FromRow)]
struct HandoverRow {
    month: Date,
    centre: Uuid,
    municipality: Uuid,
    sent: i64,
    opened7: i64,
    accepted: i64,
    declined: i64,
    with_missing: i64,
    m_mapping: i64,
    m_norwegian: i64,
    m_guidance: i64,
    m_consent: i64,
    m_settlement: i64,
    proposed: i64,
    held: i64,
    no_show: i64,
    actions_due: i64,
    actions_on_time: i64,
}

// The handovers first sent in [$1, $2) (Oslo months), with what happened to each. `$3` is today:
// an action is due once its due date has passed. A file's missing items are those of version 1.
const HANDOVERS: &str = "
WITH h AS (
    SELECT h.id, h.reception_centre_id AS centre, h.municipality_id AS municipality,
           date_trunc('month', f.sent_at AT TIME ZONE 'Europe/Oslo')::date AS month, f.sent_at,
           ARRAY(SELECT e ->> 'item' FROM json_array_elements(
                   CASE WHEN json_typeof(f.snapshot -> 'missing') = 'array'
                        THEN f.snapshot -> 'missing' ELSE '[]'::json END) e) AS missing
    FROM handovers h
    JOIN handover_files f ON f.handover_id = h.id AND f.file_version = 1
    WHERE f.sent_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Oslo')
      AND f.sent_at < ($2::date::timestamp AT TIME ZONE 'Europe/Oslo')
), facts AS (
    SELECT h.*,
        EXISTS (SELECT 1 FROM handover_opens o WHERE o.handover_id = h.id
                AND o.at <= h.sent_at + interval '7 days') AS opened7,
        EXISTS (SELECT 1 FROM handover_transitions t WHERE t.handover_id = h.id
                AND t.to_state = 'accepted') AS accepted,
        EXISTS (SELECT 1 FROM handover_transitions t WHERE t.handover_id = h.id
                AND t.to_state = 'declined') AS declined,
        EXISTS (SELECT 1 FROM conversations c WHERE c.handover_id = h.id) AS proposed,
        EXISTS (SELECT 1 FROM conversations c WHERE c.handover_id = h.id
                AND c.state = 'held') AS held,
        EXISTS (SELECT 1 FROM conversations c WHERE c.handover_id = h.id
                AND c.state = 'no_show') AS no_show,
        (SELECT count(*) FROM agreed_actions a JOIN conversations c ON c.id = a.conversation_id
          WHERE c.handover_id = h.id AND a.due_date IS NOT NULL
            AND (a.due_date < $3 OR a.status = 'done')) AS actions_due,
        (SELECT count(*) FROM agreed_actions a JOIN conversations c ON c.id = a.conversation_id
          WHERE c.handover_id = h.id AND a.due_date IS NOT NULL AND a.status = 'done'
            AND (a.status_changed_at AT TIME ZONE 'Europe/Oslo')::date <= a.due_date)
          AS actions_on_time
    FROM h
)
SELECT month, centre, municipality,
    count(*) AS sent,
    count(*) FILTER (WHERE opened7) AS opened7,
    count(*) FILTER (WHERE accepted) AS accepted,
    count(*) FILTER (WHERE declined) AS declined,
    count(*) FILTER (WHERE cardinality(missing) > 0) AS with_missing,
    count(*) FILTER (WHERE 'competence_mapping' = ANY (missing)) AS m_mapping,
    count(*) FILTER (WHERE 'norwegian_levels' = ANY (missing)) AS m_norwegian,
    count(*) FILTER (WHERE 'guidance_summary' = ANY (missing)) AS m_guidance,
    count(*) FILTER (WHERE 'consent_decision' = ANY (missing)) AS m_consent,
    count(*) FILTER (WHERE 'settlement_date' = ANY (missing)) AS m_settlement,
    count(*) FILTER (WHERE proposed) AS proposed,
    count(*) FILTER (WHERE held) AS held,
    count(*) FILTER (WHERE no_show) AS no_show,
    coalesce(sum(actions_due), 0)::bigint AS actions_due,
    coalesce(sum(actions_on_time), 0)::bigint AS actions_on_time
FROM facts GROUP BY month, centre, municipality";

/// The counts of the months `from` (a first day) up to but not including `until`, as of `today`.
pub async fn fine_cells(
    db: &sqlx::PgPool,
    from: Date,
    until: Date,
    today: Date,
) -> DbResult<Vec<FineCell>> {
    let handovers: Vec<HandoverRow> = sqlx::query_as(HANDOVERS)
        .bind(from)
        .bind(until)
        .bind(today)
        .fetch_all(db)
        .await?;
    let settled: Vec<(Date, Uuid, Uuid, i64)> = sqlx::query_as(
        "SELECT date_trunc('month', s.settlement_date)::date, p.reception_centre_id,
                s.municipality_id, count(*)
         FROM settlements s JOIN participants p ON p.id = s.participant_id
         WHERE s.settlement_date >= $1 AND s.settlement_date < $2 AND s.settlement_date <= $3
         GROUP BY 1, 2, 3",
    )
    .bind(from)
    .bind(until)
    .bind(today)
    .fetch_all(db)
    .await?;
    let index = |m: Measure| Measure::ALL.iter().position(|x| *x == m).unwrap_or(0);
    let mut out: Vec<FineCell> = Vec::with_capacity(handovers.len() + settled.len());
    for r in handovers {
        let mut counts = vec![0; Measure::ALL.len()];
        for (m, v) in [
            (Measure::HandoversSent, r.sent),
            (Measure::OpenedWithin7Days, r.opened7),
            (Measure::Accepted, r.accepted),
            (Measure::Declined, r.declined),
            (Measure::SentWithMissingItems, r.with_missing),
            (Measure::MissingCompetenceMapping, r.m_mapping),
            (Measure::MissingNorwegianLevels, r.m_norwegian),
            (Measure::MissingGuidanceSummary, r.m_guidance),
            (Measure::MissingConsentDecision, r.m_consent),
            (Measure::MissingSettlementDate, r.m_settlement),
            (Measure::ConversationsProposed, r.proposed),
            (Measure::ConversationsHeld, r.held),
            (Measure::ConversationsNoShow, r.no_show),
            (Measure::ActionsDue, r.actions_due),
            (Measure::ActionsDoneOnTime, r.actions_on_time),
        ] {
            counts[index(m)] = v;
        }
        out.push(FineCell {
            month: r.month,
            centre: OrgId(r.centre),
            municipality: OrgId(r.municipality),
            counts,
        });
    }
    for (month, centre, municipality, n) in settled {
        let mut counts = vec![0; Measure::ALL.len()];
        counts[index(Measure::ParticipantsSettled)] = n;
        out.push(FineCell {
            month,
            centre: OrgId(centre),
            municipality: OrgId(municipality),
            counts,
        });
    }
    Ok(out)
}

/// The days from settlement to the first held conversation of each handover first sent in the
/// period (those with a settlement date).
pub async fn fine_days(
    db: impl PgExecutor<'_>,
    from: Date,
    until: Date,
) -> DbResult<Vec<FineDays>> {
    let rows: Vec<(Date, Uuid, Uuid, i32)> = sqlx::query_as(
        "SELECT date_trunc('month', f.sent_at AT TIME ZONE 'Europe/Oslo')::date,
                h.reception_centre_id, h.municipality_id,
                ((c.confirmed_start AT TIME ZONE 'Europe/Oslo')::date - h.settlement_date)
         FROM handovers h
         JOIN handover_files f ON f.handover_id = h.id AND f.file_version = 1
         JOIN LATERAL (SELECT confirmed_start FROM conversations c
                       WHERE c.handover_id = h.id AND c.state = 'held'
                       ORDER BY confirmed_start LIMIT 1) c ON true
         WHERE h.settlement_date IS NOT NULL
           AND f.sent_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Oslo')
           AND f.sent_at < ($2::date::timestamp AT TIME ZONE 'Europe/Oslo')",
    )
    .bind(from)
    .bind(until)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(month, centre, municipality, days)| FineDays {
            month,
            centre: OrgId(centre),
            municipality: OrgId(municipality),
            days: i64::from(days),
        })
        .collect())
}

/// An organisation as the figures group by it.
#[derive(Debug, Clone, FromRow)]
pub struct GroupOrg {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub county: Option<String>,
}

/// The register of organisations the figures name (reference data, not personal data).
pub async fn organisations(db: impl PgExecutor<'_>) -> DbResult<Vec<GroupOrg>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, name, county FROM organisations
         WHERE kind IN ('reception_centre', 'career_centre', 'municipality') ORDER BY name, id",
    )
    .fetch_all(db)
    .await?)
}
