//! The handover: the centre prepares and sends a frozen file to the settlement municipality; the
//! municipality finds it in its inbox, opens it (audited, visible to the centre), accepts or
//! declines it. Every state change is recorded with who and when (in `handover_app::handovers`).

use crate::answer::disclosed;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::idempotency::{IdempotencyKey, respond, stored};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use handover_app::handovers as uc;
use handover_app::{Idempotency, Outcome};
use handover_domain::handover::*;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HandoverQuery {
    pub state: Option<HandoverState>,
    pub settlement_from: Option<Date>,
    pub settlement_to: Option<Date>,
    /// Only handovers whose latest version the municipality has (not) opened.
    pub unread: Option<bool>,
    /// Only this participant's handovers (centre staff).
    pub participant_id: Option<Uuid>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// Handovers: for centre staff, their centre's; for municipality staff, the inbox of handovers
/// sent to their municipality (newest first).
#[utoipa::path(operation_id = "list_handovers", get, path = "/api/v1/handovers", tag = "handovers",
    security(("bearer" = [])),
    params(HandoverQuery),
    responses((status = 200, description = "The matching handovers", body = Page<Handover>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<HandoverQuery>,
) -> ApiResult<Json<Page<Handover>>> {
    let q = uc::HandoverQuery {
        state: q.state,
        settlement_from: q.settlement_from,
        settlement_to: q.settlement_to,
        unread: q.unread,
        participant_id: q.participant_id,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
}

/// Start a handover of a participant to the municipality in their registered settlement decision.
/// With an `Idempotency-Key`, a retry gets the first answer again (`Idempotent-Replayed: true`).
#[utoipa::path(operation_id = "create_handover", post, path = "/api/v1/participants/{id}/handovers", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255,
            pattern = "^[!-~]{1,255}$",
            description = "Makes a retry safe: the first answer to this key (per user, 24 hours) is replayed to the same request. 1 to 255 visible ASCII characters; `\"abc\"` (a structured-field string) and `abc` are the same key.")),
    responses(
        (status = 201, body = Handover, headers(("ETag" = String), ("Location" = String),
            ("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same Idempotency-Key"))),
        (status = 400, description = "Malformed Idempotency-Key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An open handover exists, or no settlement is registered", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used for a different request (`idempotency-key-reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(participant): ApiPath<Uuid>,
    key: IdempotencyKey,
) -> ApiResult<Response> {
    let idem = Idempotency::bind(key.request(), &auth, None::<&()>)?;
    let render = |d: &handover_app::Disclosed<Handover>| {
        stored(
            StatusCode::CREATED,
            Some(location(&d.body)),
            d.version,
            &d.body,
        )
    };
    Ok(
        match uc::create(&state, &auth, participant, idem, &render).await? {
            Outcome::Done(d) => respond(render(&d)?, false),
            Outcome::Replayed(a) => respond(a, true),
        },
    )
}

fn location(h: &Handover) -> String {
    format!("/api/v1/handovers/{}", h.id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverDetail {
    pub handover: Handover,
    /// Every state change, oldest first: who, when, why.
    pub history: Vec<Transition>,
    /// Every opening of the file by the municipality ("opened by X at T").
    pub openings: Vec<Opening>,
    /// Every file version sent, oldest first: when, by whom, with how many items missing.
    pub versions: Vec<SentVersion>,
}

/// A handover with its history and openings (both sides).
#[utoipa::path(operation_id = "get_handover", get, path = "/api/v1/handovers/{id}", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HandoverDetail, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let d = uc::get(&state, &auth, id).await?;
    Ok(disclosed(d.map(|d| HandoverDetail {
        handover: d.handover,
        history: d.history,
        openings: d.openings,
        versions: d.versions,
    })))
}

/// What is missing before the file can be sent without a stated reason.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/readiness", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Readiness)))]
pub async fn get_readiness(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Readiness>> {
    Ok(Json(uc::get_readiness(&state, &auth, id).await?.body))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Required when the readiness check finds something missing; the municipality sees it.
    #[schema(max_length = 2000)]
    pub missing_reason: Option<String>,
}

/// Send the file (first version) or an updated version. Freezes a snapshot: later changes at
/// the centre do not alter a sent version. Requires `If-Match`.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/send", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the handover")),
    request_body = SendRequest,
    responses(
        (status = 200, body = Handover, headers(("ETag" = String))),
        (status = 409, description = "Not sendable in this state", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn send(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<Response> {
    let d = uc::send(
        &state,
        &auth,
        id,
        if_match.precondition(),
        req.missing_reason.as_deref(),
    )
    .await?;
    Ok(disclosed(d))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverFile {
    pub handover: Handover,
    pub file_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    pub sent_by_name: String,
    pub reception_centre_name: String,
    pub municipality_name: String,
    pub settlement: Option<Settlement>,
    /// What the readiness check found missing when this version was sent, and why it was sent
    /// anyway.
    pub missing: Vec<MissingItem>,
    pub missing_reason: Option<String>,
    /// The version the municipality had opened before this request (`null`: first opening).
    pub previously_opened_version: Option<i32>,
    /// Sections that changed since that version.
    pub changed_sections: Vec<Section>,
    pub sections: Vec<FileSection>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// A sent version (default: the latest).
    #[param(minimum = 1, maximum = 100000)]
    pub version: Option<i32>,
}

/// The whole file, latest version or the sent version asked for, in one request. When the
/// municipality opens it, the opening is recorded (the centre sees who opened it when) and the
/// first opening marks it received. Sections whose consent has been withdrawn since sending are
/// withheld, in every version.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/file", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), FileQuery),
    responses(
        (status = 200, body = HandoverFile),
        (status = 404, description = "No such handover, or no such sent version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not sent yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "Declined or cancelled: the file is no longer available to the municipality", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn file(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<FileQuery>,
) -> ApiResult<Json<HandoverFile>> {
    let f = uc::file(&state, &auth, id, q.version).await?.body;
    Ok(Json(HandoverFile {
        handover: f.handover,
        file_version: f.file_version,
        sent_at: f.sent_at,
        sent_by_name: f.sent_by_name,
        reception_centre_name: f.reception_centre_name,
        municipality_name: f.municipality_name,
        settlement: f.settlement,
        missing: f.missing,
        missing_reason: f.missing_reason,
        previously_opened_version: f.previously_opened_version,
        changed_sections: f.changed_sections,
        sections: f.sections,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FilePdfQuery {
    /// A sent version (default: the latest).
    #[param(minimum = 1, maximum = 100000)]
    pub version: Option<i32>,
    /// `nb` (bokmål, the default) or `en`; without it, the first of these in `Accept-Language`.
    #[param(inline)]
    pub lang: Option<PdfLang>,
    /// `pdfa-3b` (the default: the JSON file version inside) or `pdfa-2b` (no attachment, for an
    /// archive that takes PDF/A-1 and PDF/A-2 only).
    #[param(inline)]
    pub profile: Option<PdfProfile>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum PdfProfile {
    #[serde(rename = "pdfa-3b")]
    Pdfa3b,
    #[serde(rename = "pdfa-2b")]
    Pdfa2b,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PdfLang {
    Nb,
    En,
}

/// The language asked for: the parameter, else the first of bokmål (or Norwegian) and English
/// in `Accept-Language`, else bokmål.
fn pdf_lang(q: Option<PdfLang>, headers: &axum::http::HeaderMap) -> handover_i18n::Lang {
    use handover_i18n::Lang;
    if let Some(l) = q {
        return match l {
            PdfLang::Nb => Lang::Nb,
            PdfLang::En => Lang::En,
        };
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut ranked: Vec<(f32, Lang)> = accept
        .split(',')
        .filter_map(|part| {
            let mut it = part.trim().split(';');
            let tag = it.next()?.trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = match primary {
                "nb" | "no" | "nn" => Lang::Nb,
                "en" => Lang::En,
                _ => return None,
            };
            (q > 0.0).then_some((q, lang))
        })
        .collect();
    // The highest weight wins; among equals, the first named.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map_or(Lang::Nb, |(_, l)| *l)
}

/// The file version as an archival PDF/A-3b document (or PDF/A-2b with `profile=pdfa-2b`) for
/// the recipient's archive (Noark 5 case systems): every section with its legal basis and purpose, withheld parts said so, page
/// numbers and the reference on every page, and the same file version as JSON embedded inside
/// (`pdfdetach -list`). Downloading it is a reading of the file: the same access rule, the same
/// recorded opening and audit row as `GET /handovers/{id}/file`.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/file.pdf", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), FilePdfQuery,
        ("Accept-Language" = Option<String>, Header, description = "`nb` or `en` when `lang` is not given")),
    responses(
        (status = 200, description = "PDF/A-3b (or PDF/A-2b)", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such handover, or no such sent version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not sent yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "Declined or cancelled: the file is no longer available to the municipality", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn file_pdf(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<FilePdfQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let lang = pdf_lang(q.lang, &headers);
    let profile = match q.profile {
        Some(PdfProfile::Pdfa2b) => handover_pdf::Profile::A2b,
        Some(PdfProfile::Pdfa3b) | None => handover_pdf::Profile::A3b,
    };
    let pdf = uc::file_pdf(&state, &auth, id, q.version, lang, profile)
        .await?
        .body;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", pdf.name),
            ),
            (axum::http::header::CONTENT_LANGUAGE, lang.code().to_owned()),
        ],
        pdf.bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalNote {
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Cancel the handover (the centre), with a reason the municipality sees. Requires `If-Match`.
#[utoipa::path(operation_id = "cancel_handover", post, path = "/api/v1/handovers/{id}/cancel", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the handover")),
    request_body = Reason,
    responses(
        (status = 200, body = Handover, headers(("ETag" = String))),
        (status = 409, description = "Illegal in this state", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<Reason>,
) -> ApiResult<Response> {
    let d = uc::cancel(&state, &auth, id, if_match.precondition(), &req.reason).await?;
    Ok(disclosed(d))
}

/// Accept the handover (the municipality, after opening the file). Requires `If-Match`.
#[utoipa::path(operation_id = "accept_handover", post, path = "/api/v1/handovers/{id}/accept", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the handover")),
    responses(
        (status = 200, body = Handover, headers(("ETag" = String))),
        (status = 409, description = "Illegal in this state (open the file first)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    Ok(disclosed(
        uc::accept(&state, &auth, id, if_match.precondition()).await?,
    ))
}

/// Decline the handover (the municipality), with a reason such as "wrong municipality".
/// Requires `If-Match`.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/decline", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the handover")),
    request_body = Reason,
    responses(
        (status = 200, body = Handover, headers(("ETag" = String))),
        (status = 409, description = "Illegal in this state", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn decline(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<Reason>,
) -> ApiResult<Response> {
    let d = uc::decline(&state, &auth, id, if_match.precondition(), &req.reason).await?;
    Ok(disclosed(d))
}

/// Mark the handover completed without a recorded transfer conversation (e.g. one held outside
/// the service). Either side. Requires `If-Match`.
#[utoipa::path(post, path = "/api/v1/handovers/{id}/complete", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the handover")),
    request_body = OptionalNote,
    responses(
        (status = 200, body = Handover, headers(("ETag" = String))),
        (status = 409, description = "Illegal in this state", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn complete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<OptionalNote>,
) -> ApiResult<Response> {
    let d = uc::complete(
        &state,
        &auth,
        id,
        if_match.precondition(),
        req.note.as_deref(),
    )
    .await?;
    Ok(disclosed(d))
}
