//! The outcome after settlement on the web: the municipality reports (or corrects) the date the
//! integration plan was decided and the end goal; the handover page and the conversation page
//! show it to the centre, the serving career centre and the municipality. The use cases are
//! the API's (`handover_app::outcome`).

use super::participants::form_errors;
use super::{PageResult, page, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Opt, Shell, code_field, date_field, iso_date, options};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::outcome;
use handover_app::precondition::Precondition;
use handover_domain::handover::{EndGoal, HandoverOutcome, HandoverState, OutcomeInput};
use std::collections::HashMap;
use uuid::Uuid;

type Form = HashMap<String, String>;

fn field<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default().trim()
}

/// The outcome of a handover for a page that shows it, or `None` when none is reported or the
/// caller may not read outcomes (the page then shows the handover without it).
pub async fn for_page(
    state: &WebState,
    staff: &Staff,
    handover: Uuid,
) -> Result<Option<HandoverOutcome>, WebError> {
    match outcome::get(&state.app, staff, handover).await {
        Ok(o) => Ok(o.map(|d| d.body)),
        Err(AppError::Forbidden | AppError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether the caller's municipality may report the outcome of a handover in this state.
pub fn may_report(
    staff: &Staff,
    municipality: handover_domain::OrgId,
    state: HandoverState,
) -> bool {
    staff.caller.role == handover_domain::Role::MunicipalityStaff
        && staff.caller.org_id == municipality
        && matches!(
            state,
            HandoverState::Accepted
                | HandoverState::ConversationScheduled
                | HandoverState::Completed
        )
}

#[derive(Template)]
#[template(path = "outcome.html")]
struct OutcomePage {
    shell: Shell,
    errors: FormErrors,
    id: Uuid,
    form: Form,
    goals: Vec<Opt>,
    version: Option<i32>,
    conflict: bool,
    theirs: HashMap<String, String>,
}

impl OutcomePage {
    fn v(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn theirs_for(&self, name: &str) -> Option<&str> {
        self.theirs.get(name).map(String::as_str)
    }
}

fn outcome_form(o: &OutcomeInput) -> Form {
    Form::from([
        (
            "integration_plan_decided_on".into(),
            iso_date(&o.integration_plan_decided_on),
        ),
        ("end_goal".into(), o.end_goal.as_str().to_owned()),
    ])
}

fn view(
    staff: &Staff,
    id: Uuid,
    reference: String,
    form: Form,
    version: Option<i32>,
    errors: FormErrors,
) -> OutcomePage {
    let m = staff.lang.messages();
    let goals = options(
        m,
        "end_goal.",
        EndGoal::ALL.iter().map(|g| g.as_str()),
        field(&form, "end_goal"),
        Some("form.choose"),
    );
    OutcomePage {
        shell: Shell::staff(
            staff,
            &format!("/handovers/{id}/outcome"),
            format!("{} {reference}", m.t("outcome.title")),
        ),
        errors: errors.labelled(m, "outcome."),
        id,
        form,
        goals,
        version,
        conflict: false,
        theirs: HashMap::new(),
    }
}

/// The handover's reference and the outcome as saved, after checking the caller's municipality
/// may report it now (anyone else: as the API answers).
async fn current(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
) -> Result<(String, Option<handover_app::Disclosed<HandoverOutcome>>), WebError> {
    let (h, _) = handover_app::access::handover(
        &state.app,
        staff,
        handover_domain::Action::HandoverRespond,
        id,
    )
    .await?;
    if !may_report(staff, h.municipality_id, h.state) {
        return Err(WebError::Conflict);
    }
    Ok((h.reference, outcome::get(&state.app, staff, id).await?))
}

pub async fn outcome_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    let (reference, cur) = current(&state, &staff, id).await?;
    let (form, version) = match cur {
        Some(d) => (outcome_form(&d.body.data), d.version),
        None => (Form::new(), None),
    };
    page(&view(
        &staff,
        id,
        reference,
        form,
        version,
        FormErrors::default(),
    ))
}

fn outcome_input(f: &Form, m: &Messages) -> Result<OutcomeInput, FormErrors> {
    let mut e = FormErrors::default();
    let date = date_field(
        &mut e,
        m,
        "integration_plan_decided_on",
        field(f, "integration_plan_decided_on"),
        true,
    );
    let goal: Option<EndGoal> = code_field(&mut e, m, "end_goal", field(f, "end_goal"));
    match (date, goal) {
        (Some(d), Some(g)) if e.is_empty() => Ok(OutcomeInput {
            integration_plan_decided_on: d,
            end_goal: g,
        }),
        _ => Err(e),
    }
}

pub async fn outcome_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let (reference, _) = current(&state, &staff, id).await?;
    let version = field(&form, "version").parse::<i32>().ok();
    let expected = version.map_or(Precondition::Missing, Precondition::version);
    let input = match outcome_input(&form, m) {
        Ok(i) => i,
        Err(errors) => {
            let p = view(&staff, id, reference, form, version, errors);
            return page_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    match outcome::record(&state.app, &staff, id, expected, input).await {
        Ok(_) => see_other(&format!("/handovers/{id}?done=outcome#outcome")),
        Err(AppError::PreconditionFailed | AppError::PreconditionRequired) => {
            let cur = outcome::get(&state.app, &staff, id).await?;
            let version = cur.as_ref().and_then(|d| d.version);
            let saved = cur.map(|d| outcome_form(&d.body.data)).unwrap_or_default();
            let theirs = super::documents::differences(&form, &saved);
            let mut p = view(&staff, id, reference, form, version, FormErrors::default());
            p.theirs = theirs;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(e) => {
            let errors = form_errors(m, e, &["integration_plan_decided_on", "end_goal"])?;
            let p = view(&staff, id, reference, form, version, errors);
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
