#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

//! E-mail about handovers, delivered over real SMTP from the transactional outbox: who gets
//! what (and never personal data), delivery after an SMTP outage exactly once, several workers
//! on one outbox, and dead-lettering.

use handover_db::outbox::{self, NewMail};
use handover_tests::call;
use handover_tests::smtp::Received;
use handover_tests::{Res, TestApp, spawn_app, spawn_app_with, who};
use handover_tests::{ago, ahead, id_of, new_duf};
use handover_tests::{decoded, etag};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration as StdDuration, Instant};
use uuid::Uuid;

const KRS_NO: &str = "4204";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn org_by_number(app: &TestApp, number: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = $1")
        .bind(number)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Active users with `role` in `org`, lower-cased and sorted.
async fn emails(app: &TestApp, org: Uuid, role: &str) -> Vec<String> {
    let mut v: Vec<String> = sqlx::query_scalar(
        "SELECT lower(email) FROM users WHERE organisation_id = $1 AND role = $2 AND active",
    )
    .bind(org)
    .bind(role)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    v.sort();
    v
}

const GIVEN: &str = "Yohannes";
const FAMILY: &str = "Habtemariam";
const CONTACT: &str = "Kontakt.Bosetting@Kristiansand.Kommune.example";

/// A new Kristiansand participant, settled to Kristiansand with settlement contacts (one of
/// them the municipality's staff user in other case, one without e-mail), with a consent
/// decision. Returns (participant id, DUF number).
async fn settled_participant(app: &TestApp, staff: &str) -> (String, String) {
    let duf = new_duf();
    let r = app
        .post(
            "/api/v1/participants",
            Some(staff),
            &json!({
                "given_name": GIVEN,
                "family_name": FAMILY,
                "date_of_birth": "1988-02-03",
                "duf_number": duf,
                "languages": [{ "language": "ti", "level": "native" }],
                "interpreter_language": "ti",
                "arrival_date": ago(100),
                "programme_start": ago(90),
                "status": "in_programme",
                "notes": ""
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = id_of(&r);
    let kommune = org_by_number(app, KRS_NO).await;
    let staff_email = who::KOMMUNE_KRS_STAFF.to_uppercase();
    let r = call(
        app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/settlement"),
        Some(staff),
        Some(&json!({
            "municipality_id": kommune,
            "settlement_date": ahead(30),
            "contacts": [
                { "name": "Programrådgiver", "email": CONTACT, "role": "programrådgiver" },
                { "name": "Samme som ansatt", "email": staff_email },
                { "name": "Uten e-post", "phone": "+47 38 00 00 00" }
            ]
        })),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/consents"),
            Some(staff),
            &json!({"sections": [], "given_on": ago(0), "method": "digital", "language": "ti", "interpreter_present": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (pid, duf)
}

/// Starts and sends a handover: (id, reference).
async fn start_and_send(app: &TestApp, staff: &str, pid: &str) -> (String, String) {
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/handovers"),
            Some(staff),
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hid = id_of(&r);
    let r = call(
        app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/send"),
        Some(staff),
        Some(&json!({"missing_reason": "Kartleggingen er ikke ferdig."})),
        Some(&etag(&r)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (hid, r.body["reference"].as_str().unwrap().to_owned())
}

async fn act(app: &TestApp, token: &str, hid: &str, what: &str, body: Option<Value>) -> Res {
    let d = app.get(&format!("/api/v1/handovers/{hid}"), token).await;
    assert_eq!(d.status, 200, "{}", d.text);
    let r = call(
        app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/{what}"),
        Some(token),
        body.as_ref(),
        Some(&etag(&d)),
    )
    .await;
    assert_eq!(r.status, 200, "{what}: {}", r.text);
    r
}

/// The messages whose decoded subject contains `needle`.
fn with_subject(app: &TestApp, needle: &str) -> Vec<Received> {
    app.smtp
        .messages()
        .into_iter()
        .filter(|m| decoded(m).0.contains(needle))
        .collect()
}

/// Waits until `n` messages with `needle` in the subject arrived, then a little longer for
/// any duplicate.
async fn wait_subject(app: &TestApp, needle: &str, n: usize) -> Vec<Received> {
    let start = Instant::now();
    while with_subject(app, needle).len() < n && start.elapsed() < StdDuration::from_secs(15) {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    with_subject(app, needle)
}

/// Recipient → number of messages.
fn per_recipient(ms: &[Received]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in ms {
        assert_eq!(r.to.len(), 1, "one recipient per message: {:?}", r.to);
        *m.entry(r.to[0].to_lowercase()).or_default() += 1;
    }
    m
}

fn once_each(addrs: &[String]) -> BTreeMap<String, usize> {
    addrs.iter().map(|a| (a.clone(), 1)).collect()
}

/// Polls until `sql` (one bound text parameter, returning a count) reaches `n`.
async fn wait_count(app: &TestApp, sql: &str, param: &str, n: i64, secs: u64) -> i64 {
    let start = Instant::now();
    loop {
        let c: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(param)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if c >= n || start.elapsed() > StdDuration::from_secs(secs) {
            return c;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// (status, attempts, last_error) of the outbox rows of a handover.
async fn outbox_rows(app: &TestApp, hid: &str) -> Vec<(String, i32, Option<String>)> {
    sqlx::query_as(
        "SELECT status, attempts, last_error FROM outbox WHERE handover_id = $1::uuid ORDER BY id",
    )
    .bind(hid)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Asserts a handover notice: reference and link, both languages, no personal data.
fn assert_notice(m: &Received, subject: &str, reference: &str, hid: &str, duf: &str) {
    let (s, body) = decoded(m);
    assert_eq!(s, format!("{subject} {reference} / Handover {reference}"));
    assert!(
        body.contains(&format!("/handovers/{hid}")) && !body.contains("/api/v1/"),
        "no link: {body}"
    );
    assert!(body.contains(reference), "{body}");
    assert!(body.contains("In English:"), "no English line: {body}");
    for secret in [GIVEN, FAMILY, duf] {
        assert!(
            !s.contains(secret) && !body.contains(secret),
            "{secret} in {s} / {body}"
        );
        assert!(!m.data.contains(secret), "{secret} in the raw message");
    }
    assert!(
        m.header("message-id")
            .is_some_and(|id| id.ends_with("@handover>"))
    );
    assert!(
        m.header("from")
            .is_some_and(|f| f.contains("ikke-svar@overforing.example"))
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Who is told what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sending_mails_each_municipality_person_once_and_cancel_and_decline_tell_the_other_side() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    let centre = app.org_of(who::KRS_STAFF).await;
    let (pid, duf) = settled_participant(&app, &staff).await;

    let mut to_municipality = emails(&app, kommune, "municipality_staff").await;
    assert!(!to_municipality.is_empty());
    // The settlement contact, lower-cased; the staff user named again as a contact only once.
    to_municipality.push(CONTACT.to_lowercase());
    to_municipality.sort();
    let to_centre = emails(&app, centre, "centre_staff").await;
    assert!(!to_centre.is_empty());

    let (hid, reference) = start_and_send(&app, &staff, &pid).await;
    let sent = wait_subject(&app, &reference, to_municipality.len()).await;
    assert_eq!(per_recipient(&sent), once_each(&to_municipality));
    for m in &sent {
        assert_notice(m, "Ny overføring", &reference, &hid, &duf);
    }
    let rows = outbox_rows(&app, &hid).await;
    assert_eq!(rows.len(), to_municipality.len());
    assert!(
        rows.iter()
            .all(|r| r.0 == "sent" && r.1 == 1 && r.2.is_none()),
        "{rows:?}"
    );

    // Cancelling tells the municipality.
    act(
        &app,
        &staff,
        &hid,
        "cancel",
        Some(json!({"reason": "Bosettingen er omgjort."})),
    )
    .await;
    let cancelled =
        wait_subject(&app, &format!("avbrutt {reference}"), to_municipality.len()).await;
    assert_eq!(per_recipient(&cancelled), once_each(&to_municipality));
    for m in &cancelled {
        assert_notice(m, "Overføring avbrutt", &reference, &hid, &duf);
        assert!(decoded(m).1.contains("cancelled"));
        // The reason is for the service, not the e-mail.
        assert!(!decoded(m).1.contains("omgjort"));
    }

    // A new handover, declined by the municipality: the centre's staff are told.
    let (h2, ref2) = start_and_send(&app, &staff, &pid).await;
    assert_ne!(ref2, reference);
    let sent2 = wait_subject(
        &app,
        &format!("Ny overføring {ref2}"),
        to_municipality.len(),
    )
    .await;
    assert_eq!(per_recipient(&sent2), once_each(&to_municipality));
    act(
        &app,
        &muni,
        &h2,
        "decline",
        Some(json!({"reason": "Feil kommune."})),
    )
    .await;
    let declined = wait_subject(&app, &format!("avvist {ref2}"), to_centre.len()).await;
    assert_eq!(per_recipient(&declined), once_each(&to_centre));
    for m in &declined {
        assert_notice(m, "Overføring avvist", &ref2, &h2, &duf);
        assert!(decoded(m).1.contains("declined"));
    }
    // Nothing else about these handovers went out.
    let all = with_subject(&app, &reference).len() + with_subject(&app, &ref2).len();
    assert_eq!(
        all,
        2 * to_municipality.len() + to_municipality.len() + to_centre.len()
    );
}

#[tokio::test]
async fn an_update_is_announced_with_its_version_once_per_person() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    let (pid, duf) = settled_participant(&app, &staff).await;
    let mut to = emails(&app, kommune, "municipality_staff").await;
    to.push(CONTACT.to_lowercase());
    to.sort();
    let (hid, reference) = start_and_send(&app, &staff, &pid).await;
    act(
        &app,
        &staff,
        &hid,
        "send",
        Some(json!({"missing_reason": "Fortsatt ufullstendig."})),
    )
    .await;
    let updated = wait_subject(&app, &format!("Oppdatert overføring {reference}"), to.len()).await;
    assert_eq!(per_recipient(&updated), once_each(&to));
    for m in &updated {
        assert_notice(m, "Oppdatert overføring", &reference, &hid, &duf);
        let body = decoded(m).1;
        assert!(
            body.contains("versjon 2") && body.contains("version 2"),
            "{body}"
        );
    }
    assert_eq!(outbox_rows(&app, &hid).await.len(), 2 * to.len());
}

// ---------------------------------------------------------------------------------------------
// 10. SMTP outage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn smtp_down_then_up_delivers_every_message_exactly_once() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    let (pid, _) = settled_participant(&app, &staff).await;
    let mut to = emails(&app, kommune, "municipality_staff").await;
    to.push(CONTACT.to_lowercase());
    to.sort();

    app.smtp.stop();
    let (hid, reference) = start_and_send(&app, &staff, &pid).await;
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    let rows = outbox_rows(&app, &hid).await;
    assert_eq!(rows.len(), to.len());
    for (status, attempts, error) in &rows {
        assert_eq!(status, "pending", "{rows:?}");
        assert!(*attempts >= 1, "{rows:?}");
        assert!(error.as_deref().is_some_and(|e| !e.is_empty()), "{rows:?}");
    }
    assert!(with_subject(&app, &reference).is_empty());

    app.smtp.restart().await;
    let sent = wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE handover_id = $1::uuid AND status = 'sent'",
        &hid,
        to.len() as i64,
        15,
    )
    .await;
    assert_eq!(sent, to.len() as i64, "{:?}", outbox_rows(&app, &hid).await);
    let got = wait_subject(&app, &reference, to.len()).await;
    assert_eq!(per_recipient(&got), once_each(&to));
    let rows = outbox_rows(&app, &hid).await;
    assert!(
        rows.iter()
            .all(|r| r.0 == "sent" && r.1 >= 2 && r.2.is_none()),
        "{rows:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Several workers on one outbox
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn several_workers_deliver_each_message_exactly_once() {
    let app = spawn_app_with(|s| s.mail_batch = 3).await;
    // Two more service instances on the same database and SMTP server, each with its own mail
    // worker (`handover_server::serve` starts one with a fresh worker id), besides the app's own.
    let mut instances = Vec::new();
    for _ in 0..2 {
        let settings = handover_server::settings::Settings {
            shutdown_grace_secs: 1,
            ..app.settings.clone()
        };
        let state = handover_server::app_state(&settings, app.pool.clone()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            handover_server::serve(listener, state, &settings, async move {
                let _ = rx.await;
            })
            .await
        });
        instances.push((tx, task));
    }

    const N: usize = 30;
    let addrs: Vec<String> = (0..N)
        .map(|i| format!("mottaker{i}@kommune.example"))
        .collect();
    let mut tx = app.pool.begin().await.unwrap();
    for (i, to) in addrs.iter().enumerate() {
        let new = outbox::enqueue(
            &mut *tx,
            &NewMail {
                dedupe_key: format!("concurrency:{i}"),
                to,
                subject: format!("Melding {i} / Message {i}"),
                body_text: format!("Melding nummer {i}.\n"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(new);
    }
    // Enqueueing the same key again stores nothing.
    let again = outbox::enqueue(
        &mut *tx,
        &NewMail {
            dedupe_key: "concurrency:0".into(),
            to: &addrs[0],
            subject: "igjen".into(),
            body_text: "igjen".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!again);
    tx.commit().await.unwrap();

    let sent = wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE $1 AND status = 'sent'",
        "concurrency:%",
        N as i64,
        20,
    )
    .await;
    assert_eq!(sent, N as i64);
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in app.smtp.messages() {
        if let Some(id) = m.header("message-id")
            && id.starts_with("<concurrency.")
        {
            *by_id.entry(id).or_default() += 1;
        }
    }
    let expected: BTreeMap<String, usize> = (0..N)
        .map(|i| (format!("<concurrency.{i}@handover>"), 1))
        .collect();
    assert_eq!(by_id, expected, "every message exactly once");
    let (total, workers, attempts): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT locked_by), sum(attempts) FROM outbox WHERE dedupe_key LIKE 'concurrency:%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    println!("{total} messages delivered by {workers} workers in {attempts} attempts");
    assert_eq!((total, attempts), (N as i64, N as i64));
    assert!(workers >= 2, "only {workers} worker took part");

    for (tx, task) in instances {
        let _ = tx.send(());
        let r = tokio::time::timeout(StdDuration::from_secs(10), task).await;
        assert!(
            matches!(r, Ok(Ok(Ok(())))),
            "an instance did not stop: {r:?}"
        );
    }
    // Stopping released nothing that was not sent.
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'concurrency:%' AND status <> 'sent'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(pending, 0);
}

// ---------------------------------------------------------------------------------------------
// 12. Dead letters
// ---------------------------------------------------------------------------------------------

async fn enqueue_one(app: &TestApp, key: &str, to: &str) {
    assert!(
        outbox::enqueue(
            &app.pool,
            &NewMail {
                dedupe_key: key.into(),
                to,
                subject: "Test".into(),
                body_text: "Test.\n".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
    );
}

async fn row(app: &TestApp, key: &str) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM outbox WHERE dedupe_key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn delivered(app: &TestApp, message_id: &str) -> usize {
    app.smtp
        .messages()
        .iter()
        .filter(|m| m.header("message-id").as_deref() == Some(message_id))
        .count()
}

#[tokio::test]
async fn an_invalid_address_is_dead_after_its_first_attempt() {
    let app = spawn_app().await;
    enqueue_one(&app, "dead:invalid", "not an address").await;
    enqueue_one(&app, "dead:valid", "gyldig@kommune.example").await;
    let n = wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE dedupe_key = $1 AND status <> 'pending'",
        "dead:invalid",
        1,
        10,
    )
    .await;
    assert_eq!(n, 1);
    let (status, attempts, error) = row(&app, "dead:invalid").await;
    assert_eq!(status, "dead");
    assert_eq!(attempts, 1);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("invalid recipient address")),
        "{error:?}"
    );
    // The worker goes on with the others.
    wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE dedupe_key = $1 AND status = 'sent'",
        "dead:valid",
        1,
        10,
    )
    .await;
    assert_eq!(row(&app, "dead:valid").await.0, "sent");
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    assert_eq!(row(&app, "dead:invalid").await, (status, attempts, error));
    assert_eq!(delivered(&app, "<dead.valid@handover>"), 1);
    assert_eq!(delivered(&app, "<dead.invalid@handover>"), 0);
}

#[tokio::test]
async fn a_message_is_dead_when_smtp_stays_down_past_max_attempts() {
    let app = spawn_app_with(|s| s.mail_max_attempts = 2).await;
    app.smtp.stop();
    enqueue_one(&app, "dead:outage", "mottaker@kommune.example").await;
    let n = wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE dedupe_key = $1 AND status = 'dead'",
        "dead:outage",
        1,
        10,
    )
    .await;
    assert_eq!(n, 1, "{:?}", row(&app, "dead:outage").await);
    let (_, attempts, error) = row(&app, "dead:outage").await;
    assert_eq!(attempts, 2);
    assert!(
        error.as_deref().is_some_and(|e| e.starts_with("transport")),
        "{error:?}"
    );
    // Dead stays dead when SMTP is back.
    app.smtp.restart().await;
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    assert_eq!(row(&app, "dead:outage").await.0, "dead");
    assert_eq!(delivered(&app, "<dead.outage@handover>"), 0);
}

// ---------------------------------------------------------------------------------------------
// Regression: a rule added after this test found it broken.
// ---------------------------------------------------------------------------------------------

/// A TCP relay to the test SMTP server that, once `slow` is set, holds each new connection for
/// `delay` before relaying it: an SMTP server that is slow but works.
async fn slow_relay(
    target: std::sync::Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    slow: std::sync::Arc<std::sync::atomic::AtomicBool>,
    delay: StdDuration,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let (target, slow) = (target.clone(), slow.clone());
            tokio::spawn(async move {
                if slow.load(Ordering::SeqCst) {
                    tokio::time::sleep(delay).await;
                }
                let Some(addr) = target.get() else { return };
                if let Ok(mut out) = tokio::net::TcpStream::connect(addr).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    port
}

async fn wait_zero_pending(app: &TestApp) -> i64 {
    let start = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if pending == 0 || start.elapsed() > StdDuration::from_secs(15) {
            return pending;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn regression_a_slow_smtp_server_does_not_make_workers_send_twice() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let target = Arc::new(std::sync::OnceLock::new());
    let slow = Arc::new(AtomicBool::new(false));
    let port = slow_relay(target.clone(), slow.clone(), StdDuration::from_millis(2000)).await;
    // A batch of 4 under a 5-second lease, each message taking 2 seconds to deliver.
    let tweak = |s: &mut handover_server::settings::Settings| {
        s.smtp_port = port;
        s.mail_batch = 4;
        s.mail_lease_secs = 5;
    };
    let app = spawn_app_with(tweak).await;
    target.set(app.smtp.addr).unwrap();
    // Demo e-mail goes out at full speed first.
    let pending = wait_zero_pending(&app).await;
    assert_eq!(pending, 0);
    // A second instance with its own worker.
    let mut settings = app.settings.clone();
    tweak(&mut settings);
    settings.shutdown_grace_secs = 1;
    let state = handover_server::app_state(&settings, app.pool.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn(async move {
        handover_server::serve(listener, state, &settings, async move {
            let _ = rx.await;
        })
        .await
    });

    slow.store(true, Ordering::SeqCst);
    for i in 0..4 {
        enqueue_one(
            &app,
            &format!("lease:{i}"),
            &format!("m{i}@kommune.example"),
        )
        .await;
    }
    let sent = wait_count(
        &app,
        "SELECT count(*) FROM outbox WHERE dedupe_key LIKE $1 AND status = 'sent'",
        "lease:%",
        4,
        30,
    )
    .await;
    assert_eq!(sent, 4);
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    let counts: Vec<usize> = (0..4)
        .map(|i| delivered(&app, &format!("<lease.{i}@handover>")))
        .collect();
    let _ = stop.send(());
    let _ = tokio::time::timeout(StdDuration::from_secs(10), other).await;
    assert_eq!(counts, [1, 1, 1, 1], "messages delivered more than once");
}

// ---------------------------------------------------------------------------------------------
// Erasure at the participant's request (GDPR art. 17)
// ---------------------------------------------------------------------------------------------

/// Every ordinary table of the schema, with how many of its rows hold `needle` anywhere (the
/// row as text): the erasure must leave none, whatever table a later change adds.
async fn tables_holding(app: &TestApp, needle: &str) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(tables.len() > 20, "{tables:?}");
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{t}\" x WHERE strpos(lower(x::text), lower($1)) > 0"
        )))
        .bind(needle)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if n > 0 {
            out.push((t, n));
        }
    }
    out
}

async fn erase(app: &TestApp, token: &str, pid: &str, tag: Option<&str>, body: &Value) -> Res {
    call(
        app,
        Method::POST,
        &format!("/api/v1/participants/{pid}/erasure"),
        Some(token),
        Some(body),
        tag,
    )
    .await
}

#[tokio::test]
async fn an_erasure_leaves_no_trace_of_the_person_and_tells_the_municipality_the_file_is_withdrawn()
{
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    let (pid, duf) = settled_participant(&app, &staff).await;
    let note = format!("Kanarinotat-{}", Uuid::new_v4().simple());
    let need = format!("Kanaribehov-{}", Uuid::new_v4().simple());
    let p = app
        .get(&format!("/api/v1/participants/{pid}"), &staff)
        .await;
    let r = app
        .patch(
            &format!("/api/v1/participants/{pid}"),
            &staff,
            &json!({ "notes": note }),
            Some(&etag(&p)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/adaptation-needs"),
        Some(&staff),
        Some(&json!({"needs": [{"category": "hearing", "description": need}]})),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut to = emails(&app, kommune, "municipality_staff").await;
    to.push(CONTACT.to_lowercase());
    to.sort();
    let (hid, reference) = start_and_send(&app, &staff, &pid).await;
    wait_subject(&app, &format!("Ny overføring {reference}"), to.len()).await;
    let r = app.handovers(&muni).file(&hid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for canary in [&duf, &note, &need, &pid] {
        assert!(
            !tables_holding(&app, canary).await.is_empty(),
            "{canary} is nowhere: the scan proves nothing"
        );
    }

    let body = json!({"ground": "consent_withdrawn", "request_received_on": ago(2)});
    let tag = etag(
        &app.get(&format!("/api/v1/participants/{pid}"), &staff)
            .await,
    );
    // Only the participant's own centre may erase; nobody else learns it exists.
    for (email, status) in [
        (who::STJ_STAFF, 404),
        (who::KOMMUNE_KRS_STAFF, 403),
        (who::AGDER_COUNSELLOR, 403),
        (who::KRS_ADMIN, 403),
        (who::OPERATOR_ADMIN, 403),
    ] {
        let t = app.token(email).await;
        erase(&app, &t, &pid, Some(&tag), &body)
            .await
            .assert_problem(status);
    }
    // Bad input: each answered, nothing erased.
    erase(&app, &staff, &pid, None, &body)
        .await
        .assert_problem(428);
    erase(&app, &staff, &pid, Some("\"999\""), &body)
        .await
        .assert_problem(412);
    for bad in [
        json!({"ground": "tired_of_it", "request_received_on": ago(2)}),
        json!({"ground": "objection", "request_received_on": ahead(3)}),
        json!({"ground": "objection", "request_received_on": "2019-12-31"}),
        json!({"ground": "objection", "request_received_on": "yesterday"}),
        json!({"ground": "objection"}),
        json!({"ground": "objection", "request_received_on": ago(2), "name": "x"}),
    ] {
        let r = erase(&app, &staff, &pid, Some(&tag), &bad).await;
        assert!(
            r.status == 422 || r.status == 400,
            "{bad}: {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/participants/{pid}"), &staff)
            .await
            .status,
        200
    );

    let r = erase(&app, &staff, &pid, Some(&tag), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["handovers_withdrawn"], 1, "{}", r.text);
    assert_eq!(r.body["recipients_notified"], to.len(), "{}", r.text);

    // No table holds the person: not the DUF number, the notes, the needs, nor their id
    // beyond the audit log and the erasure's own documentation.
    for canary in [&duf, &note, &need, &reference] {
        let left: Vec<_> = tables_holding(&app, canary)
            .await
            .into_iter()
            .filter(|(t, _)| !(canary == &reference && t == "outbox"))
            .collect();
        assert!(left.is_empty(), "{canary} left in {left:?}");
    }
    let left: Vec<_> = tables_holding(&app, &pid)
        .await
        .into_iter()
        .filter(|(t, _)| t != "audit_log" && t != "participant_erasures")
        .collect();
    assert!(left.is_empty(), "the participant's id left in {left:?}");
    // The audit log keeps that it happened and who did it, never what was erased.
    let (actor, outcome): (Uuid, String) = sqlx::query_as(
        "SELECT actor_user_id, outcome FROM audit_log
         WHERE action = 'participant.erase' AND target_id = $1::uuid",
    )
    .bind(&pid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, app.user_id(who::KRS_STAFF).await);
    assert_eq!(outcome, "success");
    let (ground, received): (String, time::Date) = sqlx::query_as(
        "SELECT ground, request_received_on FROM participant_erasures WHERE participant_id = $1::uuid",
    )
    .bind(&pid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(ground, "consent_withdrawn");
    assert_eq!(received.to_string(), ago(2));

    // Every recipient of the file is told, once, with the reference and nothing else.
    let told = wait_subject(&app, &format!("trukket tilbake {reference}"), to.len()).await;
    assert_eq!(per_recipient(&told), once_each(&to));
    for m in &told {
        let (s, text) = decoded(m);
        assert!(
            text.contains(&reference) && text.contains("artikkel 17"),
            "{text}"
        );
        for secret in [
            GIVEN,
            FAMILY,
            duf.as_str(),
            note.as_str(),
            need.as_str(),
            &pid,
            &hid,
        ] {
            assert!(
                !s.contains(secret) && !text.contains(secret),
                "{secret} in {text}"
            );
        }
    }
    // Gone for everyone, and a second erasure finds nothing.
    app.get(&format!("/api/v1/participants/{pid}"), &staff)
        .await
        .assert_problem(404);
    app.get(&format!("/api/v1/handovers/{hid}"), &muni)
        .await
        .assert_problem(404);
    erase(&app, &staff, &pid, Some(&tag), &body)
        .await
        .assert_problem(404);
}
