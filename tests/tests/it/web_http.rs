//! The web application over plain HTTP (no browser): sessions, CSRF and origin checks, redirects
//! after sign-in, access per role and organisation, headers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{DEMO_PASSWORD, TestApp, ago, new_duf, spawn_app, spawn_app_with, who};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn participants(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM participants").await
}

async fn sessions(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM sessions").await
}

/// The web sessions of a user: (revoked, reason).
async fn web_sessions_of(app: &TestApp, email: &str) -> Vec<(bool, Option<String>)> {
    sqlx::query_as(
        "SELECT s.revoked_at IS NOT NULL, s.revoked_reason FROM sessions s
         JOIN users u ON u.id = s.user_id
         WHERE u.email = $1 AND s.cookie_hash IS NOT NULL ORDER BY s.created_at",
    )
    .bind(email)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// A valid new-participant form.
fn participant_form(given: &str, duf: &str, arrival: &str) -> Vec<(String, String)> {
    [
        ("given_name", given),
        ("family_name", "Nettleser"),
        ("date_of_birth", "1990-05-17"),
        ("duf_number", duf),
        ("d_number", ""),
        ("language_0", "ti"),
        ("level_0", "native"),
        ("interpreter_language", "ti"),
        ("arrival_date", arrival),
        ("programme_start", ""),
        ("programme_end", ""),
        ("status", "in_programme"),
        ("notes", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter()
        .map(|(k, val)| (k.as_str(), val.as_str()))
        .collect()
}

/// A participant of the centre of `email` (one with internal notes when `with_notes`): its id,
/// given name and notes.
async fn participant_of(app: &TestApp, email: &str, with_notes: bool) -> (Uuid, String, String) {
    let centre = app.org_of(email).await;
    sqlx::query_as(
        "SELECT id, given_name, notes FROM participants
         WHERE reception_centre_id = $1 AND ($2 = false OR length(notes) > 10)
         ORDER BY id LIMIT 1",
    )
    .bind(centre)
    .bind(with_notes)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Sign-in and back to the page
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_never_to_another_site() {
    let app = spawn_app().await;
    let mut web = WebSession::new(&app);

    // Not signed in: to the sign-in page, with the page (path and query) as `next`; the
    // encoding of the code's `encode_component` keeps `/` and escapes `?` and `=`.
    let r = web.get("/participants?name=a").await;
    r.assert_redirect(
        "/sign-in?next=/participants%3Fname%3Da",
        "unauthenticated list",
    );
    let r = web.get("/sign-in?next=/participants%3Fname%3Da").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        hidden(&r.text, "next").as_deref(),
        Some("/participants?name=a"),
        "the sign-in form carries next"
    );
    let r = web
        .sign_in(who::KRS_STAFF, DEMO_PASSWORD, "/participants?name=a")
        .await;
    r.assert_redirect("/participants?name=a", "sign-in with next");
    let r = web.get("/participants?name=a").await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An address elsewhere is never the target: the start page instead. (A path that only
    // looks like a host, percent-encoded, is a path of this service, and allowed.)
    let cases = [
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("http://evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/\\/evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("evil.example", "/"),
        ("/sign-in?next=//evil.example", "/"),
        ("/%2F/evil.example", "/%2F/evil.example"),
    ];
    for (next, want) in cases {
        let mut web = WebSession::new(&app);
        // The sign-in page does not even carry an unsafe one on.
        let r = web.get(&format!("/sign-in?next={}", enc(next))).await;
        assert_eq!(r.status, 200);
        let carried = if want == "/" { "" } else { next };
        assert_eq!(hidden(&r.text, "next").as_deref(), Some(carried), "{next}");
        let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, next).await;
        r.assert_redirect(want, next);
        // The language switch goes back by the same rule.
        let r = web
            .post_anon("/language", &[("lang", "en"), ("back", next)])
            .await;
        r.assert_redirect(want, &format!("language, back to {next}"));
    }
    // A `next` with markup in it is escaped on the sign-in page.
    let r = web
        .get(&format!(
            "/sign-in?next={}",
            enc("/x\"><script>alert(1)</script>")
        ))
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains("<script>alert"), "next is not escaped");
}

#[tokio::test]
async fn an_emailed_handover_link_goes_through_sign_in_and_back() {
    let app = spawn_app().await;
    let centre = app.org_of(who::KRS_STAFF).await;
    let (id, reference): (Uuid, String) = sqlx::query_as(
        "SELECT id, reference FROM handovers WHERE reception_centre_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(centre)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // The API agrees that this staff member may see it.
    let token = app.token(who::KRS_STAFF).await;
    assert_eq!(
        app.get(&format!("/api/v1/handovers/{id}"), &token)
            .await
            .status,
        200
    );

    let path = format!("/handovers/{id}");
    let mut web = WebSession::new(&app);
    let r = web.get(&path).await;
    r.assert_redirect(&format!("/sign-in?next={path}"), "e-mail link");
    let sign_in_page = web.get(r.location()).await;
    assert_eq!(sign_in_page.status, 200);
    assert!(
        sign_in_page
            .text
            .contains("Logg inn for å se siden. Etterpå kommer du tilbake til den."),
        "the sign-in page says why"
    );
    let next = hidden(&sign_in_page.text, "next").unwrap();
    assert_eq!(next, path);
    let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, &next).await;
    r.assert_redirect(&path, "back to the handover");
    let r = web.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(&reference), "no reference {reference}");

    // A handover id that does not exist is a page that does not exist.
    let r = web.get(&format!("/handovers/{}", Uuid::new_v4())).await;
    assert_eq!(r.status, 404);
    let r = web.get("/handovers/not-an-id").await;
    assert_eq!(r.status, 404);
}

// ---------------------------------------------------------------------------------------------
// 2. CSRF and origin
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_form_without_the_session_token_or_from_another_origin_changes_nothing() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let before = participants(&app).await;
    let form = participant_form("Csrf", &new_duf(), &ago(30));
    let fields = pairs(&form);

    let refused: [(&str, Field, Field); 6] = [
        ("no _csrf", Field::Right, Field::Missing),
        ("wrong _csrf", Field::Right, Field::Wrong("not-the-token")),
        ("empty _csrf", Field::Right, Field::Wrong("")),
        ("another origin", Field::Wrong(EVIL), Field::Right),
        ("origin null", Field::Wrong("null"), Field::Right),
        ("no Origin, no Referer", Field::Missing, Field::Right),
    ];
    for (what, origin, csrf) in refused {
        let r = web
            .post_with("/participants/new", &fields, origin, csrf)
            .await;
        assert_eq!(r.status, 403, "{what}: {}", r.text);
        assert!(
            r.text.contains("Skjemaet ble avvist"),
            "{what}: not the refusal page"
        );
        assert_eq!(participants(&app).await, before, "{what}: saved anyway");
    }
    // A Referer from another site (no Origin) is another origin too.
    let token = web.csrf.clone().unwrap();
    let mut with_token = fields.clone();
    with_token.push(("_csrf", &token));
    let r = web
        .send(
            Method::POST,
            "/participants/new",
            &[("referer", "http://evil.example/form")],
            Some((
                "application/x-www-form-urlencoded",
                form_body(&with_token).into_bytes(),
            )),
        )
        .await;
    assert_eq!(r.status, 403, "evil Referer");
    assert_eq!(participants(&app).await, before);
    // Another session's token is no good either.
    let other = signed_in(&app, who::KRS_STAFF).await;
    let other_token = other.csrf.clone().unwrap();
    assert_ne!(other_token, token);
    let r = web
        .post_with(
            "/participants/new",
            &fields,
            Field::Right,
            Field::Wrong(&other_token),
        )
        .await;
    assert_eq!(r.status, 403, "another session's token");
    assert_eq!(participants(&app).await, before);

    // Both right: saved, and on to the record.
    let r = web.post_form("/participants/new", &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        r.location().starts_with("/participants/") && r.location().ends_with("?done=created"),
        "{}",
        r.location()
    );
    assert_eq!(participants(&app).await, before + 1);
    let saved: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE given_name = $1")
        .bind("Csrf")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(saved, 1);
    let r = web.get(r.location()).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Csrf Nettleser"));
}

#[tokio::test]
async fn sign_out_is_refused_without_the_token_or_origin_and_the_session_lives_on() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let refused: [(&str, Field, Field); 4] = [
        ("no _csrf", Field::Right, Field::Missing),
        ("wrong _csrf", Field::Right, Field::Wrong("x")),
        ("another origin", Field::Wrong(EVIL), Field::Right),
        ("no Origin, no Referer", Field::Missing, Field::Right),
    ];
    for (what, origin, csrf) in refused {
        let r = web.post_with("/sign-out", &[], origin, csrf).await;
        assert_eq!(r.status, 403, "{what}: {}", r.text);
        assert!(r.set_cookie(SESSION).is_none(), "{what}: cookie touched");
        assert_eq!(web_sessions_of(&app, who::KRS_STAFF).await, [(false, None)]);
        assert_eq!(web.get("/").await.status, 200, "{what}: signed out anyway");
    }
    let r = web.post_form("/sign-out", &[]).await;
    r.assert_redirect("/sign-in?done=signed_out", "sign-out");
    assert!(
        web_sessions_of(&app, who::KRS_STAFF).await[0].0,
        "session not revoked"
    );
}

#[tokio::test]
async fn sign_in_posted_from_another_origin_creates_no_session() {
    let app = spawn_app().await;
    let before = sessions(&app).await;
    let form = [
        ("email", who::KRS_STAFF),
        ("password", DEMO_PASSWORD),
        ("next", ""),
    ];
    for (what, origin) in [
        ("another origin", Field::Wrong(EVIL)),
        ("another port", Field::Wrong("http://127.0.0.1:1")),
        ("no Origin", Field::Missing),
    ] {
        let mut web = WebSession::new(&app);
        let r = web
            .post_with("/sign-in", &form, origin, Field::Missing)
            .await;
        assert_eq!(r.status, 403, "{what}: {}", r.text);
        assert!(r.set_cookie(SESSION).is_none(), "{what}: a cookie");
        assert_eq!(sessions(&app).await, before, "{what}: a session row");
    }
    assert_eq!(app.audit_count("auth.login", "success").await, 0);
    // The same form from the service's own page signs in.
    let mut web = WebSession::new(&app);
    let r = web
        .post_with("/sign-in", &form, Field::Right, Field::Missing)
        .await;
    r.assert_redirect("/", "own origin");
    assert_eq!(sessions(&app).await, before + 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Session lifecycle
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let cookie = web.cookie(SESSION).unwrap().to_owned();
    assert_eq!(web.get("/participants").await.status, 200);
    let r = web.post_form("/sign-out", &[]).await;
    r.assert_redirect("/sign-in?done=signed_out", "sign-out");
    let removal = r.set_cookie(SESSION).expect("the cookie is removed");
    assert!(
        removal.to_ascii_lowercase().contains("max-age=0"),
        "{removal}"
    );
    let r = web.get(r.location()).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Du er logget ut."));
    assert_eq!(
        web_sessions_of(&app, who::KRS_STAFF).await,
        [(true, Some("logout".to_owned()))]
    );
    // The old cookie, kept by someone, opens nothing.
    web.set_cookie(SESSION, &cookie);
    web.get("/participants")
        .await
        .assert_redirect("/sign-in?next=/participants", "after sign-out");
    let r = web.post_form("/sign-out", &[]).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/sign-in"), "{}", r.location());
}

async fn user_version(app: &TestApp, email: &str) -> i32 {
    sqlx::query_scalar("SELECT version FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn deactivating_the_user_through_the_api_ends_the_web_session() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    assert_eq!(web.get("/participants").await.status, 200);
    let admin = app.token(who::KRS_ADMIN).await;
    let id = app.user_id(who::KRS_STAFF).await;
    let version = user_version(&app, who::KRS_STAFF).await;
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            &json!({"active": false}),
            Some(&format!("\"{version}\"")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    web.get("/participants")
        .await
        .assert_redirect("/sign-in?next=/participants", "after deactivation");
    let before = participants(&app).await;
    let form = participant_form("Deaktivert", &new_duf(), &ago(3));
    let r = web.post_form("/participants/new", &pairs(&form)).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/sign-in"), "{}", r.location());
    assert_eq!(participants(&app).await, before);
    // And no new session.
    let mut again = WebSession::new(&app);
    let r = again.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.set_cookie(SESSION).is_none());
}

#[tokio::test]
async fn an_idle_session_ends_after_the_idle_timeout() {
    let app = spawn_app_with(|s| s.web_idle_timeout_secs = 60).await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let idle = |secs: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = now() - make_interval(secs => $1)
                 WHERE cookie_hash IS NOT NULL",
            )
            .bind(secs as f64)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    // Idle for less than the limit: still signed in, and the clock starts again.
    idle(40).await;
    assert_eq!(web.get("/participants").await.status, 200);
    let fresh: bool = sqlx::query_scalar(
        "SELECT last_seen_at > now() - interval '10 seconds' FROM sessions
         WHERE cookie_hash IS NOT NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(fresh, "a request does not count as activity");
    // Idle for longer: signed out.
    idle(120).await;
    web.get("/participants")
        .await
        .assert_redirect("/sign-in?next=/participants", "idle session");
    // Also for a post: it changes nothing.
    let before = participants(&app).await;
    let form = participant_form("Inaktiv", &new_duf(), &ago(3));
    let r = web.post_form("/participants/new", &pairs(&form)).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/sign-in"));
    assert_eq!(participants(&app).await, before);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_for_this_host_only() {
    let app = spawn_app().await;
    let mut web = WebSession::new(&app);
    let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 303);
    let line = r.set_cookie(SESSION).expect("a session cookie");
    let attrs: Vec<String> = line
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attrs.iter().any(|a| a == "httponly"), "{line}");
    assert!(attrs.iter().any(|a| a == "samesite=lax"), "{line}");
    assert!(attrs.iter().any(|a| a == "path=/"), "{line}");
    assert!(!attrs.iter().any(|a| a.starts_with("domain")), "{line}");
    // Plain http here: no `Secure` (a browser would drop the cookie) and so no `__Host-`.
    assert!(!attrs.iter().any(|a| a == "secure"), "{line}");
    assert!(r.set_cookie("__Host-handover-session").is_none());
    // The token is long and random; only its hash is stored.
    let token = web.cookie(SESSION).unwrap().to_owned();
    assert!(token.len() >= 32, "{token}");
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions WHERE encode(cookie_hash, 'escape') = $1
            OR csrf_token = $1",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the cookie token is stored as it is");
}

// ---------------------------------------------------------------------------------------------
// 4. Access per role and organisation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pages_answer_per_role_and_organisation_as_the_api_does() {
    let app = spawn_app().await;
    let (krs, krs_name, krs_notes) = participant_of(&app, who::KRS_STAFF, true).await;
    let (stj, _, _) = participant_of(&app, who::STJ_STAFF, false).await;
    assert!(!krs_notes.is_empty());

    // Written by hand from the access policy (docs/security.md), not from the code.
    let table: Vec<(&str, String, u16)> = vec![
        // Centre staff: their own centre's participants, nobody else's (404, not 403).
        (who::KRS_STAFF, format!("/participants/{krs}"), 200),
        (who::KRS_STAFF, format!("/participants/{krs}/identity"), 200),
        (who::KRS_STAFF, format!("/participants/{stj}"), 404),
        (who::KRS_STAFF, format!("/participants/{stj}/identity"), 404),
        (who::KRS_STAFF, format!("/participants/{stj}/history"), 404),
        (who::KRS_STAFF, format!("/participants/{stj}/export"), 404),
        (who::KRS_STAFF, "/participants".into(), 200),
        (who::KRS_STAFF, "/admin/users".into(), 403),
        (who::KRS_STAFF, "/admin/organisations".into(), 403),
        (who::STJ_STAFF, format!("/participants/{krs}"), 404),
        (who::STJ_STAFF, format!("/participants/{stj}"), 200),
        // Career counsellors: the centre their career centre serves.
        (who::AGDER_COUNSELLOR, format!("/participants/{krs}"), 200),
        (who::AGDER_COUNSELLOR, format!("/participants/{stj}"), 404),
        (who::TRD_COUNSELLOR, format!("/participants/{krs}"), 404),
        (who::TRD_COUNSELLOR, format!("/participants/{stj}"), 200),
        (who::AGDER_COUNSELLOR, "/admin/users".into(), 403),
        // Municipalities and administrators have no participant list.
        (who::KOMMUNE_KRS_STAFF, "/participants".into(), 403),
        (who::KOMMUNE_KRS_STAFF, "/participants/new".into(), 403),
        (who::KOMMUNE_KRS_STAFF, "/admin/users".into(), 403),
        (who::KRS_ADMIN, "/participants".into(), 403),
        (who::KRS_ADMIN, "/participants/new".into(), 403),
        (who::OPERATOR_ADMIN, "/participants".into(), 403),
        // Administration.
        (who::KRS_ADMIN, "/admin/users".into(), 200),
        (who::KRS_ADMIN, "/admin/organisations".into(), 403),
        (who::KRS_ADMIN, "/admin/organisation".into(), 200),
        (who::STJ_ADMIN, "/admin/organisations".into(), 403),
        (who::OPERATOR_ADMIN, "/admin/organisations".into(), 200),
        (who::OPERATOR_ADMIN, "/admin/users".into(), 200),
    ];
    let mut sessions: HashMap<&str, WebSession> = HashMap::new();
    let mut failures = Vec::new();
    let mut pages: HashMap<(&str, String), String> = HashMap::new();
    for (email, path, want) in &table {
        if !sessions.contains_key(email) {
            sessions.insert(email, signed_in(&app, email).await);
        }
        let s = sessions.get_mut(email).unwrap();
        let r = s.get(path).await;
        if r.status.as_u16() != *want {
            failures.push(format!("{email} GET {path}: {} (want {want})", r.status));
        }
        if r.status.is_client_error() {
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("text/html")),
                "{email} {path}: error is not a page"
            );
            assert!(!r.text.contains(&krs_notes), "{email} {path}: notes leak");
        }
        pages.insert((email, path.clone()), r.text);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    handover_tests::figure!("web access table: {} cells", table.len());

    // The serving counsellor sees the record, but not the centre's internal notes, which the
    // centre's own staff do see.
    let own = &pages[&(who::KRS_STAFF, format!("/participants/{krs}"))];
    assert!(own.contains(&krs_name));
    assert!(own.contains(&krs_notes), "the centre sees its notes");
    let counsellor = &pages[&(who::AGDER_COUNSELLOR, format!("/participants/{krs}"))];
    assert!(counsellor.contains(&krs_name), "not the record");
    assert!(
        !counsellor.contains(&krs_notes),
        "the counsellor sees notes"
    );

    // A centre administrator lists only their organisation's users.
    let users = &pages[&(who::KRS_ADMIN, "/admin/users".to_owned())];
    assert!(users.contains(who::KRS_STAFF), "own staff missing");
    for foreign in [who::STJ_ADMIN, who::STJ_STAFF, who::OPERATOR_ADMIN] {
        assert!(!users.contains(foreign), "{foreign} listed to KRS admin");
    }
    let s = sessions.get_mut(who::KRS_ADMIN).unwrap();
    let r = s.get("/admin/users?q=steinkjer").await;
    assert_eq!(r.status, 200);
    assert!(!r.text.contains(who::STJ_ADMIN));
    let stj_admin = app.user_id(who::STJ_ADMIN).await;
    assert_eq!(
        s.get(&format!("/admin/users/{stj_admin}")).await.status,
        404,
        "another organisation's user"
    );
    // The operator's list of organisations holds every organisation (the centres are not on
    // the first page among the municipalities: filtered by kind).
    let op = sessions.get_mut(who::OPERATOR_ADMIN).unwrap();
    let r = op.get("/admin/organisations?kind=reception_centre").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Integreringsmottaket i Steinkjer"));
    assert!(r.text.contains("Integreringsmottaket i Kristiansand"));
    assert!(
        !r.text.contains("Karrieresenteret i Agder"),
        "filter ignored"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Validation
// ---------------------------------------------------------------------------------------------

/// Posts the new-participant form with `changes` applied, as `web`.
async fn post_new(web: &mut WebSession<'_>, changes: &[(&str, &str)]) -> Page {
    let mut form = participant_form("Gyldig", &new_duf(), &ago(30));
    for (k, v) in changes {
        for f in form.iter_mut() {
            if f.0 == *k {
                f.1 = (*v).to_owned();
            }
        }
    }
    web.post_form("/participants/new", &pairs(&form)).await
}

fn assert_invalid_form(r: &Page, fields: &[&str], what: &str) {
    assert_eq!(r.status, 422, "{what}: {}", r.text);
    assert!(r.text.contains("ds-error-summary"), "{what}: no summary");
    assert!(r.text.contains("aria-invalid=\"true\""), "{what}");
    for f in fields {
        assert!(
            r.text.contains(&format!("href=\"#{f}\"")),
            "{what}: no summary link to {f}"
        );
        assert!(
            r.text.contains(&format!("id=\"{f}-error\"")),
            "{what}: no message beside {f}"
        );
    }
}

#[tokio::test]
async fn an_invalid_new_participant_form_is_shown_again_with_its_errors_and_nothing_saved() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let before = participants(&app).await;
    // One error at a time.
    let r = post_new(&mut web, &[("given_name", "")]).await;
    assert_invalid_form(&r, &["given_name"], "empty given name");
    assert!(r.text.contains("Fyll ut feltet."), "{}", r.text);
    let r = post_new(&mut web, &[("date_of_birth", "31.02.2020")]).await;
    assert_invalid_form(&r, &["date_of_birth"], "31 February");
    assert!(r.text.contains("Skriv en gyldig dato"));
    // The typed values stay in the form.
    assert!(r.text.contains("value=\"31.02.2020\""));
    assert_eq!(participants(&app).await, before);

    // In English.
    let r = web
        .post_anon(
            "/language",
            &[("lang", "en"), ("back", "/participants/new")],
        )
        .await;
    r.assert_redirect("/participants/new", "language");
    assert_eq!(web.cookie("handover-lang"), Some("en"));
    let r = post_new(&mut web, &[("date_of_birth", "31.02.2020")]).await;
    assert_invalid_form(&r, &["date_of_birth"], "in English");
    assert!(
        r.text
            .contains("Enter a valid date, for example 24.12.2026.")
    );
    assert!(r.text.contains("Correct this before you go on:"));
    assert!(!r.text.contains("Skriv en gyldig dato"));
    let r = post_new(&mut web, &[("given_name", "")]).await;
    assert!(r.text.contains("Fill in this field."), "{}", r.text);
    assert_eq!(participants(&app).await, before);
}

#[tokio::test]
async fn every_error_of_a_new_participant_form_is_reported_at_once() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let before = participants(&app).await;
    let r = post_new(
        &mut web,
        &[("given_name", ""), ("date_of_birth", "31.02.2020")],
    )
    .await;
    assert_invalid_form(
        &r,
        &["given_name", "date_of_birth"],
        "empty name and 31 February",
    );
    assert_eq!(participants(&app).await, before);
}

#[tokio::test]
async fn garbage_bodies_are_refused_with_4xx_never_5xx() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let before = participants(&app).await;
    let token = web.csrf.clone().unwrap();
    let base = app.base.clone();
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let with_token = |rest: &[u8]| {
        let mut b = format!("_csrf={token}&").into_bytes();
        b.extend_from_slice(rest);
        b
    };
    let huge_field = with_token(
        form_body(&[
            ("given_name", &"x".repeat(900 * 1024)),
            ("family_name", "Stor"),
            ("date_of_birth", "1990-01-01"),
            ("duf_number", &new_duf()),
            ("arrival_date", &ago(3)),
            ("status", "in_programme"),
        ])
        .as_bytes(),
    );
    let cases: Vec<(&str, &str, &str, Vec<u8>)> = vec![
        (
            "/participants/new",
            "JSON",
            "application/json",
            br#"{"given_name":"x"}"#.to_vec(),
        ),
        (
            "/participants/new",
            "binary",
            "application/x-www-form-urlencoded",
            binary.clone(),
        ),
        (
            "/participants/new",
            "binary with token",
            "application/x-www-form-urlencoded",
            with_token(&binary),
        ),
        (
            "/participants/new",
            "bad escapes",
            "application/x-www-form-urlencoded",
            with_token(b"given_name=%ZZ%&date_of_birth=%FF%FE&&&==&status=%00"),
        ),
        (
            "/participants/new",
            "duplicate field",
            "application/x-www-form-urlencoded",
            with_token(b"given_name=a&given_name=b"),
        ),
        (
            "/participants/new",
            "over the body limit",
            "application/x-www-form-urlencoded",
            with_token(&vec![b'a'; 2 * 1024 * 1024]),
        ),
        (
            "/participants/new",
            "a field of 900 KiB",
            "application/x-www-form-urlencoded",
            huge_field,
        ),
        (
            "/participants/new",
            "multipart",
            "multipart/form-data; boundary=x",
            with_token(
                b"--x\r\nContent-Disposition: form-data; name=\"given_name\"\r\n\r\na\r\n--x--\r\n",
            ),
        ),
        (
            "/participants/lookup",
            "binary lookup",
            "application/x-www-form-urlencoded",
            with_token(&binary),
        ),
        ("/sign-out", "binary sign-out", "text/plain", binary.clone()),
        (
            "/sign-in",
            "binary sign-in",
            "application/x-www-form-urlencoded",
            binary.clone(),
        ),
        (
            "/sign-in",
            "huge e-mail",
            "application/x-www-form-urlencoded",
            form_body(&[("email", &"a".repeat(500_000)), ("password", "x")]).into_bytes(),
        ),
        (
            "/password/forgotten",
            "huge e-mail",
            "application/x-www-form-urlencoded",
            form_body(&[("email", &format!("{}@demo.no", "a".repeat(500_000)))]).into_bytes(),
        ),
        (
            "/password/forgotten",
            "binary",
            "application/octet-stream",
            binary.clone(),
        ),
        (
            "/password-setup",
            "binary",
            "application/x-www-form-urlencoded",
            binary.clone(),
        ),
        (
            "/language",
            "unknown language",
            "application/x-www-form-urlencoded",
            b"lang=xx&back=/".to_vec(),
        ),
        (
            "/language",
            "binary",
            "application/x-www-form-urlencoded",
            binary.clone(),
        ),
    ];
    let mut failures = Vec::new();
    for (path, what, content_type, body) in cases {
        let r = web
            .send(
                Method::POST,
                path,
                &[("origin", &base)],
                Some((content_type, body)),
            )
            .await;
        if !r.status.is_client_error() {
            failures.push(format!("{path} {what}: {}", r.status));
        }
    }
    // An identity form whose version is no number.
    let (krs, _, _) = participant_of(&app, who::KRS_STAFF, false).await;
    let r = web
        .post_form(
            &format!("/participants/{krs}/identity"),
            &[("version", "abc")],
        )
        .await;
    if !r.status.is_client_error() {
        failures.push(format!("identity with version abc: {}", r.status));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(participants(&app).await, before);
    // The session survived all of it.
    assert_eq!(web.get("/").await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// 6. Forgotten password and the setup link
// ---------------------------------------------------------------------------------------------

async fn outbox_to(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE lower(to_address) = lower($1)")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn forgotten_password_answers_alike_and_mails_only_real_accounts_at_most_three_times() {
    let app = spawn_app().await;
    let nobody = "finnes.ikke@demo.no";
    let outbox_before = outbox_to(&app, who::KRS_STAFF).await;
    let mut web = WebSession::new(&app);
    let existing = web
        .post_anon("/password/forgotten", &[("email", who::KRS_STAFF)])
        .await;
    let unknown = web
        .post_anon("/password/forgotten", &[("email", nobody)])
        .await;
    assert_eq!(existing.status, 303, "{}", existing.text);
    assert_eq!(unknown.status, existing.status);
    assert_eq!(existing.location(), unknown.location());
    let a = web.get(existing.location()).await;
    let b = web.get(unknown.location()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.text, b.text);
    assert!(
        a.text
            .contains("Hvis adressen har en konto hos oss, er en lenke sendt til den.")
    );

    app.wait_setup_token(who::KRS_STAFF, 1).await;
    assert_eq!(app.mail_to(nobody).len(), 0);
    assert_eq!(outbox_to(&app, nobody).await, 0);

    // More asks: alike answers, but at most three e-mails an hour.
    for _ in 0..4 {
        let r = web
            .post_anon("/password/forgotten", &[("email", who::KRS_STAFF)])
            .await;
        r.assert_redirect(existing.location(), "asked again");
    }
    app.wait_setup_token(who::KRS_STAFF, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.mailed_setup_tokens(who::KRS_STAFF).len(), 3);
    assert_eq!(outbox_to(&app, who::KRS_STAFF).await - outbox_before, 3);
    assert_eq!(app.audit_count("auth.password_forgotten", "sent").await, 3);
    assert_eq!(
        app.audit_count("auth.password_forgotten", "throttled")
            .await,
        2
    );
    assert_eq!(
        app.audit_count("auth.password_forgotten", "unknown").await,
        1
    );

    // Not an e-mail address: the form again. From another origin: refused, nothing sent.
    let r = web
        .post_anon("/password/forgotten", &[("email", "no-at-sign")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("href=\"#email\""));
    let r = web
        .post_with(
            "/password/forgotten",
            &[("email", who::STJ_STAFF)],
            Field::Wrong(EVIL),
            Field::Missing,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(outbox_to(&app, who::STJ_STAFF).await, 0);
}

#[tokio::test]
async fn the_emailed_setup_link_sets_a_password_once() {
    let app = spawn_app().await;
    let new_password = "Fjellvann-og-blåbær-2026!";
    // A session from before, which the new password ends.
    let mut old = signed_in(&app, who::KRS_STAFF).await;

    let mut web = WebSession::new(&app);
    web.post_anon("/password/forgotten", &[("email", who::KRS_STAFF)])
        .await
        .assert_redirect("/password/forgotten?sent=1", "forgotten");
    let token = app.wait_setup_token(who::KRS_STAFF, 1).await;
    assert!(token.len() >= 20, "{token}");

    // The link's token moves into a cookie and out of the address.
    let r = web.get(&format!("/password-setup?token={token}")).await;
    r.assert_redirect("/password-setup", "setup link");
    assert!(!r.location().contains(&token));
    let line = r.set_cookie(SETUP).expect("a setup cookie");
    let lower = line.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{line}");
    // Lax: the link comes from another site (a mail program), and a Strict cookie would be
    // withheld from the redirect that follows.
    assert!(lower.contains("samesite=lax"), "{line}");
    assert_eq!(web.cookie(SETUP), Some(token.as_str()));
    let r = web.get("/password-setup").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("name=\"new_password\""),
        "no form: {}",
        r.text
    );
    assert!(!r.text.contains(&token), "the token is in the page");

    // From another origin: refused, and the link still works.
    let r = web
        .post_with(
            "/password-setup",
            &[("new_password", new_password)],
            Field::Wrong(EVIL),
            Field::Missing,
        )
        .await;
    assert_eq!(r.status, 403);
    // A weak password: the form again, the link still works.
    let r = web
        .post_anon("/password-setup", &[("new_password", "passord")])
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("href=\"#new_password\""));

    let r = web
        .post_anon("/password-setup", &[("new_password", new_password)])
        .await;
    r.assert_redirect("/sign-in?done=password_set", "setup");
    assert!(web.cookie(SETUP).is_none(), "the setup cookie stays");
    let r = web.get(r.location()).await;
    assert!(r.text.contains("Passordet er lagret. Du kan logge inn nå."));

    // The old password is gone, the new one signs in, the session from before is over.
    let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 401);
    let r = web.sign_in(who::KRS_STAFF, new_password, "").await;
    r.assert_redirect("/", "new password");
    assert_eq!(web.get("/").await.status, 200);
    old.get("/")
        .await
        .assert_redirect("/sign-in?next=/", "a session from before the reset");

    // The link works once.
    let mut again = WebSession::new(&app);
    let r = again.get(&format!("/password-setup?token={token}")).await;
    r.assert_redirect("/password-setup", "the link again");
    let r = again
        .post_anon(
            "/password-setup",
            &[("new_password", "Et-helt-annet-passord-99")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text
            .contains("Lenken er ugyldig, allerede brukt eller utløpt.")
    );
    let r = again.sign_in(who::KRS_STAFF, new_password, "").await;
    r.assert_redirect("/", "the password is still the one set");
    // Without any cookie: the page says the link is no good.
    let mut none = WebSession::new(&app);
    let r = none
        .post_anon("/password-setup", &[("new_password", new_password)])
        .await;
    assert_eq!(r.status, 400);
}

// ---------------------------------------------------------------------------------------------
// 7. Headers, assets, 404s
// ---------------------------------------------------------------------------------------------

fn assert_page_headers(r: &Page, what: &str) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{what}"
    );
}

#[tokio::test]
async fn pages_carry_strict_headers_assets_are_served_and_misses_are_404() {
    let app = spawn_app().await;
    let mut anon = WebSession::new(&app);
    for path in [
        "/sign-in",
        "/password/forgotten",
        "/password-setup",
        "/nope",
    ] {
        let r = anon.get(path).await;
        assert_page_headers(&r, path);
    }
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let (krs, _, _) = participant_of(&app, who::KRS_STAFF, false).await;
    for path in [
        "/".to_owned(),
        "/participants".into(),
        "/participants/new".into(),
        format!("/participants/{krs}"),
        format!("/participants/{krs}/identity"),
        format!("/participants/{krs}/history"),
        "/account/password".into(),
        "/admin/users".into(),
        format!("/participants/{}", Uuid::new_v4()),
    ] {
        let r = web.get(&path).await;
        assert!(
            r.status == 200 || r.status.is_client_error(),
            "{path}: {}",
            r.status
        );
        assert_page_headers(&r, &path);
    }
    // A refused form is a page with the same headers.
    let r = web
        .post_with("/sign-out", &[], Field::Right, Field::Missing)
        .await;
    assert_eq!(r.status, 403);
    assert_page_headers(&r, "refused form");

    // Assets.
    for (asset, kind) in [
        ("designsystemet.css", "text/css"),
        ("theme-digdir.css", "text/css"),
        ("app.css", "text/css"),
        ("app.js", "text/javascript"),
    ] {
        let r = anon.get(&format!("/assets/{asset}")).await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with(kind)),
            "{asset}: {:?}",
            r.header("content-type")
        );
        assert!(!r.text.is_empty());
        assert!(r.header("content-security-policy").is_some(), "{asset}");
    }
    for missing in [
        "/assets/x",
        "/assets/app.css.map",
        "/assets/..%2FCargo.toml",
    ] {
        let r = anon.get(missing).await;
        assert_eq!(r.status, 404, "{missing}");
    }

    // A path no page has: an HTML page saying so.
    let r = anon.get("/nope").await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("<html"), "{}", r.text);
    assert!(
        r.text
            .contains("Siden finnes ikke, eller du har ikke tilgang til den.")
    );
    // Under /api/ it stays the API's problem answer.
    let r = app
        .request(Method::GET, "/api/v1/nope", None, None, &[])
        .await;
    assert_eq!(r.assert_problem(404), "urn:handover:problem:not-found");
    let r = anon.get("/api/v1/nope").await;
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "{:?}",
        r.headers
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Login throttling, shared with the API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_passwords_on_the_web_form_throttle_the_api_login_too() {
    let app = spawn_app_with(|s| s.login_max_failures_per_account = 3).await;
    let mut web = WebSession::new(&app);
    for i in 0..3 {
        let r = web
            .sign_in(who::KRS_STAFF, "feil passord feil passord", "")
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
        assert!(r.text.contains("sign-in-problem"));
    }
    let before = sessions(&app).await;
    // Now even the right password waits, on the form...
    let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.text.contains("For mange mislykkede forsøk"), "{}", r.text);
    assert!(r.set_cookie(SESSION).is_none());
    // ...and on the API, for the same account from the same address.
    let r = app.try_login(who::KRS_STAFF, DEMO_PASSWORD).await;
    assert_eq!(
        r.assert_problem(429),
        "urn:handover:problem:too-many-requests"
    );
    assert_eq!(sessions(&app).await, before);
    // Another account from the same address is not locked.
    let mut other = WebSession::new(&app);
    other
        .sign_in(who::STJ_STAFF, DEMO_PASSWORD, "")
        .await
        .assert_redirect("/", "another account");
    assert!(app.audit_count("auth.login", "throttled").await >= 2);
}

#[tokio::test]
async fn wrong_passwords_on_the_api_throttle_the_web_form_too() {
    let app = spawn_app_with(|s| s.login_max_failures_per_account = 3).await;
    for _ in 0..3 {
        app.try_login(who::KRS_STAFF, "feil passord feil passord")
            .await
            .assert_problem(401);
    }
    let mut web = WebSession::new(&app);
    let r = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.set_cookie(SESSION).is_none());
}

#[tokio::test]
async fn hostile_query_strings_are_refused_with_4xx_never_5xx() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    let mut admin = signed_in(&app, who::KRS_ADMIN).await;
    let (krs, _, _) = participant_of(&app, who::KRS_STAFF, false).await;
    let max = i64::MAX.to_string();
    let staff_paths = [
        "/participants?offset=1000001".to_owned(),
        "/participants?offset=-5".to_owned(),
        "/participants?offset=abc".to_owned(),
        "/participants?offset=99999999999999999999999".to_owned(),
        "/participants?arrived_from=31.02.2020".to_owned(),
        "/participants?status=nonsense".to_owned(),
        format!("/participants?name={}", "a".repeat(5000)),
        "/participants?name=%FF%FE".to_owned(),
        format!("/participants/{krs}/history?offset={max}"),
        format!("/participants/{krs}/history?offset=-{max}"),
        "/participants/%00".to_owned(),
        format!("/participants/{krs}/elements/not-an-id"),
        format!("/participants/{krs}/placements/{}", Uuid::new_v4()),
    ];
    let admin_paths = [
        format!("/admin/users?offset={max}"),
        format!("/admin/users?q={}", "%27".repeat(300)),
        "/admin/users/not-an-id".to_owned(),
    ];
    let mut failures = Vec::new();
    for (admin_page, path) in staff_paths
        .iter()
        .map(|p| (false, p))
        .chain(admin_paths.iter().map(|p| (true, p)))
    {
        let s = if admin_page { &mut admin } else { &mut web };
        let r = s.get(path).await;
        if !(r.status == 200 || r.status.is_client_error()) {
            failures.push(format!("{path}: {}", r.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_huge_list_offset_is_refused_not_a_500() {
    let app = spawn_app().await;
    let mut web = signed_in(&app, who::KRS_STAFF).await;
    for offset in [i64::MAX, i64::MAX - 10, 1_000_001] {
        let r = web.get(&format!("/participants?offset={offset}")).await;
        assert!(
            r.status == 200 || r.status.is_client_error(),
            "offset {offset}: {}",
            r.status
        );
        // No link to a page past the end, nor to a negative offset.
        assert!(!r.text.contains("offset=-"), "offset {offset}");
    }
}

#[tokio::test]
async fn a_nul_character_in_a_field_is_refused_not_a_500() {
    let app = spawn_app().await;
    let mut anon = WebSession::new(&app);
    let mut staff = signed_in(&app, who::KRS_STAFF).await;
    let mut admin = signed_in(&app, who::KRS_ADMIN).await;
    let mut op = signed_in(&app, who::OPERATOR_ADMIN).await;
    let mut failures = Vec::new();
    let mut check = |what: &str, status: StatusCode| {
        if !status.is_client_error() {
            failures.push(format!("{what}: {status}"));
        }
    };
    let r = anon.sign_in("ansatt\0@demo.no", DEMO_PASSWORD, "").await;
    check("sign-in e-mail", r.status);
    let r = anon
        .post_anon("/password/forgotten", &[("email", "ansatt\0@demo.no")])
        .await;
    check("forgotten e-mail", r.status);
    check(
        "participant search",
        staff.get("/participants?name=a%00b").await.status,
    );
    check(
        "user search",
        admin.get("/admin/users?q=a%00b").await.status,
    );
    check(
        "organisation search",
        op.get("/admin/organisations?q=a%00b").await.status,
    );
    // The API shares the use cases, and the bug.
    check(
        "API login",
        app.try_login("ansatt\0@demo.no", DEMO_PASSWORD)
            .await
            .status,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_page_asked_with_the_wrong_method_is_a_page_and_an_api_path_a_problem() {
    let app = spawn_app().await;
    let r = app
        .request(
            Method::GET,
            "/sign-out",
            None,
            None,
            &[("cookie", "handover-lang=en")],
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert_eq!(r.header("allow"), Some("POST"));
    assert!(r.text.contains("Cannot be opened this way"), "{}", r.text);
    let r = app
        .request(Method::GET, "/api/v1/auth/login", None, None, &[])
        .await;
    assert_eq!(r.status, 405);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/problem+json")
    );
}

#[tokio::test]
async fn the_audit_page_is_for_administrators_only() {
    let app = spawn_app().await;
    for (email, status) in [
        (who::KRS_ADMIN, 200),
        (who::OPERATOR_ADMIN, 200),
        (who::KRS_STAFF, 403),
        (who::KOMMUNE_KRS_STAFF, 403),
        (who::AGDER_COUNSELLOR, 403),
    ] {
        let mut web = signed_in(&app, email).await;
        let r = web.get("/admin/audit").await;
        assert_eq!(r.status.as_u16(), status, "{email}");
    }
}

#[tokio::test]
async fn a_confirmed_conversation_downloads_as_a_calendar_file_for_its_municipality_only() {
    let app = spawn_app().await;
    let confirmed: Uuid = sqlx::query_scalar(
        "SELECT c.id FROM conversations c JOIN handovers h ON h.id = c.handover_id
         JOIN organisations m ON m.id = h.municipality_id
         WHERE c.state = 'confirmed' AND m.name = 'Kristiansand' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let path = format!("/conversations/{confirmed}/calendar.ics");
    let mut web = signed_in(&app, who::KOMMUNE_KRS_STAFF).await;
    let r = web.get(&path).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(
        r.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .starts_with("text/calendar")
    );
    assert!(r.text.starts_with("BEGIN:VCALENDAR"), "{}", r.text);
    let page = web.get("/conversations").await;
    assert_eq!(page.status.as_u16(), 200);
    let mut other = signed_in(&app, who::KOMMUNE_TRD_STAFF).await;
    assert_eq!(other.get(&path).await.status.as_u16(), 404);
}
