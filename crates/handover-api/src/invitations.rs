//! Calendar invitations for transfer conversations, queued in the outbox in the caller's
//! transaction: REQUEST on confirmation and every change, CANCEL on cancellation, each with the
//! conversation's stable UID and its current SEQUENCE.

use crate::error::ApiResult;
use crate::state::AppState;
use handover_db::conversations::{self, calendar_uid};
use handover_db::outbox::{self, NewMail};
use handover_domain::conversation::{Conversation, ConversationMode, ExternalKind};
use handover_domain::oslo::to_oslo;
use handover_mail::calendar::{Attendee, CalendarEvent, Method, ics};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

/// Who gets the invitation: internal attendees and every external attendee with an address.
/// The participant appears as "Deltaker": a name in a calendar travels far.
pub async fn recipients(db: &mut PgConnection, c: &Conversation) -> ApiResult<Vec<Attendee>> {
    let mut out: Vec<Attendee> = conversations::attendee_emails(&mut *db, c.id)
        .await?
        .into_iter()
        .map(|(name, email)| Attendee {
            name,
            email,
            role: "REQ-PARTICIPANT",
        })
        .collect();
    for e in &c.external_attendees {
        if let Some(email) = &e.email {
            let name = match e.kind {
                ExternalKind::Participant => "Deltaker".to_owned(),
                ExternalKind::Interpreter => {
                    format!("Tolk ({})", e.language.as_deref().unwrap_or("?"))
                }
                ExternalKind::Other => e.name.clone(),
            };
            out.push(Attendee {
                name,
                email: email.to_lowercase(),
                role: "REQ-PARTICIPANT",
            });
        }
    }
    out.sort_by(|a, b| a.email.cmp(&b.email));
    out.dedup_by(|a, b| a.email == b.email);
    Ok(out)
}

/// Oslo time with its offset, so the repeated autumn hour is never ambiguous.
pub fn when(t: OffsetDateTime) -> String {
    let f = format_description!(
        "[day].[month].[year] kl. [hour]:[minute] (UTC[offset_hour sign:mandatory])"
    );
    to_oslo(t).format(&f).unwrap_or_default()
}

pub fn event(
    state: &AppState,
    c: &Conversation,
    method: Method,
    attendees: Vec<Attendee>,
) -> Option<CalendarEvent> {
    let slot = c.confirmed_slot.as_ref()?;
    let location = match c.mode {
        ConversationMode::Video => c.video_link.clone(),
        ConversationMode::Phone => c
            .phone_number
            .as_ref()
            .map(|p| format!("Telefon / phone: {p}")),
        ConversationMode::InPerson => c.address.clone(),
    };
    Some(CalendarEvent {
        uid: calendar_uid(c.id),
        sequence: c.calendar_sequence,
        method,
        start: slot.start_utc,
        end: slot.start_utc + time::Duration::minutes(i64::from(slot.duration_minutes)),
        stamp: OffsetDateTime::now_utc(),
        summary: format!("Overføringssamtale {}", c.handover_reference),
        description: format!(
            "Overføringssamtale mellom integreringsmottaket og bosettingskommunen, sak {}.\nTransfer conversation, handover {}.\n{}",
            c.handover_reference,
            c.handover_reference,
            link(state, c.id)
        ),
        location,
        url: c.video_link.clone(),
        organizer_name: state.config.organizer_name.clone(),
        organizer_email: state.config.organizer_email.clone(),
        attendees,
    })
}

fn link(state: &AppState, id: Uuid) -> String {
    format!(
        "{}/api/v1/conversations/{id}",
        state.config.public_url.trim_end_matches('/')
    )
}

/// Queues the invitation (REQUEST) or cancellation (CANCEL) to every recipient.
pub async fn send(
    db: &mut PgConnection,
    state: &AppState,
    c: &Conversation,
    participant: Uuid,
    method: Method,
) -> ApiResult<()> {
    let to = recipients(&mut *db, c).await?;
    let Some(ev) = event(state, c, method, to.clone()) else {
        return Ok(());
    };
    let body_ics = ics(&ev);
    let start = when(ev.start);
    let (subject, text) = match method {
        Method::Cancel => (
            format!(
                "Avlyst: overføringssamtale {} / Cancelled",
                c.handover_reference
            ),
            format!(
                "Overføringssamtalen {start} er avlyst.\n\n-- \nIn English: the transfer conversation on {start} (Oslo time) is cancelled.\n"
            ),
        ),
        _ if c.calendar_sequence > 0 => (
            format!(
                "Endret: overføringssamtale {} / Updated",
                c.handover_reference
            ),
            format!(
                "Overføringssamtalen er flyttet til {start}.\n{}\n\n-- \nIn English: the transfer conversation has moved to {start} (Oslo time).\n",
                link(state, c.id)
            ),
        ),
        _ => (
            format!(
                "Invitasjon: overføringssamtale {} / Invitation",
                c.handover_reference
            ),
            format!(
                "Du er invitert til overføringssamtale {start}.\n{}\n\n-- \nIn English: you are invited to a transfer conversation on {start} (Oslo time).\n",
                link(state, c.id)
            ),
        ),
    };
    for a in &to {
        outbox::enqueue(
            &mut *db,
            &NewMail {
                dedupe_key: format!(
                    "conversation:{}:seq{}:{}:{}",
                    c.id,
                    c.calendar_sequence,
                    method.as_str(),
                    a.email
                ),
                to: &a.email,
                subject: subject.clone(),
                body_text: text.clone(),
                ics: Some(body_ics.clone()),
                ics_method: Some(method.as_str()),
                participant_id: Some(participant),
                handover_id: Some(c.handover_id),
                secret: false,
            },
        )
        .await?;
    }
    Ok(())
}

/// The reminder, queued once per start time.
pub async fn remind(
    db: &mut PgConnection,
    state: &AppState,
    c: &Conversation,
    participant: Uuid,
) -> ApiResult<()> {
    let Some(slot) = &c.confirmed_slot else {
        return Ok(());
    };
    let start = when(slot.start_utc);
    for a in recipients(&mut *db, c).await? {
        outbox::enqueue(
            &mut *db,
            &NewMail {
                dedupe_key: format!("conversation:{}:reminder:{}:{}", c.id, slot.start_utc.unix_timestamp(), a.email),
                to: &a.email,
                subject: format!("Påminnelse: overføringssamtale {} / Reminder", c.handover_reference),
                body_text: format!(
                    "Påminnelse om overføringssamtale {start}.\n{}\n\n-- \nIn English: reminder of the transfer conversation on {start} (Oslo time).\n",
                    link(state, c.id)
                ),
                participant_id: Some(participant),
                handover_id: Some(c.handover_id),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
