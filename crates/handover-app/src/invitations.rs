//! Calendar invitations for transfer conversations, queued in the outbox in the caller's
//! transaction: REQUEST on confirmation and every change, CANCEL on cancellation, each with the
//! conversation's stable UID and its current SEQUENCE.

use crate::App;
use crate::error::AppResult;
use handover_db::conversations::{self, calendar_uid};
use handover_db::outbox::{self, NewMail};
use handover_domain::conversation::{Conversation, ConversationMode, ExternalKind};
use handover_domain::oslo::to_oslo;
use handover_mail::calendar::{Attendee, CalendarEvent, Method, ics};
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

/// One addressee of an invitation or reminder.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub attendee: Attendee,
    /// A user of the service (an internal attendee). External attendees have no account: what
    /// they get carries the time, the place and the organiser's contact, never a link into the
    /// service.
    pub internal: bool,
}

/// Who gets the invitation: internal attendees and every external attendee with an address.
/// The participant appears as "Deltaker": a name in a calendar travels far. An external address
/// that is also an internal attendee's is that attendee's.
pub async fn recipients(db: &mut PgConnection, c: &Conversation) -> AppResult<Vec<Recipient>> {
    let mut out: Vec<Recipient> = conversations::attendee_emails(&mut *db, c.id)
        .await?
        .into_iter()
        .map(|(name, email)| Recipient {
            attendee: Attendee {
                name,
                email,
                role: "REQ-PARTICIPANT",
            },
            internal: true,
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
            out.push(Recipient {
                attendee: Attendee {
                    name,
                    email: email.to_lowercase(),
                    role: "REQ-PARTICIPANT",
                },
                internal: false,
            });
        }
    }
    // A stable sort keeps an internal attendee before an external one with the same address.
    out.sort_by(|a, b| a.attendee.email.cmp(&b.attendee.email));
    out.dedup_by(|a, b| a.attendee.email == b.attendee.email);
    Ok(out)
}

/// The ORGANIZER of a conversation's invitations and the contact they give.
#[derive(Debug, Clone)]
pub struct Organiser {
    pub name: String,
    pub email: String,
    /// The service's address when it sends on the organiser's behalf.
    pub sent_by: Option<String>,
    /// Whether a reply reaches a person, so attendees are asked for one.
    pub rsvp: bool,
    /// Who to contact, as a line of text: name, address and organisation of the proposer, or the
    /// proposing organisation when the proposer is unknown.
    pub contact: String,
}

/// The staff member who proposed the conversation, sending through the service's address
/// (`SENT-BY`), so a reply reaches them; when unknown (proposed before the service stored it,
/// or the user is deactivated), the service's own address with no reply asked.
pub async fn organiser(db: &mut PgConnection, app: &App, c: &Conversation) -> AppResult<Organiser> {
    let o = conversations::organizer(&mut *db, c.id).await?;
    Ok(match o.proposer {
        Some((name, email, org)) => Organiser {
            contact: format!("{name}, {email} ({org})"),
            sent_by: Some(app.config.organizer_email.clone()),
            rsvp: true,
            name,
            email,
        },
        None => Organiser {
            name: app.config.organizer_name.clone(),
            email: app.config.organizer_email.clone(),
            sent_by: None,
            rsvp: false,
            contact: o.organisation,
        },
    })
}

/// Oslo time with its offset, so the repeated autumn hour is never ambiguous.
pub fn when(t: OffsetDateTime) -> String {
    let f = format_description!(
        "[day].[month].[year] kl. [hour]:[minute] (UTC[offset_hour sign:mandatory])"
    );
    to_oslo(t).format(&f).unwrap_or_default()
}

/// Where the conversation is: the video link, the phone number or the address, by mode.
fn location(c: &Conversation) -> Option<String> {
    match c.mode {
        ConversationMode::Video => c.video_link.clone(),
        ConversationMode::Phone => c
            .phone_number
            .as_ref()
            .map(|p| format!("Telefon / phone: {p}")),
        ConversationMode::InPerson => c.address.clone(),
    }
}

/// The calendar event; its description has a link into the service only for `internal`
/// recipients (users of the service).
pub fn event(
    app: &App,
    c: &Conversation,
    method: Method,
    attendees: Vec<Attendee>,
    organiser: &Organiser,
    internal: bool,
) -> Option<CalendarEvent> {
    let slot = c.confirmed_slot.as_ref()?;
    let mut description = format!(
        "Overføringssamtale mellom integreringsmottaket og bosettingskommunen, sak {}.\nTransfer conversation, handover {}.\nKontakt / contact: {}",
        c.handover_reference, c.handover_reference, organiser.contact
    );
    if internal {
        description.push('\n');
        description.push_str(&link(app, c.id));
    }
    Some(CalendarEvent {
        uid: calendar_uid(c.id),
        sequence: c.calendar_sequence,
        method,
        start: slot.start_utc,
        end: slot.start_utc + time::Duration::minutes(i64::from(slot.duration_minutes)),
        stamp: app.now(),
        summary: format!("Overføringssamtale {}", c.handover_reference),
        description,
        location: location(c),
        url: c.video_link.clone(),
        organizer_name: organiser.name.clone(),
        organizer_email: organiser.email.clone(),
        sent_by: organiser.sent_by.clone(),
        rsvp: organiser.rsvp,
        attendees,
    })
}

fn link(app: &App, id: Uuid) -> String {
    format!(
        "{}/conversations/{id}",
        app.config.public_url.trim_end_matches('/')
    )
}

/// The lines after the first of a message: the place, the contact, and for a user of the
/// service the link to the conversation.
fn details(app: &App, c: &Conversation, organiser: &Organiser, internal: bool) -> String {
    let mut s = String::new();
    if let Some(l) = location(c) {
        s.push_str(&format!("Sted / place: {l}\n"));
    }
    s.push_str(&format!("Kontakt / contact: {}\n", organiser.contact));
    if internal {
        s.push_str(&link(app, c.id));
        s.push('\n');
    }
    s
}

/// Queues the invitation (REQUEST) or cancellation (CANCEL) to every recipient.
pub async fn send(
    db: &mut PgConnection,
    app: &App,
    c: &Conversation,
    participant: Uuid,
    method: Method,
) -> AppResult<()> {
    let to = recipients(&mut *db, c).await?;
    let organiser = organiser(&mut *db, app, c).await?;
    let attendees: Vec<Attendee> = to.iter().map(|r| r.attendee.clone()).collect();
    let Some(ev) = event(app, c, method, attendees, &organiser, true) else {
        return Ok(());
    };
    let start = when(ev.start);
    let ics_internal = ics(&ev);
    let ics_external = event(app, c, method, ev.attendees.clone(), &organiser, false)
        .map(|mut e| {
            e.stamp = ev.stamp;
            ics(&e)
        })
        .unwrap_or_else(|| ics_internal.clone());
    let subject = match method {
        Method::Cancel => format!(
            "Avlyst: overføringssamtale {} / Cancelled",
            c.handover_reference
        ),
        _ if c.calendar_sequence > 0 => format!(
            "Endret: overføringssamtale {} / Updated",
            c.handover_reference
        ),
        _ => format!(
            "Invitasjon: overføringssamtale {} / Invitation",
            c.handover_reference
        ),
    };
    for r in &to {
        let details = details(app, c, &organiser, r.internal);
        let text = match method {
            Method::Cancel => format!(
                "Overføringssamtalen {start} er avlyst.\nKontakt / contact: {}\n\n-- \nIn English: the transfer conversation on {start} (Oslo time) is cancelled.\n",
                organiser.contact
            ),
            _ if c.calendar_sequence > 0 => format!(
                "Overføringssamtalen er flyttet til {start}.\n{details}\n-- \nIn English: the transfer conversation has moved to {start} (Oslo time).\n"
            ),
            _ => format!(
                "Du er invitert til overføringssamtale {start}.\n{details}\n-- \nIn English: you are invited to a transfer conversation on {start} (Oslo time).\n"
            ),
        };
        let body_ics = if r.internal {
            &ics_internal
        } else {
            &ics_external
        };
        outbox::enqueue(
            &mut *db,
            &NewMail {
                dedupe_key: format!(
                    "conversation:{}:seq{}:{}:{}",
                    c.id,
                    c.calendar_sequence,
                    method.as_str(),
                    r.attendee.email
                ),
                to: &r.attendee.email,
                subject: subject.clone(),
                body_text: text,
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
    app: &App,
    c: &Conversation,
    participant: Uuid,
) -> AppResult<()> {
    let Some(slot) = &c.confirmed_slot else {
        return Ok(());
    };
    let start = when(slot.start_utc);
    let organiser = organiser(&mut *db, app, c).await?;
    for r in recipients(&mut *db, c).await? {
        let details = details(app, c, &organiser, r.internal);
        outbox::enqueue(
            &mut *db,
            &NewMail {
                dedupe_key: format!("conversation:{}:reminder:{}:{}", c.id, slot.start_utc.unix_timestamp(), r.attendee.email),
                to: &r.attendee.email,
                subject: format!("Påminnelse: overføringssamtale {} / Reminder", c.handover_reference),
                body_text: format!(
                    "Påminnelse om overføringssamtale {start}.\n{details}\n-- \nIn English: reminder of the transfer conversation on {start} (Oslo time).\n"
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
