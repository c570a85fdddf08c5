//! The staff web application: server-rendered pages over the same use cases as the JSON API
//! (`handover-app`), so no access rule, audit row or transaction exists twice. Every task works
//! with plain forms and POST-redirect-GET; the one script (`app.js`) only moves focus to an
//! error summary. Templates are compiled in (askama), the Designsystemet CSS is vendored
//! (`assets/vendor`), and texts come from the message catalogues (`messages/`).

mod content;
pub mod error;
pub mod i18n;
mod pages;
mod print;
pub mod session;
pub mod view;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use handover_app::App;
use session::CookieNames;

/// What the pages run on.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub cookies: CookieNames,
}

impl WebState {
    pub fn new(app: App) -> Self {
        let secure = app.config.public_url.starts_with("https://");
        WebState {
            app,
            cookies: CookieNames::new(secure),
        }
    }
}

/// The content-security-policy of every page: the service's own styles, script and images
/// only, no inline script or style, forms post only to the service, never framed.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages and their assets. Paths under `/api/` are the JSON API's: a missing one is
/// answered by its problem 404, never by a page.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::start::start))
        .route(
            "/sign-in",
            get(pages::auth::sign_in_page).post(pages::auth::sign_in),
        )
        .route("/sign-in/code", post(pages::auth::sign_in_code))
        .route(handover_app::sso::CALLBACK_PATH, get(pages::sso::callback))
        .route(
            "/sign-in/sso/{org}/backchannel-logout",
            post(pages::sso::backchannel_logout),
        )
        .route("/sign-out", post(pages::auth::sign_out))
        .route("/language", post(pages::auth::language))
        .route(
            "/password/forgotten",
            get(pages::auth::forgotten_page).post(pages::auth::forgotten),
        )
        .route(
            "/password-setup",
            get(pages::auth::setup_page).post(pages::auth::setup),
        )
        .route(
            "/account/password",
            get(pages::auth::change_page).post(pages::auth::change),
        )
        .route("/account/second-factor", get(pages::second_factor::show))
        .route(
            "/account/second-factor/setup",
            post(pages::second_factor::setup),
        )
        .route(
            "/account/second-factor/confirm",
            post(pages::second_factor::confirm),
        )
        .route(
            "/account/second-factor/recovery-codes",
            post(pages::second_factor::renew),
        )
        .route(
            "/account/second-factor/remove",
            post(pages::second_factor::remove),
        )
        .route("/participants", get(pages::participants::list))
        .route(
            "/participants/new",
            get(pages::participants::new_page).post(pages::participants::create),
        )
        .route("/participants/lookup", post(pages::participants::lookup))
        .route("/participants/{id}", get(pages::participants::record))
        .route(
            "/participants/{id}/identity",
            get(pages::participants::identity_page).post(pages::participants::identity_save),
        )
        .route(
            "/participants/{id}/elements/new",
            get(pages::programme::element_new_page).post(pages::programme::element_create),
        )
        .route(
            "/participants/{id}/elements/{item}",
            get(pages::programme::element_page).post(pages::programme::element_save),
        )
        .route(
            "/participants/{id}/elements/{item}/delete",
            post(pages::programme::element_delete),
        )
        .route(
            "/participants/{id}/placements/new",
            get(pages::programme::placement_new_page).post(pages::programme::placement_create),
        )
        .route(
            "/participants/{id}/placements/{item}",
            get(pages::programme::placement_page).post(pages::programme::placement_save),
        )
        .route(
            "/participants/{id}/placements/{item}/delete",
            post(pages::programme::placement_delete),
        )
        .route(
            "/participants/{id}/mapping",
            get(pages::documents::mapping_page).post(pages::documents::mapping_save),
        )
        .route(
            "/participants/{id}/norwegian",
            get(pages::documents::norwegian_page).post(pages::documents::norwegian_save),
        )
        .route(
            "/participants/{id}/settlement",
            get(pages::prep::settlement_page).post(pages::prep::settlement_save),
        )
        .route(
            "/participants/{id}/consents",
            get(pages::prep::consents_page).post(pages::prep::consent_create),
        )
        .route(
            "/participants/{id}/consents/{consent}/withdraw",
            post(pages::prep::consent_withdraw),
        )
        .route(
            "/participants/{id}/adaptation",
            get(pages::prep::adaptation_page).post(pages::prep::adaptation_save),
        )
        .route(
            "/participants/{id}/history",
            get(pages::participants::history),
        )
        .route(
            "/participants/{id}/export",
            get(pages::participants::export),
        )
        .route(
            "/participants/{id}/erase",
            get(pages::erasure::erasure_page).post(pages::erasure::erase),
        )
        .route(
            "/agreed-actions/{id}",
            post(pages::conversations::action_status),
        )
        .route("/statistics", get(pages::statistics::figures))
        .route("/statistics.csv", get(pages::statistics::figures_csv))
        .route("/handovers", get(pages::handovers::list))
        .route("/handovers/{id}", get(pages::handovers::handover))
        .route("/handovers/{id}/file", get(pages::handovers::file))
        .route("/handovers/{id}/file.pdf", get(pages::handovers::file_pdf))
        .route(
            "/handovers/{id}/send",
            get(pages::handovers::send_form).post(pages::handovers::send),
        )
        .route("/handovers/{id}/cancel", post(pages::handovers::cancel))
        .route(
            "/participants/{id}/handovers",
            post(pages::handovers::start),
        )
        .route("/handovers/{id}/accept", post(pages::handovers::accept))
        .route("/handovers/{id}/decline", post(pages::handovers::decline))
        .route(
            "/handovers/{id}/outcome",
            get(pages::outcome::outcome_page).post(pages::outcome::outcome_save),
        )
        // Transfer conversations
        .route(
            "/handovers/{id}/conversations/new",
            get(pages::conversations::propose_form),
        )
        .route(
            "/handovers/{id}/conversations",
            post(pages::conversations::propose),
        )
        .route(
            "/conversations",
            get(pages::conversations::my_conversations),
        )
        .route("/conversations/week", get(pages::conversations::week))
        .route(
            "/conversations/{id}",
            get(pages::conversations::conversation),
        )
        .route(
            "/conversations/{id}/accept",
            post(pages::conversations::accept),
        )
        .route(
            "/conversations/{id}/counter",
            get(pages::conversations::counter_form).post(pages::conversations::counter),
        )
        .route(
            "/conversations/{id}/reschedule",
            get(pages::conversations::reschedule_form).post(pages::conversations::reschedule),
        )
        .route(
            "/conversations/{id}/cancel",
            post(pages::conversations::cancel),
        )
        .route(
            "/conversations/{id}/minutes",
            get(pages::conversations::minutes_form).post(pages::conversations::minutes),
        )
        .route(
            "/conversations/{id}/calendar.ics",
            get(pages::conversations::calendar),
        )
        // Guidance and catalogue
        .route("/participants/{id}/guidance", get(pages::guidance::list))
        .route(
            "/participants/{id}/guidance/new",
            get(pages::guidance::new_page).post(pages::guidance::create),
        )
        .route("/guidance/{sid}", get(pages::guidance::summary))
        .route(
            "/guidance/{sid}/edit",
            get(pages::guidance::edit_page).post(pages::guidance::edit_save),
        )
        .route(
            "/guidance/{sid}/pathway",
            get(pages::guidance::pathway).post(pages::guidance::pathway_save),
        )
        .route(
            "/guidance/{sid}/finalise",
            get(pages::guidance::finalise_page).post(pages::guidance::finalise),
        )
        .route(
            "/guidance/{sid}/supersede",
            post(pages::guidance::supersede),
        )
        .route("/guidance/{sid}/delete", post(pages::guidance::delete))
        .route("/catalogue", get(pages::catalogue::list))
        .route(
            "/catalogue/new",
            get(pages::catalogue::new_page).post(pages::catalogue::create),
        )
        .route("/catalogue/{id}", get(pages::catalogue::offering))
        .route(
            "/catalogue/{id}/edit",
            get(pages::catalogue::edit_page).post(pages::catalogue::edit_save),
        )
        .route("/catalogue/{id}/retire", post(pages::catalogue::retire))
        .route(
            "/catalogue/{id}/reinstate",
            post(pages::catalogue::reinstate),
        )
        .route("/catalogue/{id}/versions", get(pages::catalogue::versions))
        .route("/admin/users", get(pages::admin::users))
        .route(
            "/admin/users/new",
            get(pages::admin::user_new_page).post(pages::admin::user_create),
        )
        .route(
            "/admin/users/{id}",
            get(pages::admin::user_page).post(pages::admin::user_save),
        )
        .route(
            "/admin/users/{id}/setup-email",
            post(pages::admin::user_setup_email),
        )
        .route(
            "/admin/users/{id}/second-factor-reset",
            post(pages::admin::user_reset_second_factor),
        )
        .route("/admin/organisation", get(pages::admin::own_organisation))
        .route("/admin/audit", get(pages::admin::audit))
        .route(
            "/admin/dead-letters",
            get(pages::admin::dead_letters).post(pages::admin::dead_letter_handle),
        )
        .route("/admin/organisations", get(pages::admin::organisations))
        .route(
            "/admin/organisations/new",
            get(pages::admin::org_new_page).post(pages::admin::org_create),
        )
        .route(
            "/admin/organisations/{id}",
            get(pages::admin::org_edit_page).post(pages::admin::org_save),
        )
        .route(
            "/admin/organisations/{id}/sign-in",
            get(pages::sso::settings).post(pages::sso::settings_save),
        )
        .route("/assets/{file}", get(asset))
        .fallback(not_found)
        .layer(middleware::from_fn(error::render_failures))
        .layer(middleware::from_fn(page_headers))
        .with_state(state)
}

/// A path no page has. Under `/api/` the JSON API's problem answer (the API's layer turns a
/// bare 404 into one); elsewhere a page.
async fn not_found(uri: axum::http::Uri) -> Response {
    let p = uri.path();
    if p == "/api" || p.starts_with("/api/") || p.starts_with("/api-docs") {
        axum::http::StatusCode::NOT_FOUND.into_response()
    } else {
        error::WebError::NotFound.into_response()
    }
}

/// The page headers: the strict content-security-policy, and no caching of anything that is
/// not an asset (a page may hold a participant's data).
async fn page_headers(req: axum::extract::Request, next: middleware::Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let style = res.extensions().get::<print::StyleSource>().cloned();
    let h = res.headers_mut();
    if is_html || is_asset {
        let csp = match style
            .and_then(|s| HeaderValue::from_str(&print::csp_with(PAGE_CSP, &s.0)).ok())
        {
            Some(v) => v,
            None => HeaderValue::from_static(PAGE_CSP),
        };
        h.insert("content-security-policy", csp);
        // Never a referrer to another site (a page's address can name a participant's record),
        // but the page's own origin on its form posts: under `no-referrer` browsers send
        // `Origin: null`, and the origin check would refuse every form.
        h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    }
    if is_html {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

struct Asset {
    name: &'static str,
    body: &'static [u8],
    kind: &'static str,
}

/// The vendored Designsystemet CSS (MIT, with its licence files) and the application's own
/// small style and script, compiled in.
const ASSETS: &[Asset] = &[
    Asset {
        name: "designsystemet.css",
        body: include_bytes!("../assets/vendor/designsystemet/designsystemet.css"),
        kind: "text/css; charset=utf-8",
    },
    Asset {
        name: "theme-digdir.css",
        body: include_bytes!("../assets/vendor/designsystemet/theme-digdir.css"),
        kind: "text/css; charset=utf-8",
    },
    Asset {
        name: "app.css",
        body: include_bytes!("../assets/app.css"),
        kind: "text/css; charset=utf-8",
    },
    Asset {
        name: "app.js",
        body: include_bytes!("../assets/app.js"),
        kind: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "LICENSE-designsystemet-css.txt",
        body: include_bytes!("../assets/vendor/designsystemet/LICENSE-designsystemet-css"),
        kind: "text/plain; charset=utf-8",
    },
    Asset {
        name: "LICENSE-designsystemet-theme.txt",
        body: include_bytes!("../assets/vendor/designsystemet/LICENSE-designsystemet-theme"),
        kind: "text/plain; charset=utf-8",
    },
];

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            a.body,
        )
            .into_response(),
        None => error::WebError::NotFound.into_response(),
    }
}
