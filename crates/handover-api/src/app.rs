//! The router: every route, its OpenAPI description, and the middleware around them.

use crate::error::{PROBLEM_JSON, Problem, problem_response, types};
use crate::routes::{
    actions, audit_log, auth, catalogue, consent, conversations, erasure, export, guidance,
    handovers, health, me, orgs, outbox, outcome, participants, programme, sign_in, statistics,
    users,
};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Handover service (overføring fra integreringsmottak)",
        description = "Handover of full-time-programme records, career-guidance summaries and transfer conversations from Norway's integration reception centres to settlement municipalities. Errors are RFC 9457 problem documents.",
        version = "0.1.0",
        license(name = "UNLICENSED")
    ),
    servers((url = "/", description = "The service itself (the document is served by it)")),
    modifiers(&Security),
    components(schemas(
        Problem,
        handover_domain::handover::IdentityAndProgrammeContent,
        handover_domain::handover::GuidanceSummaryContent,
        handover_domain::participant::CompetenceMapping,
        handover_domain::handover::AdaptationNeeds,
    )),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, tokens, password setup"),
        (name = "me", description = "The signed-in user"),
        (name = "organisations", description = "The organisation register"),
        (name = "users", description = "User administration"),
        (name = "audit", description = "The audit log"),
        (name = "outbox", description = "Dead-lettered e-mails, for the operator"),
        (name = "participants", description = "Participants of the full-time programme"),
        (name = "catalogue", description = "The qualification-pathway catalogue"),
        (name = "guidance", description = "Career-guidance summaries (guidance in the reception centre, not § 11 guidance)"),
        (name = "settlement and consent", description = "Settlement decision, consent, health and adaptation needs"),
        (name = "handovers", description = "The handover file, the municipality's inbox, the handover's states"),
        (name = "conversations", description = "Transfer conversations (overføringssamtaler) and calendar invitations"),
        (name = "programme record", description = "Competence mapping, Norwegian training, programme elements, placements"),
        (name = "statistics", description = "Figures that show whether handovers happen, without personal data"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // The title is Norwegian (non-ASCII); client generators that derive a package name from
        // it get this ASCII one instead where they read it (openapi-python-client does not: its
        // config, tests/openapi-lint/openapi-python-client.yaml, overrides the name).
        openapi
            .info
            .extensions
            .get_or_insert_with(Default::default)
            .insert(
                "x-package-name".into(),
                serde_json::Value::String("handover-client".into()),
            );
    }
}

/// Adds the problem answers every operation can give, so handlers list only their own.
struct StandardProblems;

impl Modify for StandardProblems {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::ResponseBuilder;
        use utoipa::openapi::content::ContentBuilder;
        let problem = |desc: &str| {
            ResponseBuilder::new()
                .description(desc)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "Problem",
                        ))))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_if_match =
                    op.parameters.iter().flatten().any(
                        |p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case("if-match")),
                    );
                let mut add = |code: &str, desc: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| RefOr::T(problem(desc)));
                };
                if secured {
                    add("401", "Missing, invalid or expired access token");
                    add("403", "The caller's role may not do this");
                }
                if has_params {
                    add("404", "Not found (or belongs to another organisation)");
                }
                if has_body {
                    add("400", "Malformed JSON");
                    add("413", "Body too large");
                    add("415", "Body is not application/json");
                }
                if has_body || has_params {
                    add("422", "Invalid fields; `errors` names them");
                }
                if has_if_match {
                    add(
                        "412",
                        "Changed since read: the If-Match tag is not the current version",
                    );
                    add("428", "If-Match missing");
                }
                add("500", "Internal error (logged with the request id)");
                add("503", "Temporarily unavailable (database); retry");
            }
        }
    }
}

/// Every API route with its OpenAPI description.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::login))
        .routes(routes!(auth::login_second_factor))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::password_setup))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::second_factor))
        .routes(routes!(me::begin_totp))
        .routes(routes!(me::confirm_totp))
        .routes(routes!(me::renew_recovery_codes))
        .routes(routes!(me::remove_second_factor))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::get, orgs::update))
        .routes(routes!(sign_in::get, sign_in::put, sign_in::delete))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update))
        .routes(routes!(users::send_password_setup))
        .routes(routes!(users::reset_second_factor))
        .routes(routes!(audit_log::list))
        .routes(routes!(outbox::list))
        .routes(routes!(outbox::requeue))
        .routes(routes!(outbox::discard))
        .routes(routes!(participants::list, participants::create))
        .routes(routes!(participants::get, participants::update))
        .routes(routes!(participants::lookup))
        .routes(routes!(participants::record))
        .routes(routes!(participants::history))
        .routes(routes!(programme::get_mapping, programme::put_mapping))
        .routes(routes!(programme::get_norwegian, programme::put_norwegian))
        .routes(routes!(programme::list_elements, programme::create_element))
        .routes(routes!(
            programme::get_element,
            programme::update_element,
            programme::delete_element
        ))
        .routes(routes!(
            programme::list_placements,
            programme::create_placement
        ))
        .routes(routes!(
            programme::get_placement,
            programme::update_placement,
            programme::delete_placement
        ))
        .routes(routes!(catalogue::list, catalogue::create))
        .routes(routes!(
            catalogue::get,
            catalogue::update,
            catalogue::delete
        ))
        .routes(routes!(catalogue::versions))
        .routes(routes!(catalogue::retire))
        .routes(routes!(catalogue::reinstate))
        .routes(routes!(guidance::list, guidance::create))
        .routes(routes!(guidance::get, guidance::update, guidance::delete))
        .routes(routes!(guidance::finalise))
        .routes(routes!(consent::get_settlement, consent::put_settlement))
        .routes(routes!(consent::list_consents, consent::create_consent))
        .routes(routes!(consent::withdraw_consent))
        .routes(routes!(consent::get_adaptation, consent::put_adaptation))
        .routes(routes!(export::export))
        .routes(routes!(erasure::erase))
        .routes(routes!(conversations::propose, conversations::for_handover))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::accept))
        .routes(routes!(conversations::counter_propose))
        .routes(routes!(conversations::reschedule))
        .routes(routes!(conversations::cancel))
        .routes(routes!(conversations::minutes))
        .routes(routes!(actions::list))
        .routes(routes!(actions::update))
        .routes(routes!(actions::for_conversation))
        .routes(routes!(conversations::calendar))
        .routes(routes!(conversations::mine))
        .routes(routes!(conversations::for_org))
        .routes(routes!(handovers::list))
        .routes(routes!(handovers::create))
        .routes(routes!(handovers::get))
        .routes(routes!(handovers::get_readiness))
        .routes(routes!(handovers::send))
        .routes(routes!(handovers::file))
        .routes(routes!(handovers::file_pdf))
        .routes(routes!(handovers::cancel))
        .routes(routes!(handovers::accept))
        .routes(routes!(handovers::decline))
        .routes(routes!(handovers::complete))
        .routes(routes!(outcome::get, outcome::put))
        .routes(routes!(statistics::handovers))
}

/// Every operation of a path item (the service uses no other methods).
fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// The OpenAPI document, as served and as committed under `openapi/`.
pub fn openapi() -> OpenApiDoc {
    let mut doc = api_router().into_openapi();
    finish(&mut doc);
    doc
}

/// Modifiers that need the routes' paths and schemas, so they run after the routes are merged
/// (as `#[openapi(modifiers)]` they saw no paths at all).
fn finish(doc: &mut OpenApiDoc) {
    PublicOperations.modify(doc);
    ResponseDescriptions.modify(doc);
    FileSectionVariants.modify(doc);
    PageItemRefs.modify(doc);
    StandardProblems.modify(doc);
    FlattenedInputs.modify(doc);
    IfMatchFormat.modify(doc);
}

/// Operations without a bearer requirement (login, refresh, password setup, health) say so with
/// `security: []`, so tools do not take them for undocumented ones.
struct PublicOperations;

impl Modify for PublicOperations {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                op.security.get_or_insert_with(Vec::new);
            }
        }
    }
}

/// Every response needs a description (OpenAPI requires one). Handlers give their own where it
/// says more; a success answer without one gets the operation's summary, which says what it
/// returns, or a generic sentence.
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                let summary = op
                    .summary
                    .as_deref()
                    .map(|s| s.trim().trim_end_matches('.').to_owned())
                    .filter(|s| !s.is_empty());
                for (code, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if !response.description.trim().is_empty() {
                        continue;
                    }
                    response.description = match (code.as_str(), &summary) {
                        ("201", Some(s)) => format!("Created ({s}); `Location` names it"),
                        ("201", None) => "Created; `Location` names it".into(),
                        ("204", _) => "Done; no body".into(),
                        (_, Some(s)) => s.clone(),
                        (_, None) => "Success".into(),
                    };
                }
            }
        }
    }
}

/// utoipa inlines the item schema into each `Page_<T>`; where it is the same as the component
/// `<T>`, the page refers to it instead, so clients get one `T` type, not an anonymous copy.
struct PageItemRefs;

impl Modify for PageItemRefs {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::schema::{ArrayItems, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let originals = components.schemas.clone();
        for (name, schema) in components.schemas.iter_mut() {
            let Some(item) = name.strip_prefix("Page_") else {
                continue;
            };
            let Some(component) = originals.get(item) else {
                continue;
            };
            let RefOr::T(Schema::Object(page)) = schema else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items")
                && let ArrayItems::RefOrSchema(inner) = &mut items.items
                && inner.as_ref() == component
            {
                **inner = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(item));
            }
        }
    }
}

/// `FileSection.content` depends on the section. The schema becomes one variant per section,
/// told apart by `section` (a discriminator), each with its content schema; generated clients
/// then get typed content instead of an empty object.
struct FileSectionVariants;

/// Section, its variant's schema name, and its content schema.
const FILE_SECTIONS: &[(&str, &str, &str)] = &[
    (
        "identity_and_programme",
        "IdentityAndProgrammeSection",
        "IdentityAndProgrammeContent",
    ),
    (
        "competence_mapping",
        "CompetenceMappingSection",
        "CompetenceMapping",
    ),
    (
        "guidance_summary",
        "GuidanceSummarySection",
        "GuidanceSummaryContent",
    ),
    (
        "health_and_adaptation",
        "HealthAndAdaptationSection",
        "AdaptationNeeds",
    ),
];

impl Modify for FileSectionVariants {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::Ref;
        use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(base))) = components.schemas.get("FileSection").cloned()
        else {
            return;
        };
        let mut one_of = OneOfBuilder::new().description(base.description.clone());
        let mut mapping = Vec::new();
        for (section, name, content) in FILE_SECTIONS {
            let mut variant = base.clone();
            variant.description = Some(format!("A file section of kind `{section}`."));
            variant.properties.insert(
                "section".into(),
                RefOr::T(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([*section]))
                        .build(),
                )),
            );
            let description = variant.properties.get("content").and_then(|c| match c {
                RefOr::T(Schema::Object(o)) => o.description.clone(),
                _ => None,
            });
            variant.properties.insert(
                "content".into(),
                RefOr::T(Schema::OneOf(
                    OneOfBuilder::new()
                        .item(Ref::from_schema_name(*content))
                        .item(ObjectBuilder::new().schema_type(Type::Null))
                        .description(description)
                        .build(),
                )),
            );
            if let Some(RefOr::T(Schema::Object(status))) = variant.properties.get_mut("status") {
                status.enum_values = Some(
                    ["shared", "not_recorded", "withheld"]
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                );
            }
            components
                .schemas
                .insert((*name).into(), RefOr::T(Schema::Object(variant)));
            one_of = one_of.item(Ref::from_schema_name(*name));
            mapping.push((
                (*section).to_owned(),
                format!("#/components/schemas/{name}"),
            ));
        }
        let discriminator = Discriminator::with_mapping("section", mapping);
        components.schemas.insert(
            "FileSection".into(),
            RefOr::T(Schema::OneOf(
                one_of.discriminator(Some(discriminator)).build(),
            )),
        );
    }
}

/// `If-Match` takes our strong entity tags only (`"3"`, or a list): `*` is answered 428 and a
/// weak or foreign tag 412 (see `extract::IfMatch`), so the document says so.
struct IfMatchFormat;

impl Modify for IfMatchFormat {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::Schema;
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                for param in op.parameters.iter_mut().flatten() {
                    if let RefOr::T(param) = param
                        && param.parameter_in == ParameterIn::Header
                        && param.name.eq_ignore_ascii_case("if-match")
                        && let Some(RefOr::T(Schema::Object(obj))) = param.schema.as_mut()
                    {
                        obj.pattern = Some(IF_MATCH_PATTERN.into());
                    }
                }
            }
        }
    }
}

/// One or more strong ETags as the API issues them: positive version numbers in quotes.
pub const IF_MATCH_PATTERN: &str = r#"^"[1-9][0-9]{0,8}"( *, *"[1-9][0-9]{0,8}")*$"#;

/// `#[serde(flatten)]` of an input type gives `allOf: [$ref Input, {id, version, ...}]`; the
/// input's `additionalProperties: false` (from `deny_unknown_fields`) would then refuse the
/// stored type's own fields. The stored type gets an open copy of the input inlined instead;
/// request bodies keep the closed input schema.
struct FlattenedInputs;

impl Modify for FlattenedInputs {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let originals = components.schemas.clone();
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::AllOf(all)) = schema else {
                continue;
            };
            for item in &mut all.items {
                let RefOr::Ref(r) = item else { continue };
                let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                if let Some(RefOr::T(Schema::Object(obj))) = originals.get(name)
                    && matches!(
                        obj.additional_properties.as_deref(),
                        Some(AdditionalProperties::FreeForm(false))
                    )
                {
                    let mut open = obj.clone();
                    open.additional_properties = None;
                    *item = RefOr::T(Schema::Object(open));
                }
            }
        }
    }
}

pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default() + "\n"
}

/// The whole HTTP application: the JSON API, its docs, and `web` (the web application's pages,
/// which set their own content-security-policy) under the same layers.
pub fn router(state: AppState, web: Router) -> Router {
    let (api, mut doc) = api_router().split_for_parts();
    finish(&mut doc);
    let doc = Arc::new(doc);
    let max_body = state.config.max_body_bytes;
    let hsts = state.config.public_url.starts_with("https://");
    let timeout = state.config.request_timeout;
    let request_id = HeaderName::from_static("x-request-id");

    let spec = doc.clone();
    api.with_state(state)
        .route("/api-docs/openapi.json", axum::routing::get(move || async move { axum::Json(spec.as_ref().clone()) }))
        .merge(SwaggerUi::new("/docs").url("/api-docs/swagger.json", doc.as_ref().clone()))
        // Unknown API paths answer the API's problem 404; everything else is the web
        // application's (its pages, assets and its own 404 page).
        .route("/api/{*rest}", axum::routing::any(not_found))
        .route("/api-docs/{*rest}", axum::routing::any(not_found))
        .merge(web)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(middleware::from_fn(client_request_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(middleware::from_fn(access_log))
                .layer(
                    // The route template, never the path: a path holds ids (a participant's
                    // record), and the query string can hold a name searched for.
                    TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                        let client = req.headers().get(CLIENT_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                        tracing::info_span!("request", request_id = %id, client_request_id = %client, method = %req.method(), route = %route_of(req))
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(problem_middleware))
                .layer(CatchPanicLayer::custom(|_| internal_error_response()))
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
                .layer(DefaultBodyLimit::max(max_body))
                .layer(middleware::from_fn(move |req, next| security_headers(hsts, req, next)))
                .layer(middleware::from_fn(move |req, next| read_body_first(max_body, req, next))),
        )
}

/// The route template a request matched (`/api/v1/participants/{id}`), or `(no route)`.
fn route_of<B>(req: &Request<B>) -> &str {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", |m| m.as_str())
}

/// The access log: one line per request at `info` (target `handover::access`), after the
/// answer, with its method, route template, final status, duration, request id and the caller's
/// user and organisation ids. Never a path with ids, a query string, a name, a number or a body
/// (docs/operations.md, "Logs"). A failed login is a line with status 401 and no caller.
async fn access_log(mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = route_of(&req).to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let note = handover_app::actor::CallerNote::default();
    req.extensions_mut().insert(note.clone());
    let res = next.run(req).await;
    let caller = note.get();
    let status = res.status().as_u16().to_string();
    let labels = [
        ("method", method.to_string()),
        ("route", route.clone()),
        ("status", status),
    ];
    metrics::counter!("handover_http_requests_total", &labels).increment(1);
    metrics::histogram!("handover_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    tracing::info!(
        target: "handover::access",
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %request_id,
        user_id = caller.map(|c| c.0.to_string()).unwrap_or_default(),
        org_id = caller.map(|c| c.1.to_string()).unwrap_or_default(),
        "request"
    );
    res
}

/// Reads the whole request body (up to the body limit) before any handler runs. A handler that
/// refuses a request early (a 401 before its JSON extractor) would otherwise leave the body
/// unread, and the server then closes the keep-alive connection without a word, so the
/// client's next request on it fails. A body over the limit is answered 413 and the connection
/// closed, since its rest is never read.
async fn read_body_first(max: usize, req: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let refused = |e: crate::error::ApiError| {
        let mut res = e.into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        res
    };
    if declared.is_some_and(|n| n > max as u64) {
        return refused(crate::error::ApiError::PayloadTooLarge);
    }
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(collected) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            refused(crate::error::ApiError::PayloadTooLarge)
        }
        Err(_) => refused(crate::error::ApiError::BadRequest(
            "The request body could not be read.".into(),
        )),
    }
}

/// The header a client's own correlation id travels in, apart from the service's request id.
pub const CLIENT_REQUEST_ID: &str = "x-client-request-id";

/// Whether a client's correlation id is plain enough to log and echo: 1 to 64 characters of
/// letters, digits and `._:-`, starting with a letter or digit.
pub fn is_plain_request_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// The service's request id (`X-Request-Id`, in every log line and audit row) is always its
/// own: a client's `X-Request-Id` could otherwise repeat another organisation's id in the audit
/// log, or carry anything into the logs. A client's id in a plain, bounded format is kept apart
/// as `X-Client-Request-Id`: logged beside ours and echoed back; any other is dropped.
async fn client_request_id(mut req: Request, next: Next) -> Response {
    let client = req
        .headers_mut()
        .remove("x-request-id")
        .into_iter()
        .chain(req.headers_mut().remove(CLIENT_REQUEST_ID))
        .find_map(|v| {
            v.to_str()
                .ok()
                .filter(|s| is_plain_request_id(s))
                .map(str::to_owned)
        })
        .and_then(|s| HeaderValue::from_str(&s).ok());
    if let Some(v) = &client {
        req.headers_mut().insert(CLIENT_REQUEST_ID, v.clone());
    }
    let mut res = next.run(req).await;
    if let Some(v) = client {
        res.headers_mut().insert(CLIENT_REQUEST_ID, v);
    }
    res
}

fn internal_error_response() -> Response {
    tracing::error!("handler panicked");
    crate::error::ApiError::Internal("panic".into()).into_response()
}

async fn not_found() -> Response {
    crate::error::ApiError::NotFound.into_response()
}

/// The content-security-policy of the API docs (Swagger UI): its own scripts and styles only,
/// inline style attributes (which Swagger UI sets), images from itself or data: URLs.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Everything else is JSON (or a calendar file): nothing may load or run.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

async fn security_headers(hsts: bool, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let (csp, cacheable) = if path == "/docs" || path.starts_with("/docs/") {
        (DOCS_CSP, true)
    } else {
        (API_CSP, false)
    };
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // Pages set `same-origin` themselves: under `no-referrer` a browser sends `Origin: null`
    // with a form post, and the pages' origin check needs the real origin.
    if !h.contains_key("referrer-policy") {
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // A web page or asset carries its own policy (handover-web); everything else gets the
    // API's or the docs'.
    if !h.contains_key("content-security-policy") {
        h.insert("content-security-policy", HeaderValue::from_static(csp));
        if !cacheable {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    // Only where users reach the service over https: a development instance on plain http must
    // not teach a browser to insist on https for localhost.
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000"),
        );
    }
    res
}

/// Makes every error answer a problem document: answers from axum itself or from middleware
/// (405, 413, timeouts) become one, and every problem carries the request id.
async fn problem_middleware(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // The web application's error pages stay pages.
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    let (parts, body) = res.into_parts();
    let mut problem: serde_json::Value = if is_problem {
        match axum::body::to_bytes(body, 64 * 1024).await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        }
    } else {
        serde_json::Value::Null
    };
    if !problem.is_object() {
        let (kind, title) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (types::METHOD_NOT_ALLOWED, "Method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => {
                (types::PAYLOAD_TOO_LARGE, "The request body is too large")
            }
            StatusCode::NOT_FOUND => (types::NOT_FOUND, "Not found"),
            StatusCode::SERVICE_UNAVAILABLE => {
                (types::UNAVAILABLE, "The service is temporarily unavailable")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (types::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            }
            s if s.is_server_error() => (types::INTERNAL, "Internal error"),
            _ => (types::HTTP, status.canonical_reason().unwrap_or("Error")),
        };
        problem = serde_json::json!({ "type": kind, "title": title, "status": status.as_u16() });
    }
    if let (Some(obj), Some(id)) = (problem.as_object_mut(), request_id) {
        obj.insert("request_id".into(), serde_json::Value::String(id));
    }
    let mut out = problem_response(Problem {
        kind: String::new(),
        title: String::new(),
        status: status.as_u16(),
        detail: None,
        errors: Vec::new(),
        request_id: None,
    });
    *out.body_mut() = Body::from(serde_json::to_vec(&problem).unwrap_or_default());
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
