//! The pages e-mails link to: a handover and a transfer conversation. A link opened without a
//! session goes through sign-in and back here. Also the list of handovers (the municipality's
//! inbox, the centre's handovers by state), the file, and the municipality's answer; all under
//! the API's access rules and audit rows.

use super::{NoticeQuery, PageResult, page, page_with, pager, parse_id, see_other, status_for};
use crate::WebState;
use crate::error::WebError;
use crate::print::{PrintStyle, StyleSource};
use crate::session::{Posted, Staff, encode_component};
use crate::view::{FormErrors, Opt, Shell, code_field, date_field, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use handover_app::AppError;
use handover_app::handovers::{Detail, HandoverQuery, OpenedFile};
use handover_app::precondition::Precondition;
use handover_app::{conversations, handovers};
use handover_domain::conversation::Conversation;
use handover_domain::handover::{Handover, HandoverState};
use handover_domain::page::Paging;
use handover_domain::{Page, Role};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    shell: Shell,
    d: Detail,
    /// The side that may open the file: the municipality, and the centre that sent it.
    has_file: bool,
    /// Centre staff of the sending centre, while the handover is open: prepare and send.
    may_prepare: bool,
    /// The handover's transfer conversations, oldest first.
    conversations: Vec<Conversation>,
    /// The caller may propose a conversation now.
    may_propose: bool,
    /// What the municipality reported after settlement, if it has.
    outcome: Option<handover_domain::handover::HandoverOutcome>,
    /// The caller's municipality may report (or correct) the outcome now.
    may_report: bool,
}

impl HandoverPage {
    /// Who at the municipality opened a version, and when.
    fn opened(&self, version: &i32) -> String {
        let list: Vec<String> = self
            .d
            .openings
            .iter()
            .filter(|o| o.file_version == *version)
            .map(|o| format!("{}, {}", o.user_name, self.shell.datetime(o.at)))
            .collect();
        if list.is_empty() {
            self.shell.t("handover.never_opened").to_owned()
        } else {
            list.join("; ")
        }
    }
}

pub async fn handover(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let d = handovers::get(&state.app, &staff, id).await?.body;
    let title = format!(
        "{} {}",
        staff.lang.messages().t("handover.title"),
        d.handover.reference
    );
    let has_file = d.handover.latest_file_version > 0
        && !(staff.caller.role == Role::MunicipalityStaff
            && matches!(
                d.handover.state,
                HandoverState::Cancelled | HandoverState::Declined
            ));
    // The conversations are read under their own rule (the serving career centre takes part);
    // a caller without it sees the handover without them.
    let list = match conversations::for_handover(&state.app, &staff, id, Paging::default()).await {
        Ok(list) => list.body.items,
        Err(AppError::Forbidden | AppError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let head = handover_domain::handover::HandoverHead::from(&d.handover);
    let outcome = super::outcome::for_page(&state, &staff, id).await?;
    page(&HandoverPage {
        outcome,
        may_report: super::outcome::may_report(&staff, head.municipality_id, head.state),
        may_propose: super::conversations::may_propose(&staff, &head, &list),
        conversations: list,
        shell: Shell::staff(&staff, &format!("/handovers/{id}"), title).with_notice(q.key()),
        may_prepare: staff.caller.role == Role::CentreStaff
            && d.handover.reception_centre_id == staff.caller.org_id
            && d.handover.state.is_open(),
        d,
        has_file,
    })
}

#[derive(Template)]
#[template(path = "handovers.html")]
struct ListPage {
    shell: Shell,
    errors: FormErrors,
    q: ListQuery,
    states: Vec<Opt>,
    page: Page<Handover>,
    prev: Option<String>,
    next: Option<String>,
    municipality: bool,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    unread: String,
    #[serde(default)]
    settlement_from: String,
    #[serde(default)]
    settlement_to: String,
    #[serde(default)]
    offset: Option<i64>,
}

const PAGE_SIZE: i64 = 25;

/// Handovers: the municipality's inbox (newest first, unread only on request), the centre's
/// handovers by state; the same use case as the API's list, with its audit row.
pub async fn list(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let st = match q.state.as_str() {
        "" => None,
        s => code_field::<HandoverState>(&mut errors, m, "state", s),
    };
    let from = date_field(&mut errors, m, "settlement_from", &q.settlement_from, false);
    let to = date_field(&mut errors, m, "settlement_to", &q.settlement_to, false);
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let municipality = staff.caller.role == Role::MunicipalityStaff;
    let found = if errors.is_empty() {
        handovers::list(
            &state.app,
            &staff,
            HandoverQuery {
                state: st,
                settlement_from: from,
                settlement_to: to,
                unread: (q.unread == "1").then_some(true),
                participant_id: None,
                paging: Paging {
                    limit: Some(PAGE_SIZE),
                    offset: Some(offset),
                },
            },
        )
        .await?
    } else {
        Page {
            items: Vec::new(),
            total: 0,
            limit: PAGE_SIZE,
            offset: 0,
        }
    };
    let link = |o: i64| {
        format!(
            "/handovers?state={}&unread={}&settlement_from={}&settlement_to={}&offset={o}",
            encode_component(&q.state),
            encode_component(&q.unread),
            encode_component(&q.settlement_from),
            encode_component(&q.settlement_to),
        )
    };
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, link);
    let states = options(
        m,
        "handover_state.",
        HandoverState::ALL.iter().map(|s| s.as_str()),
        &q.state,
        Some("handovers.any_state"),
    );
    let title = m.t(if municipality {
        "handovers.inbox"
    } else {
        "handovers.title"
    });
    let status = status_for(&errors);
    page_with(
        status,
        &ListPage {
            shell: Shell::staff(&staff, "/handovers", title.to_owned()),
            errors,
            q,
            states,
            page: found,
            prev,
            next,
            municipality,
        },
    )
}

/// A file section as the page shows it.
struct SectionView {
    title: String,
    status: String,
    legal_basis: Option<String>,
    basis_sources: Vec<handover_domain::handover::LegalSource>,
    basis_open_question: Option<String>,
    purpose: String,
    withheld_reason: Option<String>,
    changed: bool,
    html: String,
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    shell: Shell,
    id: Uuid,
    f: OpenedFile,
    sections: Vec<SectionView>,
    may_respond: bool,
    errors: FormErrors,
    reason: String,
    print_style: PrintStyle,
}

async fn file_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    errors: FormErrors,
    reason: String,
) -> PageResult {
    let m = staff.lang.messages();
    let f = match handovers::file(&state.app, staff, id, None).await {
        Ok(f) => f.body,
        Err(AppError::Conflict(_)) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let sections = f
        .sections
        .iter()
        .map(|s| SectionView {
            title: m
                .t(&format!("file_section.{}", s.section.as_str()))
                .to_owned(),
            status: s.status.clone(),
            legal_basis: s.legal_basis.clone(),
            basis_sources: s.legal_basis_sources.clone(),
            basis_open_question: s.legal_basis_open_question.clone(),
            purpose: s.purpose.clone(),
            withheld_reason: s.withheld_reason.clone(),
            changed: s.changed_since_last_opened,
            html: s
                .content_value()
                .map(|c| crate::content::render(m, &c))
                .unwrap_or_default(),
        })
        .collect();
    let may_respond = staff.caller.role == Role::MunicipalityStaff
        && matches!(
            f.handover.state,
            HandoverState::Sent | HandoverState::Received
        );
    let title = format!("{} {}", m.t("file.title"), f.handover.reference);
    let status = status_for(&errors);
    let print_style = PrintStyle::file(
        m,
        &f.handover.reference,
        f.file_version,
        &crate::view::date(&handover_domain::oslo::to_oslo(f.sent_at).date()),
    );
    let source = StyleSource(print_style.source.clone());
    let mut res = page_with(
        status,
        &FilePage {
            shell: Shell::staff(staff, &format!("/handovers/{id}/file"), title),
            id,
            f,
            sections,
            may_respond,
            errors,
            reason,
            print_style,
        },
    )?;
    res.extensions_mut().insert(source);
    Ok(res)
}

/// The handover file, latest version: opening it is the audited read the API makes (and the
/// municipality's first opening marks the handover received).
pub async fn file(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    file_page(&state, &staff, id, FormErrors::default(), String::new()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct PdfQuery {
    #[serde(default)]
    version: String,
}

/// The file version as the archival PDF/A document, in the user's language: the same audited
/// reading as opening the file page.
pub async fn file_pdf(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PdfQuery>,
) -> PageResult {
    use axum::http::header;
    use axum::response::IntoResponse;
    let id = parse_id(&id)?;
    let version = match q.version.trim() {
        "" => None,
        v => Some(v.parse::<i32>().map_err(|_| WebError::NotFound)?),
    };
    let profile = handover_pdf::Profile::default();
    let pdf = match handovers::file_pdf(&state.app, &staff, id, version, staff.lang, profile).await
    {
        Ok(p) => p.body,
        Err(AppError::Conflict(_) | AppError::Validation(_)) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", pdf.name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf.bytes,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RespondForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

pub async fn accept(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<RespondForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    handovers::accept(&state.app, &staff, id, Precondition::version(version)).await?;
    see_other(&format!("/handovers/{id}?done=accepted"))
}

pub async fn decline(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<RespondForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    match handovers::decline(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        &form.reason,
    )
    .await
    {
        Ok(_) => see_other(&format!("/handovers/{id}?done=declined")),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_app(m, &errs, &["reason"]);
            file_page(&state, &staff, id, errors, form.reason).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Starts a handover of a participant to the municipality of their settlement decision. A
/// second click finds the open handover and goes there.
pub async fn start(
    State(state): State<WebState>,
    Path(participant): Path<String>,
    Posted { staff, .. }: Posted<super::auth::Empty>,
) -> PageResult {
    let participant = parse_id(&participant)?;
    let no_key = |_: &handover_app::Disclosed<Handover>| {
        Err(AppError::internal("a web form carries no idempotency key"))
    };
    match handovers::create(
        &state.app,
        &staff,
        participant,
        handover_app::Idempotency::none(),
        &no_key,
    )
    .await
    {
        Ok(handover_app::Outcome::Done(d)) => see_other(&format!("/handovers/{}", d.body.id)),
        Ok(handover_app::Outcome::Replayed(_)) => Err(WebError::Conflict),
        Err(AppError::Conflict(_)) => {
            let open = handovers::list(
                &state.app,
                &staff,
                HandoverQuery {
                    participant_id: Some(participant),
                    ..Default::default()
                },
            )
            .await?
            .items
            .into_iter()
            .find(|h| h.state.is_open());
            match open {
                Some(h) => see_other(&format!("/handovers/{}", h.id)),
                // No open one: the settlement decision is what is missing.
                None => see_other(&format!("/participants/{participant}/settlement")),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the form is that fills a missing item of the readiness check.
fn form_for(item: &str, participant: Uuid) -> Option<String> {
    let part = match item {
        "competence_mapping" => "mapping",
        "norwegian_levels" => "norwegian",
        "consent_decision" => "consents",
        "settlement_date" => "settlement",
        _ => return None,
    };
    Some(format!("/participants/{participant}/{part}"))
}

/// A missing item of the checklist, with the form that fills it.
struct Missing {
    text: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "send.html")]
struct SendPage {
    shell: Shell,
    id: Uuid,
    h: Handover,
    missing: Vec<Missing>,
    errors: FormErrors,
    reason: String,
    cancel_reason: String,
}

async fn send_page(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    errors: FormErrors,
    reason: String,
    cancel_reason: String,
) -> PageResult {
    let m = staff.lang.messages();
    let d = handovers::get(&state.app, staff, id).await?.body;
    let readiness = handovers::get_readiness(&state.app, staff, id).await?.body;
    let missing = readiness
        .missing
        .iter()
        .map(|x| Missing {
            text: {
                let k = format!("readiness.{}", x.item);
                if m.has(&k) {
                    m.t(&k).to_owned()
                } else {
                    x.message.clone()
                }
            },
            href: form_for(&x.item, d.handover.participant_id),
        })
        .collect();
    let title = format!("{} {}", m.t("send.title"), d.handover.reference);
    let status = status_for(&errors);
    page_with(
        status,
        &SendPage {
            shell: Shell::staff(staff, &format!("/handovers/{id}/send"), title),
            id,
            h: d.handover,
            missing,
            errors,
            reason,
            cancel_reason,
        },
    )
}

/// The readiness checklist, and the forms that send (or send anyway, saying why) and cancel.
pub async fn send_form(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    send_page(
        &state,
        &staff,
        id,
        FormErrors::default(),
        String::new(),
        String::new(),
    )
    .await
}

pub async fn send(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<RespondForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    let reason = super::opt(&form.reason);
    match handovers::send(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        reason.as_deref(),
    )
    .await
    {
        Ok(_) => see_other(&format!("/handovers/{id}?done=sent")),
        Err(AppError::Validation(errs)) => {
            let errors = FormErrors::from_app(m, &errs, &["reason"]);
            send_page(&state, &staff, id, errors, form.reason, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn cancel(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<RespondForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    match handovers::cancel(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        &form.reason,
    )
    .await
    {
        Ok(_) => see_other(&format!("/handovers/{id}?done=cancelled")),
        Err(AppError::Validation(errs)) => {
            let mut errors = FormErrors::default();
            for e in FormErrors::from_app(m, &errs, &["cancel_reason"]).items {
                errors.add("cancel_reason", e.message);
            }
            send_page(&state, &staff, id, errors, String::new(), form.reason).await
        }
        Err(e) => Err(e.into()),
    }
}
