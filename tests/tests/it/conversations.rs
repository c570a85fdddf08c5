#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

//! Transfer conversations (overføringssamtaler): proposals and answers from either side, calendar
//! invitations read back from the SMTP server (REQUEST, updates, CANCEL), no double booking under
//! concurrency, Europe/Oslo time around the summer-time changes, reminders sent once, minutes,
//! access for every account, listings, the downloadable calendar file, and the handover's own
//! cancellation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use handover_tests::smtp::Received;
use handover_tests::{Res, TestApp, spawn_app, spawn_app_with, who};
use handover_tests::{ago, ahead, id_of, new_duf, oslo_today, qp_decode};
use handover_tests::{assert_invalid_field, call};
use handover_tests::{decode_words, etag};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration as StdDuration, Instant};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, format_description};
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};
use uuid::Uuid;

const KRS_NO: &str = "4204";
const TRD_NO: &str = "5001";
const VIDEO: &str = "https://video.example.no/overforing/rom-4711";
/// The participant's name: it must never reach a calendar or an e-mail.
const GIVEN: &str = "Selamawit";
const FAMILY: &str = "Gebremedhin";
const PARTICIPANT_MAIL: &str = "deltaker.4711@epost.example";
const INTERPRETER_MAIL: &str = "tolk.4711@tolk.example";

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

fn rfc(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn ts(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a time: {v}")),
        &Rfc3339,
    )
    .unwrap_or_else(|e| panic!("bad time {v}: {e}"))
}

/// `days` from today at `hour:minute` UTC.
fn at(days: i64, hour: u8, minute: u8) -> OffsetDateTime {
    (OffsetDateTime::now_utc() + Duration::days(days))
        .date()
        .with_hms(hour, minute, 0)
        .unwrap()
        .assume_utc()
}

fn slot(start: OffsetDateTime, minutes: i32) -> Value {
    json!({ "start": rfc(start), "duration_minutes": minutes })
}

async fn org_by_number(app: &TestApp, number: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = $1")
        .bind(number)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn user_name(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT name FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

struct Handover {
    id: String,
    reference: String,
}

/// A new Kristiansand participant, settled in Kristiansand, with a handover sent (not opened).
async fn sent_handover(app: &TestApp, centre: &str) -> Handover {
    let r = app
        .post(
            "/api/v1/participants",
            Some(centre),
            &json!({
                "given_name": GIVEN,
                "family_name": FAMILY,
                "date_of_birth": "1991-04-12",
                "duf_number": new_duf(),
                "languages": [{ "language": "ti", "level": "native" }],
                "interpreter_language": "ti",
                "arrival_date": ago(100),
                "programme_start": ago(90),
                "status": "in_programme",
                "notes": ""
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = id_of(&r);
    let kommune = org_by_number(app, KRS_NO).await;
    let r = call(
        app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/settlement"),
        Some(centre),
        Some(&json!({
            "municipality_id": kommune,
            "settlement_date": ahead(30),
            "contacts": [{ "name": "Programrådgiver", "email": "kontakt@kommune.example", "role": "programrådgiver" }]
        })),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/consents"),
            Some(centre),
            &json!({"sections": ["guidance_summary"], "given_on": ago(0), "method": "written_signed", "language": "ti", "interpreter_present": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/handovers"),
            Some(centre),
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hid = id_of(&r);
    let r = call(
        app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/send"),
        Some(centre),
        Some(&json!({"missing_reason": "Kartleggingen er ikke ferdig; resten tas i samtalen."})),
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reference = r.body["reference"].as_str().unwrap().to_owned();
    Handover { id: hid, reference }
}

/// [`sent_handover`], opened and accepted by the municipality: open for a conversation.
async fn accepted_handover(app: &TestApp, centre: &str, muni: &str) -> Handover {
    let h = sent_handover(app, centre).await;
    let hid = h.id.clone();
    let r = app
        .get(&format!("/api/v1/handovers/{hid}/file"), muni)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get(&format!("/api/v1/handovers/{hid}"), muni).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/accept"),
        Some(muni),
        None,
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "accepted");
    h
}

async fn handover_state(app: &TestApp, token: &str, hid: &str) -> String {
    let r = app.get(&format!("/api/v1/handovers/{hid}"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["handover"]["state"]
        .as_str()
        .unwrap_or_else(|| panic!("no state: {}", r.text))
        .to_owned()
}

/// The participant (named, with an address) and an interpreter.
fn externals() -> Value {
    json!([
        { "kind": "participant", "name": format!("{GIVEN} {FAMILY}"), "email": PARTICIPANT_MAIL },
        { "kind": "interpreter", "name": "Tolketjenesten Sør", "email": INTERPRETER_MAIL, "language": "ti" }
    ])
}

fn proposal(slots: &[(OffsetDateTime, i32)], internal: &[Uuid], external: Value) -> Value {
    json!({
        "slots": slots.iter().map(|(s, m)| slot(*s, *m)).collect::<Vec<_>>(),
        "mode": "video",
        "video_link": VIDEO,
        "internal_attendees": internal,
        "external_attendees": external,
    })
}

async fn propose(app: &TestApp, token: &str, hid: &str, body: &Value) -> Res {
    app.post(
        &format!("/api/v1/handovers/{hid}/conversations"),
        Some(token),
        body,
    )
    .await
}

/// Proposes and returns (conversation id, ETag).
async fn propose_ok(app: &TestApp, token: &str, hid: &str, body: &Value) -> (String, String) {
    let r = propose(app, token, hid, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (id_of(&r), etag(&r))
}

async fn conversation(app: &TestApp, token: &str, cid: &str) -> Res {
    let r = app
        .get(&format!("/api/v1/conversations/{cid}"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

async fn post_if(
    app: &TestApp,
    token: &str,
    cid: &str,
    what: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Res {
    call(
        app,
        Method::POST,
        &format!("/api/v1/conversations/{cid}/{what}"),
        Some(token),
        Some(body),
        if_match,
    )
    .await
}

/// Does `what` with the conversation's current ETag.
async fn act(app: &TestApp, token: &str, cid: &str, what: &str, body: &Value) -> Res {
    let tag = etag(&conversation(app, token, cid).await);
    post_if(app, token, cid, what, body, Some(&tag)).await
}

/// Confirms slot `slot` as `token` and asserts success.
async fn accept_ok(app: &TestApp, token: &str, cid: &str, slot: i32) -> Res {
    let r = act(app, token, cid, "accept", &json!({ "slot": slot })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "confirmed");
    r
}

/// The API refuses minutes before the start: move a confirmed conversation (and its bookings)
/// `hours` back, as if it had taken place.
async fn move_into_past(app: &TestApp, cid: &str, hours: i32) {
    let id = Uuid::parse_str(cid).unwrap();
    sqlx::query(
        "UPDATE conversations SET confirmed_start = now() - make_interval(hours => $2) WHERE id = $1",
    )
    .bind(id)
    .bind(hours)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE conversation_bookings SET during = tstzrange(now() - make_interval(hours => $2), now() - make_interval(hours => $2) + make_interval(mins => 30)) WHERE conversation_id = $1")
        .bind(id)
        .bind(hours)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn bookings_of(app: &TestApp, cid: &str) -> Vec<(Uuid, OffsetDateTime)> {
    sqlx::query_as(
        "SELECT user_id, lower(during) FROM conversation_bookings WHERE conversation_id = $1 ORDER BY user_id",
    )
    .bind(Uuid::parse_str(cid).unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn ids_of(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Europe/Oslo, computed here independently of the service
// ---------------------------------------------------------------------------------------------

fn last_sunday_at_one_utc(year: i32, month: Month) -> OffsetDateTime {
    let mut d = Date::from_calendar_date(year, month, month.length(year)).unwrap();
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day().unwrap();
    }
    d.with_hms(1, 0, 0).unwrap().assume_utc()
}

fn oslo(t: OffsetDateTime) -> OffsetDateTime {
    let u = t.to_offset(UtcOffset::UTC);
    let summer = u >= last_sunday_at_one_utc(u.year(), Month::March)
        && u < last_sunday_at_one_utc(u.year(), Month::October);
    u.to_offset(UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap())
}

/// The local date-time an iCalendar `DTSTART;TZID=Europe/Oslo:` shows for this instant.
fn ics_local(t: OffsetDateTime) -> String {
    oslo(t)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]"
        ))
        .unwrap()
}

/// How a calendar reads `DTSTART;TZID=Europe/Oslo:<local>` (RFC 5545 3.3.5): a local time that
/// occurs twice means its first occurrence.
fn resolve_oslo(local: &str) -> OffsetDateTime {
    let f = format_description!("[year][month][day]T[hour][minute][second]");
    let p = time::PrimitiveDateTime::parse(local, &f).unwrap();
    [2, 1]
        .into_iter()
        .map(|h| p.assume_offset(UtcOffset::from_hms(h, 0, 0).unwrap()))
        .filter(|t| oslo(*t).offset() == t.offset())
        .min()
        .unwrap_or_else(|| panic!("{local} does not exist in Oslo"))
}

/// "dd.mm.yyyy kl. HH:MM" in Oslo time, as the e-mails write it.
fn when(t: OffsetDateTime) -> String {
    oslo(t)
        .format(format_description!(
            "[day].[month].[year] kl. [hour]:[minute]"
        ))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// E-mail and iCalendar read back
// ---------------------------------------------------------------------------------------------

/// A header of a MIME entity (folded lines joined).
fn header_in(headers: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = headers.split("\r\n").peekable();
    while let Some(l) = lines.next() {
        if l.to_ascii_lowercase().starts_with(&prefix) {
            let mut v = l[prefix.len()..].trim().to_owned();
            while lines
                .peek()
                .is_some_and(|n| n.starts_with(' ') || n.starts_with('\t'))
            {
                v.push(' ');
                v.push_str(lines.next().unwrap_or_default().trim());
            }
            return Some(v);
        }
    }
    None
}

/// A parameter of a header value such as `text/calendar; charset=utf-8; method=REQUEST`.
fn header_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[derive(Debug, Clone)]
pub(crate) struct Part {
    content_type: String,
    body: String,
}

/// The leaf parts of a MIME entity, their bodies decoded.
fn leaf_parts(entity: &str) -> Vec<Part> {
    let (headers, body) = entity.split_once("\r\n\r\n").unwrap_or((entity, ""));
    let ct = header_in(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    if ct.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = header_param(&ct, "boundary").unwrap_or_else(|| panic!("no boundary: {ct}"));
        let delimiter = format!("--{boundary}");
        return body
            .split(delimiter.as_str())
            .skip(1)
            .take_while(|p| !p.starts_with("--"))
            .flat_map(|p| leaf_parts(p.strip_prefix("\r\n").unwrap_or(p)))
            .collect();
    }
    let cte = header_in(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = match cte.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8(STANDARD.decode(compact).unwrap()).unwrap()
        }
        "quoted-printable" => String::from_utf8(qp_decode(body)).unwrap(),
        _ => body.to_owned(),
    };
    vec![Part {
        content_type: ct,
        body,
    }]
}

#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) to: String,
    pub(crate) subject: String,
    parts: Vec<Part>,
    raw: String,
}

impl Mail {
    fn parse(m: &Received) -> Mail {
        assert_eq!(m.to.len(), 1, "one recipient per message: {:?}", m.to);
        Mail {
            to: m.to[0].to_lowercase(),
            subject: decode_words(&m.header("subject").unwrap_or_default()),
            parts: leaf_parts(&m.data),
            raw: m.data.clone(),
        }
    }

    pub(crate) fn calendar(&self) -> Option<&Part> {
        self.parts.iter().find(|p| {
            p.content_type
                .to_ascii_lowercase()
                .starts_with("text/calendar")
        })
    }

    pub(crate) fn text(&self) -> String {
        self.parts
            .iter()
            .filter(|p| {
                p.content_type
                    .to_ascii_lowercase()
                    .starts_with("text/plain")
            })
            .map(|p| p.body.clone())
            .collect()
    }

    /// Everything a reader could see: headers decoded, every part decoded, and the raw text.
    pub(crate) fn everything(&self) -> String {
        let mut s = decode_words(&self.raw);
        s.push_str(&self.subject);
        for p in &self.parts {
            s.push_str(&p.body);
        }
        s
    }
}

pub(crate) fn mails(app: &TestApp) -> Vec<Mail> {
    app.smtp.messages().iter().map(Mail::parse).collect()
}

#[derive(Debug, Clone)]
pub(crate) struct Prop {
    name: String,
    params: BTreeMap<String, String>,
    value: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Comp {
    name: String,
    props: Vec<Prop>,
    subs: Vec<Comp>,
}

impl Comp {
    pub(crate) fn all(&self, name: &str) -> Vec<&Prop> {
        self.props.iter().filter(|p| p.name == name).collect()
    }

    pub(crate) fn one(&self, name: &str) -> &Prop {
        let all = self.all(name);
        assert_eq!(all.len(), 1, "{name} in {}: {:?}", self.name, self.props);
        all[0]
    }

    pub(crate) fn val(&self, name: &str) -> &str {
        &self.one(name).value
    }

    pub(crate) fn subs(&self, name: &str) -> Vec<&Comp> {
        self.subs.iter().filter(|c| c.name == name).collect()
    }

    /// The one VEVENT of a calendar.
    pub(crate) fn event(&self) -> &Comp {
        let e = self.subs("VEVENT");
        assert_eq!(e.len(), 1, "one VEVENT: {self:?}");
        e[0]
    }
}

fn own_prop(p: &icalendar::parser::Property<'_>) -> Prop {
    Prop {
        name: p.name.as_str().to_ascii_uppercase(),
        params: p
            .params
            .iter()
            .map(|x| {
                (
                    x.key.as_str().to_ascii_uppercase(),
                    x.val
                        .as_ref()
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        value: p.val.as_str().to_owned(),
    }
}

fn own_comp(c: &icalendar::parser::Component<'_>) -> Comp {
    Comp {
        name: c.name.as_str().to_ascii_uppercase(),
        props: c.properties.iter().map(own_prop).collect(),
        subs: c.components.iter().map(own_comp).collect(),
    }
}

/// Parses an iCalendar object back (after checking its lines are folded at 75 octets).
fn parse_ics(raw: &str) -> Comp {
    for l in raw.split("\r\n") {
        assert!(l.len() <= 75, "unfolded line of {} octets: {l}", l.len());
    }
    let unfolded = icalendar::parser::unfold(raw);
    let cal = icalendar::parser::read_calendar(&unfolded)
        .unwrap_or_else(|e| panic!("not iCalendar: {e}\n{unfolded}"));
    Comp {
        name: "VCALENDAR".into(),
        props: cal.properties.iter().map(own_prop).collect(),
        subs: cal.components.iter().map(own_comp).collect(),
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub(crate) mail: Mail,
    /// The `method` parameter of the calendar part's Content-Type.
    pub(crate) method_param: String,
    pub(crate) cal: Comp,
}

impl Invite {
    pub(crate) fn seq(&self) -> String {
        self.cal.event().val("SEQUENCE").to_owned()
    }
}

/// Every received invitation (any method) for the event with this UID.
pub(crate) fn invites(app: &TestApp, uid: &str) -> Vec<Invite> {
    mails(app)
        .into_iter()
        .filter_map(|m| {
            let part = m.calendar()?.clone();
            if !icalendar::parser::unfold(&part.body).contains(&format!("\r\nUID:{uid}\r\n")) {
                return None;
            }
            let method_param = header_param(&part.content_type, "method").unwrap_or_default();
            let cal = parse_ics(&part.body);
            Some(Invite {
                mail: m,
                method_param,
                cal,
            })
        })
        .collect()
}

/// Waits until `n` invitations for `uid` arrived, then a little longer for any extra one.
pub(crate) async fn wait_invites(app: &TestApp, uid: &str, n: usize) -> Vec<Invite> {
    let start = Instant::now();
    while invites(app, uid).len() < n && start.elapsed() < StdDuration::from_secs(15) {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    invites(app, uid)
}

fn per_recipient<'a>(to: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for t in to {
        *m.entry(t.to_owned()).or_default() += 1;
    }
    m
}

fn once_each(addrs: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    addrs.keys().map(|a| (a.clone(), 1)).collect()
}

/// What an invitation must say.
struct Expect<'a> {
    method: &'a str,
    uid: &'a str,
    sequence: i32,
    start: OffsetDateTime,
    minutes: i64,
    /// Address → CN.
    attendees: &'a BTreeMap<String, String>,
    organizer: &'a Organizer,
    reference: &'a str,
}

/// The ORGANIZER an invitation must name, and what it says about replies.
#[derive(Debug, Clone)]
struct Organizer {
    cn: String,
    email: String,
    /// The `SENT-BY` address, without `mailto:`.
    sent_by: Option<String>,
    /// Whether attendees are asked for a reply (`RSVP=TRUE`).
    rsvp: bool,
    /// What the contact line of the message must contain.
    contact: String,
    /// The service's address, for the public URL check.
    public_url: String,
}

/// The staff member who proposed, sending through the service's address; replies reach them.
async fn proposer(app: &TestApp, email: &str) -> Organizer {
    Organizer {
        cn: user_name(app, email).await,
        email: email.to_lowercase(),
        sent_by: Some(app.settings.mail_from_parts().1),
        rsvp: true,
        contact: email.to_lowercase(),
        public_url: app.settings.public_url(),
    }
}

/// The service itself (the proposer unknown): no reply asked; the contact is the organisation
/// that proposed.
async fn service_organizer(app: &TestApp, proposing_user: &str) -> Organizer {
    let (cn, email) = app.settings.mail_from_parts();
    let org: String = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
        .bind(app.org_of(proposing_user).await)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    Organizer {
        cn,
        email,
        sent_by: None,
        rsvp: false,
        contact: org,
        public_url: app.settings.public_url(),
    }
}

/// Checks an invitation field by field.
fn check_invite(inv: &Invite, e: &Expect<'_>) {
    let who = &inv.mail.to;
    assert!(
        inv.method_param.eq_ignore_ascii_case(e.method),
        "{who}: Content-Type method {:?}",
        inv.method_param
    );
    let cal = &inv.cal;
    assert_eq!(cal.val("METHOD"), e.method, "{who}");
    assert_eq!(cal.val("VERSION"), "2.0", "{who}");
    assert!(!cal.val("PRODID").is_empty());
    let tz = cal.subs("VTIMEZONE");
    assert_eq!(tz.len(), 1, "{who}: one VTIMEZONE");
    assert_eq!(tz[0].val("TZID"), "Europe/Oslo");
    let daylight = tz[0].subs("DAYLIGHT");
    let standard = tz[0].subs("STANDARD");
    assert_eq!((daylight.len(), standard.len()), (1, 1), "{:?}", tz[0]);
    assert_eq!(daylight[0].val("TZOFFSETFROM"), "+0100");
    assert_eq!(daylight[0].val("TZOFFSETTO"), "+0200");
    assert_eq!(standard[0].val("TZOFFSETFROM"), "+0200");
    assert_eq!(standard[0].val("TZOFFSETTO"), "+0100");
    let ev = cal.event();
    assert_eq!(ev.val("UID"), e.uid, "{who}");
    assert_eq!(ev.val("SEQUENCE"), e.sequence.to_string(), "{who}");
    let start = ev.one("DTSTART");
    assert_eq!(
        start.params.get("TZID").map(String::as_str),
        Some("Europe/Oslo"),
        "{who}: {start:?}"
    );
    assert_eq!(start.value, ics_local(e.start), "{who}: DTSTART");
    let end = ev.one("DTEND");
    assert_eq!(
        end.params.get("TZID").map(String::as_str),
        Some("Europe/Oslo")
    );
    assert_eq!(
        end.value,
        ics_local(e.start + Duration::minutes(e.minutes)),
        "{who}: DTEND"
    );
    let stamp = ev.val("DTSTAMP");
    assert!(stamp.len() == 16 && stamp.ends_with('Z'), "DTSTAMP {stamp}");
    let org = ev.one("ORGANIZER");
    assert!(
        org.value
            .eq_ignore_ascii_case(&format!("mailto:{}", e.organizer.email)),
        "{who}: {org:?}"
    );
    assert_eq!(
        org.params.get("CN").map(String::as_str),
        Some(e.organizer.cn.as_str()),
        "{who}: {org:?}"
    );
    assert_eq!(
        org.params.get("SENT-BY").map(|s| s.to_lowercase()),
        e.organizer
            .sent_by
            .as_ref()
            .map(|a| format!("mailto:{a}").to_lowercase()),
        "{who}: {org:?}"
    );
    let attendees: BTreeMap<String, String> = ev
        .all("ATTENDEE")
        .iter()
        .map(|a| {
            let addr = a
                .value
                .strip_prefix("mailto:")
                .unwrap_or_else(|| panic!("not mailto: {a:?}"))
                .to_lowercase();
            if e.method == "REQUEST" {
                assert_eq!(
                    a.params.get("PARTSTAT").map(String::as_str),
                    Some("NEEDS-ACTION"),
                    "{a:?}"
                );
                let rsvp = if e.organizer.rsvp { "TRUE" } else { "FALSE" };
                assert_eq!(
                    a.params.get("RSVP").map(String::as_str),
                    Some(rsvp),
                    "{who}: {a:?}"
                );
            }
            (addr, a.params.get("CN").cloned().unwrap_or_default())
        })
        .collect();
    assert_eq!(&attendees, e.attendees, "{who}: ATTENDEE");
    assert_eq!(ev.all("ATTENDEE").len(), e.attendees.len(), "{who}");
    assert_eq!(ev.val("LOCATION"), VIDEO, "{who}");
    assert_eq!(ev.val("URL"), VIDEO, "{who}");
    let status = if e.method == "CANCEL" {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    assert_eq!(ev.val("STATUS"), status, "{who}");
    assert!(ev.val("SUMMARY").contains(e.reference), "{who}");
    // The subject names the case, never the person; nothing in the message names them.
    assert!(
        inv.mail.subject.contains(e.reference),
        "{who}: subject {}",
        inv.mail.subject
    );
    let all = inv.mail.everything();
    assert!(
        !all.contains(GIVEN) && !all.contains(FAMILY),
        "{who}: the participant's name in the message"
    );
    // Everyone gets the organiser's contact; the time and the place are in the calendar part and
    // in the text of an invitation.
    let text = inv.mail.text();
    let description = ev.val("DESCRIPTION");
    for (what, s) in [("text", text.as_str()), ("DESCRIPTION", description)] {
        assert!(
            s.contains(&e.organizer.contact),
            "{who}: no contact {} in the {what}: {s}",
            e.organizer.contact
        );
    }
    if e.method == "REQUEST" {
        assert!(text.contains(&when(e.start)), "{who}: {text}");
        assert!(text.contains(VIDEO), "{who}: no place in the text: {text}");
    }
    // External attendees have no account: never a link into the service for them. Users of
    // the service get the link in the calendar part.
    let link = "/conversations/";
    if [PARTICIPANT_MAIL, INTERPRETER_MAIL].contains(&who.as_str()) {
        assert!(
            !all.contains(link) && !all.contains(&e.organizer.public_url),
            "{who}: a link into the service for an external attendee: {all}"
        );
    } else {
        assert!(description.contains(link), "{who}: {description}");
    }
}

/// Internal attendees: address → CN (their name).
async fn internal(app: &TestApp, emails: &[&str]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for e in emails {
        m.insert(e.to_lowercase(), user_name(app, e).await);
    }
    m
}

fn with_externals(mut m: BTreeMap<String, String>) -> BTreeMap<String, String> {
    m.insert(PARTICIPANT_MAIL.into(), "Deltaker".into());
    m.insert(INTERPRETER_MAIL.into(), "Tolk (ti)".into());
    m
}

// ---------------------------------------------------------------------------------------------
// 1. Done when
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn done_when_proposed_accepted_invited_moved_cancelled_and_then_held() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let agder_id = app.user_id(who::AGDER_COUNSELLOR).await;
    let muni_org = app.org_of(who::KOMMUNE_KRS_STAFF).await;
    let centre_org = app.org_of(who::KRS_STAFF).await;
    // The municipality's staff member proposes: the organiser of every invitation.
    let organizer = proposer(&app, who::KOMMUNE_KRS_STAFF).await;

    // The municipality proposes three slots.
    let slots = [
        (at(12, 9, 0), 60),
        (at(13, 11, 30), 60),
        (at(14, 13, 0), 90),
    ];
    let r = propose(
        &app,
        &muni,
        &h.id,
        &proposal(&slots, &[staff_id, muni_id, agder_id], externals()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let cid = id_of(&r);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/conversations/{cid}").as_str())
    );
    let c = &r.body;
    assert_eq!(c["state"], "proposed");
    assert_eq!(c["handover_id"], h.id.as_str());
    assert_eq!(c["handover_reference"], h.reference.as_str());
    assert_eq!(c["proposed_by_organisation_id"], muni_org.to_string());
    assert_eq!(c["mode"], "video");
    assert_eq!(c["video_link"], VIDEO);
    assert!(c["confirmed_slot"].is_null());
    let got: Vec<(i64, OffsetDateTime, i64)> = c["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["position"].as_i64().unwrap(),
                ts(&s["start_utc"]),
                s["duration_minutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, slots[0].0, 60),
            (1, slots[1].0, 60),
            (2, slots[2].0, 90)
        ]
    );
    let attendee_ids: BTreeSet<String> = c["internal_attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        attendee_ids,
        [staff_id, muni_id, agder_id]
            .iter()
            .map(Uuid::to_string)
            .collect()
    );
    assert_eq!(c["external_attendees"].as_array().unwrap().len(), 2);
    let uid = format!("conversation-{cid}@handover");
    assert_eq!(c["calendar_uid"], uid.as_str());
    assert_eq!(c["calendar_sequence"], 0);
    assert_eq!(handover_state(&app, &centre, &h.id).await, "accepted");

    // The centre accepts the first slot.
    let r = post_if(
        &app,
        &centre,
        &cid,
        "accept",
        &json!({"slot": 0}),
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "confirmed");
    assert_eq!(ts(&r.body["confirmed_slot"]["start_utc"]), slots[0].0);
    assert_eq!(r.body["confirmed_slot"]["duration_minutes"], 60);
    assert_eq!(r.body["calendar_sequence"], 0);
    assert_eq!(
        handover_state(&app, &centre, &h.id).await,
        "conversation_scheduled"
    );
    assert_eq!(bookings_of(&app, &cid).await.len(), 3);

    let attendees = with_externals(
        internal(
            &app,
            &[
                who::KRS_STAFF,
                who::KOMMUNE_KRS_STAFF,
                who::AGDER_COUNSELLOR,
            ],
        )
        .await,
    );
    let invs = wait_invites(&app, &uid, attendees.len()).await;
    assert_eq!(
        per_recipient(invs.iter().map(|i| i.mail.to.as_str())),
        once_each(&attendees),
        "exactly one invitation in every attendee's mailbox"
    );
    for inv in &invs {
        check_invite(
            inv,
            &Expect {
                method: "REQUEST",
                uid: &uid,
                sequence: 0,
                start: slots[0].0,
                minutes: 60,
                attendees: &attendees,
                organizer: &organizer,
                reference: &h.reference,
            },
        );
        assert!(
            inv.mail.text().contains(&when(slots[0].0)),
            "{}",
            inv.mail.text()
        );
    }

    // Moved: an update with the same UID and the next SEQUENCE.
    let moved = at(15, 10, 15);
    let r = act(
        &app,
        &muni,
        &cid,
        "reschedule",
        &json!({"start": rfc(moved), "duration_minutes": 45}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["calendar_sequence"], 1);
    assert_eq!(ts(&r.body["confirmed_slot"]["start_utc"]), moved);
    assert_eq!(r.body["confirmed_slot"]["duration_minutes"], 45);
    let invs = wait_invites(&app, &uid, 2 * attendees.len()).await;
    let updates: Vec<&Invite> = invs.iter().filter(|i| i.seq() == "1").collect();
    assert_eq!(
        per_recipient(updates.iter().map(|i| i.mail.to.as_str())),
        once_each(&attendees)
    );
    assert_eq!(invs.len(), 2 * attendees.len(), "nothing else for this UID");
    for inv in updates {
        check_invite(
            inv,
            &Expect {
                method: "REQUEST",
                uid: &uid,
                sequence: 1,
                start: moved,
                minutes: 45,
                attendees: &attendees,
                organizer: &organizer,
                reference: &h.reference,
            },
        );
    }
    let b = bookings_of(&app, &cid).await;
    assert!(b.len() == 3 && b.iter().all(|(_, s)| *s == moved), "{b:?}");
    assert_eq!(
        handover_state(&app, &centre, &h.id).await,
        "conversation_scheduled"
    );

    // Cancelled: METHOD:CANCEL, same UID, the next SEQUENCE; the handover is open again.
    let reason = "Tolken er ikke tilgjengelig; ny tid avtales.";
    let r = act(&app, &centre, &cid, "cancel", &json!({ "reason": reason })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "cancelled");
    assert_eq!(r.body["cancel_reason"], reason);
    assert_eq!(r.body["calendar_sequence"], 2);
    let invs = wait_invites(&app, &uid, 3 * attendees.len()).await;
    let cancels: Vec<&Invite> = invs.iter().filter(|i| i.seq() == "2").collect();
    assert_eq!(
        per_recipient(cancels.iter().map(|i| i.mail.to.as_str())),
        once_each(&attendees)
    );
    for inv in cancels {
        check_invite(
            inv,
            &Expect {
                method: "CANCEL",
                uid: &uid,
                sequence: 2,
                start: moved,
                minutes: 45,
                attendees: &attendees,
                organizer: &organizer,
                reference: &h.reference,
            },
        );
    }
    assert_eq!(handover_state(&app, &centre, &h.id).await, "accepted");
    assert!(bookings_of(&app, &cid).await.is_empty());
    let r = act(&app, &muni, &cid, "cancel", &json!({"reason": "Igjen."})).await;
    r.assert_problem(409);

    // A new proposal (from the centre this time), accepted by the municipality.
    let again = [(at(20, 8, 0), 60), (at(21, 12, 0), 60)];
    let (cid2, _) = propose_ok(
        &app,
        &centre,
        &h.id,
        &proposal(&again, &[staff_id, muni_id], json!([])),
    )
    .await;
    assert_ne!(cid2, cid);
    let r = accept_ok(&app, &muni, &cid2, 1).await;
    assert_eq!(ts(&r.body["confirmed_slot"]["start_utc"]), again[1].0);
    assert_eq!(
        handover_state(&app, &centre, &h.id).await,
        "conversation_scheduled"
    );

    // Minutes: not before the start, only parties responsible; then held with two actions.
    let minutes = json!({
        "outcome": "held",
        "notes": "Gjennomgang av mappen. Deltakeren ønsker helsefagarbeider.",
        "actions": [
            {"description": "Melde opp til § 11-veiledning hos karrieresenteret.", "responsible_organisation_id": muni_org, "due_date": ahead(30)},
            {"description": "Sende oppdatert norskprøveresultat.", "responsible_organisation_id": centre_org, "due_date": null}
        ]
    });
    let r = act(&app, &muni, &cid2, "minutes", &minutes).await;
    assert!(
        r.assert_problem(409).ends_with("conflict"),
        "minutes before the start: {}",
        r.text
    );
    move_into_past(&app, &cid2, 2).await;
    let trd = org_by_number(&app, TRD_NO).await;
    let mut outsider = minutes.clone();
    outsider["actions"][1]["responsible_organisation_id"] = json!(trd);
    let r = act(&app, &muni, &cid2, "minutes", &outsider).await;
    assert_invalid_field(&r, "actions[1].responsible_organisation_id", "outsider");
    let r = act(&app, &muni, &cid2, "minutes", &minutes).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "held");
    assert_eq!(handover_state(&app, &centre, &h.id).await, "completed");
    let muni_name = user_name(&app, who::KOMMUNE_KRS_STAFF).await;
    for token in [&centre, &muni, &agder] {
        let c = conversation(&app, token, &cid2).await;
        let m = &c.body["minutes"];
        assert_eq!(m["outcome"], "held", "{}", c.text);
        assert_eq!(m["notes"], minutes["notes"]);
        assert_eq!(m["actions"], minutes["actions"]);
        assert_eq!(m["recorded_by_name"], muni_name.as_str());
        assert!(ts(&m["recorded_at"]) <= OffsetDateTime::now_utc());
    }
    let list = app
        .get(
            &format!("/api/v1/handovers/{}/conversations", h.id),
            &centre,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(ids_of(&list), vec![cid.clone(), cid2.clone()]);
    let states: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["cancelled", "held"]);
    // Held is final.
    let r = act(&app, &centre, &cid2, "minutes", &minutes).await;
    r.assert_problem(409);
    let r = act(
        &app,
        &centre,
        &cid2,
        "cancel",
        &json!({"reason": "For sent."}),
    )
    .await;
    r.assert_problem(409);
}

/// A held conversation for a new handover with three agreed actions: the municipality's
/// (three days overdue), the centre's (due in ten days) and the career centre's (no date).
/// Returns the conversation id and the ids of the actions, in that order.
async fn held_with_actions(app: &TestApp) -> (String, [String; 3]) {
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let (cid, _) = propose_ok(
        app,
        &centre,
        &h.id,
        &proposal(&[(at(20, 8, 0), 60)], &[staff_id], json!([])),
    )
    .await;
    accept_ok(app, &muni, &cid, 0).await;
    move_into_past(app, &cid, 2).await;
    let minutes = json!({
        "outcome": "held",
        "notes": "",
        "actions": [
            {"description": "Melde opp til § 11-veiledning.", "responsible_organisation_id": app.org_of(who::KOMMUNE_KRS_STAFF).await, "due_date": ago(3)},
            {"description": "Sende norskprøveresultatet.", "responsible_organisation_id": app.org_of(who::KRS_STAFF).await, "due_date": ahead(10)},
            {"description": "Sende veiledningsnotat.", "responsible_organisation_id": app.org_of(who::AGDER_COUNSELLOR).await, "due_date": null}
        ]
    });
    let r = act(app, &muni, &cid, "minutes", &minutes).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get(
            &format!("/api/v1/conversations/{cid}/agreed-actions"),
            &centre,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<String> = ids_of(&r);
    assert_eq!(ids.len(), 3, "{}", r.text);
    (cid, [ids[0].clone(), ids[1].clone(), ids[2].clone()])
}

async fn patch_action(
    app: &TestApp,
    token: &str,
    id: &str,
    tag: Option<&str>,
    body: &Value,
) -> Res {
    call(
        app,
        Method::PATCH,
        &format!("/api/v1/agreed-actions/{id}"),
        Some(token),
        Some(body),
        tag,
    )
    .await
}

#[tokio::test]
async fn agreed_actions_are_followed_up_by_the_organisation_responsible_for_each() {
    let app = spawn_app().await;
    let (cid, [muni_action, centre_action, career_action]) = held_with_actions(&app).await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;

    // Both sides and the career centre see every action and where it stands; nobody else.
    for token in [&centre, &muni, &agder] {
        let r = app
            .get(
                &format!("/api/v1/conversations/{cid}/agreed-actions"),
                token,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(
            ids_of(&r),
            [
                muni_action.clone(),
                centre_action.clone(),
                career_action.clone()
            ]
        );
        assert!(items.iter().all(|a| a["status"] == "open"));
        let overdue: Vec<bool> = items
            .iter()
            .map(|a| a["overdue"].as_bool().unwrap())
            .collect();
        assert_eq!(overdue, [true, false, false]);
        assert_eq!(items[0]["description"], "Melde opp til § 11-veiledning.");
    }
    for (email, status) in [
        (who::STJ_STAFF, 404),
        (who::KOMMUNE_TRD_STAFF, 404),
        (who::TRD_COUNSELLOR, 404),
        (who::KRS_ADMIN, 403),
    ] {
        let t = app.token(email).await;
        app.get(&format!("/api/v1/conversations/{cid}/agreed-actions"), &t)
            .await
            .assert_problem(status);
    }

    // Each organisation's own list: its actions only, overdue ones on request.
    let mine = |token: &str, q: &str| {
        let url = format!("/api/v1/agreed-actions{q}");
        let token = token.to_owned();
        let app = &app;
        async move { app.get(&url, &token).await }
    };
    let r = mine(&muni, "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(ids_of(&r).contains(&muni_action));
    assert!(!ids_of(&r).contains(&centre_action) && !ids_of(&r).contains(&career_action));
    assert_eq!(
        ids_of(&mine(&muni, "?overdue=true").await),
        std::slice::from_ref(&muni_action)
    );
    assert!(ids_of(&mine(&centre, "").await).contains(&centre_action));
    assert!(
        mine(&centre, "?overdue=true").await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != centre_action.as_str())
    );
    assert!(ids_of(&mine(&agder, "").await).contains(&career_action));
    for email in [who::KOMMUNE_TRD_STAFF, who::STJ_STAFF, who::TRD_COUNSELLOR] {
        let t = app.token(email).await;
        let ids = ids_of(&mine(&t, "").await);
        assert!(
            !ids.contains(&muni_action)
                && !ids.contains(&centre_action)
                && !ids.contains(&career_action),
            "{email}: {ids:?}"
        );
    }
    let admin = app.token(who::KRS_ADMIN).await;
    mine(&admin, "").await.assert_problem(403);
    for bad in [
        "?status=finished",
        "?overdue=perhaps",
        "?limit=0",
        "?colour=red",
    ] {
        let r = mine(&muni, bad).await;
        assert!(
            r.status == 400 || r.status == 422,
            "{bad}: {} {}",
            r.status,
            r.text
        );
    }

    // Only the responsible organisation changes an action; the others do not learn of it.
    let done = json!({"status": "done"});
    for (email, id) in [
        (who::KRS_STAFF, &muni_action),
        (who::KOMMUNE_TRD_STAFF, &muni_action),
        (who::KOMMUNE_KRS_STAFF, &centre_action),
        (who::STJ_STAFF, &centre_action),
        (who::TRD_COUNSELLOR, &career_action),
        (who::AGDER_COUNSELLOR, &muni_action),
    ] {
        let t = app.token(email).await;
        patch_action(&app, &t, id, Some("\"1\""), &done)
            .await
            .assert_problem(404);
    }
    patch_action(&app, &admin, &muni_action, Some("\"1\""), &done)
        .await
        .assert_problem(403);
    // Bad input, and versions.
    patch_action(&app, &muni, &muni_action, None, &done)
        .await
        .assert_problem(428);
    patch_action(&app, &muni, &muni_action, Some("\"7\""), &done)
        .await
        .assert_problem(412);
    let r = patch_action(
        &app,
        &muni,
        &muni_action,
        Some("\"1\""),
        &json!({"status": "dropped"}),
    )
    .await;
    assert_invalid_field(&r, "reason", "a drop without a reason");
    let r = patch_action(
        &app,
        &muni,
        &muni_action,
        Some("\"1\""),
        &json!({"status": "done", "reason": "Fordi."}),
    )
    .await;
    assert_invalid_field(&r, "reason", "a reason for done");
    for bad in [
        json!({"status": "finished"}),
        json!({}),
        json!({"status": "done", "extra": 1}),
    ] {
        let r = patch_action(&app, &muni, &muni_action, Some("\"1\""), &bad).await;
        assert!(
            r.status == 400 || r.status == 422,
            "{bad}: {} {}",
            r.status,
            r.text
        );
    }

    // Done: no longer overdue, on anyone's list.
    let r = patch_action(&app, &muni, &muni_action, Some("\"1\""), &done).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "done");
    assert_eq!(r.body["overdue"], false);
    assert_eq!(
        r.body["status_changed_by_name"],
        user_name(&app, who::KOMMUNE_KRS_STAFF).await.as_str()
    );
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert!(ids_of(&mine(&muni, "?overdue=true").await).is_empty());
    // Dropped with the reason, then opened again (the reason goes).
    let r = patch_action(
        &app,
        &centre,
        &centre_action,
        Some("\"1\""),
        &json!({"status": "dropped", "reason": "  Deltakeren tok prøven på nytt.  "}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["drop_reason"], "Deltakeren tok prøven på nytt.");
    let r = patch_action(
        &app,
        &centre,
        &centre_action,
        Some("\"2\""),
        &json!({"status": "open"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "open");
    assert!(r.body["drop_reason"].is_null());
    let r = patch_action(&app, &agder, &career_action, Some("\"1\""), &done).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The centre sees what the others did.
    let r = app
        .get(
            &format!("/api/v1/conversations/{cid}/agreed-actions"),
            &centre,
        )
        .await;
    let statuses: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done", "open", "done"]);
    assert_eq!(app.audit_count("agreed_action.update", "success").await, 4);
    // Each list that showed an action left a row naming its participants (an empty one discloses
    // nothing): the municipality twice, the centre and the career centre at least once.
    assert!(app.audit_count("agreed_action.list", "success").await >= 4);
}

// ---------------------------------------------------------------------------------------------
// 2. No-show
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn no_show_keeps_the_handover_open_for_a_new_conversation() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(at(11, 9, 0), 60)], &[staff_id, muni_id], json!([])),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    move_into_past(&app, &cid, 4).await;
    let r = act(
        &app,
        &centre,
        &cid,
        "minutes",
        &json!({"outcome": "no_show", "notes": "Deltakeren møtte ikke; ringt uten svar."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "no_show");
    assert_eq!(r.body["minutes"]["outcome"], "no_show");
    assert_eq!(handover_state(&app, &centre, &h.id).await, "accepted");
    // A new conversation can be proposed and held.
    let (cid2, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(at(12, 9, 0), 60)], &[staff_id, muni_id], json!([])),
    )
    .await;
    accept_ok(&app, &centre, &cid2, 0).await;
    assert_eq!(
        handover_state(&app, &centre, &h.id).await,
        "conversation_scheduled"
    );
    move_into_past(&app, &cid2, 2).await;
    let r = act(
        &app,
        &muni,
        &cid2,
        "minutes",
        &json!({"outcome": "held", "notes": "Holdt."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(handover_state(&app, &centre, &h.id).await, "completed");
}

// ---------------------------------------------------------------------------------------------
// 3. Double booking
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_attendee_is_never_booked_twice_at_once() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h1 = accepted_handover(&app, &centre, &muni).await;
    let h2 = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let staff_name = user_name(&app, who::KRS_STAFF).await;
    // Both have the centre's staff member; A 10:00-11:00, B 10:30-11:30.
    let ten = at(16, 10, 0);
    let half_past = ten + Duration::minutes(30);
    let (a, tag_a) = propose_ok(
        &app,
        &muni,
        &h1.id,
        &proposal(&[(ten, 60)], &[staff_id, muni_id], json!([])),
    )
    .await;
    let (b, tag_b) = propose_ok(
        &app,
        &muni,
        &h2.id,
        &proposal(&[(half_past, 60)], &[staff_id], json!([])),
    )
    .await;
    let body = json!({"slot": 0});
    let (ra, rb) = tokio::join!(
        post_if(&app, &centre, &a, "accept", &body, Some(&tag_a)),
        post_if(&app, &centre, &b, "accept", &body, Some(&tag_b)),
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", ra.text, rb.text);
    let (winner, loser, lost, loser_h, winner_h) = if ra.status == 200 {
        (a.clone(), b.clone(), rb, &h2, &h1)
    } else {
        (b.clone(), a.clone(), ra, &h1, &h2)
    };
    lost.assert_problem(409);
    let detail = lost.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&staff_name),
        "the problem names the attendee: {detail}"
    );
    let overlapping: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM conversation_bookings WHERE user_id = $1 AND during && tstzrange($2, $3)",
    )
    .bind(staff_id)
    .bind(ten)
    .bind(ten + Duration::minutes(90))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(overlapping, 1, "one booking for the attendee at that time");
    assert!(bookings_of(&app, &loser).await.is_empty());
    assert_eq!(
        conversation(&app, &centre, &loser).await.body["state"],
        "proposed"
    );
    assert_eq!(handover_state(&app, &centre, &loser_h.id).await, "accepted");
    assert_eq!(
        handover_state(&app, &centre, &winner_h.id).await,
        "conversation_scheduled"
    );

    // A later, sequential attempt: still 409, naming the attendee.
    let r = act(&app, &centre, &loser, "accept", &body).await;
    r.assert_problem(409);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&staff_name)
    );

    // Another time that does not overlap (right after both): both stand.
    let free = ten + Duration::minutes(90);
    let r = act(
        &app,
        &centre,
        &loser,
        "counter-proposal",
        &json!({"slots": [slot(free, 30)]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = accept_ok(&app, &muni, &loser, 0).await;
    assert_eq!(ts(&r.body["confirmed_slot"]["start_utc"]), free);
    assert_eq!(
        conversation(&app, &centre, &winner).await.body["state"],
        "confirmed"
    );
    let staff_bookings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM conversation_bookings WHERE user_id = $1 AND lower(during) >= $2 AND lower(during) < $3")
            .bind(staff_id)
            .bind(ten)
            .bind(ten + Duration::hours(3))
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(staff_bookings, 2);

    // Moving one onto the other's time: 409, and the old time is kept.
    let before = conversation(&app, &centre, &loser).await;
    let r = post_if(
        &app,
        &centre,
        &loser,
        "reschedule",
        &json!({"start": rfc(ten + Duration::minutes(15)), "duration_minutes": 30}),
        Some(&etag(&before)),
    )
    .await;
    r.assert_problem(409);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&staff_name)
    );
    let after = conversation(&app, &centre, &loser).await;
    assert_eq!(ts(&after.body["confirmed_slot"]["start_utc"]), free);
    assert_eq!(
        after.body["calendar_sequence"],
        before.body["calendar_sequence"]
    );
    assert_eq!(after.body["version"], before.body["version"]);
    let b = bookings_of(&app, &loser).await;
    assert!(!b.is_empty() && b.iter().all(|(_, s)| *s == free), "{b:?}");
    // No update went out for the refused move.
    let uid = format!("conversation-{loser}@handover");
    let invs = wait_invites(&app, &uid, 2).await;
    assert!(invs.iter().all(|i| i.seq() == "0"), "{invs:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Summer time
// ---------------------------------------------------------------------------------------------

fn oslo_of(s: &Value) -> (OffsetDateTime, UtcOffset) {
    let t = ts(&s["start_oslo"]);
    (t, t.offset())
}

#[tokio::test]
async fn oslo_time_is_right_around_the_summer_time_changes() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let plus1 = UtcOffset::from_hms(1, 0, 0).unwrap();
    let plus2 = UtcOffset::from_hms(2, 0, 0).unwrap();
    let body = json!({
        "slots": [
            // Given in summer time: 03:30 CEST on the spring-forward day is 01:30 UTC.
            {"start": "2027-03-28T03:30:00+02:00", "duration_minutes": 60},
            {"start": "2027-03-28T00:59:00Z", "duration_minutes": 30},
            // 02:30 local twice on the fall-back day: first in summer time, then in winter time.
            {"start": "2027-10-31T00:30:00Z", "duration_minutes": 60},
            {"start": "2027-10-31T01:30:00Z", "duration_minutes": 60}
        ],
        "mode": "video",
        "video_link": VIDEO,
        "internal_attendees": [staff_id, muni_id],
    });
    let r = propose(&app, &muni, &h.id, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let cid = id_of(&r);
    let s = r.body["slots"].as_array().unwrap();
    assert_eq!(ts(&s[0]["start_utc"]), datetime!(2027-03-28 01:30 UTC));
    assert_eq!(s[0]["start_utc"], "2027-03-28T01:30:00Z");
    assert_eq!(
        oslo_of(&s[0]),
        (datetime!(2027-03-28 03:30 +2), plus2),
        "{}",
        s[0]
    );
    assert_eq!(s[0]["start_oslo"], "2027-03-28T03:30:00+02:00");
    assert_eq!(oslo_of(&s[1]), (datetime!(2027-03-28 01:59 +1), plus1));
    assert_eq!(s[2]["start_oslo"], "2027-10-31T02:30:00+02:00");
    assert_eq!(oslo_of(&s[2]).1, plus2);
    assert_eq!(s[3]["start_oslo"], "2027-10-31T02:30:00+01:00");
    assert_eq!(oslo_of(&s[3]).1, plus1);
    assert_eq!(ts(&s[3]["start_utc"]), datetime!(2027-10-31 01:30 UTC));
    let stored: OffsetDateTime = sqlx::query_scalar(
        "SELECT starts_at FROM conversation_slots WHERE conversation_id = $1 AND position = 0",
    )
    .bind(Uuid::parse_str(&cid).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, datetime!(2027-03-28 01:30 UTC));
    assert_eq!(stored.offset(), UtcOffset::UTC);

    let uid = format!("conversation-{cid}@handover");
    let r = accept_ok(&app, &centre, &cid, 0).await;
    assert_eq!(
        r.body["confirmed_slot"]["start_oslo"],
        "2027-03-28T03:30:00+02:00"
    );
    let invs = wait_invites(&app, &uid, 2).await;
    assert_eq!(invs.len(), 2);
    for inv in &invs {
        let ev = inv.cal.event();
        assert_eq!(ev.val("DTSTART"), "20270328T033000");
        assert_eq!(
            ev.one("DTSTART").params.get("TZID").map(String::as_str),
            Some("Europe/Oslo")
        );
        assert_eq!(ev.val("DTEND"), "20270328T043000");
        assert!(
            inv.mail.text().contains("28.03.2027 kl. 03:30"),
            "{}",
            inv.mail.text()
        );
    }

    // Fall back: both instants read 02:30 on the wall, with their own offsets in the API.
    // The invitation gives such an ambiguous local time in UTC (RFC 5545 3.3.5).
    for (seq, start, offset, dtstart) in [
        (
            1,
            datetime!(2027-10-31 00:30 UTC),
            "+02:00",
            "20271031T003000Z",
        ),
        (
            2,
            datetime!(2027-10-31 01:30 UTC),
            "+01:00",
            "20271031T013000Z",
        ),
    ] {
        let r = act(
            &app,
            &muni,
            &cid,
            "reschedule",
            &json!({"start": rfc(start), "duration_minutes": 60}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.body["confirmed_slot"]["start_oslo"],
            format!("2027-10-31T02:30:00{offset}").as_str()
        );
        let invs = wait_invites(&app, &uid, 2 * (seq + 1)).await;
        let now: Vec<&Invite> = invs.iter().filter(|i| i.seq() == seq.to_string()).collect();
        assert_eq!(now.len(), 2);
        for inv in now {
            assert_eq!(inv.cal.event().val("DTSTART"), dtstart);
        }
    }
}

/// RFC 5545 3.3.5: a `TZID` local time that occurs twice means its first occurrence. A
/// conversation at 01:30 UTC on 2027-10-31 (02:30 winter time) is sent as
/// `DTSTART;TZID=Europe/Oslo:20271031T023000`, which every calendar reads as 00:30 UTC, an hour
/// early; and an hour from 00:30 UTC ends at `20271031T023000`, the same text as its start.
#[tokio::test]
async fn regression_invitations_in_the_repeated_autumn_hour_mean_the_booked_instant() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let first = datetime!(2027-10-31 00:30 UTC);
    let second = datetime!(2027-10-31 01:30 UTC);
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(first, 60)], &[staff_id], json!([])),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    let r = act(
        &app,
        &muni,
        &cid,
        "reschedule",
        &json!({"start": rfc(second), "duration_minutes": 60}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let uid = format!("conversation-{cid}@handover");
    let invs = wait_invites(&app, &uid, 2).await;
    let mut problems = Vec::new();
    for inv in &invs {
        let (start, minutes) = if inv.seq() == "0" {
            (first, 60)
        } else {
            (second, 60)
        };
        let ev = inv.cal.event();
        for (prop, want) in [
            ("DTSTART", start),
            ("DTEND", start + Duration::minutes(minutes)),
        ] {
            let p = ev.one(prop);
            let got = match p.value.strip_suffix('Z') {
                // A UTC time is never ambiguous.
                Some(utc) => time::PrimitiveDateTime::parse(
                    utc,
                    format_description!("[year][month][day]T[hour][minute][second]"),
                )
                .unwrap()
                .assume_utc(),
                None => resolve_oslo(&p.value),
            };
            if got != want {
                problems.push(format!(
                    "SEQUENCE {}: {prop} {} means {}, booked {}",
                    inv.seq(),
                    p.value,
                    rfc(got.to_offset(UtcOffset::UTC)),
                    rfc(want)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

// ---------------------------------------------------------------------------------------------
// 5. Reminders
// ---------------------------------------------------------------------------------------------

fn reminders_for(app: &TestApp, reference: &str) -> Vec<Mail> {
    mails(app)
        .into_iter()
        .filter(|m| m.subject.contains("Reminder") && m.subject.contains(reference))
        .collect()
}

async fn wait_reminders(app: &TestApp, reference: &str, n: usize) -> Vec<Mail> {
    let start = Instant::now();
    while reminders_for(app, reference).len() < n && start.elapsed() < StdDuration::from_secs(15) {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    // Several more worker rounds: nothing else may come.
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    reminders_for(app, reference)
}

/// Runs the reminder job `n` times at once from the test, next to the service's own worker.
async fn remind_concurrently(state: &handover_api::AppState, n: usize) -> usize {
    let runs: Vec<_> = (0..n)
        .map(|_| {
            let s = state.clone();
            tokio::spawn(async move {
                handover_app::conversations::send_due_reminders(&s, Duration::hours(2))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for r in runs {
        claimed += r.await.unwrap();
    }
    claimed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reminder_per_attendee_and_a_new_one_after_a_move() {
    let app = spawn_app_with(|s| {
        s.reminder_before_secs = 7200;
        s.reminder_interval_secs = 1;
    })
    .await;
    let state = app.state.clone();
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let start = (OffsetDateTime::now_utc() + Duration::hours(1))
        .replace_nanosecond(0)
        .unwrap();
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(
            &[(start, 30)],
            &[staff_id, muni_id],
            json!([{ "kind": "interpreter", "name": "Tolketjenesten Sør", "email": INTERPRETER_MAIL, "language": "ti" }]),
        ),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    let claimed = remind_concurrently(&state, 6).await;
    assert!(claimed <= 1, "claimed {claimed} times");
    let mut expected: BTreeMap<String, usize> =
        internal(&app, &[who::KRS_STAFF, who::KOMMUNE_KRS_STAFF])
            .await
            .into_keys()
            .map(|k| (k, 1))
            .collect();
    expected.insert(INTERPRETER_MAIL.into(), 1);
    let got = wait_reminders(&app, &h.reference, expected.len()).await;
    assert_eq!(per_recipient(got.iter().map(|m| m.to.as_str())), expected);
    let muni_mail = who::KOMMUNE_KRS_STAFF.to_lowercase();
    for m in &got {
        assert!(m.calendar().is_none());
        assert!(m.text().contains(&when(start)), "{}", m.text());
        assert!(!m.everything().contains(FAMILY));
        // The place and the organiser's contact for everyone; the link only for staff.
        assert!(m.text().contains(VIDEO), "{}", m.text());
        assert!(m.text().contains(&muni_mail), "{}", m.text());
        let link = m.text().contains("/conversations/");
        assert_eq!(link, m.to != INTERPRETER_MAIL, "{}: {}", m.to, m.text());
    }
    assert_eq!(remind_concurrently(&state, 3).await, 0);
    let reminded: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT reminded_for FROM conversations WHERE id = $1")
            .bind(Uuid::parse_str(&cid).unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reminded, Some(start));
    // Only this conversation is within two hours (the demo's is days away).
    let all_reminders = mails(&app)
        .into_iter()
        .filter(|m| m.subject.contains("Reminder"))
        .count();
    assert_eq!(all_reminders, expected.len());

    // Moved within the window: one new reminder each, for the new time.
    let moved = start + Duration::minutes(35);
    let r = act(
        &app,
        &centre,
        &cid,
        "reschedule",
        &json!({"start": rfc(moved), "duration_minutes": 30}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let claimed = remind_concurrently(&state, 6).await;
    assert!(claimed <= 1, "claimed {claimed} times");
    let got = wait_reminders(&app, &h.reference, 2 * expected.len()).await;
    let twice: BTreeMap<String, usize> = expected.keys().map(|k| (k.clone(), 2)).collect();
    assert_eq!(per_recipient(got.iter().map(|m| m.to.as_str())), twice);
    let new_ones = got
        .iter()
        .filter(|m| m.text().contains(&when(moved)))
        .count();
    assert_eq!(new_ones, expected.len());
}

// ---------------------------------------------------------------------------------------------
// 6. Access, turns, validation, preconditions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// ConversationRead on the conversation's handover.
    Read,
    /// ConversationManage on it.
    Manage,
    /// The caller's own lists.
    List,
}

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    kind: Kind,
    /// The answer to the parties' staff (without If-Match where it is needed).
    allowed: u16,
}

const ADMINS: [&str; 7] = [
    who::OPERATOR_ADMIN,
    who::KRS_ADMIN,
    who::STJ_ADMIN,
    who::AGDER_ADMIN,
    who::TRD_CC_ADMIN,
    who::KOMMUNE_KRS_ADMIN,
    who::KOMMUNE_TRD_ADMIN,
];

fn expected(account: &str, r: &Route) -> u16 {
    match (r.kind, account) {
        (Kind::List, a) if ADMINS.contains(&a) => 403,
        (Kind::List, _) => 200,
        (_, who::KRS_STAFF | who::KOMMUNE_KRS_STAFF) => r.allowed,
        (Kind::Read, who::AGDER_COUNSELLOR) => r.allowed,
        (Kind::Read, who::TRD_COUNSELLOR) => 404,
        (_, who::STJ_STAFF | who::KOMMUNE_TRD_STAFF) => 404,
        // Counsellors never manage; administrators never see conversations.
        _ => 403,
    }
}

#[tokio::test]
async fn access_matrix_every_route_and_every_account() {
    let app = spawn_app().await;
    let mut tokens = BTreeMap::new();
    for a in who::ALL {
        tokens.insert(a, app.token(a).await);
    }
    // The demo's confirmed conversation: Kristiansand participant 3 to Kristiansand.
    let kommune = org_by_number(&app, KRS_NO).await;
    let (cid, hid): (Uuid, Uuid) = sqlx::query_as(
        "SELECT c.id, c.handover_id FROM conversations c JOIN handovers h ON h.id = c.handover_id
         WHERE c.state = 'confirmed' AND h.municipality_id = $1 AND h.state = 'conversation_scheduled'",
    )
    .bind(kommune)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let before = conversation(&app, &tokens[who::KRS_STAFF], &cid.to_string()).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let later = at(40, 9, 0);
    let cp = format!("/api/v1/conversations/{cid}");
    let hp = format!("/api/v1/handovers/{hid}/conversations");
    let route = |method: Method, path: String, body: Option<Value>, kind, allowed| Route {
        method,
        path,
        body,
        kind,
        allowed,
    };
    let routes = vec![
        route(Method::GET, hp.clone(), None, Kind::Read, 200),
        // Allowed, but the handover already has its conversation scheduled.
        route(
            Method::POST,
            hp.clone(),
            Some(proposal(&[(later, 60)], &[staff_id], json!([]))),
            Kind::Manage,
            409,
        ),
        route(Method::GET, cp.clone(), None, Kind::Read, 200),
        route(
            Method::GET,
            format!("{cp}/calendar.ics"),
            None,
            Kind::Read,
            200,
        ),
        // Allowed, but without If-Match: 428.
        route(
            Method::POST,
            format!("{cp}/accept"),
            Some(json!({"slot": 0})),
            Kind::Manage,
            428,
        ),
        route(
            Method::POST,
            format!("{cp}/counter-proposal"),
            Some(json!({"slots": [slot(later, 60)]})),
            Kind::Manage,
            428,
        ),
        route(
            Method::POST,
            format!("{cp}/reschedule"),
            Some(slot(later, 60)),
            Kind::Manage,
            428,
        ),
        route(
            Method::POST,
            format!("{cp}/cancel"),
            Some(json!({"reason": "Matrise."})),
            Kind::Manage,
            428,
        ),
        route(
            Method::POST,
            format!("{cp}/minutes"),
            Some(json!({"outcome": "held", "notes": "Matrise."})),
            Kind::Manage,
            428,
        ),
        route(
            Method::GET,
            "/api/v1/me/conversations".into(),
            None,
            Kind::List,
            200,
        ),
        route(
            Method::GET,
            "/api/v1/conversations".into(),
            None,
            Kind::List,
            200,
        ),
    ];
    let mut cells = 0;
    let mut wrong = Vec::new();
    for r in &routes {
        for a in who::ALL {
            let res = call(
                &app,
                r.method.clone(),
                &r.path,
                Some(&tokens[a]),
                r.body.as_ref(),
                None,
            )
            .await;
            cells += 1;
            let want = expected(a, r);
            if res.status.as_u16() != want {
                wrong.push(format!(
                    "{} {} as {a}: {} (expected {want}) {}",
                    r.method, r.path, res.status, res.text
                ));
            } else if want >= 400 {
                res.assert_problem(want);
            }
        }
    }
    println!("conversation access matrix: {cells} cells");
    assert_eq!(cells, 11 * 13);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing changed.
    let after = conversation(&app, &tokens[who::KRS_STAFF], &cid.to_string()).await;
    assert_eq!(after.body, before.body);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations WHERE handover_id = $1")
        .bind(hid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn turns_attendees_validation_and_preconditions() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let centre_org = app.org_of(who::KRS_STAFF).await;
    let good = [(at(17, 9, 0), 60), (at(18, 9, 0), 60)];

    // Internal attendees from an unrelated organisation (or administrators) are unknown here.
    for outsider in [
        who::STJ_STAFF,
        who::KOMMUNE_TRD_STAFF,
        who::TRD_COUNSELLOR,
        who::KRS_ADMIN,
    ] {
        let id = app.user_id(outsider).await;
        let r = propose(
            &app,
            &muni,
            &h.id,
            &proposal(&good, &[staff_id, id], json!([])),
        )
        .await;
        assert_eq!(
            r.assert_problem(404),
            "urn:handover:problem:not-found",
            "{outsider}"
        );
    }
    let r = propose(
        &app,
        &muni,
        &h.id,
        &proposal(&good, &[Uuid::new_v4()], json!([])),
    )
    .await;
    r.assert_problem(404);

    // Validation, each naming its field.
    let base = proposal(&good, &[staff_id, muni_id], externals());
    let six: Vec<(OffsetDateTime, i32)> = (0..6).map(|i| (at(20 + i, 9, 0), 60)).collect();
    let mut cases: Vec<(&str, Value, &str)> = vec![
        ("no slot", proposal(&[], &[staff_id], json!([])), "slots"),
        ("six slots", proposal(&six, &[staff_id], json!([])), "slots"),
        (
            "past slot",
            proposal(
                &[
                    (good[0].0, 60),
                    (OffsetDateTime::now_utc() - Duration::hours(1), 60),
                ],
                &[staff_id],
                json!([]),
            ),
            "slots[1].start",
        ),
        (
            "ten minutes",
            proposal(&[(good[0].0, 10)], &[staff_id], json!([])),
            "slots[0].duration_minutes",
        ),
    ];
    let mut v = base.clone();
    v["video_link"] = json!("http://video.example.no/rom");
    cases.push(("http link", v, "video_link"));
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("video_link");
    cases.push(("no link", v, "video_link"));
    let mut v = base.clone();
    v["external_attendees"][1]
        .as_object_mut()
        .unwrap()
        .remove("language");
    cases.push(("interpreter language", v, "external_attendees[1].language"));
    for (what, body, field) in &cases {
        let r = propose(&app, &muni, &h.id, body).await;
        assert_invalid_field(&r, field, what);
    }
    let r = app
        .get(
            &format!("/api/v1/handovers/{}/conversations", h.id),
            &centre,
        )
        .await;
    assert_eq!(
        r.body["items"],
        json!([]),
        "nothing stored by refused proposals"
    );
    assert_eq!(r.body["total"], 0);

    // The municipality proposes; only one live conversation per handover.
    let (cid, tag) = propose_ok(&app, &muni, &h.id, &base).await;
    let r = propose(&app, &centre, &h.id, &base).await;
    r.assert_problem(409);

    // The proposing side cannot accept or counter its own proposal; counsellors cannot at all.
    let r = post_if(&app, &muni, &cid, "accept", &json!({"slot": 0}), Some(&tag)).await;
    r.assert_problem(409);
    let r = post_if(
        &app,
        &muni,
        &cid,
        "counter-proposal",
        &json!({"slots": [slot(at(19, 9, 0), 60)]}),
        Some(&tag),
    )
    .await;
    r.assert_problem(409);
    let r = post_if(
        &app,
        &agder,
        &cid,
        "accept",
        &json!({"slot": 0}),
        Some(&tag),
    )
    .await;
    r.assert_problem(403);
    let r = post_if(
        &app,
        &agder,
        &cid,
        "counter-proposal",
        &json!({"slots": [slot(at(19, 9, 0), 60)]}),
        Some(&tag),
    )
    .await;
    r.assert_problem(403);

    // The other side counters (with its own checks on the slots)...
    for (what, slots, field) in [
        ("none", json!([]), "slots"),
        (
            "past",
            json!([slot(OffsetDateTime::now_utc() - Duration::minutes(5), 60)]),
            "slots[0].start",
        ),
        (
            "ten minutes",
            json!([slot(at(19, 9, 0), 10)]),
            "slots[0].duration_minutes",
        ),
    ] {
        let r = post_if(
            &app,
            &centre,
            &cid,
            "counter-proposal",
            &json!({ "slots": slots }),
            Some(&tag),
        )
        .await;
        assert_invalid_field(&r, field, what);
    }
    let counter = [at(19, 9, 0), at(19, 13, 0)];
    let r = post_if(
        &app,
        &centre,
        &cid,
        "counter-proposal",
        &json!({"slots": [slot(counter[0], 60), slot(counter[1], 30)]}),
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "proposed");
    assert_eq!(
        r.body["proposed_by_organisation_id"],
        centre_org.to_string()
    );
    let starts: Vec<OffsetDateTime> = r.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| ts(&s["start_utc"]))
        .collect();
    assert_eq!(starts, counter);
    let tag2 = etag(&r);
    assert_ne!(tag2, tag);
    // ...and now it is the centre's own proposal.
    let r = post_if(
        &app,
        &centre,
        &cid,
        "accept",
        &json!({"slot": 0}),
        Some(&tag2),
    )
    .await;
    r.assert_problem(409);

    // Preconditions on accept: missing 428, stale 412; an unknown slot 422.
    let r = post_if(&app, &muni, &cid, "accept", &json!({"slot": 0}), None).await;
    r.assert_problem(428);
    let r = post_if(&app, &muni, &cid, "accept", &json!({"slot": 0}), Some(&tag)).await;
    r.assert_problem(412);
    let r = post_if(
        &app,
        &muni,
        &cid,
        "accept",
        &json!({"slot": 7}),
        Some(&tag2),
    )
    .await;
    assert_invalid_field(&r, "slot", "unknown slot");
    let r = post_if(
        &app,
        &muni,
        &cid,
        "accept",
        &json!({"slot": 1}),
        Some(&tag2),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ts(&r.body["confirmed_slot"]["start_utc"]), counter[1]);
    assert_eq!(r.body["confirmed_slot"]["duration_minutes"], 30);
    let tag3 = etag(&r);
    // Accepting twice: 409 (not proposed any more).
    let r = post_if(
        &app,
        &muni,
        &cid,
        "accept",
        &json!({"slot": 1}),
        Some(&tag3),
    )
    .await;
    r.assert_problem(409);

    // Preconditions and validation on the other writes.
    let move_to = json!({"start": rfc(at(22, 9, 0)), "duration_minutes": 60});
    for what in ["reschedule", "cancel", "minutes"] {
        let body = match what {
            "reschedule" => move_to.clone(),
            "cancel" => json!({"reason": "Ny tid."}),
            _ => json!({"outcome": "held"}),
        };
        let r = post_if(&app, &centre, &cid, what, &body, None).await;
        r.assert_problem(428);
        let r = post_if(&app, &centre, &cid, what, &body, Some(&tag2)).await;
        r.assert_problem(412);
        let r = post_if(&app, &centre, &cid, what, &body, Some("*")).await;
        r.assert_problem(428);
    }
    let r = post_if(
        &app,
        &centre,
        &cid,
        "reschedule",
        &json!({"start": rfc(at(22, 9, 0)), "duration_minutes": 10}),
        Some(&tag3),
    )
    .await;
    assert_eq!(r.assert_problem(422), "urn:handover:problem:validation");
    assert!(
        r.invalid_fields()
            .iter()
            .any(|f| f.ends_with("duration_minutes")),
        "{}",
        r.text
    );
    let r = post_if(
        &app,
        &centre,
        &cid,
        "reschedule",
        &json!({"start": rfc(OffsetDateTime::now_utc() - Duration::hours(1)), "duration_minutes": 60}),
        Some(&tag3),
    )
    .await;
    assert_eq!(r.assert_problem(422), "urn:handover:problem:validation");
    assert!(
        r.invalid_fields().iter().any(|f| f.ends_with("start")),
        "{}",
        r.text
    );
    let r = post_if(
        &app,
        &centre,
        &cid,
        "cancel",
        &json!({"reason": "  "}),
        Some(&tag3),
    )
    .await;
    assert_invalid_field(&r, "reason", "blank reason");
    // The Agder counsellor can read it, and may be invited, but not manage it.
    let r = post_if(
        &app,
        &agder,
        &cid,
        "cancel",
        &json!({"reason": "Nei."}),
        Some(&tag3),
    )
    .await;
    r.assert_problem(403);
    let c = conversation(&app, &agder, &cid).await;
    assert_eq!(etag(&c), tag3);
    assert_eq!(c.body["state"], "confirmed");
}

// ---------------------------------------------------------------------------------------------
// 7. Listings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn my_conversations_and_the_organisations_conversations() {
    let app = spawn_app().await;
    let mut tokens = BTreeMap::new();
    for a in who::ALL {
        tokens.insert(a, app.token(a).await);
    }
    let centre = tokens[who::KRS_STAFF].clone();
    let muni = tokens[who::KOMMUNE_KRS_STAFF].clone();
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let agder_id = app.user_id(who::AGDER_COUNSELLOR).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    // The demo's confirmed one (centre and municipality staff, in three days).
    let demo: Uuid = sqlx::query_scalar(
        "SELECT c.id FROM conversations c JOIN handovers h ON h.id = c.handover_id
         WHERE c.state = 'confirmed' AND h.municipality_id = $1",
    )
    .bind(kommune)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let demo = demo.to_string();

    // X: confirmed, with the Agder counsellor invited. Y: only proposed.
    let h1 = accepted_handover(&app, &centre, &muni).await;
    let h2 = accepted_handover(&app, &centre, &muni).await;
    let x_start = at(12, 10, 0);
    let (x, _) = propose_ok(
        &app,
        &muni,
        &h1.id,
        &proposal(&[(x_start, 60)], &[staff_id, muni_id, agder_id], json!([])),
    )
    .await;
    accept_ok(&app, &centre, &x, 0).await;
    let (y, _) = propose_ok(
        &app,
        &muni,
        &h2.id,
        &proposal(&[(at(13, 10, 0), 60)], &[staff_id, agder_id], json!([])),
    )
    .await;

    let mine = |a: &'static str| {
        let t = tokens[a].clone();
        let app = &app;
        async move {
            let r = app.get("/api/v1/me/conversations", &t).await;
            assert_eq!(r.status, 200, "{a}: {}", r.text);
            ids_of(&r)
        }
    };
    assert_eq!(mine(who::KRS_STAFF).await, vec![demo.clone(), x.clone()]);
    assert_eq!(
        mine(who::KOMMUNE_KRS_STAFF).await,
        vec![demo.clone(), x.clone()]
    );
    assert_eq!(mine(who::AGDER_COUNSELLOR).await, vec![x.clone()]);
    for a in [who::STJ_STAFF, who::TRD_COUNSELLOR, who::KOMMUNE_TRD_STAFF] {
        assert_eq!(mine(a).await, Vec::<String>::new(), "{a}");
    }
    for a in ADMINS {
        let r = app.get("/api/v1/me/conversations", &tokens[a]).await;
        r.assert_problem(403);
    }

    let org_list = |a: &'static str, query: String| {
        let t = tokens[a].clone();
        let app = &app;
        async move {
            let r = app.get(&format!("/api/v1/conversations{query}"), &t).await;
            assert_eq!(r.status, 200, "{a}: {}", r.text);
            ids_of(&r)
        }
    };
    let has = |list: &[String], id: &str| list.iter().any(|i| i == id);
    for a in [who::KRS_STAFF, who::KOMMUNE_KRS_STAFF] {
        let l = org_list(a, String::new()).await;
        assert!(has(&l, &x) && has(&l, &y) && has(&l, &demo), "{a}: {l:?}");
    }
    // Agder serves Kristiansand's centre: it lists what it may read one by one, attended or
    // not (the same rule as `GET /conversations/{id}`).
    let l = org_list(who::AGDER_COUNSELLOR, String::new()).await;
    assert!(has(&l, &x) && has(&l, &y) && has(&l, &demo), "{l:?}");
    conversation(&app, &tokens[who::AGDER_COUNSELLOR], &demo).await;
    for a in [who::STJ_STAFF, who::TRD_COUNSELLOR, who::KOMMUNE_TRD_STAFF] {
        let l = org_list(a, String::new()).await;
        assert!(
            !has(&l, &x) && !has(&l, &y) && !has(&l, &demo),
            "{a}: {l:?}"
        );
    }
    // A period around X's start: X only (Y counts from its creation, the demo's is earlier).
    let q = format!(
        "?from={}&to={}",
        rfc(x_start - Duration::minutes(1)),
        rfc(x_start + Duration::minutes(1))
    );
    assert_eq!(org_list(who::KRS_STAFF, q.clone()).await, vec![x.clone()]);
    assert_eq!(org_list(who::STJ_STAFF, q).await, Vec::<String>::new());
}

/// Finding 6: the lists used attendance as access. A counsellor whose career centre no longer
/// serves the reception centre still listed a conversation that `GET /conversations/{id}`
/// denied. Both lists now use the single read's relation.
#[tokio::test]
async fn regression_a_counsellor_no_longer_serving_the_centre_lists_nothing_of_it() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let counsellor = app.token(who::AGDER_COUNSELLOR).await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let agder_id = app.user_id(who::AGDER_COUNSELLOR).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(
            &[(at(12, 10, 0), 60)],
            &[staff_id, muni_id, agder_id],
            json!([]),
        ),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;

    let lists = |token: String| {
        let app = &app;
        async move {
            let mut out = Vec::new();
            for path in [
                "/api/v1/me/conversations",
                "/api/v1/conversations?limit=200",
            ] {
                let r = app.get(path, &token).await;
                assert_eq!(r.status, 200, "{path}: {}", r.text);
                assert_eq!(
                    r.body["total"].as_i64(),
                    r.body["items"].as_array().map(|a| a.len() as i64),
                    "{path}: {}",
                    r.text
                );
                out.push(ids_of(&r));
            }
            out
        }
    };
    for (n, l) in lists(counsellor.clone()).await.iter().enumerate() {
        assert!(l.contains(&cid), "list {n} before the change: {l:?}");
    }
    conversation(&app, &counsellor, &cid).await;

    // The operator moves Agder's career centre off Kristiansand's reception centre.
    let agder = app.org_of(who::AGDER_COUNSELLOR).await;
    let path = format!("/api/v1/organisations/{agder}");
    let r = app.get(&path, &op).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        &app,
        Method::PATCH,
        &path,
        Some(&op),
        Some(&json!({"serves_reception_centre_id": null})),
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["serves_reception_centre_id"].is_null(), "{}", r.text);

    // The single read denies it, and so does every list, though the counsellor still attends.
    app.get(&format!("/api/v1/conversations/{cid}"), &counsellor)
        .await
        .assert_problem(404);
    for (n, l) in lists(counsellor.clone()).await.iter().enumerate() {
        assert!(!l.contains(&cid), "list {n} after the change: {l:?}");
    }
    // The two sides still list it.
    for t in [&centre, &muni] {
        for (n, l) in lists(t.clone()).await.iter().enumerate() {
            assert!(l.contains(&cid), "list {n}: {l:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. The calendar file
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn calendar_file_is_published_for_a_confirmed_conversation_only() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let start = at(12, 14, 0);
    let (cid, _) = propose_ok(
        &app,
        &centre,
        &h.id,
        &proposal(&[(start, 60)], &[staff_id], externals()),
    )
    .await;
    let organizer = proposer(&app, who::KRS_STAFF).await;
    let path = format!("/api/v1/conversations/{cid}/calendar.ics");
    let r = app.get(&path, &centre).await;
    r.assert_problem(409);
    accept_ok(&app, &muni, &cid, 0).await;
    let uid = format!("conversation-{cid}@handover");
    for token in [&centre, &muni, &agder] {
        let r = app.get(&path, token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // The Content-Type names the method (RFC 5546 and RFC 6047 want them to agree).
        let ct = r.header("content-type").unwrap_or_default().to_owned();
        assert!(ct.starts_with("text/calendar"), "{:?}", r.headers);
        assert_eq!(
            header_param(&ct, "method").as_deref(),
            Some("PUBLISH"),
            "{ct}"
        );
        assert_eq!(
            header_param(&ct, "charset").as_deref(),
            Some("utf-8"),
            "{ct}"
        );
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment") && d.contains(&h.reference)),
            "{:?}",
            r.headers
        );
        let cal = parse_ics(&r.text);
        assert_eq!(cal.val("METHOD"), "PUBLISH");
        assert_eq!(cal.subs("VTIMEZONE").len(), 1);
        let ev = cal.event();
        assert_eq!(ev.val("UID"), uid);
        assert_eq!(ev.val("SEQUENCE"), "0");
        assert_eq!(ev.val("DTSTART"), ics_local(start));
        assert_eq!(ev.val("STATUS"), "CONFIRMED");
        assert_eq!(ev.val("URL"), VIDEO);
        assert!(!r.text.contains(GIVEN) && !r.text.contains(FAMILY));
        // PUBLISH carries no ATTENDEE (RFC 5546 3.2.1; libical refuses one) and must have an
        // ORGANIZER: the staff member who proposed, sent by the service.
        assert!(ev.all("ATTENDEE").is_empty(), "{}", r.text);
        assert!(!r.text.contains("ATTENDEE"), "{}", r.text);
        let org = ev.one("ORGANIZER");
        assert_eq!(
            org.value.to_lowercase(),
            format!("mailto:{}", organizer.email),
            "{org:?}"
        );
        assert_eq!(org.params.get("CN"), Some(&organizer.cn), "{org:?}");
        assert_eq!(
            org.params.get("SENT-BY").map(|s| s.to_lowercase()),
            organizer
                .sent_by
                .as_ref()
                .map(|a| format!("mailto:{a}").to_lowercase()),
            "{org:?}"
        );
    }
    // The file of a cancelled one says so, with the next sequence.
    let r = act(&app, &muni, &cid, "cancel", &json!({"reason": "Avlyst."})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get(&path, &centre).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cal = parse_ics(&r.text);
    assert_eq!(cal.val("METHOD"), "CANCEL");
    let ct = r.header("content-type").unwrap_or_default().to_owned();
    assert_eq!(
        header_param(&ct, "method").as_deref(),
        Some("CANCEL"),
        "{ct}"
    );
    // CANCEL names whom it cancels for (RFC 5546 3.2.5).
    let cancelled: BTreeSet<String> = cal
        .event()
        .all("ATTENDEE")
        .iter()
        .map(|a| a.value.to_lowercase())
        .collect();
    assert_eq!(
        cancelled,
        [who::KRS_STAFF, PARTICIPANT_MAIL, INTERPRETER_MAIL]
            .iter()
            .map(|a| format!("mailto:{}", a.to_lowercase()))
            .collect(),
        "{}",
        r.text
    );
    assert_eq!(cal.event().val("UID"), uid);
    assert_eq!(cal.event().val("SEQUENCE"), "1");
    assert_eq!(cal.event().val("STATUS"), "CANCELLED");
}

/// Checks the invitations of one SEQUENCE: one per attendee, each a REQUEST from `organizer`.
fn check_requests(
    invs: &[Invite],
    sequence: i32,
    start: OffsetDateTime,
    attendees: &BTreeMap<String, String>,
    organizer: &Organizer,
    uid: &str,
    reference: &str,
) {
    let these: Vec<&Invite> = invs
        .iter()
        .filter(|i| i.seq() == sequence.to_string())
        .collect();
    assert_eq!(
        per_recipient(these.iter().map(|i| i.mail.to.as_str())),
        once_each(attendees),
        "SEQUENCE {sequence}"
    );
    for inv in these {
        check_invite(
            inv,
            &Expect {
                method: "REQUEST",
                uid,
                sequence,
                start,
                minutes: 60,
                attendees,
                organizer,
                reference,
            },
        );
    }
}

/// Replies to invitations reach the staff member who proposed (ORGANIZER, SENT-BY the service);
/// when that person is unknown (deactivated, or never stored), the service is the organiser and
/// no reply is asked, since nobody reads its address.
#[tokio::test]
async fn the_proposer_organises_and_the_service_only_when_the_proposer_is_unknown() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let start = at(12, 10, 0);
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(start, 60)], &[staff_id], externals()),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    let attendees = with_externals(internal(&app, &[who::KRS_STAFF]).await);
    let uid = format!("conversation-{cid}@handover");
    let by_proposer = proposer(&app, who::KOMMUNE_KRS_STAFF).await;
    let by_service = service_organizer(&app, who::KOMMUNE_KRS_STAFF).await;
    let invs = wait_invites(&app, &uid, attendees.len()).await;
    assert_eq!(invs.len(), attendees.len());
    check_requests(
        &invs,
        0,
        start,
        &attendees,
        &by_proposer,
        &uid,
        &h.reference,
    );

    let set_active = |active: bool| {
        sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
            .bind(muni_id)
            .bind(active)
            .execute(&app.pool)
    };
    let move_to = |days: i64| {
        let centre = centre.clone();
        let cid = cid.clone();
        let app = &app;
        async move {
            let t = at(days, 10, 0);
            let r = act(
                app,
                &centre,
                &cid,
                "reschedule",
                &json!({"start": rfc(t), "duration_minutes": 60}),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
            t
        }
    };

    // The proposer deactivated: the update comes from the service, asking no reply.
    set_active(false).await.unwrap();
    let t1 = move_to(13).await;
    // Active again: the proposer organises again.
    set_active(true).await.unwrap();
    let t2 = move_to(14).await;
    // Not stored (a conversation proposed before the service stored the proposer).
    sqlx::query("UPDATE conversations SET proposed_by_user = NULL WHERE id = $1")
        .bind(Uuid::parse_str(&cid).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let t3 = move_to(15).await;
    let invs = wait_invites(&app, &uid, 4 * attendees.len()).await;
    assert_eq!(invs.len(), 4 * attendees.len());
    check_requests(&invs, 1, t1, &attendees, &by_service, &uid, &h.reference);
    check_requests(&invs, 2, t2, &attendees, &by_proposer, &uid, &h.reference);
    check_requests(&invs, 3, t3, &attendees, &by_service, &uid, &h.reference);
}

// ---------------------------------------------------------------------------------------------
// 9. The handover cancelled with a conversation confirmed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cancelling_the_handover_cancels_its_confirmed_conversation() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let organizer = proposer(&app, who::KOMMUNE_KRS_STAFF).await;
    let start = at(12, 12, 0);
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(start, 60)], &[staff_id, muni_id], externals()),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    let attendees = with_externals(internal(&app, &[who::KRS_STAFF, who::KOMMUNE_KRS_STAFF]).await);
    let uid = format!("conversation-{cid}@handover");
    assert_eq!(
        wait_invites(&app, &uid, attendees.len()).await.len(),
        attendees.len()
    );

    let d = app
        .get(&format!("/api/v1/handovers/{}", h.id), &centre)
        .await;
    assert_eq!(d.body["handover"]["state"], "conversation_scheduled");
    let reason = "Bosettingen ble omgjort av IMDi.";
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/handovers/{}/cancel", h.id),
        Some(&centre),
        Some(&json!({ "reason": reason })),
        Some(&etag(&d)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "cancelled");
    let c = conversation(&app, &centre, &cid).await;
    assert_eq!(c.body["state"], "cancelled");
    assert_eq!(c.body["cancel_reason"], reason);
    assert_eq!(c.body["calendar_sequence"], 1);
    assert!(bookings_of(&app, &cid).await.is_empty());
    let invs = wait_invites(&app, &uid, 2 * attendees.len()).await;
    let cancels: Vec<&Invite> = invs.iter().filter(|i| i.seq() == "1").collect();
    assert_eq!(
        per_recipient(cancels.iter().map(|i| i.mail.to.as_str())),
        once_each(&attendees)
    );
    for inv in cancels {
        check_invite(
            inv,
            &Expect {
                method: "CANCEL",
                uid: &uid,
                sequence: 1,
                start,
                minutes: 60,
                attendees: &attendees,
                organizer: &organizer,
                reference: &h.reference,
            },
        );
    }
    // It is gone from the attendees' lists, and nothing more can be done with it.
    let r = app.get("/api/v1/me/conversations", &muni).await;
    assert!(!ids_of(&r).contains(&cid));
    let r = propose(
        &app,
        &muni,
        &h.id,
        &proposal(&[(at(13, 12, 0), 60)], &[staff_id], json!([])),
    )
    .await;
    r.assert_problem(409);
}

// ---------------------------------------------------------------------------------------------
// Regressions: rules added after these tests found them broken.
// ---------------------------------------------------------------------------------------------

/// Completing the handover ("held outside the service") while a conversation is confirmed leaves
/// that conversation confirmed: still booked, in every calendar, in "my conversations", movable
/// (with new invitations) and due for reminders, on a closed handover. Either the completion
/// should be refused (409) or the conversation cancelled like on the handover's cancellation.
#[tokio::test]
async fn regression_completing_the_handover_does_not_leave_a_confirmed_conversation_behind() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let h = accepted_handover(&app, &centre, &muni).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;
    let muni_id = app.user_id(who::KOMMUNE_KRS_STAFF).await;
    let (cid, _) = propose_ok(
        &app,
        &muni,
        &h.id,
        &proposal(&[(at(12, 9, 0), 60)], &[staff_id, muni_id], json!([])),
    )
    .await;
    accept_ok(&app, &centre, &cid, 0).await;
    let d = app.get(&format!("/api/v1/handovers/{}", h.id), &muni).await;
    let r = call(
        &app,
        Method::POST,
        &format!("/api/v1/handovers/{}/complete", h.id),
        Some(&muni),
        Some(&json!({"note": "Samtalen ble holdt på telefon."})),
        Some(&etag(&d)),
    )
    .await;
    let c = conversation(&app, &centre, &cid).await;
    let mine = ids_of(&app.get("/api/v1/me/conversations", &centre).await);
    assert!(
        r.status == 409 || (c.body["state"] != "confirmed" && !mine.contains(&cid)),
        "handover complete answered {}; the conversation is {} and in my list: {}",
        r.status,
        c.body["state"],
        mine.contains(&cid)
    );
}

async fn put_outcome(
    app: &TestApp,
    token: &str,
    hid: &str,
    tag: Option<&str>,
    body: &Value,
) -> Res {
    call(
        app,
        Method::PUT,
        &format!("/api/v1/handovers/{hid}/outcome"),
        Some(token),
        Some(body),
        tag,
    )
    .await
}

#[tokio::test]
async fn the_municipality_reports_the_outcome_and_the_centre_and_its_career_centre_learn_it() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let admin = app.token(who::KRS_ADMIN).await;

    // Before the municipality has accepted, there is nothing to report.
    let sent = sent_handover(&app, &centre).await;
    let outcome = json!({"integration_plan_decided_on": oslo_today(), "end_goal": "work"});
    put_outcome(&app, &muni, &sent.id, None, &outcome)
        .await
        .assert_problem(409);

    let h = accepted_handover(&app, &centre, &muni).await;
    let url = format!("/api/v1/handovers/{}/outcome", h.id);
    for token in [&centre, &muni, &agder] {
        app.get(&url, token).await.assert_problem(404);
    }

    // Only the receiving municipality reports; the rest are refused without learning anything.
    for (email, status) in [
        (who::KRS_STAFF, 403),
        (who::AGDER_COUNSELLOR, 403),
        (who::KRS_ADMIN, 403),
        (who::KOMMUNE_KRS_ADMIN, 403),
        (who::KOMMUNE_TRD_STAFF, 404),
        (who::STJ_STAFF, 403),
        (who::TRD_COUNSELLOR, 403),
    ] {
        let t = app.token(email).await;
        put_outcome(&app, &t, &h.id, None, &outcome)
            .await
            .assert_problem(status);
    }
    // Bad input, each beside its field.
    for (body, field) in [
        (
            json!({"integration_plan_decided_on": ahead(2), "end_goal": "work"}),
            "integration_plan_decided_on",
        ),
        (
            json!({"integration_plan_decided_on": ago(400), "end_goal": "work"}),
            "integration_plan_decided_on",
        ),
    ] {
        let r = put_outcome(&app, &muni, &h.id, None, &body).await;
        assert_invalid_field(&r, field, &body.to_string());
    }
    for body in [
        json!({"integration_plan_decided_on": oslo_today(), "end_goal": "retirement"}),
        json!({"integration_plan_decided_on": "2026-02-30", "end_goal": "work"}),
        json!({"end_goal": "work"}),
        json!({"integration_plan_decided_on": oslo_today(), "end_goal": "work", "name": "Selamawit"}),
        json!([]),
    ] {
        let r = put_outcome(&app, &muni, &h.id, None, &body).await;
        assert!(
            r.status == 400 || r.status == 422,
            "{body}: {} {}",
            r.status,
            r.text
        );
    }
    app.get(&url, &centre).await.assert_problem(404);

    let r = put_outcome(&app, &muni, &h.id, None, &outcome).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(etag(&r), "\"1\"");
    assert_eq!(r.body["end_goal"], "work");
    assert_eq!(r.body["integration_plan_decided_on"], oslo_today());
    assert_eq!(r.body["municipality_name"], "Kristiansand");

    // The centre, its career centre and the municipality read it, each read audited.
    let reads = app.audit_count("handover.outcome.read", "success").await;
    for token in [&centre, &muni, &agder] {
        let r = app.get(&url, token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["end_goal"], "work");
        assert_eq!(etag(&r), "\"1\"");
    }
    assert_eq!(
        app.audit_count("handover.outcome.read", "success").await,
        reads + 3
    );
    for (email, status) in [
        (who::STJ_STAFF, 404),
        (who::KOMMUNE_TRD_STAFF, 404),
        (who::TRD_COUNSELLOR, 404),
        (who::AGDER_ADMIN, 403),
    ] {
        let t = app.token(email).await;
        app.get(&url, &t).await.assert_problem(status);
    }
    app.get(&url, &admin).await.assert_problem(403);

    // A correction names the version it corrects.
    let corrected = json!({"integration_plan_decided_on": oslo_today(), "end_goal": "education"});
    put_outcome(&app, &muni, &h.id, None, &corrected)
        .await
        .assert_problem(428);
    put_outcome(&app, &muni, &h.id, Some("\"7\""), &corrected)
        .await
        .assert_problem(412);
    let r = put_outcome(&app, &muni, &h.id, Some("\"1\""), &corrected).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"2\"");
    assert_eq!(app.get(&url, &agder).await.body["end_goal"], "education");

    // The centre's staff and the serving counsellors are told, without the participant's name.
    for email in [who::KRS_STAFF, who::AGDER_COUNSELLOR] {
        let notices = |mail: Vec<(String, String)>| -> Vec<(String, String)> {
            mail.into_iter()
                .filter(|(s, _)| s.contains("Utfall etter bosetting") && s.contains(&h.reference))
                .collect()
        };
        let mut mail = notices(app.mail_to(email));
        for _ in 0..100 {
            if mail.len() >= 2 {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
            mail = notices(app.mail_to(email));
        }
        let notices = mail;
        assert_eq!(
            notices.len(),
            2,
            "{email}: report and correction: {notices:?}"
        );
        let page = if email == who::KRS_STAFF {
            format!("/handovers/{}", h.id)
        } else {
            "/participants/".to_owned()
        };
        assert!(
            notices.iter().all(|(_, b)| b.contains(&page)),
            "{email}: {notices:?}"
        );
        for (s, b) in &notices {
            assert!(!s.contains(GIVEN) && !b.contains(GIVEN) && !b.contains(FAMILY));
        }
    }
    assert!(
        app.mail_to(who::TRD_COUNSELLOR)
            .iter()
            .all(|(s, _)| !s.contains("Utfall etter bosetting"))
    );
}
