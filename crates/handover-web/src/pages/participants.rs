//! The participant list, a new participant, the record on one page, the identity form, the
//! record's history and the participant's export.

use super::{NoticeQuery, PageResult, opt, page, page_with, pager, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::session::{Posted, Staff, encode_component};
use crate::view::{FormErrors, Opt, Shell, date_field, iso_date, number, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use handover_app::AppError;
use handover_app::participants::{self, ParticipantQuery};
use handover_app::precondition::Precondition;
use handover_domain::page::Paging;
use handover_domain::participant::{
    LanguageLevel, Participant, ParticipantInput, ParticipantPatch, ParticipantStatus,
    ProgrammeRecord, RecordChange, SpokenLanguage,
};
use handover_domain::{Page, Role};
use serde::Deserialize;

const PAGE_SIZE: i64 = 25;

#[derive(Template)]
#[template(path = "participants.html")]
struct ListPage {
    shell: Shell,
    errors: FormErrors,
    q: ListQuery,
    statuses: Vec<Opt>,
    page: Page<Participant>,
    prev: Option<String>,
    next: Option<String>,
    may_create: bool,
    lookup_errors: FormErrors,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub arrived_from: String,
    #[serde(default)]
    pub arrived_to: String,
    #[serde(default)]
    pub offset: Option<i64>,
    /// After an erasure, the list says it was done (the participant's own page is gone).
    #[serde(default)]
    pub done: Option<String>,
}

impl ListQuery {
    /// The list's address with another offset, keeping the filters.
    fn with_offset(&self, offset: i64) -> String {
        format!(
            "/participants?name={}&status={}&arrived_from={}&arrived_to={}&offset={offset}",
            encode_component(&self.name),
            encode_component(&self.status),
            encode_component(&self.arrived_from),
            encode_component(&self.arrived_to),
        )
    }
}

pub async fn list(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> PageResult {
    render_list(&state, &staff, q, FormErrors::default(), StatusCode::OK).await
}

async fn render_list(
    state: &WebState,
    staff: &Staff,
    q: ListQuery,
    lookup_errors: FormErrors,
    status: StatusCode,
) -> PageResult {
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let arrived_from = date_field(&mut errors, m, "arrived_from", &q.arrived_from, false);
    let arrived_to = date_field(&mut errors, m, "arrived_to", &q.arrived_to, false);
    let status_filter = match q.status.as_str() {
        "" => None,
        s => match s.parse::<ParticipantStatus>() {
            Ok(st) => Some(st),
            Err(_) => {
                errors.add("status", m.t("validation.invalid_value").to_owned());
                None
            }
        },
    };
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let query = ParticipantQuery {
        status: status_filter,
        arrived_from,
        arrived_to,
        name: opt(&q.name),
        paging: Paging {
            limit: Some(PAGE_SIZE),
            offset: Some(offset),
        },
    };
    let page_items = if errors.is_empty() {
        match participants::list(&state.app, staff, query).await {
            Ok(p) => p,
            Err(AppError::Validation(errs)) => {
                errors = FormErrors::from_app(
                    m,
                    &errs,
                    &["name", "status", "arrived_from", "arrived_to"],
                );
                empty_page()
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        empty_page()
    };
    let status = if errors.is_empty() {
        status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (prev, next) = pager(offset, PAGE_SIZE, page_items.total, |o| q.with_offset(o));
    let statuses = options(
        m,
        "participant_status.",
        ParticipantStatus::ALL.iter().map(|s| s.as_str()),
        &q.status,
        Some("participants.any_status"),
    );
    page_with(
        status,
        &ListPage {
            shell: Shell::staff(staff, "/participants", m.t("participants.title").to_owned())
                .with_notice(
                    NoticeQuery {
                        done: q.done.clone(),
                    }
                    .key(),
                ),
            errors,
            q,
            statuses,
            page: page_items,
            prev,
            next,
            may_create: staff.caller.role == Role::CentreStaff,
            lookup_errors,
        },
    )
}

fn empty_page() -> Page<Participant> {
    Page {
        items: Vec::new(),
        total: 0,
        limit: PAGE_SIZE,
        offset: 0,
    }
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    identifier: String,
}

/// Finds a participant by DUF number or D-number, posted (an identifier never goes in an
/// address, where it would stay in the history and in logs).
pub async fn lookup(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<LookupForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let id: String = form
        .identifier
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (duf, d) = if id.len() == 12 {
        (Some(id.as_str()), None)
    } else {
        (None, Some(id.as_str()))
    };
    let mut errors = FormErrors::default();
    match participants::lookup(&state.app, &staff, duf, d).await {
        Ok(p) => return see_other(&format!("/participants/{}", p.body.id)),
        Err(AppError::Validation(_)) => {
            errors.add("identifier", m.t("lookup.invalid").to_owned());
        }
        Err(AppError::NotFound) => {
            errors.add("identifier", m.t("lookup.not_found").to_owned());
        }
        Err(e) => return Err(e.into()),
    }
    render_list(
        &state,
        &staff,
        ListQuery::default(),
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The identity form's values as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct IdentityForm {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub duf_number: String,
    #[serde(default)]
    pub d_number: String,
    #[serde(default)]
    pub interpreter_language: String,
    #[serde(default)]
    pub arrival_date: String,
    #[serde(default)]
    pub programme_start: String,
    #[serde(default)]
    pub programme_end: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub language_0: String,
    #[serde(default)]
    pub level_0: String,
    #[serde(default)]
    pub language_1: String,
    #[serde(default)]
    pub level_1: String,
    #[serde(default)]
    pub language_2: String,
    #[serde(default)]
    pub level_2: String,
}

/// The identity form's fields, in the order of the form (the error summary's order).
const IDENTITY_FIELDS: &[&str] = &[
    "given_name",
    "family_name",
    "date_of_birth",
    "duf_number",
    "d_number",
    "languages",
    "interpreter_language",
    "arrival_date",
    "programme_start",
    "programme_end",
    "status",
    "notes",
];

/// How many spoken languages the form offers rows for.
const LANGUAGE_ROWS: usize = 3;

impl IdentityForm {
    fn of(p: &ParticipantInput, version: i32) -> IdentityForm {
        let lang = |i: usize| p.languages.get(i);
        IdentityForm {
            version: version.to_string(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            date_of_birth: iso_date(&p.date_of_birth),
            duf_number: p.duf_number.clone().unwrap_or_default(),
            d_number: p.d_number.clone().unwrap_or_default(),
            interpreter_language: p.interpreter_language.clone().unwrap_or_default(),
            arrival_date: iso_date(&p.arrival_date),
            programme_start: p.programme_start.as_ref().map(iso_date).unwrap_or_default(),
            programme_end: p.programme_end.as_ref().map(iso_date).unwrap_or_default(),
            status: p.status.as_str().to_owned(),
            notes: p.notes.clone().unwrap_or_default(),
            language_0: lang(0).map(|l| l.language.clone()).unwrap_or_default(),
            level_0: lang(0)
                .map(|l| l.level.as_str().to_owned())
                .unwrap_or_default(),
            language_1: lang(1).map(|l| l.language.clone()).unwrap_or_default(),
            level_1: lang(1)
                .map(|l| l.level.as_str().to_owned())
                .unwrap_or_default(),
            language_2: lang(2).map(|l| l.language.clone()).unwrap_or_default(),
            level_2: lang(2)
                .map(|l| l.level.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// The language rows for the template: position and code.
    fn rows(&self) -> Vec<(usize, String)> {
        self.language_rows()
            .iter()
            .enumerate()
            .map(|(i, (code, _))| (i, (*code).to_owned()))
            .collect()
    }

    fn language_rows(&self) -> [(&str, &str); LANGUAGE_ROWS] {
        [
            (&self.language_0, &self.level_0),
            (&self.language_1, &self.level_1),
            (&self.language_2, &self.level_2),
        ]
    }

    /// The typed values as the use case's input, or the errors of values that are not even of
    /// the right kind (a date that is no date). The use case checks the rest.
    fn input(
        &self,
        m: &crate::i18n::Messages,
        keep_notes: Option<&str>,
    ) -> Result<ParticipantInput, FormErrors> {
        let mut errors = FormErrors::default();
        let date_of_birth = date_field(&mut errors, m, "date_of_birth", &self.date_of_birth, true);
        let arrival_date = date_field(&mut errors, m, "arrival_date", &self.arrival_date, true);
        let programme_start = date_field(
            &mut errors,
            m,
            "programme_start",
            &self.programme_start,
            false,
        );
        let programme_end = date_field(&mut errors, m, "programme_end", &self.programme_end, false);
        let status = match self.status.parse::<ParticipantStatus>() {
            Ok(s) => s,
            Err(_) => {
                errors.add("status", m.t("validation.invalid_value").to_owned());
                ParticipantStatus::InProgramme
            }
        };
        let mut languages = Vec::new();
        for (code, level) in self.language_rows() {
            let code = code.trim();
            if code.is_empty() && level.is_empty() {
                continue;
            }
            match level.parse::<LanguageLevel>() {
                Ok(level) if !code.is_empty() => languages.push(SpokenLanguage {
                    language: code.to_lowercase(),
                    level,
                }),
                _ => errors.add(
                    "languages",
                    m.t("participant.language_row_incomplete").to_owned(),
                ),
            }
        }
        // Placeholders for dates that could not be read, so that the other fields are checked
        // too and the summary lists every error at once.
        let today = time::OffsetDateTime::now_utc().date();
        let input = ParticipantInput {
            given_name: self.given_name.trim().to_owned(),
            family_name: self.family_name.trim().to_owned(),
            date_of_birth: date_of_birth.unwrap_or(today),
            duf_number: opt(&self.duf_number),
            d_number: opt(&self.d_number),
            languages,
            interpreter_language: opt(&self.interpreter_language).map(|s| s.to_lowercase()),
            arrival_date: arrival_date.unwrap_or(today),
            programme_start,
            programme_end,
            status,
            notes: match keep_notes {
                Some(n) => opt(n),
                None => opt(&self.notes),
            },
        };
        if errors.is_empty() {
            return Ok(input);
        }
        if let Err(more) = input.validate(today) {
            const DATES: [&str; 4] = [
                "date_of_birth",
                "arrival_date",
                "programme_start",
                "programme_end",
            ];
            let more = FormErrors::from_app(m, &more, IDENTITY_FIELDS);
            for e in more.items {
                if !DATES.contains(&e.field.as_str()) && errors.get(&e.field).is_none() {
                    errors.add(&e.field, e.message);
                }
            }
        }
        // In the order of the form.
        errors.items.sort_by_key(|e| {
            IDENTITY_FIELDS
                .iter()
                .position(|f| *f == e.field)
                .unwrap_or(usize::MAX)
        });
        Err(errors)
    }
}

#[derive(Template)]
#[template(path = "identity_form.html")]
struct IdentityPage {
    shell: Shell,
    errors: FormErrors,
    form: IdentityForm,
    action: String,
    cancel: String,
    statuses: Vec<Opt>,
    levels: Vec<Vec<Opt>>,
    /// After a conflict: the saved values that differ from what the user typed, by field.
    theirs: Vec<(String, String)>,
    conflict: bool,
}

impl IdentityPage {
    fn theirs_for(&self, field: &str) -> Option<&str> {
        self.theirs
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }
}

fn identity_view(
    staff: &Staff,
    here: &str,
    title: String,
    form: IdentityForm,
    errors: FormErrors,
) -> IdentityPage {
    let m = staff.lang.messages();
    let statuses = options(
        m,
        "participant_status.",
        ParticipantStatus::ALL.iter().map(|s| s.as_str()),
        &form.status,
        None,
    );
    let levels = form
        .language_rows()
        .iter()
        .map(|(_, level)| {
            options(
                m,
                "language_level.",
                LanguageLevel::ALL.iter().map(|l| l.as_str()),
                level,
                Some("form.choose"),
            )
        })
        .collect();
    IdentityPage {
        shell: Shell::staff(staff, here, title),
        errors: errors.labelled(m, "participant."),
        action: here.to_owned(),
        cancel: if here == "/participants/new" {
            "/participants".to_owned()
        } else {
            here.trim_end_matches("/identity").to_owned()
        },
        form,
        statuses,
        levels,
        theirs: Vec::new(),
        conflict: false,
    }
}

pub async fn new_page(staff: Staff) -> PageResult {
    staff.require(handover_domain::Action::ParticipantWrite)?;
    let m = staff.lang.messages();
    let form = IdentityForm {
        status: ParticipantStatus::InProgramme.as_str().to_owned(),
        ..Default::default()
    };
    page(&identity_view(
        &staff,
        "/participants/new",
        m.t("participant.new_title").to_owned(),
        form,
        FormErrors::default(),
    ))
}

pub async fn create(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<IdentityForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let title = m.t("participant.new_title").to_owned();
    let input = match form.input(m, None) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &identity_view(&staff, "/participants/new", title, form, errors),
            );
        }
    };
    match participants::create(&state.app, &staff, input).await {
        Ok(p) => see_other(&format!("/participants/{}?done=created", p.body.id)),
        Err(e) => {
            let errors = form_errors(m, e, IDENTITY_FIELDS)?;
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &identity_view(&staff, "/participants/new", title, form, errors),
            )
        }
    }
}

/// A use case's refusal of a form as errors beside the fields: validation errors by field, a
/// conflict (a DUF number already registered) at the form's first field; anything else is an
/// error page.
pub fn form_errors(
    m: &crate::i18n::Messages,
    e: AppError,
    fields: &[&str],
) -> Result<FormErrors, WebError> {
    match e {
        AppError::Validation(errs) => Ok(FormErrors::from_app(m, &errs, fields)),
        AppError::Conflict(_) => {
            let mut errors = FormErrors::default();
            errors.add(
                fields.first().copied().unwrap_or("form"),
                m.t("form.conflict").to_owned(),
            );
            Ok(errors)
        }
        e => Err(e.into()),
    }
}

pub async fn identity_page_get(state: &WebState, staff: &Staff, id: uuid::Uuid) -> PageResult {
    let p = participants::get(&state.app, staff, id).await?;
    let m = staff.lang.messages();
    let here = format!("/participants/{id}/identity");
    page(&identity_view(
        staff,
        &here,
        m.t("participant.identity_title").to_owned(),
        IdentityForm::of(&p.body.data, p.body.version),
        FormErrors::default(),
    ))
}

pub async fn identity_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    staff.require(handover_domain::Action::ParticipantWrite)?;
    identity_page_get(&state, &staff, parse_id(&id)?).await
}

pub async fn identity_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<IdentityForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let here = format!("/participants/{id}/identity");
    let title = m.t("participant.identity_title").to_owned();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    let input = match form.input(m, None) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &identity_view(&staff, &here, title, form, errors),
            );
        }
    };
    let patch = ParticipantPatch {
        given_name: Some(input.given_name),
        family_name: Some(input.family_name),
        date_of_birth: Some(input.date_of_birth),
        duf_number: Some(input.duf_number),
        d_number: Some(input.d_number),
        languages: Some(input.languages),
        interpreter_language: Some(input.interpreter_language),
        arrival_date: Some(input.arrival_date),
        programme_start: Some(input.programme_start),
        programme_end: Some(input.programme_end),
        status: Some(input.status),
        notes: input.notes.or(Some(String::new())),
    };
    match participants::update(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        patch,
    )
    .await
    {
        Ok(_) => see_other(&format!("/participants/{id}?done=saved")),
        Err(AppError::PreconditionFailed) => {
            // Someone saved first: keep what this user typed, show what is saved now where it
            // differs, and offer to save again over the new version.
            let current = participants::get(&state.app, &staff, id).await?;
            let saved = IdentityForm::of(&current.body.data, current.body.version);
            let theirs = differences(&form, &saved);
            let mut typed = form;
            typed.version = saved.version.clone();
            let mut p = identity_view(&staff, &here, title, typed, FormErrors::default());
            p.theirs = theirs;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(e) => {
            let errors = form_errors(m, e, IDENTITY_FIELDS)?;
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &identity_view(&staff, &here, title, form, errors),
            )
        }
    }
}

/// The fields whose saved value differs from the typed one, with the saved value.
fn differences(typed: &IdentityForm, saved: &IdentityForm) -> Vec<(String, String)> {
    let pairs: [(&str, &str, &str); 11] = [
        ("given_name", &typed.given_name, &saved.given_name),
        ("family_name", &typed.family_name, &saved.family_name),
        ("date_of_birth", &typed.date_of_birth, &saved.date_of_birth),
        ("duf_number", &typed.duf_number, &saved.duf_number),
        ("d_number", &typed.d_number, &saved.d_number),
        (
            "interpreter_language",
            &typed.interpreter_language,
            &saved.interpreter_language,
        ),
        ("arrival_date", &typed.arrival_date, &saved.arrival_date),
        (
            "programme_start",
            &typed.programme_start,
            &saved.programme_start,
        ),
        ("programme_end", &typed.programme_end, &saved.programme_end),
        ("status", &typed.status, &saved.status),
        ("notes", &typed.notes, &saved.notes),
    ];
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(_, a, b)| a.trim() != b.trim())
        .map(|(f, _, b)| ((*f).to_owned(), (*b).to_owned()))
        .collect();
    let langs = |f: &IdentityForm| {
        f.language_rows()
            .iter()
            .filter(|(c, _)| !c.trim().is_empty())
            .map(|(c, l)| format!("{} ({l})", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if langs(typed) != langs(saved) {
        out.push(("languages".into(), langs(saved)));
    }
    out
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    shell: Shell,
    id: uuid::Uuid,
    r: ProgrammeRecord,
    may_write: bool,
    own_centre: bool,
    /// The caller's role may read guidance summaries (the participant's access decides which).
    may_guidance: bool,
    /// What the municipalities reported after settlement, for the centre and its career centre.
    outcomes: Vec<handover_app::outcome::ParticipantOutcome>,
}

impl RecordPage {
    fn hours(&self, h: &f64) -> String {
        number(*h)
    }

    fn percent(&self, p: &Option<f64>) -> String {
        p.map(|p| format!("{} %", number(p)))
            .unwrap_or_else(|| "–".into())
    }
}

pub async fn record(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let r = participants::record(&state.app, &staff, id).await?.body;
    let name = format!(
        "{} {}",
        r.participant.data.given_name, r.participant.data.family_name
    );
    let own_centre = r.participant.reception_centre_id == staff.caller.org_id;
    let outcomes = match handover_app::outcome::for_participant(&state.app, &staff, id).await {
        Ok(o) => o.map(|d| d.body).unwrap_or_default(),
        Err(AppError::Forbidden | AppError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    page(&RecordPage {
        outcomes,
        shell: Shell::staff(&staff, &format!("/participants/{id}"), name).with_notice(q.key()),
        id,
        may_write: staff.caller.role == Role::CentreStaff && own_centre,
        own_centre,
        may_guidance: handover_domain::policy::role_may(
            handover_domain::policy::Principal {
                role: staff.caller.role,
                org_kind: staff.caller.org_kind,
            },
            handover_domain::Action::GuidanceRead,
        ) == handover_domain::policy::Decision::Allow,
        r,
    })
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    shell: Shell,
    id: uuid::Uuid,
    page: Page<RecordChange>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OffsetQuery {
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn history(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<OffsetQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let page_items = participants::history(
        &state.app,
        &staff,
        id,
        Paging {
            limit: Some(PAGE_SIZE),
            offset: Some(offset),
        },
    )
    .await?
    .body;
    let base = format!("/participants/{id}/history");
    let (prev, next) = pager(offset, PAGE_SIZE, page_items.total, |o| {
        format!("{base}?offset={o}")
    });
    let m = staff.lang.messages();
    page(&HistoryPage {
        shell: Shell::staff(&staff, &base, m.t("history.title").to_owned()),
        id,
        page: page_items,
        prev,
        next,
    })
}

/// The participant's export (GDPR art. 15/20) as a JSON file to save: the same document the
/// API gives, and the same audited read.
pub async fn export(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    let e = handover_app::export::export(&state.app, &staff, id).await?;
    let body = serde_json::to_vec_pretty(&e.body).map_err(|_| WebError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"participant-{id}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}
