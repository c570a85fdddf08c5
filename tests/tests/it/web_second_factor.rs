//! The second factor in the web application, over plain HTTP: setting it up from the account
//! page (QR code and key), the recovery codes shown once, the sign-in's code step with its
//! messages beside the field, and removal; for users of two organisations of the same kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{DEMO_PASSWORD, TestApp, spawn_app, who};
use reqwest::StatusCode;
use totp_rs::{Secret, TOTP};

fn totp_of(key: &str) -> TOTP {
    let bytes = Secret::Encoded(key.replace(' ', "")).to_bytes().unwrap();
    TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into()).unwrap()
}

fn code_now(app: &TestApp, t: &TOTP) -> String {
    t.generate(u64::try_from(app.clock.now().unix_timestamp()).unwrap())
}

/// The text of the element with this id (the key and the codes are in `<code>`s).
fn codes_in(html: &str) -> Vec<String> {
    let start = html.find("id=\"recovery-codes\"").expect("codes shown");
    let part = &html[start..];
    let end = part.find("</ul>").unwrap();
    part[..end]
        .split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_owned())
        .collect()
}

fn secret_in(html: &str) -> String {
    let start = html.find("id=\"totp-secret\">").expect("key shown") + "id=\"totp-secret\">".len();
    html[start..].split("</code>").next().unwrap().to_owned()
}

/// Sets up the authenticator from the account page; the key and the recovery codes.
async fn enrol_on_page(app: &TestApp, s: &mut WebSession<'_>) -> (TOTP, Vec<String>) {
    let p = s.get("/account/second-factor").await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains("id=\"second-factor-off\""), "{}", p.text);

    let p = s
        .post_form(
            "/account/second-factor/setup",
            &[("current_password", "wrong")],
        )
        .await;
    p.assert_invalid(&["current_password"], "wrong password");

    let p = s
        .post_form(
            "/account/second-factor/setup",
            &[("current_password", DEMO_PASSWORD)],
        )
        .await;
    p.assert_redirect("/account/second-factor", "setup begun");
    let p = s.get("/account/second-factor").await;
    assert!(
        p.text.contains("src=\"data:image/svg+xml;base64,"),
        "QR code: {}",
        p.text
    );
    let t = totp_of(&secret_in(&p.text));

    let p = s
        .post_form("/account/second-factor/confirm", &[("code", "000000")])
        .await;
    p.assert_invalid(&["code"], "wrong code");
    let p = s
        .post_form("/account/second-factor/confirm", &[("code", "")])
        .await;
    p.assert_invalid(&["code"], "no code");

    let p = s
        .post_form(
            "/account/second-factor/confirm",
            &[("code", &code_now(app, &t))],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let codes = codes_in(&p.text);
    assert_eq!(codes.len(), 10, "{}", p.text);
    // Shown on that answer only: the page itself never shows them again.
    let p = s.get("/account/second-factor").await;
    assert!(p.text.contains("id=\"second-factor-on\""), "{}", p.text);
    assert!(!p.text.contains(&codes[0]));
    assert!(!p.text.contains("totp-secret"));
    (t, codes)
}

/// A wrong code at sign-in: 401, the code page again with the message beside the field.
fn refused_beside_the_field(p: &Page, what: &str) {
    assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{what}: {}", p.text);
    assert!(p.text.contains("href=\"#code\""), "{what}: no summary link");
    assert!(
        p.text.contains("id=\"code-error\""),
        "{what}: no message: {}",
        p.text
    );
    assert!(
        p.text.contains("action=\"/sign-in/code\""),
        "{what}: {}",
        p.text
    );
}

/// The sign-in's first step for a user with a second factor: the code page, its challenge.
async fn password_step(s: &mut WebSession<'_>, email: &str) -> String {
    let p = s.sign_in(email, DEMO_PASSWORD, "/handovers").await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(s.cookie(SESSION).is_none(), "no session before the code");
    assert!(p.text.contains("action=\"/sign-in/code\""), "{}", p.text);
    hidden(&p.text, "challenge").unwrap()
}

#[tokio::test]
async fn staff_of_two_municipalities_set_up_and_sign_in_with_a_code_on_the_web() {
    let app = spawn_app().await;
    for email in [who::KOMMUNE_KRS_STAFF, who::KOMMUNE_TRD_STAFF] {
        let mut s = signed_in(&app, email).await;
        let (t, codes) = enrol_on_page(&app, &mut s).await;

        let mut fresh = WebSession::new(&app);
        let challenge = password_step(&mut fresh, email).await;
        // The code of the confirmation was of this step: used, a message beside the field.
        let p = fresh
            .post_anon(
                "/sign-in/code",
                &[
                    ("challenge", &challenge),
                    ("code", &code_now(&app, &t)),
                    ("next", "/handovers"),
                ],
            )
            .await;
        refused_beside_the_field(&p, "a used code");
        assert!(fresh.cookie(SESSION).is_none());
        let p = fresh
            .post_anon(
                "/sign-in/code",
                &[
                    ("challenge", &challenge),
                    ("code", ""),
                    ("next", "/handovers"),
                ],
            )
            .await;
        p.assert_invalid(&["code"], "no code");

        app.clock.advance(time::Duration::seconds(30));
        let p = fresh
            .post_anon(
                "/sign-in/code",
                &[
                    ("challenge", &challenge),
                    ("code", &code_now(&app, &t)),
                    ("next", "/handovers"),
                ],
            )
            .await;
        p.assert_redirect("/handovers", "signed in with the code");
        assert!(fresh.cookie(SESSION).is_some());
        let p = fresh.get("/handovers").await;
        assert_eq!(p.status, 200, "{}", p.text);

        // A recovery code signs in too, once.
        let mut other = WebSession::new(&app);
        let challenge = password_step(&mut other, email).await;
        let p = other
            .post_anon(
                "/sign-in/code",
                &[("challenge", &challenge), ("code", &codes[0]), ("next", "")],
            )
            .await;
        p.assert_redirect("/", "recovery code");
        let mut again = WebSession::new(&app);
        let challenge = password_step(&mut again, email).await;
        let p = again
            .post_anon(
                "/sign-in/code",
                &[("challenge", &challenge), ("code", &codes[0]), ("next", "")],
            )
            .await;
        refused_beside_the_field(&p, "a used recovery code");
    }
}

#[tokio::test]
async fn a_forged_or_spent_challenge_sends_back_to_the_password() {
    let app = spawn_app().await;
    let email = who::KRS_STAFF;
    let mut s = signed_in(&app, email).await;
    let (t, _) = enrol_on_page(&app, &mut s).await;
    app.clock.advance(time::Duration::seconds(30));

    let mut w = WebSession::new(&app);
    let p = w
        .post_anon(
            "/sign-in/code",
            &[("challenge", "forged"), ("code", &code_now(&app, &t))],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.text.contains("action=\"/sign-in\""),
        "back to the password: {}",
        p.text
    );
    assert!(w.cookie(SESSION).is_none());

    let challenge = password_step(&mut w, email).await;
    for _ in 0..5 {
        let p = w
            .post_anon(
                "/sign-in/code",
                &[("challenge", &challenge), ("code", "123 456")],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{}", p.text);
    }
    let p = w
        .post_anon(
            "/sign-in/code",
            &[("challenge", &challenge), ("code", &code_now(&app, &t))],
        )
        .await;
    assert!(p.text.contains("id=\"sign-in-problem\""), "{}", p.text);
    assert!(w.cookie(SESSION).is_none());
    // The account's second step is now throttled: a page that says so, with Retry-After.
    let challenge = password_step(&mut w, email).await;
    let p = w
        .post_anon(
            "/sign-in/code",
            &[("challenge", &challenge), ("code", &code_now(&app, &t))],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.text);
    assert!(p.header("retry-after").is_some());
}

#[tokio::test]
async fn the_second_factor_is_removed_with_a_code_and_the_pages_need_a_session() {
    let app = spawn_app().await;
    let mut s = signed_in(&app, who::AGDER_COUNSELLOR).await;
    let (t, _) = enrol_on_page(&app, &mut s).await;
    app.clock.advance(time::Duration::seconds(30));
    let p = s
        .post_form(
            "/account/second-factor/remove",
            &[("remove_code", "000000")],
        )
        .await;
    p.assert_invalid(&["remove_code"], "wrong code");
    let p = s
        .post_form(
            "/account/second-factor/remove",
            &[("remove_code", &code_now(&app, &t))],
        )
        .await;
    p.assert_redirect("/account/second-factor?done=removed", "removed");
    let p = s.get("/account/second-factor?done=removed").await;
    assert!(p.text.contains("id=\"second-factor-off\""), "{}", p.text);
    let mut w = WebSession::new(&app);
    let p = w.sign_in(who::AGDER_COUNSELLOR, DEMO_PASSWORD, "").await;
    p.assert_redirect("/", "one step again");

    // Without a session: to the sign-in; without the form token: refused, nothing changes.
    let mut anon = WebSession::new(&app);
    let p = anon.get("/account/second-factor").await;
    assert!(p.location().starts_with("/sign-in"), "{:?}", p.headers);
    let mut other = signed_in(&app, who::TRD_COUNSELLOR).await;
    let p = other
        .post_with(
            "/account/second-factor/setup",
            &[("current_password", DEMO_PASSWORD)],
            Field::Right,
            Field::Missing,
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.text);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM user_totp")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn in_the_browser_an_administrator_sets_up_the_app_at_first_sign_in_and_staff_from_the_account_page()
 {
    use handover_tests::authenticator_code;
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    // An administrator's first sign-in: the QR code and the key, a wrong code beside the
    // field (the key shown again), then the recovery codes once.
    let admin = who::KOMMUNE_KRS_ADMIN;
    // Straight to the password step (the two steps are tested with every other sign-in).
    b.goto("/sign-in?password=1").await;
    b.fill("email", admin).await;
    b.fill("password", DEMO_PASSWORD).await;
    b.submit("email").await;
    b.wait_for(
        || async { b.has("#totp-secret").await },
        "the setup at sign-in",
    )
    .await;
    assert!(b.has("img.app-qr").await);
    b.assert_accessible().await;
    b.screenshot("sign-in-setup-nb").await;
    b.fill("code", "000000").await;
    b.submit("code").await;
    b.wait_for(|| async { b.has("#code-error").await }, "a wrong code")
        .await;
    assert!(b.has("#totp-secret").await, "the key is shown again");
    b.assert_accessible().await;
    let key = b.text("#totp-secret").await;
    let code = authenticator_code(&app.pool, &app.clock, admin, Some(&key)).await;
    b.fill("code", &code).await;
    b.submit("code").await;
    b.wait_for(
        || async { b.has("#recovery-codes").await },
        "the recovery codes",
    )
    .await;
    b.assert_accessible().await;
    b.screenshot("sign-in-recovery-codes-nb").await;
    b.click_css("#continue").await;
    b.wait_for(|| async { b.path().await == "/" }, "the start page")
        .await;
    b.goto("/account/second-factor").await;
    assert!(b.has("#second-factor-required").await, "{}", b.body().await);
    assert!(!b.has("form[action='/account/second-factor/remove']").await);
    b.sign_out().await;

    // Staff set it up from the account page, and the next sign-in asks for a code.
    let staff = who::KOMMUNE_TRD_STAFF;
    b.sign_in(staff).await;
    b.goto("/account/second-factor").await;
    assert!(b.has("#second-factor-off").await);
    b.fill("current_password", DEMO_PASSWORD).await;
    b.submit("current_password").await;
    b.wait_for(|| async { b.has("#totp-secret").await }, "the setup page")
        .await;
    b.assert_accessible().await;
    b.screenshot("second-factor-setup-nb").await;
    let key = b.text("#totp-secret").await;
    let code = authenticator_code(&app.pool, &app.clock, staff, Some(&key)).await;
    b.fill("code", &code).await;
    b.submit("code").await;
    b.wait_for(
        || async { b.has("#recovery-codes").await },
        "the recovery codes",
    )
    .await;
    b.assert_accessible().await;
    b.sign_out().await;

    b.goto("/sign-in?password=1").await;
    b.fill("email", staff).await;
    b.fill("password", DEMO_PASSWORD).await;
    b.submit("email").await;
    b.wait_for(
        || async { b.has("form[action='/sign-in/code'] #code").await },
        "the code step",
    )
    .await;
    assert!(!b.has("#totp-secret").await);
    b.assert_accessible().await;
    b.screenshot("sign-in-code-nb").await;
    app.clock.advance(time::Duration::seconds(30));
    let code = authenticator_code(&app.pool, &app.clock, staff, None).await;
    b.fill("code", &code).await;
    b.submit("code").await;
    b.wait_for(
        || async { b.path().await == "/" },
        "signed in with the code",
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn an_administrator_resets_a_users_second_factor_from_the_user_page() {
    let app = spawn_app().await;
    let mut staff = signed_in(&app, who::STJ_STAFF).await;
    let _ = enrol_on_page(&app, &mut staff).await;
    let id = app.user_id(who::STJ_STAFF).await;
    let page = format!("/admin/users/{id}");

    // The other centre's administrator cannot reach the account at all.
    let mut krs = signed_in(&app, who::KRS_ADMIN).await;
    let p = krs.get(&page).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.text);
    let p = krs
        .post_form(&format!("{page}/second-factor-reset"), &[])
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.text);

    let mut admin = signed_in(&app, who::STJ_ADMIN).await;
    let p = admin.get(&page).await;
    assert!(p.text.contains("id=\"second-factor-reset\""), "{}", p.text);
    let p = admin
        .post_form(&format!("{page}/second-factor-reset"), &[])
        .await;
    p.assert_redirect(&format!("{page}?done=second_factor_reset"), "reset");
    let p = admin.get(&format!("{page}?done=second_factor_reset")).await;
    assert!(!p.text.contains("id=\"second-factor-reset\""), "{}", p.text);
    // The user was signed out, and signs in with the password alone.
    let p = staff.get("/").await;
    assert!(p.location().starts_with("/sign-in"), "{:?}", p.headers);
    let mut again = WebSession::new(&app);
    let p = again.sign_in(who::STJ_STAFF, DEMO_PASSWORD, "").await;
    p.assert_redirect("/", "one step");
    // Their own page has no reset button for themselves.
    let id_admin = app.user_id(who::STJ_ADMIN).await;
    let p = admin.get(&format!("/admin/users/{id_admin}")).await;
    assert!(!p.text.contains("id=\"second-factor-reset\""), "{}", p.text);
}

#[tokio::test]
async fn the_operator_requires_a_second_factor_of_a_centres_staff_on_the_organisation_page() {
    let app = spawn_app().await;
    let org = app.org_of(who::STJ_STAFF).await;
    let (name, county): (String, Option<String>) =
        sqlx::query_as("SELECT name, county FROM organisations WHERE id = $1")
            .bind(org)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let here = format!("/admin/organisations/{org}");
    let mut op = signed_in(&app, who::OPERATOR_ADMIN).await;
    let p = op.get(&here).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(
        p.text.contains("id=\"require_second_factor\""),
        "{}",
        p.text
    );
    assert!(
        !p.text.contains("value=\"yes\" checked"),
        "not yet required"
    );
    let version = hidden(&p.text, "version").unwrap();
    let county = county.unwrap_or_default();
    let p = op
        .post_form(
            &here,
            &[
                ("version", &version),
                ("action", "save"),
                ("name", &name),
                ("county", &county),
                ("serves_reception_centre_id", ""),
                ("require_second_factor", "yes"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let p = op.get(&here).await;
    assert!(p.text.contains("value=\"yes\" checked"), "{}", p.text);

    // The centre's staff now get the setup at sign-in; the other centre's do not.
    let mut w = WebSession::new(&app);
    let p = w.sign_in(who::STJ_STAFF, DEMO_PASSWORD, "").await;
    assert!(p.text.contains("id=\"totp-secret\""), "{}", p.text);
    let mut k = WebSession::new(&app);
    let p = k.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    p.assert_redirect("/", "not required there");
    // Their own organisation page says so.
    let mut s = signed_in(&app, who::STJ_ADMIN).await;
    let p = s.get("/admin/organisation").await;
    assert!(p.text.contains("id=\"org-second-factor\""), "{}", p.text);
    // Staff cannot reach the operator's organisation form.
    let mut staff = signed_in(&app, who::KRS_STAFF).await;
    let p = staff.get(&here).await;
    assert!(
        p.status == StatusCode::FORBIDDEN || p.status == StatusCode::NOT_FOUND,
        "{}",
        p.status
    );
}
