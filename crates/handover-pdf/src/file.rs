//! The handover file laid out for reading: a cover, then every section in order with its legal
//! basis and purpose. A section's content is read as the web page reads it (labels, Norwegian
//! dates and numbers, codes by their label; `handover-i18n`), with two rules of its own: a list
//! of plain records (levels per skill, programme elements, attendance by kind) becomes a table
//! with its totals, and the guidance section puts its notice first and gives each step of the
//! recommended pathway with the catalogue's facts.

use crate::FileDocument;
use crate::layout::{BODY, Flow, Kind, Table};
use handover_domain::handover::{FileSection, Section};
use handover_i18n::content::{HIDDEN, rank, scalar};
use handover_i18n::format::{date, datetime, number};
use handover_i18n::{Lang, Messages};
use serde_json::{Map, Value};

/// Fields a reader of the file has no use for, besides those the web page leaves out.
const ALSO_HIDDEN: &[&str] = &[
    "offering_key",
    "offering_version",
    "position",
    "superseded_by",
    "created_at",
    "guidance_notice",
    "career_centre_id",
];

/// Codes whose label depends on the field, beyond the shared ones.
const FIELD_CODES: &[(&str, &str)] = &[
    ("responsible_actor", "catalogue.actor_"),
    ("group", "catalogue.group_"),
];

/// Codes inside the guidance summary.
const GUIDANCE_CODES: &[(&str, &str)] = &[
    ("kind", "guidance.kind_"),
    ("status", "guidance.status_"),
    ("guidance_kind", "pdf.guidance_kind_"),
];

/// The order a guidance summary is read in: who and when, then the counsellor's text in the
/// order of the form, what is left for § 11 last.
const GUIDANCE_ORDER: &[&str] = &[
    "status",
    "guidance_kind",
    "author_name",
    "finalised_at",
    "interests",
    "strengths",
    "experience",
    "goals_short_term",
    "goals_long_term",
    "covered",
    "left_for_section_11",
    "warnings",
    "sessions",
    "date",
    "kind",
    "topic",
    "interpreter_used",
    "interpreter_language",
];

/// A table is used for records of at most this many columns and no text longer than this.
const TABLE_COLUMNS: usize = 8;
/// A text longer than this is read below its row rather than squeezed into a column.
const LONG_TEXT: usize = 60;

struct Ctx<'a> {
    m: &'a Messages,
    lang: Lang,
    codes: &'a [(&'a str, &'a str)],
    order: &'a [&'a str],
}

impl Ctx<'_> {
    fn rank(&self, key: &str) -> usize {
        match self.order.iter().position(|k| *k == key) {
            Some(i) => i,
            None => self.order.len() + rank(key),
        }
    }
}

pub fn build(flow: &mut Flow<'_>, doc: &FileDocument<'_>, lang: Lang) {
    let m = lang.messages();
    cover(flow, doc, m);
    for s in doc.sections {
        flow.new_page();
        section(flow, s, lang);
    }
}

fn cover(flow: &mut Flow<'_>, doc: &FileDocument<'_>, m: &Messages) {
    flow.open(Kind::Section);
    flow.heading(1, &format!("{} {}", m.t("pdf.title"), doc.reference));
    flow.paragraph(m.t("pdf.lead"), BODY, false);
    let mut facts = vec![
        (m.t("pdf.reference").to_owned(), doc.reference.to_owned()),
        (
            m.t("pdf.file_version").to_owned(),
            doc.file_version.to_string(),
        ),
        (
            m.t("pdf.from").to_owned(),
            doc.reception_centre_name.to_owned(),
        ),
        (m.t("pdf.to").to_owned(), doc.municipality_name.to_owned()),
        (
            m.t("pdf.sent").to_owned(),
            format!("{} ({})", datetime(doc.sent_at), doc.sent_by_name),
        ),
    ];
    if let Some(d) = doc.settlement_date {
        facts.push((m.t("pdf.settlement_date").to_owned(), date(&d)));
    }
    facts.push((m.t("pdf.generated").to_owned(), datetime(doc.generated_at)));
    flow.facts(&facts);
    if !doc.missing.is_empty() {
        flow.heading(3, m.t("pdf.sent_with_gaps"));
        for item in doc.missing {
            flow.paragraph(&format!("– {item}"), BODY, false);
        }
        if let Some(r) = doc.missing_reason {
            flow.facts(&[(m.t("pdf.reason").to_owned(), r.to_owned())]);
        }
    }
    flow.heading(3, m.t("pdf.contents"));
    for s in doc.sections {
        let status = match s.status.as_str() {
            "shared" => String::new(),
            "withheld" => format!(" – {}", m.t("pdf.withheld")),
            _ => format!(" – {}", m.t("pdf.not_recorded")),
        };
        flow.paragraph(
            &format!("{}{status}", section_title(m, s.section)),
            BODY,
            false,
        );
    }
    flow.space(6.0);
    match doc.profile {
        crate::Profile::A3b => flow.note(&m.f(
            "pdf.attachment",
            &[(
                "name",
                &crate::attachment_name(doc.reference, doc.file_version),
            )],
        )),
        crate::Profile::A2b => flow.note(m.t("pdf.no_attachment")),
    }
    flow.paragraph(m.t("pdf.personal_data"), BODY, false);
    flow.close();
}

fn section_title(m: &Messages, s: Section) -> String {
    m.t(&format!("file_section.{}", s.as_str())).to_owned()
}

fn section(flow: &mut Flow<'_>, s: &FileSection, lang: Lang) {
    let m = lang.messages();
    flow.open(Kind::Section);
    flow.heading(2, &section_title(m, s.section));
    let mut facts = Vec::new();
    if let Some(b) = &s.legal_basis {
        facts.push((m.t("pdf.legal_basis").to_owned(), b.clone()));
    }
    for x in &s.legal_basis_sources {
        facts.push((
            m.t("file.basis_sources").to_owned(),
            format!(
                "{}, {} ({} {})",
                x.title,
                x.url,
                m.t("file.checked"),
                x.checked
            ),
        ));
    }
    if let Some(q) = &s.legal_basis_open_question {
        facts.push((m.t("file.basis_open").to_owned(), q.clone()));
    }
    facts.push((m.t("pdf.purpose").to_owned(), s.purpose.clone()));
    flow.facts(&facts);
    match (s.status.as_str(), s.content_value()) {
        ("shared", Some(content)) => {
            if s.section == Section::GuidanceSummary {
                guidance(flow, &content, lang);
            } else {
                let ctx = Ctx {
                    m,
                    lang,
                    codes: FIELD_CODES,
                    order: &[],
                };
                value(flow, &ctx, "", &content, 3);
            }
        }
        ("withheld", _) => {
            let reason = s.withheld_reason.as_deref().unwrap_or_default();
            flow.note(&format!("{}: {reason}", m.t("pdf.withheld")));
        }
        _ => flow.note(m.t("pdf.not_recorded_text")),
    }
    flow.close();
}

/// The label of a field: the file's own, then the guidance and catalogue forms' names, then
/// the field's name made readable (so a new field shows rather than disappearing).
fn label(m: &Messages, key: &str) -> String {
    for k in [
        format!("field.{key}"),
        format!("pdf.field_{key}"),
        format!("guidance.field_{key}"),
        format!("guidance.session_{key}"),
        format!("catalogue.field_{key}"),
    ] {
        if m.has(&k) {
            return m.t(&k).to_owned();
        }
    }
    handover_i18n::content::label(m, key)
}

fn text(ctx: &Ctx<'_>, key: &str, v: &Value) -> String {
    if let Value::String(s) = v {
        for (field, prefix) in ctx.codes.iter().chain(FIELD_CODES) {
            if key == *field {
                let k = format!("{prefix}{s}");
                if ctx.m.has(&k) {
                    return ctx.m.t(&k).to_owned();
                }
            }
        }
    }
    match v {
        Value::Array(items) if items.is_empty() => "–".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|i| text(ctx, key, i))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => String::new(),
        other => scalar(ctx.m, key, other),
    }
}

fn is_plain(v: &Value) -> bool {
    match v {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().all(|i| !i.is_object() && !i.is_array()),
        _ => true,
    }
}

/// The fields a reader sees, in reading order: hidden ones left out, a field in two languages
/// shown in the reader's (`name_nb`/`name_en` read as `name`).
fn fields<'v>(ctx: &Ctx<'_>, map: &'v Map<String, Value>) -> Vec<(String, &'v Value)> {
    let mut out: Vec<(String, &Value)> = Vec::new();
    for (k, v) in map {
        let key = match k.rsplit_once('_') {
            Some((base, "nb" | "en")) => {
                if !k.ends_with(ctx.lang.code()) {
                    continue;
                }
                base.to_owned()
            }
            _ => k.clone(),
        };
        if HIDDEN.contains(&key.as_str())
            || ALSO_HIDDEN.contains(&key.as_str())
            || key.ends_with("_id")
        {
            continue;
        }
        out.push((key, v));
    }
    out.sort_by(|a, b| ctx.rank(&a.0).cmp(&ctx.rank(&b.0)).then(a.0.cmp(&b.0)));
    out
}

fn value(flow: &mut Flow<'_>, ctx: &Ctx<'_>, key: &str, v: &Value, level: u16) {
    match v {
        Value::Object(map) => object(flow, ctx, map, level),
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            records(flow, ctx, key, items, None, level)
        }
        other => flow.paragraph(&text(ctx, key, other), BODY, false),
    }
}

fn object(flow: &mut Flow<'_>, ctx: &Ctx<'_>, map: &Map<String, Value>, level: u16) {
    let fs = fields(ctx, map);
    // A list of records whose columns repeat plain fields beside it (attendance by kind, with
    // the hours in all): those fields are its totals row, not facts of their own.
    let mut totals_of: Option<(&str, Map<String, Value>)> = None;
    for (k, v) in &fs {
        if let Value::Array(items) = v
            && let Some(Value::Object(first)) = items.first()
        {
            let sums: Map<String, Value> = fs
                .iter()
                .filter(|(sk, sv)| {
                    first.contains_key(sk.as_str()) && !sv.is_object() && !sv.is_array()
                })
                .map(|(sk, sv)| (sk.clone(), (*sv).clone()))
                .collect();
            if !sums.is_empty() {
                totals_of = Some((k.as_str(), sums));
                break;
            }
        }
    }
    let in_totals = |k: &str| totals_of.as_ref().is_some_and(|(_, s)| s.contains_key(k));
    let facts: Vec<(String, String)> = fs
        .iter()
        .filter(|(k, v)| is_plain(v) && !in_totals(k))
        .map(|(k, v)| (label(ctx.m, k), text(ctx, k, v)))
        .collect();
    flow.facts(&facts);
    for (k, v) in &fs {
        if is_plain(v) {
            continue;
        }
        flow.heading(level, &label(ctx.m, k));
        match v {
            Value::Object(inner) => object(flow, ctx, inner, (level + 1).min(4)),
            Value::Array(items) => {
                let totals = totals_of.as_ref().filter(|(tk, _)| tk == k).map(|(_, s)| s);
                records(flow, ctx, k, items, totals, (level + 1).min(4));
            }
            _ => {}
        }
    }
}

/// A list of records: a table when every record is plain and short, else one block each.
fn records(
    flow: &mut Flow<'_>,
    ctx: &Ctx<'_>,
    key: &str,
    items: &[Value],
    totals: Option<&Map<String, Value>>,
    level: u16,
) {
    let maps: Vec<&Map<String, Value>> = items.iter().filter_map(Value::as_object).collect();
    let mut columns: Vec<String> = Vec::new();
    let mut long: Vec<String> = Vec::new();
    let mut plain = true;
    for map in &maps {
        for (k, v) in fields(ctx, map) {
            if !is_plain(v) {
                plain = false;
            }
            if v.as_str().is_some_and(|s| s.chars().count() > LONG_TEXT) && !long.contains(&k) {
                long.push(k.clone());
            }
            if !columns.contains(&k) {
                columns.push(k);
            }
        }
    }
    columns.retain(|c| !long.contains(c));
    columns.sort_by(|a, b| ctx.rank(a).cmp(&ctx.rank(b)).then(a.cmp(b)));
    long.sort_by(|a, b| ctx.rank(a).cmp(&ctx.rank(b)).then(a.cmp(b)));
    if plain && columns.len() >= 2 && columns.len() <= TABLE_COLUMNS {
        let cell = |map: &Map<String, Value>, c: &str| {
            fields(ctx, map)
                .iter()
                .find(|(k, _)| k == c)
                .map_or_else(|| "–".to_owned(), |(k, v)| text(ctx, k, v))
        };
        let rows: Vec<Vec<String>> = maps
            .iter()
            .map(|map| columns.iter().map(|c| cell(map, c)).collect())
            .collect();
        let totals = totals_row(ctx, &columns, &maps, totals);
        flow.table(&Table {
            headers: columns.iter().map(|c| label(ctx.m, c)).collect(),
            rows,
            totals,
        });
        // The long texts of each row below the table, named by the row's first cells.
        for map in &maps {
            let facts: Vec<(String, String)> = long
                .iter()
                .filter(|c| map.contains_key(c.as_str()))
                .map(|c| (label(ctx.m, c), cell(map, c)))
                .collect();
            if facts.is_empty() {
                continue;
            }
            let name: Vec<String> = columns.iter().take(2).map(|c| cell(map, c)).collect();
            flow.paragraph(&name.join(" – "), BODY, true);
            flow.facts(&facts);
        }
        return;
    }
    for (i, map) in maps.iter().enumerate() {
        flow.heading(level, &format!("{} {}", label(ctx.m, key), i + 1));
        object(flow, ctx, map, (level + 1).min(4));
    }
}

/// The totals: the ones the file states, else the sums of the hour columns.
fn totals_row(
    ctx: &Ctx<'_>,
    columns: &[String],
    maps: &[&Map<String, Value>],
    stated: Option<&Map<String, Value>>,
) -> Option<Vec<String>> {
    let sum_label = ctx.m.t("pdf.total").to_owned();
    if let Some(stated) = stated {
        return Some(
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| match stated.get(c) {
                    Some(v) => text(ctx, c, v),
                    None if i == 0 => sum_label.clone(),
                    None => String::new(),
                })
                .collect(),
        );
    }
    if !columns.iter().any(|c| c.contains("hours")) || maps.len() < 2 {
        return None;
    }
    Some(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if c.contains("hours") {
                    let total: f64 = maps
                        .iter()
                        .filter_map(|m| m.get(c).and_then(Value::as_f64))
                        .sum();
                    number(total)
                } else if i == 0 {
                    sum_label.clone()
                } else {
                    String::new()
                }
            })
            .collect(),
    )
}

/// The guidance section: the notice that this is guidance in the reception centre and not the
/// § 11 guidance, the summary, then the recommended pathway step by step with each offering's
/// catalogue facts as they were when the file was sent.
fn guidance(flow: &mut Flow<'_>, content: &Value, lang: Lang) {
    let m = lang.messages();
    let ctx = Ctx {
        m,
        lang,
        codes: GUIDANCE_CODES,
        order: GUIDANCE_ORDER,
    };
    let Some(summary) = content.get("summary").and_then(Value::as_object) else {
        value(flow, &ctx, "", content, 3);
        return;
    };
    let notice_key = format!("guidance_notice_{}", lang.code());
    let notice = summary
        .get(&notice_key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| m.t("guidance.not_s11_heading"));
    flow.note(notice);
    let mut rest = summary.clone();
    let pathway = rest.remove("pathway");
    object(flow, &ctx, &rest, 3);
    let steps: Vec<&Map<String, Value>> = pathway
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    flow.heading(3, m.t("pdf.pathway"));
    if steps.is_empty() {
        flow.paragraph(m.t("pathway.none"), BODY, false);
        return;
    }
    let offerings: Vec<&Map<String, Value>> = content
        .get("offerings")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let catalogue = Ctx {
        m,
        lang,
        codes: FIELD_CODES,
        order: &[],
    };
    for (i, step) in steps.iter().enumerate() {
        let name_key = format!("offering_name_{}", lang.code());
        let name = step
            .get(&name_key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        flow.heading(
            4,
            &m.f("pdf.step", &[("n", &(i + 1).to_string()), ("name", name)]),
        );
        let mut facts = Vec::new();
        if let Some(r) = step.get("reason").and_then(Value::as_str) {
            facts.push((label(m, "reason"), r.to_owned()));
        }
        if step.get("offering_retired").and_then(Value::as_bool) == Some(true) {
            facts.push((
                m.t("catalogue.state").to_owned(),
                m.t("pdf.retired").to_owned(),
            ));
        }
        let offering = offerings.iter().find(|o| {
            o.get("offering_id") == step.get("offering_id")
                && o.get("version") == step.get("offering_version")
        });
        if let Some(o) = offering
            .and_then(|o| o.get("offering"))
            .and_then(Value::as_object)
        {
            facts.extend(offering_facts(&catalogue, o));
        }
        flow.facts(&facts);
    }
}

/// An offering's facts as the counsellor saw them in the catalogue, with the facts nobody has
/// confirmed named as such.
fn offering_facts(ctx: &Ctx<'_>, o: &Map<String, Value>) -> Vec<(String, String)> {
    let m = ctx.m;
    let mut facts = Vec::new();
    let fact = |key: &str, label_key: &str| -> Option<(String, String)> {
        let v = o.get(key).filter(|v| !v.is_null())?;
        let t = text(ctx, key, v);
        (!t.is_empty()).then(|| (m.t(label_key).to_owned(), t))
    };
    let lang_description = format!("description_{}", ctx.lang.code());
    for (key, label_key) in [
        (lang_description.as_str(), "field.description"),
        ("group", "catalogue.field_group"),
        ("responsible_actor", "catalogue.field_responsible_actor"),
        ("legal_basis", "catalogue.field_legal_basis"),
        ("financing", "catalogue.field_financing"),
        ("livelihood", "catalogue.field_livelihood"),
        ("typical_duration", "catalogue.field_typical_duration"),
    ] {
        facts.extend(fact(key, label_key));
    }
    if let Some(p) = o.get("prerequisites").and_then(Value::as_object) {
        if let Some(t) = p
            .get("text")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            facts.push((
                m.t("catalogue.field_prerequisites").to_owned(),
                t.to_owned(),
            ));
        }
        if let Some(l) = p.get("min_cefr").and_then(Value::as_str) {
            facts.push((m.t("catalogue.field_min_cefr").to_owned(), l.to_owned()));
        }
    }
    facts.extend(fact("info_url", "pdf.info_url"));
    let sources: Vec<&Map<String, Value>> = o
        .get("sources")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let str_of = |s: &Map<String, Value>, k: &str| -> String {
        s.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let field_label = |f: &str| {
        let k = format!("catalogue.field_{f}");
        if m.has(&k) {
            m.t(&k).to_owned()
        } else {
            label(m, f)
        }
    };
    for s in &sources {
        let supports: Vec<String> = s
            .get("fields")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(field_label)
                    .collect()
            })
            .unwrap_or_default();
        facts.push((
            m.t("catalogue.source").to_owned(),
            format!(
                "{}, {} ({} {}; {}: {})",
                str_of(s, "title"),
                str_of(s, "url"),
                m.t("file.checked"),
                str_of(s, "checked"),
                m.t("catalogue.source_supports"),
                supports.join(", ")
            ),
        ));
    }
    // Marked uncertain, or a fact no source supports: the same rule as the catalogue's page.
    let sourced: Vec<&str> = sources
        .iter()
        .filter_map(|s| s.get("fields").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut unverified: Vec<&str> = o
        .get("uncertain")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for f in handover_domain::guidance::FACT_FIELDS {
        if !sourced.contains(f) && !unverified.contains(f) {
            unverified.push(f);
        }
    }
    if !unverified.is_empty() {
        let names: Vec<String> = unverified.iter().map(|f| field_label(f)).collect();
        facts.push((m.t("catalogue.uncertain").to_owned(), names.join(", ")));
    }
    facts
}
