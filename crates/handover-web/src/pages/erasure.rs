//! The right to erasure (GDPR art. 17) in the web application: the participant's centre
//! carries out a documented request. The page names the person and what will happen, asks for
//! the ground and the date of the request and a confirmation, and erases through
//! `handover_app::erasure`, the same use case as the API.

use super::participants::form_errors;
use super::{PageResult, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Opt, Shell, date_field, options};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::erasure;
use handover_app::participants;
use handover_app::precondition::Precondition;
use handover_domain::Action;
use handover_domain::participant::{ErasureGround, ErasureRequest};
use serde::Deserialize;

const FIELDS: &[&str] = &["ground", "request_received_on", "confirm"];

#[derive(Debug, Default, Deserialize)]
pub struct ErasureForm {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub request_received_on: String,
    #[serde(default)]
    pub confirm: String,
}

#[derive(Template)]
#[template(path = "erasure.html")]
struct ErasurePage {
    shell: Shell,
    errors: FormErrors,
    id: uuid::Uuid,
    confirm_label: String,
    grounds: Vec<Opt>,
    form: ErasureForm,
    /// The record changed after the page was opened: look again before erasing.
    conflict: bool,
}

/// The page for participant `id`, read now (an audited read: the page names the person).
async fn render(
    state: &WebState,
    staff: &Staff,
    id: uuid::Uuid,
    mut form: ErasureForm,
    errors: FormErrors,
    conflict: bool,
    status: StatusCode,
) -> PageResult {
    staff.require(Action::ParticipantErase)?;
    let p = participants::get(&state.app, staff, id).await?.body;
    let m = staff.lang.messages();
    let name = format!("{} {}", p.data.given_name, p.data.family_name);
    if form.version.is_empty() || conflict {
        form.version = p.version.to_string();
    }
    let grounds = options(
        m,
        "erasure_ground.",
        ErasureGround::ALL.iter().map(|g| g.as_str()),
        &form.ground,
        Some("erasure.choose_ground"),
    );
    page_with(
        status,
        &ErasurePage {
            shell: Shell::staff(
                staff,
                &format!("/participants/{id}/erase"),
                m.f("erasure.title", &[("name", &name)]),
            ),
            errors,
            id,
            confirm_label: m.f("erasure.confirm", &[("name", &name)]),
            grounds,
            form,
            conflict,
        },
    )
}

pub async fn erasure_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    render(
        &state,
        &staff,
        id,
        ErasureForm::default(),
        FormErrors::default(),
        false,
        StatusCode::OK,
    )
    .await
}

pub async fn erase(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<ErasureForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::ParticipantErase)?;
    let m = staff.lang.messages();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    let mut errors = FormErrors::default();
    let ground = match form.ground.as_str() {
        "" => {
            errors.add("ground", m.t("validation.required").to_owned());
            None
        }
        g => match g.parse::<ErasureGround>() {
            Ok(g) => Some(g),
            Err(_) => {
                errors.add("ground", m.t("validation.invalid_value").to_owned());
                None
            }
        },
    };
    let received = date_field(
        &mut errors,
        m,
        "request_received_on",
        &form.request_received_on,
        true,
    );
    if form.confirm != "yes" {
        errors.add("confirm", m.t("erasure.confirm_required").to_owned());
    }
    let (Some(ground), Some(request_received_on), true) = (ground, received, errors.is_empty())
    else {
        return render(
            &state,
            &staff,
            id,
            form,
            errors,
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let req = ErasureRequest {
        ground,
        request_received_on,
    };
    match erasure::erase(&state.app, &staff, id, Precondition::version(version), req).await {
        Ok(_) => see_other("/participants?done=erased"),
        Err(AppError::PreconditionFailed) => {
            // The record changed since the page was opened: the person erasing should see
            // what it holds now, so nothing is erased until they confirm again.
            let form = ErasureForm {
                confirm: String::new(),
                ..form
            };
            render(
                &state,
                &staff,
                id,
                form,
                FormErrors::default(),
                true,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(m, e, FIELDS)?;
            render(
                &state,
                &staff,
                id,
                form,
                errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
