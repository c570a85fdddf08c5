//! The competence mapping and the Norwegian training, each one document of the record with
//! rows for its lists (education, work, tests; a level per skill). One use case writes each
//! (`documents::put`), conditional on the version the form was loaded with.

use super::participants::form_errors;
use super::{PageResult, opt, page, page_with, parse_id, see_other};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::{Posted, Staff};
use crate::view::{
    FormErrors, Opt, Shell, code_field, date_field, iso_date, number, number_field, options,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use handover_app::documents::{self, Kept};
use handover_app::precondition::Precondition;
use handover_app::{AppError, Disclosed};
use handover_domain::Action;
use handover_domain::participant::{
    Cefr, CompetenceMappingInput, DigitalSkills, Education, EducationLevel, NorwegianTrainingInput,
    Skill, SkillLevel, TestKind, TestOutcome, TestResult, WorkExperience,
};
use std::collections::HashMap;
use time::Date;
use uuid::Uuid;

type Form = HashMap<String, String>;

fn v<'a>(f: &'a Form, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or_default().trim()
}

const EDUCATION_ROWS: usize = 3;
const WORK_ROWS: usize = 3;
const TEST_ROWS: usize = 4;

fn date(f: &Form, name: &str, required: bool, m: &Messages, e: &mut FormErrors) -> Option<Date> {
    date_field(e, m, name, v(f, name), required)
}

fn num(f: &Form, name: &str, m: &Messages, e: &mut FormErrors) -> f64 {
    number_field(e, m, name, v(f, name))
}

fn code<T: std::str::FromStr>(f: &Form, name: &str, m: &Messages, e: &mut FormErrors) -> Option<T> {
    code_field(e, m, name, v(f, name))
}

/// The page of one document: its form, in rows.
#[derive(Template)]
#[template(path = "document_form.html")]
struct DocumentPage {
    shell: Shell,
    errors: FormErrors,
    id: Uuid,
    action: String,
    version: Option<i32>,
    conflict: bool,
    groups: Vec<Group>,
    /// After a conflict: the saved values that differ from what the user typed, by field.
    theirs: HashMap<String, String>,
}

impl DocumentPage {
    fn theirs_for(&self, field: &str) -> Option<&str> {
        self.theirs.get(field).map(String::as_str)
    }
}

/// The fields whose saved value differs from the typed one, with the saved value.
pub fn differences(typed: &Form, saved: &Form) -> HashMap<String, String> {
    let mut names: Vec<&String> = typed.keys().chain(saved.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| n.as_str() != "version" && n.as_str() != "_csrf")
        .filter_map(|n| {
            let a = v(typed, n);
            let b = v(saved, n);
            (a != b).then(|| (n.clone(), b.to_owned()))
        })
        .collect()
}

/// A group of fields: a fieldset with a legend, or the form's loose fields (no legend).
struct Group {
    legend: Option<String>,
    hint: Option<String>,
    fields: Vec<Input>,
}

struct Input {
    name: String,
    label: String,
    kind: InputKind,
    value: String,
}

enum InputKind {
    Text,
    Date,
    Textarea,
    Checkbox,
    Select(Vec<Opt>),
}

impl Input {
    fn text(name: String, label: String, value: &str) -> Input {
        Input {
            name,
            label,
            kind: InputKind::Text,
            value: value.to_owned(),
        }
    }

    fn date(name: String, label: String, value: &str) -> Input {
        Input {
            kind: InputKind::Date,
            ..Input::text(name, label, value)
        }
    }
}

/// A document's form: how to show it and how to read it back.
trait DocumentForm: Kept + Sized + Clone {
    const PATH: &'static str;
    const TITLE: &'static str;
    fn values(d: &Self) -> Form;
    fn groups(f: &Form, m: &Messages) -> Vec<Group>;
    fn read(f: &Form, m: &Messages) -> Result<Self, FormErrors>;
    /// The form field a use case's error path belongs to.
    fn field_for(path: &str, input: Option<&Self>) -> String;
    fn data(stored: &Self::Stored) -> &Self;
}

impl DocumentForm for CompetenceMappingInput {
    const PATH: &'static str = "mapping";
    const TITLE: &'static str = "mapping.title";

    fn values(d: &Self) -> Form {
        let mut f = Form::from([
            ("mapped_on".into(), iso_date(&d.mapped_on)),
            (
                "digital_skills".into(),
                d.digital_skills.as_str().to_owned(),
            ),
            ("own_goals".into(), d.own_goals.clone()),
            ("driving_licences".into(), d.driving_licences.join(", ")),
            ("certificates".into(), d.certificates.join("\n")),
        ]);
        for (i, e) in d.education.iter().take(EDUCATION_ROWS).enumerate() {
            f.insert(format!("education_level_{i}"), e.level.as_str().to_owned());
            f.insert(format!("education_years_{i}"), number(e.years));
            f.insert(
                format!("education_field_{i}"),
                e.field.clone().unwrap_or_default(),
            );
            f.insert(
                format!("education_country_{i}"),
                e.country.clone().unwrap_or_default(),
            );
            if e.documents_for_recognition {
                f.insert(
                    format!("education_documents_for_recognition_{i}"),
                    "yes".into(),
                );
            }
        }
        for (i, w) in d.work_experience.iter().take(WORK_ROWS).enumerate() {
            f.insert(
                format!("work_experience_occupation_{i}"),
                w.occupation.clone(),
            );
            f.insert(format!("work_experience_years_{i}"), number(w.years));
            f.insert(
                format!("work_experience_country_{i}"),
                w.country.clone().unwrap_or_default(),
            );
        }
        f
    }

    fn groups(f: &Form, m: &Messages) -> Vec<Group> {
        let mut groups = vec![Group {
            legend: None,
            hint: None,
            fields: vec![
                Input::date(
                    "mapped_on".into(),
                    m.t("mapping.mapped_on").into(),
                    v(f, "mapped_on"),
                ),
                Input {
                    name: "digital_skills".into(),
                    label: m.t("mapping.digital").into(),
                    kind: InputKind::Select(options(
                        m,
                        "digital_skills.",
                        DigitalSkills::ALL.iter().map(|d| d.as_str()),
                        v(f, "digital_skills"),
                        Some("form.choose"),
                    )),
                    value: String::new(),
                },
            ],
        }];
        for i in 0..EDUCATION_ROWS {
            groups.push(Group {
                legend: Some(m.f("mapping.education_n", &[("n", &(i + 1).to_string())])),
                hint: (i == 0).then(|| m.t("mapping.rows_hint").to_owned()),
                fields: vec![
                    Input {
                        name: format!("education_level_{i}"),
                        label: m.t("mapping.level").into(),
                        kind: InputKind::Select(options(
                            m,
                            "education_level.",
                            EducationLevel::ALL.iter().map(|l| l.as_str()),
                            v(f, &format!("education_level_{i}")),
                            Some("form.choose"),
                        )),
                        value: String::new(),
                    },
                    Input::text(
                        format!("education_years_{i}"),
                        m.t("mapping.years_label").into(),
                        v(f, &format!("education_years_{i}")),
                    ),
                    Input::text(
                        format!("education_field_{i}"),
                        m.t("mapping.field").into(),
                        v(f, &format!("education_field_{i}")),
                    ),
                    Input::text(
                        format!("education_country_{i}"),
                        m.t("mapping.country").into(),
                        v(f, &format!("education_country_{i}")),
                    ),
                    Input {
                        name: format!("education_documents_for_recognition_{i}"),
                        label: m.t("mapping.documents").into(),
                        kind: InputKind::Checkbox,
                        value: v(f, &format!("education_documents_for_recognition_{i}")).into(),
                    },
                ],
            });
        }
        for i in 0..WORK_ROWS {
            groups.push(Group {
                legend: Some(m.f("mapping.work_n", &[("n", &(i + 1).to_string())])),
                hint: None,
                fields: vec![
                    Input::text(
                        format!("work_experience_occupation_{i}"),
                        m.t("mapping.occupation").into(),
                        v(f, &format!("work_experience_occupation_{i}")),
                    ),
                    Input::text(
                        format!("work_experience_years_{i}"),
                        m.t("mapping.years_label").into(),
                        v(f, &format!("work_experience_years_{i}")),
                    ),
                    Input::text(
                        format!("work_experience_country_{i}"),
                        m.t("mapping.country").into(),
                        v(f, &format!("work_experience_country_{i}")),
                    ),
                ],
            });
        }
        groups.push(Group {
            legend: None,
            hint: None,
            fields: vec![
                Input::text(
                    "driving_licences".into(),
                    m.t("mapping.licences").into(),
                    v(f, "driving_licences"),
                ),
                Input {
                    kind: InputKind::Textarea,
                    ..Input::text(
                        "certificates".into(),
                        m.t("mapping.certificates").into(),
                        v(f, "certificates"),
                    )
                },
                Input {
                    kind: InputKind::Textarea,
                    ..Input::text(
                        "own_goals".into(),
                        m.t("mapping.own_goals").into(),
                        v(f, "own_goals"),
                    )
                },
            ],
        });
        groups
    }

    fn read(f: &Form, m: &Messages) -> Result<Self, FormErrors> {
        let mut e = FormErrors::default();
        let mapped_on = date(f, "mapped_on", true, m, &mut e);
        let digital = code::<DigitalSkills>(f, "digital_skills", m, &mut e);
        let mut education = Vec::new();
        for i in 0..EDUCATION_ROWS {
            let level = v(f, &format!("education_level_{i}"));
            let years = v(f, &format!("education_years_{i}"));
            let field = v(f, &format!("education_field_{i}"));
            let country = v(f, &format!("education_country_{i}"));
            if level.is_empty() && years.is_empty() && field.is_empty() && country.is_empty() {
                continue;
            }
            let level = code::<EducationLevel>(f, &format!("education_level_{i}"), m, &mut e);
            let years = num(f, &format!("education_years_{i}"), m, &mut e);
            if let Some(level) = level {
                education.push(Education {
                    level,
                    years,
                    field: opt(field),
                    country: opt(country).map(|c| c.to_uppercase()),
                    documents_for_recognition: v(
                        f,
                        &format!("education_documents_for_recognition_{i}"),
                    ) == "yes",
                });
            }
        }
        let mut work_experience = Vec::new();
        for i in 0..WORK_ROWS {
            let occupation = v(f, &format!("work_experience_occupation_{i}"));
            let years = v(f, &format!("work_experience_years_{i}"));
            let country = v(f, &format!("work_experience_country_{i}"));
            if occupation.is_empty() && years.is_empty() && country.is_empty() {
                continue;
            }
            if occupation.is_empty() {
                e.add(
                    &format!("work_experience_occupation_{i}"),
                    m.t("validation.required").to_owned(),
                );
            }
            let years = num(f, &format!("work_experience_years_{i}"), m, &mut e);
            work_experience.push(WorkExperience {
                occupation: occupation.to_owned(),
                years,
                country: opt(country).map(|c| c.to_uppercase()),
            });
        }
        let driving_licences = v(f, "driving_licences")
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.to_uppercase())
            .collect();
        let certificates = v(f, "certificates")
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        match (mapped_on, digital) {
            (Some(mapped_on), Some(digital_skills)) if e.is_empty() => Ok(CompetenceMappingInput {
                education,
                work_experience,
                driving_licences,
                certificates,
                digital_skills,
                own_goals: v(f, "own_goals").to_owned(),
                mapped_on,
            }),
            _ => Err(e),
        }
    }

    fn field_for(path: &str, _input: Option<&Self>) -> String {
        let flat = crate::view::flat_path(path);
        if flat.starts_with("driving_licences") {
            "driving_licences".into()
        } else if flat.starts_with("certificates") {
            "certificates".into()
        } else {
            flat
        }
    }

    fn data(stored: &Self::Stored) -> &Self {
        &stored.data
    }
}

impl DocumentForm for NorwegianTrainingInput {
    const PATH: &'static str = "norwegian";
    const TITLE: &'static str = "norwegian.title";

    fn values(d: &Self) -> Form {
        let mut f = Form::from([
            (
                "course_hours_planned".into(),
                number(d.course_hours_planned),
            ),
            (
                "course_hours_attended".into(),
                number(d.course_hours_attended),
            ),
        ]);
        for l in &d.levels {
            f.insert(
                format!("level_{}", l.skill.as_str()),
                l.level.as_str().to_owned(),
            );
            f.insert(
                format!("assessed_on_{}", l.skill.as_str()),
                iso_date(&l.assessed_on),
            );
        }
        for (i, t) in d.tests.iter().take(TEST_ROWS).enumerate() {
            f.insert(format!("test_{i}"), t.test.as_str().to_owned());
            f.insert(format!("taken_on_{i}"), iso_date(&t.taken_on));
            f.insert(format!("result_{i}"), t.result.as_str().to_owned());
        }
        f
    }

    fn groups(f: &Form, m: &Messages) -> Vec<Group> {
        let mut groups = Vec::new();
        for s in Skill::ALL {
            let skill = s.as_str();
            groups.push(Group {
                legend: Some(m.f(
                    "norwegian.level_of",
                    &[("skill", m.t(&format!("skill.{skill}")))],
                )),
                hint: None,
                fields: vec![
                    Input {
                        name: format!("level_{skill}"),
                        label: m.t("norwegian.level").into(),
                        kind: InputKind::Select(options(
                            m,
                            "cefr.",
                            Cefr::ALL.iter().map(|c| c.as_str()),
                            v(f, &format!("level_{skill}")),
                            Some("norwegian.not_assessed"),
                        )),
                        value: String::new(),
                    },
                    Input::date(
                        format!("assessed_on_{skill}"),
                        m.t("norwegian.assessed_on").into(),
                        v(f, &format!("assessed_on_{skill}")),
                    ),
                ],
            });
        }
        for i in 0..TEST_ROWS {
            groups.push(Group {
                legend: Some(m.f("norwegian.test_n", &[("n", &(i + 1).to_string())])),
                hint: (i == 0).then(|| m.t("mapping.rows_hint").to_owned()),
                fields: vec![
                    Input {
                        name: format!("test_{i}"),
                        label: m.t("norwegian.test").into(),
                        kind: InputKind::Select(options(
                            m,
                            "test_kind.",
                            TestKind::ALL.iter().map(|t| t.as_str()),
                            v(f, &format!("test_{i}")),
                            Some("form.choose"),
                        )),
                        value: String::new(),
                    },
                    Input::date(
                        format!("taken_on_{i}"),
                        m.t("norwegian.taken_on").into(),
                        v(f, &format!("taken_on_{i}")),
                    ),
                    Input {
                        name: format!("result_{i}"),
                        label: m.t("norwegian.result").into(),
                        kind: InputKind::Select(options(
                            m,
                            "test_result.",
                            TestResult::ALL.iter().map(|t| t.as_str()),
                            v(f, &format!("result_{i}")),
                            Some("form.choose"),
                        )),
                        value: String::new(),
                    },
                ],
            });
        }
        groups.push(Group {
            legend: None,
            hint: None,
            fields: vec![
                Input::text(
                    "course_hours_planned".into(),
                    m.t("norwegian.hours_planned").into(),
                    v(f, "course_hours_planned"),
                ),
                Input::text(
                    "course_hours_attended".into(),
                    m.t("norwegian.hours_attended").into(),
                    v(f, "course_hours_attended"),
                ),
            ],
        });
        groups
    }

    fn read(f: &Form, m: &Messages) -> Result<Self, FormErrors> {
        let mut e = FormErrors::default();
        let mut levels = Vec::new();
        for s in Skill::ALL {
            let skill = s.as_str();
            let level = v(f, &format!("level_{skill}"));
            let on = date(
                f,
                &format!("assessed_on_{skill}"),
                !level.is_empty(),
                m,
                &mut e,
            );
            if level.is_empty() {
                continue;
            }
            let level = code::<Cefr>(f, &format!("level_{skill}"), m, &mut e);
            if let (Some(level), Some(assessed_on)) = (level, on) {
                levels.push(SkillLevel {
                    skill: *s,
                    level,
                    assessed_on,
                });
            }
        }
        let mut tests = Vec::new();
        for i in 0..TEST_ROWS {
            let kind = v(f, &format!("test_{i}"));
            let on = v(f, &format!("taken_on_{i}"));
            let result = v(f, &format!("result_{i}"));
            if kind.is_empty() && on.is_empty() && result.is_empty() {
                continue;
            }
            let kind = code::<TestKind>(f, &format!("test_{i}"), m, &mut e);
            let on = date(f, &format!("taken_on_{i}"), true, m, &mut e);
            let result = code::<TestResult>(f, &format!("result_{i}"), m, &mut e);
            if let (Some(test), Some(taken_on), Some(result)) = (kind, on, result) {
                tests.push(TestOutcome {
                    test,
                    taken_on,
                    result,
                });
            }
        }
        let planned = num(f, "course_hours_planned", m, &mut e);
        let attended = num(f, "course_hours_attended", m, &mut e);
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NorwegianTrainingInput {
            levels,
            tests,
            course_hours_planned: planned,
            course_hours_attended: attended,
        })
    }

    /// `levels[i]` counts only the skills given a level; the form has a row per skill.
    fn field_for(path: &str, input: Option<&Self>) -> String {
        let flat = crate::view::flat_path(path);
        if let Some(rest) = path.strip_prefix("levels[")
            && let Some((i, sub)) = rest.split_once(']')
            && let Some(l) = i.parse::<usize>().ok().and_then(|i| input?.levels.get(i))
        {
            let skill = l.skill.as_str();
            return match sub {
                ".assessed_on" => format!("assessed_on_{skill}"),
                _ => format!("level_{skill}"),
            };
        }
        if let Some(rest) = path.strip_prefix("tests[")
            && let Some((i, sub)) = rest.split_once(']')
        {
            return match sub {
                ".taken_on" => format!("taken_on_{i}"),
                ".result" => format!("result_{i}"),
                _ => format!("test_{i}"),
            };
        }
        flat
    }

    fn data(stored: &Self::Stored) -> &Self {
        &stored.data
    }
}

/// All form field names of a document's form, for placing errors.
fn field_names(groups: &[Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.fields.iter().map(|f| f.name.clone()))
        .collect()
}

fn document_page<D: DocumentForm>(
    staff: &Staff,
    id: Uuid,
    form: &Form,
    version: Option<i32>,
    errors: FormErrors,
) -> DocumentPage {
    let m = staff.lang.messages();
    let action = format!("/participants/{id}/{}", D::PATH);
    DocumentPage {
        shell: Shell::staff(staff, &action, m.t(D::TITLE).to_owned()),
        errors,
        id,
        action,
        version,
        conflict: false,
        groups: D::groups(form, m),
        theirs: HashMap::new(),
    }
}

async fn load<D: DocumentForm>(
    state: &WebState,
    staff: &Staff,
    id: Uuid,
) -> Result<Option<Disclosed<D::Stored>>, WebError> {
    match documents::get::<D>(&state.app, staff, id).await {
        Ok(d) => Ok(Some(d)),
        Err(AppError::NotFound) => {
            handover_app::access::participant(&state.app, staff, D::WRITE, id).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn show<D: DocumentForm>(state: &WebState, staff: &Staff, id: &str) -> PageResult {
    let id = parse_id(id)?;
    staff.require(Action::ParticipantWrite)?;
    handover_app::access::participant(&state.app, staff, Action::ParticipantWrite, id).await?;
    let (form, version) = match load::<D>(state, staff, id).await? {
        Some(d) => (D::values(D::data(&d.body)), d.version),
        None => (Form::new(), None),
    };
    page(&document_page::<D>(
        staff,
        id,
        &form,
        version,
        FormErrors::default(),
    ))
}

async fn save<D: DocumentForm>(state: &WebState, staff: Staff, id: &str, form: Form) -> PageResult {
    let id = parse_id(id)?;
    let m = staff.lang.messages();
    let version = v(&form, "version").parse::<i32>().ok();
    let input = match D::read(&form, m) {
        Ok(i) => i,
        Err(errors) => {
            return page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &document_page::<D>(&staff, id, &form, version, errors),
            );
        }
    };
    let expected = version.map_or(Precondition::Missing, Precondition::version);
    match documents::put::<D>(&state.app, &staff, id, expected, input.clone()).await {
        Ok(_) => see_other(&format!("/participants/{id}?done=saved#{}", D::PATH)),
        Err(AppError::PreconditionFailed) => {
            let current = load::<D>(state, &staff, id).await?;
            let version = current.as_ref().and_then(|d| d.version);
            let saved = current
                .map(|d| D::values(D::data(&d.body)))
                .unwrap_or_default();
            let mut p = document_page::<D>(&staff, id, &form, version, FormErrors::default());
            p.theirs = differences(&form, &saved);
            p.conflict = true;
            page_with(StatusCode::CONFLICT, &p)
        }
        Err(AppError::Validation(errs)) => {
            let mut p = document_page::<D>(&staff, id, &form, version, FormErrors::default());
            let names = field_names(&p.groups);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut errors = FormErrors::default();
            for e in &errs {
                let field = D::field_for(&e.field, Some(&input));
                let mut one = FormErrors::from_app(m, std::slice::from_ref(e), &names);
                if names.contains(&field.as_str())
                    && let Some(item) = one.items.first_mut()
                {
                    item.field = field;
                }
                errors.items.extend(one.items);
            }
            p.errors = errors;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => {
            let mut p = document_page::<D>(&staff, id, &form, version, FormErrors::default());
            let names = field_names(&p.groups);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            p.errors = form_errors(m, e, &names)?;
            page_with(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

pub async fn mapping_page(
    State(s): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    show::<CompetenceMappingInput>(&s, &staff, &id).await
}

pub async fn mapping_save(
    State(s): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    save::<CompetenceMappingInput>(&s, staff, &id, form).await
}

pub async fn norwegian_page(
    State(s): State<WebState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    show::<NorwegianTrainingInput>(&s, &staff, &id).await
}

pub async fn norwegian_save(
    State(s): State<WebState>,
    Path(id): Path<String>,
    Posted { staff, form }: Posted<Form>,
) -> PageResult {
    save::<NorwegianTrainingInput>(&s, staff, &id, form).await
}
