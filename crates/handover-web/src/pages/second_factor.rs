//! The account's second factor: setting up an authenticator app (QR code and key), confirming
//! it, the recovery codes (shown once), new ones, and removing it (`handover_app::second_factor`).

use super::{PageResult, page_with, see_other};
use crate::WebState;
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Shell};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use base64::Engine;
use handover_app::AppError;
use handover_app::second_factor::{self as sf, Status, TotpSetup};
use serde::Deserialize;

const HERE: &str = "/account/second-factor";

/// The key being set up, as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) qr_data_uri: String,
    /// The base32 key in groups of four, as authenticator apps print theirs.
    pub(crate) secret_grouped: String,
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    shell: Shell,
    errors: FormErrors,
    status: Status,
    codes_left: String,
    pending: Option<Pending>,
    /// Recovery codes just handed out: shown on this answer only.
    codes: Option<Vec<String>>,
}

pub(crate) fn pending(setup: &TotpSetup) -> Result<Pending, AppError> {
    let svg = setup.qr_svg()?;
    let qr_data_uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    );
    let secret_grouped = setup
        .secret_base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Pending {
        qr_data_uri,
        secret_grouped,
    })
}

async fn render(
    state: &WebState,
    staff: &Staff,
    status_code: StatusCode,
    errors: FormErrors,
    codes: Option<Vec<String>>,
    notice: Option<&'static str>,
) -> PageResult {
    let m = staff.lang.messages();
    let status = sf::status(&state.app, &staff.actor).await?;
    let pending = match (&codes, status.totp) {
        (None, false) => match sf::pending_totp(&state.app, &staff.actor).await? {
            Some(p) => Some(pending(&p)?),
            None => None,
        },
        _ => None,
    };
    let codes_left = m.f(
        "second_factor.codes_left",
        &[("count", &status.recovery_codes_left.to_string())],
    );
    page_with(
        status_code,
        &SecondFactorPage {
            shell: Shell::staff(staff, HERE, m.t("second_factor.title").to_owned())
                .with_notice(notice),
            errors: errors.labelled(m, "second_factor."),
            status,
            codes_left,
            pending,
            codes,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn show(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("removed") => Some("second_factor.removed"),
        _ => None,
    };
    render(
        &state,
        &staff,
        StatusCode::OK,
        FormErrors::default(),
        None,
        notice,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
}

/// A wrong code or password as a message beside its field; any other refusal as the
/// interfaces usually answer it.
fn field_error(staff: &Staff, field: &str, e: AppError) -> Result<FormErrors, AppError> {
    let m = staff.lang.messages();
    let key = match &e {
        AppError::Validation(errs) => match errs.first().map(|f| f.code.as_str()) {
            Some("reused") => "second_factor.reused",
            _ if field == "current_password" => "change_password.wrong",
            _ => "second_factor.wrong",
        },
        _ => return Err(e),
    };
    let mut errors = FormErrors::default();
    errors.add(field, m.t(key).to_owned());
    Ok(errors)
}

/// A refused form: the page again, with the message beside `field`.
async fn refused(state: &WebState, staff: &Staff, errors: FormErrors) -> PageResult {
    render(
        state,
        staff,
        StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        None,
        None,
    )
    .await
}

/// What a form with a code does.
enum CodeUse {
    Confirm,
    Renew,
    Remove,
}

/// The three forms that take a code: an empty one is a message beside the field; otherwise the
/// use case, then the recovery codes (shown on this answer only) or the page again.
async fn with_code(
    state: &WebState,
    staff: Staff,
    field: &str,
    code: &str,
    what: CodeUse,
) -> PageResult {
    if code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.add(
            field,
            staff.lang.messages().t("sign_in_code.missing").to_owned(),
        );
        return refused(state, &staff, errors).await;
    }
    let (app, actor) = (&state.app, &staff.actor);
    let done = match what {
        CodeUse::Confirm => sf::confirm_totp(app, actor, code)
            .await
            .map(|c| (Some(c), Some("second_factor.enabled"))),
        CodeUse::Renew => sf::renew_recovery_codes(app, actor, code)
            .await
            .map(|c| (Some(c), None)),
        CodeUse::Remove => sf::remove(app, actor, code).await.map(|()| (None, None)),
    };
    match done {
        Ok((Some(codes), notice)) => {
            render(
                state,
                &staff,
                StatusCode::OK,
                FormErrors::default(),
                Some(codes),
                notice,
            )
            .await
        }
        Ok((None, _)) => see_other("/account/second-factor?done=removed"),
        Err(e) => {
            let errors = field_error(&staff, field, e)?;
            refused(state, &staff, errors).await
        }
    }
}

pub async fn setup(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<PasswordForm>,
) -> PageResult {
    if form.current_password.is_empty() {
        let mut errors = FormErrors::default();
        errors.add(
            "current_password",
            staff
                .lang
                .messages()
                .t("sign_in.password_missing")
                .to_owned(),
        );
        return refused(&state, &staff, errors).await;
    }
    match sf::begin_totp(&state.app, &staff.actor, form.current_password).await {
        Ok(_) => see_other(HERE),
        Err(e) => {
            let errors = field_error(&staff, "current_password", e)?;
            refused(&state, &staff, errors).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    remove_code: String,
}

pub async fn confirm(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<CodeForm>,
) -> PageResult {
    with_code(&state, staff, "code", &form.code, CodeUse::Confirm).await
}

pub async fn renew(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<CodeForm>,
) -> PageResult {
    with_code(&state, staff, "code", &form.code, CodeUse::Renew).await
}

pub async fn remove(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<RemoveForm>,
) -> PageResult {
    with_code(
        &state,
        staff,
        "remove_code",
        &form.remove_code,
        CodeUse::Remove,
    )
    .await
}
