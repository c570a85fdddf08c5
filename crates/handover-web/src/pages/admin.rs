//! Administration: the users of the administrator's organisation (create, which sends the setup
//! e-mail; change name, e-mail and role; deactivate and reactivate; resend the setup e-mail),
//! the organisation itself, and for the operator every organisation. Administrators see no
//! participant data here either: these are the API's user and organisation use cases.

use super::participants::form_errors;
use super::{
    NoticeQuery, PageResult, opt, page, page_with, pager, parse_id, see_other, status_for,
};
use crate::WebState;
use crate::error::WebError;
use crate::session::{Posted, Staff, encode_component};
use crate::view::{FormErrors, Opt, Shell, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::orgs::{self, OrgQuery};
use handover_app::precondition::Precondition;
use handover_app::users::{self, UserInput, UserPatch, UserQuery};
use handover_domain::page::Paging;
use handover_domain::{Action, OrgId, OrgKind, Organisation, Page, Role, User};
use serde::Deserialize;

const PAGE_SIZE: i64 = 25;

fn roles_for(kind: OrgKind) -> Vec<Role> {
    match kind {
        OrgKind::Operator => vec![Role::Admin],
        OrgKind::ReceptionCentre => vec![Role::Admin, Role::CentreStaff],
        OrgKind::CareerCentre => vec![Role::Admin, Role::CareerCounsellor],
        OrgKind::Municipality => vec![Role::Admin, Role::MunicipalityStaff],
        OrgKind::Directorate => vec![Role::Admin, Role::DirectorateStaff],
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    q: UsersQuery,
    page: Page<User>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default)]
    done: Option<String>,
}

pub async fn users(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<UsersQuery>,
) -> PageResult {
    let m = staff.lang.messages();
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let org = (staff.caller.org_kind != OrgKind::Operator).then_some(staff.caller.org_id);
    let found = users::list(
        &state.app,
        &staff,
        UserQuery {
            organisation_id: org,
            q: opt(&q.q),
            paging: Paging {
                limit: Some(PAGE_SIZE),
                offset: Some(offset),
            },
            ..Default::default()
        },
    )
    .await?;
    let link = |o: i64| format!("/admin/users?q={}&offset={o}", encode_component(&q.q));
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, link);
    let notice = NoticeQuery {
        done: q.done.clone(),
    };
    page(&UsersPage {
        shell: Shell::staff(&staff, "/admin/users", m.t("users.title").to_owned())
            .with_notice(notice.key()),
        q,
        page: found,
        prev,
        next,
    })
}

/// The new-user form's values as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct UserForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation_id: String,
}

const USER_FIELDS: &[&str] = &["name", "email", "role", "organisation_id"];

#[derive(Template)]
#[template(path = "user_form.html")]
struct UserPage {
    shell: Shell,
    errors: FormErrors,
    form: UserForm,
    roles: Vec<Opt>,
    /// For the operator creating a user: which organisation.
    organisations: Vec<Opt>,
    user: Option<User>,
    is_self: bool,
    /// The account has a second factor that an administrator may reset.
    second_factor: bool,
}

async fn org_options(
    state: &WebState,
    staff: &Staff,
    selected: &str,
) -> Result<Vec<Opt>, WebError> {
    if staff.caller.org_kind != OrgKind::Operator {
        return Ok(Vec::new());
    }
    let page = orgs::list(
        &state.app,
        staff,
        OrgQuery {
            active: Some(true),
            paging: Paging {
                limit: Some(200),
                offset: None,
            },
            ..Default::default()
        },
    )
    .await?;
    Ok(page
        .items
        .into_iter()
        .map(|o| Opt {
            selected: o.id.0.to_string() == selected,
            value: o.id.0.to_string(),
            text: o.name,
        })
        .collect())
}

fn role_options(staff: &Staff, kind: OrgKind, selected: &str) -> Vec<Opt> {
    let m = staff.lang.messages();
    let roles = if staff.caller.org_kind == OrgKind::Operator {
        Role::ALL.to_vec()
    } else {
        roles_for(kind)
    };
    options(
        m,
        "role.",
        roles.into_iter().map(Role::as_str),
        selected,
        Some("form.choose"),
    )
}

pub async fn user_new_page(State(state): State<WebState>, staff: Staff) -> PageResult {
    staff.require(Action::UserCreate)?;
    let m = staff.lang.messages();
    let form = UserForm::default();
    page(&UserPage {
        shell: Shell::staff(
            &staff,
            "/admin/users/new",
            m.t("users.new_title").to_owned(),
        ),
        errors: FormErrors::default(),
        roles: role_options(&staff, staff.caller.org_kind, ""),
        organisations: org_options(&state, &staff, "").await?,
        form,
        user: None,
        is_self: false,
        second_factor: false,
    })
}

pub async fn user_create(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<UserForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let role = form.role.parse::<Role>().ok();
    if role.is_none() {
        errors.add("role", m.t("validation.choose").to_owned());
    }
    let org = if staff.caller.org_kind == OrgKind::Operator {
        match form.organisation_id.parse::<uuid::Uuid>() {
            Ok(id) => OrgId(id),
            Err(_) => {
                errors.add("organisation_id", m.t("validation.choose").to_owned());
                staff.caller.org_id
            }
        }
    } else {
        staff.caller.org_id
    };
    if let (Some(role), true) = (role, errors.is_empty()) {
        let input = UserInput {
            email: form.email.trim().to_owned(),
            name: form.name.trim().to_owned(),
            role,
            organisation_id: org,
        };
        match users::create(&state.app, &staff, input).await {
            Ok(_) => return see_other("/admin/users?done=setup_sent"),
            Err(e) => errors = form_errors(m, e, USER_FIELDS)?,
        }
    }
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &UserPage {
            shell: Shell::staff(
                &staff,
                "/admin/users/new",
                m.t("users.new_title").to_owned(),
            ),
            errors: errors.labelled(m, "user."),
            roles: role_options(&staff, staff.caller.org_kind, &form.role),
            organisations: org_options(&state, &staff, &form.organisation_id).await?,
            form,
            user: None,
            is_self: false,
            second_factor: false,
        },
    )
}

async fn user_kind(state: &WebState, staff: &Staff, user: &User) -> Result<OrgKind, WebError> {
    if user.organisation_id == staff.caller.org_id {
        return Ok(staff.caller.org_kind);
    }
    Ok(orgs::get(&state.app, staff, user.organisation_id.0)
        .await?
        .kind)
}

pub async fn user_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let user = users::get(&state.app, &staff, id).await?;
    let kind = user_kind(&state, &staff, &user).await?;
    let form = UserForm {
        version: user.version.to_string(),
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role.as_str().to_owned(),
        organisation_id: String::new(),
    };
    let here = format!("/admin/users/{id}");
    page(&UserPage {
        shell: Shell::staff(&staff, &here, user.name.clone()).with_notice(q.key()),
        errors: FormErrors::default(),
        roles: role_options(&staff, kind, &form.role),
        organisations: Vec::new(),
        form,
        is_self: user.id == staff.caller.user_id,
        second_factor: handover_app::second_factor::has_one(&state.app, &staff, id).await?,
        user: Some(user),
    })
}

/// The account form's values, and which button was pressed: save, deactivate, reactivate.
#[derive(Debug, Default, Deserialize)]
pub struct UserSave {
    #[serde(flatten)]
    form: UserForm,
    #[serde(default)]
    action: String,
}

pub async fn user_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<UserSave>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version: i32 = form
        .form
        .version
        .trim()
        .parse()
        .map_err(|_| WebError::BadForm)?;
    let patch = match form.action.as_str() {
        "deactivate" => UserPatch {
            active: Some(false),
            ..Default::default()
        },
        "reactivate" => UserPatch {
            active: Some(true),
            ..Default::default()
        },
        "save" => UserPatch {
            email: Some(form.form.email.trim().to_owned()),
            name: Some(form.form.name.trim().to_owned()),
            role: Some(
                form.form
                    .role
                    .parse::<Role>()
                    .map_err(|_| WebError::BadForm)?,
            ),
            active: None,
        },
        _ => return Err(WebError::BadForm),
    };
    let here = format!("/admin/users/{id}");
    let errors = match users::update(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        patch,
    )
    .await
    {
        Ok(_) => {
            let done = match form.action.as_str() {
                "deactivate" => "deactivated",
                _ => "saved",
            };
            return see_other(&format!("{here}?done={done}"));
        }
        Err(AppError::PreconditionFailed) => {
            let mut e = FormErrors::default();
            e.add("name", m.t("conflict.user").to_owned());
            e
        }
        Err(e) => form_errors(m, e, USER_FIELDS)?,
    };
    let user = users::get(&state.app, &staff, id).await?;
    let kind = user_kind(&state, &staff, &user).await?;
    let mut typed = form.form;
    typed.version = user.version.to_string();
    page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &UserPage {
            shell: Shell::staff(&staff, &here, user.name.clone()),
            errors: errors.labelled(m, "user."),
            roles: role_options(&staff, kind, &typed.role),
            organisations: Vec::new(),
            form: typed,
            is_self: user.id == staff.caller.user_id,
            second_factor: handover_app::second_factor::has_one(&state.app, &staff, id).await?,
            user: Some(user),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

/// An administrator resets another user's second factor (lost phone and recovery codes).
pub async fn user_reset_second_factor(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, .. }: Posted<Empty>,
) -> PageResult {
    let id = parse_id(&id)?;
    match handover_app::second_factor::reset_for(&state.app, &staff, id).await {
        Ok(()) => see_other(&format!("/admin/users/{id}?done=second_factor_reset")),
        Err(AppError::Conflict(_)) => Err(WebError::Conflict),
        Err(e) => Err(e.into()),
    }
}

pub async fn user_setup_email(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, .. }: Posted<Empty>,
) -> PageResult {
    let id = parse_id(&id)?;
    match users::send_password_setup(&state.app, &staff, id).await {
        Ok(_) => see_other(&format!("/admin/users/{id}?done=setup_sent")),
        Err(AppError::Conflict(_)) => Err(WebError::Conflict),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    shell: Shell,
    org: Organisation,
}

pub async fn own_organisation(State(state): State<WebState>, staff: Staff) -> PageResult {
    let org = orgs::get(&state.app, &staff, staff.caller.org_id.0).await?;
    page(&OrganisationPage {
        shell: Shell::staff(&staff, "/admin/organisation", org.name.clone()),
        org,
    })
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    shell: Shell,
    errors: FormErrors,
    q: OrgsQuery,
    kinds: Vec<Opt>,
    page: Page<Organisation>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct OrgsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    offset: Option<i64>,
}

/// Every organisation, for the operator (the use case refuses anyone else).
pub async fn organisations(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<OrgsQuery>,
) -> PageResult {
    let m = staff.lang.messages();
    if staff.caller.org_kind != OrgKind::Operator {
        return Err(WebError::Forbidden);
    }
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let kind = q.kind.parse::<OrgKind>().ok();
    let found = orgs::list(
        &state.app,
        &staff,
        OrgQuery {
            kind,
            q: opt(&q.q),
            active: None,
            paging: Paging {
                limit: Some(PAGE_SIZE),
                offset: Some(offset),
            },
        },
    )
    .await?;
    let link = |o: i64| {
        format!(
            "/admin/organisations?q={}&kind={}&offset={o}",
            encode_component(&q.q),
            encode_component(&q.kind)
        )
    };
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, link);
    let kinds = options(
        m,
        "org_kind.",
        OrgKind::ALL.iter().map(|k| k.as_str()),
        &q.kind,
        Some("organisations.any_kind"),
    );
    page(&OrganisationsPage {
        shell: Shell::staff(
            &staff,
            "/admin/organisations",
            m.t("organisations.title").to_owned(),
        ),
        errors: FormErrors::default(),
        q,
        kinds,
        page: found,
        prev,
        next,
    })
}

/// The organisation form's values as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct OrgForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    municipality_number: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    serves_reception_centre_id: String,
    /// The checkbox: `yes` when ticked, absent when not.
    #[serde(default)]
    require_second_factor: String,
    #[serde(default)]
    action: String,
}

const ORG_FIELDS: &[&str] = &[
    "kind",
    "name",
    "municipality_number",
    "county",
    "serves_reception_centre_id",
];

#[derive(Template)]
#[template(path = "organisation_form.html")]
struct OrgPage {
    shell: Shell,
    errors: FormErrors,
    form: OrgForm,
    kinds: Vec<Opt>,
    centres: Vec<Opt>,
    org: Option<Organisation>,
}

/// The reception centres a career centre may serve.
async fn centre_options(
    state: &WebState,
    staff: &Staff,
    selected: &str,
) -> Result<Vec<Opt>, WebError> {
    let m = staff.lang.messages();
    let page = orgs::list(
        &state.app,
        staff,
        OrgQuery {
            kind: Some(OrgKind::ReceptionCentre),
            paging: Paging {
                limit: Some(200),
                offset: None,
            },
            ..Default::default()
        },
    )
    .await?;
    let mut out = vec![Opt {
        value: String::new(),
        text: m.t("organisation.serves_none").to_owned(),
        selected: selected.is_empty(),
    }];
    out.extend(page.items.into_iter().map(|o| Opt {
        selected: o.id.0.to_string() == selected,
        value: o.id.0.to_string(),
        text: o.name,
    }));
    Ok(out)
}

async fn org_page(
    state: &WebState,
    staff: &Staff,
    here: &str,
    title: String,
    form: OrgForm,
    org: Option<Organisation>,
    errors: FormErrors,
) -> Result<OrgPage, WebError> {
    let m = staff.lang.messages();
    let kinds = options(
        m,
        "org_kind.",
        [
            OrgKind::ReceptionCentre,
            OrgKind::CareerCentre,
            OrgKind::Municipality,
        ]
        .into_iter()
        .map(OrgKind::as_str),
        &form.kind,
        Some("form.choose"),
    );
    Ok(OrgPage {
        shell: Shell::staff(staff, here, title),
        errors: errors.labelled(m, "organisation."),
        centres: centre_options(state, staff, &form.serves_reception_centre_id).await?,
        kinds,
        form,
        org,
    })
}

fn operator_only(staff: &Staff) -> Result<(), WebError> {
    if staff.caller.org_kind == OrgKind::Operator {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

pub async fn org_new_page(State(state): State<WebState>, staff: Staff) -> PageResult {
    operator_only(&staff)?;
    staff.require(Action::OrgCreate)?;
    let title = staff
        .lang
        .messages()
        .t("organisations.new_title")
        .to_owned();
    page(
        &org_page(
            &state,
            &staff,
            "/admin/organisations/new",
            title,
            OrgForm::default(),
            None,
            FormErrors::default(),
        )
        .await?,
    )
}

fn parse_org_id(s: &str) -> Result<Option<OrgId>, ()> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse::<uuid::Uuid>()
            .map(|u| Some(OrgId(u)))
            .map_err(|_| ()),
    }
}

pub async fn org_create(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<OrgForm>,
) -> PageResult {
    operator_only(&staff)?;
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let kind = form.kind.parse::<OrgKind>().ok();
    if kind.is_none() {
        errors.add("kind", m.t("validation.choose").to_owned());
    }
    let serves = parse_org_id(&form.serves_reception_centre_id).map_err(|_| WebError::BadForm)?;
    if let (Some(kind), true) = (kind, errors.is_empty()) {
        let input = orgs::OrgInput {
            kind,
            name: form.name.trim().to_owned(),
            municipality_number: opt(&form.municipality_number),
            county: opt(&form.county),
            serves_reception_centre_id: serves,
        };
        match orgs::create(&state.app, &staff, input).await {
            Ok(o) => return see_other(&format!("/admin/organisations/{}?done=created", o.id.0)),
            Err(e) => errors = form_errors(m, e, ORG_FIELDS)?,
        }
    }
    let title = m.t("organisations.new_title").to_owned();
    let p = org_page(
        &state,
        &staff,
        "/admin/organisations/new",
        title,
        form,
        None,
        errors,
    )
    .await?;
    page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

fn org_form(o: &Organisation) -> OrgForm {
    OrgForm {
        version: o.version.to_string(),
        kind: o.kind.as_str().to_owned(),
        name: o.name.clone(),
        municipality_number: o.municipality_number.clone().unwrap_or_default(),
        county: o.county.clone().unwrap_or_default(),
        serves_reception_centre_id: o
            .serves_reception_centre_id
            .map(|c| c.0.to_string())
            .unwrap_or_default(),
        require_second_factor: if o.require_second_factor {
            "yes".into()
        } else {
            String::new()
        },
        action: String::new(),
    }
}

pub async fn org_edit_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    operator_only(&staff)?;
    let id = parse_id(&id)?;
    let org = orgs::get(&state.app, &staff, id).await?;
    let here = format!("/admin/organisations/{id}");
    let mut p = org_page(
        &state,
        &staff,
        &here,
        org.name.clone(),
        org_form(&org),
        Some(org),
        FormErrors::default(),
    )
    .await?;
    p.shell = p.shell.with_notice(q.key());
    page(&p)
}

pub async fn org_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<OrgForm>,
) -> PageResult {
    operator_only(&staff)?;
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let version: i32 = form.version.trim().parse().map_err(|_| WebError::BadForm)?;
    let patch = match form.action.as_str() {
        "deactivate" => orgs::OrgPatch {
            active: Some(false),
            ..Default::default()
        },
        "reactivate" => orgs::OrgPatch {
            active: Some(true),
            ..Default::default()
        },
        "save" => orgs::OrgPatch {
            name: Some(form.name.trim().to_owned()),
            county: Some(opt(&form.county)),
            active: None,
            serves_reception_centre_id: Some(
                parse_org_id(&form.serves_reception_centre_id).map_err(|_| WebError::BadForm)?,
            ),
            require_second_factor: Some(form.require_second_factor == "yes"),
        },
        _ => return Err(WebError::BadForm),
    };
    let here = format!("/admin/organisations/{id}");
    let errors = match orgs::update(
        &state.app,
        &staff,
        id,
        Precondition::version(version),
        patch,
    )
    .await
    {
        Ok(_) => {
            let done = if form.action == "deactivate" {
                "deactivated"
            } else {
                "saved"
            };
            return see_other(&format!("{here}?done={done}"));
        }
        Err(AppError::PreconditionFailed) => {
            let mut e = FormErrors::default();
            e.add("name", m.t("conflict.user").to_owned());
            e
        }
        Err(e) => form_errors(m, e, ORG_FIELDS)?,
    };
    let org = orgs::get(&state.app, &staff, id).await?;
    let mut typed = form;
    typed.version = org.version.to_string();
    typed.kind = org.kind.as_str().to_owned();
    let p = org_page(
        &state,
        &staff,
        &here,
        org.name.clone(),
        typed,
        Some(org),
        errors,
    )
    .await?;
    page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    errors: FormErrors,
    q: AuditFilterForm,
    page: Page<handover_domain::audit::AuditEntry>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct AuditFilterForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    offset: Option<i64>,
}

/// The audit log of the administrator's organisation (every organisation for the operator),
/// newest first: who did what to which record, when, from where; never the data itself.
pub async fn audit(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<AuditFilterForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let target = match q.target.trim() {
        "" => None,
        t => match t.parse::<uuid::Uuid>() {
            Ok(u) => Some(u),
            Err(_) => {
                errors.add("target", m.t("audit.invalid_target").to_owned());
                None
            }
        },
    };
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    let found = if errors.is_empty() {
        match handover_app::audit_log::list(
            &state.app,
            &staff,
            handover_app::audit_log::AuditQuery {
                action: opt(&q.action),
                target_id: target,
                paging: Paging {
                    limit: Some(PAGE_SIZE),
                    offset: Some(offset),
                },
            },
        )
        .await
        {
            Ok(p) => Some(p),
            Err(AppError::Validation(errs)) => {
                errors = FormErrors::from_app(m, &errs, &["action", "target"]);
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let found = found.unwrap_or(Page {
        items: Vec::new(),
        total: 0,
        limit: PAGE_SIZE,
        offset: 0,
    });
    let link = |o: i64| {
        format!(
            "/admin/audit?action={}&target={}&offset={o}",
            encode_component(&q.action),
            encode_component(&q.target)
        )
    };
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, link);
    let status = status_for(&errors);
    page_with(
        status,
        &AuditPage {
            shell: Shell::staff(&staff, "/admin/audit", m.t("audit.title").to_owned()),
            errors,
            q,
            page: found,
            prev,
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "dead_letters.html")]
struct DeadLettersPage {
    shell: Shell,
    items: Vec<handover_app::dead_letters::DeadLetter>,
    total: i64,
}

/// Dead-lettered e-mails, for the operator: each can be queued again or discarded.
pub async fn dead_letters(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let (items, total) = handover_app::dead_letters::list(&state.app, &staff).await?;
    let title = staff.lang.messages().t("dead_letters.title").to_owned();
    page(&DeadLettersPage {
        shell: Shell::staff(&staff, "/admin/dead-letters", title).with_notice(q.key()),
        items,
        total,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DeadLetterForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    action: String,
}

pub async fn dead_letter_handle(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<DeadLetterForm>,
) -> PageResult {
    use handover_app::dead_letters::{Handling, handle};
    let id: i64 = form.id.trim().parse().map_err(|_| WebError::BadForm)?;
    let (how, done) = match form.action.as_str() {
        "requeue" => (Handling::Requeue, "requeued"),
        "discard" => (Handling::Discard, "discarded"),
        _ => return Err(WebError::BadForm),
    };
    let handled = handle(&state.app, &staff, &[id], how).await?;
    if handled.is_empty() {
        // Handled by someone else meanwhile, or not a dead letter.
        return Err(WebError::Conflict);
    }
    see_other(&format!("/admin/dead-letters?done={done}"))
}
