//! The handover: the centre prepares and sends a frozen file to the settlement municipality; the
//! municipality finds it in its inbox, opens it (audited, visible to the centre), accepts or
//! declines it. Every state change is recorded with who and when.

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Audited, Disclosed, audit_participant, list_event};
use crate::error::{AppError, AppResult};
use crate::idempotency::{Idempotency, Outcome, StoredAnswer, replayed};
use crate::precondition::Precondition;
use handover_db::DbError;
use handover_db::handovers::{self, HandoverFilter, Move, NewFile, NewHandover};
use handover_db::outbox::{self, NewMail};
use handover_db::{guidance, participants};
use handover_domain::handover::{
    FileSection, FileSnapshot, GuidanceSummaryContent, Handover, HandoverEvent, HandoverHead,
    HandoverState, IdentityAndProgrammeContent, MissingItem, Opening, Readiness, ReadinessFacts,
    ReferencedOffering, Section, SectionSource, SentVersion, Settlement, SharedParticipant, Side,
    Transition, apply_withdrawals, compose_sections, readiness, transition, validate_reason,
};
use handover_domain::participant::Skill;
use handover_domain::policy::ListScope;
use handover_domain::{Action, OrgId, OrgKind, Page, Paging, Relation};
use handover_mail::templates::{HandoverNotice, handover_notice};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The side of the handover the caller is on.
pub fn side(actor: &Actor) -> Side {
    if actor.caller.org_kind == OrgKind::Municipality {
        Side::Municipality
    } else {
        Side::Centre
    }
}

/// The caller as the handover history names them.
pub fn history_actor(actor: &Actor) -> handovers::Actor<'_> {
    handovers::Actor {
        user: actor.caller.user_id,
        name: &actor.caller.name,
        org: actor.caller.org_id,
    }
}

/// Moves the handover through `event`, or answers 409 naming the illegal transition.
pub async fn step(
    tx: &mut PgConnection,
    actor: &Actor,
    h: &HandoverHead,
    version: i32,
    event: HandoverEvent,
    reason: Option<&str>,
) -> AppResult<HandoverState> {
    let to = transition(h.state, event, side(actor)).ok_or_else(|| {
        AppError::Conflict(format!(
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
        &history_actor(actor),
        reason,
    )
    .await?
    {
        return Err(AppError::PreconditionFailed);
    }
    Ok(to)
}

/// What a list of handovers may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct HandoverQuery {
    pub state: Option<HandoverState>,
    pub settlement_from: Option<Date>,
    pub settlement_to: Option<Date>,
    /// Only handovers whose latest version the municipality has (not) opened.
    pub unread: Option<bool>,
    /// Only this participant's handovers (centre staff).
    pub participant_id: Option<Uuid>,
    pub paging: Paging,
}

/// Handovers: for centre staff, their centre's; for municipality staff, the inbox of handovers
/// sent to their municipality (newest first). One audit row names the participants shown.
pub async fn list(app: &App, actor: &Actor, q: HandoverQuery) -> AppResult<Page<Handover>> {
    actor.require(Action::HandoverRead)?;
    let (limit, offset) = q.paging.resolve()?;
    let mut f = HandoverFilter {
        state: q.state,
        settlement_from: q.settlement_from,
        settlement_to: q.settlement_to,
        unread: q.unread,
        limit,
        offset,
        ..Default::default()
    };
    match (
        actor.list_scope(Action::HandoverRead),
        actor.caller.org_kind,
    ) {
        (ListScope::Related { own: true, .. }, OrgKind::ReceptionCentre) => {
            f.reception_centre = Some(actor.caller.org_id);
            if let Some(p) = q.participant_id {
                // A foreign participant answers like an unknown one.
                access::participant(app, actor, Action::HandoverPrepare, p).await?;
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
                return Err(AppError::field(
                    "participant_id",
                    "not_allowed",
                    "municipalities filter their inbox by state, date or unread",
                ));
            }
            f.municipality = Some(actor.caller.org_id);
        }
        _ => return Err(AppError::Forbidden),
    }
    let client = actor.client();
    let event = list_event(actor, client.as_deref(), "handover.list");
    let (page, _audited) = handovers::list_audited(&app.pool, &f, &event).await?;
    Ok(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    })
}

const CREATE: &str = "handover.create";

/// Starts a handover of a participant to the municipality in their registered settlement
/// decision. With a key, a retry gets the first answer again.
pub async fn create(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    idem: Idempotency,
    render: &(dyn Fn(&Disclosed<Handover>) -> AppResult<StoredAnswer> + Sync),
) -> AppResult<Outcome<Disclosed<Handover>>> {
    access::participant(app, actor, Action::HandoverPrepare, participant).await?;
    let target = Some(("participant", participant));
    if let Some(a) = idem.replay(&app.pool).await? {
        return replayed(&app.pool, actor, CREATE, target, a).await;
    }
    let settlement = handovers::get_settlement(&app.pool, participant)
        .await?
        .fact(|s| {
            s.as_ref()
                .map(|s| (s.data.municipality_id, s.data.settlement_date))
        })
        .ok_or_else(|| {
            AppError::Conflict(
                "Register the settlement decision (municipality and date) before starting a handover."
                    .into(),
            )
        })?;
    let id = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    if let Some(a) = idem.claim(&mut tx, Some(participant)).await? {
        drop(tx);
        return replayed(&app.pool, actor, CREATE, target, a).await;
    }
    let reference = handovers::next_reference(&mut *tx).await?;
    let n = NewHandover {
        id,
        reference: &reference,
        participant,
        reception_centre: actor.caller.org_id,
        municipality: settlement.0,
        settlement_date: Some(settlement.1),
        created_by: actor.caller.user_id,
    };
    handovers::create(&mut *tx, &n).await.map_err(|e| match e {
        DbError::Conflict(c) if c == "handovers_one_open" => AppError::Conflict(
            "The participant already has an open handover; update or cancel that one.".into(),
        ),
        other => other.into(),
    })?;
    handovers::record_created(&mut *tx, id, &history_actor(actor)).await?;
    let proof = audit_participant(&mut *tx, actor, CREATE, participant).await?;
    let h = handovers::get(&mut *tx, id).await?.open(&proof);
    let d = Disclosed::new(proof, Some(h.version), h);
    if idem.is_some() {
        idem.store(&mut tx, &render(&d)?).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done(d))
}

/// A handover with its history and openings.
#[derive(Debug)]
pub struct Detail {
    pub handover: Handover,
    /// Every state change, oldest first: who, when, why.
    pub history: Vec<Transition>,
    /// Every opening of the file by the municipality.
    pub openings: Vec<Opening>,
    /// Every file version sent, oldest first.
    pub versions: Vec<SentVersion>,
}

/// A handover with its history and openings (both sides).
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<Detail>> {
    let (h, head, _) = access::handover_sealed(app, actor, Action::HandoverRead, id).await?;
    let history = handovers::transitions(&app.pool, id).await?;
    let openings = handovers::openings(&app.pool, id).await?;
    let versions = handovers::sent_versions(&app.pool, id).await?;
    let proof = audit_participant(&app.pool, actor, "handover.read", head.participant_id).await?;
    let h = h.open(&proof);
    Ok(Disclosed::new(
        proof,
        Some(h.version),
        Detail {
            handover: h,
            history,
            openings,
            versions,
        },
    ))
}

async fn readiness_of(conn: &mut PgConnection, participant: Uuid) -> AppResult<Readiness> {
    // Readiness answers what is there, never what it says: facts of the sealed records.
    let has_mapping = participants::get_mapping(&mut *conn, participant)
        .await?
        .fact(Option::is_some);
    let skills_assessed = participants::get_norwegian(&mut *conn, participant)
        .await?
        .fact(|n| {
            n.as_ref().map_or(0, |n| {
                Skill::ALL
                    .iter()
                    .filter(|s| n.data.level(**s).is_some())
                    .count()
            })
        });
    let has_final_guidance = guidance::current_final(&mut *conn, participant)
        .await?
        .fact(Option::is_some);
    let has_consent_decision = !handovers::consents(&mut *conn, participant)
        .await?
        .fact(Vec::is_empty);
    let has_settlement_date = handovers::get_settlement(&mut *conn, participant)
        .await?
        .fact(Option::is_some);
    Ok(readiness(&ReadinessFacts {
        has_mapping,
        skills_assessed,
        has_final_guidance,
        has_consent_decision,
        has_settlement_date,
    }))
}

/// What is missing before the file can be sent without a stated reason.
pub async fn get_readiness(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<Readiness>> {
    let (h, _) = access::handover(app, actor, Action::HandoverPrepare, id).await?;
    let mut conn = app.pool.acquire().await?;
    let r = readiness_of(&mut conn, h.participant_id).await?;
    drop(conn);
    let proof = audit_participant(
        &app.pool,
        actor,
        "handover.readiness_read",
        h.participant_id,
    )
    .await?;
    Ok(Disclosed::new(proof, None, r))
}

fn section_hash(s: &FileSection) -> String {
    let bytes = serde_json::to_vec(s).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A section's data as stored in the file: canonical JSON (keys sorted, as `serde_json::Value`
/// writes them), so that the section's hash depends on its data alone.
fn to_json<T: Serialize>(v: &T) -> AppResult<Box<serde_json::value::RawValue>> {
    let tree = serde_json::to_value(v).map_err(AppError::internal)?;
    serde_json::value::to_raw_value(&tree).map_err(AppError::internal)
}

/// Loads everything the file holds, as it is now, and decides per section what is shared. The
/// copy into the file is a disclosure to the receiving municipality: `proof` is the audit row of
/// the send, written first in the same transaction.
async fn compose(
    conn: &mut PgConnection,
    participant: Uuid,
    proof: &Audited,
) -> AppResult<(Vec<FileSection>, Option<Settlement>, Option<String>)> {
    let record = participants::record(&mut *conn, participant)
        .await?
        .open(proof);
    let consents = handovers::consents(&mut *conn, participant)
        .await?
        .open(proof);
    let settlement = handovers::get_settlement(&mut *conn, participant)
        .await?
        .open(proof);
    let adaptation = handovers::get_adaptation(&mut *conn, participant)
        .await?
        .open(proof);
    let summary = guidance::current_final(&mut *conn, participant)
        .await?
        .open(proof);
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

/// Sends the file (first version) or an updated version. Freezes a snapshot: later changes at
/// the centre do not alter a sent version. `missing_reason` is required when the readiness
/// check finds something missing; the municipality sees it.
pub async fn send(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    missing_reason: Option<&str>,
) -> AppResult<Disclosed<Handover>> {
    let (h, _) = access::handover(app, actor, Action::HandoverPrepare, id).await?;
    let version = expected.check(h.version)?;
    let event = if h.state == HandoverState::Draft {
        HandoverEvent::Send
    } else {
        HandoverEvent::Update
    };
    if transition(h.state, event, Side::Centre).is_none() {
        return Err(AppError::Conflict(format!(
            "A handover in state `{}` cannot be sent.",
            h.state.as_str()
        )));
    }
    let mut tx = app.pool.begin().await?;
    let settled_to = handovers::get_settlement(&mut *tx, h.participant_id)
        .await?
        .fact(|s| s.as_ref().map(|s| s.data.municipality_id));
    if settled_to != Some(h.municipality_id) {
        return Err(AppError::Conflict(
            "The settlement decision now names another municipality; cancel this handover and start a new one.".into(),
        ));
    }
    let ready = readiness_of(&mut tx, h.participant_id).await?;
    let missing_reason = missing_reason.map(str::trim).filter(|r| !r.is_empty());
    if !ready.ready && missing_reason.is_none() {
        return Err(AppError::Validation(vec![handover_domain::FieldError {
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
        validate_reason("missing_reason", r)?;
    }
    let proof = audit_participant(
        &mut *tx,
        actor,
        &format!("handover.{}", event.as_str()),
        h.participant_id,
    )
    .await?;
    let (sections, settlement, display_name) = compose(&mut tx, h.participant_id, &proof).await?;
    let file_version = h.latest_file_version + 1;
    let snapshot = FileSnapshot {
        file_version,
        sent_by_name: actor.caller.name.clone(),
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
        actor,
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
            snapshot: &serde_json::to_value(&snapshot).map_err(AppError::internal)?,
            section_hashes: &serde_json::Value::Object(hashes),
            sent_by: actor.caller.user_id,
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
        app,
        &h,
        kind,
        &format!("v{file_version}"),
        &to,
        &h.reception_centre_name,
    )
    .await?;
    let h = handovers::get(&mut *tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(h.version), h))
}

/// A file version as opened, with what changed since the caller's side last opened it. Its
/// JSON is the JSON API's answer, field for field, and the JSON embedded in the PDF.
#[derive(Debug, serde::Serialize)]
pub struct OpenedFile {
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
    /// The version the municipality had opened before this request (`None`: first opening).
    pub previously_opened_version: Option<i32>,
    /// Sections that changed since that version.
    pub changed_sections: Vec<Section>,
    pub sections: Vec<FileSection>,
}

/// The whole file, latest version or the sent version asked for. When the municipality opens
/// it, the opening is recorded (the centre sees who opened it when) and the first opening marks
/// it received. Sections whose consent has been withdrawn since sending are withheld, in every
/// version.
pub async fn file(
    app: &App,
    actor: &Actor,
    id: Uuid,
    version: Option<i32>,
) -> AppResult<Disclosed<OpenedFile>> {
    actor.require(Action::HandoverRead)?;
    if version.is_some_and(|v| v < 1) {
        return Err(AppError::field(
            "version",
            "out_of_range",
            "a file version is a whole number from 1",
        ));
    }
    // One query reads the handover, its file and the withdrawn consents; nothing of it leaves
    // this function unless the caller may read the handover.
    let bundle = app
        .file_bundles()
        .ask((id, version))
        .await?
        .ok_or(AppError::NotFound)?;
    let sealed_handover = bundle.handover;
    let h = sealed_handover.fact(|h| HandoverHead::from(h));
    let relation = access::handover_relation(actor, &h);
    actor.check(Action::HandoverRead, relation)?;
    let recipient = relation == Relation::Recipient;
    if recipient && matches!(h.state, HandoverState::Cancelled | HandoverState::Declined) {
        // A municipality that declined the handover, or whose handover was cancelled, keeps the
        // history but no longer the personal data.
        return Err(AppError::Gone(format!(
            "The handover was {}; its file is no longer available to the municipality.",
            h.state.as_str()
        )));
    }
    let previously = h.recipient_opened_version;
    let sealed = match bundle.file {
        Some(f) => f,
        // A version that was never sent.
        None if version.is_some() && h.latest_file_version > 0 => return Err(AppError::NotFound),
        None => {
            return Err(AppError::Conflict(
                "The handover has not been sent yet; there is no file.".into(),
            ));
        }
    };
    let file_version = sealed.fact(|(f, _)| f.file_version);
    let client = actor.client();
    let event = crate::audit::event(
        actor,
        client.as_deref(),
        "handover.file_read",
        Some(("participant", h.participant_id)),
        "success",
    );
    let opener = history_actor(actor);
    let h = if recipient && h.state == HandoverState::Sent {
        // The first opening also marks it received: a transaction, once per handover.
        let mut tx = app.pool.begin().await?;
        let proof =
            handovers::record_file_read(&mut *tx, id, file_version, Some(&opener), &event).await?;
        // A concurrent first opening may have done so already.
        let received = Move {
            from: h.state,
            to: HandoverState::Received,
            event: HandoverEvent::Receive,
        };
        let _ = handovers::apply(&mut tx, id, h.version, received, &opener, None).await?;
        let h = handovers::get(&mut *tx, id).await?.open(&proof);
        tx.commit().await?;
        (h, proof)
    } else {
        // Every later reading: one statement, shared with the readings of concurrent requests
        // and committed before this answer goes on.
        let read = handovers::FileRead::new(id, file_version, recipient.then_some(&opener), &event);
        let proof = app.file_reads().ask(read).await?;
        let mut h = sealed_handover.open(&proof);
        if recipient {
            h.recipient_opened_version = h.recipient_opened_version.max(file_version);
            h.unread = h.latest_file_version > h.recipient_opened_version;
        }
        (h, proof)
    };
    let (h, proof) = h;
    let (stored, previous_hashes) = sealed.open(&proof);
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
    let opened = OpenedFile {
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
    };
    Ok(Disclosed::new(proof, None, opened))
}

/// A file version as an archival PDF/A-3b document (`handover-pdf`) in `lang`, with the same
/// JSON inside (or PDF/A-2b without it). Downloading it is a reading of the file like any other: the same access rule,
/// the same opening and audit row, committed before the document is made.
pub async fn file_pdf(
    app: &App,
    actor: &Actor,
    id: Uuid,
    version: Option<i32>,
    lang: handover_i18n::Lang,
    profile: handover_pdf::Profile,
) -> AppResult<Disclosed<FilePdf>> {
    let generated_at = app.now();
    file(app, actor, id, version)
        .await?
        .render(move |f| {
            let bytes = render_pdf(&f, lang, profile, generated_at)?;
            Ok(FilePdf {
                name: format!("{}-v{}.pdf", f.handover.reference, f.file_version),
                bytes,
            })
        })
        .await
}

/// The PDF of a file version and the name to save it under.
pub struct FilePdf {
    pub name: String,
    pub bytes: Vec<u8>,
}

fn render_pdf(
    f: &OpenedFile,
    lang: handover_i18n::Lang,
    profile: handover_pdf::Profile,
    generated_at: OffsetDateTime,
) -> AppResult<Vec<u8>> {
    let m = lang.messages();
    let json = serde_json::to_vec_pretty(f).map_err(AppError::internal)?;
    let missing: Vec<String> = f
        .missing
        .iter()
        .map(|x| {
            let key = format!("readiness.{}", x.item);
            if m.has(&key) {
                m.t(&key).to_owned()
            } else {
                x.message.clone()
            }
        })
        .collect();
    let doc = handover_pdf::FileDocument {
        reference: &f.handover.reference,
        file_version: f.file_version,
        sent_at: f.sent_at,
        sent_by_name: &f.sent_by_name,
        reception_centre_name: &f.reception_centre_name,
        municipality_name: &f.municipality_name,
        settlement_date: f.settlement.as_ref().map(|s| s.data.settlement_date),
        missing: &missing,
        missing_reason: f.missing_reason.as_deref(),
        sections: &f.sections,
        generated_at,
        json: &json,
        profile,
    };
    handover_pdf::render(&doc, lang).map_err(AppError::internal)
}

/// Readings of files waiting for their audit rows and openings, written by one statement per
/// batch (`coalesce`).
pub type FileReads = crate::coalesce::Coalescer<handovers::FileRead, crate::Audited>;

pub(crate) fn start_file_reads(pool: handover_db::PgPool) -> FileReads {
    let budget = pool.options().get_acquire_timeout();
    crate::coalesce::Coalescer::start(4, 128, budget, move |reads: Vec<handovers::FileRead>| {
        let pool = pool.clone();
        async move {
            crate::coalesce::batch_or_each(reads, |some: Vec<handovers::FileRead>| {
                let pool = pool.clone();
                async move { handovers::record_file_reads(&pool, &some).await }
            })
            .await
        }
    })
}

type Bundle = handovers::FileBundle<FileSnapshot>;

/// File fetches waiting for what they read (`handovers::file_bundles`), one query per batch.
pub type FileBundles = crate::coalesce::Coalescer<(Uuid, Option<i32>), Option<Bundle>>;

pub(crate) fn start_file_bundles(pool: handover_db::PgPool) -> FileBundles {
    let budget = pool.options().get_acquire_timeout();
    crate::coalesce::Coalescer::start(4, 128, budget, move |wanted: Vec<(Uuid, Option<i32>)>| {
        let pool = pool.clone();
        async move {
            crate::coalesce::batch_or_each(wanted, |some: Vec<(Uuid, Option<i32>)>| {
                let pool = pool.clone();
                async move { handovers::file_bundles::<FileSnapshot>(&pool, &some).await }
            })
            .await
        }
    })
}

/// A state change asked of a handover: who may ask it, the event, its audit action and the
/// reason or note given, with the field that names it in a validation answer.
struct Asked<'a> {
    action: Action,
    event: HandoverEvent,
    audit: &'static str,
    reason: Option<(&'static str, &'a str)>,
}

/// The part every state change shares: the access decision, the version, the reason, then in
/// one transaction the move and its audit row. The caller adds its own rows (notices, the
/// conversation called off) to `tx` and ends with [`finish_move`].
async fn begin_move(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    asked: &Asked<'_>,
) -> AppResult<(
    sqlx::Transaction<'static, sqlx::Postgres>,
    HandoverHead,
    Audited,
)> {
    let (h, _) = access::handover(app, actor, asked.action, id).await?;
    let version = expected.check(h.version)?;
    if let Some((field, reason)) = asked.reason {
        validate_reason(field, reason)?;
    }
    let mut tx = app.pool.begin().await?;
    let reason = asked.reason.map(|(_, r)| r.trim());
    step(&mut tx, actor, &h, version, asked.event, reason).await?;
    let proof = audit_participant(&mut *tx, actor, asked.audit, h.participant_id).await?;
    Ok((tx, h, proof))
}

/// Commits a state change and answers with the handover as it is now.
async fn finish_move(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    id: Uuid,
    proof: Audited,
) -> AppResult<Disclosed<Handover>> {
    let h = handovers::get(&mut *tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(h.version), h))
}

/// Cancels the handover (the centre), with a reason the municipality sees.
pub async fn cancel(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    reason: &str,
) -> AppResult<Disclosed<Handover>> {
    let asked = Asked {
        action: Action::HandoverPrepare,
        event: HandoverEvent::Cancel,
        audit: "handover.cancel",
        reason: Some(("reason", reason)),
    };
    let (mut tx, h, proof) = begin_move(app, actor, id, expected, &asked).await?;
    close_live_conversation(&mut tx, app, &h, reason.trim(), &proof).await?;
    if h.latest_file_version > 0 {
        let to = municipality_addresses(&mut tx, &h).await?;
        notify(
            &mut tx,
            app,
            &h,
            HandoverNotice::Cancelled,
            "cancelled",
            &to,
            &h.reception_centre_name,
        )
        .await?;
    }
    finish_move(tx, id, proof).await
}

/// Accepts the handover (the municipality, after opening the file).
pub async fn accept(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
) -> AppResult<Disclosed<Handover>> {
    let asked = Asked {
        action: Action::HandoverRespond,
        event: HandoverEvent::Accept,
        audit: "handover.accept",
        reason: None,
    };
    let (tx, _, proof) = begin_move(app, actor, id, expected, &asked).await?;
    finish_move(tx, id, proof).await
}

/// Declines the handover (the municipality), with a reason such as "wrong municipality".
pub async fn decline(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    reason: &str,
) -> AppResult<Disclosed<Handover>> {
    let asked = Asked {
        action: Action::HandoverRespond,
        event: HandoverEvent::Decline,
        audit: "handover.decline",
        reason: Some(("reason", reason)),
    };
    let (mut tx, h, proof) = begin_move(app, actor, id, expected, &asked).await?;
    close_live_conversation(&mut tx, app, &h, reason.trim(), &proof).await?;
    let to = handovers::staff_emails(&mut *tx, h.reception_centre_id, "centre_staff").await?;
    notify(
        &mut tx,
        app,
        &h,
        HandoverNotice::Declined,
        "declined",
        &to,
        &h.municipality_name,
    )
    .await?;
    finish_move(tx, id, proof).await
}

/// Marks the handover completed without a recorded transfer conversation (e.g. one held outside
/// the service). Either side.
pub async fn complete(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    note: Option<&str>,
) -> AppResult<Disclosed<Handover>> {
    let asked = Asked {
        action: if side(actor) == Side::Municipality {
            Action::HandoverRespond
        } else {
            Action::HandoverPrepare
        },
        event: HandoverEvent::Complete,
        audit: "handover.complete",
        reason: note.map(|n| ("note", n)),
    };
    let (mut tx, h, proof) = begin_move(app, actor, id, expected, &asked).await?;
    close_live_conversation(
        &mut tx,
        app,
        &h,
        "Overføringen er fullført / the handover is completed",
        &proof,
    )
    .await?;
    finish_move(tx, id, proof).await
}

/// Calls off a proposed or confirmed conversation of a handover that is being closed (cancelled,
/// declined or completed): it is cancelled in every calendar (METHOD:CANCEL).
async fn close_live_conversation(
    tx: &mut PgConnection,
    app: &App,
    h: &HandoverHead,
    reason: &str,
    proof: &Audited,
) -> AppResult<()> {
    use handover_db::conversations;
    use handover_domain::conversation::ConversationState;
    let Some(cid) = conversations::live_for_handover(&mut *tx, h.id).await? else {
        return Ok(());
    };
    let (version, state) = conversations::get(tx, cid)
        .await?
        .fact(|c| (c.version, c.state));
    if conversations::cancel(tx, cid, version, state, reason).await?
        && state == ConversationState::Confirmed
    {
        // The invitations say when and where, never who the participant is; the closing
        // action's audit row is `proof`, written in this transaction.
        let c = conversations::get(tx, cid).await?.open(proof);
        crate::invitations::send(
            tx,
            app,
            &c,
            h.participant_id,
            handover_mail::calendar::Method::Cancel,
        )
        .await?;
    }
    Ok(())
}

/// Queues a notice to every address, in the caller's transaction, linking the handover.
pub(crate) async fn notify(
    tx: &mut PgConnection,
    app: &App,
    h: &HandoverHead,
    kind: HandoverNotice,
    key: &str,
    to: &[String],
    from_org: &str,
) -> AppResult<()> {
    let path = format!("/handovers/{}", h.id);
    notify_at(tx, app, h, kind, key, to, from_org, &path).await
}

/// [`notify`] with a link to `path`: the page the addressees can open.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify_at(
    tx: &mut PgConnection,
    app: &App,
    h: &HandoverHead,
    kind: HandoverNotice,
    key: &str,
    to: &[String],
    from_org: &str,
    path: &str,
) -> AppResult<()> {
    let link = app.link(path);
    let n = handover_notice(kind, &h.reference, &link, from_org);
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
async fn municipality_addresses(tx: &mut PgConnection, h: &HandoverHead) -> AppResult<Vec<String>> {
    recipient_addresses(tx, h.municipality_id, h.participant_id).await
}

/// The addresses a handover's notices go to: the municipality's introduction-programme staff
/// and the settlement contacts the centre recorded for the participant.
pub(crate) async fn recipient_addresses(
    tx: &mut PgConnection,
    municipality: OrgId,
    participant: Uuid,
) -> AppResult<Vec<String>> {
    let mut to = handovers::staff_emails(&mut *tx, municipality, "municipality_staff").await?;
    // The addresses of the municipality's contacts, for the notice (which carries no data).
    let contacts = handovers::get_settlement(&mut *tx, participant)
        .await?
        .fact(|s| {
            s.iter()
                .flat_map(|s| s.data.contacts.iter())
                .filter_map(|c| c.email.as_deref())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        });
    to.extend(contacts);
    to.sort();
    to.dedup();
    Ok(to)
}
