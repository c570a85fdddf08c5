//! The figures: seeded handovers in a quiet period (the first quarter of 2024, before any demo
//! data) with known outcomes; every figure shown equals the one this test counts on its own,
//! small counts are hidden and cannot be worked out from totals or differences, and each role
//! sees what it may.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{TestApp, spawn_app, who};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;
use time::macros::{date, time as t};
use time::{Date, Duration, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

const MEASURES: [&str; 16] = [
    "participants_settled",
    "handovers_sent",
    "opened_within_7_days",
    "accepted",
    "declined",
    "sent_with_missing_items",
    "missing_competence_mapping",
    "missing_norwegian_levels",
    "missing_guidance_summary",
    "missing_consent_decision",
    "missing_settlement_date",
    "conversations_proposed",
    "conversations_held",
    "conversations_no_show",
    "actions_due",
    "actions_done_on_time",
];

/// `(part, whole)`: the part counts some of the whole.
const PARTS: [(&str, &str); 13] = [
    ("opened_within_7_days", "handovers_sent"),
    ("accepted", "handovers_sent"),
    ("declined", "handovers_sent"),
    ("sent_with_missing_items", "handovers_sent"),
    ("conversations_proposed", "handovers_sent"),
    ("missing_competence_mapping", "sent_with_missing_items"),
    ("missing_norwegian_levels", "sent_with_missing_items"),
    ("missing_guidance_summary", "sent_with_missing_items"),
    ("missing_consent_decision", "sent_with_missing_items"),
    ("missing_settlement_date", "sent_with_missing_items"),
    ("conversations_held", "conversations_proposed"),
    ("conversations_no_show", "conversations_proposed"),
    ("actions_done_on_time", "actions_due"),
];

/// One seeded participant and handover, with what happened to it.
#[derive(Debug, Clone)]
struct Seed {
    centre: &'static str,
    municipality: &'static str,
    sent: Date,
    settlement: Date,
    opened_after_days: Option<i64>,
    /// `accepted`, `declined` or `sent`.
    answer: &'static str,
    missing: Vec<&'static str>,
    /// `held`, `no_show`, `proposed` or none.
    conversation: Option<&'static str>,
    /// Days from settlement to the held conversation.
    conversation_day: i64,
}

const MUNIS: [(&str, &str); 4] = [
    ("4204", "Agder"),
    ("4203", "Agder"),
    ("5001", "Trøndelag"),
    ("5006", "Trøndelag"),
];

fn seeds() -> Vec<Seed> {
    (0..120)
        .map(|i: i64| {
            let municipality = match i % 7 {
                0..=2 => "4204",
                3 | 4 => "5001",
                5 => "4203",
                _ => "5006",
            };
            let month = [
                date!(2024 - 01 - 01),
                date!(2024 - 02 - 01),
                date!(2024 - 03 - 01),
            ][(i % 3) as usize];
            let sent = month + Duration::days((i * 7) % 27);
            let answer = match i % 6 {
                0 => "declined",
                1 => "sent",
                _ => "accepted",
            };
            let missing = if i % 4 == 0 {
                vec!["competence_mapping"]
            } else if i % 8 == 1 {
                vec!["norwegian_levels", "guidance_summary"]
            } else {
                vec![]
            };
            Seed {
                centre: if i % 3 == 0 { "stj" } else { "krs" },
                municipality,
                sent,
                settlement: sent + Duration::days(20),
                opened_after_days: match i % 5 {
                    0 => None,
                    1 => Some(10),
                    _ => Some(2),
                },
                answer,
                missing,
                conversation: (answer == "accepted").then_some(match i % 4 {
                    0 | 1 => "held",
                    2 => "no_show",
                    _ => "proposed",
                }),
                conversation_day: -(i % 10),
            }
        })
        .collect()
}

fn at_ten(d: Date) -> time::OffsetDateTime {
    // 10:00 in Oslo in winter.
    PrimitiveDateTime::new(d, t!(09:00)).assume_offset(UtcOffset::UTC)
}

async fn org(app: &TestApp, sql: &str, key: &str) -> Uuid {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn seed(app: &TestApp, seeds: &[Seed]) {
    let krs = org(
        app,
        "SELECT id FROM organisations WHERE name = $1",
        "Integreringsmottaket i Kristiansand",
    )
    .await;
    let stj = org(
        app,
        "SELECT id FROM organisations WHERE name = $1",
        "Integreringsmottaket i Steinkjer",
    )
    .await;
    let staff = app.user_id(who::KRS_STAFF).await;
    for (i, s) in seeds.iter().enumerate() {
        let centre = if s.centre == "krs" { krs } else { stj };
        let muni = org(
            app,
            "SELECT id FROM organisations WHERE municipality_number = $1",
            s.municipality,
        )
        .await;
        let pid = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO participants (id, reception_centre_id, given_name, family_name, date_of_birth,
                 duf_number, languages, interpreter_language, arrival_date, programme_start, status,
                 notes, created_by)
             VALUES ($1, $2, 'Tall', 'Deltaker', '1990-01-01', $3,
                 '[{\"language\": \"ti\", \"level\": \"native\"}]', 'ti', '2023-06-01', '2023-07-01',
                 'settled', '', $4)",
        )
        .bind(pid)
        .bind(centre)
        .bind(format!("2019{i:08}"))
        .bind(staff)
        .execute(&app.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO settlements (participant_id, municipality_id, settlement_date, contacts)
             VALUES ($1, $2, $3, '[]')",
        )
        .bind(pid)
        .bind(muni)
        .bind(s.settlement)
        .execute(&app.pool)
        .await
        .unwrap();
        let state = match (s.answer, s.conversation) {
            ("declined", _) => "declined",
            ("sent", _) => "sent",
            (_, Some("held")) => "completed",
            _ => "accepted",
        };
        let hid = Uuid::now_v7();
        let sent = at_ten(s.sent);
        sqlx::query(
            "INSERT INTO handovers (id, reference, participant_id, reception_centre_id, municipality_id,
                 state, settlement_date, latest_file_version, sent_at, recipient_opened_version, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10)",
        )
        .bind(hid)
        .bind(format!("HS-2024-{i:06}"))
        .bind(pid)
        .bind(centre)
        .bind(muni)
        .bind(state)
        .bind(s.settlement)
        .bind(sent)
        .bind(i32::from(s.opened_after_days.is_some()))
        .bind(staff)
        .execute(&app.pool)
        .await
        .unwrap();
        let missing: Vec<Value> = s
            .missing
            .iter()
            .map(|m| serde_json::json!({"item": m, "message": "mangler"}))
            .collect();
        sqlx::query(
            "INSERT INTO handover_files (handover_id, file_version, snapshot, section_hashes, sent_at, sent_by)
             VALUES ($1, 1, $2, '{}', $3, $4)",
        )
        .bind(hid)
        .bind(serde_json::json!({"missing": missing}))
        .bind(sent)
        .bind(staff)
        .execute(&app.pool)
        .await
        .unwrap();
        if let Some(days) = s.opened_after_days {
            sqlx::query(
                "INSERT INTO handover_opens (handover_id, file_version, at, user_name) VALUES ($1, 1, $2, 'Kommune')",
            )
            .bind(hid)
            .bind(sent + Duration::days(days))
            .execute(&app.pool)
            .await
            .unwrap();
        }
        if s.answer != "sent" {
            sqlx::query(
                "INSERT INTO handover_transitions (handover_id, from_state, to_state, event, at, actor_name)
                 VALUES ($1, 'received', $2, $3, $4, 'Kommune')",
            )
            .bind(hid)
            .bind(s.answer)
            .bind(if s.answer == "accepted" { "accept" } else { "decline" })
            .bind(sent + Duration::days(3))
            .execute(&app.pool)
            .await
            .unwrap();
        }
        if let Some(c) = s.conversation {
            let cid = Uuid::now_v7();
            let start = at_ten(s.settlement + Duration::days(s.conversation_day));
            sqlx::query(
                "INSERT INTO conversations (id, handover_id, state, proposed_by_org, mode, address,
                     confirmed_start, confirmed_minutes)
                 VALUES ($1, $2, $3, $4, 'in_person', 'Rådhuset', $5, 60)",
            )
            .bind(cid)
            .bind(hid)
            .bind(c)
            .bind(centre)
            .bind((c != "proposed").then_some(start))
            .execute(&app.pool)
            .await
            .unwrap();
            if c == "held" {
                // One action done on time, one past its due date and still open.
                for (pos, due, done) in [(0, 30, Some(25)), (1, 40, None)] {
                    sqlx::query(
                        "INSERT INTO agreed_actions (id, conversation_id, position, description,
                             responsible_organisation_id, due_date, status, status_changed_at,
                             status_changed_by_name)
                         VALUES ($1, $2, $3, 'Følge opp', $4, $5, $6, $7, $8)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(cid)
                    .bind(pos)
                    .bind(muni)
                    .bind(s.sent + Duration::days(due))
                    .bind(if done.is_some() { "done" } else { "open" })
                    .bind(done.map(|d| at_ten(s.sent + Duration::days(d))))
                    .bind(done.map(|_| "Kommune"))
                    .execute(&app.pool)
                    .await
                    .unwrap();
                }
            }
        }
    }
}

/// The counts of one seed, by measure; participants settled by the settlement month.
fn counts(s: &Seed) -> BTreeMap<&'static str, i64> {
    let mut c: BTreeMap<&'static str, i64> = MEASURES.iter().map(|m| (*m, 0)).collect();
    let mut one = |m: &'static str, yes: bool| *c.get_mut(m).unwrap() += i64::from(yes);
    one("handovers_sent", true);
    one(
        "opened_within_7_days",
        s.opened_after_days.is_some_and(|d| d <= 7),
    );
    one("accepted", s.answer == "accepted");
    one("declined", s.answer == "declined");
    one("sent_with_missing_items", !s.missing.is_empty());
    for item in [
        "competence_mapping",
        "norwegian_levels",
        "guidance_summary",
        "consent_decision",
        "settlement_date",
    ] {
        let name: &'static str = MEASURES
            .iter()
            .find(|m| **m == format!("missing_{item}"))
            .unwrap();
        one(name, s.missing.contains(&item));
    }
    one("conversations_proposed", s.conversation.is_some());
    one("conversations_held", s.conversation == Some("held"));
    one("conversations_no_show", s.conversation == Some("no_show"));
    if s.conversation == Some("held") {
        *c.get_mut("actions_due").unwrap() += 2;
        *c.get_mut("actions_done_on_time").unwrap() += 1;
    }
    c
}

fn month_of(d: Date) -> String {
    format!("{}-{:02}", d.year(), u8::from(d.month()))
}

/// Expected figures per row key of a breakdown, computed from the seeds alone.
fn expected(
    seeds: &[Seed],
    key: impl Fn(&Seed, bool) -> String,
) -> BTreeMap<String, BTreeMap<&'static str, i64>> {
    let mut out: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
    for s in seeds {
        let row = out
            .entry(key(s, false))
            .or_insert_with(|| MEASURES.iter().map(|m| (*m, 0)).collect());
        for (m, v) in counts(s) {
            if m != "participants_settled" {
                *row.get_mut(m).unwrap() += v;
            }
        }
        // Settled in the period (the first quarter) only.
        if s.settlement < date!(2024 - 04 - 01) {
            let row = out
                .entry(key(s, true))
                .or_insert_with(|| MEASURES.iter().map(|m| (*m, 0)).collect());
            *row.get_mut("participants_settled").unwrap() += 1;
        }
    }
    out
}

fn value(row: &Value, m: &str) -> Option<i64> {
    row["figures"][m]["value"].as_i64()
}

fn suppressed(row: &Value, m: &str) -> Option<String> {
    row["figures"][m]["suppressed"].as_str().map(str::to_owned)
}

/// Every figure shown is the one counted; nothing under 5 is shown; a hidden figure cannot be
/// worked out from the total and the other rows, nor from a difference within its row.
fn check_table(
    what: &str,
    body: &Value,
    want: &BTreeMap<String, BTreeMap<&'static str, i64>>,
    want_total: &BTreeMap<&'static str, i64>,
    key_of: impl Fn(&Value) -> String,
) {
    let rows = body["rows"].as_array().unwrap();
    let total = &body["total"];
    let zero: BTreeMap<&'static str, i64> = MEASURES.iter().map(|m| (*m, 0)).collect();
    let (mut shown, mut hidden_cells) = (0, 0);
    for m in MEASURES {
        let mut hidden: Vec<i64> = Vec::new();
        for r in rows {
            let w = want.get(&key_of(r)).unwrap_or(&zero)[m];
            match value(r, m) {
                Some(v) => {
                    assert_eq!(v, w, "{what}: {m} of {}", r["key"]);
                    assert!(v >= 5, "{what}: {m} of {} shown as {v}", r["key"]);
                    shown += 1;
                }
                None => {
                    let why = suppressed(r, m).unwrap();
                    if why == "small" {
                        assert!(
                            w < 5 || (want.get(&key_of(r)).unwrap_or(&zero)["handovers_sent"] < 5),
                            "{what}: {m} of {} hidden as small but {w}",
                            r["key"]
                        );
                    }
                    hidden.push(w);
                    hidden_cells += 1;
                }
            }
        }
        let t = want_total[m];
        match value(total, m) {
            Some(v) => {
                assert_eq!(v, t, "{what}: total {m}");
                let sum: i64 = hidden.iter().sum();
                assert!(
                    hidden.is_empty() || (hidden.len() >= 2 && sum >= 5),
                    "{what}: {m}: the hidden rows {hidden:?} can be worked out from the total"
                );
            }
            None => assert!(
                !hidden.is_empty() || rows.is_empty(),
                "{what}: hidden total {m} is the sum of its rows"
            ),
        }
    }
    for r in rows.iter().chain(std::iter::once(total)) {
        for (part, whole) in PARTS {
            if let (Some(p), Some(w)) = (value(r, part), value(r, whole)) {
                assert!(
                    !(1..5).contains(&(w - p)),
                    "{what}: {whole} - {part} = {} in {}",
                    w - p,
                    r["key"]
                );
            }
        }
    }
    assert!(shown > 0, "{what}: every figure hidden proves nothing");
    eprintln!("figure: statistics {what}: {shown} figures shown, {hidden_cells} hidden");
}

async fn get(app: &TestApp, token: &str, q: &str) -> handover_tests::Res {
    app.get(&format!("/api/v1/statistics/handovers?{q}"), token)
        .await
}

const PERIOD: &str = "from=2024-01&to=2024-03";

#[tokio::test]
async fn the_figures_are_the_counted_ones_with_small_counts_hidden() {
    let app = spawn_app().await;
    let seeds = seeds();
    seed(&app, &seeds).await;
    let imdi = app.token(who::IMDI_STAFF).await;
    let all = expected(&seeds, |_, _| "total".into());
    let national = all["total"].clone();

    // By month, the whole country.
    let r = get(&app, &imdi, PERIOD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 3);
    let by_month = expected(&seeds, |s, settled| {
        month_of(if settled { s.settlement } else { s.sent })
    });
    check_table("by month", &r.body, &by_month, &national, |r| {
        r["key"].as_str().unwrap().to_owned()
    });
    // The quartiles of the days from settlement to the conversation, over the country.
    let mut days: Vec<i64> = seeds
        .iter()
        .filter(|s| s.conversation == Some("held"))
        .map(|s| s.conversation_day)
        .collect();
    days.sort();
    let d = &r.body["total"]["days_settlement_to_conversation"];
    assert_eq!(
        d["conversations"]["value"].as_i64(),
        Some(days.len() as i64)
    );
    let median = if days.len() % 2 == 1 {
        days[days.len() / 2] as f64
    } else {
        (days[days.len() / 2 - 1] + days[days.len() / 2]) as f64 / 2.0
    };
    assert_eq!(d["median"].as_f64(), Some(median));

    // By centre, county and municipality.
    let names: BTreeMap<&str, &str> = [
        ("krs", "Integreringsmottaket i Kristiansand"),
        ("stj", "Integreringsmottaket i Steinkjer"),
    ]
    .into();
    let r = get(&app, &imdi, &format!("{PERIOD}&by=centre")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let by_centre = expected(&seeds, |s, _| names[s.centre].to_owned());
    check_table("by centre", &r.body, &by_centre, &national, |r| {
        r["label"].as_str().unwrap().to_owned()
    });
    let county = |n: &str| MUNIS.iter().find(|m| m.0 == n).unwrap().1.to_owned();
    let r = get(&app, &imdi, &format!("{PERIOD}&by=county")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let by_county = expected(&seeds, |s, _| county(s.municipality));
    check_table("by county", &r.body, &by_county, &national, |r| {
        r["label"].as_str().unwrap().to_owned()
    });
    let counties = r.body.clone();
    let r = get(&app, &imdi, &format!("{PERIOD}&by=municipality")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let number_of: BTreeMap<String, &str> = {
        let mut m = BTreeMap::new();
        for (n, _) in MUNIS {
            let id = org(
                &app,
                "SELECT id FROM organisations WHERE municipality_number = $1",
                n,
            )
            .await;
            m.insert(id.to_string(), n);
        }
        m
    };
    let by_muni = expected(&seeds, |s, _| s.municipality.to_owned());
    check_table("by municipality", &r.body, &by_muni, &national, |r| {
        number_of[r["key"].as_str().unwrap()].to_owned()
    });
    // A county shown is not the sum of its municipalities with one of them hidden.
    for c in counties["rows"].as_array().unwrap() {
        for m in MEASURES {
            if value(c, m).is_none() {
                continue;
            }
            let hidden: Vec<i64> = r.body["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|row| {
                    county(number_of[row["key"].as_str().unwrap()]) == c["label"].as_str().unwrap()
                })
                .filter(|row| value(row, m).is_none())
                .map(|row| by_muni[number_of[row["key"].as_str().unwrap()]][m])
                .collect();
            assert!(
                hidden.is_empty() || (hidden.len() >= 2 && hidden.iter().sum::<i64>() >= 5),
                "{m} in {}: {hidden:?}",
                c["label"]
            );
        }
    }

    // One organisation's figures by month, beside the national ones: the rest of the country
    // (national minus own) is not small either.
    let kommune = org(
        &app,
        "SELECT id FROM organisations WHERE municipality_number = $1",
        "4204",
    )
    .await;
    let r = get(&app, &imdi, &format!("{PERIOD}&of={kommune}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let own: Vec<Seed> = seeds
        .iter()
        .filter(|s| s.municipality == "4204")
        .cloned()
        .collect();
    let own_months = expected(&own, |s, settled| {
        month_of(if settled { s.settlement } else { s.sent })
    });
    let own_total = expected(&own, |_, _| "total".into())["total"].clone();
    check_table(
        "Kristiansand by month",
        &r.body,
        &own_months,
        &own_total,
        |r| r["key"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        r.body["national"]["figures"]["handovers_sent"]["value"].as_i64(),
        Some(120)
    );
    let national_months = get(&app, &imdi, PERIOD).await.body;
    for (i, row) in r.body["rows"].as_array().unwrap().iter().enumerate() {
        for m in MEASURES {
            if let (Some(o), Some(n)) = (value(row, m), value(&national_months["rows"][i], m)) {
                assert!(
                    !(1..5).contains(&(n - o)),
                    "{m} {}: the rest of the country is {}",
                    row["key"],
                    n - o
                );
            }
        }
    }

    // CSV: the same figures, as shown.
    let res = app
        .client
        .request(
            Method::GET,
            format!(
                "{}/api/v1/statistics/handovers?{PERIOD}&by=county&format=csv",
                app.base
            ),
        )
        .bearer_auth(&imdi)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("key,label,participants_settled,handovers_sent"));
    assert_eq!(
        lines.len(),
        1 + counties["rows"].as_array().unwrap().len() + 1
    );
    let agder = lines.iter().find(|l| l.starts_with("Agder,")).unwrap();
    let cells: Vec<&str> = agder.split(',').collect();
    let row = counties["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "Agder")
        .unwrap();
    for (i, m) in MEASURES.iter().enumerate() {
        let want = match (value(row, m), suppressed(row, m).as_deref()) {
            (Some(v), _) => v.to_string(),
            (None, Some("complementary")) => ":".into(),
            _ => "< 5".into(),
        };
        assert_eq!(cells[2 + i], want, "{m}");
    }
}

#[tokio::test]
async fn each_role_sees_its_own_figures_and_the_national_ones() {
    let app = spawn_app().await;
    let krs = app.org_of(who::KRS_STAFF).await;
    let stj = app.org_of(who::STJ_STAFF).await;
    let kommune_krs = app.org_of(who::KOMMUNE_KRS_STAFF).await;
    let kommune_trd = app.org_of(who::KOMMUNE_TRD_STAFF).await;
    let agder = app.org_of(who::AGDER_COUNSELLOR).await;
    let trd_cc = app.org_of(who::TRD_COUNSELLOR).await;
    for (email, own, other) in [
        (who::KRS_STAFF, krs, stj),
        (who::STJ_STAFF, stj, krs),
        (who::KOMMUNE_KRS_STAFF, kommune_krs, kommune_trd),
        (who::KOMMUNE_TRD_STAFF, kommune_trd, kommune_krs),
        (who::AGDER_COUNSELLOR, agder, trd_cc),
        (who::TRD_COUNSELLOR, trd_cc, agder),
    ] {
        let token = app.token(email).await;
        let r = get(&app, &token, "").await;
        assert_eq!(r.status, 200, "{email}: {}", r.text);
        assert!(r.body["of"].is_null());
        let r = get(&app, &token, &format!("of={own}")).await;
        assert_eq!(r.status, 200, "{email}: {}", r.text);
        assert_eq!(r.body["of"], own.to_string());
        assert!(r.body["national"].is_object());
        get(&app, &token, &format!("of={other}"))
            .await
            .assert_problem(404);
        for by in ["centre", "county", "municipality"] {
            get(&app, &token, &format!("by={by}"))
                .await
                .assert_problem(403);
        }
    }
    for email in [
        who::KRS_ADMIN,
        who::KOMMUNE_KRS_ADMIN,
        who::OPERATOR_ADMIN,
        who::IMDI_ADMIN,
    ] {
        let token = app.token(email).await;
        get(&app, &token, "").await.assert_problem(403);
    }
    let imdi = app.token(who::IMDI_STAFF).await;
    for q in [
        format!("of={krs}"),
        format!("of={kommune_trd}"),
        format!("of={trd_cc}"),
        "by=centre".into(),
        "by=county".into(),
        "by=municipality&from=2026-01".into(),
    ] {
        let r = get(&app, &imdi, &q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
    }
    // The directorate sees no participant.
    app.get("/api/v1/participants", &imdi)
        .await
        .assert_problem(403);
    app.get("/api/v1/handovers", &imdi)
        .await
        .assert_problem(403);

    // Bad input: a clear 4xx each.
    let operator_org = app.org_of(who::OPERATOR_ADMIN).await;
    for (q, status) in [
        ("from=2024-13".to_owned(), 422),
        ("to=".to_owned(), 422),
        ("from=%202024-01".to_owned(), 422),
        ("from=2024-1".to_owned(), 422),
        ("from=2024-03&to=2024-01".to_owned(), 422),
        ("from=2019-12&to=2020-01".to_owned(), 422),
        ("from=2020-01&to=2025-01".to_owned(), 422),
        ("to=2099-01".to_owned(), 422),
        ("by=planet".to_owned(), 400),
        ("of=not-an-id".to_owned(), 400),
        ("colour=red".to_owned(), 400),
        ("format=xml".to_owned(), 400),
        (format!("by=centre&of={krs}"), 422),
        (format!("of={operator_org}"), 404),
        (format!("of={}", Uuid::now_v7()), 404),
    ] {
        let r = get(&app, &imdi, &q).await;
        assert!(
            r.status == status || (status == 400 && r.status == 422),
            "{q}: {} {}",
            r.status,
            r.text
        );
    }
}
