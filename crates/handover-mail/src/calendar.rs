//! iCalendar (RFC 5545) objects for transfer conversations, with iTIP methods (RFC 5546):
//! a stable UID per conversation, SEQUENCE raised on every change, REQUEST for invitations and
//! updates, CANCEL for cancellations, PUBLISH (without attendees) for a downloaded file, times
//! in Europe/Oslo with a VTIMEZONE.

use handover_domain::oslo::{offset_at, to_oslo};
use time::OffsetDateTime;
use time::macros::format_description;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
    /// For a downloaded file.
    Publish,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Attendee {
    pub name: String,
    pub email: String,
    /// `REQ-PARTICIPANT` or `OPT-PARTICIPANT`.
    pub role: &'static str,
}

#[derive(Debug, Clone)]
pub struct CalendarEvent {
    pub uid: String,
    pub sequence: i32,
    pub method: Method,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub stamp: OffsetDateTime,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub url: Option<String>,
    pub organizer_name: String,
    pub organizer_email: String,
    /// `SENT-BY` of the ORGANIZER: the address that sends on the organiser's behalf.
    pub sent_by: Option<String>,
    /// Whether attendees are asked to reply (`RSVP=TRUE`): only when a reply reaches a person.
    pub rsvp: bool,
    /// Listed for REQUEST and CANCEL; never for PUBLISH (RFC 5546 3.2.1 has no ATTENDEE).
    pub attendees: Vec<Attendee>,
}

const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// Escapes a TEXT value (RFC 5545 3.3.11).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted, without characters a quoted value cannot hold.
fn param(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !matches!(c, '"' | '\r' | '\n') && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

/// Folds a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
    out
}

/// Whether the Oslo wall-clock time of `t` happens twice (the hour after summer time ends).
fn ambiguous(t: OffsetDateTime) -> bool {
    let hour = time::Duration::HOUR;
    match offset_at(t).whole_hours() {
        // Winter time: the same wall-clock time an hour earlier was summer time.
        1 => offset_at(t - hour).whole_hours() == 2,
        // Summer time: the same wall-clock time an hour later is winter time.
        2 => offset_at(t + hour).whole_hours() == 1,
        _ => false,
    }
}

/// `DTSTART;TZID=Europe/Oslo:local` normally; a UTC value when the local time is ambiguous, since
/// RFC 5545 3.3.5 reads an ambiguous local time as its first occurrence.
fn time_property(name: &str, t: OffsetDateTime) -> String {
    if ambiguous(t) {
        format!("{name}:{}", utc(t))
    } else {
        let f = format_description!("[year][month][day]T[hour][minute][second]");
        format!(
            "{name};TZID=Europe/Oslo:{}",
            to_oslo(t).format(&f).unwrap_or_default()
        )
    }
}

fn utc(t: OffsetDateTime) -> String {
    let f = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

pub fn ics(e: &CalendarEvent) -> String {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Handover service//Overforingssamtale//NB\r\nCALSCALE:GREGORIAN\r\n",
    );
    s.push_str(&fold(&format!("METHOD:{}", e.method.as_str())));
    s.push_str(VTIMEZONE);
    s.push_str("BEGIN:VEVENT\r\n");
    s.push_str(&fold(&format!("UID:{}", e.uid)));
    s.push_str(&fold(&format!("SEQUENCE:{}", e.sequence)));
    s.push_str(&fold(&format!("DTSTAMP:{}", utc(e.stamp))));
    s.push_str(&fold(&time_property("DTSTART", e.start)));
    s.push_str(&fold(&time_property("DTEND", e.end)));
    s.push_str(&fold(&format!("SUMMARY:{}", escape(&e.summary))));
    s.push_str(&fold(&format!("DESCRIPTION:{}", escape(&e.description))));
    if let Some(l) = &e.location {
        s.push_str(&fold(&format!("LOCATION:{}", escape(l))));
    }
    if let Some(u) = &e.url {
        s.push_str(&fold(&format!("URL:{u}")));
    }
    let sent_by = e
        .sent_by
        .as_ref()
        .map(|a| format!(";SENT-BY={}", param(&format!("mailto:{a}"))))
        .unwrap_or_default();
    s.push_str(&fold(&format!(
        "ORGANIZER;CN={}{sent_by}:mailto:{}",
        param(&e.organizer_name),
        e.organizer_email
    )));
    let attendees: &[Attendee] = if e.method == Method::Publish {
        &[]
    } else {
        &e.attendees
    };
    for a in attendees {
        let partstat = match (e.method, e.rsvp) {
            (Method::Cancel, _) => "",
            (_, true) => ";PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
            (_, false) => ";PARTSTAT=NEEDS-ACTION;RSVP=FALSE",
        };
        s.push_str(&fold(&format!(
            "ATTENDEE;CN={};ROLE={}{partstat}:mailto:{}",
            param(&a.name),
            a.role,
            a.email
        )));
    }
    let status = if e.method == Method::Cancel {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    s.push_str(&fold(&format!("STATUS:{status}")));
    s.push_str("TRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn event(method: Method) -> CalendarEvent {
        CalendarEvent {
            uid: "conversation-1@handover".into(),
            sequence: 2,
            method,
            start: datetime!(2026-03-29 01:30 UTC),
            end: datetime!(2026-03-29 02:30 UTC),
            stamp: datetime!(2026-03-01 12:00 UTC),
            summary: "Overføringssamtale HO-2026-000001".into(),
            description: "Linje 1\nLinje 2; med, tegn".into(),
            location: Some("Rådhuset, Kristiansand".into()),
            url: None,
            organizer_name: "Overføringstjenesten".into(),
            organizer_email: "ikke-svar@overforing.example".into(),
            sent_by: None,
            rsvp: true,
            attendees: vec![Attendee {
                name: "Kari \"K\" Nordmann".into(),
                email: "kari@x.no".into(),
                role: "REQ-PARTICIPANT",
            }],
        }
    }

    #[test]
    fn request_and_cancel() {
        let folded = ics(&event(Method::Request));
        assert!(folded.lines().all(|l| l.len() <= 75));
        let r = folded.replace("\r\n ", "");
        assert!(r.contains("METHOD:REQUEST\r\n"));
        assert!(r.contains("UID:conversation-1@handover\r\n"));
        assert!(r.contains("SEQUENCE:2\r\n"));
        // 01:30 UTC on the spring-forward day is 03:30 summer time in Oslo.
        assert!(r.contains("DTSTART;TZID=Europe/Oslo:20260329T033000\r\n"));
        assert!(r.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo"));
        assert!(r.contains("DESCRIPTION:Linje 1\\nLinje 2\\; med\\, tegn"));
        assert!(r.contains("ATTENDEE;CN=\"Kari K Nordmann\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:kari@x.no"));
        assert!(r.contains("STATUS:CONFIRMED"));
        let c = ics(&event(Method::Cancel));
        assert!(c.contains("METHOD:CANCEL\r\n") && c.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn organizer_sent_by_and_rsvp() {
        let mut e = event(Method::Request);
        e.organizer_name = "Siri Kommuneansatt".into();
        e.organizer_email = "siri@kommune.example".into();
        e.sent_by = Some("ikke-svar@overforing.example".into());
        let r = ics(&e).replace("\r\n ", "");
        assert!(
            r.contains("ORGANIZER;CN=\"Siri Kommuneansatt\";SENT-BY=\"mailto:ikke-svar@overforing.example\":mailto:siri@kommune.example\r\n"),
            "{r}"
        );
        assert!(r.contains(";RSVP=TRUE:mailto:kari@x.no"), "{r}");
        e.rsvp = false;
        e.sent_by = None;
        let r = ics(&e).replace("\r\n ", "");
        assert!(
            r.contains(";PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:kari@x.no"),
            "{r}"
        );
        assert!(!r.contains("SENT-BY"), "{r}");
    }

    #[test]
    fn publish_has_an_organizer_and_no_attendee() {
        let r = ics(&event(Method::Publish)).replace("\r\n ", "");
        assert!(r.contains("METHOD:PUBLISH\r\n"), "{r}");
        assert!(r.contains("\r\nORGANIZER;"), "{r}");
        assert!(!r.contains("ATTENDEE"), "{r}");
    }

    #[test]
    fn the_repeated_autumn_hour_is_written_in_utc() {
        let mut e = event(Method::Request);
        e.start = datetime!(2027-10-31 01:30 UTC);
        e.end = datetime!(2027-10-31 02:30 UTC);
        let r = ics(&e);
        assert!(r.contains("DTSTART:20271031T013000Z\r\n"), "{r}");
        assert!(
            r.contains("DTEND;TZID=Europe/Oslo:20271031T033000\r\n"),
            "{r}"
        );
        e.start = datetime!(2027-10-30 22:00 UTC);
        assert!(ics(&e).contains("DTSTART;TZID=Europe/Oslo:20271031T000000\r\n"));
    }

    #[test]
    fn folding_keeps_characters_whole() {
        let long = format!("DESCRIPTION:{}", "æ".repeat(100));
        let folded = fold(&long);
        for l in folded.split("\r\n") {
            assert!(l.len() <= 75);
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
    }
}
