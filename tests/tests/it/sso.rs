//! Single sign-on through an organisation's own OpenID provider: the whole flow through a real
//! provider (oidc-provider), every forged or broken flow refused without a session, the
//! provider's back-channel logout, local passwords turned off, and the ID-token checks against
//! a rogue provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::oidc::{self, OidcProvider, OpBrowser, Rogue, TempDir, param, path_of};
use handover_tests::web::{SESSION, SSO, WebSession};
use handover_tests::{TestApp, spawn_app_with, who};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "test-client-secret-of-kristiansand";
const DOMAIN: &str = "kristiansand.kommune.no";
const ANNA: &str = "anna@kristiansand.kommune.no";

struct Sso {
    app: TestApp,
    op: OidcProvider,
    org: Uuid,
    admin: String,
    _secrets: TempDir,
}

async fn app_with_secrets() -> (TestApp, TempDir) {
    let secrets = TempDir::new("sso-secrets");
    std::fs::write(secrets.0.join("krs.secret"), format!("{SECRET}\n")).unwrap();
    let dir = secrets.0.clone();
    let app = spawn_app_with(move |s| {
        s.sso_allow_http = true;
        s.sso_secrets_dir = Some(dir);
        s.sso_timeout_secs = 3;
    })
    .await;
    (app, secrets)
}

async fn put_provider(
    app: &TestApp,
    token: &str,
    org: Uuid,
    body: &Value,
    if_match: Option<&str>,
) -> handover_tests::Res {
    let h: Vec<(&str, &str)> = if_match.map(|m| vec![("if-match", m)]).unwrap_or_default();
    app.request(
        Method::PUT,
        &format!("/api/v1/organisations/{org}/identity-provider"),
        Some(token),
        Some(body),
        &h,
    )
    .await
}

fn settings(issuer: &str, passwords_allowed: bool) -> Value {
    json!({
        "issuer": issuer,
        "client_id": "handover",
        "client_secret_file": "krs.secret",
        "scopes": ["email", "profile"],
        "email_domains": [DOMAIN],
        "passwords_allowed": passwords_allowed,
    })
}

/// Kristiansand kommune signs in through the test provider; Anna has an account there, the
/// provider knows her and three others (unknown here, of Trondheim, and unverified).
async fn setup(passwords_allowed: bool) -> Sso {
    let (app, secrets) = app_with_secrets().await;
    let org = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let op = OidcProvider::start(&json!({
        "clients": [oidc::client(&app, org, "handover", SECRET)],
        "accounts": [
            oidc::account("anna", "anna-sub", ANNA),
            oidc::account("ukjent", "ukjent-sub", "ukjent@kristiansand.kommune.no"),
            oidc::account("trondheim", "trd-sub", who::KOMMUNE_TRD_STAFF),
            { "login": "uverifisert", "claims": { "sub": "unv-sub", "email": "ola@kristiansand.kommune.no", "email_verified": false } },
        ],
    }))
    .await;
    let admin = app.token(who::KOMMUNE_KRS_ADMIN).await;
    for (email, name) in [
        (ANNA, "Anna Berg"),
        ("ola@kristiansand.kommune.no", "Ola Dal"),
    ] {
        let r = app
            .post(
                "/api/v1/users",
                Some(&admin),
                &json!({ "email": email, "name": name, "role": "municipality_staff", "organisation_id": org }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = put_provider(
        &app,
        &admin,
        org,
        &settings(&op.issuer, passwords_allowed),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains(SECRET),
        "the secret never leaves: {}",
        r.text
    );
    assert_eq!(r.body["client_secret_readable"], true);
    Sso {
        app,
        op,
        org,
        admin,
        _secrets: secrets,
    }
}

async fn signed_in(web: &mut WebSession<'_>) -> bool {
    let p = web.get("/").await;
    p.status == 200
}

#[tokio::test]
async fn staff_sign_in_through_their_organisations_provider_and_the_session_acts_like_any_other() {
    let s = setup(true).await;
    let app = &s.app;
    let mut web = WebSession::new(app);
    let mut op = OpBrowser::new(app);
    // The address (any case) goes to the provider; the state cookie stays for ten minutes.
    let first = web
        .post_anon(
            "/sign-in",
            &[
                ("email", "Anna@Kristiansand.Kommune.no"),
                ("next", "/handovers"),
            ],
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let cookie = first.set_cookie(SSO).expect("the state cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=600"),
        "{cookie}"
    );
    let url = oidc::attr_of(&first.text, "to-provider", "href").unwrap();
    assert!(url.starts_with(&format!("{}/", s.op.issuer)), "{url}");
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(param(&url, "nonce").is_some() && param(&url, "state").is_some());
    assert_eq!(param(&url, "state").as_deref(), web.cookie(SSO));
    // An address of another domain goes on to the password, never to the provider.
    let other = WebSession::new(app)
        .post_anon("/sign-in", &[("email", who::KOMMUNE_TRD_STAFF)])
        .await;
    assert_eq!(other.status, 200);
    assert!(other.text.contains("id=\"password\"") && !other.text.contains("to-provider"));

    let back = op.authorize(&url, "anna").await;
    let done = web.get(&path_of(&back)).await;
    done.assert_redirect("/handovers", "the callback");
    assert!(web.cookie(SESSION).is_some());
    assert!(web.cookie(SSO).is_none(), "the state cookie is removed");
    let start = web.get("/").await;
    assert_eq!(start.status, 200);
    assert!(start.text.contains("Anna Berg"), "{}", start.text);
    assert_eq!(app.audit_count("auth.sso_login", "success").await, 1);
    let (linked,): (String,) = sqlx::query_as(
        "SELECT subject FROM user_identities i JOIN users u ON u.id = i.user_id WHERE u.email = $1",
    )
    .bind(ANNA)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(linked, "anna-sub");

    // A second sign-in finds her by the linked subject.
    let mut again = WebSession::new(app);
    let mut op2 = OpBrowser::new(app);
    again
        .sign_in_sso(&mut op2, ANNA, "anna")
        .await
        .assert_redirect("/", "second sign-in");
    assert_eq!(app.audit_count("auth.sso_login", "success").await, 2);

    // Deactivation ends both sessions on the very next request.
    let id = app.user_id(ANNA).await;
    let version: i32 = sqlx::query_scalar("SELECT version FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &s.admin,
            &json!({ "active": false }),
            Some(&format!("\"{version}\"")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!signed_in(&mut web).await);
    assert!(!signed_in(&mut again).await);
    // And the provider cannot sign her in again.
    let p = WebSession::new(app)
        .sign_in_sso(&mut OpBrowser::new(app), ANNA, "anna")
        .await;
    assert_eq!(p.status, 403, "{}", p.text);
    assert_eq!(
        app.audit_count("auth.sso_login", "inactive_account").await,
        1
    );
}

#[tokio::test]
async fn forged_replayed_and_foreign_callbacks_sign_no_one_in() {
    let s = setup(true).await;
    let app = &s.app;
    let refused = |p: &handover_tests::web::Page, status: u16, what: &str| {
        assert_eq!(p.status, status, "{what}: {}", p.text);
        assert!(
            p.is_page() && p.text.contains("id=\"sign-in-problem\""),
            "{what}: {}",
            p.text
        );
        assert!(p.set_cookie(SESSION).is_none(), "{what}: a session cookie");
    };

    // A wrong state: the browser's cookie names another sign-in.
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let back = OpBrowser::new(app).authorize(&url, "anna").await;
    let state = param(&back, "state").unwrap();
    let forged = path_of(&back).replace(&state, "forged-state-value");
    refused(&web.get(&forged).await, 400, "wrong state");
    assert_eq!(app.audit_count("auth.sso_login", "state_mismatch").await, 1);

    // Someone else's callback, opened in a browser that did not start it (login CSRF).
    let mut victim = WebSession::new(app);
    refused(&victim.get(&path_of(&back)).await, 400, "no state cookie");
    assert_eq!(app.audit_count("auth.sso_login", "state_mismatch").await, 2);

    // The same callback twice: the first signs in, the replay does not.
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let back = OpBrowser::new(app).authorize(&url, "anna").await;
    let cookie = web.cookie(SSO).unwrap().to_owned();
    web.get(&path_of(&back))
        .await
        .assert_redirect("/", "first use");
    let mut replay = WebSession::new(app);
    replay.set_cookie(SSO, &cookie);
    refused(&replay.get(&path_of(&back)).await, 400, "a replayed state");
    assert_eq!(app.audit_count("auth.sso_login", "unknown_state").await, 1);

    // A used code under a fresh state: the provider refuses it.
    let mut web = WebSession::new(app);
    let fresh = web.start_sso(ANNA, "").await;
    let fresh_state = param(&fresh, "state").unwrap();
    let code = param(&back, "code").unwrap();
    let path = format!(
        "/sign-in/sso/callback?code={}&state={}",
        oidc::enc(&code),
        oidc::enc(&fresh_state)
    );
    refused(&web.get(&path).await, 400, "a replayed code");
    assert_eq!(app.audit_count("auth.sso_login", "code_refused").await, 1);

    // The answer of another provider (iss of RFC 9207 is not this one).
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let back = OpBrowser::new(app).authorize(&url, "anna").await;
    let iss = param(&back, "iss").expect("oidc-provider sends iss");
    let other = path_of(&back).replace(&oidc::enc(&iss), "https%3A%2F%2Fevil.example");
    refused(&web.get(&other).await, 400, "another issuer's answer");
    assert_eq!(
        app.audit_count("auth.sso_login", "wrong_issuer_param")
            .await,
        1
    );

    // The provider says no (the person cancelled).
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let st = param(&url, "state").unwrap();
    refused(
        &web.get(&format!(
            "/sign-in/sso/callback?error=access_denied&state={}",
            oidc::enc(&st)
        ))
        .await,
        400,
        "a provider error",
    );
    // Garbage in the query.
    refused(
        &web.get("/sign-in/sso/callback?state=a&state=b").await,
        400,
        "a malformed query",
    );
    refused(&web.get("/sign-in/sso/callback").await, 400, "no query");

    // People the provider knows and the service does not let in.
    for (login, status, outcome) in [
        ("ukjent", 403, "unknown_user"),
        ("trondheim", 403, "other_organisation"),
        ("uverifisert", 403, "email_not_verified"),
    ] {
        let mut web = WebSession::new(app);
        let p = web.sign_in_sso(&mut OpBrowser::new(app), ANNA, login).await;
        refused(&p, status, login);
        assert_eq!(
            app.audit_count("auth.sso_login", outcome).await,
            1,
            "{login}"
        );
    }
    let (sessions,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM sessions WHERE sso_org_id IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(sessions, 1, "only the one real sign-in made a session");
}

#[tokio::test]
async fn a_provider_that_is_down_or_misconfigured_gives_a_clear_page_never_a_500() {
    let mut s = setup(true).await;
    let app = &s.app;
    // Down between the start and the callback.
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let back = OpBrowser::new(app).authorize(&url, "anna").await;
    s.op.stop().await;
    let p = web.get(&path_of(&back)).await;
    assert_eq!(p.status, 503, "{}", p.text);
    assert!(p.text.contains("id=\"sign-in-problem\""));
    // Down at the start: the address cannot go anywhere.
    let p = WebSession::new(app)
        .post_anon("/sign-in", &[("email", ANNA)])
        .await;
    assert_eq!(p.status, 503, "{}", p.text);
    assert!(p.text.contains("id=\"sign-in-problem\"") && p.text.contains("sign-in-with-password"));
    // The password stays where the organisation allows it.
    let p = WebSession::new(app)
        .sign_in(who::KOMMUNE_KRS_STAFF, handover_tests::DEMO_PASSWORD, "")
        .await;
    p.assert_redirect("/", "a password sign-in while the provider is down");

    // A secret file that is gone: misconfigured, said as such.
    let rogue = Rogue::start().await;
    let mut body = settings(&rogue.issuer, true);
    body["client_secret_file"] = json!("missing.secret");
    let etag = app
        .get(
            &format!("/api/v1/organisations/{}/identity-provider", s.org),
            &s.admin,
        )
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let r = put_provider(app, &s.admin, s.org, &body, Some(&etag)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["client_secret_readable"], false);
    let p = WebSession::new(app)
        .post_anon("/sign-in", &[("email", ANNA)])
        .await;
    assert_eq!(p.status, 503, "{}", p.text);
}

#[tokio::test]
async fn with_passwords_off_only_the_provider_signs_the_organisations_staff_in() {
    let s = setup(true).await;
    let app = &s.app;
    let staff_web = handover_tests::web::signed_in(app, who::KOMMUNE_KRS_STAFF).await;
    let staff_api = app.token(who::KOMMUNE_KRS_STAFF).await;
    let other_api = app.token(who::KOMMUNE_TRD_STAFF).await;
    let path = format!("/api/v1/organisations/{}/identity-provider", s.org);
    let etag = app
        .get(&path, &s.admin)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    // A replacement names the version it edits.
    let r = put_provider(app, &s.admin, s.org, &settings(&s.op.issuer, false), None).await;
    assert_eq!(r.status, 428, "{}", r.text);
    let r = put_provider(
        app,
        &s.admin,
        s.org,
        &settings(&s.op.issuer, false),
        Some("\"999\""),
    )
    .await;
    assert_eq!(r.status, 412, "{}", r.text);
    let r = put_provider(
        app,
        &s.admin,
        s.org,
        &settings(&s.op.issuer, false),
        Some(&etag),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The organisation's password sessions ended at once; another organisation's did not.
    let mut staff_web = staff_web;
    assert!(!signed_in(&mut staff_web).await);
    assert_eq!(app.get("/api/v1/me", &staff_api).await.status, 401);
    assert_eq!(app.get("/api/v1/me", &other_api).await.status, 200);
    // The right password is refused with the reason; a wrong one says only that it is wrong.
    let r = app
        .try_login(who::KOMMUNE_KRS_STAFF, handover_tests::DEMO_PASSWORD)
        .await;
    assert_eq!(
        r.assert_problem(403),
        "urn:handover:problem:passwords-disabled"
    );
    let r = app
        .try_login(who::KOMMUNE_KRS_STAFF, "not-the-password-at-all")
        .await;
    assert_eq!(r.status, 401);
    let p = WebSession::new(app)
        .sign_in(who::KOMMUNE_KRS_STAFF, handover_tests::DEMO_PASSWORD, "")
        .await;
    assert_eq!(p.status, 403, "{}", p.text);
    assert!(p.text.contains("id=\"sign-in-problem\""));
    // "Forgot your password?" answers as ever, and sends no link around the provider.
    let p = WebSession::new(app)
        .post_anon("/password/forgotten", &[("email", who::KOMMUNE_KRS_STAFF)])
        .await;
    p.assert_redirect("/password/forgotten?sent=1", "forgotten");
    assert_eq!(
        app.audit_count("auth.password_forgotten", "passwords_disabled")
            .await,
        1
    );
    assert_eq!(app.audit_count("auth.password_forgotten", "sent").await, 0);
    // The provider still signs Anna in.
    WebSession::new(app)
        .sign_in_sso(&mut OpBrowser::new(app), ANNA, "anna")
        .await
        .assert_redirect("/", "the provider's sign-in");

    // The operator keeps passwords, and no organisation turns them off without a domain.
    let operator = app.token(who::OPERATOR_ADMIN).await;
    let op_org = app.org_of(who::OPERATOR_ADMIN).await;
    let r = put_provider(app, &operator, op_org, &json!({"issuer": "https://idp.example", "client_id": "x", "email_domains": ["drift.example.no"], "passwords_allowed": false}), None).await;
    handover_tests::assert_invalid(
        &r,
        "passwords_allowed",
        "operator_keeps_passwords",
        "the operator",
    );
    let trd_admin = app.token(who::KOMMUNE_TRD_ADMIN).await;
    let trd = app.org_of(who::KOMMUNE_TRD_ADMIN).await;
    let r = put_provider(
        app,
        &trd_admin,
        trd,
        &json!({"issuer": "https://idp.example", "client_id": "x", "passwords_allowed": false}),
        None,
    )
    .await;
    handover_tests::assert_invalid(&r, "passwords_allowed", "needs_domain", "no domain");
    // A domain is one organisation's.
    let r = put_provider(
        app,
        &trd_admin,
        trd,
        &json!({"issuer": "https://idp.example", "client_id": "x", "email_domains": [DOMAIN]}),
        None,
    )
    .await;
    handover_tests::assert_invalid(&r, "email_domains", "taken", "a taken domain");
    // Another municipality's administrator cannot see or change Kristiansand's.
    assert_eq!(app.get(&path, &trd_admin).await.status, 404);
    assert_eq!(
        put_provider(app, &trd_admin, s.org, &settings(&s.op.issuer, true), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn invalid_settings_are_refused_field_by_field() {
    let (app, _secrets) = app_with_secrets().await;
    let admin = app.token(who::KOMMUNE_KRS_ADMIN).await;
    let org = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let base = json!({"issuer": "https://idp.example", "client_id": "x"});
    for (field, value) in [
        ("issuer", json!("ftp://idp.example")),
        ("issuer", json!("https://idp.example/?q=1")),
        ("issuer", json!("not a url")),
        ("client_id", json!("")),
        ("client_id", json!("with space")),
        ("client_secret_file", json!("../etc/passwd")),
        ("client_secret_file", json!(".hidden")),
        ("subject_claim", json!("no spaces allowed")),
        ("email_claim", json!("")),
        ("email_domains", json!(["not_a_domain"])),
        ("email_domains", json!(["nodot"])),
        ("acr_values", json!(["a", "b", "c", "d", "e", "f"])),
    ] {
        let mut b = base.clone();
        b[field] = value.clone();
        if field == "email_claim" {
            // An empty claim name means the default; a bad one is refused.
            b[field] = json!("bad claim");
        }
        let r = put_provider(&app, &admin, org, &b, None).await;
        assert_eq!(r.status, 422, "{field} {value}: {}", r.text);
        assert!(
            r.invalid_fields().iter().any(|f| f == field),
            "{field} {value}: {}",
            r.text
        );
    }
    for bad in [
        json!({"issuer": "https://idp.example"}),
        json!({"issuer": "https://idp.example", "client_id": "x", "client_secret": "s"}),
        json!([1]),
    ] {
        let r = put_provider(&app, &admin, org, &bad, None).await;
        assert!(r.status == 400 || r.status == 422, "{bad}: {}", r.text);
    }
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM identity_providers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing half-written");
}

#[tokio::test]
async fn the_providers_back_channel_logout_ends_the_sessions_it_started_and_forged_tokens_do_not() {
    let s = setup(true).await;
    let app = &s.app;
    let mut web = WebSession::new(app);
    let mut op = OpBrowser::new(app);
    web.sign_in_sso(&mut op, ANNA, "anna")
        .await
        .assert_redirect("/", "sign-in");
    let mut bystander = handover_tests::web::signed_in(app, who::KOMMUNE_KRS_STAFF).await;
    let logout = format!("/sign-in/sso/{}/backchannel-logout", s.org);
    // Forged tokens: garbage, one signed with a key the provider never had, none at all.
    let mut anon = WebSession::new(app);
    for body in [
        "logout_token=not.a.jwt".to_owned(),
        format!(
            "logout_token={}",
            Rogue::sign(
                0,
                "forged",
                &json!({"iss": s.op.issuer, "aud": "handover", "iat": 1, "sub": "anna-sub", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}})
            )
        ),
        String::new(),
        "%%%".to_owned(),
    ] {
        let p = anon
            .send(
                Method::POST,
                &logout,
                &[],
                Some((
                    "application/x-www-form-urlencoded",
                    body.clone().into_bytes(),
                )),
            )
            .await;
        assert_eq!(p.status, 400, "{body}: {}", p.text);
        assert_eq!(p.header("cache-control"), Some("no-store"));
    }
    let p = anon
        .send(
            Method::POST,
            &format!("/sign-in/sso/{}/backchannel-logout", Uuid::new_v4()),
            &[],
            Some((
                "application/x-www-form-urlencoded",
                b"logout_token=x".to_vec(),
            )),
        )
        .await;
    assert_eq!(p.status, 404);
    assert!(signed_in(&mut web).await, "forged tokens ended nothing");

    // Anna signs out at the provider: it posts its logout token here.
    let out = op.sign_out(&s.op.issuer, "handover").await;
    assert!(
        out.status.is_success() || out.status.is_redirection(),
        "{}",
        out.text
    );
    let mut ended = false;
    for _ in 0..50 {
        if app.audit_count("auth.provider_logout", "success").await == 1 {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ended, "no back-channel logout arrived");
    assert!(
        !signed_in(&mut web).await,
        "the provider's logout ended the session"
    );
    assert!(
        signed_in(&mut bystander).await,
        "a password session is not the provider's"
    );
}

/// How a test makes the rogue provider's ID token from the valid claims.
type Forge = Box<dyn FnOnce(&mut Value) -> String>;

/// The rogue provider's sign-in: the service is configured for it, a sign-in started, and the
/// token endpoint made to answer what `forge` makes of the valid claims.
async fn rogue_sign_in(
    app: &TestApp,
    rogue: &Rogue,
    forge: impl FnOnce(&mut Value) -> String,
) -> handover_tests::web::Page {
    let mut web = WebSession::new(app);
    let url = web.start_sso(ANNA, "").await;
    let nonce = param(&url, "nonce").unwrap();
    let state = param(&url, "state").unwrap();
    let mut claims = rogue.claims("rogue-client", &nonce, "anna-rogue", ANNA);
    let token = forge(&mut claims);
    rogue.answer(token);
    web.get(&format!(
        "/sign-in/sso/callback?code=c0de&state={}",
        oidc::enc(&state)
    ))
    .await
}

#[tokio::test]
async fn id_tokens_that_fail_a_check_are_refused_and_rotated_keys_are_followed() {
    let (app, _secrets) = app_with_secrets().await;
    let admin = app.token(who::KOMMUNE_KRS_ADMIN).await;
    let org = app.org_of(who::KOMMUNE_KRS_ADMIN).await;
    let r = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({ "email": ANNA, "name": "Anna Berg", "role": "municipality_staff", "organisation_id": org }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let rogue = Rogue::start().await;
    let mut body = settings(&rogue.issuer, true);
    body["client_id"] = json!("rogue-client");
    body["client_secret_file"] = Value::Null;
    let r = put_provider(&app, &admin, org, &body, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let k0 = oidc::kid(0);
    let k1 = oidc::kid(1);

    let cases: Vec<(&str, Forge)> = vec![
        (
            "wrong_issuer",
            Box::new(|c: &mut Value| {
                c["iss"] = json!("https://evil.example");
                Rogue::sign(0, &oidc::kid(0), c)
            }),
        ),
        (
            "wrong_audience",
            Box::new(|c: &mut Value| {
                c["aud"] = json!("another-client");
                Rogue::sign(0, &oidc::kid(0), c)
            }),
        ),
        (
            "id_token_expired",
            Box::new(|c: &mut Value| {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                c["iat"] = json!(now - 7200);
                c["exp"] = json!(now - 3600);
                Rogue::sign(0, &oidc::kid(0), c)
            }),
        ),
        (
            "wrong_nonce",
            Box::new(|c: &mut Value| {
                c["nonce"] = json!("another-sign-ins-nonce");
                Rogue::sign(0, &oidc::kid(0), c)
            }),
        ),
        (
            "unknown_key",
            Box::new(|c: &mut Value| Rogue::sign(1, &oidc::kid(1), c)),
        ),
        (
            "bad_signature",
            Box::new(|c: &mut Value| Rogue::sign(1, &oidc::kid(0), c)),
        ),
    ];
    for (outcome, forge) in cases {
        let p = rogue_sign_in(&app, &rogue, forge).await;
        assert_eq!(p.status, 400, "{outcome}: {}", p.text);
        assert!(p.set_cookie(SESSION).is_none(), "{outcome}");
        assert_eq!(
            app.audit_count("auth.sso_login", outcome).await,
            1,
            "{outcome}"
        );
    }
    // An unsigned token (alg none) is no token.
    let p = rogue_sign_in(&app, &rogue, |c| {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            e.encode(br#"{"alg":"none"}"#),
            e.encode(c.to_string())
        )
    })
    .await;
    assert_eq!(p.status, 400, "alg none: {}", p.text);

    // The valid token signs in; then the provider rotates to its second key and still does.
    let p = rogue_sign_in(&app, &rogue, |c| Rogue::sign(0, &k0, c)).await;
    p.assert_redirect("/", "a valid token");
    rogue.publish(&[1]);
    let p = rogue_sign_in(&app, &rogue, |c| Rogue::sign(1, &k1, c)).await;
    p.assert_redirect("/", "a token signed with the rotated-in key");
    // The retired key no longer signs anyone in.
    let p = rogue_sign_in(&app, &rogue, |c| Rogue::sign(0, &k0, c)).await;
    assert_eq!(p.status, 400, "{}", p.text);
    assert_eq!(app.audit_count("auth.sso_login", "success").await, 2);
}

#[tokio::test]
async fn in_the_browser_staff_sign_in_through_the_provider_and_the_admin_sees_the_settings() {
    use handover_tests::browser::{Browser, Js};
    let s = setup(true).await;
    let app = &s.app;
    let Some(b) = Browser::start(app, Js::On).await else {
        return;
    };
    b.goto("/sign-in").await;
    b.assert_accessible().await;
    b.screenshot("sign-in-nb").await;
    b.fill("email", ANNA).await;
    b.submit("email").await;
    // The page goes on to the provider by itself; its login page, then back here.
    b.wait_for(
        || async { b.has("#login").await },
        "the provider's login page",
    )
    .await;
    b.fill("login", "anna").await;
    b.click_css("#sign-in").await;
    b.wait_for(
        || async { b.path().await == "/" },
        "the start page after the provider",
    )
    .await;
    assert!(b.body().await.contains("Anna Berg"));
    assert_eq!(app.audit_count("auth.sso_login", "success").await, 1);
    b.sign_out().await;

    // The organisation's administrator (a password and a second factor) sees the settings.
    b.sign_in(who::KOMMUNE_KRS_ADMIN).await;
    b.goto("/admin/organisation").await;
    b.click_css("#sign-in-settings").await;
    b.wait_for(
        || async { b.has("#sso-redirect-uri").await },
        "the sign-in settings",
    )
    .await;
    assert_eq!(
        b.text("#sso-redirect-uri").await,
        format!("{}/sign-in/sso/callback", app.base)
    );
    b.assert_accessible().await;
    b.screenshot("sign-in-settings-nb").await;
    b.use_lang("en").await;
    assert!(b.has("#sso-redirect-uri").await);
    b.assert_accessible().await;
    b.use_lang("nb").await;
    // A bad issuer: the message beside the field.
    b.fill("issuer", "ftp://idp.example").await;
    b.submit("issuer").await;
    b.wait_for(
        || async { b.has("#issuer-error").await },
        "the issuer's message",
    )
    .await;
    b.assert_accessible().await;
    b.close().await;
}

#[tokio::test]
async fn the_sign_in_settings_page_is_for_the_organisations_administrators_and_the_operator() {
    let s = setup(true).await;
    let app = &s.app;
    let page = format!("/admin/organisations/{}/sign-in", s.org);
    for (email, status) in [
        (who::KOMMUNE_KRS_ADMIN, 200),
        (who::OPERATOR_ADMIN, 200),
        (who::KOMMUNE_TRD_ADMIN, 404),
        (who::KOMMUNE_KRS_STAFF, 403),
        (who::KRS_ADMIN, 404),
    ] {
        let mut web = handover_tests::web::signed_in(app, email).await;
        let p = web.get(&page).await;
        assert_eq!(p.status, status, "{email}: {}", p.text);
        if status == 200 {
            assert!(
                p.text.contains(&s.op.issuer) && !p.text.contains(SECRET),
                "{email}"
            );
        }
        if status != 200 {
            // A caller who may not see the page may not change it either; what happens to a valid
            // save by an allowed caller is tested below and in the API tests.
            let saved = web
                .post_form(
                    &page,
                    &[
                        ("action", "save"),
                        ("version", "1"),
                        ("issuer", "https://x.example"),
                        ("client_id", "x"),
                    ],
                )
                .await;
            assert_eq!(saved.status, status, "{email}: {}", saved.text);
        }
    }
    // Bad input: a message beside each field, nothing stored.
    let mut web = handover_tests::web::signed_in(app, who::KOMMUNE_KRS_ADMIN).await;
    let before: (String,) =
        sqlx::query_as("SELECT issuer FROM identity_providers WHERE org_id = $1")
            .bind(s.org)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let v: i32 = sqlx::query_scalar("SELECT version FROM identity_providers WHERE org_id = $1")
        .bind(s.org)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let p = web
        .post_form(
            &page,
            &[
                ("action", "save"),
                ("version", &v.to_string()),
                ("issuer", "not a url"),
                ("client_id", ""),
                ("client_secret_file", "../x"),
                ("email_domains", "bad_domain"),
            ],
        )
        .await;
    p.assert_invalid(
        &["issuer", "client_id", "client_secret_file", "email_domains"],
        "bad settings",
    );
    let after: (String,) =
        sqlx::query_as("SELECT issuer FROM identity_providers WHERE org_id = $1")
            .bind(s.org)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(before, after);
    // A stale version is said as such; removal with the right one works.
    let p = web
        .post_form(&page, &[("action", "delete"), ("version", "999")])
        .await;
    assert_eq!(p.status, 422, "{}", p.text);
    let p = web
        .post_form(&page, &[("action", "delete"), ("version", &v.to_string())])
        .await;
    p.assert_redirect(&format!("{page}?done=deleted"), "removal");
    assert_eq!(
        app.audit_count("identity_provider.delete", "success").await,
        1
    );
    // Now the address goes to the password.
    let p = WebSession::new(app)
        .post_anon("/sign-in", &[("email", ANNA)])
        .await;
    assert!(p.text.contains("id=\"password\""), "{}", p.text);
    let p = web.post_form(&page, &[("action", "nonsense")]).await;
    assert_eq!(p.status, 400);
}
