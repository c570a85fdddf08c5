#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The qualification-pathway catalogue: the shipped content, who may read and manage it,
//! versions, validation, retiring, deleting and conditional updates.

use handover_db::guidance::{offering_id, shipped_catalogue};
use handover_domain::guidance::OFFERING_FIELDS;
use handover_tests::etag;
use handover_tests::{Res, TestApp, spawn_app, who};
use handover_tests::{assert_invalid, call};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const OFFERINGS: &str = "/api/v1/catalogue/offerings";

const GROUPS: [&str; 6] = [
    "mapping_and_guidance",
    "interpreting",
    "norwegian_and_social_studies",
    "work_and_education_programmes",
    "adult_secondary_education",
    "higher_vocational_and_higher_education",
];

const ACTORS: [&str; 4] = ["nav", "county", "municipality", "state"];
const CEFR: [&str; 6] = ["A1", "A2", "B1", "B2", "C1", "C2"];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn items(r: &Res) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .clone()
}

fn keys(r: &Res) -> Vec<String> {
    items(r)
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_owned())
        .collect()
}

/// Percent-encodes a query-string value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn offering_body(key: &str) -> Value {
    json!({
        "key": key,
        "group": "work_and_education_programmes",
        "name_nb": "Testtiltak for nyankomne",
        "name_en": "Test programme for newcomers",
        "description_nb": "Et arbeidsrettet tiltak brukt i testene.",
        "description_en": "A work-oriented programme used in the tests.",
        "responsible_actor": "nav",
        "legal_basis": "Forskrift om arbeidsmarkedstiltak",
        "financing": "Staten ved Nav.",
        "livelihood": "Tiltakspenger eller introduksjonsstønad.",
        "typical_duration": "Inntil 12 måneder",
        "prerequisites": { "min_cefr": "A2", "text": "Registrert som arbeidssøker hos Nav." },
        "info_url": "https://www.nav.no/arbeidsmarkedstiltak",
        "uncertain": ["financing", "typical_duration"]
    })
}

fn source(url: &str, checked: &str, fields: &[&str]) -> Value {
    json!({"title": "Nav: Arbeidsmarkedstiltak", "url": url, "checked": checked, "fields": fields,
           "note": "Nav gir tiltaket."})
}

async fn create_offering(app: &TestApp, token: &str, key: &str) -> (String, String) {
    let r = app.post(OFFERINGS, Some(token), &offering_body(key)).await;
    assert_eq!(r.status, 201, "create {key}: {}", r.text);
    (r.body["id"].as_str().unwrap().to_owned(), etag(&r))
}

async fn offering_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM catalogue_offerings")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn stored_version(app: &TestApp, id: &str) -> Option<i32> {
    sqlx::query_scalar("SELECT version FROM catalogue_offerings WHERE id::text = $1")
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
}

async fn audit_on(app: &TestApp, action: &str, id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND target_type = 'offering'
         AND target_id::text = $2 AND outcome = 'success'",
    )
    .bind(action)
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

fn non_empty(o: &Value, field: &str) {
    let s = o[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: {field} is not a string", o["key"]));
    assert!(!s.trim().is_empty(), "{}: {field} is empty", o["key"]);
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shipped_catalogue_is_complete_and_every_role_reads_it() {
    let app = spawn_app().await;
    let shipped = shipped_catalogue().unwrap();
    let sample = offering_id("introduksjonsprogram");
    let mut lists = Vec::new();
    for account in who::ALL {
        let t = app.token(account).await;
        let r = app.get(OFFERINGS, &t).await;
        assert_eq!(r.status, 200, "{account} lists: {}", r.text);
        lists.push(r.body.clone());
        let r = app.get(&format!("{OFFERINGS}/{sample}"), &t).await;
        assert_eq!(r.status, 200, "{account} reads: {}", r.text);
        assert_eq!(etag(&r), "\"1\"");
        assert_eq!(r.body["key"], "introduksjonsprogram");
        let r = app.get(&format!("{OFFERINGS}/{sample}/versions"), &t).await;
        assert_eq!(r.status, 200, "{account} reads versions: {}", r.text);
        assert_eq!(items(&r).len(), 1);
    }
    assert!(
        lists.iter().all(|l| *l == lists[0]),
        "every role sees the same catalogue"
    );
    let r = call(&app, Method::GET, OFFERINGS, None, None, None).await;
    r.assert_problem(401);

    let all = lists[0]["items"].as_array().unwrap();
    assert!(all.len() >= 25, "only {} offerings", all.len());
    assert_eq!(all.len(), shipped.len(), "every shipped offering is loaded");
    let groups: BTreeSet<&str> = all.iter().map(|o| o["group"].as_str().unwrap()).collect();
    assert_eq!(groups, GROUPS.into_iter().collect::<BTreeSet<_>>());
    let mut seen_keys = BTreeSet::new();
    for o in all {
        let key = o["key"].as_str().unwrap();
        assert!(seen_keys.insert(key.to_owned()), "{key} twice");
        assert_eq!(
            o["id"].as_str().unwrap(),
            offering_id(key).to_string(),
            "{key}: id derives from the key"
        );
        for f in [
            "name_nb",
            "name_en",
            "description_nb",
            "description_en",
            "legal_basis",
            "financing",
            "livelihood",
            "typical_duration",
        ] {
            non_empty(o, f);
        }
        assert!(
            ACTORS.contains(&o["responsible_actor"].as_str().unwrap()),
            "{key}: responsible actor {}",
            o["responsible_actor"]
        );
        let pre = &o["prerequisites"];
        non_empty(pre, "text");
        assert!(
            pre["min_cefr"].is_null() || CEFR.contains(&pre["min_cefr"].as_str().unwrap()),
            "{key}: min_cefr {}",
            pre["min_cefr"]
        );
        let url = o["info_url"].as_str().unwrap();
        assert!(
            url.starts_with("https://") && url.len() > "https://".len(),
            "{key}: {url}"
        );
        for u in o["uncertain"].as_array().unwrap() {
            assert!(
                OFFERING_FIELDS.contains(&u.as_str().unwrap()),
                "{key}: uncertain {u}"
            );
        }
        let sources = o["sources"].as_array().unwrap();
        assert!(!sources.is_empty(), "{key}: the API shows its sources");
        for s in sources {
            assert!(s["url"].as_str().unwrap().starts_with("https://"), "{key}");
            assert!(s["checked"].is_string() && s["title"].is_string(), "{key}");
        }
        assert_eq!(o["version"], 1, "{key}");
        assert_eq!(o["retired"], false, "{key}");
        assert!(o["updated_at"].is_string());
    }

    // Filters.
    let t = app.token(who::KOMMUNE_TRD_STAFF).await;
    let mut total = 0;
    for g in GROUPS {
        let r = app.get(&format!("{OFFERINGS}?group={g}"), &t).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let list = items(&r);
        assert!(!list.is_empty(), "group {g} is empty");
        assert!(list.iter().all(|o| o["group"] == g), "{g}: {}", r.text);
        total += list.len();
    }
    assert_eq!(total, all.len());
    let r = app.get(&format!("{OFFERINGS}?q=tolk"), &t).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(keys(&r).contains(&"tolk-offentlige-tjenester".to_owned()));
    for o in items(&r) {
        let hay = format!("{} {} {}", o["key"], o["name_nb"], o["name_en"]).to_lowercase();
        assert!(hay.contains("tolk"), "{hay}");
    }
    let r = app
        .get(
            &format!("{OFFERINGS}?q={}", enc("INTRODUKSJONSPROGRAM")),
            &t,
        )
        .await;
    assert!(
        keys(&r).contains(&"introduksjonsprogram".to_owned()),
        "the name search ignores case: {}",
        r.text
    );
    for wildcard in ["%", "_"] {
        let r = app
            .get(&format!("{OFFERINGS}?q={}", enc(wildcard)), &t)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            items(&r).is_empty(),
            "{wildcard} is a character, not a wildcard: {} hits",
            items(&r).len()
        );
    }
    let r = app.get(&format!("{OFFERINGS}?group=cooking"), &t).await;
    r.assert_problem(422);
    let r = app.get(&format!("{OFFERINGS}?colour=red"), &t).await;
    r.assert_problem(422);
    let r = app
        .get(&format!("{OFFERINGS}?q={}", "a".repeat(101)), &t)
        .await;
    assert_invalid(&r, "q", "too_long", "long q");
    let r = app
        .get(&format!("{OFFERINGS}/{}", uuid::Uuid::new_v4()), &t)
        .await;
    r.assert_problem(404);
}

#[tokio::test]
async fn only_the_operator_admin_manages_the_catalogue() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let (id, tag) = create_offering(&app, &op, "tiltak-for-tilgangstest").await;
    let path = format!("{OFFERINGS}/{id}");
    let before = offering_count(&app).await;
    let mut cells = 0;
    for account in who::ALL.into_iter().filter(|a| *a != who::OPERATOR_ADMIN) {
        let t = app.token(account).await;
        let mut changed = offering_body("tiltak-for-tilgangstest");
        changed["name_en"] = json!("Changed by someone else");
        let attempts = [
            (
                "create",
                call(
                    &app,
                    Method::POST,
                    OFFERINGS,
                    Some(&t),
                    Some(&offering_body("ikke-tillatt")),
                    None,
                )
                .await,
            ),
            (
                "put",
                call(
                    &app,
                    Method::PUT,
                    &path,
                    Some(&t),
                    Some(&changed),
                    Some(&tag),
                )
                .await,
            ),
            (
                "retire",
                call(
                    &app,
                    Method::POST,
                    &format!("{path}/retire"),
                    Some(&t),
                    None,
                    Some(&tag),
                )
                .await,
            ),
            (
                "reinstate",
                call(
                    &app,
                    Method::POST,
                    &format!("{path}/reinstate"),
                    Some(&t),
                    None,
                    Some(&tag),
                )
                .await,
            ),
            (
                "delete",
                call(&app, Method::DELETE, &path, Some(&t), None, Some(&tag)).await,
            ),
        ];
        for (what, r) in attempts {
            assert_eq!(
                r.assert_problem(403),
                "urn:handover:problem:forbidden",
                "{account} {what}"
            );
            cells += 1;
        }
        // Reading stays open to them.
        assert_eq!(app.get(&path, &t).await.status, 200, "{account} reads");
    }
    assert_eq!(cells, 60);
    assert_eq!(offering_count(&app).await, before, "nothing was created");
    assert_eq!(stored_version(&app, &id).await, Some(1), "nothing changed");
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM catalogue_offering_versions WHERE offering_id::text = $1"
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap(),
        1
    );
    // Anonymous callers are not even told.
    let r = call(
        &app,
        Method::POST,
        OFFERINGS,
        None,
        Some(&offering_body("anonym")),
        None,
    )
    .await;
    r.assert_problem(401);

    // The operator administrator may do all of it.
    let mut changed = offering_body("tiltak-for-tilgangstest");
    changed["name_en"] = json!("Changed by the operator");
    let r = call(
        &app,
        Method::PUT,
        &path,
        Some(&op),
        Some(&changed),
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/retire"),
        Some(&op),
        None,
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/reinstate"),
        Some(&op),
        None,
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        &app,
        Method::DELETE,
        &path,
        Some(&op),
        None,
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(stored_version(&app, &id).await, None);
    println!("catalogue management matrix: {cells} denied cells + 5 operator cells");
}

#[tokio::test]
async fn every_change_is_a_new_readable_version_and_the_key_is_fixed() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let r = app
        .post(OFFERINGS, Some(&op), &offering_body("jobbklar-kurs"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("{OFFERINGS}/{id}");
    assert_eq!(r.header("location"), Some(path.as_str()));
    assert_eq!(etag(&r), "\"1\"");
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["retired"], false);
    assert_eq!(r.body["key"], "jobbklar-kurs");
    assert_eq!(
        r.body["uncertain"],
        json!(["financing", "typical_duration"])
    );
    assert_eq!(audit_on(&app, "catalogue.create", &id).await, 1);
    // Readable by a counsellor and listed.
    let counsellor = app.token(who::AGDER_COUNSELLOR).await;
    let r = app
        .get(&format!("{OFFERINGS}?q=jobbklar"), &counsellor)
        .await;
    assert_eq!(keys(&r), vec!["jobbklar-kurs".to_owned()]);

    // Content change: version 2.
    let mut v2 = offering_body("jobbklar-kurs");
    v2["name_nb"] = json!("Jobbklar-kurs (nytt navn)");
    v2["group"] = json!("mapping_and_guidance");
    v2["prerequisites"] = json!({ "min_cefr": "B1", "text": "Norsk på B1 muntlig." });
    v2["uncertain"] = json!([]);
    let r = call(
        &app,
        Method::PUT,
        &path,
        Some(&op),
        Some(&v2),
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"2\"");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["name_nb"], "Jobbklar-kurs (nytt navn)");
    assert_eq!(r.body["group"], "mapping_and_guidance");
    assert_eq!(r.body["prerequisites"]["min_cefr"], "B1");
    let r = app
        .get(
            &format!("{OFFERINGS}?group=mapping_and_guidance"),
            &counsellor,
        )
        .await;
    assert!(
        keys(&r).contains(&"jobbklar-kurs".to_owned()),
        "moved group"
    );

    // The key cannot change (also not together with other changes).
    let mut renamed = v2.clone();
    renamed["key"] = json!("jobbklar-kurs-2");
    renamed["name_en"] = json!("Should not be stored");
    let r = call(
        &app,
        Method::PUT,
        &path,
        Some(&op),
        Some(&renamed),
        Some("\"2\""),
    )
    .await;
    assert_invalid(&r, "key", "immutable", "key change");
    assert_eq!(stored_version(&app, &id).await, Some(2));

    // Retire: version 3; reinstate: version 4.
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/retire"),
        Some(&op),
        None,
        Some("\"2\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["version"].clone(), r.body["retired"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(
        r.body["name_nb"], "Jobbklar-kurs (nytt navn)",
        "content kept"
    );
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/reinstate"),
        Some(&op),
        None,
        Some("\"3\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["version"].clone(), r.body["retired"].clone()),
        (json!(4), json!(false))
    );
    assert_eq!(etag(&r), "\"4\"");

    // Every version stays readable, newest first, to every role.
    let r = app.get(&format!("{path}/versions"), &counsellor).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let versions = items(&r);
    let summary: Vec<(i64, bool)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["retired"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, vec![(4, false), (3, true), (2, false), (1, false)]);
    assert_eq!(versions[3]["data"]["name_nb"], "Testtiltak for nyankomne");
    assert_eq!(
        versions[3]["data"]["group"],
        "work_and_education_programmes"
    );
    assert_eq!(versions[2]["data"]["name_nb"], "Jobbklar-kurs (nytt navn)");
    assert!(versions.iter().all(|v| v["data"]["key"] == "jobbklar-kurs"));
    assert!(versions.iter().all(|v| v["changed_at"].is_string()));
    let staff = app.token(who::KOMMUNE_KRS_STAFF).await;
    assert_eq!(
        app.get(&format!("{path}/versions"), &staff).await.body,
        r.body
    );
    for action in [
        "catalogue.update",
        "catalogue.retire",
        "catalogue.reinstate",
    ] {
        assert_eq!(audit_on(&app, action, &id).await, 1, "{action}");
    }

    // A key that is taken: 409, also for a shipped one.
    for key in ["jobbklar-kurs", "introduksjonsprogram"] {
        let before = offering_count(&app).await;
        let r = app.post(OFFERINGS, Some(&op), &offering_body(key)).await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{key}"
        );
        assert_eq!(offering_count(&app).await, before);
    }
    let r = app
        .get(
            &format!("{OFFERINGS}/{}", offering_id("introduksjonsprogram")),
            &op,
        )
        .await;
    assert_eq!(r.body["version"], 1, "the shipped offering is untouched");
    // Versions of an offering that does not exist.
    let r = app
        .get(
            &format!("{OFFERINGS}/{}/versions", uuid::Uuid::new_v4()),
            &op,
        )
        .await;
    r.assert_problem(404);
}

/// A release that corrects the shipped facts brings them to offerings no administrator has
/// changed, as a new version; an offering an administrator edited keeps their text.
#[tokio::test]
async fn corrected_shipped_facts_reach_untouched_offerings_only() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let untouched = offering_id("jobbsjansen");
    let edited = offering_id("kvalifiseringsprogrammet");
    // The state an installation of the previous release is in: the same offerings without
    // sources, written by the shipped catalogue.
    for id in [untouched, edited] {
        for sql in [
            r#"UPDATE catalogue_offerings SET data = data - 'sources' || '{"typical_duration": "Gammel tekst"}' WHERE id = $1"#,
            r#"UPDATE catalogue_offering_versions SET data = data - 'sources' || '{"typical_duration": "Gammel tekst"}' WHERE offering_id = $1"#,
        ] {
            sqlx::query(sql).bind(id).execute(&app.pool).await.unwrap();
        }
    }
    let path = format!("{OFFERINGS}/{edited}");
    let r = app.get(&path, &op).await;
    let mut body = r.body.clone();
    for k in ["id", "version", "retired", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["financing"] = json!("Kommunens egen tekst.");
    let r = app
        .request(
            Method::PUT,
            &path,
            Some(&op),
            Some(&body),
            &[("if-match", &etag(&r))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let done = handover_db::guidance::load_catalogue(&app.pool)
        .await
        .unwrap();
    assert_eq!((done.added, done.updated), (0, 1));
    let shipped = shipped_catalogue().unwrap();
    let want = shipped.iter().find(|o| o.key == "jobbsjansen").unwrap();
    let r = app.get(&format!("{OFFERINGS}/{untouched}"), &op).await;
    assert_eq!(etag(&r), "\"2\"", "a new version: {}", r.text);
    assert_eq!(r.body["typical_duration"], json!(want.typical_duration));
    assert_eq!(
        r.body["sources"].as_array().unwrap().len(),
        want.sources.len()
    );
    let v = app
        .get(&format!("{OFFERINGS}/{untouched}/versions"), &op)
        .await;
    assert_eq!(items(&v).len(), 2, "the old text stays readable");
    let r = app.get(&path, &op).await;
    assert_eq!(
        etag(&r),
        "\"2\"",
        "the administrator's version stays current"
    );
    assert_eq!(r.body["financing"], "Kommunens egen tekst.");
    assert_eq!(r.body["typical_duration"], "Gammel tekst");
    // A second start finds nothing to do.
    let again = handover_db::guidance::load_catalogue(&app.pool)
        .await
        .unwrap();
    assert_eq!((again.added, again.updated), (0, 0));
}

#[tokio::test]
async fn validation_names_the_fields() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let before = offering_count(&app).await;
    let with = |f: &str, v: Value| {
        let mut b = offering_body("gyldig-nokkel");
        b[f] = v;
        b
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "upper-case key",
            with("key", json!("Fagbrev")),
            "key",
            "invalid_key",
        ),
        (
            "double hyphen",
            with("key", json!("a--b")),
            "key",
            "invalid_key",
        ),
        (
            "leading hyphen",
            with("key", json!("-a")),
            "key",
            "invalid_key",
        ),
        (
            "space in key",
            with("key", json!("fag brev")),
            "key",
            "invalid_key",
        ),
        ("empty key", with("key", json!("")), "key", "invalid_key"),
        (
            "long key",
            with("key", json!("a".repeat(101))),
            "key",
            "invalid_key",
        ),
        (
            "http link",
            with("info_url", json!("http://www.nav.no/")),
            "info_url",
            "invalid_url",
        ),
        (
            "no scheme",
            with("info_url", json!("www.nav.no")),
            "info_url",
            "invalid_url",
        ),
        (
            "space in link",
            with("info_url", json!("https://nav.no/a b")),
            "info_url",
            "invalid_url",
        ),
        (
            "source over http",
            with(
                "sources",
                json!([source("http://www.nav.no/", "2026-01-05", &["financing"])]),
            ),
            "sources[0].url",
            "invalid_url",
        ),
        (
            "source checked in the future",
            with(
                "sources",
                json!([source("https://www.nav.no/", "2999-01-01", &["financing"])]),
            ),
            "sources[0].checked",
            "in_future",
        ),
        (
            "source supporting nothing",
            with(
                "sources",
                json!([source("https://www.nav.no/", "2026-01-05", &[])]),
            ),
            "sources[0].fields",
            "invalid_length",
        ),
        (
            "source supporting a name",
            with(
                "sources",
                json!([source(
                    "https://www.nav.no/",
                    "2026-01-05",
                    &["financing", "name_nb"]
                )]),
            ),
            "sources[0].fields[1]",
            "unknown_field_name",
        ),
        (
            "source without a title",
            with(
                "sources",
                json!([{"title": " ", "url": "https://www.nav.no/", "checked": "2026-01-05", "fields": ["financing"]}]),
            ),
            "sources[0].title",
            "required",
        ),
        (
            "source with a bad date",
            with(
                "sources",
                json!([source("https://www.nav.no/", "5. januar", &["financing"])]),
            ),
            "sources[0].checked",
            "invalid_value",
        ),
        (
            "unknown uncertain field",
            with("uncertain", json!(["financing", "price"])),
            "uncertain[1]",
            "unknown_field_name",
        ),
        (
            "key named uncertain",
            with("uncertain", json!(["key"])),
            "uncertain[0]",
            "unknown_field_name",
        ),
        (
            "unknown field",
            with("price", json!(100)),
            "price",
            "unknown_field",
        ),
        (
            "empty name",
            with("name_nb", json!("  ")),
            "name_nb",
            "required",
        ),
        (
            "long name",
            with("name_en", json!("n".repeat(201))),
            "name_en",
            "too_long",
        ),
        (
            "empty legal basis",
            with("legal_basis", json!("")),
            "legal_basis",
            "required",
        ),
        (
            "empty financing",
            with("financing", json!("")),
            "financing",
            "required",
        ),
        (
            "empty livelihood",
            with("livelihood", json!("")),
            "livelihood",
            "required",
        ),
        (
            "unknown group",
            with("group", json!("cooking")),
            "group",
            "invalid_value",
        ),
        (
            "unknown actor",
            with("responsible_actor", json!("church")),
            "responsible_actor",
            "invalid_value",
        ),
        (
            "bad level",
            with("prerequisites", json!({ "min_cefr": "B3", "text": "" })),
            "prerequisites.min_cefr",
            "invalid_value",
        ),
        (
            "unknown prerequisite field",
            with("prerequisites", json!({ "min_cefr": null, "age": 18 })),
            "prerequisites.age",
            "unknown_field",
        ),
    ];
    for (what, body, field, code) in &cases {
        let r = app.post(OFFERINGS, Some(&op), body).await;
        assert_invalid(&r, field, code, what);
    }
    // A missing field.
    let mut b = offering_body("gyldig-nokkel");
    b.as_object_mut().unwrap().remove("livelihood");
    let r = app.post(OFFERINGS, Some(&op), &b).await;
    assert_invalid(&r, "", "missing_field", "missing livelihood");
    assert_eq!(offering_count(&app).await, before, "nothing was stored");

    // The same checks apply to a new version, and a rejected one changes nothing.
    let id = offering_id("arbeidstrening");
    let path = format!("{OFFERINGS}/{id}");
    for (what, body, field, code) in cases.iter().filter(|c| c.2 != "key") {
        let mut body = body.clone();
        body["key"] = json!("arbeidstrening");
        let r = call(
            &app,
            Method::PUT,
            &path,
            Some(&op),
            Some(&body),
            Some("\"1\""),
        )
        .await;
        assert_invalid(&r, field, code, &format!("PUT {what}"));
    }
    let r = call(
        &app,
        Method::PUT,
        &path,
        Some(&op),
        Some(&with("key", json!("Arbeidstrening"))),
        Some("\"1\""),
    )
    .await;
    assert_invalid(&r, "key", "invalid_key", "PUT bad key");
    assert_eq!(stored_version(&app, &id.to_string()).await, Some(1));
}

#[tokio::test]
async fn retired_offerings_are_hidden_from_the_default_list() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let staff = app.token(who::KRS_STAFF).await;
    let id = offering_id("jobbsjansen");
    let path = format!("{OFFERINGS}/{id}");
    let all_before = keys(&app.get(OFFERINGS, &staff).await);
    assert!(all_before.contains(&"jobbsjansen".to_owned()));

    let r = call(
        &app,
        Method::POST,
        &format!("{path}/retire"),
        Some(&op),
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["retired"], true);

    let default = keys(&app.get(OFFERINGS, &staff).await);
    assert!(!default.contains(&"jobbsjansen".to_owned()));
    assert_eq!(default.len(), all_before.len() - 1);
    let r = app
        .get(&format!("{OFFERINGS}?include_retired=false"), &staff)
        .await;
    assert_eq!(keys(&r), default);
    let r = app
        .get(&format!("{OFFERINGS}?include_retired=true"), &staff)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r), all_before);
    let retired: Vec<Value> = items(&r)
        .into_iter()
        .filter(|o| o["retired"] == true)
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0]["key"], "jobbsjansen");
    // Filters combine.
    let r = app
        .get(
            &format!("{OFFERINGS}?group=work_and_education_programmes&include_retired=true&q=jobb"),
            &staff,
        )
        .await;
    assert!(keys(&r).contains(&"jobbsjansen".to_owned()), "{}", r.text);
    let r = app
        .get(
            &format!("{OFFERINGS}?group=work_and_education_programmes&q=jobb"),
            &staff,
        )
        .await;
    assert!(!keys(&r).contains(&"jobbsjansen".to_owned()), "{}", r.text);
    let r = app
        .get(&format!("{OFFERINGS}?include_retired=maybe"), &staff)
        .await;
    r.assert_problem(422);
    // Still readable by id.
    let r = app.get(&path, &staff).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["retired"], true);

    let r = call(
        &app,
        Method::POST,
        &format!("{path}/reinstate"),
        Some(&op),
        None,
        Some("\"2\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&app.get(OFFERINGS, &staff).await), all_before);
}

#[tokio::test]
async fn referenced_offerings_cannot_be_deleted() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let counsellor = app.token(who::AGDER_COUNSELLOR).await;

    // Demo guidance summaries recommend these (final ones and drafts).
    for key in ["introduksjonsprogram", "fagbrev-pa-jobb", "arbeidstrening"] {
        let id = offering_id(key);
        let path = format!("{OFFERINGS}/{id}");
        let referenced: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM guidance_pathway_steps WHERE offering_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(referenced > 0, "the demo data recommends {key}");
        let r = call(&app, Method::DELETE, &path, Some(&op), None, Some("\"1\"")).await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{key}"
        );
        let r = app.get(&path, &counsellor).await;
        assert_eq!(r.status, 200, "{key} still exists: {}", r.text);
        assert_eq!(r.body["version"], 1);
        let r = app.get(&format!("{path}/versions"), &counsellor).await;
        assert_eq!(items(&r).len(), 1, "{key} keeps its versions");
        assert_eq!(audit_on(&app, "catalogue.delete", &id.to_string()).await, 0);
    }
    // A referenced offering can still be retired instead.
    let path = format!("{OFFERINGS}/{}", offering_id("fagbrev-pa-jobb"));
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/retire"),
        Some(&op),
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(&app, Method::DELETE, &path, Some(&op), None, Some("\"2\"")).await;
    r.assert_problem(409);

    // Unreferenced: a new one with several versions, and a shipped one nobody recommends.
    let (id, _) = create_offering(&app, &op, "kan-slettes").await;
    let path = format!("{OFFERINGS}/{id}");
    let r = call(
        &app,
        Method::POST,
        &format!("{path}/retire"),
        Some(&op),
        None,
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(&app, Method::DELETE, &path, Some(&op), None, Some("\"2\"")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    app.get(&path, &counsellor).await.assert_problem(404);
    app.get(&format!("{path}/versions"), &counsellor)
        .await
        .assert_problem(404);
    assert_eq!(audit_on(&app, "catalogue.delete", &id).await, 1);
    let r = call(&app, Method::DELETE, &path, Some(&op), None, Some("\"2\"")).await;
    r.assert_problem(404);

    let shipped = offering_id("nasjonalt-tolkeregister");
    let path = format!("{OFFERINGS}/{shipped}");
    let r = call(&app, Method::DELETE, &path, Some(&op), None, Some("\"1\"")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .get(&format!("{OFFERINGS}?include_retired=true"), &counsellor)
        .await;
    assert!(!keys(&r).contains(&"nasjonalt-tolkeregister".to_owned()));
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM catalogue_offering_versions WHERE offering_id = $1",
    )
    .bind(shipped)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn changes_need_a_current_if_match() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let (id, tag) = create_offering(&app, &op, "betinget-endring").await;
    let path = format!("{OFFERINGS}/{id}");
    let mut body = offering_body("betinget-endring");
    body["name_en"] = json!("Changed");
    let retire = format!("{path}/retire");
    let reinstate = format!("{path}/reinstate");
    let routes: [(Method, &str, Option<&Value>); 4] = [
        (Method::PUT, &path, Some(&body)),
        (Method::POST, &retire, None),
        (Method::POST, &reinstate, None),
        (Method::DELETE, &path, None),
    ];
    // Missing (or `*`): 428.
    for (m, p, b) in &routes {
        for h in [None, Some("*")] {
            let r = call(&app, m.clone(), p, Some(&op), *b, h).await;
            assert_eq!(
                r.assert_problem(428),
                "urn:handover:problem:precondition-required",
                "{m} {p} {h:?}"
            );
        }
    }
    // Not the current version, weak, or garbage: 412.
    for (m, p, b) in &routes {
        for h in ["\"7\"", "W/\"1\"", "1", "\"abc\""] {
            let r = call(&app, m.clone(), p, Some(&op), *b, Some(h)).await;
            assert_eq!(
                r.assert_problem(412),
                "urn:handover:problem:precondition-failed",
                "{m} {p} {h}"
            );
        }
    }
    assert_eq!(stored_version(&app, &id).await, Some(1), "nothing changed");
    // A list of tags may name the current one.
    let r = call(
        &app,
        Method::PUT,
        &path,
        Some(&op),
        Some(&body),
        Some("\"5\", \"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"2\"");
    // The old tag is now stale, for every route.
    for (m, p, b) in &routes {
        let r = call(&app, m.clone(), p, Some(&op), *b, Some(&tag)).await;
        r.assert_problem(412);
    }
    assert_eq!(stored_version(&app, &id).await, Some(2));
    // Two administrators changing the same version: one wins.
    let mut a = offering_body("betinget-endring");
    a["name_en"] = json!("Change A");
    let mut b = offering_body("betinget-endring");
    b["name_en"] = json!("Change B");
    let (ra, rb) = tokio::join!(
        call(&app, Method::PUT, &path, Some(&op), Some(&a), Some("\"2\"")),
        call(&app, Method::PUT, &path, Some(&op), Some(&b), Some("\"2\""))
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} / {}", ra.text, rb.text);
    assert_eq!(stored_version(&app, &id).await, Some(3));
    let versions = items(&app.get(&format!("{path}/versions"), &op).await);
    assert_eq!(versions.len(), 3);
}
