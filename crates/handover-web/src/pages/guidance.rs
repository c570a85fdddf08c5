//! Career counsellors' guidance summaries: a participant's summaries (drafts, finals and the
//! chain of superseded ones), the summary editor, the recommended pathway put together from the
//! qualification-pathway catalogue, finalising and superseding. Every page says that this is
//! guidance in the reception centre, not the statutory § 11 career guidance after settlement.
//!
//! The pages call the use cases of `handover_app::guidance` (the same as the JSON API), which
//! decide access: counsellors of the career centre that serves the participant's centre write,
//! that centre's staff read.

use super::{PageResult, opt, page, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::{Lang, Messages};
use crate::session::{Posted, Staff, encode_component};
use crate::view::{FormErrors, Opt, Shell, date_field, iso_date, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use handover_app::catalogue::{self, OfferingQuery};
use handover_app::precondition::Precondition;
use handover_app::{AppError, documents, guidance, participants};
use handover_domain::guidance::{
    GuidanceSession, GuidanceSummary, GuidanceSummaryInput, Offering, OfferingGroup,
    PathwayStepInput, SessionKind, SummaryStatus, overall_level,
};
use handover_domain::participant::{Cefr, NorwegianTrainingInput};
use handover_domain::{Action, FieldError, Paging, Role};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

type Form = HashMap<String, String>;

fn v<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default().trim()
}

/// At most this many session rows are read from a form (the domain's own limit).
const MAX_SESSIONS: usize = 100;
/// At most this many pathway steps are read from a form.
const MAX_STEPS: usize = 30;

/// The confirmations of these pages, chosen from a fixed list.
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saved" => "notice.saved",
        "created" => "guidance.notice_created",
        "finalised" => "guidance.notice_finalised",
        "superseding" => "guidance.notice_superseding",
        "deleted" => "guidance.notice_deleted",
        "step_added" => "pathway.notice_added",
        "step_removed" => "pathway.notice_removed",
        "step_moved" => "pathway.notice_moved",
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// The notice that says what kind of guidance this is, in the user's language (the domain's
/// own words, the same the handover file carries).
fn guidance_notice(lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => handover_domain::guidance::GUIDANCE_NOTICE_NB,
        Lang::En => handover_domain::guidance::GUIDANCE_NOTICE_EN,
    }
}

/// The time a summary is known by: when it was finalised, or (a draft) when it was started.
/// With the time of day, since two summaries can be of the same day.
fn summary_day(s: &GuidanceSummary) -> String {
    crate::view::datetime(s.finalised_at.unwrap_or(s.created_at))
}

async fn participant_name(state: &WebState, staff: &Staff, id: Uuid) -> Result<String, WebError> {
    let p = participants::get(&state.app, staff, id).await?.body;
    Ok(format!("{} {}", p.data.given_name, p.data.family_name))
}

/// The participant's Norwegian level for the level hints (the weakest skill; none until every
/// skill is assessed). Only staff who may read the record get here.
async fn reached_level(
    state: &WebState,
    staff: &Staff,
    participant: Uuid,
) -> Result<Option<Cefr>, WebError> {
    match documents::get::<NorwegianTrainingInput>(&state.app, staff, participant).await {
        Ok(d) => Ok(overall_level(Some(&d.body.data))),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The whole catalogue (retired offerings too), by id: the names, groups and prerequisites of
/// the steps a page shows.
async fn catalogue_by_id(
    state: &WebState,
    staff: &Staff,
) -> Result<HashMap<Uuid, Offering>, WebError> {
    let all = catalogue::list(
        &state.app,
        staff,
        OfferingQuery {
            include_retired: Some(true),
            paging: Paging {
                limit: Some(handover_domain::page::MAX_LIMIT),
                offset: None,
            },
            ..Default::default()
        },
    )
    .await?;
    Ok(all.items.into_iter().map(|o| (o.id, o)).collect())
}

/// An offering's name in the user's language.
pub fn offering_name(lang: Lang, o: &Offering) -> &str {
    match lang {
        Lang::Nb => &o.data.name_nb,
        Lang::En => &o.data.name_en,
    }
}

// ---------------------------------------------------------------------------------------------
// The chain of summaries
// ---------------------------------------------------------------------------------------------

/// One summary in a participant's list, with its place in the chain said in words.
pub struct Row {
    pub s: GuidanceSummary,
    pub day: String,
    /// "Supersedes the summary of 01.02.2026" and the like.
    pub chain: Vec<String>,
}

/// The participant's summaries with their chain: what each supersedes and what superseded it;
/// a draft supersedes the current final summary once it is finalised.
fn chain_rows(m: &Messages, items: Vec<GuidanceSummary>) -> Vec<Row> {
    let by_id: HashMap<Uuid, String> = items.iter().map(|s| (s.id, summary_day(s))).collect();
    let current_final = items
        .iter()
        .find(|s| s.status == SummaryStatus::Final && s.superseded_by.is_none())
        .map(|s| (s.id, summary_day(s)));
    let mut rows: Vec<Row> = items
        .iter()
        .map(|s| {
            let mut chain = Vec::new();
            for older in items.iter().filter(|o| o.superseded_by == Some(s.id)) {
                chain.push(m.f("guidance.supersedes", &[("date", &summary_day(older))]));
            }
            if s.status == SummaryStatus::Draft
                && let Some((id, d)) = &current_final
                && *id != s.id
            {
                chain.push(m.f("guidance.will_supersede", &[("date", d)]));
            }
            if let Some(newer) = s.superseded_by {
                let d = by_id.get(&newer).cloned().unwrap_or_default();
                chain.push(m.f("guidance.superseded_by", &[("date", &d)]));
            }
            Row {
                day: summary_day(s),
                chain,
                s: s.clone(),
            }
        })
        .collect();
    // Newest first.
    rows.reverse();
    rows
}

// ---------------------------------------------------------------------------------------------
// 1. A participant's summaries
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "guidance_list.html")]
struct ListPage {
    shell: Shell,
    id: Uuid,
    notice_text: &'static str,
    rows: Vec<Row>,
    may_write: bool,
    draft: Option<Uuid>,
}

async fn all_summaries(
    state: &WebState,
    staff: &Staff,
    participant: Uuid,
) -> Result<Vec<GuidanceSummary>, WebError> {
    Ok(guidance::list(
        &state.app,
        staff,
        participant,
        Paging {
            limit: Some(handover_domain::page::MAX_LIMIT),
            offset: None,
        },
    )
    .await?
    .body
    .items)
}

fn may_write(staff: &Staff) -> bool {
    staff.caller.role == Role::CareerCounsellor
}

pub async fn list(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let items = all_summaries(&state, &staff, id).await?;
    let name = participant_name(&state, &staff, id).await?;
    let m = staff.lang.messages();
    let draft = items
        .iter()
        .find(|s| s.status == SummaryStatus::Draft)
        .map(|s| s.id);
    page(&ListPage {
        shell: Shell::staff(
            &staff,
            &format!("/participants/{id}/guidance"),
            m.f("guidance.list_title", &[("name", &name)]),
        )
        .with_notice(notice(q.done.as_deref())),
        id,
        notice_text: guidance_notice(staff.lang),
        rows: chain_rows(m, items),
        may_write: may_write(&staff),
        draft,
    })
}

// ---------------------------------------------------------------------------------------------
// 2. One summary
// ---------------------------------------------------------------------------------------------

/// A pathway step as a page shows it.
pub struct StepView {
    pub index: usize,
    pub offering_id: Uuid,
    pub name: String,
    pub group: String,
    pub min_cefr: Option<String>,
    pub retired: bool,
    pub reason: String,
    /// A hint that the participant's level is below what the step usually needs.
    pub level_hint: Option<String>,
}

fn step_views(
    lang: Lang,
    steps: &[PathwayStepInput],
    stored: &[handover_domain::guidance::PathwayStep],
    catalogue: &HashMap<Uuid, Offering>,
    reached: Option<Cefr>,
) -> Vec<StepView> {
    let m = lang.messages();
    steps
        .iter()
        .enumerate()
        .map(|(index, st)| {
            let o = catalogue.get(&st.offering_id);
            let saved = stored.iter().find(|p| p.offering_id == st.offering_id);
            let name = match (saved, o) {
                (Some(p), _) => match lang {
                    Lang::Nb => p.offering_name_nb.clone(),
                    Lang::En => p.offering_name_en.clone(),
                },
                (None, Some(o)) => offering_name(lang, o).to_owned(),
                (None, None) => st.offering_id.to_string(),
            };
            let min = o.and_then(|o| o.data.prerequisites.min_cefr);
            StepView {
                index,
                offering_id: st.offering_id,
                name,
                group: o
                    .map(|o| {
                        m.t(&format!("catalogue.group_{}", o.data.group.as_str()))
                            .to_owned()
                    })
                    .unwrap_or_default(),
                min_cefr: min.map(|c| c.as_str().to_owned()),
                retired: o.is_some_and(|o| o.retired) || saved.is_some_and(|p| p.offering_retired),
                reason: st.reason.clone(),
                level_hint: level_hint(m, min, reached),
            }
        })
        .collect()
}

/// "Usually needs B1; the participant has A2" when the participant's level is below.
fn level_hint(m: &Messages, min: Option<Cefr>, reached: Option<Cefr>) -> Option<String> {
    let min = min?;
    match reached {
        Some(r) if r >= min => None,
        Some(r) => Some(m.f(
            "pathway.hint_below",
            &[("level", min.as_str()), ("reached", r.as_str())],
        )),
        None => Some(m.f("pathway.hint_no_level", &[("level", min.as_str())])),
    }
}

/// The domain's warnings in the user's language.
fn warning_texts(
    m: &Messages,
    s: &GuidanceSummary,
    steps: &[StepView],
    reached: Option<Cefr>,
) -> Vec<String> {
    s.warnings
        .iter()
        .map(|w| {
            let step = w
                .step
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| steps.get(i));
            let name = step.map(|st| st.name.as_str()).unwrap_or_default();
            let level = step.and_then(|st| st.min_cefr.as_deref()).unwrap_or("–");
            match (w.code.as_str(), reached) {
                ("level_below_prerequisite", Some(r)) => m.f(
                    "pathway.warning_level",
                    &[("name", name), ("level", level), ("reached", r.as_str())],
                ),
                ("level_below_prerequisite" | "no_norwegian_level", _) => m.f(
                    "pathway.warning_no_level",
                    &[("name", name), ("level", level)],
                ),
                ("retired_offering", _) => m.f("pathway.warning_retired", &[("name", name)]),
                _ => w.message.clone(),
            }
        })
        .collect()
}

fn steps_of(s: &GuidanceSummary) -> Vec<PathwayStepInput> {
    s.pathway
        .iter()
        .map(|p| PathwayStepInput {
            offering_id: p.offering_id,
            reason: p.reason.clone(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "guidance_summary.html")]
struct SummaryPage {
    shell: Shell,
    notice_text: &'static str,
    s: GuidanceSummary,
    participant: Uuid,
    chain: Vec<String>,
    steps: Vec<StepView>,
    warnings: Vec<String>,
    may_write: bool,
    /// The current final summary may be superseded (when no draft is open).
    may_supersede: bool,
    open_draft: Option<Uuid>,
}

impl SummaryPage {
    fn kind(&self, k: &SessionKind) -> String {
        self.shell
            .t(&format!("guidance.kind_{}", k.as_str()))
            .to_owned()
    }
}

/// A summary and its participant's other summaries (for the chain), after the access check.
async fn summary_in_chain(
    state: &WebState,
    staff: &Staff,
    sid: Uuid,
    action: Action,
) -> Result<(Uuid, GuidanceSummary, Vec<GuidanceSummary>), WebError> {
    let participant = guidance::authorize_summary(&state.app, staff, action, sid).await?;
    let items = all_summaries(state, staff, participant).await?;
    let s = items
        .iter()
        .find(|s| s.id == sid)
        .cloned()
        .ok_or(WebError::NotFound)?;
    Ok((participant, s, items))
}

pub async fn summary(
    State(state): State<WebState>,
    staff: Staff,
    Path(sid): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let (participant, s, items) =
        summary_in_chain(&state, &staff, sid, Action::GuidanceRead).await?;
    let m = staff.lang.messages();
    let catalogue = catalogue_by_id(&state, &staff).await?;
    let needs_level = s
        .warnings
        .iter()
        .any(|w| w.code == "level_below_prerequisite");
    let reached = if needs_level {
        reached_level(&state, &staff, participant).await?
    } else {
        None
    };
    let steps = step_views(staff.lang, &steps_of(&s), &s.pathway, &catalogue, None);
    let warnings = warning_texts(m, &s, &steps, reached);
    let open_draft = items
        .iter()
        .find(|x| x.status == SummaryStatus::Draft)
        .map(|x| x.id);
    let rows = chain_rows(m, items);
    let chain = rows
        .iter()
        .find(|r| r.s.id == sid)
        .map(|r| r.chain.clone())
        .unwrap_or_default();
    let title = if s.status == SummaryStatus::Draft {
        m.t("guidance.draft_title")
    } else {
        m.t("guidance.final_title")
    };
    let may_supersede = may_write(&staff)
        && s.status == SummaryStatus::Final
        && s.superseded_by.is_none()
        && open_draft.is_none();
    page(&SummaryPage {
        shell: Shell::staff(&staff, &format!("/guidance/{sid}"), title.to_owned())
            .with_notice(notice(q.done.as_deref())),
        notice_text: guidance_notice(staff.lang),
        participant,
        chain,
        steps,
        warnings,
        may_write: may_write(&staff),
        may_supersede,
        open_draft,
        s,
    })
}

// ---------------------------------------------------------------------------------------------
// 3. The editor: sessions and texts
// ---------------------------------------------------------------------------------------------

/// The text fields of a summary, in the order of the form.
const TEXTS: [&str; 7] = [
    "interests",
    "strengths",
    "experience",
    "goals_short_term",
    "goals_long_term",
    "covered",
    "left_for_section_11",
];

/// One row of the sessions table.
pub struct SessionRow {
    pub legend: String,
    pub date_name: String,
    pub kind_name: String,
    pub topic_name: String,
    pub interp_name: String,
    pub lang_name: String,
    pub date: String,
    pub kinds: Vec<Opt>,
    pub topic: String,
    pub interpreter: bool,
    pub language: String,
}

#[derive(Template)]
#[template(path = "guidance_form.html")]
struct EditorPage {
    shell: Shell,
    notice_text: &'static str,
    errors: FormErrors,
    action: String,
    cancel: String,
    version: Option<i32>,
    conflict: bool,
    rows: Vec<SessionRow>,
    form: Form,
    theirs: HashMap<String, String>,
    /// The draft's pathway (the editor keeps it; the pathway page changes it).
    pathway: Option<PathwayNames>,
    text_fields: &'static [&'static str],
}

/// A draft's pathway as the editor lists it: each step's name.
pub struct PathwayNames {
    pub sid: Uuid,
    pub names: Vec<String>,
}

impl EditorPage {
    fn value(&self, name: &str) -> &str {
        v(&self.form, name)
    }

    fn theirs_for(&self, field: &str) -> Option<&str> {
        self.theirs.get(field).map(String::as_str)
    }

    fn label(&self, name: &str) -> String {
        self.shell.t(&format!("guidance.field_{name}")).to_owned()
    }

    fn hint(&self, name: &str) -> String {
        let key = format!("guidance.hint_{name}");
        if self.shell.m.has(&key) {
            self.shell.t(&key).to_owned()
        } else {
            String::new()
        }
    }
}

/// How many session rows a form has: those posted, else the summary's sessions and one blank.
fn row_count(f: &Form) -> usize {
    (0..MAX_SESSIONS)
        .take_while(|i| f.contains_key(&format!("sessions_date_{i}")))
        .count()
}

fn form_of(s: &GuidanceSummary) -> Form {
    let mut f = Form::new();
    for (name, value) in [
        ("interests", &s.interests),
        ("strengths", &s.strengths),
        ("experience", &s.experience),
        ("goals_short_term", &s.goals_short_term),
        ("goals_long_term", &s.goals_long_term),
        ("covered", &s.covered),
        ("left_for_section_11", &s.left_for_section_11),
    ] {
        f.insert(name.to_owned(), value.clone());
    }
    let n = s.sessions.len().min(MAX_SESSIONS - 1);
    for (i, x) in s.sessions.iter().take(n).enumerate() {
        f.insert(format!("sessions_date_{i}"), iso_date(&x.date));
        f.insert(format!("sessions_kind_{i}"), x.kind.as_str().to_owned());
        f.insert(format!("sessions_topic_{i}"), x.topic.clone());
        if x.interpreter_used {
            f.insert(format!("sessions_interpreter_used_{i}"), "yes".into());
        }
        f.insert(
            format!("sessions_interpreter_language_{i}"),
            x.interpreter_language.clone().unwrap_or_default(),
        );
    }
    blank_row(&mut f, n);
    f
}

fn blank_row(f: &mut Form, i: usize) {
    for k in ["date", "kind", "topic", "interpreter_language"] {
        f.entry(format!("sessions_{k}_{i}")).or_default();
    }
}

fn session_rows(m: &Messages, f: &Form) -> Vec<SessionRow> {
    (0..row_count(f))
        .map(|i| SessionRow {
            legend: m.f("guidance.session_n", &[("n", &(i + 1).to_string())]),
            date_name: format!("sessions_date_{i}"),
            kind_name: format!("sessions_kind_{i}"),
            topic_name: format!("sessions_topic_{i}"),
            interp_name: format!("sessions_interpreter_used_{i}"),
            lang_name: format!("sessions_interpreter_language_{i}"),
            date: v(f, &format!("sessions_date_{i}")).to_owned(),
            kinds: options(
                m,
                "guidance.kind_",
                SessionKind::ALL.iter().map(|k| k.as_str()),
                v(f, &format!("sessions_kind_{i}")),
                Some("form.choose"),
            ),
            topic: v(f, &format!("sessions_topic_{i}")).to_owned(),
            interpreter: v(f, &format!("sessions_interpreter_used_{i}")) == "yes",
            language: v(f, &format!("sessions_interpreter_language_{i}")).to_owned(),
        })
        .collect()
}

/// Every field name of the editor, for placing the use case's errors.
fn editor_fields(f: &Form) -> Vec<String> {
    let mut out = vec!["sessions".to_owned()];
    for i in 0..row_count(f) {
        for k in [
            "date",
            "kind",
            "topic",
            "interpreter_used",
            "interpreter_language",
        ] {
            out.push(format!("sessions_{k}_{i}"));
        }
    }
    out.extend(TEXTS.iter().map(|t| (*t).to_owned()));
    out.push("pathway".into());
    out
}

/// The use case's errors beside the fields: a text per code where the catalogue has one (the
/// pages' own `guidance.error_` + code first), the field found by `field`.
fn app_errors(
    m: &Messages,
    errs: &[FieldError],
    fields: &[String],
    field: impl Fn(&str) -> String,
) -> FormErrors {
    let mut out = FormErrors::default();
    for e in errs {
        let message = crate::view::error_text(m, Some("guidance.error_"), e);
        let mut name = field(&e.field);
        if !fields.contains(&name) {
            name = fields.first().cloned().unwrap_or_default();
        }
        if out.get(&name).is_none() {
            out.add(&name, message);
        }
    }
    out
}

/// An error path of the summary as the editor's field: `sessions[0].date` is
/// `sessions_date_0`; every pathway error is at the pathway.
fn editor_field(path: &str) -> String {
    if path.starts_with("pathway") {
        return "pathway".into();
    }
    crate::view::flat_path(path)
}

/// The editor's form as the use case's input, with the pathway kept as it is.
fn read_editor(
    m: &Messages,
    f: &Form,
    pathway: Vec<PathwayStepInput>,
    today: time::Date,
) -> Result<GuidanceSummaryInput, FormErrors> {
    let mut e = FormErrors::default();
    let mut sessions = Vec::new();
    for i in 0..row_count(f) {
        let g = |k: &str| v(f, &format!("sessions_{k}_{i}")).to_owned();
        let (date, kind, topic, interp, lang) = (
            g("date"),
            g("kind"),
            g("topic"),
            g("interpreter_used") == "yes",
            g("interpreter_language"),
        );
        if date.is_empty() && kind.is_empty() && topic.is_empty() && !interp && lang.is_empty() {
            continue;
        }
        let d = date_field(&mut e, m, &format!("sessions_date_{i}"), &date, true);
        let k = if kind.is_empty() {
            e.add(
                &format!("sessions_kind_{i}"),
                m.t("validation.choose").to_owned(),
            );
            None
        } else {
            match kind.parse::<SessionKind>() {
                Ok(k) => Some(k),
                Err(_) => {
                    e.add(
                        &format!("sessions_kind_{i}"),
                        m.t("validation.invalid_value").to_owned(),
                    );
                    None
                }
            }
        };
        sessions.push(GuidanceSession {
            date: d.unwrap_or(today),
            kind: k.unwrap_or(SessionKind::Individual),
            topic,
            interpreter_used: interp,
            interpreter_language: opt(&lang).map(|l| l.to_lowercase()),
        });
    }
    let input = GuidanceSummaryInput {
        sessions,
        interests: v(f, "interests").to_owned(),
        strengths: v(f, "strengths").to_owned(),
        experience: v(f, "experience").to_owned(),
        goals_short_term: v(f, "goals_short_term").to_owned(),
        goals_long_term: v(f, "goals_long_term").to_owned(),
        pathway,
        covered: v(f, "covered").to_owned(),
        left_for_section_11: v(f, "left_for_section_11").to_owned(),
    };
    if e.is_empty() {
        return Ok(input);
    }
    // The other fields are checked too, so the summary lists every error at once.
    if let Err(more) = input.validate(today) {
        let fields = editor_fields(f);
        for x in app_errors(m, &more, &fields, editor_field).items {
            if e.get(&x.field).is_none() && !x.field.starts_with("sessions_date_") {
                e.add(&x.field, x.message);
            }
        }
    }
    Err(e)
}

fn editor_page(
    staff: &Staff,
    action: String,
    cancel: String,
    form: Form,
    version: Option<i32>,
    errors: FormErrors,
    pathway: Option<PathwayNames>,
) -> EditorPage {
    let m = staff.lang.messages();
    let form = with_blank_row(form);
    let title = if version.is_some() {
        m.t("guidance.edit_title")
    } else {
        m.t("guidance.new_title")
    };
    let mut errors = errors.labelled(m, "guidance.field_");
    for e in &mut errors.items {
        if e.label.is_none() {
            e.label = row_label(m, &e.field);
        }
    }
    EditorPage {
        shell: Shell::staff(staff, &action, title.to_owned()),
        notice_text: guidance_notice(staff.lang),
        errors,
        action,
        cancel,
        version,
        conflict: false,
        rows: session_rows(m, &form),
        form,
        theirs: HashMap::new(),
        pathway,
        text_fields: &TEXTS,
    }
}

/// The label of a session row's field in the error summary: "Session 2: Date".
fn row_label(m: &Messages, field: &str) -> Option<String> {
    let rest = field.strip_prefix("sessions_")?;
    let (name, i) = rest.rsplit_once('_')?;
    let n = i.parse::<usize>().ok()? + 1;
    let key = match name {
        "date" => "guidance.session_date",
        "kind" => "guidance.session_kind",
        "topic" => "guidance.session_topic",
        "interpreter_used" => "guidance.session_interpreter",
        "interpreter_language" => "guidance.session_language",
        _ => return None,
    };
    Some(format!(
        "{}: {}",
        m.f("guidance.session_n", &[("n", &n.to_string())]),
        m.t(key)
    ))
}

/// The editor's form with one blank session row after the typed ones.
fn with_blank_row(mut f: Form) -> Form {
    let n = row_count(&f);
    let last_blank = n > 0
        && ["date", "kind", "topic", "interpreter_language"]
            .iter()
            .all(|k| v(&f, &format!("sessions_{k}_{}", n - 1)).is_empty());
    if !last_blank && n < MAX_SESSIONS {
        blank_row(&mut f, n);
    }
    f
}

pub async fn new_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::GuidanceWrite)?;
    handover_app::access::participant(&state.app, &staff, Action::GuidanceWrite, id).await?;
    let mut f = Form::new();
    blank_row(&mut f, 0);
    blank_row(&mut f, 1);
    page(&editor_page(
        &staff,
        format!("/participants/{id}/guidance/new"),
        format!("/participants/{id}/guidance"),
        f,
        None,
        FormErrors::default(),
        None,
    ))
}

pub async fn create(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let action = format!("/participants/{id}/guidance/new");
    let cancel = format!("/participants/{id}/guidance");
    let shown = |form: Form, errors: FormErrors| {
        page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &editor_page(
                &staff,
                action.clone(),
                cancel.clone(),
                form,
                None,
                errors,
                None,
            ),
        )
    };
    let input = match read_editor(m, &form, Vec::new(), state.app.today()) {
        Ok(i) => i,
        Err(errors) => return shown(form, errors),
    };
    match guidance::create(&state.app, &staff, id, input).await {
        Ok(s) => see_other(&format!("/guidance/{}?done=created", s.body.id)),
        Err(AppError::Validation(errs)) => {
            let fields = editor_fields(&form);
            shown(form, app_errors(m, &errs, &fields, editor_field))
        }
        Err(AppError::Conflict(_)) => {
            // The participant has a draft already (written meanwhile): continue that one.
            let mut errors = FormErrors::default();
            errors.add("sessions", m.t("guidance.draft_exists").to_owned());
            shown(form, errors)
        }
        Err(e) => Err(e.into()),
    }
}

/// The pathway of a draft as the editor lists it: each step's name.
fn pathway_names(staff: &Staff, s: &GuidanceSummary) -> PathwayNames {
    PathwayNames {
        sid: s.id,
        names: s
            .pathway
            .iter()
            .map(|p| match staff.lang {
                Lang::Nb => p.offering_name_nb.clone(),
                Lang::En => p.offering_name_en.clone(),
            })
            .collect(),
    }
}

/// A draft the caller may write, loaded for a page that changes it; a final summary is a
/// conflict page.
async fn writable_draft(
    state: &WebState,
    staff: &Staff,
    sid: Uuid,
) -> Result<GuidanceSummary, WebError> {
    staff.require(Action::GuidanceWrite)?;
    guidance::authorize_summary(&state.app, staff, Action::GuidanceWrite, sid).await?;
    let s = guidance::get(&state.app, staff, sid).await?.body;
    if s.status == SummaryStatus::Final {
        return Err(WebError::Conflict);
    }
    Ok(s)
}

pub async fn edit_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(sid): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let s = writable_draft(&state, &staff, sid).await?;
    let mut p = editor_page(
        &staff,
        format!("/guidance/{sid}/edit"),
        format!("/guidance/{sid}"),
        form_of(&s),
        Some(s.version),
        FormErrors::default(),
        Some(pathway_names(&staff, &s)),
    );
    p.shell = p.shell.with_notice(notice(q.done.as_deref()));
    page(&p)
}

pub async fn edit_save(
    State(state): State<WebState>,
    Path(sid): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let m = staff.lang.messages();
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    let current = writable_draft(&state, &staff, sid).await?;
    let action = format!("/guidance/{sid}/edit");
    let cancel = format!("/guidance/{sid}");
    let names = Some(pathway_names(&staff, &current));
    let input = match read_editor(m, &form, steps_of(&current), state.app.today()) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &editor_page(&staff, action, cancel, form, Some(version), errors, names),
            );
        }
    };
    match guidance::update(
        &state.app,
        &staff,
        sid,
        Precondition::version(version),
        input,
    )
    .await
    {
        Ok(_) => see_other(&format!("/guidance/{sid}?done=saved")),
        Err(AppError::PreconditionFailed) => {
            // Someone saved first: keep what this user typed, show what is saved now where it
            // differs, and save over the new version next time.
            let saved = form_of(&current);
            let theirs = super::documents::differences(&form, &saved)
                .into_iter()
                .filter(|(k, _)| form.contains_key(k) || !v(&saved, k).is_empty())
                .collect();
            let mut p = editor_page(
                &staff,
                action,
                cancel,
                form,
                Some(current.version),
                FormErrors::default(),
                names,
            );
            p.theirs = theirs;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(AppError::Validation(errs)) => {
            let fields = editor_fields(&form);
            let errors = app_errors(m, &errs, &fields, editor_field);
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &editor_page(&staff, action, cancel, form, Some(version), errors, names),
            )
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 4. The recommended pathway
// ---------------------------------------------------------------------------------------------

/// The catalogue filters of the pathway page (and of `/catalogue`).
#[derive(Debug, Default, Deserialize, Clone)]
pub struct CatalogueFilter {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub retired: String,
    #[serde(default)]
    pub done: Option<String>,
}

impl CatalogueFilter {
    pub fn query_string(&self) -> String {
        format!(
            "group={}&q={}&retired={}",
            encode_component(&self.group),
            encode_component(&self.q),
            encode_component(&self.retired)
        )
    }

    /// The filter as the use case's query; an error beside the field it concerns.
    pub fn read(&self, m: &Messages, errors: &mut FormErrors) -> OfferingQuery {
        let group = match self.group.trim() {
            "" => None,
            g => match g.parse::<OfferingGroup>() {
                Ok(g) => Some(g),
                Err(_) => {
                    errors.add("group", m.t("validation.invalid_value").to_owned());
                    None
                }
            },
        };
        OfferingQuery {
            group,
            include_retired: Some(self.retired == "yes"),
            q: opt(&self.q),
            paging: Paging::default(),
        }
    }
}

/// The groups for a select, with "every group" first.
pub fn group_options(m: &Messages, selected: &str) -> Vec<Opt> {
    options(
        m,
        "catalogue.group_",
        OfferingGroup::ALL.iter().map(|g| g.as_str()),
        selected,
        Some("catalogue.any_group"),
    )
}

/// An offering of the catalogue as the pathway page offers it.
pub struct Candidate {
    pub o: Offering,
    pub name: String,
    pub in_pathway: bool,
    pub level_hint: Option<String>,
}

/// Offerings by group, for browsing.
pub struct GroupOf<T> {
    pub label: String,
    pub items: Vec<T>,
}

#[derive(Template)]
#[template(path = "guidance_pathway.html")]
struct PathwayPage {
    shell: Shell,
    notice_text: &'static str,
    sid: Uuid,
    version: i32,
    conflict: bool,
    errors: FormErrors,
    steps: Vec<StepView>,
    warnings: Vec<String>,
    reached: Option<String>,
    filter: CatalogueFilter,
    filter_errors: FormErrors,
    groups: Vec<Opt>,
    found: Vec<GroupOf<Candidate>>,
    found_total: usize,
}

impl PathwayPage {
    fn reason_error(&self, i: &usize) -> Option<&str> {
        self.errors.get(&format!("pathway_reason_{i}"))
    }

    fn offering_error(&self, i: &usize) -> Option<&str> {
        self.errors.get(&format!("pathway_offering_id_{i}"))
    }

    fn actor(&self, o: &Offering) -> String {
        self.shell
            .t(&format!(
                "catalogue.actor_{}",
                o.data.responsible_actor.as_str()
            ))
            .to_owned()
    }

    fn description<'a>(&self, o: &'a Offering) -> &'a str {
        match self.shell.lang {
            Lang::Nb => &o.data.description_nb,
            Lang::En => &o.data.description_en,
        }
    }
}

/// What the pathway page shows, for the draft `s` with the steps `steps` (as stored, or as
/// typed when a post is shown again).
#[allow(clippy::too_many_arguments)]
async fn pathway_page(
    state: &WebState,
    staff: &Staff,
    s: &GuidanceSummary,
    steps: &[PathwayStepInput],
    version: i32,
    filter: CatalogueFilter,
    errors: FormErrors,
) -> Result<PathwayPage, WebError> {
    let m = staff.lang.messages();
    let catalogue = catalogue_by_id(state, staff).await?;
    let reached = reached_level(state, staff, s.participant_id).await?;
    let views = step_views(staff.lang, steps, &s.pathway, &catalogue, reached);
    let warnings = warning_texts(m, s, &views, reached);
    let mut filter_errors = FormErrors::default();
    let query = filter.read(m, &mut filter_errors);
    if query.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        filter_errors.add("q", m.t("validation.too_long").to_owned());
    }
    let mut found: Vec<GroupOf<Candidate>> = Vec::new();
    let mut found_total = 0;
    if filter_errors.is_empty() {
        let items = catalogue::list(
            &state.app,
            staff,
            OfferingQuery {
                paging: Paging {
                    limit: Some(handover_domain::page::MAX_LIMIT),
                    offset: None,
                },
                ..query
            },
        )
        .await?
        .items;
        found_total = items.len();
        for g in OfferingGroup::ALL {
            let in_group: Vec<Candidate> = items
                .iter()
                .filter(|o| o.data.group == *g)
                .map(|o| Candidate {
                    name: offering_name(staff.lang, o).to_owned(),
                    in_pathway: steps.iter().any(|st| st.offering_id == o.id),
                    level_hint: level_hint(m, o.data.prerequisites.min_cefr, reached),
                    o: o.clone(),
                })
                .collect();
            if !in_group.is_empty() {
                found.push(GroupOf {
                    label: m.t(&format!("catalogue.group_{}", g.as_str())).to_owned(),
                    items: in_group,
                });
            }
        }
    }
    let mut errors = errors;
    for e in &mut errors.items {
        let step = e
            .field
            .rsplit('_')
            .next()
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| views.get(i));
        if let Some(st) = step {
            e.label = Some(if e.field.starts_with("pathway_reason_") {
                m.f("pathway.reason", &[("name", &st.name)])
            } else {
                st.name.clone()
            });
        }
    }
    Ok(PathwayPage {
        shell: Shell::staff(
            staff,
            &format!("/guidance/{}/pathway", s.id),
            m.t("pathway.title").to_owned(),
        )
        .at(&format!(
            "/guidance/{}/pathway?{}",
            s.id,
            filter.query_string()
        ))
        .with_notice(notice(filter.done.as_deref())),
        notice_text: guidance_notice(staff.lang),
        sid: s.id,
        version,
        conflict: false,
        errors,
        steps: views,
        warnings,
        reached: reached.map(|r| r.as_str().to_owned()),
        groups: group_options(m, &filter.group),
        filter,
        filter_errors,
        found,
        found_total,
    })
}

pub async fn pathway(
    State(state): State<WebState>,
    staff: Staff,
    Path(sid): Path<String>,
    Query(filter): Query<CatalogueFilter>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let s = writable_draft(&state, &staff, sid).await?;
    let p = pathway_page(
        &state,
        &staff,
        &s,
        &steps_of(&s),
        s.version,
        filter,
        FormErrors::default(),
    )
    .await?;
    let status = super::status_for(&p.filter_errors);
    page_with(status, &p)
}

/// What a post of the pathway form asks for.
enum Op {
    Save,
    Add(Uuid),
    Remove(usize),
    Up(usize),
    Down(usize),
}

fn op_of(s: &str) -> Option<Op> {
    let (verb, arg) = s.split_once(':').unwrap_or((s, ""));
    Some(match verb {
        "save" => Op::Save,
        "add" => Op::Add(arg.parse().ok()?),
        "remove" => Op::Remove(arg.parse().ok()?),
        "up" => Op::Up(arg.parse().ok()?),
        "down" => Op::Down(arg.parse().ok()?),
        _ => return None,
    })
}

/// The steps as posted: each step's offering (a hidden field) and its reason as typed.
fn posted_steps(f: &Form) -> Result<Vec<PathwayStepInput>, WebError> {
    let mut out = Vec::new();
    for i in 0..MAX_STEPS {
        let Some(id) = f.get(&format!("pathway_offering_id_{i}")) else {
            break;
        };
        out.push(PathwayStepInput {
            offering_id: id.trim().parse().map_err(|_| WebError::BadForm)?,
            reason: v(f, &format!("pathway_reason_{i}")).to_owned(),
        });
    }
    Ok(out)
}

/// An error path of the pathway as the pathway page's field.
fn pathway_field(path: &str) -> String {
    let flat = crate::view::flat_path(path);
    if flat.starts_with("pathway_") {
        flat
    } else {
        "steps".into()
    }
}

pub async fn pathway_save(
    State(state): State<WebState>,
    Path(sid): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let m = staff.lang.messages();
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    let op = op_of(v(&form, "op")).ok_or(WebError::BadForm)?;
    let mut steps = posted_steps(&form)?;
    let filter = CatalogueFilter {
        group: v(&form, "f_group").to_owned(),
        q: v(&form, "f_q").to_owned(),
        retired: v(&form, "f_retired").to_owned(),
        done: None,
    };
    let done = match op {
        Op::Save => "saved",
        Op::Add(id) => {
            if steps.len() >= MAX_STEPS {
                let mut errors = FormErrors::default();
                errors.add("steps", m.t("pathway.too_many").to_owned());
                let current = writable_draft(&state, &staff, sid).await?;
                let p =
                    pathway_page(&state, &staff, &current, &steps, version, filter, errors).await?;
                return page_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
            }
            if !steps.iter().any(|s| s.offering_id == id) {
                steps.push(PathwayStepInput {
                    offering_id: id,
                    reason: String::new(),
                });
            }
            "step_added"
        }
        Op::Remove(i) => {
            if i >= steps.len() {
                return Err(WebError::BadForm);
            }
            steps.remove(i);
            "step_removed"
        }
        Op::Up(i) => {
            if i == 0 || i >= steps.len() {
                return Err(WebError::BadForm);
            }
            steps.swap(i - 1, i);
            "step_moved"
        }
        Op::Down(i) => {
            if i + 1 >= steps.len() {
                return Err(WebError::BadForm);
            }
            steps.swap(i, i + 1);
            "step_moved"
        }
    };
    let current = writable_draft(&state, &staff, sid).await?;
    let input = GuidanceSummaryInput {
        sessions: current.sessions.clone(),
        interests: current.interests.clone(),
        strengths: current.strengths.clone(),
        experience: current.experience.clone(),
        goals_short_term: current.goals_short_term.clone(),
        goals_long_term: current.goals_long_term.clone(),
        pathway: steps.clone(),
        covered: current.covered.clone(),
        left_for_section_11: current.left_for_section_11.clone(),
    };
    match guidance::update(
        &state.app,
        &staff,
        sid,
        Precondition::version(version),
        input,
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/guidance/{sid}/pathway?{}&done={done}#steps",
            filter.query_string()
        )),
        Err(AppError::PreconditionFailed) => {
            // Someone saved first: the steps as this user had them are kept (with the change
            // asked for), to save again over the version saved now.
            let mut p = pathway_page(
                &state,
                &staff,
                &current,
                &steps,
                current.version,
                filter,
                FormErrors::default(),
            )
            .await?;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(AppError::Validation(errs)) => {
            let mut fields: Vec<String> = vec!["steps".into()];
            for i in 0..steps.len() {
                fields.push(format!("pathway_offering_id_{i}"));
                fields.push(format!("pathway_reason_{i}"));
            }
            let errors = app_errors(m, &errs, &fields, pathway_field);
            let p = pathway_page(&state, &staff, &current, &steps, version, filter, errors).await?;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Finalise, supersede, delete
// ---------------------------------------------------------------------------------------------

/// A line of what keeps a draft from being finalised, linked to the field that fixes it.
pub struct Missing {
    pub href: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "guidance_finalise.html")]
struct FinalisePage {
    shell: Shell,
    notice_text: &'static str,
    sid: Uuid,
    version: i32,
    conflict: bool,
    errors: FormErrors,
    missing: Vec<Missing>,
    supersedes: Option<String>,
    warnings: Vec<String>,
}

/// What finalising would refuse, as the domain checks it, each linked to its form.
fn missing_of(m: &Messages, s: &GuidanceSummary) -> Vec<Missing> {
    let as_input = GuidanceSummaryInput {
        sessions: s.sessions.clone(),
        interests: s.interests.clone(),
        strengths: s.strengths.clone(),
        experience: s.experience.clone(),
        goals_short_term: s.goals_short_term.clone(),
        goals_long_term: s.goals_long_term.clone(),
        pathway: steps_of(s),
        covered: s.covered.clone(),
        left_for_section_11: s.left_for_section_11.clone(),
    };
    let mut errs = as_input.validate_final().err().unwrap_or_default();
    for p in s.pathway.iter().filter(|p| p.offering_retired) {
        errs.push(FieldError {
            field: format!("pathway[{}].offering_id", p.position),
            code: "retired_offering".into(),
            message: String::new(),
        });
    }
    missing_lines(m, s.id, &errs)
}

fn missing_lines(m: &Messages, sid: Uuid, errs: &[FieldError]) -> Vec<Missing> {
    errs.iter()
        .map(|e| {
            let flat = crate::view::flat_path(&e.field);
            let (href, key) = if flat.starts_with("pathway_") {
                let what = if e.code == "retired_offering" {
                    "guidance.missing_retired"
                } else {
                    "guidance.missing_reason"
                };
                (format!("/guidance/{sid}/pathway#{flat}"), what.to_owned())
            } else {
                let head = flat.split('_').next().unwrap_or_default();
                let field = if head == "sessions" {
                    "sessions"
                } else {
                    flat.as_str()
                };
                (
                    format!("/guidance/{sid}/edit#{field}"),
                    format!("guidance.missing_{field}"),
                )
            };
            let text = if m.has(&key) {
                m.t(&key).to_owned()
            } else {
                e.message.clone()
            };
            let text = match flat
                .rsplit('_')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) if flat.starts_with("pathway_") => format!("{text} ({})", n + 1),
                _ => text,
            };
            Missing { href, text }
        })
        .collect()
}

async fn finalise_page_for(
    state: &WebState,
    staff: &Staff,
    s: &GuidanceSummary,
    errors: FormErrors,
) -> Result<FinalisePage, WebError> {
    let m = staff.lang.messages();
    let items = all_summaries(state, staff, s.participant_id).await?;
    let supersedes = items
        .iter()
        .find(|x| x.status == SummaryStatus::Final && x.superseded_by.is_none())
        .map(summary_day);
    let catalogue = catalogue_by_id(state, staff).await?;
    let needs_level = s
        .warnings
        .iter()
        .any(|w| w.code == "level_below_prerequisite");
    let reached = if needs_level {
        reached_level(state, staff, s.participant_id).await?
    } else {
        None
    };
    let steps = step_views(staff.lang, &steps_of(s), &s.pathway, &catalogue, None);
    Ok(FinalisePage {
        shell: Shell::staff(
            staff,
            &format!("/guidance/{}/finalise", s.id),
            m.t("guidance.finalise_title").to_owned(),
        ),
        notice_text: guidance_notice(staff.lang),
        sid: s.id,
        version: s.version,
        conflict: false,
        errors,
        missing: missing_of(m, s),
        supersedes,
        warnings: warning_texts(m, s, &steps, reached),
    })
}

pub async fn finalise_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(sid): Path<String>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let s = writable_draft(&state, &staff, sid).await?;
    page(&finalise_page_for(&state, &staff, &s, FormErrors::default()).await?)
}

pub async fn finalise(
    State(state): State<WebState>,
    Path(sid): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let m = staff.lang.messages();
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    let current = writable_draft(&state, &staff, sid).await?;
    if v(&form, "confirm") != "yes" {
        let mut errors = FormErrors::default();
        errors.add("confirm", m.t("guidance.confirm_required").to_owned());
        let mut p = finalise_page_for(&state, &staff, &current, errors).await?;
        p.version = version;
        return page_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    match guidance::finalise(&state.app, &staff, sid, Precondition::version(version)).await {
        Ok(_) => see_other(&format!("/guidance/{sid}?done=finalised")),
        Err(AppError::PreconditionFailed) => {
            let mut p = finalise_page_for(&state, &staff, &current, FormErrors::default()).await?;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(AppError::Validation(_)) => {
            // The list of what is missing says what to fix, each line linked to its form.
            let mut errors = FormErrors::default();
            errors.add("missing", m.t("guidance.not_ready").to_owned());
            let p = finalise_page_for(&state, &staff, &current, errors).await?;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(e.into()),
    }
}

/// Starts a new draft that will supersede a final summary: its content copied as the starting
/// point (without steps whose offering has been retired, which can no longer be recommended).
pub async fn supersede(
    State(state): State<WebState>,
    Path(sid): Path<String>,
    Posted { staff, form: _ }: Posted<Form>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    staff.require(Action::GuidanceWrite)?;
    let participant =
        guidance::authorize_summary(&state.app, &staff, Action::GuidanceWrite, sid).await?;
    let s = guidance::get(&state.app, &staff, sid).await?.body;
    if s.status != SummaryStatus::Final || s.superseded_by.is_some() {
        return Err(WebError::Conflict);
    }
    let input = GuidanceSummaryInput {
        sessions: s.sessions.clone(),
        interests: s.interests.clone(),
        strengths: s.strengths.clone(),
        experience: s.experience.clone(),
        goals_short_term: s.goals_short_term.clone(),
        goals_long_term: s.goals_long_term.clone(),
        pathway: s
            .pathway
            .iter()
            .filter(|p| !p.offering_retired)
            .map(|p| PathwayStepInput {
                offering_id: p.offering_id,
                reason: p.reason.clone(),
            })
            .collect(),
        covered: s.covered.clone(),
        left_for_section_11: s.left_for_section_11.clone(),
    };
    match guidance::create(&state.app, &staff, participant, input).await {
        Ok(d) => see_other(&format!("/guidance/{}/edit?done=superseding", d.body.id)),
        Err(AppError::Conflict(_)) => Err(WebError::Conflict),
        Err(AppError::Validation(_)) => Err(WebError::Conflict),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<WebState>,
    Path(sid): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let sid = parse_id(&sid)?;
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    staff.require(Action::GuidanceWrite)?;
    let participant =
        guidance::authorize_summary(&state.app, &staff, Action::GuidanceWrite, sid).await?;
    guidance::delete(&state.app, &staff, sid, Precondition::version(version)).await?;
    see_other(&format!(
        "/participants/{participant}/guidance?done=deleted"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_are_read_strictly() {
        assert!(matches!(op_of("save"), Some(Op::Save)));
        assert!(matches!(op_of("up:2"), Some(Op::Up(2))));
        assert!(matches!(op_of("down:0"), Some(Op::Down(0))));
        assert!(matches!(op_of("remove:1"), Some(Op::Remove(1))));
        assert!(op_of("add:nonsense").is_none());
        assert!(op_of("up:-1").is_none());
        assert!(op_of("drop").is_none());
        let id = Uuid::nil();
        assert!(matches!(op_of(&format!("add:{id}")), Some(Op::Add(x)) if x == id));
    }

    #[test]
    fn error_paths_find_their_fields() {
        assert_eq!(editor_field("sessions[2].date"), "sessions_date_2");
        assert_eq!(
            editor_field("sessions[0].interpreter_language"),
            "sessions_interpreter_language_0"
        );
        assert_eq!(editor_field("pathway[1].reason"), "pathway");
        assert_eq!(pathway_field("pathway[1].reason"), "pathway_reason_1");
        assert_eq!(pathway_field("pathway"), "steps");
    }

    #[test]
    fn session_fields_are_named_by_row_in_the_summary() {
        let m = Lang::En.messages();
        assert_eq!(
            row_label(m, "sessions_interpreter_language_1").as_deref(),
            Some("Session 2: Interpreter language")
        );
        assert_eq!(row_label(m, "covered"), None);
    }

    #[test]
    fn a_blank_row_follows_the_typed_ones() {
        let mut f = Form::new();
        f.insert("sessions_date_0".into(), "2026-01-01".into());
        f.insert("sessions_topic_0".into(), "x".into());
        let f = with_blank_row(f);
        assert_eq!(row_count(&f), 2);
        assert_eq!(row_count(&with_blank_row(f)), 2);
    }
}
