//! The handover: the centre prepares and sends a frozen file to the settlement municipality; the
//! municipality finds it in its inbox, opens it (audited, visible to the centre), accepts or
//! declines it. Every state change is recorded with who and when.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::idempotency::{IdempotencyKey, replayed};
use crate::legacy::{authorize, created};
use crate::paging::{Page, Paging};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use handover_db::handovers::{self, Actor, HandoverFilter, Move, NewFile, NewHandover};
use handover_db::outbox::{self, NewMail};
use handover_db::{DbError, guidance, participants};
use handover_domain::handover::*;
use handover_domain::participant::Skill;
use handover_domain::policy::ListScope;
use handover_domain::{Action, OrgKind, Relation};
use handover_mail::templates::{HandoverNotice, handover_notice};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The handover, after checking the caller may do `action` to it. The municipality sees a
/// handover only once it is sent; before that it does not exist for them.
pub(crate) async fn load(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<Handover> {
    auth.require(action)?;
    let h = match handovers::get(&state.pool, id).await {
        Err(DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    auth.check(action, relation(auth, &h))?;
    Ok(h)
}

pub(crate) fn relation(auth: &Auth, h: &Handover) -> Relation {
    handover_domain::policy::handover_relation(
        &auth.0,
        h.reception_centre_id,
        h.municipality_id,
        h.latest_file_version > 0,
    )
}

fn side(auth: &Auth) -> Side {
    if auth.0.org_kind == OrgKind::Municipality {
        Side::Municipality
    } else {
        Side::Centre
    }
}

fn actor(auth: &Auth) -> Actor<'_> {
    Actor {
        user: auth.0.user_id,
        name: &auth.0.name,
        org: auth.0.org_id,
    }
}

/// Moves the handover through `event`, or answers 409 naming the illegal transition.
pub(crate) async fn step(
    tx: &mut PgConnection,
    auth: &Auth,
    h: &Handover,
    version: i32,
    event: HandoverEvent,
    reason: Option<&str>,
) -> ApiResult<HandoverState> {
    let to = transition(h.state, event, side(auth)).ok_or_else(|| {
        ApiError::Conflict(format!(
            "A handover in state `{}` cannot be `{}`ed by this side.",
            h.state.as_str(),
            event.as_str()
        ))
    })?;
    if !handovers::apply(
        tx,
        h.id,
        version,
        Move {
            from: h.state,
            to,
            event,
        },
        &actor(auth),
        reason,
    )
    .await?
    {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(to)
}

fn link(state: &AppState, id: Uuid) -> String {
    format!(
        "{}/api/v1/handovers/{id}",
        state.config.public_url.trim_end_matches('/')
    )
}

/// Queues a notice to every address, in the caller's transaction.
async fn notify(
    tx: &mut PgConnection,
    state: &AppState,
    h: &Handover,
    kind: HandoverNotice,
    key: &str,
    to: &[String],
    from_org: &str,
) -> ApiResult<()> {
    let n = handover_notice(kind, &h.reference, &link(state, h.id), from_org);
    for addr in to {
        outbox::enqueue(
            &mut *tx,
            &NewMail {
                dedupe_key: format!("handover:{}:{key}:{addr}", h.id),
                to: addr,
                subject: n.subject.clone(),
                body_text: n.body.clone(),
                participant_id: Some(h.participant_id),
                handover_id: Some(h.id),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The people of the municipality: its introduction-programme staff and the settlement contacts.
async fn municipality_addresses(tx: &mut PgConnection, h: &Handover) -> ApiResult<Vec<String>> {
    let mut to = handovers::staff_emails(&mut *tx, h.municipality_id, "municipality_staff").await?;
    if let Some(s) = handovers::get_settlement(&mut *tx, h.participant_id).await? {
        to.extend(
            s.data
                .contacts
                .into_iter()
                .filter_map(|c| c.email)
                .map(|e| e.to_lowercase()),
        );
    }
    to.sort();
    to.dedup();
    Ok(to)
}

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
    meta: RequestMeta,
    ApiQuery(q): ApiQuery<HandoverQuery>,
) -> ApiResult<Json<Page<Handover>>> {
    auth.require(Action::HandoverRead)?;
    let (limit, offset) = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let mut f = HandoverFilter {
        state: q.state,
        settlement_from: q.settlement_from,
        settlement_to: q.settlement_to,
        unread: q.unread,
        limit,
        offset,
        ..Default::default()
    };
    match (auth.list_scope(Action::HandoverRead), auth.0.org_kind) {
        (ListScope::Related { own: true, .. }, OrgKind::ReceptionCentre) => {
            f.reception_centre = Some(auth.0.org_id);
            if let Some(p) = q.participant_id {
                // A foreign participant answers like an unknown one.
                authorize(&state, &auth, Action::HandoverPrepare, p).await?;
                f.participant = Some(p);
            }
        }
        (
            ListScope::Related {
                recipient: true, ..
            },
            OrgKind::Municipality,
        ) => {
            if q.participant_id.is_some() {
                return Err(ApiError::field(
                    "participant_id",
                    "not_allowed",
                    "municipalities filter their inbox by state, date or unread",
                ));
            }
            f.municipality = Some(auth.0.org_id);
        }
        _ => return Err(ApiError::Forbidden),
    }
    let client = meta.client();
    let event = crate::audit::list_event(&auth, &meta, client.as_deref(), "handover.list");
    let page = handovers::list_audited(&state.pool, &f, &event).await?;
    Ok(Json(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
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
    meta: RequestMeta,
    ApiPath(participant): ApiPath<Uuid>,
    key: IdempotencyKey,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, participant).await?;
    let idem = key.bind(&auth, None::<&()>)?;
    let target = Some(("participant", participant));
    if let Some(r) = idem.replay(&state.pool).await? {
        return replayed(&state.pool, &auth, &meta, "handover.create", target, r).await;
    }
    let settlement = handovers::get_settlement(&state.pool, participant).await?.ok_or_else(|| {
        ApiError::Conflict("Register the settlement decision (municipality and date) before starting a handover.".into())
    })?;
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if let Some(r) = idem.claim(&mut tx, Some(participant)).await? {
        drop(tx);
        return replayed(&state.pool, &auth, &meta, "handover.create", target, r).await;
    }
    let reference = handovers::next_reference(&mut *tx).await?;
    let n = NewHandover {
        id,
        reference: &reference,
        participant,
        reception_centre: auth.0.org_id,
        municipality: settlement.data.municipality_id,
        settlement_date: Some(settlement.data.settlement_date),
        created_by: auth.0.user_id,
    };
    handovers::create(&mut *tx, &n).await.map_err(|e| match e {
        DbError::Conflict(c) if c == "handovers_one_open" => ApiError::Conflict(
            "The participant already has an open handover; update or cancel that one.".into(),
        ),
        other => other.into(),
    })?;
    handovers::record_created(&mut *tx, id, &actor(&auth)).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "handover.create",
        Some(("participant", participant)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    let res = created(format!("/api/v1/handovers/{id}"), h.version, h);
    let res = idem.store(&mut tx, res).await?;
    tx.commit().await?;
    Ok(res)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverDetail {
    pub handover: Handover,
    /// Every state change, oldest first: who, when, why.
    pub history: Vec<Transition>,
    /// Every opening of the file by the municipality ("opened by X at T").
    pub openings: Vec<Opening>,
}

/// A handover with its history and openings (both sides).
#[utoipa::path(operation_id = "get_handover", get, path = "/api/v1/handovers/{id}", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HandoverDetail, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let h = load(&state, &auth, Action::HandoverRead, id).await?;
    let history = handovers::transitions(&state.pool, id).await?;
    let openings = handovers::openings(&state.pool, id).await?;
    audit(
        &state.pool,
        &auth,
        &meta,
        "handover.read",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    Ok(with_etag(
        h.version,
        Json(HandoverDetail {
            handover: h,
            history,
            openings,
        }),
    ))
}

async fn readiness_of(conn: &mut PgConnection, participant: Uuid) -> ApiResult<Readiness> {
    let has_mapping = participants::get_mapping(&mut *conn, participant)
        .await?
        .is_some();
    let skills_assessed = participants::get_norwegian(&mut *conn, participant)
        .await?
        .map(|n| {
            Skill::ALL
                .iter()
                .filter(|s| n.data.level(**s).is_some())
                .count()
        })
        .unwrap_or(0);
    let has_final_guidance = guidance::current_final(&mut *conn, participant)
        .await?
        .is_some();
    let has_consent_decision = !handovers::consents(&mut *conn, participant)
        .await?
        .is_empty();
    let has_settlement_date = handovers::get_settlement(&mut *conn, participant)
        .await?
        .is_some();
    Ok(readiness(&ReadinessFacts {
        has_mapping,
        skills_assessed,
        has_final_guidance,
        has_consent_decision,
        has_settlement_date,
    }))
}

/// What is missing before the file can be sent without a stated reason.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/readiness", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Readiness)))]
pub async fn get_readiness(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Readiness>> {
    let h = load(&state, &auth, Action::HandoverPrepare, id).await?;
    let mut conn = state.pool.acquire().await?;
    let r = readiness_of(&mut conn, h.participant_id).await?;
    drop(conn);
    audit(
        &state.pool,
        &auth,
        &meta,
        "handover.readiness_read",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    Ok(Json(r))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Required when the readiness check finds something missing; the municipality sees it.
    #[schema(max_length = 2000)]
    pub missing_reason: Option<String>,
}

fn section_hash(s: &FileSection) -> String {
    let bytes = serde_json::to_vec(s).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_json<T: Serialize>(v: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

/// Loads everything the file holds, as it is now, and decides per section what is shared.
async fn compose(
    conn: &mut PgConnection,
    participant: Uuid,
) -> ApiResult<(Vec<FileSection>, Option<Settlement>, Option<String>)> {
    let record = participants::record(&mut *conn, participant).await?;
    let consents = handovers::consents(&mut *conn, participant).await?;
    let settlement = handovers::get_settlement(&mut *conn, participant).await?;
    let adaptation = handovers::get_adaptation(&mut *conn, participant).await?;
    let summary = guidance::current_final(&mut *conn, participant).await?;
    let guidance_content = match summary {
        Some((s, _)) => {
            let pairs: Vec<(Uuid, i32)> = s
                .pathway
                .iter()
                .map(|p| (p.offering_id, p.offering_version))
                .collect();
            let offerings = guidance::referenced_versions(&mut *conn, &pairs).await?;
            let offerings = offerings
                .into_iter()
                .map(|(offering_id, v)| ReferencedOffering {
                    offering_id,
                    version: v.version,
                    offering: v.data,
                })
                .collect();
            Some(to_json(&GuidanceSummaryContent {
                summary: s,
                offerings,
            })?)
        }
        None => None,
    };
    let p = &record.participant;
    let display_name = Some(format!("{} {}", p.data.given_name, p.data.family_name));
    let identity = to_json(&IdentityAndProgrammeContent {
        participant: SharedParticipant::from(&p.data),
        norwegian_training: record.norwegian_training.clone(),
        programme_elements: record.programme_elements.clone(),
        placements: record.placements.clone(),
        attendance: record.attendance.clone(),
        record_last_updated_at: record.last_updated_at.map(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        }),
        record_last_updated_by: record.last_updated_by.clone(),
    })?;
    let sources = vec![
        SectionSource {
            section: Section::IdentityAndProgramme,
            content: Some(identity),
        },
        SectionSource {
            section: Section::CompetenceMapping,
            content: record
                .competence_mapping
                .as_ref()
                .map(to_json)
                .transpose()?,
        },
        SectionSource {
            section: Section::GuidanceSummary,
            content: guidance_content,
        },
        SectionSource {
            section: Section::HealthAndAdaptation,
            content: adaptation.as_ref().map(to_json).transpose()?,
        },
    ];
    let sections = compose_sections(sources, &consents);
    let shares_identity = sections.first().is_some_and(|s| s.status == "shared");
    Ok((
        sections,
        settlement,
        if shares_identity { display_name } else { None },
    ))
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<Response> {
    let h = load(&state, &auth, Action::HandoverPrepare, id).await?;
    let version = if_match.check(h.version)?;
    let event = if h.state == HandoverState::Draft {
        HandoverEvent::Send
    } else {
        HandoverEvent::Update
    };
    if transition(h.state, event, Side::Centre).is_none() {
        return Err(ApiError::Conflict(format!(
            "A handover in state `{}` cannot be sent.",
            h.state.as_str()
        )));
    }
    let mut tx = state.pool.begin().await?;
    let settled_to = handovers::get_settlement(&mut *tx, h.participant_id)
        .await?
        .map(|s| s.data.municipality_id);
    if settled_to != Some(h.municipality_id) {
        return Err(ApiError::Conflict(
            "The settlement decision now names another municipality; cancel this handover and start a new one.".into(),
        ));
    }
    let ready = readiness_of(&mut tx, h.participant_id).await?;
    let missing_reason = req
        .missing_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if !ready.ready && missing_reason.is_none() {
        return Err(ApiError::Validation(vec![handover_domain::FieldError {
            field: "missing_reason".into(),
            code: "required".into(),
            message: format!(
                "missing: {}; state why the file is sent anyway",
                ready
                    .missing
                    .iter()
                    .map(|m| m.item.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }]));
    }
    if let Some(r) = missing_reason {
        validate_reason("missing_reason", r).map_err(ApiError::Validation)?;
    }
    let (sections, settlement, display_name) = compose(&mut tx, h.participant_id).await?;
    let file_version = h.latest_file_version + 1;
    let snapshot = FileSnapshot {
        file_version,
        sent_by_name: auth.0.name.clone(),
        reception_centre_name: h.reception_centre_name.clone(),
        municipality_name: h.municipality_name.clone(),
        settlement: settlement.clone(),
        missing: ready.missing.clone(),
        missing_reason: if ready.ready {
            None
        } else {
            missing_reason.map(str::to_owned)
        },
        sections,
    };
    let hashes: serde_json::Map<String, serde_json::Value> = snapshot
        .sections
        .iter()
        .map(|s| {
            (
                s.section.as_str().to_owned(),
                serde_json::Value::String(section_hash(s)),
            )
        })
        .collect();
    step(
        &mut tx,
        &auth,
        &h,
        version,
        event,
        snapshot.missing_reason.as_deref(),
    )
    .await?;
    handovers::add_file(
        &mut tx,
        id,
        &NewFile {
            file_version,
            snapshot: &to_json(&snapshot)?,
            section_hashes: &serde_json::Value::Object(hashes),
            sent_by: auth.0.user_id,
            display_name: display_name.as_deref(),
            settlement_date: settlement.as_ref().map(|s| s.data.settlement_date),
        },
    )
    .await?;
    let to = municipality_addresses(&mut tx, &h).await?;
    let kind = if event == HandoverEvent::Send {
        HandoverNotice::Sent
    } else {
        HandoverNotice::Updated { file_version }
    };
    notify(
        &mut tx,
        &state,
        &h,
        kind,
        &format!("v{file_version}"),
        &to,
        &h.reception_centre_name,
    )
    .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        &format!("handover.{}", event.as_str()),
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(h.version, Json(h)))
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

/// The whole file, latest version, in one request. When the municipality opens it, the opening
/// is recorded (the centre sees who opened it when) and the first opening marks it received.
/// Sections whose consent has been withdrawn since sending are withheld.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/file", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = HandoverFile),
        (status = 409, description = "Not sent yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "Declined or cancelled: the file is no longer available to the municipality", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn file(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<HandoverFile>> {
    auth.require(Action::HandoverRead)?;
    // One query reads the handover, its latest file and the withdrawn consents; nothing of it
    // leaves this function unless the caller may read the handover.
    let bundle = handovers::file_bundle::<FileSnapshot>(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let h = bundle.handover;
    auth.check(Action::HandoverRead, relation(&auth, &h))?;
    let recipient = relation(&auth, &h) == Relation::Recipient;
    if recipient && matches!(h.state, HandoverState::Cancelled | HandoverState::Declined) {
        // A municipality that declined the handover, or whose handover was cancelled, keeps the
        // history but no longer the personal data.
        return Err(ApiError::Gone(format!(
            "The handover was {}; its file is no longer available to the municipality.",
            h.state.as_str()
        )));
    }
    let previously = h.recipient_opened_version;
    let (stored, previous_hashes) = bundle.file.ok_or_else(|| {
        ApiError::Conflict("The handover has not been sent yet; there is no file.".into())
    })?;
    let mut snapshot = stored.snapshot;
    apply_withdrawals(&mut snapshot.sections, &bundle.withdrawn);
    let mut changed = Vec::new();
    if let Some(prev) =
        previous_hashes.filter(|_| previously > 0 && previously < stored.file_version)
    {
        for s in snapshot.sections.iter_mut() {
            let key = s.section.as_str();
            if prev.get(key) != stored.section_hashes.get(key) {
                s.changed_since_last_opened = true;
                changed.push(s.section);
            }
        }
    }
    let client = meta.client();
    let event = handover_db::audit::AuditEvent {
        actor_user_id: Some(auth.0.user_id),
        actor_org_id: Some(auth.0.org_id),
        actor_role: Some(auth.0.role.as_str()),
        action: "handover.file_read",
        target_type: Some("participant"),
        target_id: Some(h.participant_id),
        outcome: "success",
        request_id: meta.request_id.as_deref(),
        client_addr: client.as_deref(),
    };
    let opener = actor(&auth);
    let h = if recipient && h.state == HandoverState::Sent {
        // The first opening also marks it received: a transaction, once per handover.
        let mut tx = state.pool.begin().await?;
        handovers::record_file_read(&mut *tx, id, stored.file_version, Some(&opener), &event)
            .await?;
        // A concurrent first opening may have done so already.
        let received = Move {
            from: h.state,
            to: HandoverState::Received,
            event: HandoverEvent::Receive,
        };
        let _ = handovers::apply(&mut tx, id, h.version, received, &opener, None).await?;
        let h = handovers::get(&mut *tx, id).await?;
        tx.commit().await?;
        h
    } else {
        // Every later reading: one statement, no transaction round trips.
        handovers::record_file_read(
            &state.pool,
            id,
            stored.file_version,
            recipient.then_some(&opener),
            &event,
        )
        .await?;
        let mut h = h;
        if recipient {
            h.recipient_opened_version = h.recipient_opened_version.max(stored.file_version);
            h.unread = h.latest_file_version > h.recipient_opened_version;
        }
        h
    };
    Ok(Json(HandoverFile {
        handover: h,
        file_version: stored.file_version,
        sent_at: stored.sent_at,
        sent_by_name: snapshot.sent_by_name,
        reception_centre_name: snapshot.reception_centre_name,
        municipality_name: snapshot.municipality_name,
        settlement: snapshot.settlement,
        missing: snapshot.missing,
        missing_reason: snapshot.missing_reason,
        previously_opened_version: (previously > 0).then_some(previously),
        changed_sections: changed,
        sections: snapshot.sections,
    }))
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<Reason>,
) -> ApiResult<Response> {
    let h = load(&state, &auth, Action::HandoverPrepare, id).await?;
    let version = if_match.check(h.version)?;
    validate_reason("reason", &req.reason).map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    step(
        &mut tx,
        &auth,
        &h,
        version,
        HandoverEvent::Cancel,
        Some(req.reason.trim()),
    )
    .await?;
    close_live_conversation(&mut tx, &state, &h, req.reason.trim()).await?;
    if h.latest_file_version > 0 {
        let to = municipality_addresses(&mut tx, &h).await?;
        notify(
            &mut tx,
            &state,
            &h,
            HandoverNotice::Cancelled,
            "cancelled",
            &to,
            &h.reception_centre_name,
        )
        .await?;
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        "handover.cancel",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(h.version, Json(h)))
}

/// Calls off a proposed or confirmed conversation of a handover that is being closed (cancelled,
/// declined or completed): it is cancelled in every calendar (METHOD:CANCEL).
async fn close_live_conversation(
    tx: &mut PgConnection,
    state: &AppState,
    h: &Handover,
    reason: &str,
) -> ApiResult<()> {
    use handover_db::conversations;
    use handover_domain::conversation::ConversationState;
    let Some(cid) = conversations::live_for_handover(&mut *tx, h.id).await? else {
        return Ok(());
    };
    let c = conversations::get(tx, cid).await?;
    if conversations::cancel(tx, cid, c.version, c.state, reason).await?
        && c.state == ConversationState::Confirmed
    {
        let c = conversations::get(tx, cid).await?;
        crate::invitations::send(
            tx,
            state,
            &c,
            h.participant_id,
            handover_mail::calendar::Method::Cancel,
        )
        .await?;
    }
    Ok(())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let h = load(&state, &auth, Action::HandoverRespond, id).await?;
    let version = if_match.check(h.version)?;
    let mut tx = state.pool.begin().await?;
    step(&mut tx, &auth, &h, version, HandoverEvent::Accept, None).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "handover.accept",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(h.version, Json(h)))
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<Reason>,
) -> ApiResult<Response> {
    let h = load(&state, &auth, Action::HandoverRespond, id).await?;
    let version = if_match.check(h.version)?;
    validate_reason("reason", &req.reason).map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    step(
        &mut tx,
        &auth,
        &h,
        version,
        HandoverEvent::Decline,
        Some(req.reason.trim()),
    )
    .await?;
    close_live_conversation(&mut tx, &state, &h, req.reason.trim()).await?;
    let to = handovers::staff_emails(&mut *tx, h.reception_centre_id, "centre_staff").await?;
    notify(
        &mut tx,
        &state,
        &h,
        HandoverNotice::Declined,
        "declined",
        &to,
        &h.municipality_name,
    )
    .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "handover.decline",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(h.version, Json(h)))
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<OptionalNote>,
) -> ApiResult<Response> {
    let action = if side(&auth) == Side::Municipality {
        Action::HandoverRespond
    } else {
        Action::HandoverPrepare
    };
    let h = load(&state, &auth, action, id).await?;
    let version = if_match.check(h.version)?;
    if let Some(n) = &req.note {
        validate_reason("note", n).map_err(ApiError::Validation)?;
    }
    let mut tx = state.pool.begin().await?;
    step(
        &mut tx,
        &auth,
        &h,
        version,
        HandoverEvent::Complete,
        req.note.as_deref().map(str::trim),
    )
    .await?;
    close_live_conversation(
        &mut tx,
        &state,
        &h,
        "Overføringen er fullført / the handover is completed",
    )
    .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "handover.complete",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(h.version, Json(h)))
}
