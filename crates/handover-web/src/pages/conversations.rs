//! The transfer conversation in the browser: propose one to five times, answer (accept one, or
//! propose others), move, cancel with a reason, and write the minutes; the signed-in user's
//! conversations as a list and as a week; each conversation's calendar file. Times are typed
//! and shown in Oslo time; a time the clocks skip in spring is refused, and one they repeat in
//! autumn asks which is meant.

use super::{PageResult, opt, page, page_with, parse_id, see_other, status_for};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Opt, Shell, parse_date};
use askama::Template;
use axum::extract::{Path, Query, State};
use handover_app::conversations::{self, Candidate, ConversationView};
use handover_app::precondition::Precondition;
use handover_app::{AppError, Idempotency, Outcome, handovers};
use handover_domain::conversation::{
    ActionStatus, ActionStatusChange, AgreedAction, Conversation, ConversationMode,
    ConversationState, ExternalAttendee, ExternalKind, MAX_SLOTS, MinutesInput,
    Outcome as MinutesOutcome, ProposalInput, SlotInput, TrackedAction,
};
use handover_domain::handover::{HandoverHead, HandoverState};
use handover_domain::oslo::{self, Local};
use handover_domain::page::Paging;
use handover_domain::{OrgId, UserId};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, Weekday};
use uuid::Uuid;

/// A posted form as its name–value pairs, for forms with repeated fields (the attendees'
/// boxes) and numbered rows (the times, the agreed actions).
pub struct Fields(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<(String, String)>::deserialize(d).map(Fields)
    }
}

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn version(&self) -> Result<i32, WebError> {
        self.get("version")
            .trim()
            .parse()
            .map_err(|_| WebError::BadForm)
    }
}

/// One time slot as typed: the date, the time of day, the length, and for the repeated autumn
/// hour which of the two is meant.
#[derive(Debug, Clone, Default)]
pub struct SlotRow {
    pub n: usize,
    pub date: String,
    pub time: String,
    pub minutes: String,
    pub fold: String,
    /// The time is in the hour the clocks repeat: the form asks which one.
    pub twice: bool,
}

impl SlotRow {
    fn blank(n: usize) -> SlotRow {
        SlotRow {
            n,
            minutes: "60".into(),
            ..SlotRow::default()
        }
    }

    fn read(f: &Fields, n: usize) -> SlotRow {
        SlotRow {
            n,
            date: f.get(&format!("slot{n}_date")).trim().to_owned(),
            time: f.get(&format!("slot{n}_time")).trim().to_owned(),
            minutes: f.get(&format!("slot{n}_minutes")).trim().to_owned(),
            fold: f.get(&format!("slot{n}_fold")).trim().to_owned(),
            twice: false,
        }
    }

    fn is_blank(&self) -> bool {
        self.date.is_empty() && self.time.is_empty()
    }

    pub fn field(&self, part: &str) -> String {
        format!("slot{}_{part}", self.n)
    }
}

/// `14:30` (or `14.30`) as a time of day.
fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once([':', '.'])?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    Time::from_hms(h, m, 0).ok()
}

/// The instant a wall-clock time in Oslo names, or the message beside the field that says why
/// there is none (the spring gap) or which to choose (the autumn repeat).
fn resolve(
    m: &Messages,
    errors: &mut FormErrors,
    row: &mut SlotRow,
    date: Date,
    time: Time,
) -> Option<OffsetDateTime> {
    let args = [
        ("date", crate::view::date(&date)),
        ("time", row.time.clone()),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match oslo::from_local(PrimitiveDateTime::new(date, time)) {
        Local::One(t) => Some(t),
        Local::Skipped => {
            errors.add(&row.field("time"), m.f("validation.time_skipped", &args));
            None
        }
        Local::Twice { summer, winter } => {
            row.twice = true;
            match row.fold.as_str() {
                "summer" => Some(summer),
                "winter" => Some(winter),
                _ => {
                    errors.add(&row.field("fold"), m.f("validation.time_twice", &args));
                    None
                }
            }
        }
    }
}

/// Reads rows `0..count` of a slot form: the blank ones are left out (but the first must be
/// filled). Each slot read is paired with its row, so the use case's errors go beside it.
fn read_slots(
    m: &Messages,
    f: &Fields,
    count: usize,
    errors: &mut FormErrors,
) -> (Vec<SlotRow>, Vec<(usize, SlotInput)>) {
    let mut rows: Vec<SlotRow> = (0..count).map(|n| SlotRow::read(f, n)).collect();
    let mut slots = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        if row.is_blank() && i > 0 {
            continue;
        }
        let date = crate::view::date_field(errors, m, &row.field("date"), &row.date, true);
        let time = if row.time.is_empty() {
            errors.add(&row.field("time"), m.t("validation.required").to_owned());
            None
        } else {
            let t = parse_time(&row.time);
            if t.is_none() {
                errors.add(
                    &row.field("time"),
                    m.t("validation.invalid_time").to_owned(),
                );
            }
            t
        };
        let minutes = match row.minutes.parse::<i32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    &row.field("minutes"),
                    m.t(if row.minutes.is_empty() {
                        "validation.required"
                    } else {
                        "validation.invalid_minutes"
                    })
                    .to_owned(),
                );
                None
            }
        };
        if let (Some(d), Some(t)) = (date, time)
            && let Some(start) = resolve(m, errors, row, d, t)
            && let Some(duration_minutes) = minutes
        {
            slots.push((
                i,
                SlotInput {
                    start,
                    duration_minutes,
                },
            ));
        }
    }
    (rows, slots)
}

/// The form field of a use case's error about the slots: `slots[1].start` is the date of the
/// row the second slot came from, `start` (one slot) the first row's.
fn slot_field(path: &str, rows: &[usize]) -> Option<String> {
    let (index, part) = match path.strip_prefix("slots") {
        Some("") => (0, "date"),
        Some(rest) => {
            let (i, sub) = rest.strip_prefix('[')?.split_once("].")?;
            let i: usize = i.parse().ok()?;
            (
                *rows.get(i)?,
                if sub == "start" { "date" } else { "minutes" },
            )
        }
        None => match path {
            "start" => (rows.first().copied().unwrap_or(0), "date"),
            "duration_minutes" => (rows.first().copied().unwrap_or(0), "minutes"),
            _ => return None,
        },
    };
    Some(format!("slot{index}_{part}"))
}

/// The use case's validation errors beside the form's fields: the slots' at their rows, the
/// others (`video_link`, `external_attendees[0].name`, ...) through the form's field names.
fn app_errors(
    m: &Messages,
    errs: &[handover_domain::FieldError],
    rows: &[usize],
    fields: &[&str],
) -> FormErrors {
    let mut out = FormErrors::default();
    for e in errs {
        let mapped = slot_field(&e.field, rows).or_else(|| external_field(&e.field));
        let mut one = FormErrors::from_app(m, std::slice::from_ref(e), fields);
        if let (Some(field), Some(item)) = (mapped, one.items.first_mut()) {
            item.field = field;
        }
        out.items.extend(one.items);
    }
    out
}

/// The external attendees come from three fixed rows (participant, interpreter, other): an
/// error at `external_attendees[i].name` goes to the row the i-th attendee came from, which
/// [`externals`] records in the path it gives back.
fn external_field(path: &str) -> Option<String> {
    let rest = path.strip_prefix("external_attendees[")?;
    let (i, sub) = rest.split_once("].")?;
    let kind = EXTERNAL_ROWS.get(i.parse::<usize>().ok()?)?;
    Some(format!("{kind}_{sub}"))
}

/// The rows of external attendees on the proposal form, in this order.
const EXTERNAL_ROWS: [&str; 3] = ["participant", "interpreter", "other"];

/// The external attendees typed, one per filled row. Rows are kept at their positions (a blank
/// one as `None`) so an error's index names its row; the blank ones are dropped after.
fn externals(f: &Fields) -> Vec<Option<ExternalAttendee>> {
    EXTERNAL_ROWS
        .iter()
        .map(|row| {
            let name = f.get(&format!("{row}_name")).trim();
            let email = opt(f.get(&format!("{row}_email")));
            let language = opt(f.get(&format!("{row}_language")));
            if name.is_empty() && email.is_none() && language.is_none() {
                return None;
            }
            Some(ExternalAttendee {
                kind: match *row {
                    "participant" => ExternalKind::Participant,
                    "interpreter" => ExternalKind::Interpreter,
                    _ => ExternalKind::Other,
                },
                name: name.to_owned(),
                email,
                language: if *row == "interpreter" {
                    language
                } else {
                    None
                },
            })
        })
        .collect()
}

/// The localised message of a double booking: who, and the other conversation's time.
fn double_booked(m: &Messages, name: &str, start: OffsetDateTime, end: OffsetDateTime) -> String {
    m.f(
        "conversation.double_booked",
        &[
            ("name", name),
            ("start", &crate::view::datetime(start)),
            ("end", &crate::view::datetime(end)),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Proposing

/// A candidate attendee as a check box.
struct Invitee {
    id: Uuid,
    name: String,
    organisation: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "propose.html")]
struct ProposePage {
    shell: Shell,
    /// Where the form posts: a new proposal for the handover, or other times for a proposal.
    action: String,
    back: String,
    version: i32,
    errors: FormErrors,
    rows: Vec<SlotRow>,
    modes: Vec<Opt>,
    video_link: String,
    phone_number: String,
    address: String,
    invitees: Vec<Invitee>,
    externals: Vec<ExternalRow>,
}

/// An external attendee's row on the form, as typed.
struct ExternalRow {
    key: &'static str,
    name: String,
    email: String,
    language: String,
}

fn external_rows(f: Option<&Fields>) -> Vec<ExternalRow> {
    EXTERNAL_ROWS
        .iter()
        .map(|key| {
            let get = |part: &str| {
                f.map(|f| f.get(&format!("{key}_{part}")).to_owned())
                    .unwrap_or_default()
            };
            ExternalRow {
                key,
                name: get("name"),
                email: get("email"),
                language: get("language"),
            }
        })
        .collect()
}

fn mode_options(m: &Messages, selected: &str) -> Vec<Opt> {
    crate::view::options(
        m,
        "conversation_mode.",
        ConversationMode::ALL.iter().map(|c| c.as_str()),
        selected,
        None,
    )
}

/// The proposal form as first shown: five empty times (60 minutes), a video meeting, the
/// signed-in user among the invited.
async fn propose_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    f: Option<&Fields>,
    rows: Vec<SlotRow>,
    errors: FormErrors,
) -> PageResult {
    let m = staff.lang.messages();
    let d = handovers::get(&state.app, staff, id).await?.body;
    let candidates = conversations::attendee_candidates(&state.app, staff, id).await?;
    let existing = conversations::for_handover(&state.app, staff, id, Paging::default())
        .await?
        .body
        .items;
    if !may_propose(staff, &HandoverHead::from(&d.handover), &existing) {
        // One is on the table or agreed already, or the handover is not ready for one.
        return Err(WebError::Conflict);
    }
    let chosen: Vec<&str> = f.map(|f| f.all("attendee").collect()).unwrap_or_default();
    let me = staff.caller.user_id.0.to_string();
    let invitees = candidates
        .into_iter()
        .map(|c: Candidate| Invitee {
            checked: match f {
                Some(_) => chosen.contains(&c.user_id.0.to_string().as_str()),
                None => c.user_id.0.to_string() == me,
            },
            id: c.user_id.0,
            name: c.name,
            organisation: c.organisation_name,
        })
        .collect();
    let get = |k: &str| f.map(|f| f.get(k).to_owned()).unwrap_or_default();
    let mode = match get("mode") {
        m if m.is_empty() => "video".to_owned(),
        m => m,
    };
    let title = format!("{} {}", m.t("propose.title"), d.handover.reference);
    page_with(
        status_for(&errors),
        &ProposePage {
            shell: Shell::staff(staff, &format!("/handovers/{id}/conversations/new"), title),
            action: format!("/handovers/{id}/conversations"),
            back: format!("/handovers/{id}"),
            version: d.handover.version,
            errors,
            rows,
            modes: mode_options(m, &mode),
            video_link: get("video_link"),
            phone_number: get("phone_number"),
            address: get("address"),
            invitees,
            externals: external_rows(f),
        },
    )
}

pub async fn propose_form(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    let rows = (0..MAX_SLOTS).map(SlotRow::blank).collect();
    propose_page(&state, &staff, id, None, rows, FormErrors::default()).await
}

const PROPOSAL_FIELDS: [&str; 5] = ["mode", "video_link", "phone_number", "address", "attendees"];

pub async fn propose(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let (rows, slots) = read_slots(m, &form, MAX_SLOTS, &mut errors);
    let mode = match form.get("mode").parse::<ConversationMode>() {
        Ok(c) => Some(c),
        Err(_) => {
            errors.add("mode", m.t("validation.choose").to_owned());
            None
        }
    };
    let mut attendees = Vec::new();
    for a in form.all("attendee") {
        match a.parse::<Uuid>() {
            Ok(u) => attendees.push(UserId(u)),
            Err(_) => return Err(WebError::BadForm),
        }
    }
    let typed = externals(&form);
    let (Some(mode), true) = (mode, errors.is_empty()) else {
        return propose_page(&state, &staff, id, Some(&form), rows, errors).await;
    };
    // Only the mode's own place is sent: a link typed before switching to phone stays out.
    let input = ProposalInput {
        slots: slots.iter().map(|(_, s)| s.clone()).collect(),
        mode,
        video_link: (mode == ConversationMode::Video)
            .then(|| opt(form.get("video_link")))
            .flatten(),
        phone_number: (mode == ConversationMode::Phone)
            .then(|| opt(form.get("phone_number")))
            .flatten(),
        address: (mode == ConversationMode::InPerson)
            .then(|| opt(form.get("address")))
            .flatten(),
        internal_attendees: attendees,
        external_attendees: typed.iter().flatten().cloned().collect(),
    };
    // A validation error names the i-th attendee sent; the form names its row.
    let sent_rows: Vec<usize> = typed
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.as_ref().map(|_| i))
        .collect();
    let no_key = |_: &handover_app::Disclosed<Conversation>| {
        Err(AppError::internal("a web form carries no idempotency key"))
    };
    match conversations::propose(&state.app, &staff, id, input, Idempotency::none(), &no_key).await
    {
        Ok(Outcome::Done(c)) => see_other(&format!("/conversations/{}?done=proposed", c.body.id)),
        Ok(Outcome::Replayed(_)) => Err(WebError::Conflict),
        Err(AppError::Validation(errs)) => {
            let rows_of: Vec<usize> = slots.iter().map(|(i, _)| *i).collect();
            let errs: Vec<_> = errs
                .into_iter()
                .map(|mut e| {
                    if let Some(rest) = e.field.strip_prefix("external_attendees[")
                        && let Some((i, sub)) = rest.split_once(']')
                        && let Some(row) = i.parse::<usize>().ok().and_then(|i| sent_rows.get(i))
                    {
                        e.field = format!("external_attendees[{row}]{sub}");
                    }
                    e
                })
                .collect();
            let errors = app_errors(m, &errs, &rows_of, &PROPOSAL_FIELDS);
            propose_page(&state, &staff, id, Some(&form), rows, errors).await
        }
        Err(AppError::Conflict(_)) => {
            // Someone proposed one meanwhile, or the handover moved on: the handover says which.
            see_other(&format!("/handovers/{id}"))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// A conversation and the answers to it

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    shell: Shell,
    v: ConversationView,
    errors: FormErrors,
    /// A double booking or a time that passed, said above the times.
    problem: Option<String>,
    cancel_reason: String,
    started: bool,
    caller_org: OrgId,
    /// What the municipality reported after settlement (the serving career centre sees it here).
    outcome: Option<handover_domain::handover::HandoverOutcome>,
}

/// The form field of the reason to drop action `id` (one per action on the page).
fn reason_field(id: &Uuid) -> String {
    format!("reason_{id}")
}

impl ConversationPage {
    /// The caller's organisation is responsible for the action, and the caller follows up.
    fn may_follow(&self, a: &TrackedAction) -> bool {
        self.v.follows_up && a.responsible_organisation_id == self.caller_org
    }

    fn reason_field(&self, id: &Uuid) -> String {
        reason_field(id)
    }

    fn c(&self) -> &Conversation {
        &self.v.conversation
    }

    fn end(&self, start: &OffsetDateTime, minutes: &i32) -> String {
        let end = oslo::to_oslo(*start + Duration::minutes(i64::from(*minutes)));
        format!("{:02}:{:02}", end.hour(), end.minute())
    }

    /// May answer: the side that did not propose, while it is proposed.
    fn may_answer(&self) -> bool {
        self.v.may_manage && !self.v.proposed_by_us && self.c().state == ConversationState::Proposed
    }

    /// A time is agreed once the municipality has accepted the handover: until then the
    /// times can be answered with others, not accepted.
    fn may_accept(&self) -> bool {
        self.may_answer() && self.v.handover_state == HandoverState::Accepted
    }

    fn awaits_acceptance(&self) -> bool {
        self.c().state == ConversationState::Proposed
            && self.v.handover_state == HandoverState::Received
    }

    fn may_cancel(&self) -> bool {
        self.v.may_manage
            && matches!(
                self.c().state,
                ConversationState::Proposed | ConversationState::Confirmed
            )
    }

    fn may_move(&self) -> bool {
        self.v.may_manage && self.c().state == ConversationState::Confirmed
    }

    fn may_write_minutes(&self) -> bool {
        self.may_move() && self.started
    }
}

async fn conversation_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    notice: Option<&str>,
    errors: FormErrors,
    problem: Option<String>,
    cancel_reason: String,
) -> PageResult {
    let m = staff.lang.messages();
    let v = conversations::view(&state.app, staff, id).await?.body;
    let title = format!(
        "{} {}",
        m.t("conversation.title"),
        v.conversation.handover_reference
    );
    let now = state.app.now();
    let started = v
        .conversation
        .confirmed_slot
        .as_ref()
        .is_some_and(|s| s.start_utc <= now);
    let outcome = super::outcome::for_page(state, staff, v.conversation.handover_id).await?;
    let status = if problem.is_some() {
        axum::http::StatusCode::CONFLICT
    } else {
        status_for(&errors)
    };
    page_with(
        status,
        &ConversationPage {
            shell: Shell::staff(staff, &format!("/conversations/{id}"), title).with_notice(notice),
            v,
            errors,
            problem,
            cancel_reason,
            started,
            caller_org: staff.caller.org_id,
            outcome,
        },
    )
}

pub async fn conversation(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<super::NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    conversation_page(
        &state,
        &staff,
        id,
        q.key(),
        FormErrors::default(),
        None,
        String::new(),
    )
    .await
}

pub async fn accept(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version = form.version()?;
    let slot: i32 = form.get("slot").parse().map_err(|_| WebError::BadForm)?;
    let problem =
        match conversations::accept(&state.app, &staff, id, Precondition::version(version), slot)
            .await
        {
            Ok(_) => return see_other(&format!("/conversations/{id}?done=confirmed")),
            Err(AppError::DoubleBooked { name, start, end }) => double_booked(m, &name, start, end),
            Err(AppError::Validation(errs)) if errs.iter().any(|e| e.code == "in_past") => {
                m.t("conversation.slot_passed").to_owned()
            }
            Err(AppError::PreconditionFailed) => m.t("conversation.changed").to_owned(),
            // Not the caller's turn, or the handover is not accepted yet: the page says where
            // things stand.
            Err(AppError::Conflict(_)) => m.t("conversation.not_now").to_owned(),
            Err(e) => return Err(e.into()),
        };
    conversation_page(
        &state,
        &staff,
        id,
        None,
        FormErrors::default(),
        Some(problem),
        String::new(),
    )
    .await
}

pub async fn cancel(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version = form.version()?;
    let reason = form.get("cancel_reason");
    match conversations::cancel(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        reason,
    )
    .await
    {
        Ok(_) => see_other(&format!("/conversations/{id}?done=cancelled")),
        Err(AppError::Validation(errs)) => {
            let mut errors = FormErrors::default();
            for e in FormErrors::from_app(m, &errs, &["cancel_reason"]).items {
                errors.add("cancel_reason", e.message);
            }
            conversation_page(&state, &staff, id, None, errors, None, reason.to_owned()).await
        }
        Err(AppError::PreconditionFailed) => {
            let problem = m.t("conversation.changed").to_owned();
            let errors = FormErrors::default();
            conversation_page(
                &state,
                &staff,
                id,
                None,
                errors,
                Some(problem),
                reason.into(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Other times, and moving a confirmed conversation

/// What a slot form is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Times {
    /// Other times instead of those proposed (one to five).
    Counter,
    /// A new time for a confirmed conversation (one).
    Move,
}

impl Times {
    fn rows(self) -> usize {
        match self {
            Times::Counter => MAX_SLOTS,
            Times::Move => 1,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Times::Counter => "counter",
            Times::Move => "reschedule",
        }
    }
}

#[derive(Template)]
#[template(path = "times.html")]
struct TimesPage {
    shell: Shell,
    action: String,
    back: String,
    /// The heading's lead: what the form does.
    lead: String,
    version: i32,
    errors: FormErrors,
    rows: Vec<SlotRow>,
}

async fn times_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    what: Times,
    rows: Option<Vec<SlotRow>>,
    errors: FormErrors,
) -> PageResult {
    let m = staff.lang.messages();
    let v = conversations::view(&state.app, staff, id).await?.body;
    let c = &v.conversation;
    if !v.may_manage {
        return Err(WebError::Forbidden);
    }
    let allowed = match what {
        Times::Counter => c.state == ConversationState::Proposed && !v.proposed_by_us,
        Times::Move => c.state == ConversationState::Confirmed,
    };
    if !allowed {
        return Err(WebError::Conflict);
    }
    let rows = rows.unwrap_or_else(|| {
        let mut rows: Vec<SlotRow> = (0..what.rows()).map(SlotRow::blank).collect();
        // Moving starts from the agreed time and length.
        if let (Times::Move, Some(s), Some(r)) = (what, &c.confirmed_slot, rows.first_mut()) {
            let o = oslo::to_oslo(s.start_utc);
            r.date = crate::view::iso_date(&o.date());
            r.time = format!("{:02}:{:02}", o.hour(), o.minute());
            r.minutes = s.duration_minutes.to_string();
        }
        rows
    });
    let (title, lead) = match what {
        Times::Counter => ("counter.title", "counter.lead"),
        Times::Move => ("reschedule.title", "reschedule.lead"),
    };
    let title = format!("{} {}", m.t(title), c.handover_reference);
    page_with(
        status_for(&errors),
        &TimesPage {
            shell: Shell::staff(
                staff,
                &format!("/conversations/{id}/{}", what.path()),
                title,
            ),
            action: format!("/conversations/{id}/{}", what.path()),
            back: format!("/conversations/{id}"),
            lead: m.t(lead).to_owned(),
            version: c.version,
            errors,
            rows,
        },
    )
}

async fn times_post(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    what: Times,
    form: &Fields,
) -> PageResult {
    let m = staff.lang.messages();
    let version = form.version()?;
    let mut errors = FormErrors::default();
    let (rows, slots) = read_slots(m, form, what.rows(), &mut errors);
    if !errors.is_empty() {
        return times_page(state, staff, id, what, Some(rows), errors).await;
    }
    let rows_of: Vec<usize> = slots.iter().map(|(i, _)| *i).collect();
    let mut slots: Vec<SlotInput> = slots.into_iter().map(|(_, s)| s).collect();
    let expected = Precondition::version(version);
    let done = match what {
        Times::Counter => conversations::counter_propose(&state.app, staff, id, expected, slots)
            .await
            .map(|_| "proposed"),
        Times::Move => match slots.pop() {
            Some(slot) => conversations::reschedule(&state.app, staff, id, expected, slot)
                .await
                .map(|_| "moved"),
            None => return Err(WebError::BadForm),
        },
    };
    let first = format!("slot{}_time", rows_of.first().copied().unwrap_or(0));
    let errors = match done {
        Ok(done) => return see_other(&format!("/conversations/{id}?done={done}")),
        Err(AppError::Validation(errs)) => app_errors(m, &errs, &rows_of, &[]),
        Err(AppError::DoubleBooked { name, start, end }) => {
            let mut e = FormErrors::default();
            e.add(&first, double_booked(m, &name, start, end));
            e
        }
        Err(AppError::PreconditionFailed) => {
            let mut e = FormErrors::default();
            e.add(&first, m.t("conversation.changed").to_owned());
            e
        }
        Err(e) => return Err(e.into()),
    };
    times_page(state, staff, id, what, Some(rows), errors).await
}

pub async fn counter_form(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    times_page(
        &state,
        &staff,
        id,
        Times::Counter,
        None,
        FormErrors::default(),
    )
    .await
}

pub async fn counter(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    times_post(&state, &staff, id, Times::Counter, &form).await
}

pub async fn reschedule_form(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    times_page(&state, &staff, id, Times::Move, None, FormErrors::default()).await
}

pub async fn reschedule(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    times_post(&state, &staff, id, Times::Move, &form).await
}

// ---------------------------------------------------------------------------------------------
// Minutes

/// Rows for agreed actions on the minutes form.
const ACTION_ROWS: usize = 5;

struct ActionRow {
    n: usize,
    description: String,
    due: String,
    organisations: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "minutes.html")]
struct MinutesPage {
    shell: Shell,
    id: Uuid,
    version: i32,
    errors: FormErrors,
    outcome: String,
    notes: String,
    actions: Vec<ActionRow>,
}

async fn minutes_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    f: Option<&Fields>,
    errors: FormErrors,
) -> PageResult {
    let m = staff.lang.messages();
    let v = conversations::view(&state.app, staff, id).await?.body;
    let c = &v.conversation;
    let started = c
        .confirmed_slot
        .as_ref()
        .is_some_and(|s| s.start_utc <= state.app.now());
    if !v.may_manage {
        return Err(WebError::Forbidden);
    }
    if !(c.state == ConversationState::Confirmed && started) {
        return Err(WebError::Conflict);
    }
    let get = |k: &str| f.map(|f| f.get(k).to_owned()).unwrap_or_default();
    let actions = (0..ACTION_ROWS)
        .map(|n| {
            let chosen = get(&format!("action{n}_org"));
            let mut organisations = vec![Opt {
                value: String::new(),
                text: m.t("minutes.choose_org").to_owned(),
                selected: chosen.is_empty(),
            }];
            organisations.extend(v.parties.iter().map(|(o, name)| Opt {
                value: o.0.to_string(),
                text: name.clone(),
                selected: o.0.to_string() == chosen,
            }));
            ActionRow {
                n,
                description: get(&format!("action{n}_description")),
                due: get(&format!("action{n}_due")),
                organisations,
            }
        })
        .collect();
    let title = format!("{} {}", m.t("minutes.title"), c.handover_reference);
    page_with(
        status_for(&errors),
        &MinutesPage {
            shell: Shell::staff(staff, &format!("/conversations/{id}/minutes"), title),
            id,
            version: c.version,
            errors,
            outcome: get("outcome"),
            notes: get("notes"),
            actions,
        },
    )
}

pub async fn minutes_form(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    minutes_page(&state, &staff, id, None, FormErrors::default()).await
}

pub async fn minutes(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version = form.version()?;
    let mut errors = FormErrors::default();
    let outcome = match form.get("outcome").parse::<MinutesOutcome>() {
        Ok(o) => Some(o),
        Err(_) => {
            errors.add("outcome", m.t("validation.choose").to_owned());
            None
        }
    };
    let mut actions = Vec::new();
    let mut rows = Vec::new();
    for n in 0..ACTION_ROWS {
        let description = form.get(&format!("action{n}_description")).trim();
        let org = form.get(&format!("action{n}_org"));
        let due = form.get(&format!("action{n}_due"));
        if description.is_empty() && org.is_empty() && due.trim().is_empty() {
            continue;
        }
        if description.is_empty() {
            errors.add(
                &format!("action{n}_description"),
                m.t("validation.required").to_owned(),
            );
        }
        let org = match org.parse::<Uuid>() {
            Ok(o) => Some(OrgId(o)),
            Err(_) => {
                errors.add(
                    &format!("action{n}_org"),
                    m.t("validation.choose").to_owned(),
                );
                None
            }
        };
        let due = crate::view::date_field(&mut errors, m, &format!("action{n}_due"), due, false);
        if let Some(org) = org {
            rows.push(n);
            actions.push(AgreedAction {
                description: description.to_owned(),
                responsible_organisation_id: org,
                due_date: due,
            });
        }
    }
    let (Some(outcome), true) = (outcome, errors.is_empty()) else {
        return minutes_page(&state, &staff, id, Some(&form), errors).await;
    };
    let input = MinutesInput {
        outcome,
        notes: form.get("notes").trim().to_owned(),
        actions,
    };
    match conversations::minutes(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        input,
    )
    .await
    {
        Ok(_) => see_other(&format!("/conversations/{id}?done=minutes")),
        Err(AppError::Validation(errs)) => {
            let mut errors = FormErrors::default();
            for e in errs {
                let field = match e.field.strip_prefix("actions[") {
                    Some(rest) => rest
                        .split_once("].")
                        .and_then(|(i, sub)| {
                            let row = rows.get(i.parse::<usize>().ok()?)?;
                            let part = if sub == "description" {
                                "description"
                            } else {
                                "org"
                            };
                            Some(format!("action{row}_{part}"))
                        })
                        .unwrap_or_else(|| "action0_description".into()),
                    None => e.field.clone(),
                };
                let one = FormErrors::from_app(m, std::slice::from_ref(&e), &[field.as_str()]);
                errors.items.extend(one.items);
            }
            minutes_page(&state, &staff, id, Some(&form), errors).await
        }
        Err(AppError::PreconditionFailed) => {
            let mut errors = FormErrors::default();
            errors.add("outcome", m.t("conversation.changed").to_owned());
            minutes_page(&state, &staff, id, Some(&form), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// My conversations

#[derive(Template)]
#[template(path = "conversations.html")]
struct ConversationsPage {
    shell: Shell,
    coming: Vec<Conversation>,
    past: Vec<Conversation>,
    open: Vec<Conversation>,
}

impl ConversationsPage {
    /// When a conversation is (or was) held: its agreed time.
    fn when(&self, c: &Conversation) -> String {
        c.confirmed_slot
            .as_ref()
            .map(|s| self.shell.datetime(s.start_utc))
            .unwrap_or_default()
    }
}

/// The signed-in user's conversations (at most 200, the newest).
async fn mine(state: &WebState, staff: &Staff) -> Result<Vec<Conversation>, WebError> {
    Ok(conversations::all_mine(
        &state.app,
        staff,
        Paging {
            limit: Some(200),
            offset: None,
        },
    )
    .await?
    .items)
}

/// "My conversations": those the signed-in user takes part in, the coming ones first (soonest
/// first), then those still being agreed, then the past ones.
pub async fn my_conversations(State(state): State<WebState>, staff: Staff) -> PageResult {
    let m = staff.lang.messages();
    let now = state.app.now();
    let (mut coming, mut past, mut open) = (Vec::new(), Vec::new(), Vec::new());
    for c in mine(&state, &staff).await? {
        match c.confirmed_slot.as_ref().map(|s| s.start_utc) {
            Some(at) if at >= now && c.state == ConversationState::Confirmed => coming.push(c),
            Some(_) => past.push(c),
            None if c.state == ConversationState::Proposed => open.push(c),
            None => past.push(c),
        }
    }
    let at = |c: &Conversation| c.confirmed_slot.as_ref().map(|s| s.start_utc);
    coming.sort_by_key(|c| at(c));
    past.sort_by_key(|c| std::cmp::Reverse(at(c).unwrap_or(c.updated_at)));
    page(&ConversationsPage {
        shell: Shell::staff(
            &staff,
            "/conversations",
            m.t("conversations.title").to_owned(),
        ),
        coming,
        past,
        open,
    })
}

/// A day of the week view.
struct Day {
    date: Date,
    today: bool,
    items: Vec<WeekItem>,
}

struct WeekItem {
    id: Uuid,
    from: String,
    to: String,
    reference: String,
    mode: ConversationMode,
    state: ConversationState,
}

#[derive(Template)]
#[template(path = "week.html")]
struct WeekPage {
    shell: Shell,
    days: Vec<Day>,
    prev: String,
    next: String,
    this_week: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    date: String,
}

fn hhmm(t: OffsetDateTime) -> String {
    let o = oslo::to_oslo(t);
    format!("{:02}:{:02}", o.hour(), o.minute())
}

/// The week (Monday to Sunday, Oslo dates) around `?date=`, today's by default, with the
/// agreed conversations of each day.
pub async fn week(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<WeekQuery>,
) -> PageResult {
    let m = staff.lang.messages();
    let today = oslo::to_oslo(state.app.now()).date();
    // A date that is no date shows this week: the links only ever make valid ones.
    let day = parse_date(&q.date).unwrap_or(today);
    let monday = day - Duration::days(i64::from(day.weekday().number_days_from_monday()));
    let all = mine(&state, &staff).await?;
    let days: Vec<Day> = (0..7)
        .map(|i| {
            let date = monday + Duration::days(i);
            let mut items: Vec<WeekItem> = all
                .iter()
                .filter(|c| c.state != ConversationState::Cancelled)
                .filter_map(|c| {
                    let s = c.confirmed_slot.as_ref()?;
                    (oslo::to_oslo(s.start_utc).date() == date).then(|| WeekItem {
                        id: c.id,
                        from: hhmm(s.start_utc),
                        to: hhmm(s.start_utc + Duration::minutes(i64::from(s.duration_minutes))),
                        reference: c.handover_reference.clone(),
                        mode: c.mode,
                        state: c.state,
                    })
                })
                .collect();
            items.sort_by(|a, b| a.from.cmp(&b.from));
            Day {
                date,
                today: date == today,
                items,
            }
        })
        .collect();
    let link = |d: Date| format!("/conversations/week?date={}", crate::view::iso_date(&d));
    let week = monday.iso_week();
    let title = m.f("week.title", &[("week", &week.to_string())]);
    page(&WeekPage {
        shell: Shell::staff(&staff, "/conversations", title),
        prev: link(monday - Duration::days(7)),
        next: link(monday + Duration::days(7)),
        this_week: link(today),
        days,
    })
}

impl WeekPage {
    fn weekday(&self, d: &Date) -> &str {
        self.shell.t(match d.weekday() {
            Weekday::Monday => "week.monday",
            Weekday::Tuesday => "week.tuesday",
            Weekday::Wednesday => "week.wednesday",
            Weekday::Thursday => "week.thursday",
            Weekday::Friday => "week.friday",
            Weekday::Saturday => "week.saturday",
            Weekday::Sunday => "week.sunday",
        })
    }
}

/// A conversation's calendar file (RFC 5545), the same as the API's, for the user's calendar.
pub async fn calendar(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    use axum::response::IntoResponse;
    let id = parse_id(&id)?;
    let f = conversations::calendar(&state.app, &staff, id).await?.body;
    let name = format!(
        "attachment; filename=\"{}.ics\"",
        f.handover_reference
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        f.ics,
    )
        .into_response())
}

/// Whether the handover page offers a new proposal: the handover is received or accepted, no
/// conversation is on the table or agreed, and the caller may act on its conversations.
pub fn may_propose(staff: &Staff, h: &HandoverHead, existing: &[Conversation]) -> bool {
    matches!(h.state, HandoverState::Received | HandoverState::Accepted)
        && !existing.iter().any(|c| {
            matches!(
                c.state,
                ConversationState::Proposed | ConversationState::Confirmed
            )
        })
        && conversations::may_manage(staff, h)
}

/// An agreed action marked done, dropped (with the reason) or open again, from the
/// conversation's page.
pub async fn action_status(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Fields>,
) -> PageResult {
    let id = parse_id(&id)?;
    // The page to answer with; the use case checks the action itself.
    let conversation: Uuid = form
        .get("conversation")
        .parse()
        .map_err(|_| WebError::BadForm)?;
    let m = staff.lang.messages();
    let version = form.version()?;
    let status: ActionStatus = form.get("status").parse().map_err(|_| WebError::BadForm)?;
    let field = reason_field(&id);
    let reason = form.get(&field).trim();
    let change = ActionStatusChange {
        status,
        reason: (status == ActionStatus::Dropped).then(|| reason.to_owned()),
    };
    let (errors, problem) = match handover_app::actions::set_status(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        change,
    )
    .await
    {
        Ok(_) => {
            return see_other(&format!(
                "/conversations/{conversation}?done=action_saved#action-{id}"
            ));
        }
        Err(AppError::Validation(errs)) => {
            let mut errors = FormErrors::default();
            for e in &errs {
                let text = match e.code.as_str() {
                    "required" => m.t("action.drop_reason_required").to_owned(),
                    _ => crate::view::error_text(m, None, e),
                };
                errors.add(&field, text);
            }
            (errors, None)
        }
        Err(AppError::PreconditionFailed) => (
            FormErrors::default(),
            Some(m.t("action.changed").to_owned()),
        ),
        Err(e) => return Err(e.into()),
    };
    conversation_page(
        &state,
        &staff,
        conversation,
        None,
        errors,
        problem,
        String::new(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_staff_type_them() {
        assert_eq!(parse_time("14:30"), Time::from_hms(14, 30, 0).ok());
        assert_eq!(parse_time("9.05"), Time::from_hms(9, 5, 0).ok());
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("14"), None);
        assert_eq!(parse_time("ab:cd"), None);
    }

    #[test]
    fn slot_errors_go_to_the_row_they_came_from() {
        // The second slot came from the third row (the second was left blank).
        let rows = [0, 2];
        assert_eq!(
            slot_field("slots[1].start", &rows).as_deref(),
            Some("slot2_date")
        );
        assert_eq!(
            slot_field("slots[0].duration_minutes", &rows).as_deref(),
            Some("slot0_minutes")
        );
        assert_eq!(slot_field("slots", &rows).as_deref(), Some("slot0_date"));
        assert_eq!(slot_field("start", &[0]).as_deref(), Some("slot0_date"));
        assert_eq!(slot_field("slots[7].start", &rows), None);
        assert_eq!(slot_field("video_link", &rows), None);
        assert_eq!(
            external_field("external_attendees[1].language").as_deref(),
            Some("interpreter_language")
        );
    }
}
