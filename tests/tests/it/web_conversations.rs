//! The transfer conversation's pages over plain HTTP (no browser): who may see and act on a
//! conversation across two centres and two municipalities, the forms' errors beside their
//! fields (the spring gap, the autumn repeat, a double booking in the user's language), and
//! the whole round of propose, other times, accept, move and minutes with what it stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{TestApp, spawn_app, who};
use time::{Date, Month, OffsetDateTime, Weekday};
use uuid::Uuid;

/// The received or accepted handovers of a centre to a municipality that have no live
/// conversation, by id.
async fn open_handovers(app: &TestApp, centre: &str, municipality: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT h.id FROM handovers h
         JOIN organisations c ON c.id = h.reception_centre_id
         JOIN organisations m ON m.id = h.municipality_id
         WHERE c.name = $1 AND m.name = $2 AND h.state IN ('received', 'accepted')
           AND NOT EXISTS (SELECT 1 FROM conversations x WHERE x.handover_id = h.id
                           AND x.state IN ('proposed', 'confirmed'))
         ORDER BY h.id",
    )
    .bind(centre)
    .bind(municipality)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

const KRS_CENTRE: &str = "Integreringsmottaket i Kristiansand";
const STJ_CENTRE: &str = "Integreringsmottaket i Steinkjer";

/// The last Sunday of `month` in the first year after today that has it in the future.
fn last_sunday(month: Month) -> Date {
    let today = OffsetDateTime::now_utc().date();
    for year in [today.year(), today.year() + 1] {
        let mut d = Date::from_calendar_date(year, month, month.length(year)).unwrap();
        while d.weekday() != Weekday::Sunday {
            d = d.previous_day().unwrap();
        }
        if d > today + time::Duration::days(2) {
            return d;
        }
    }
    unreachable!()
}

fn iso(d: Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A weekday at least `days` ahead.
fn ahead(days: i64) -> Date {
    let mut d = OffsetDateTime::now_utc().date() + time::Duration::days(days);
    while matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        d = d.next_day().unwrap();
    }
    d
}

/// The live conversation of a handover.
async fn conversation_of(app: &TestApp, handover: Uuid) -> Option<(Uuid, String, i32)> {
    sqlx::query_as(
        "SELECT id, state, calendar_sequence FROM conversations
         WHERE handover_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(handover)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

async fn handover_state(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT state FROM handovers WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Proposes a conversation by video with the given slots `(date, time, minutes, fold)` and
/// the signed-in user invited.
async fn propose(
    web: &mut WebSession<'_>,
    handover: Uuid,
    slots: &[(&str, &str, &str, &str)],
    extra: &[(&str, &str)],
) -> Page {
    let form = web
        .get(&format!("/handovers/{handover}/conversations/new"))
        .await;
    assert_eq!(form.status, 200, "the proposal form: {}", form.text);
    let version = hidden(&form.text, "version").unwrap();
    let me = form
        .text
        .split("name=\"attendee\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_owned);
    let mut owned: Vec<(String, String)> = vec![("version".into(), version)];
    for (i, (d, t, m, fold)) in slots.iter().enumerate() {
        owned.push((format!("slot{i}_date"), (*d).into()));
        owned.push((format!("slot{i}_time"), (*t).into()));
        owned.push((format!("slot{i}_minutes"), (*m).into()));
        if !fold.is_empty() {
            owned.push((format!("slot{i}_fold"), (*fold).into()));
        }
    }
    owned.push(("mode".into(), "video".into()));
    owned.push((
        "video_link".into(),
        "https://meet.example.no/overforing".into(),
    ));
    if let Some(me) = me {
        owned.push(("attendee".into(), me));
    }
    for (k, v) in extra {
        owned.push(((*k).into(), (*v).into()));
    }
    let fields: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    web.post_form(&format!("/handovers/{handover}/conversations"), &fields)
        .await
}

/// The municipality opens the file and accepts the handover (a time is agreed only then).
async fn accept_handover(muni: &mut WebSession<'_>, h: Uuid) {
    let file = muni.get(&format!("/handovers/{h}/file")).await;
    assert_eq!(file.status, 200, "{}", file.text);
    if let Some(version) = hidden(&file.text, "version") {
        let r = muni
            .post_form(&format!("/handovers/{h}/accept"), &[("version", &version)])
            .await;
        r.assert_redirect(
            &format!("/handovers/{h}?done=accepted"),
            "accept the handover",
        );
    }
}

/// Posts a form of the conversation page with its current version.
async fn act(web: &mut WebSession<'_>, id: Uuid, what: &str, fields: &[(&str, &str)]) -> Page {
    let page = web.get(&format!("/conversations/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let version = hidden(&page.text, "version").unwrap_or_else(|| "0".into());
    let mut all = vec![("version", version.as_str())];
    all.extend_from_slice(fields);
    web.post_form(&format!("/conversations/{id}/{what}"), &all)
        .await
}

fn assert_error_beside(p: &Page, field: &str, text: &str, what: &str) {
    assert_eq!(p.status, 422, "{what}: {}", p.text);
    assert!(
        p.text.contains(&format!("id=\"{field}-error\"")),
        "{what}: no message beside {field}: {}",
        p.text
    );
    assert!(p.text.contains(text), "{what}: {text:?} not in the page");
}

#[tokio::test]
async fn a_conversation_is_seen_and_handled_only_by_its_parties() {
    let app = spawn_app().await;
    let krs = open_handovers(&app, KRS_CENTRE, "Kristiansand").await;
    let h = krs[0];
    let mut centre = signed_in(&app, who::KRS_STAFF).await;
    let day = iso(ahead(9));
    let r = propose(&mut centre, h, &[(&day, "10:00", "60", "")], &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (c, state, _) = conversation_of(&app, h).await.unwrap();
    assert_eq!(state, "proposed");
    assert_eq!(r.location(), format!("/conversations/{c}?done=proposed"));
    // The parties see it: the centre, its career centre and the municipality. Nobody else does,
    // not even that it exists.
    for (email, status) in [
        (who::KRS_STAFF, 200),
        (who::KOMMUNE_KRS_STAFF, 200),
        (who::AGDER_COUNSELLOR, 200),
        (who::STJ_STAFF, 404),
        (who::KOMMUNE_TRD_STAFF, 404),
        (who::TRD_COUNSELLOR, 404),
        (who::KRS_ADMIN, 403),
        (who::KOMMUNE_KRS_ADMIN, 403),
        (who::OPERATOR_ADMIN, 403),
    ] {
        let mut web = signed_in(&app, email).await;
        for path in [
            format!("/conversations/{c}"),
            format!("/conversations/{c}/counter"),
        ] {
            let p = web.get(&path).await;
            let expected = match (path.ends_with("counter"), email) {
                // Only the side that did not propose answers with other times; the career
                // centre reads the conversation but does not arrange it.
                (true, who::KRS_STAFF) => 409,
                (true, who::AGDER_COUNSELLOR) => 403,
                _ => status,
            };
            assert_eq!(p.status.as_u16(), expected, "{email} {path}: {}", p.text);
        }
        let p = web.get(&format!("/handovers/{h}/conversations/new")).await;
        assert_ne!(
            p.status.as_u16(),
            200,
            "{email} may not propose a second one"
        );
        if status != 200 || email == who::AGDER_COUNSELLOR {
            // Counsellors may never arrange a conversation (403); others do not see this one.
            let status = if matches!(email, who::AGDER_COUNSELLOR | who::TRD_COUNSELLOR) {
                403
            } else {
                status
            };
            let p = web
                .post_form(
                    &format!("/conversations/{c}/accept"),
                    &[("version", "1"), ("slot", "0")],
                )
                .await;
            assert_eq!(p.status.as_u16(), status, "{email} accepts");
            let p = web
                .post_form(
                    &format!("/conversations/{c}/cancel"),
                    &[("version", "1"), ("cancel_reason", "Ikke min")],
                )
                .await;
            assert_eq!(p.status.as_u16(), status, "{email} cancels");
        }
    }
    assert_eq!(conversation_of(&app, h).await.unwrap().1, "proposed");
    // The proposer cannot accept its own times; the page offers no button for it.
    let p = centre.get(&format!("/conversations/{c}")).await;
    assert!(!p.text.contains(&format!("/conversations/{c}/accept")));
    let p = act(&mut centre, c, "accept", &[("slot", "0")]).await;
    assert_eq!(p.status, 409, "{}", p.text);
    // A post without the session's token changes nothing.
    let mut muni = signed_in(&app, who::KOMMUNE_KRS_STAFF).await;
    let p = muni
        .post_with(
            &format!("/conversations/{c}/accept"),
            &[("version", "1"), ("slot", "0")],
            Field::Right,
            Field::Missing,
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(conversation_of(&app, h).await.unwrap().1, "proposed");
    // Garbage is a 4xx page, never a 500.
    for (path, fields) in [
        ("accept", vec![("version", "x"), ("slot", "0")]),
        ("accept", vec![("version", "1"), ("slot", "zero")]),
        ("accept", vec![("version", "1"), ("slot", "9")]),
        ("cancel", vec![("version", "1")]),
        ("minutes", vec![("version", "1"), ("outcome", "held")]),
    ] {
        let p = muni
            .post_form(&format!("/conversations/{c}/{path}"), &fields)
            .await;
        assert!(
            p.status.is_client_error(),
            "{path} {fields:?}: {}",
            p.status
        );
    }
    for path in [
        "/conversations/not-an-id",
        &format!("/conversations/{}", Uuid::nil()),
    ] {
        assert_eq!(muni.get(path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn times_the_clocks_skip_or_repeat_are_refused_or_asked_about() {
    let app = spawn_app().await;
    let h = open_handovers(&app, KRS_CENTRE, "Kristiansand").await[0];
    let mut centre = signed_in(&app, who::KRS_STAFF).await;
    let spring = iso(last_sunday(Month::March));
    let autumn = last_sunday(Month::October);
    // A time that does not exist: refused beside the time, with why.
    let r = propose(&mut centre, h, &[(&spring, "02:30", "60", "")], &[]).await;
    assert_error_beside(&r, "slot0_time", "finnes ikke", "the spring gap");
    assert!(conversation_of(&app, h).await.is_none());
    // The repeated hour asks which one is meant, and keeps what was typed.
    let twice = iso(autumn);
    let r = propose(&mut centre, h, &[(&twice, "02:30", "45", "")], &[]).await;
    assert_error_beside(&r, "slot0_fold", "kommer to ganger", "the autumn repeat");
    assert!(r.text.contains("id=\"slot0_fold-winter\""), "{}", r.text);
    assert!(r.text.contains(&format!("value=\"{twice}\"")));
    assert!(conversation_of(&app, h).await.is_none());
    // Bad input of every kind is said beside its field, all at once.
    let r = propose(
        &mut centre,
        h,
        &[("", "", "60", ""), ("2027-02-30", "25:00", "abc", "")],
        &[
            ("interpreter_name", "Tolk Tolkesen"),
            ("interpreter_language", ""),
        ],
    )
    .await;
    assert_eq!(r.status, 422);
    for f in [
        "slot0_date",
        "slot0_time",
        "slot1_date",
        "slot1_time",
        "slot1_minutes",
    ] {
        assert!(r.text.contains(&format!("id=\"{f}-error\"")), "{f}");
    }
    let r = propose(
        &mut centre,
        h,
        &[(&iso(ahead(3)), "10:00", "5", "")],
        &[
            ("interpreter_name", "Tolk Tolkesen"),
            ("interpreter_language", ""),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"slot0_minutes-error\""), "{}", r.text);
    assert!(
        r.text.contains("id=\"interpreter_language-error\""),
        "{}",
        r.text
    );
    assert!(conversation_of(&app, h).await.is_none());
    // The second of the two: 02:30 winter time is 01:30 UTC.
    let r = propose(
        &mut centre,
        h,
        &[
            (&twice, "02:30", "45", "winter"),
            (&iso(ahead(4)), "09:00", "60", ""),
        ],
        &[
            ("interpreter_name", "Tolk Tolkesen"),
            ("interpreter_language", "ti"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (c, _, _) = conversation_of(&app, h).await.unwrap();
    let start: OffsetDateTime = sqlx::query_scalar(
        "SELECT starts_at FROM conversation_slots WHERE conversation_id = $1 AND position = 0",
    )
    .bind(c)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        start,
        time::PrimitiveDateTime::new(autumn, time::Time::from_hms(1, 30, 0).unwrap()).assume_utc()
    );
    let page = centre.get(&format!("/conversations/{c}")).await;
    assert!(page.text.contains("Tolk Tolkesen"), "{}", page.text);
}

#[tokio::test]
async fn a_conversation_is_answered_agreed_moved_and_minuted_and_double_bookings_are_refused() {
    let app = spawn_app().await;
    let krs = open_handovers(&app, KRS_CENTRE, "Kristiansand").await;
    assert!(
        krs.len() >= 2,
        "two open Kristiansand handovers in the demo: {krs:?}"
    );
    let (h, h2) = (krs[0], krs[1]);
    let mut centre = signed_in(&app, who::KRS_STAFF).await;
    let mut muni = signed_in(&app, who::KOMMUNE_KRS_STAFF).await;
    let day = ahead(10);
    let muni_user = app.user_id(who::KOMMUNE_KRS_STAFF).await.to_string();
    let r = propose(
        &mut centre,
        h,
        &[
            (&iso(day), "10:00", "60", ""),
            (&iso(day), "13:00", "60", ""),
        ],
        &[("attendee", &muni_user)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (c, _, _) = conversation_of(&app, h).await.unwrap();
    // The municipality answers with another time.
    let other = ahead(12);
    let p = muni.get(&format!("/conversations/{c}/counter")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let version = hidden(&p.text, "version").unwrap();
    let r = muni
        .post_form(
            &format!("/conversations/{c}/counter"),
            &[
                ("version", &version),
                ("slot0_date", &iso(other)),
                ("slot0_time", "09:00"),
                ("slot0_minutes", "90"),
            ],
        )
        .await;
    r.assert_redirect(&format!("/conversations/{c}?done=proposed"), "other times");
    // A time is agreed once the handover is accepted.
    let p = centre.get(&format!("/conversations/{c}")).await;
    if handover_state(&app, h).await == "received" {
        assert!(!p.text.contains(&format!("/conversations/{c}/accept")));
        let r = act(&mut centre, c, "accept", &[("slot", "0")]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.text.contains("kan ikke avtales nå"), "{}", r.text);
    }
    accept_handover(&mut muni, h).await;
    accept_handover(&mut muni, h2).await;
    // Now the centre answers; the municipality waits.
    let p = muni.get(&format!("/conversations/{c}")).await;
    assert!(!p.text.contains(&format!("/conversations/{c}/accept")));
    let r = act(&mut centre, c, "accept", &[("slot", "0")]).await;
    r.assert_redirect(&format!("/conversations/{c}?done=confirmed"), "accept");
    let (_, state, seq) = conversation_of(&app, h).await.unwrap();
    assert_eq!(state, "confirmed");
    assert_eq!(handover_state(&app, h).await, "conversation_scheduled");
    // An accept sent twice (the second with the old version) changes nothing and says so.
    let r = centre
        .post_form(
            &format!("/conversations/{c}/accept"),
            &[("version", &version), ("slot", "0")],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // The same municipality staff member cannot be in two conversations at once.
    let r = propose(&mut muni, h2, &[(&iso(other), "09:30", "30", "")], &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (c2, _, _) = conversation_of(&app, h2).await.unwrap();
    let r = act(&mut centre, c2, "accept", &[("slot", "0")]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(
        r.text
            .contains("er allerede satt opp i en annen overføringssamtale"),
        "{}",
        r.text
    );
    assert_eq!(conversation_of(&app, h2).await.unwrap().1, "proposed");
    // Moved: the form starts from the agreed time; the calendar's sequence rises.
    let p = centre.get(&format!("/conversations/{c}/reschedule")).await;
    assert_eq!(p.status, 200);
    assert!(
        p.text.contains(&format!("value=\"{}\"", iso(other))),
        "{}",
        p.text
    );
    assert!(p.text.contains("value=\"09:00\""));
    let version = hidden(&p.text, "version").unwrap();
    let moved = ahead(14);
    let r = centre
        .post_form(
            &format!("/conversations/{c}/reschedule"),
            &[
                ("version", &version),
                ("slot0_date", &iso(moved)),
                ("slot0_time", "11:15"),
                ("slot0_minutes", "60"),
            ],
        )
        .await;
    r.assert_redirect(&format!("/conversations/{c}?done=moved"), "move");
    let (_, _, seq2) = conversation_of(&app, h).await.unwrap();
    assert!(seq2 > seq, "the sequence rises: {seq} → {seq2}");
    // Minutes wait for the conversation to begin.
    assert_eq!(
        muni.get(&format!("/conversations/{c}/minutes"))
            .await
            .status,
        409
    );
    app.clock.advance(time::Duration::days(15));
    let p = muni.get(&format!("/conversations/{c}/minutes")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let version = hidden(&p.text, "version").unwrap();
    let municipality = app.org_of(who::KOMMUNE_KRS_STAFF).await.to_string();
    let r = muni
        .post_form(
            &format!("/conversations/{c}/minutes"),
            &[
                ("version", &version),
                ("outcome", "held"),
                ("notes", "Gikk gjennom mappen."),
                ("action0_description", "Melde på norskkurs B1"),
                ("action0_org", ""),
                ("action0_due", "31.02.2027"),
            ],
        )
        .await;
    assert_error_beside(
        &r,
        "action0_org",
        "Velg",
        "an action without its responsible",
    );
    assert!(r.text.contains("id=\"action0_due-error\""));
    assert!(r.text.contains("Melde på norskkurs B1"), "kept as typed");
    let r = muni
        .post_form(
            &format!("/conversations/{c}/minutes"),
            &[
                ("version", &version),
                ("outcome", "held"),
                ("notes", "Gikk gjennom mappen."),
                ("action0_description", "Melde på norskkurs B1"),
                ("action0_org", &municipality),
                ("action0_due", &iso(ahead(40))),
            ],
        )
        .await;
    r.assert_redirect(&format!("/conversations/{c}?done=minutes"), "minutes");
    assert_eq!(conversation_of(&app, h).await.unwrap().1, "held");
    assert_eq!(handover_state(&app, h).await, "completed");
    let page = centre.get(&format!("/conversations/{c}")).await;
    assert!(page.text.contains("Melde på norskkurs B1"));
    assert!(page.text.contains("Kristiansand"));
    assert!(!page.text.contains(&format!("/conversations/{c}/minutes\"")));
    // The week of the new time shows it, for both sides.
    for web in [&mut centre, &mut muni] {
        let w = web
            .get(&format!("/conversations/week?date={}", iso(moved)))
            .await;
        assert_eq!(w.status, 200);
        assert!(w.text.contains("11:15–12:15"), "{}", w.text);
        assert!(w.text.contains(&format!("/conversations/{c}")));
    }
    // The handover page lists the conversation and the file versions sent.
    let p = centre.get(&format!("/handovers/{h}")).await;
    assert!(p.text.contains(&format!("/conversations/{c}")));
    assert!(p.text.contains("Sendte versjoner av mappen"));
}

#[tokio::test]
async fn a_cancelled_conversation_says_why_and_the_handover_takes_a_new_one() {
    let app = spawn_app().await;
    let h = open_handovers(&app, STJ_CENTRE, "Trondheim").await[0];
    let mut centre = signed_in(&app, who::STJ_STAFF).await;
    let mut muni = signed_in(&app, who::KOMMUNE_TRD_STAFF).await;
    let r = propose(&mut muni, h, &[(&iso(ahead(8)), "12:00", "60", "")], &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (c, _, _) = conversation_of(&app, h).await.unwrap();
    accept_handover(&mut muni, h).await;
    let r = act(&mut centre, c, "accept", &[("slot", "0")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = act(&mut centre, c, "cancel", &[("cancel_reason", " ")]).await;
    assert_error_beside(&r, "cancel_reason", "", "a cancel without a reason");
    assert_eq!(conversation_of(&app, h).await.unwrap().1, "confirmed");
    let r = act(
        &mut centre,
        c,
        "cancel",
        &[("cancel_reason", "Deltakeren er syk")],
    )
    .await;
    r.assert_redirect(&format!("/conversations/{c}?done=cancelled"), "cancel");
    let p = muni.get(&format!("/conversations/{c}")).await;
    assert!(p.text.contains("Deltakeren er syk"));
    assert_eq!(handover_state(&app, h).await, "accepted");
    let p = muni.get(&format!("/handovers/{h}")).await;
    assert!(
        p.text
            .contains(&format!("/handovers/{h}/conversations/new")),
        "a new one may be proposed"
    );
    // The Kristiansand municipality sees none of it.
    let mut other = signed_in(&app, who::KOMMUNE_KRS_STAFF).await;
    assert_eq!(other.get(&format!("/conversations/{c}")).await.status, 404);
    assert_eq!(
        other
            .get(&format!("/handovers/{h}/conversations/new"))
            .await
            .status,
        404
    );
}
