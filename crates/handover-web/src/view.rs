//! What every page shares: the shell (header, navigation, language switch, sign-out, footer),
//! validation errors beside their fields, and dates and times in Europe/Oslo, Norwegian style.

use crate::i18n::{Lang, Messages};
use crate::session::Staff;
use handover_domain::{FieldError, OrgKind, Role};
pub use handover_i18n::format::{date, datetime, number, parse_date};
use time::{Date, OffsetDateTime};

/// The frame of a page. Every template gets one as `shell`.
pub struct Shell {
    pub lang: Lang,
    pub m: &'static Messages,
    /// The page's own title; the `<title>` adds the service's name.
    pub title: String,
    pub user: Option<ShellUser>,
    /// The CSRF token of the session, for the page's forms.
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The page's own path, where the language switch returns to.
    pub here: String,
    pub request_id: Option<String>,
    /// A short confirmation after a redirect ("Saved.").
    pub notice: Option<String>,
}

pub struct ShellUser {
    pub name: String,
    pub role: String,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

impl Shell {
    pub fn anonymous(lang: Lang, title: String) -> Shell {
        Shell {
            lang,
            m: lang.messages(),
            title,
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            here: "/".into(),
            request_id: None,
            notice: None,
        }
    }

    /// The shell of a signed-in page at `here`, titled by the catalogue key `title_key`.
    pub fn staff(staff: &Staff, here: &str, title: String) -> Shell {
        let lang = staff.lang;
        let m = lang.messages();
        let nav = nav_for(staff.caller.role, staff.caller.org_kind)
            .iter()
            .map(|(href, key)| NavItem {
                href,
                label: m.t(key).to_owned(),
                current: if *href == "/" {
                    here == "/"
                } else {
                    here.starts_with(href)
                },
            })
            .collect();
        Shell {
            lang,
            m,
            title,
            user: Some(ShellUser {
                name: staff.caller.name.clone(),
                role: role_label(m, staff.caller.role, staff.caller.org_kind).to_owned(),
            }),
            csrf: staff.csrf.clone(),
            nav,
            here: here.to_owned(),
            request_id: staff.meta.request_id.clone(),
            notice: None,
        }
    }

    /// The page's path, where the language switch returns to.
    pub fn at(mut self, here: &str) -> Shell {
        self.here = here.to_owned();
        self
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Shell {
        self.notice = notice.map(|key| self.m.t(key).to_owned());
        self
    }

    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.m.t(key)
    }

    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.m.f(key, args)
    }

    /// A label chosen by a stored code: `prefix` + code (`status.` + `active`).
    pub fn label(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}{code}");
        if self.m.has(&key) {
            self.m.t(&key).to_owned()
        } else {
            code.to_owned()
        }
    }

    /// The text of `key` with its one placeholder `{name}` filled in.
    pub fn f1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.m.f(key, &[(name, &value.to_string())])
    }

    pub fn user_name(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.name.as_str())
    }

    pub fn date(&self, d: impl Value<Date>) -> String {
        date(&d.value())
    }

    pub fn opt_date(&self, d: impl Value<Option<Date>>) -> String {
        d.value().as_ref().map(date).unwrap_or_default()
    }

    pub fn datetime(&self, t: impl Value<OffsetDateTime>) -> String {
        datetime(t.value())
    }

    pub fn full_title(&self) -> String {
        format!("{} – {}", self.title, self.m.t("app.name"))
    }
}

/// A copyable value however many references a template put in front of it.
pub trait Value<T> {
    fn value(&self) -> T;
}

macro_rules! value {
    ($($t:ty),+) => {$(
        impl Value<$t> for $t {
            fn value(&self) -> $t {
                *self
            }
        }
    )+};
}
value!(Date, OffsetDateTime, Option<Date>);

impl<T: Copy, V: Value<T>> Value<T> for &V {
    fn value(&self) -> T {
        (*self).value()
    }
}

/// The navigation of a role: what its start page links to first.
fn nav_for(role: Role, kind: OrgKind) -> &'static [(&'static str, &'static str)] {
    match (role, kind) {
        (Role::Admin, OrgKind::Operator) => &[
            ("/", "nav.start"),
            ("/admin/organisations", "nav.organisations"),
            ("/catalogue", "catalogue.nav"),
            ("/admin/users", "nav.users"),
            ("/admin/audit", "nav.audit"),
            ("/admin/dead-letters", "nav.dead_letters"),
        ],
        (Role::Admin, _) => &[
            ("/", "nav.start"),
            ("/admin/users", "nav.users"),
            ("/admin/organisation", "nav.organisation"),
            ("/admin/audit", "nav.audit"),
        ],
        (Role::CentreStaff, _) => &[
            ("/", "nav.start"),
            ("/participants", "nav.participants"),
            ("/handovers", "nav.handovers"),
            ("/conversations", "nav.conversations"),
            ("/statistics", "nav.statistics"),
        ],
        (Role::CareerCounsellor, _) => &[
            ("/", "nav.start"),
            ("/participants", "nav.participants"),
            ("/catalogue", "catalogue.nav"),
            ("/conversations", "nav.conversations"),
            ("/statistics", "nav.statistics"),
        ],
        (Role::MunicipalityStaff, _) => &[
            ("/", "nav.start"),
            ("/handovers", "nav.inbox"),
            ("/conversations", "nav.conversations"),
            ("/statistics", "nav.statistics"),
        ],
        (Role::DirectorateStaff, _) => &[("/", "nav.start"), ("/statistics", "nav.statistics")],
    }
}

pub fn role_label(m: &Messages, role: Role, kind: OrgKind) -> &str {
    match (role, kind) {
        (Role::Admin, OrgKind::Operator) => m.t("role.operator"),
        (r, _) => m.t(match r {
            Role::Admin => "role.admin",
            Role::CentreStaff => "role.centre_staff",
            Role::CareerCounsellor => "role.career_counsellor",
            Role::MunicipalityStaff => "role.municipality_staff",
            Role::DirectorateStaff => "role.directorate_staff",
        }),
    }
}

/// A use case's error in the user's language: the page's own text for its code (`own` + code)
/// where it has one, else the shared one (`validation.` + code), else the use case's words.
pub fn error_text(m: &Messages, own: Option<&str>, e: &FieldError) -> String {
    let own = own.map(|prefix| format!("{prefix}{}", e.code));
    let general = format!("validation.{}", e.code);
    match own.filter(|k| m.has(k)) {
        Some(k) => m.t(&k).to_owned(),
        None if m.has(&general) => m.t(&general).to_owned(),
        None => e.message.clone(),
    }
}

/// Validation errors of a posted form, each beside its field and in the summary at the top.
#[derive(Default)]
pub struct FormErrors {
    pub items: Vec<FormError>,
}

pub struct FormError {
    /// The id of the field's input, the summary's link target.
    pub field: String,
    pub message: String,
    /// The field's label, so the summary says which field ("Fornavn: Fyll ut feltet.").
    pub label: Option<String>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn add(&mut self, field: &str, message: String) {
        self.items.push(FormError {
            field: field.to_owned(),
            message,
            label: None,
        });
    }

    /// The use case's errors in the user's language: a text per error code where the
    /// catalogue has one (`validation.` + code), the use case's own words otherwise. A field
    /// path such as `languages[0].level` is shown at the form's field of that name.
    pub fn from_app(m: &Messages, errors: &[FieldError], fields: &[&str]) -> FormErrors {
        let mut out = FormErrors::default();
        for e in errors {
            let field = field_of(&e.field, fields);
            out.add(&field, error_text(m, None, e));
        }
        out
    }

    /// Names each error's field in the summary by its label, the catalogue's `prefix` + field.
    pub fn labelled(mut self, m: &Messages, prefix: &str) -> FormErrors {
        for e in &mut self.items {
            let key = format!("{prefix}{}", e.field);
            if m.has(&key) {
                e.label = Some(m.t(&key).to_owned());
            }
        }
        self
    }

    /// The summary's line of an error.
    pub fn line(e: &FormError) -> String {
        match &e.label {
            Some(l) => format!("{l}: {}", e.message),
            None => e.message.clone(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `aria-invalid` and `aria-describedby` of a field's input.
    pub fn attrs(&self, field: &str) -> String {
        if self.get(field).is_some() {
            format!(r#"aria-invalid="true" aria-describedby="{field}-error""#)
        } else {
            String::new()
        }
    }
}

/// The form field an error's path belongs to: the path itself when the form has it, else its
/// first segment (`languages[0].level` → `languages`), else the form's first field.
fn field_of(path: &str, fields: &[&str]) -> String {
    if fields.contains(&path) {
        return path.to_owned();
    }
    let flat = flat_path(path);
    if fields.contains(&flat.as_str()) {
        return flat;
    }
    let head = path.split(['.', '[']).next().unwrap_or(path);
    if fields.contains(&head) {
        return head.to_owned();
    }
    fields
        .first()
        .map_or_else(|| path.to_owned(), |f| (*f).to_owned())
}

/// A list item's field path as the name of its form field: `education[1].years` is the
/// field `education_years_1`, `driving_licences[0]` is `driving_licences_0`.
pub fn flat_path(path: &str) -> String {
    let Some((name, rest)) = path.split_once('[') else {
        return path.to_owned();
    };
    let Some((index, sub)) = rest.split_once(']') else {
        return path.to_owned();
    };
    match sub.strip_prefix('.') {
        Some(sub) => format!("{name}_{sub}_{index}"),
        None => format!("{name}_{index}"),
    }
}

/// Reads a date field of a form: `None` when blank (an error beside the field when it is
/// `required`) or when it is no date (an error beside it).
pub fn date_field(
    errors: &mut FormErrors,
    m: &Messages,
    name: &str,
    value: &str,
    required: bool,
) -> Option<Date> {
    if value.trim().is_empty() {
        if required {
            errors.add(name, m.t("validation.required").to_owned());
        }
        return None;
    }
    let d = parse_date(value);
    if d.is_none() {
        errors.add(name, m.t("validation.invalid_date").to_owned());
    }
    d
}

/// Reads a required number field (hours, years); 0 with an error beside it when it is blank
/// or no number.
pub fn number_field(errors: &mut FormErrors, m: &Messages, name: &str, value: &str) -> f64 {
    if value.trim().is_empty() {
        errors.add(name, m.t("validation.required").to_owned());
        return 0.0;
    }
    parse_number(value).unwrap_or_else(|| {
        errors.add(name, m.t("validation.invalid_number").to_owned());
        0.0
    })
}

/// Reads a field chosen from a code list; `None` with an error beside it when nothing valid
/// was chosen.
pub fn code_field<T: std::str::FromStr>(
    errors: &mut FormErrors,
    m: &Messages,
    name: &str,
    value: &str,
) -> Option<T> {
    let r = value.trim().parse::<T>().ok();
    if r.is_none() {
        errors.add(name, m.t("validation.choose").to_owned());
    }
    r
}

/// A date as the value of an `<input type="date">`.
pub fn iso_date(d: &Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A number field as typed, with a comma or a point.
pub fn parse_number(s: &str) -> Option<f64> {
    let n: f64 = s.trim().replace(',', ".").parse().ok()?;
    n.is_finite().then_some(n)
}

/// An option of a `<select>`.
pub struct Opt {
    pub value: String,
    pub text: String,
    pub selected: bool,
}

/// The options of a select over a stored code list, labelled from the catalogue by
/// `prefix` + code, with `selected` chosen; a leading blank option when `blank` is given.
pub fn options(
    m: &Messages,
    prefix: &str,
    codes: impl IntoIterator<Item = &'static str>,
    selected: &str,
    blank: Option<&str>,
) -> Vec<Opt> {
    let mut out = Vec::new();
    if let Some(b) = blank {
        out.push(Opt {
            value: String::new(),
            text: m.t(b).to_owned(),
            selected: selected.is_empty(),
        });
    }
    for code in codes {
        let key = format!("{prefix}{code}");
        out.push(Opt {
            value: code.to_owned(),
            text: if m.has(&key) {
                m.t(&key).to_owned()
            } else {
                code.to_owned()
            },
            selected: code == selected,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_and_times_are_norwegian_and_in_oslo_time() {
        assert_eq!(super::date(&date!(2026 - 03 - 07)), "07.03.2026");
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            super::datetime(datetime!(2026-01-15 13:05 UTC)),
            "15.01.2026 kl. 14:05"
        );
        assert_eq!(
            super::datetime(datetime!(2026-07-15 13:05 UTC)),
            "15.07.2026 kl. 15:05"
        );
    }

    #[test]
    fn typed_dates_and_numbers_are_read_both_ways() {
        assert_eq!(parse_date("2026-12-24"), Some(date!(2026 - 12 - 24)));
        assert_eq!(parse_date(" 24.12.2026 "), Some(date!(2026 - 12 - 24)));
        assert_eq!(parse_date("31.02.2026"), None);
        assert_eq!(parse_date("tomorrow"), None);
        assert_eq!(parse_number("12,5"), Some(12.5));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(number(12.5), "12,5");
        assert_eq!(number(40.0), "40");
    }

    #[test]
    fn an_error_path_finds_its_field() {
        let fields = ["given_name", "languages"];
        assert_eq!(field_of("given_name", &fields), "given_name");
        assert_eq!(field_of("languages[0].level", &fields), "languages");
        assert_eq!(field_of("other", &fields), "given_name");
        assert_eq!(flat_path("education[1].years"), "education_years_1");
        assert_eq!(flat_path("driving_licences[0]"), "driving_licences_0");
        assert_eq!(
            field_of("education[1].years", &["education_years_1"]),
            "education_years_1"
        );
    }
}
