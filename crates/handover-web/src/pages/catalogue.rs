//! The qualification-pathway catalogue: browsing for everyone signed in (counsellors choose
//! pathway steps from it), and the operator's administration: add, change, retire and
//! reinstate an offering, and its versions. The use cases of `handover_app::catalogue` decide
//! who may do what (only operator administrators manage it).

use super::guidance::{CatalogueFilter, group_options, offering_name};
use super::{PageResult, page, page_with, pager, parse_id, see_other, status_for};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::{Lang, Messages};
use crate::session::{Posted, Staff};
use crate::view::{FormErrors, Opt, Shell, options};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use handover_app::AppError;
use handover_app::catalogue;
use handover_app::precondition::Precondition;
use handover_domain::guidance::{
    FACT_FIELDS, FactSource, MAX_SOURCES, OFFERING_FIELDS, Offering, OfferingGroup, OfferingInput,
    OfferingVersion, Prerequisites, RECHECK_AFTER_DAYS, ResponsibleActor,
};
use handover_domain::participant::Cefr;
use handover_domain::{Action, FieldError, Page, Paging, Role};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

type Form = HashMap<String, String>;

const PAGE_SIZE: i64 = 25;

fn v<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default().trim()
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saved" => "notice.saved",
        "created" => "catalogue.notice_created",
        "retired" => "catalogue.notice_retired",
        "reinstated" => "catalogue.notice_reinstated",
        _ => return None,
    })
}

fn may_manage(staff: &Staff) -> bool {
    staff.caller.role == Role::Admin && staff.caller.org_kind == handover_domain::OrgKind::Operator
}

/// The labels an offering's page needs.
pub struct Labels;

impl Labels {
    pub fn group(m: &Messages, g: OfferingGroup) -> String {
        m.t(&format!("catalogue.group_{}", g.as_str())).to_owned()
    }

    pub fn actor(m: &Messages, a: ResponsibleActor) -> String {
        m.t(&format!("catalogue.actor_{}", a.as_str())).to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListQuery {
    #[serde(default)]
    group: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    retired: String,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    offset: Option<i64>,
}

pub struct ListRow {
    pub o: Offering,
    pub name: String,
    pub group: String,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct ListPage {
    shell: Shell,
    errors: FormErrors,
    filter: CatalogueFilter,
    groups: Vec<Opt>,
    rows: Vec<ListRow>,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
    may_manage: bool,
}

pub async fn list(
    State(state): State<WebState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> PageResult {
    staff.require(Action::CatalogueRead)?;
    let filter = CatalogueFilter {
        group: q.group,
        q: q.q,
        retired: q.retired,
        done: q.done,
    };
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let mut query = filter.read(m, &mut errors);
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    query.paging = Paging {
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
    };
    let found = if errors.is_empty() {
        match catalogue::list(&state.app, &staff, query).await {
            Ok(p) => p,
            Err(AppError::Validation(errs)) => {
                errors = FormErrors::from_app(m, &errs, &["q", "group"]);
                empty()
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        empty()
    };
    let qs = filter.query_string();
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, |o| {
        format!("/catalogue?{qs}&offset={o}")
    });
    let rows = found
        .items
        .into_iter()
        .map(|o| ListRow {
            name: offering_name(staff.lang, &o).to_owned(),
            group: Labels::group(m, o.data.group),
            actor: Labels::actor(m, o.data.responsible_actor),
            o,
        })
        .collect();
    page_with(
        status_for(&errors),
        &ListPage {
            shell: Shell::staff(&staff, "/catalogue", m.t("catalogue.title").to_owned())
                .at(&format!("/catalogue?{qs}"))
                .with_notice(notice(filter.done.as_deref())),
            groups: group_options(m, &filter.group),
            errors,
            filter,
            rows,
            total: found.total,
            prev,
            next,
            may_manage: may_manage(&staff),
        },
    )
}

fn empty() -> Page<Offering> {
    Page {
        items: Vec::new(),
        total: 0,
        limit: PAGE_SIZE,
        offset: 0,
    }
}

// ---------------------------------------------------------------------------------------------
// One offering
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "catalogue_offering.html")]
struct OfferingPage {
    shell: Shell,
    o: Offering,
    description: String,
    group: String,
    actor: String,
    may_manage: bool,
    conflict: bool,
    sources: Vec<SourceView>,
}

/// A source as the offering's page lists it.
pub struct SourceView {
    pub s: FactSource,
    /// The facts it supports, by label.
    pub supports: String,
    /// Checked more than `RECHECK_AFTER_DAYS` ago: due to be checked again.
    pub stale: bool,
}

impl OfferingPage {
    /// "Not verified" after a field the catalogue marks as uncertain or no source supports.
    fn uncertain(&self, field: &str) -> bool {
        self.o.data.is_unverified(field)
    }
}

fn source_views(m: &Messages, o: &OfferingInput, today: time::Date) -> Vec<SourceView> {
    let mut list: Vec<SourceView> = o
        .sources
        .iter()
        .map(|s| SourceView {
            supports: s
                .fields
                .iter()
                .map(|f| m.t(&format!("catalogue.field_{f}")).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            stale: (today - s.checked).whole_days() > RECHECK_AFTER_DAYS,
            s: s.clone(),
        })
        .collect();
    list.sort_by_key(|x| std::cmp::Reverse(x.s.checked));
    list
}

fn offering_page(
    staff: &Staff,
    o: Offering,
    done: Option<&str>,
    today: time::Date,
) -> OfferingPage {
    let m = staff.lang.messages();
    let name = offering_name(staff.lang, &o).to_owned();
    OfferingPage {
        shell: Shell::staff(staff, &format!("/catalogue/{}", o.id), name).with_notice(notice(done)),
        description: match staff.lang {
            Lang::Nb => o.data.description_nb.clone(),
            Lang::En => o.data.description_en.clone(),
        },
        group: Labels::group(m, o.data.group),
        actor: Labels::actor(m, o.data.responsible_actor),
        may_manage: may_manage(staff),
        conflict: false,
        sources: source_views(m, &o.data, today),
        o,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn offering(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let o = catalogue::get(&state.app, &staff, id).await?;
    page(&offering_page(
        &staff,
        o,
        q.done.as_deref(),
        state.app.today(),
    ))
}

async fn set_retired(
    state: &WebState,
    staff: Staff,
    id: &str,
    form: Form,
    retire: bool,
) -> PageResult {
    let id = parse_id(id)?;
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    let expected = Precondition::version(version);
    let r = if retire {
        catalogue::retire(&state.app, &staff, id, expected).await
    } else {
        catalogue::reinstate(&state.app, &staff, id, expected).await
    };
    match r {
        Ok(_) => see_other(&format!(
            "/catalogue/{id}?done={}",
            if retire { "retired" } else { "reinstated" }
        )),
        Err(AppError::PreconditionFailed | AppError::Conflict(_)) => {
            // Changed meanwhile (or already so): the page as it is now, with the notice.
            let o = catalogue::get(&state.app, &staff, id).await?;
            let mut p = offering_page(&staff, o, None, state.app.today());
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn retire(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    set_retired(&state, staff, &id, form, true).await
}

pub async fn reinstate(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    set_retired(&state, staff, &id, form, false).await
}

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

pub struct VersionRow {
    pub v: OfferingVersion,
    pub name: String,
    /// The fields this version changed from the one before, by label.
    pub changed: Vec<String>,
}

#[derive(Template)]
#[template(path = "catalogue_versions.html")]
struct VersionsPage {
    shell: Shell,
    id: Uuid,
    rows: Vec<VersionRow>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OffsetQuery {
    #[serde(default)]
    offset: Option<i64>,
}

/// The fields of `new` that differ from `old`, as the form's labels.
fn changed_fields(m: &Messages, new: &OfferingInput, old: &OfferingInput) -> Vec<String> {
    let a = serde_json::to_value(new).unwrap_or_default();
    let b = serde_json::to_value(old).unwrap_or_default();
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, val)| b.get(*k) != Some(*val))
        .map(|(k, _)| {
            let key = format!("catalogue.field_{k}");
            if m.has(&key) {
                m.t(&key).to_owned()
            } else {
                k.clone()
            }
        })
        .collect()
}

pub async fn versions(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<OffsetQuery>,
) -> PageResult {
    let id = parse_id(&id)?;
    let m = staff.lang.messages();
    let offset = q.offset.unwrap_or(0).clamp(0, 1_000_000);
    // One more than the page, to say what the page's last version changed.
    let found = catalogue::versions(
        &state.app,
        &staff,
        id,
        Paging {
            limit: Some(PAGE_SIZE + 1),
            offset: Some(offset),
        },
    )
    .await?;
    let mut rows = Vec::new();
    for (i, ver) in found.items.iter().enumerate().take(PAGE_SIZE as usize) {
        let changed = match found.items.get(i + 1) {
            Some(older) => {
                let mut c = changed_fields(m, &ver.data, &older.data);
                if ver.retired != older.retired {
                    c.push(
                        m.t(if ver.retired {
                            "catalogue.retired"
                        } else {
                            "catalogue.reinstated"
                        })
                        .to_owned(),
                    );
                }
                c
            }
            None if ver.version == 1 => vec![m.t("catalogue.first_version").to_owned()],
            None => Vec::new(),
        };
        rows.push(VersionRow {
            name: match staff.lang {
                Lang::Nb => ver.data.name_nb.clone(),
                Lang::En => ver.data.name_en.clone(),
            },
            changed,
            v: ver.clone(),
        });
    }
    let base = format!("/catalogue/{id}/versions");
    let (prev, next) = pager(offset, PAGE_SIZE, found.total, |o| {
        format!("{base}?offset={o}")
    });
    page(&VersionsPage {
        shell: Shell::staff(&staff, &base, m.t("catalogue.versions_title").to_owned()),
        id,
        rows,
        prev,
        next,
    })
}

// ---------------------------------------------------------------------------------------------
// The operator's form
// ---------------------------------------------------------------------------------------------

/// The text fields of the form, in order, with whether each is a long text.
const TEXT_FIELDS: [(&str, bool); 10] = [
    ("name_nb", false),
    ("name_en", false),
    ("description_nb", true),
    ("description_en", true),
    ("legal_basis", true),
    ("financing", true),
    ("livelihood", true),
    ("typical_duration", false),
    ("prerequisites_text", true),
    ("info_url", false),
];

/// The form's fields in order, for placing errors.
const FORM_FIELDS: [&str; 16] = [
    "key",
    "group",
    "name_nb",
    "name_en",
    "description_nb",
    "description_en",
    "responsible_actor",
    "legal_basis",
    "financing",
    "livelihood",
    "typical_duration",
    "min_cefr",
    "prerequisites_text",
    "info_url",
    "uncertain",
    "sources",
];

pub struct TextInput {
    pub name: &'static str,
    pub label: String,
    pub long: bool,
    pub value: String,
}

pub struct Check {
    pub name: String,
    pub label: String,
    pub checked: bool,
}

/// One source's fields on the form: `sources_title_0`, `sources_fact_financing_0`, … (the
/// names the error paths `sources[0].title` flatten to).
pub struct SourceRow {
    pub legend: String,
    pub title: String,
    pub title_value: String,
    pub url: String,
    pub url_value: String,
    pub checked: String,
    pub checked_value: String,
    pub note: String,
    pub note_value: String,
    pub facts_id: String,
    pub facts: Vec<Check>,
    /// Rows that hold a saved source can be removed; the empty row is for a new one.
    pub remove: Option<Check>,
}

fn source_name(part: &str, i: usize) -> String {
    format!("sources_{part}_{i}")
}

/// How many source rows the posted form had (the saved sources, then one empty row).
fn source_rows(f: &Form) -> usize {
    v(f, "sources_rows")
        .parse::<usize>()
        .unwrap_or(0)
        .min(MAX_SOURCES + 1)
}

/// A row nobody filled in: the empty row for a new source, left empty.
fn row_is_blank(f: &Form, i: usize) -> bool {
    ["title", "url", "checked", "note"]
        .iter()
        .all(|p| v(f, &source_name(p, i)).is_empty())
        && FACT_FIELDS
            .iter()
            .all(|x| v(f, &source_name(&format!("fact_{x}"), i)) != "yes")
}

/// The rows that become sources, in order: the list index of a source error is its position
/// here.
fn kept_rows(f: &Form) -> Vec<usize> {
    (0..source_rows(f))
        .filter(|i| v(f, &source_name("remove", *i)) != "yes" && !row_is_blank(f, *i))
        .collect()
}

#[derive(Template)]
#[template(path = "catalogue_form.html")]
struct FormPage {
    shell: Shell,
    errors: FormErrors,
    action: String,
    cancel: String,
    /// The key, fixed once the offering exists.
    fixed_key: Option<String>,
    key: String,
    version: Option<i32>,
    groups: Vec<Opt>,
    actors: Vec<Opt>,
    levels: Vec<Opt>,
    texts: Vec<TextInput>,
    uncertain: Vec<Check>,
    sources: Vec<SourceRow>,
    sources_rows: usize,
    conflict: bool,
    theirs: HashMap<String, String>,
}

impl FormPage {
    fn theirs_for(&self, field: &str) -> Option<&str> {
        self.theirs.get(field).map(String::as_str)
    }
}

fn values(i: &OfferingInput) -> Form {
    let mut f = Form::from([
        ("key".to_owned(), i.key.clone()),
        ("group".to_owned(), i.group.as_str().to_owned()),
        ("name_nb".to_owned(), i.name_nb.clone()),
        ("name_en".to_owned(), i.name_en.clone()),
        ("description_nb".to_owned(), i.description_nb.clone()),
        ("description_en".to_owned(), i.description_en.clone()),
        (
            "responsible_actor".to_owned(),
            i.responsible_actor.as_str().to_owned(),
        ),
        ("legal_basis".to_owned(), i.legal_basis.clone()),
        ("financing".to_owned(), i.financing.clone()),
        ("livelihood".to_owned(), i.livelihood.clone()),
        ("typical_duration".to_owned(), i.typical_duration.clone()),
        (
            "min_cefr".to_owned(),
            i.prerequisites
                .min_cefr
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        ),
        (
            "prerequisites_text".to_owned(),
            i.prerequisites.text.clone(),
        ),
        ("info_url".to_owned(), i.info_url.clone()),
    ]);
    for u in &i.uncertain {
        f.insert(format!("uncertain_{u}"), "yes".into());
    }
    for (n, s) in i.sources.iter().enumerate() {
        f.insert(source_name("title", n), s.title.clone());
        f.insert(source_name("url", n), s.url.clone());
        f.insert(source_name("checked", n), s.checked.to_string());
        f.insert(source_name("note", n), s.note.clone());
        for x in &s.fields {
            f.insert(source_name(&format!("fact_{x}"), n), "yes".into());
        }
    }
    f.insert("sources_rows".into(), i.sources.len().to_string());
    f
}

/// The form's source rows: those posted (or saved), then an empty one for a new source while
/// there is room.
fn source_form_rows(m: &Messages, f: &Form) -> Vec<SourceRow> {
    let mut n = source_rows(f);
    if (n == 0 || !row_is_blank(f, n - 1)) && n < MAX_SOURCES {
        n += 1;
    }
    (0..n)
        .map(|i| {
            let is_new = i + 1 == n && row_is_blank(f, i);
            SourceRow {
                legend: if is_new {
                    m.t("catalogue.source_new").to_owned()
                } else {
                    m.f("catalogue.source_number", &[("n", &(i + 1).to_string())])
                },
                title: source_name("title", i),
                title_value: v(f, &source_name("title", i)).to_owned(),
                url: source_name("url", i),
                url_value: v(f, &source_name("url", i)).to_owned(),
                checked: source_name("checked", i),
                checked_value: v(f, &source_name("checked", i)).to_owned(),
                note: source_name("note", i),
                note_value: v(f, &source_name("note", i)).to_owned(),
                facts_id: source_name("fields", i),
                facts: FACT_FIELDS
                    .iter()
                    .map(|x| {
                        let name = source_name(&format!("fact_{x}"), i);
                        Check {
                            checked: v(f, &name) == "yes",
                            name,
                            label: m.t(&format!("catalogue.field_{x}")).to_owned(),
                        }
                    })
                    .collect(),
                remove: (!is_new).then(|| {
                    let name = source_name("remove", i);
                    Check {
                        checked: v(f, &name) == "yes",
                        name,
                        label: m.t("catalogue.source_remove").to_owned(),
                    }
                }),
            }
        })
        .collect()
}

/// Names a source error in the summary by its row and field ("Source 2, address: …").
fn label_source_errors(m: &Messages, mut e: FormErrors) -> FormErrors {
    for x in &mut e.items {
        let Some((part, i)) = x
            .field
            .strip_prefix("sources_")
            .and_then(|rest| rest.rsplit_once('_'))
        else {
            continue;
        };
        let Ok(i) = i.parse::<usize>() else { continue };
        let row = m.f("catalogue.source_number", &[("n", &(i + 1).to_string())]);
        let key = format!("catalogue.source_{part}");
        x.label = Some(if m.has(&key) {
            format!("{row}, {}", m.t(&key).to_lowercase())
        } else {
            row
        });
    }
    e
}

fn form_page(
    staff: &Staff,
    action: String,
    cancel: String,
    fixed_key: Option<String>,
    version: Option<i32>,
    f: &Form,
    errors: FormErrors,
) -> FormPage {
    let m = staff.lang.messages();
    let title = if fixed_key.is_some() {
        m.t("catalogue.edit_title")
    } else {
        m.t("catalogue.new_title")
    };
    let sources = source_form_rows(m, f);
    FormPage {
        shell: Shell::staff(staff, &action, title.to_owned()),
        errors: label_source_errors(m, errors.labelled(m, "catalogue.field_")),
        sources_rows: sources.len(),
        sources,
        action,
        cancel,
        key: v(f, "key").to_owned(),
        fixed_key,
        version,
        groups: options(
            m,
            "catalogue.group_",
            OfferingGroup::ALL.iter().map(|g| g.as_str()),
            v(f, "group"),
            Some("form.choose"),
        ),
        actors: options(
            m,
            "catalogue.actor_",
            ResponsibleActor::ALL.iter().map(|a| a.as_str()),
            v(f, "responsible_actor"),
            Some("form.choose"),
        ),
        levels: options(
            m,
            "cefr.",
            Cefr::ALL.iter().map(|c| c.as_str()),
            v(f, "min_cefr"),
            Some("catalogue.no_level"),
        ),
        texts: TEXT_FIELDS
            .iter()
            .map(|(name, long)| TextInput {
                name,
                label: m.t(&format!("catalogue.field_{name}")).to_owned(),
                long: *long,
                value: v(f, name).to_owned(),
            })
            .collect(),
        uncertain: OFFERING_FIELDS
            .iter()
            .map(|name| Check {
                name: format!("uncertain_{name}"),
                label: m.t(&format!("catalogue.field_{name}")).to_owned(),
                checked: v(f, &format!("uncertain_{name}")) == "yes",
            })
            .collect(),
        conflict: false,
        theirs: HashMap::new(),
    }
}

/// The form as the use case's input; the choices that are no choice are errors beside them.
fn read(m: &Messages, f: &Form, key: &str, today: time::Date) -> Result<OfferingInput, FormErrors> {
    let mut e = FormErrors::default();
    let group = crate::view::code_field::<OfferingGroup>(&mut e, m, "group", v(f, "group"));
    let actor = crate::view::code_field::<ResponsibleActor>(
        &mut e,
        m,
        "responsible_actor",
        v(f, "responsible_actor"),
    );
    let min_cefr = match v(f, "min_cefr") {
        "" => None,
        c => match c.parse::<Cefr>() {
            Ok(c) => Some(c),
            Err(_) => {
                e.add("min_cefr", m.t("validation.invalid_value").to_owned());
                None
            }
        },
    };
    let input = OfferingInput {
        key: key.to_owned(),
        group: group.unwrap_or(OfferingGroup::MappingAndGuidance),
        name_nb: v(f, "name_nb").to_owned(),
        name_en: v(f, "name_en").to_owned(),
        description_nb: v(f, "description_nb").to_owned(),
        description_en: v(f, "description_en").to_owned(),
        responsible_actor: actor.unwrap_or(ResponsibleActor::State),
        legal_basis: v(f, "legal_basis").to_owned(),
        financing: v(f, "financing").to_owned(),
        livelihood: v(f, "livelihood").to_owned(),
        typical_duration: v(f, "typical_duration").to_owned(),
        prerequisites: Prerequisites {
            min_cefr,
            text: v(f, "prerequisites_text").to_owned(),
        },
        info_url: v(f, "info_url").to_owned(),
        uncertain: OFFERING_FIELDS
            .iter()
            .filter(|n| v(f, &format!("uncertain_{n}")) == "yes")
            .map(|n| (*n).to_owned())
            .collect(),
        sources: kept_rows(f)
            .into_iter()
            .map(|i| FactSource {
                title: v(f, &source_name("title", i)).to_owned(),
                url: v(f, &source_name("url", i)).to_owned(),
                checked: crate::view::date_field(
                    &mut e,
                    m,
                    &source_name("checked", i),
                    v(f, &source_name("checked", i)),
                    true,
                )
                .unwrap_or(today),
                fields: FACT_FIELDS
                    .iter()
                    .filter(|x| v(f, &source_name(&format!("fact_{x}"), i)) == "yes")
                    .map(|x| (*x).to_owned())
                    .collect(),
                note: v(f, &source_name("note", i)).to_owned(),
            })
            .collect(),
    };
    if e.is_empty() {
        return Ok(input);
    }
    // The other fields are checked too, so the summary lists every error at once.
    if let Err(more) = input.validate(today) {
        for x in app_errors(m, &more, f).items {
            if e.get(&x.field).is_none() {
                e.add(&x.field, x.message);
            }
        }
    }
    // A stable sort: the source rows' errors stay in row order after the other fields.
    e.items.sort_by_key(|x| {
        FORM_FIELDS
            .iter()
            .position(|f| *f == x.field)
            .unwrap_or(usize::MAX)
    });
    Err(e)
}

/// An error path of an offering as the form's field. A source's index in the list is mapped
/// back to its row on the form (`rows`, from `kept_rows`), since removed and empty rows are
/// not in the list.
fn field_of(path: &str, rows: &[usize]) -> String {
    match path {
        "prerequisites.text" => "prerequisites_text".into(),
        "prerequisites.min_cefr" => "min_cefr".into(),
        p if p.starts_with("uncertain") => "uncertain".into(),
        p if p.starts_with("sources[") => p["sources[".len()..]
            .split_once("].")
            .and_then(|(i, sub)| {
                let i: usize = i.parse().ok()?;
                let part = sub.split(['.', '[']).next()?;
                Some(source_name(part, rows.get(i).copied().unwrap_or(i)))
            })
            .unwrap_or_else(|| "sources".into()),
        p => p.to_owned(),
    }
}

fn app_errors(m: &Messages, errs: &[FieldError], f: &Form) -> FormErrors {
    let rows = kept_rows(f);
    let mut out = FormErrors::default();
    for e in errs {
        let message = crate::view::error_text(m, Some("catalogue.error_"), e);
        let mut field = field_of(&e.field, &rows);
        if !FORM_FIELDS.contains(&field.as_str()) && !field.starts_with("sources") {
            field = "key".into();
        }
        if out.get(&field).is_none() {
            out.add(&field, message);
        }
    }
    out
}

pub async fn new_page(staff: Staff) -> PageResult {
    staff.require(Action::CatalogueManage)?;
    if !may_manage(&staff) {
        return Err(WebError::Forbidden);
    }
    page(&form_page(
        &staff,
        "/catalogue/new".into(),
        "/catalogue".into(),
        None,
        None,
        &Form::new(),
        FormErrors::default(),
    ))
}

pub async fn create(
    State(state): State<WebState>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    staff.require(Action::CatalogueManage)?;
    if !may_manage(&staff) {
        return Err(WebError::Forbidden);
    }
    let m = staff.lang.messages();
    let shown = |errors: FormErrors| {
        page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(
                &staff,
                "/catalogue/new".into(),
                "/catalogue".into(),
                None,
                None,
                &form,
                errors,
            ),
        )
    };
    let input = match read(m, &form, v(&form, "key"), state.app.today()) {
        Ok(i) => i,
        Err(e) => return shown(e),
    };
    match catalogue::create(&state.app, &staff, input).await {
        Ok(o) => see_other(&format!("/catalogue/{}?done=created", o.id)),
        Err(AppError::Validation(errs)) => shown(app_errors(m, &errs, &form)),
        Err(AppError::Conflict(_)) => {
            let mut e = FormErrors::default();
            e.add("key", m.t("catalogue.key_taken").to_owned());
            shown(e)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_page(
    State(state): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::CatalogueManage)?;
    if !may_manage(&staff) {
        return Err(WebError::Forbidden);
    }
    let o = catalogue::get(&state.app, &staff, id).await?;
    page(&form_page(
        &staff,
        format!("/catalogue/{id}/edit"),
        format!("/catalogue/{id}"),
        Some(o.data.key.clone()),
        Some(o.version),
        &values(&o.data),
        FormErrors::default(),
    ))
}

pub async fn edit_save(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    let id = parse_id(&id)?;
    staff.require(Action::CatalogueManage)?;
    if !may_manage(&staff) {
        return Err(WebError::Forbidden);
    }
    let m = staff.lang.messages();
    let version: i32 = v(&form, "version").parse().map_err(|_| WebError::BadForm)?;
    let current = catalogue::get(&state.app, &staff, id).await?;
    let key = current.data.key.clone();
    let action = format!("/catalogue/{id}/edit");
    let cancel = format!("/catalogue/{id}");
    let shown = |errors: FormErrors, status: StatusCode, version: i32| (errors, status, version);
    let (errors, status, version) = match read(m, &form, &key, state.app.today()) {
        Err(e) => shown(e, StatusCode::UNPROCESSABLE_ENTITY, version),
        Ok(input) => {
            match catalogue::update(
                &state.app,
                &staff,
                id,
                Precondition::version(version),
                input,
            )
            .await
            {
                Ok(_) => return see_other(&format!("/catalogue/{id}?done=saved")),
                Err(AppError::PreconditionFailed) => {
                    let now = catalogue::get(&state.app, &staff, id).await?;
                    let theirs = super::documents::differences(&form, &values(&now.data));
                    let mut p = form_page(
                        &staff,
                        action,
                        cancel,
                        Some(key),
                        Some(now.version),
                        &form,
                        FormErrors::default(),
                    );
                    p.theirs = theirs;
                    p.conflict = true;
                    return page_with(StatusCode::CONFLICT, &p);
                }
                Err(AppError::Validation(errs)) => shown(
                    app_errors(m, &errs, &form),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    version,
                ),
                Err(e) => return Err(e.into()),
            }
        }
    };
    page_with(
        status,
        &form_page(
            &staff,
            action,
            cancel,
            Some(key),
            Some(version),
            &form,
            errors,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offering_errors_find_their_fields() {
        assert_eq!(field_of("prerequisites.text", &[]), "prerequisites_text");
        assert_eq!(field_of("uncertain[2]", &[]), "uncertain");
        assert_eq!(field_of("info_url", &[]), "info_url");
        // The second source in the list is the form's fourth row (rows 1 and 2 left out).
        assert_eq!(field_of("sources[1].url", &[0, 3]), "sources_url_3");
        assert_eq!(
            field_of("sources[0].fields[2]", &[0, 3]),
            "sources_fields_0"
        );
        assert_eq!(field_of("sources", &[]), "sources");
    }
}
