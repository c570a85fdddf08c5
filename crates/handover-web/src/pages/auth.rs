//! Sign-in, sign-out, the language switch, the forgotten password, password setup from the
//! e-mail link, and changing one's own password.

use super::{PageResult, page, page_with, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::session::{AnonForm, LANG_COOKIE, Meta, Posted, Staff, UserLang, safe_next};
use crate::view::{FormErrors, Shell};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use handover_app::AppError;
use handover_app::auth::{self, Login, LoginStep, PasswordSetup, SecondStepDone, WebGrant};
use handover_app::me::{self, PasswordChange};
use handover_app::sso::{self, Route, SsoFailure};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(super) struct SignInPage {
    shell: Shell,
    errors: FormErrors,
    problem: Option<String>,
    info: Option<String>,
    email: String,
    next: String,
    /// The second step: the e-mail address was not one of an organisation that signs in
    /// through its own identity provider (or the person asked for the password).
    password_step: bool,
}

impl SignInPage {
    pub(super) fn new(lang: Lang, next: &str) -> SignInPage {
        SignInPage {
            shell: Shell::anonymous(lang, lang.messages().t("sign_in.title").to_owned())
                .at("/sign-in"),
            errors: FormErrors::default(),
            problem: None,
            info: None,
            email: String::new(),
            next: next.to_owned(),
            password_step: false,
        }
    }

    /// The sign-in page again, on the password step or the first, keeping where to go after.
    fn href(&self, password: bool) -> String {
        let mut q: Vec<(&str, &str)> = Vec::new();
        if password {
            q.push(("password", "1"));
        }
        if !self.next.is_empty() {
            q.push(("next", &self.next));
        }
        match serde_urlencoded::to_string(&q) {
            Ok(s) if !s.is_empty() => format!("/sign-in?{s}"),
            _ => "/sign-in".to_owned(),
        }
    }

    pub(super) fn with_problem(mut self, key: &str) -> SignInPage {
        self.problem = Some(self.shell.t(key).to_owned());
        self
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    done: Option<String>,
    /// `?password=1`: straight to the password, past the organisation's provider (the
    /// operator's accounts, or a provider that does not answer where passwords are allowed).
    #[serde(default)]
    password: Option<String>,
}

pub async fn sign_in_page(UserLang(lang): UserLang, Query(q): Query<SignInQuery>) -> PageResult {
    let m = lang.messages();
    let info = match q.done.as_deref() {
        Some("signed_out") => Some(m.t("sign_in.signed_out")),
        Some("password_set") => Some(m.t("sign_in.password_set")),
        Some("expired") => Some(m.t("sign_in.expired")),
        _ => q.next.as_ref().map(|_| m.t("sign_in.needed")),
    };
    let next = q.next.as_deref().and_then(safe_next).unwrap_or_default();
    let mut p = SignInPage::new(lang, next);
    p.info = info.map(str::to_owned);
    p.password_step = q.password.is_some();
    page(&p)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    /// Absent on the first step (the e-mail address alone), present on the password step.
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "sign_in_provider.html")]
struct ProviderPage {
    shell: Shell,
    url: String,
}

/// The sign-in: the e-mail address first, which sends the person of an organisation with its
/// own identity provider there, and everyone else on to the password.
pub async fn sign_in(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    Meta(meta): Meta,
    jar: CookieJar,
    AnonForm(form): AnonForm<SignInForm>,
) -> PageResult {
    let m = lang.messages();
    let next = safe_next(&form.next).unwrap_or_default().to_owned();
    let password_step = form.password.is_some();
    let mut errors = FormErrors::default();
    if form.email.trim().is_empty() {
        errors.add("email", m.t("sign_in.email_missing").to_owned());
    }
    if form.password.as_deref() == Some("") {
        errors.add("password", m.t("sign_in.password_missing").to_owned());
    }
    let again = |errors: FormErrors, problem: Option<String>, status, password_step| {
        let mut p = SignInPage::new(lang, &next);
        p.errors = errors.labelled(m, "sign_in.");
        p.problem = problem;
        p.email = form.email.clone();
        p.password_step = password_step;
        page_with(status, &p)
    };
    if !errors.is_empty() {
        return again(
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            password_step,
        );
    }
    let Some(password) = form.password.clone() else {
        return match sso::route(&state.app, &form.email, &next).await {
            Ok(Route::Password) => again(FormErrors::default(), None, StatusCode::OK, true),
            Ok(Route::Provider {
                url,
                state: sso_state,
            }) => {
                let mut c = state.cookies.private(state.cookies.sso, sso_state);
                c.set_max_age(time::Duration::minutes(10));
                // A page that goes on by itself rather than a redirect: the sign-in form's
                // content-security-policy (`form-action 'self'`) holds for the redirects of
                // its submission too, and the provider is another origin.
                let body = page(&ProviderPage {
                    shell: Shell::anonymous(lang, m.t("sign_in.to_provider").to_owned())
                        .at("/sign-in"),
                    url,
                })?;
                Ok((jar.add(c), body).into_response())
            }
            Err(SsoFailure::Unreachable) => again(
                FormErrors::default(),
                Some(m.t("sign_in.provider_unreachable").to_owned()),
                StatusCode::SERVICE_UNAVAILABLE,
                false,
            ),
            Err(SsoFailure::Misconfigured) => again(
                FormErrors::default(),
                Some(m.t("sign_in.provider_misconfigured").to_owned()),
                StatusCode::SERVICE_UNAVAILABLE,
                false,
            ),
            Err(SsoFailure::App(e)) => Err(e.into()),
            Err(SsoFailure::Rejected | SsoFailure::NoAccount) => Err(WebError::BadForm),
        };
    };
    let login = Login {
        email: form.email.clone(),
        password,
    };
    match auth::web_login(&state.app, &meta, login).await {
        Ok(LoginStep::Done(grant)) => Ok(signed_in(&state, jar, grant, &next)),
        Ok(LoginStep::SecondFactor(c)) => {
            let setup = match &c.setup {
                Some(s) => Some(super::second_factor::pending(s)?),
                None => None,
            };
            code_page(
                lang,
                StatusCode::OK,
                FormErrors::default(),
                None,
                c.token,
                next.clone(),
                setup,
            )
        }
        Err(AppError::InvalidCredentials) => again(
            FormErrors::default(),
            Some(m.t("sign_in.failed").to_owned()),
            StatusCode::UNAUTHORIZED,
            true,
        ),
        Err(AppError::PasswordsDisabled) => again(
            FormErrors::default(),
            Some(m.t("sign_in.passwords_disabled").to_owned()),
            StatusCode::FORBIDDEN,
            false,
        ),
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60).to_string();
            let mut res = again(
                FormErrors::default(),
                Some(m.f("sign_in.throttled", &[("minutes", &minutes)])),
                StatusCode::TOO_MANY_REQUESTS,
                true,
            )?;
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn signed_in(
    state: &WebState,
    jar: CookieJar,
    grant: WebGrant,
    next: &str,
) -> axum::response::Response {
    let jar = jar.add(
        state
            .cookies
            .private(state.cookies.session, grant.cookie_token),
    );
    let to = if next.is_empty() { "/" } else { next };
    (jar, Redirect::to(to)).into_response()
}

#[derive(Template)]
#[template(path = "sign_in_code.html")]
struct CodePage {
    shell: Shell,
    errors: FormErrors,
    problem: Option<String>,
    challenge: String,
    next: String,
    /// The authenticator to set up first (administrators without one).
    setup: Option<super::second_factor::Pending>,
}

#[derive(Template)]
#[template(path = "sign_in_codes.html")]
struct CodesPage {
    shell: Shell,
    codes: Vec<String>,
    next: String,
}

fn code_page(
    lang: Lang,
    status: StatusCode,
    errors: FormErrors,
    problem: Option<String>,
    challenge: String,
    next: String,
    setup: Option<super::second_factor::Pending>,
) -> PageResult {
    let m = lang.messages();
    let title = if setup.is_some() {
        "sign_in_code.setup_title"
    } else {
        "sign_in_code.title"
    };
    page_with(
        status,
        &CodePage {
            shell: Shell::anonymous(lang, m.t(title).to_owned()).at("/sign-in"),
            errors,
            problem,
            challenge,
            next,
            setup,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// The second step of the sign-in: the code of the authenticator app, or a recovery code.
/// The challenge travels in the form (it is worth nothing without a code, and only for a few
/// minutes); a wrong code asks again, a challenge that is gone sends back to the password.
pub async fn sign_in_code(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    Meta(meta): Meta,
    jar: CookieJar,
    AnonForm(form): AnonForm<CodeForm>,
) -> PageResult {
    let m = lang.messages();
    let next = safe_next(&form.next).unwrap_or_default().to_owned();
    // A sign-in that sets up the authenticator shows its key again beside a wrong code.
    let setup = match auth::challenge_setup(&state.app, &form.challenge).await? {
        Some(s) => Some(super::second_factor::pending(&s)?),
        None => None,
    };
    let ask_again = |key: &str, status| {
        let mut errors = FormErrors::default();
        errors.add("code", m.t(key).to_owned());
        code_page(
            lang,
            status,
            errors.labelled(m, "sign_in_code."),
            None,
            form.challenge.clone(),
            next.clone(),
            setup.clone(),
        )
    };
    if form.code.trim().is_empty() {
        return ask_again("sign_in_code.missing", StatusCode::UNPROCESSABLE_ENTITY);
    }
    match auth::web_login_second_step(&state.app, &meta, &form.challenge, &form.code).await {
        Ok(SecondStepDone {
            grant,
            recovery_codes: None,
        }) => Ok(signed_in(&state, jar, grant, &next)),
        Ok(SecondStepDone {
            grant,
            recovery_codes: Some(codes),
        }) => {
            // The authenticator was set up in this sign-in: the recovery codes are shown on
            // this answer only, with the session already started.
            let jar = jar.add(
                state
                    .cookies
                    .private(state.cookies.session, grant.cookie_token),
            );
            let body = page(&CodesPage {
                shell: Shell::anonymous(lang, m.t("second_factor.codes_title").to_owned())
                    .at("/sign-in"),
                codes,
                next: if next.is_empty() {
                    "/".to_owned()
                } else {
                    next.clone()
                },
            })?;
            Ok((jar, body).into_response())
        }
        Err(AppError::InvalidCode) => ask_again("sign_in_code.wrong", StatusCode::UNAUTHORIZED),
        Err(AppError::InvalidCredentials) => page_with(
            StatusCode::UNAUTHORIZED,
            &SignInPage::new(lang, &next).with_problem("sign_in_code.start_again"),
        ),
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60).to_string();
            let mut res = code_page(
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                FormErrors::default(),
                Some(m.f("sign_in.throttled", &[("minutes", &minutes)])),
                form.challenge.clone(),
                next.clone(),
                setup.clone(),
            )?;
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    State(state): State<WebState>,
    jar: CookieJar,
    Posted { staff, .. }: Posted<Empty>,
) -> PageResult {
    auth::logout(&state.app, &staff.actor).await?;
    let jar = jar.add(state.cookies.removal(state.cookies.session));
    Ok((jar, Redirect::to("/sign-in?done=signed_out")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// Remembers the chosen language for a year and returns to the page it was chosen on.
pub async fn language(
    State(state): State<WebState>,
    jar: CookieJar,
    AnonForm(form): AnonForm<LanguageForm>,
) -> PageResult {
    let lang = Lang::parse(&form.lang).ok_or(WebError::BadForm)?;
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .http_only(true)
        .secure(state.cookies.secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .build();
    let back = safe_next(&form.back).unwrap_or("/").to_owned();
    Ok((jar.add(cookie), Redirect::to(&back)).into_response())
}

#[derive(Template)]
#[template(path = "forgotten.html")]
struct ForgottenPage {
    shell: Shell,
    errors: FormErrors,
    email: String,
    sent: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    sent: Option<String>,
}

pub async fn forgotten_page(UserLang(lang): UserLang, Query(q): Query<SentQuery>) -> PageResult {
    page(&ForgottenPage {
        shell: Shell::anonymous(lang, lang.messages().t("forgotten.title").to_owned())
            .at("/password/forgotten"),
        errors: FormErrors::default(),
        email: String::new(),
        sent: q.sent.is_some(),
    })
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Sends the setup e-mail if the address has an account; the next page says the same either
/// way.
pub async fn forgotten(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    Meta(meta): Meta,
    AnonForm(form): AnonForm<EmailForm>,
) -> PageResult {
    match auth::forgotten_password(&state.app, &meta, &form.email).await {
        Ok(()) => see_other("/password/forgotten?sent=1"),
        Err(AppError::Validation(_)) => {
            let mut errors = FormErrors::default();
            errors.add(
                "email",
                lang.messages().t("validation.invalid_email").to_owned(),
            );
            page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForgottenPage {
                    shell: Shell::anonymous(lang, lang.messages().t("forgotten.title").to_owned())
                        .at("/password/forgotten"),
                    errors,
                    email: form.email,
                    sent: false,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    shell: Shell,
    errors: FormErrors,
    has_token: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

/// The e-mail link's page. The token arrives in the query; it is moved into a short-lived
/// cookie at once and the browser sent on to the same page without it, so it stays neither in
/// the address bar, nor in the history, nor in a `Referer`.
pub async fn setup_page(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    jar: CookieJar,
    Query(q): Query<TokenQuery>,
) -> PageResult {
    if let Some(token) = q.token.filter(|t| !t.is_empty() && t.len() <= 128) {
        // Lax like the session cookie, not Strict: the link is opened from a mail program or a
        // webmail page, another site, and a browser withholds a Strict cookie from every
        // request of a navigation that another site started, the redirect below included.
        let mut c = state.cookies.private(state.cookies.setup, token);
        c.set_max_age(time::Duration::hours(1));
        return Ok((jar.add(c), Redirect::to("/password-setup")).into_response());
    }
    let has_token = jar.get(state.cookies.setup).is_some();
    page(&SetupPage {
        shell: Shell::anonymous(lang, lang.messages().t("setup.title").to_owned())
            .at("/password-setup"),
        errors: FormErrors::default(),
        has_token,
    })
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    new_password: String,
}

pub async fn setup(
    State(state): State<WebState>,
    UserLang(lang): UserLang,
    Meta(meta): Meta,
    jar: CookieJar,
    AnonForm(form): AnonForm<SetupForm>,
) -> PageResult {
    let m = lang.messages();
    let shell = || Shell::anonymous(lang, m.t("setup.title").to_owned()).at("/password-setup");
    let Some(token) = jar.get(state.cookies.setup).map(|c| c.value().to_owned()) else {
        return page_with(
            StatusCode::BAD_REQUEST,
            &SetupPage {
                shell: shell(),
                errors: FormErrors::default(),
                has_token: false,
            },
        );
    };
    let req = PasswordSetup {
        token,
        new_password: form.new_password,
    };
    match auth::password_setup(&state.app, &meta, req).await {
        Ok(()) => {
            let jar = jar.add(state.cookies.removal(state.cookies.setup));
            Ok((jar, Redirect::to("/sign-in?done=password_set")).into_response())
        }
        Err(AppError::Validation(errs)) => page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                shell: shell(),
                errors: FormErrors::from_app(m, &errs, &["new_password"]),
                has_token: true,
            },
        ),
        Err(AppError::BadRequest(_)) => {
            let jar = jar.add(state.cookies.removal(state.cookies.setup));
            let body = page_with(
                StatusCode::BAD_REQUEST,
                &SetupPage {
                    shell: shell(),
                    errors: FormErrors::default(),
                    has_token: false,
                },
            )?;
            Ok((jar, body).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePage {
    shell: Shell,
    errors: FormErrors,
}

pub async fn change_page(staff: Staff, Query(q): Query<super::NoticeQuery>) -> PageResult {
    let title = staff.lang.messages().t("change_password.title").to_owned();
    page(&ChangePage {
        shell: Shell::staff(&staff, "/account/password", title).with_notice(q.key()),
        errors: FormErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<ChangeForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let req = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    let errors = match me::change_password(&state.app, &staff.actor, req).await {
        Ok(()) => return see_other("/account/password?done=password"),
        Err(AppError::Validation(errs)) => {
            FormErrors::from_app(m, &errs, &["current_password", "new_password"])
        }
        Err(AppError::InvalidCredentials) | Err(AppError::Forbidden) => {
            let mut e = FormErrors::default();
            e.add("current_password", m.t("change_password.wrong").to_owned());
            e
        }
        Err(e) => return Err(e.into()),
    };
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ChangePage {
            shell: Shell::staff(
                &staff,
                "/account/password",
                m.t("change_password.title").to_owned(),
            ),
            errors,
        },
    )
}
