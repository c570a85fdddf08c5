//! The handover's second half in a real browser, across two centres and two municipalities
//! and in both languages: the municipality opens and accepts the file (the other municipality
//! cannot open it), proposes a transfer conversation with an interpreter, the centre answers
//! with another time, the municipality accepts it (the invitations arrive at the test's SMTP
//! server as RFC 5545 METHOD:REQUEST), the centre moves it (SEQUENCE rises), the minutes
//! complete the handover, and a consent withdrawn afterwards shows its section as withheld.
//! axe-core finds no violation on any page on the way; the pictures are those of `docs/web.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conversations::wait_invites;
use handover_tests::browser::{Browser, Js};
use handover_tests::{TestApp, spawn_app, who};
use time::{Date, Weekday};
use uuid::Uuid;

/// One centre and the municipality it settles to, in one language.
struct Pair {
    centre: &'static str,
    centre_staff: &'static str,
    municipality: &'static str,
    municipality_staff: &'static str,
    other_municipality_staff: &'static str,
    lang: &'static str,
}

const PAIRS: [Pair; 2] = [
    Pair {
        centre: "Integreringsmottaket i Kristiansand",
        centre_staff: who::KRS_STAFF,
        municipality: "Kristiansand",
        municipality_staff: who::KOMMUNE_KRS_STAFF,
        other_municipality_staff: who::KOMMUNE_TRD_STAFF,
        lang: "nb",
    },
    Pair {
        centre: "Integreringsmottaket i Steinkjer",
        centre_staff: who::STJ_STAFF,
        municipality: "Trondheim",
        municipality_staff: who::KOMMUNE_TRD_STAFF,
        other_municipality_staff: who::KOMMUNE_KRS_STAFF,
        lang: "en",
    },
];

/// A weekday at least `days` ahead of the service's clock, as staff type it.
fn ahead(app: &TestApp, days: i64) -> (Date, String) {
    let mut d = app.clock.today() + time::Duration::days(days);
    while matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
        d = d.next_day().unwrap();
    }
    let typed = format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year());
    (d, typed)
}

async fn received(app: &TestApp, p: &Pair) -> (Uuid, Uuid) {
    sqlx::query_as(
        "SELECT h.id, h.participant_id FROM handovers h
         JOIN organisations c ON c.id = h.reception_centre_id
         JOIN organisations m ON m.id = h.municipality_id
         WHERE c.name = $1 AND m.name = $2 AND h.state = 'received'
           AND NOT EXISTS (SELECT 1 FROM conversations x WHERE x.handover_id = h.id)
         ORDER BY h.id LIMIT 1",
    )
    .bind(p.centre)
    .bind(p.municipality)
    .fetch_one(&app.pool)
    .await
    .expect("a received handover without a conversation in the demo")
}

async fn scalar(app: &TestApp, sql: &str, id: Uuid) -> String {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Checks the page is the one expected and accessible, and pictures it for the guide.
async fn check(b: &Browser, path: &str, shot: &str, lang: &str) {
    b.wait_path(path).await;
    assert!(b.has("main h1").await, "{path}: no heading");
    b.assert_accessible().await;
    b.screenshot(&format!("{shot}-{lang}")).await;
}

async fn as_user(b: &Browser, email: &str, lang: &str) {
    b.goto("/").await;
    b.sign_out().await;
    b.sign_in(email).await;
    b.use_lang(lang).await;
}

#[tokio::test]
async fn a_transfer_conversation_is_agreed_moved_and_held_in_the_browser() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::KRS_STAFF).await;
    for p in &PAIRS {
        journey(&app, &b, p).await;
    }
    b.close().await;
}

async fn journey(app: &TestApp, b: &Browser, p: &Pair) {
    let lang = p.lang;
    let (h, participant) = received(app, p).await;
    let file = format!("/handovers/{h}/file");

    // The other municipality cannot open the file.
    as_user(b, p.other_municipality_staff, lang).await;
    b.goto(&file).await;
    assert!(
        !b.has("section.app-file-section").await,
        "{file} for another municipality"
    );

    // The municipality opens the file and accepts the handover.
    as_user(b, p.municipality_staff, lang).await;
    b.goto(&file).await;
    check(b, &file, "journey-file", lang).await;
    b.click_css("form[action$='/accept'] button").await;
    b.wait_path(&format!("/handovers/{h}?done=accepted")).await;
    b.assert_accessible().await;

    // It proposes a conversation in person, with an interpreter and the participant.
    b.click_css(&format!("a[href='/handovers/{h}/conversations/new']"))
        .await;
    check(
        b,
        &format!("/handovers/{h}/conversations/new"),
        "propose",
        lang,
    )
    .await;
    let (_, first) = ahead(app, 10);
    let (_, second) = ahead(app, 11);
    b.fill("slot0_date", &first).await;
    b.fill("slot0_time", "10:00").await;
    b.fill("slot1_date", &second).await;
    b.fill("slot1_time", "13:00").await;
    b.choose("mode", "in_person").await;
    // A meeting in person without its address is said beside the field.
    b.submit("slot0_date").await;
    b.wait_for(
        || async { b.has("#address[aria-invalid='true']").await },
        "an address",
    )
    .await;
    b.assert_accessible().await;
    b.fill("address", "Rådhusgata 1").await;
    b.fill("interpreter_name", "Tolk Tesfay").await;
    b.fill("interpreter_email", "tolk@tolketjeneste.example")
        .await;
    b.fill("interpreter_language", "ti").await;
    b.fill("participant_name", "Deltaker Demo").await;
    b.submit("slot0_date").await;
    b.wait_for(
        || async { b.path().await.ends_with("?done=proposed") },
        "the proposal",
    )
    .await;
    let c: Uuid = sqlx::query_scalar("SELECT id FROM conversations WHERE handover_id = $1")
        .bind(h)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let conversation = format!("/conversations/{c}");

    // The centre answers with another time.
    as_user(b, p.centre_staff, lang).await;
    b.goto(&conversation).await;
    check(b, &conversation, "conversation-proposed", lang).await;
    b.click_css(&format!("a[href='{conversation}/counter']"))
        .await;
    check(b, &format!("{conversation}/counter"), "counter", lang).await;
    let (moved_day, third) = ahead(app, 12);
    b.fill("slot0_date", &third).await;
    b.fill("slot0_time", "09:00").await;
    b.submit("slot0_date").await;
    b.wait_path(&format!("{conversation}?done=proposed")).await;

    // The municipality accepts it; everyone invited gets the invitation.
    as_user(b, p.municipality_staff, lang).await;
    b.goto(&conversation).await;
    b.click_css(&format!("form[action='{conversation}/accept'] button"))
        .await;
    check(
        b,
        &format!("{conversation}?done=confirmed"),
        "conversation",
        lang,
    )
    .await;
    assert_eq!(
        scalar(app, "SELECT state FROM handovers WHERE id = $1", h).await,
        "conversation_scheduled"
    );
    let uid = handover_db::conversations::calendar_uid(c);
    let sent = wait_invites(app, &uid, 2).await;
    assert!(
        sent.len() >= 2,
        "the municipality's staff and the interpreter: {}",
        sent.len()
    );
    for i in &sent {
        assert_eq!(i.cal.val("METHOD"), "REQUEST");
        assert_eq!(i.method_param.to_ascii_uppercase(), "REQUEST");
    }
    let staff = sent
        .iter()
        .find(|i| i.mail.to == p.municipality_staff)
        .expect("the municipality's invitation");
    assert!(
        staff.mail.text().contains(&format!("/conversations/{c}")),
        "a link to the page"
    );
    let interpreter = sent
        .iter()
        .find(|i| i.mail.to == "tolk@tolketjeneste.example")
        .expect("the interpreter's invitation");
    let everything = interpreter.mail.everything();
    assert!(everything.contains("Rådhusgata 1"), "the place");
    assert!(
        !everything.contains(&app.base),
        "no link into the service for an external attendee"
    );
    let seq: i64 = staff.seq().parse().unwrap();

    // The centre moves it: an update with a higher sequence.
    as_user(b, p.centre_staff, lang).await;
    b.goto(&conversation).await;
    b.click_css(&format!("a[href='{conversation}/reschedule']"))
        .await;
    check(b, &format!("{conversation}/reschedule"), "reschedule", lang).await;
    b.fill("slot0_time", "14:00").await;
    b.submit("slot0_date").await;
    b.wait_path(&format!("{conversation}?done=moved")).await;
    let after = wait_invites(app, &uid, sent.len() + 2).await;
    let top = after
        .iter()
        .filter(|i| i.mail.to == p.municipality_staff)
        .map(|i| i.seq().parse::<i64>().unwrap())
        .max()
        .unwrap();
    assert!(top > seq, "SEQUENCE rises: {seq} → {top}");

    // After the conversation, the municipality writes the minutes; the handover is complete.
    app.clock.advance(time::Duration::days(20));
    as_user(b, p.municipality_staff, lang).await;
    // The week of the one invited shows it.
    let day = moved_day;
    let week = format!(
        "/conversations/week?date={}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    b.goto(&week).await;
    check(b, "/conversations/week", "week", lang).await;
    assert!(
        b.body().await.contains("14:00"),
        "the moved time in the week"
    );

    b.goto(&conversation).await;
    b.click_css(&format!("a[href='{conversation}/minutes']"))
        .await;
    check(b, &format!("{conversation}/minutes"), "minutes", lang).await;
    b.click_css("#outcome-held").await;
    b.fill("notes", "Gikk gjennom mappen og veien videre.")
        .await;
    b.fill("action0_description", "Melde på norskkurs på B1-nivå")
        .await;
    let org = app.org_of(p.municipality_staff).await.to_string();
    b.choose("action0_org", &org).await;
    b.submit("notes").await;
    b.wait_path(&format!("{conversation}?done=minutes")).await;
    b.assert_accessible().await;
    assert!(b.body().await.contains("Melde på norskkurs på B1-nivå"));
    assert_eq!(
        scalar(app, "SELECT state FROM handovers WHERE id = $1", h).await,
        "completed"
    );

    // A consent withdrawn now shows its section as withheld at the next opening.
    let consent: Uuid = sqlx::query_scalar(
        "SELECT id FROM consents WHERE participant_id = $1 AND withdrawn_at IS NULL
           AND cardinality(sections) > 0 ORDER BY given_on DESC LIMIT 1",
    )
    .bind(participant)
    .fetch_one(&app.pool)
    .await
    .expect("a consent to withdraw in the demo");
    as_user(b, p.centre_staff, lang).await;
    b.goto(&format!("/participants/{participant}/consents"))
        .await;
    b.click_css(&format!(
        "form[action$='/consents/{consent}/withdraw'] button"
    ))
    .await;
    b.wait_for(
        || async {
            !b.has(&format!("form[action$='/consents/{consent}/withdraw']"))
                .await
        },
        "the withdrawal",
    )
    .await;
    as_user(b, p.municipality_staff, lang).await;
    b.goto(&file).await;
    let withheld = if lang == "nb" {
        "Holdt tilbake"
    } else {
        "Withheld"
    };
    assert!(
        b.body().await.contains(withheld),
        "a withheld section after the withdrawal"
    );
    b.assert_accessible().await;
    // What "print" gives: the file without the service's frame.
    b.emulate_print(true).await;
    b.screenshot(&format!("file-print-{lang}")).await;
    let header = b
        .client
        .find(fantoccini::Locator::Css(".app-header"))
        .await
        .unwrap();
    assert!(
        !header.is_displayed().await.unwrap(),
        "no navigation on paper"
    );
    b.emulate_print(false).await;
    // Printed, every page carries the reference, the version and the date sent, and its number.
    let reference = scalar(app, "SELECT reference FROM handovers WHERE id = $1", h).await;
    let version = scalar(
        app,
        "SELECT max(file_version)::text FROM handover_files WHERE handover_id = $1",
        h,
    )
    .await;
    let printed = b.print_pages().await;
    assert!(printed.len() >= 2, "the file takes more than one page");
    let n = printed.len();
    for (i, page) in printed.iter().enumerate() {
        let running = if lang == "nb" {
            format!("{reference} · versjon {version} · sendt ")
        } else {
            format!("{reference} · version {version} · sent ")
        };
        let number = if lang == "nb" {
            format!("Side {} av {n}", i + 1)
        } else {
            format!("Page {} of {n}", i + 1)
        };
        assert!(page.contains(&running), "page {} lacks {running:?}", i + 1);
        assert!(page.contains(&number), "page {} lacks {number:?}", i + 1);
    }
    assert!(
        !printed
            .concat()
            .contains(if lang == "nb" { "Logg ut" } else { "Sign out" }),
        "no navigation on paper"
    );
}
