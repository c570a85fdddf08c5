//! Programme elements and placements: add, change, delete, each a flat form. One generic form
//! (`item_form.html`) serves both, described by [`WebItem`]; the use cases are the API's
//! (`handover_app::programme`).

use super::participants::form_errors;
use super::{PageResult, opt, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::{Posted, Staff};
use crate::view::{
    FormErrors, Opt, Shell, code_field, date_field, iso_date, number, number_field, options,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::precondition::Precondition;
use handover_app::programme::{self, Item};
use handover_domain::Action;
use handover_domain::participant::{
    ElementKind, Placement, PlacementInput, PlacementKind, PlacementPatch, ProgrammeElement,
    ProgrammeElementInput, ProgrammeElementPatch,
};
use std::collections::HashMap;
use time::Date;
use uuid::Uuid;

/// What kind of input a field is.
pub enum Kind {
    Text,
    Date,
    Number,
    Textarea,
    Select(Vec<Opt>),
}

/// One field of a generic form, with what the user typed and, after a conflict, what is saved.
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub kind: Kind,
    pub value: String,
    pub theirs: Option<String>,
}

/// A programme item as the web forms handle it.
pub trait WebItem: Item {
    /// The path segment (`elements`, `placements`) and the catalogue prefix of its texts.
    const PATH: &'static str;
    /// The form's field names, in order.
    const FIELDS: &'static [&'static str];

    /// The stored values as form values.
    fn values(data: &Self::Input) -> HashMap<&'static str, String>;
    /// The typed values as input, or errors of values of the wrong kind.
    fn input(v: &HashMap<String, String>, m: &Messages) -> Result<Self::Input, FormErrors>;
    /// A patch that sets every field to the input's value.
    fn patch(i: Self::Input) -> Self::Patch;
    /// The field's input kind, with the current value for a select.
    fn kind(name: &str, value: &str, m: &Messages) -> Kind;
}

fn value<'a>(v: &'a HashMap<String, String>, name: &str) -> &'a str {
    v.get(name).map(String::as_str).unwrap_or_default()
}

fn required_date(
    v: &HashMap<String, String>,
    name: &str,
    m: &Messages,
    errors: &mut FormErrors,
) -> Option<Date> {
    date_field(errors, m, name, value(v, name), true)
}

fn optional_date(
    v: &HashMap<String, String>,
    name: &str,
    m: &Messages,
    errors: &mut FormErrors,
) -> Option<Date> {
    date_field(errors, m, name, value(v, name), false)
}

fn hours(v: &HashMap<String, String>, name: &str, m: &Messages, errors: &mut FormErrors) -> f64 {
    number_field(errors, m, name, value(v, name))
}

fn text(v: &HashMap<String, String>, name: &str) -> String {
    value(v, name).trim().to_owned()
}

fn code<T: std::str::FromStr>(
    v: &HashMap<String, String>,
    name: &str,
    m: &Messages,
    errors: &mut FormErrors,
) -> Option<T> {
    code_field(errors, m, name, value(v, name))
}

impl WebItem for ProgrammeElement {
    const PATH: &'static str = "elements";
    const FIELDS: &'static [&'static str] = &[
        "kind",
        "title",
        "start_date",
        "end_date",
        "hours_planned",
        "hours_attended",
        "language_of_instruction",
        "outcome",
    ];

    fn values(d: &ProgrammeElementInput) -> HashMap<&'static str, String> {
        HashMap::from([
            ("kind", d.kind.as_str().to_owned()),
            ("title", d.title.clone().unwrap_or_default()),
            ("start_date", iso_date(&d.start_date)),
            (
                "end_date",
                d.end_date.as_ref().map(iso_date).unwrap_or_default(),
            ),
            ("hours_planned", number(d.hours_planned)),
            ("hours_attended", number(d.hours_attended)),
            (
                "language_of_instruction",
                d.language_of_instruction.clone().unwrap_or_default(),
            ),
            ("outcome", d.outcome.clone().unwrap_or_default()),
        ])
    }

    fn input(
        v: &HashMap<String, String>,
        m: &Messages,
    ) -> Result<ProgrammeElementInput, FormErrors> {
        let mut e = FormErrors::default();
        let kind = code::<ElementKind>(v, "kind", m, &mut e);
        let start_date = required_date(v, "start_date", m, &mut e);
        let end_date = optional_date(v, "end_date", m, &mut e);
        let hours_planned = hours(v, "hours_planned", m, &mut e);
        let hours_attended = hours(v, "hours_attended", m, &mut e);
        match (kind, start_date) {
            (Some(kind), Some(start_date)) if e.is_empty() => Ok(ProgrammeElementInput {
                kind,
                title: opt(&text(v, "title")),
                start_date,
                end_date,
                hours_planned,
                hours_attended,
                language_of_instruction: opt(&text(v, "language_of_instruction"))
                    .map(|s| s.to_lowercase()),
                outcome: opt(&text(v, "outcome")),
            }),
            _ => Err(e),
        }
    }

    fn patch(i: ProgrammeElementInput) -> ProgrammeElementPatch {
        ProgrammeElementPatch {
            kind: Some(i.kind),
            title: Some(i.title),
            start_date: Some(i.start_date),
            end_date: Some(i.end_date),
            hours_planned: Some(i.hours_planned),
            hours_attended: Some(i.hours_attended),
            language_of_instruction: Some(i.language_of_instruction),
            outcome: Some(i.outcome),
        }
    }

    fn kind(name: &str, value: &str, m: &Messages) -> Kind {
        match name {
            "kind" => Kind::Select(options(
                m,
                "element_kind.",
                ElementKind::ALL.iter().map(|k| k.as_str()),
                value,
                Some("form.choose"),
            )),
            "start_date" | "end_date" => Kind::Date,
            "hours_planned" | "hours_attended" => Kind::Number,
            "outcome" => Kind::Textarea,
            _ => Kind::Text,
        }
    }
}

impl WebItem for Placement {
    const PATH: &'static str = "placements";
    const FIELDS: &'static [&'static str] = &[
        "kind",
        "employer_name",
        "start_date",
        "end_date",
        "hours",
        "tasks",
        "employer_feedback",
    ];

    fn values(d: &PlacementInput) -> HashMap<&'static str, String> {
        HashMap::from([
            ("kind", d.kind.as_str().to_owned()),
            ("employer_name", d.employer_name.clone()),
            ("start_date", iso_date(&d.start_date)),
            (
                "end_date",
                d.end_date.as_ref().map(iso_date).unwrap_or_default(),
            ),
            ("hours", number(d.hours)),
            ("tasks", d.tasks.clone()),
            (
                "employer_feedback",
                d.employer_feedback.clone().unwrap_or_default(),
            ),
        ])
    }

    fn input(v: &HashMap<String, String>, m: &Messages) -> Result<PlacementInput, FormErrors> {
        let mut e = FormErrors::default();
        let kind = code::<PlacementKind>(v, "kind", m, &mut e);
        let start_date = required_date(v, "start_date", m, &mut e);
        let end_date = optional_date(v, "end_date", m, &mut e);
        let hours = hours(v, "hours", m, &mut e);
        match (kind, start_date) {
            (Some(kind), Some(start_date)) if e.is_empty() => Ok(PlacementInput {
                kind,
                employer_name: text(v, "employer_name"),
                start_date,
                end_date,
                hours,
                tasks: text(v, "tasks"),
                employer_feedback: opt(&text(v, "employer_feedback")),
            }),
            _ => Err(e),
        }
    }

    fn patch(i: PlacementInput) -> PlacementPatch {
        PlacementPatch {
            kind: Some(i.kind),
            employer_name: Some(i.employer_name),
            start_date: Some(i.start_date),
            end_date: Some(i.end_date),
            hours: Some(i.hours),
            tasks: Some(i.tasks),
            employer_feedback: Some(i.employer_feedback),
        }
    }

    fn kind(name: &str, value: &str, m: &Messages) -> Kind {
        match name {
            "kind" => Kind::Select(options(
                m,
                "placement_kind.",
                PlacementKind::ALL.iter().map(|k| k.as_str()),
                value,
                Some("form.choose"),
            )),
            "start_date" | "end_date" => Kind::Date,
            "hours" => Kind::Number,
            "tasks" | "employer_feedback" => Kind::Textarea,
            _ => Kind::Text,
        }
    }
}

#[derive(Template)]
#[template(path = "item_form.html")]
struct ItemPage {
    shell: Shell,
    errors: FormErrors,
    fields: Vec<Field>,
    action: String,
    back: String,
    version: Option<i32>,
    delete_action: Option<String>,
    conflict: bool,
}

fn item_page<I: WebItem>(
    staff: &Staff,
    participant: Uuid,
    item: Option<Uuid>,
    typed: &HashMap<String, String>,
    version: Option<i32>,
    errors: FormErrors,
) -> ItemPage {
    let m = staff.lang.messages();
    let base = format!("/participants/{participant}");
    let action = match item {
        Some(id) => format!("{base}/{}/{id}", I::PATH),
        None => format!("{base}/{}/new", I::PATH),
    };
    let fields = I::FIELDS
        .iter()
        .map(|name| {
            let value = typed.get(*name).cloned().unwrap_or_default();
            let hint_key = format!("{}.{name}_hint", I::PATH);
            Field {
                name,
                label: m.t(&format!("{}.{name}", I::PATH)).to_owned(),
                hint: if m.has(&hint_key) {
                    m.t(&hint_key).to_owned()
                } else {
                    String::new()
                },
                kind: I::kind(name, &value, m),
                value,
                theirs: None,
            }
        })
        .collect();
    let title_key = match item {
        Some(_) => format!("{}.edit_title", I::PATH),
        None => format!("{}.new_title", I::PATH),
    };
    ItemPage {
        shell: Shell::staff(staff, &action, m.t(&title_key).to_owned()),
        errors: errors.labelled(m, &format!("{}.", I::PATH)),
        fields,
        delete_action: item.map(|id| format!("{base}/{}/{id}/delete", I::PATH)),
        action,
        back: format!("{base}#{}", I::PATH),
        version,
        conflict: false,
    }
}

fn owned(v: HashMap<&'static str, String>) -> HashMap<String, String> {
    v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

async fn new_page<I: WebItem>(state: &WebState, staff: &Staff, participant: &str) -> PageResult {
    let participant = parse_id(participant)?;
    staff.require(Action::ParticipantWrite)?;
    // The participant must be one this caller may change: the same answer as the API's.
    handover_app::access::participant(&state.app, staff, Action::ParticipantWrite, participant)
        .await?;
    page_with(
        StatusCode::OK,
        &item_page::<I>(
            staff,
            participant,
            None,
            &HashMap::new(),
            None,
            FormErrors::default(),
        ),
    )
}

async fn create<I: WebItem>(
    state: &WebState,
    staff: Staff,
    participant: &str,
    form: HashMap<String, String>,
) -> PageResult {
    let participant = parse_id(participant)?;
    let m = staff.lang.messages();
    let input = match I::input(&form, m) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &item_page::<I>(&staff, participant, None, &form, None, errors),
            );
        }
    };
    match programme::create::<I>(&state.app, &staff, participant, input).await {
        Ok(_) => see_other(&format!(
            "/participants/{participant}?done=created#{}",
            I::PATH
        )),
        Err(e) => {
            let errors = form_errors(m, e, I::FIELDS)?;
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &item_page::<I>(&staff, participant, None, &form, None, errors),
            )
        }
    }
}

async fn edit_page<I: WebItem>(
    state: &WebState,
    staff: &Staff,
    participant: &str,
    item: &str,
) -> PageResult {
    let participant = parse_id(participant)?;
    let item = parse_id(item)?;
    staff.require(Action::ParticipantWrite)?;
    handover_app::access::participant(&state.app, staff, Action::ParticipantWrite, participant)
        .await?;
    let current = programme::get::<I>(&state.app, staff, participant, item).await?;
    let values = owned(I::values(current.body.data()));
    page_with(
        StatusCode::OK,
        &item_page::<I>(
            staff,
            participant,
            Some(item),
            &values,
            current.version,
            FormErrors::default(),
        ),
    )
}

fn form_version(form: &HashMap<String, String>) -> Result<i32, WebError> {
    form.get("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or(WebError::BadForm)
}

async fn save<I: WebItem>(
    state: &WebState,
    staff: Staff,
    participant: &str,
    item: &str,
    form: HashMap<String, String>,
) -> PageResult {
    let participant = parse_id(participant)?;
    let item = parse_id(item)?;
    let m = staff.lang.messages();
    let version = form_version(&form)?;
    let input = match I::input(&form, m) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &item_page::<I>(
                    &staff,
                    participant,
                    Some(item),
                    &form,
                    Some(version),
                    errors,
                ),
            );
        }
    };
    let expected = Precondition::version(version);
    match programme::update::<I>(
        &state.app,
        &staff,
        participant,
        item,
        expected,
        I::patch(input),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/participants/{participant}?done=saved#{}",
            I::PATH
        )),
        Err(AppError::PreconditionFailed) => {
            conflict::<I>(state, &staff, participant, item, &form).await
        }
        Err(e) => {
            let errors = form_errors(m, e, I::FIELDS)?;
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &item_page::<I>(
                    &staff,
                    participant,
                    Some(item),
                    &form,
                    Some(version),
                    errors,
                ),
            )
        }
    }
}

/// Someone saved first: the form again with what this user typed, the saved value beside each
/// field that differs, and the new version, so saving again applies the change over it.
async fn conflict<I: WebItem>(
    state: &WebState,
    staff: &Staff,
    participant: Uuid,
    item: Uuid,
    typed: &HashMap<String, String>,
) -> PageResult {
    let current = programme::get::<I>(&state.app, staff, participant, item).await?;
    let saved = I::values(current.body.data());
    let mut p = item_page::<I>(
        staff,
        participant,
        Some(item),
        typed,
        current.version,
        FormErrors::default(),
    );
    for f in &mut p.fields {
        let now = saved.get(f.name).cloned().unwrap_or_default();
        if now.trim() != f.value.trim() {
            f.theirs = Some(now);
        }
    }
    p.conflict = true;
    page_with(StatusCode::CONFLICT, &p)
}

async fn delete<I: WebItem>(
    state: &WebState,
    staff: Staff,
    participant: &str,
    item: &str,
    form: HashMap<String, String>,
) -> PageResult {
    let participant = parse_id(participant)?;
    let item = parse_id(item)?;
    let version = form_version(&form)?;
    match programme::delete::<I>(
        &state.app,
        &staff,
        participant,
        item,
        Precondition::version(version),
    )
    .await
    {
        Ok(()) => see_other(&format!(
            "/participants/{participant}?done=deleted#{}",
            I::PATH
        )),
        Err(AppError::PreconditionFailed) => {
            conflict::<I>(state, &staff, participant, item, &form).await
        }
        Err(e) => Err(e.into()),
    }
}

type Form = HashMap<String, String>;

pub async fn element_new_page(
    State(s): State<WebState>,
    staff: Staff,
    Path(p): Path<String>,
) -> PageResult {
    new_page::<ProgrammeElement>(&s, &staff, &p).await
}

pub async fn element_create(
    State(s): State<WebState>,
    Path(p): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    create::<ProgrammeElement>(&s, staff, &p, form).await
}

pub async fn element_page(
    State(s): State<WebState>,
    staff: Staff,
    Path((p, i)): Path<(String, String)>,
) -> PageResult {
    edit_page::<ProgrammeElement>(&s, &staff, &p, &i).await
}

pub async fn element_save(
    State(s): State<WebState>,
    Path((p, i)): Path<(String, String)>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    save::<ProgrammeElement>(&s, staff, &p, &i, form).await
}

pub async fn element_delete(
    State(s): State<WebState>,
    Path((p, i)): Path<(String, String)>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    delete::<ProgrammeElement>(&s, staff, &p, &i, form).await
}

pub async fn placement_new_page(
    State(s): State<WebState>,
    staff: Staff,
    Path(p): Path<String>,
) -> PageResult {
    new_page::<Placement>(&s, &staff, &p).await
}

pub async fn placement_create(
    State(s): State<WebState>,
    Path(p): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    create::<Placement>(&s, staff, &p, form).await
}

pub async fn placement_page(
    State(s): State<WebState>,
    staff: Staff,
    Path((p, i)): Path<(String, String)>,
) -> PageResult {
    edit_page::<Placement>(&s, &staff, &p, &i).await
}

pub async fn placement_save(
    State(s): State<WebState>,
    Path((p, i)): Path<(String, String)>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    save::<Placement>(&s, staff, &p, &i, form).await
}

pub async fn placement_delete(
    State(s): State<WebState>,
    Path((p, i)): Path<(String, String)>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    delete::<Placement>(&s, staff, &p, &i, form).await
}
