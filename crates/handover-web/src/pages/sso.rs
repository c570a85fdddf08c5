//! Single sign-on in the browser: the provider's callback, its back-channel logout, and the
//! organisation's sign-in settings (its identity provider) for its administrator and the
//! operator. The protocol and every check are in `handover_app::sso`.

use super::auth::{SignInPage, signed_in};
use super::{NoticeQuery, PageResult, page, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::session::{Meta, Posted, Staff, UserLang};
use crate::view::{FormErrors, Shell, error_text};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use handover_app::AppError;
use handover_app::orgs;
use handover_app::precondition::Precondition;
use handover_app::sso::{self, Callback, ProviderSettings, ProviderView, SsoFailure};
use handover_domain::org::Organisation;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    iss: Option<String>,
}

/// The provider sends the browser back here. The state cookie is removed whatever the
/// outcome: a state works once.
pub async fn callback(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    Meta(meta): Meta,
    jar: CookieJar,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    // A malformed query (a parameter twice) is a failed sign-in like any other.
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let cookie_state = jar.get(state.cookies.sso).map(|c| c.value().to_owned());
    let jar = jar.add(state.cookies.removal(state.cookies.sso));
    let cb = Callback {
        code: q.code,
        state: q.state,
        error: q.error,
        iss: q.iss,
        cookie_state,
    };
    let (status, key) = match sso::callback(&state.app, &meta, cb).await {
        Ok(done) => return Ok(signed_in(&state, jar, done.grant, &done.next)),
        Err(SsoFailure::Rejected) => (StatusCode::BAD_REQUEST, "sign_in.sso_rejected"),
        Err(SsoFailure::NoAccount) => (StatusCode::FORBIDDEN, "sign_in.sso_no_account"),
        Err(SsoFailure::Unreachable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "sign_in.provider_unreachable",
        ),
        Err(SsoFailure::Misconfigured) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "sign_in.provider_misconfigured",
        ),
        Err(SsoFailure::App(e)) => return Err(e.into()),
    };
    let body = page_with(status, &SignInPage::new(lang, "").with_problem(key))?;
    Ok((jar, body).into_response())
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    logout_token: String,
}

/// OpenID Connect Back-Channel Logout 1.0: the provider posts a signed logout token, server to
/// server. No session and no origin check apply (the provider is not a browser); the token's
/// signature, issuer and audience are the proof. Answers 200, or 400 for a token that fails.
pub async fn backchannel_logout(
    State(state): State<WebState>,
    Meta(meta): Meta,
    Path(org): Path<String>,
    body: Bytes,
) -> Response {
    let answer = |status: StatusCode, error: Option<&str>| {
        let mut res = match error {
            Some(e) => (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({ "error": e }).to_string(),
            )
                .into_response(),
            None => status.into_response(),
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    };
    let Ok(org) = org.parse::<uuid::Uuid>() else {
        return answer(StatusCode::NOT_FOUND, None);
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LogoutForm>(&body) else {
        return answer(StatusCode::BAD_REQUEST, Some("invalid_request"));
    };
    match sso::backchannel_logout(&state.app, &meta, org, &form.logout_token).await {
        Ok(_) => answer(StatusCode::OK, None),
        Err(AppError::BadRequest(why)) => {
            tracing::info!(org = %org, reason = %why, "logout token refused");
            answer(StatusCode::BAD_REQUEST, Some("invalid_request"))
        }
        Err(AppError::NotFound) => answer(StatusCode::NOT_FOUND, None),
        Err(AppError::Unavailable(_)) => answer(StatusCode::SERVICE_UNAVAILABLE, None),
        Err(e) => {
            tracing::error!(error = %e, "back-channel logout failed");
            answer(StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

/// The sign-in settings form, every list as one line of text.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret_file: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    subject_claim: String,
    #[serde(default)]
    email_claim: String,
    #[serde(default)]
    email_domains: String,
    #[serde(default)]
    acr_values: String,
    #[serde(default)]
    require_mfa: String,
    #[serde(default)]
    passwords_allowed: String,
    #[serde(default)]
    action: String,
}

const FIELDS: &[&str] = &[
    "issuer",
    "client_id",
    "client_secret_file",
    "scopes",
    "subject_claim",
    "email_claim",
    "email_domains",
    "acr_values",
    "require_mfa",
    "passwords_allowed",
];

fn yes(b: bool) -> String {
    if b { "yes".into() } else { String::new() }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl SettingsForm {
    fn of(p: &ProviderView) -> SettingsForm {
        let s = &p.settings;
        SettingsForm {
            version: p.version.to_string(),
            issuer: s.issuer.clone(),
            client_id: s.client_id.clone(),
            client_secret_file: s.client_secret_file.clone().unwrap_or_default(),
            scopes: s.scopes.join(" "),
            subject_claim: s.subject_claim.clone(),
            email_claim: s.email_claim.clone(),
            email_domains: s.email_domains.join(", "),
            acr_values: s.acr_values.join(" "),
            require_mfa: yes(s.require_mfa),
            passwords_allowed: yes(s.passwords_allowed),
            action: String::new(),
        }
    }

    /// A new provider: the usual scopes and claims, passwords still allowed.
    fn fresh() -> SettingsForm {
        SettingsForm {
            scopes: "profile email".into(),
            subject_claim: "sub".into(),
            email_claim: "email".into(),
            passwords_allowed: "yes".into(),
            ..Default::default()
        }
    }

    fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret_file: Some(self.client_secret_file.clone()),
            scopes: words(&self.scopes),
            subject_claim: self.subject_claim.clone(),
            email_claim: self.email_claim.clone(),
            email_domains: words(&self.email_domains),
            acr_values: words(&self.acr_values),
            require_mfa: self.require_mfa == "yes",
            passwords_allowed: self.passwords_allowed == "yes",
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in_settings.html")]
struct SettingsPage {
    shell: Shell,
    errors: FormErrors,
    org: Organisation,
    form: SettingsForm,
    /// The stored provider, None before one is configured.
    stored: Option<ProviderView>,
    redirect_uri: String,
    backchannel_logout_uri: String,
    /// Whether the operator looks at another organisation (back to the organisation list).
    from_operator: bool,
}

async fn settings_page(
    state: &WebState,
    staff: &Staff,
    id: uuid::Uuid,
    form: Option<SettingsForm>,
    errors: FormErrors,
) -> Result<SettingsPage, WebError> {
    // The access check comes first: the organisation's name is no one else's business.
    let current = sso::find(&state.app, staff, id).await?;
    let org = orgs::get(&state.app, staff, id).await?;
    let m = staff.lang.messages();
    let title = m.f("sign_in_settings.title", &[("org", &org.name)]);
    let here = format!("/admin/organisations/{id}/sign-in");
    let form = form.unwrap_or_else(|| {
        current
            .as_ref()
            .map_or_else(SettingsForm::fresh, SettingsForm::of)
    });
    Ok(SettingsPage {
        shell: Shell::staff(staff, &here, title),
        errors: errors.labelled(m, "sign_in_settings."),
        redirect_uri: format!(
            "{}{}",
            state.app.config.public_url.trim_end_matches('/'),
            sso::CALLBACK_PATH
        ),
        backchannel_logout_uri: sso::backchannel_logout_uri(&state.app, org.id),
        from_operator: staff.caller.org_id != org.id,
        org,
        form,
        stored: current,
    })
}

pub async fn settings(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let mut p = settings_page(&state, &staff, id, None, FormErrors::default()).await?;
    p.shell = p.shell.with_notice(q.key());
    page(&p)
}

pub async fn settings_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<SettingsForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let here = format!("/admin/organisations/{id}/sign-in");
    let expected = match form.version.trim() {
        "" => Precondition::Missing,
        v => Precondition::version(v.parse().map_err(|_| WebError::BadForm)?),
    };
    let result = match form.action.as_str() {
        "save" => sso::put(&state.app, &staff, id, expected, form.settings())
            .await
            .map(|_| "saved"),
        "delete" => sso::delete(&state.app, &staff, id, expected)
            .await
            .map(|()| "deleted"),
        _ => return Err(WebError::BadForm),
    };
    let mut errors = FormErrors::default();
    match result {
        Ok(done) => return see_other(&format!("{here}?done={done}")),
        Err(AppError::Validation(errs)) => {
            for e in &errs {
                let field = if FIELDS.contains(&e.field.as_str()) {
                    e.field.as_str()
                } else {
                    "issuer"
                };
                let own = format!("sign_in_settings.{field}_");
                errors.add(field, error_text(m, Some(&own), e));
            }
        }
        Err(AppError::PreconditionFailed | AppError::PreconditionRequired) => {
            errors.add("issuer", m.t("sign_in_settings.conflict").to_owned());
        }
        Err(e) => return Err(e.into()),
    }
    let mut p = settings_page(&state, &staff, id, None, errors).await?;
    // What was typed stays, against the version now stored.
    let version = p.form.version.clone();
    p.form = form;
    p.form.version = version;
    page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
}
