//! What the centre records before a handover: the settlement decision, the participant's
//! consent per section (and its withdrawal), and adaptation needs. The use cases are the API's
//! (`documents::put`, `consent::create`, `consent::withdraw`); each read is audited there.

use super::participants::form_errors;
use super::{NoticeQuery, PageResult, opt, page, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Opt, Shell, code_field, date_field, iso_date, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::consent;
use handover_app::documents;
use handover_app::orgs::{self, OrgQuery};
use handover_app::precondition::Precondition;
use handover_domain::handover::{
    AdaptationCategory, AdaptationNeed, AdaptationNeedsInput, Consent, ConsentInput, ConsentMethod,
    Contact, Section, SettlementInput,
};
use handover_domain::page::Paging;
use handover_domain::{Action, OrgId, OrgKind};
use std::collections::HashMap;
use uuid::Uuid;

type Form = HashMap<String, String>;

fn field<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default().trim()
}

/// How many contact rows and adaptation rows the forms offer.
const CONTACT_ROWS: usize = 2;
const NEED_ROWS: usize = 3;

#[derive(Template)]
#[template(path = "settlement.html")]
struct SettlementPage {
    shell: Shell,
    errors: FormErrors,
    id: Uuid,
    form: Form,
    municipalities: Vec<Opt>,
    version: Option<i32>,
    rows: Vec<usize>,
    conflict: bool,
    theirs: HashMap<String, String>,
}

impl SettlementPage {
    fn theirs_for(&self, name: &str) -> Option<&str> {
        self.theirs.get(name).map(String::as_str)
    }

    fn theirs_row(&self, name: &str, i: &usize) -> Option<&str> {
        self.theirs_for(&format!("{name}_{i}"))
    }

    fn v(&self, name: &str) -> &str {
        field(&self.form, name)
    }

    fn row(&self, name: &str, i: &usize) -> String {
        field(&self.form, &format!("{name}_{i}")).to_owned()
    }
}

async fn municipality_options(
    state: &WebState,
    staff: &Staff,
    selected: &str,
) -> Result<Vec<Opt>, WebError> {
    let m = staff.lang.messages();
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page = orgs::list(
            &state.app,
            staff,
            OrgQuery {
                kind: Some(OrgKind::Municipality),
                active: Some(true),
                q: None,
                paging: Paging {
                    limit: Some(200),
                    offset: Some(offset),
                },
            },
        )
        .await?;
        let n = page.items.len() as i64;
        all.extend(page.items);
        offset += n;
        if n == 0 || offset >= page.total {
            break;
        }
    }
    let mut out = vec![Opt {
        value: String::new(),
        text: m.t("form.choose").to_owned(),
        selected: selected.is_empty(),
    }];
    out.extend(all.into_iter().map(|o| Opt {
        selected: o.id.0.to_string() == selected,
        value: o.id.0.to_string(),
        text: match o.municipality_number {
            Some(n) => format!("{} ({n})", o.name),
            None => o.name,
        },
    }));
    Ok(out)
}

async fn settlement_view(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    form: Form,
    version: Option<i32>,
    errors: FormErrors,
) -> Result<SettlementPage, WebError> {
    let m = staff.lang.messages();
    let municipalities =
        municipality_options(state, staff, field(&form, "municipality_id")).await?;
    Ok(SettlementPage {
        shell: Shell::staff(
            staff,
            &format!("/participants/{id}/settlement"),
            m.t("settlement.title").to_owned(),
        ),
        errors: errors.labelled(m, "settlement."),
        id,
        form,
        municipalities,
        version,
        rows: (0..CONTACT_ROWS).collect(),
        conflict: false,
        theirs: HashMap::new(),
    })
}

fn settlement_form(s: &SettlementInput) -> Form {
    let mut f = Form::from([
        ("municipality_id".into(), s.municipality_id.0.to_string()),
        ("settlement_date".into(), iso_date(&s.settlement_date)),
    ]);
    for (i, c) in s.contacts.iter().take(CONTACT_ROWS).enumerate() {
        f.insert(format!("contact_name_{i}"), c.name.clone());
        f.insert(
            format!("contact_email_{i}"),
            c.email.clone().unwrap_or_default(),
        );
        f.insert(
            format!("contact_phone_{i}"),
            c.phone.clone().unwrap_or_default(),
        );
        f.insert(
            format!("contact_role_{i}"),
            c.role.clone().unwrap_or_default(),
        );
    }
    f
}

/// The current document, or `None` when none is recorded yet.
async fn current<D: documents::Kept>(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
) -> Result<Option<handover_app::Disclosed<D::Stored>>, WebError> {
    match documents::get::<D>(&state.app, staff, id).await {
        Ok(d) => Ok(Some(d)),
        Err(AppError::NotFound) => {
            // No document yet, or no such participant for this caller: the access check
            // tells the two apart without revealing anything.
            handover_app::access::participant(&state.app, staff, D::WRITE, id).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn settlement_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::HandoverPrepare)?;
    let cur = current::<SettlementInput>(&state, &staff, id).await?;
    let (form, version) = match cur {
        Some(d) => (settlement_form(&d.body.data), d.version),
        None => (Form::new(), None),
    };
    page(&settlement_view(&state, &staff, id, form, version, FormErrors::default()).await?)
}

fn settlement_input(f: &Form, m: &Messages) -> Result<SettlementInput, FormErrors> {
    let mut e = FormErrors::default();
    let municipality: Option<Uuid> =
        code_field(&mut e, m, "municipality_id", field(f, "municipality_id"));
    let date = date_field(
        &mut e,
        m,
        "settlement_date",
        field(f, "settlement_date"),
        true,
    );
    let mut contacts = Vec::new();
    for i in 0..CONTACT_ROWS {
        let name = field(f, &format!("contact_name_{i}"));
        let email = opt(field(f, &format!("contact_email_{i}")));
        let phone = opt(field(f, &format!("contact_phone_{i}")));
        let role = opt(field(f, &format!("contact_role_{i}")));
        if name.is_empty() {
            if email.is_some() || phone.is_some() || role.is_some() {
                e.add(
                    &format!("contact_name_{i}"),
                    m.t("validation.required").to_owned(),
                );
            }
            continue;
        }
        contacts.push(Contact {
            name: name.to_owned(),
            email,
            phone,
            role,
        });
    }
    match (municipality, date) {
        (Some(mu), Some(d)) if e.is_empty() => Ok(SettlementInput {
            municipality_id: OrgId(mu),
            settlement_date: d,
            contacts,
        }),
        _ => Err(e),
    }
}

pub async fn settlement_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version = field(&form, "version").parse::<i32>().ok();
    let expected = version.map_or(Precondition::Missing, Precondition::version);
    let input = match settlement_input(&form, m) {
        Ok(i) => i,
        Err(errors) => {
            let p = settlement_view(&state, &staff, id, form, version, errors).await?;
            return page_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    match documents::put::<SettlementInput>(&state.app, &staff, id, expected, input).await {
        Ok(_) => see_other(&format!("/participants/{id}?done=saved#prep")),
        Err(AppError::PreconditionFailed) => {
            let cur = current::<SettlementInput>(&state, &staff, id).await?;
            let version = cur.as_ref().and_then(|d| d.version);
            let saved = cur
                .map(|d| settlement_form(&d.body.data))
                .unwrap_or_default();
            let theirs = super::documents::differences(&form, &saved);
            let mut p =
                settlement_view(&state, &staff, id, form, version, FormErrors::default()).await?;
            p.theirs = theirs;
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(e) => {
            let errors = form_errors(
                m,
                e,
                &[
                    "municipality_id",
                    "settlement_date",
                    "contact_name_0",
                    "contacts",
                ],
            )?;
            let p = settlement_view(&state, &staff, id, form, version, errors).await?;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

#[derive(Template)]
#[template(path = "consents.html")]
struct ConsentsPage {
    shell: Shell,
    errors: FormErrors,
    id: Uuid,
    consents: Vec<Consent>,
    sections: Vec<Opt>,
    methods: Vec<Opt>,
    form: Form,
}

impl ConsentsPage {
    fn v(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

async fn consents_view(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
    form: Form,
    chosen: &[String],
    errors: FormErrors,
) -> Result<ConsentsPage, WebError> {
    let m = staff.lang.messages();
    let list = consent::list(
        &state.app,
        staff,
        id,
        Paging {
            limit: Some(200),
            offset: None,
        },
    )
    .await?
    .body
    .items;
    let sections = Section::ALL
        .iter()
        .map(|s| Opt {
            value: s.as_str().to_owned(),
            text: m.t(&format!("file_section.{}", s.as_str())).to_owned(),
            selected: chosen.iter().any(|c| c == s.as_str()),
        })
        .collect();
    let methods = options(
        m,
        "consent_method.",
        ConsentMethod::ALL.iter().map(|c| c.as_str()),
        field(&form, "method"),
        Some("form.choose"),
    );
    Ok(ConsentsPage {
        shell: Shell::staff(
            staff,
            &format!("/participants/{id}/consents"),
            m.t("consent.title").to_owned(),
        ),
        errors: errors.labelled(m, "consent."),
        id,
        consents: list,
        sections,
        methods,
        form,
    })
}

pub async fn consents_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let mut p = consents_view(&state, &staff, id, Form::new(), &[], FormErrors::default()).await?;
    p.shell = p.shell.with_notice(q.key());
    page(&p)
}

pub async fn consent_create(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "sections")
        .map(|(_, v)| v.clone())
        .collect();
    let single: Form = form.into_iter().filter(|(k, _)| k != "sections").collect();
    let mut errors = FormErrors::default();
    let sections: Vec<Section> = chosen.iter().filter_map(|s| s.parse().ok()).collect();
    if sections.len() != chosen.len() {
        return Err(WebError::BadForm);
    }
    let given_on = date_field(&mut errors, m, "given_on", field(&single, "given_on"), true);
    let method: Option<ConsentMethod> =
        code_field(&mut errors, m, "method", field(&single, "method"));
    let fields = [
        "sections",
        "given_on",
        "method",
        "language",
        "interpreter_present",
    ];
    if let (Some(given_on), Some(method), true) = (given_on, method, errors.is_empty()) {
        let input = ConsentInput {
            sections,
            given_on,
            method,
            language: field(&single, "language").to_lowercase(),
            interpreter_present: field(&single, "interpreter_present") == "yes",
        };
        match consent::create(&state.app, &staff, id, input).await {
            Ok(_) => return see_other(&format!("/participants/{id}/consents?done=created")),
            Err(e) => errors = form_errors(m, e, &fields)?,
        }
    }
    let p = consents_view(&state, &staff, id, single, &chosen, errors).await?;
    page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

pub async fn consent_withdraw(
    State(state): State<WebState>,
    Path((id, cid)): Path<(String, String)>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    let cid = parse_id(&cid)?;
    let note = opt(field(&form, "note"));
    match consent::withdraw(&state.app, &staff, cid, note.as_deref()).await {
        Ok(c) if c.body.participant_id == id => {
            see_other(&format!("/participants/{id}/consents?done=saved"))
        }
        Ok(_) => Err(WebError::NotFound),
        Err(AppError::Validation(errs)) => {
            let m = staff.lang.messages();
            let errors = FormErrors::from_app(m, &errs, &["note"]);
            let p = consents_view(&state, &staff, id, Form::new(), &[], errors).await?;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "adaptation.html")]
struct AdaptationPage {
    shell: Shell,
    errors: FormErrors,
    id: Uuid,
    rows: Vec<(usize, Vec<Opt>, String)>,
    version: Option<i32>,
    conflict: bool,
    theirs: HashMap<String, String>,
}

impl AdaptationPage {
    fn theirs_row(&self, name: &str, i: &usize) -> Option<&str> {
        self.theirs.get(&format!("{name}_{i}")).map(String::as_str)
    }
}

fn adaptation_form(d: &AdaptationNeedsInput) -> Form {
    let mut form = Form::new();
    for (i, n) in d.needs.iter().take(NEED_ROWS).enumerate() {
        form.insert(format!("category_{i}"), n.category.as_str().to_owned());
        form.insert(format!("description_{i}"), n.description.clone());
    }
    form
}

fn adaptation_view(
    staff: &Staff,
    id: Uuid,
    form: &Form,
    version: Option<i32>,
    errors: FormErrors,
) -> AdaptationPage {
    let m = staff.lang.messages();
    let rows = (0..NEED_ROWS)
        .map(|i| {
            let cat = field(form, &format!("category_{i}"));
            (
                i,
                options(
                    m,
                    "adaptation_category.",
                    AdaptationCategory::ALL.iter().map(|c| c.as_str()),
                    cat,
                    Some("form.choose"),
                ),
                field(form, &format!("description_{i}")).to_owned(),
            )
        })
        .collect();
    AdaptationPage {
        shell: Shell::staff(
            staff,
            &format!("/participants/{id}/adaptation"),
            m.t("adaptation.title").to_owned(),
        ),
        errors,
        id,
        rows,
        version,
        conflict: false,
        theirs: HashMap::new(),
    }
}

pub async fn adaptation_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::HandoverPrepare)?;
    let cur = current::<AdaptationNeedsInput>(&state, &staff, id).await?;
    let (form, version) = match cur {
        Some(d) => (adaptation_form(&d.body.data), d.version),
        None => (Form::new(), None),
    };
    page(&adaptation_view(
        &staff,
        id,
        &form,
        version,
        FormErrors::default(),
    ))
}

pub async fn adaptation_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version = field(&form, "version").parse::<i32>().ok();
    let mut errors = FormErrors::default();
    let mut needs = Vec::new();
    for i in 0..NEED_ROWS {
        let cat = field(&form, &format!("category_{i}"));
        let desc = field(&form, &format!("description_{i}"));
        if cat.is_empty() && desc.is_empty() {
            continue;
        }
        match cat.parse::<AdaptationCategory>() {
            Ok(category) if !desc.is_empty() => needs.push(AdaptationNeed {
                category,
                description: desc.to_owned(),
            }),
            _ => errors.add(
                &format!("category_{i}"),
                m.t("adaptation.row_incomplete").to_owned(),
            ),
        }
    }
    if errors.is_empty() {
        let expected = version.map_or(Precondition::Missing, Precondition::version);
        match documents::put::<AdaptationNeedsInput>(
            &state.app,
            &staff,
            id,
            expected,
            AdaptationNeedsInput { needs },
        )
        .await
        {
            Ok(_) => return see_other(&format!("/participants/{id}?done=saved#prep")),
            Err(AppError::PreconditionFailed) => {
                let cur = current::<AdaptationNeedsInput>(&state, &staff, id).await?;
                let version = cur.as_ref().and_then(|d| d.version);
                let saved = cur
                    .map(|d| adaptation_form(&d.body.data))
                    .unwrap_or_default();
                let mut p = adaptation_view(&staff, id, &form, version, FormErrors::default());
                p.theirs = super::documents::differences(&form, &saved);
                p.conflict = true;
                return page_with(StatusCode::CONFLICT, &p);
            }
            Err(e) => errors = form_errors(m, e, &["category_0"])?,
        }
    }
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &adaptation_view(&staff, id, &form, version, errors),
    )
}
