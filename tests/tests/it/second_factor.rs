//! The second factor (issue 19): setting up an authenticator over the API, the login's second
//! step, codes that work once (a TOTP code never twice inside its window, a recovery code
//! once), the challenge's limits, throttling, removal, and bad input. The codes are computed
//! here with `totp-rs` from the `otpauth://` URI the service handed out, at the service's own
//! clock (moved forward instead of sleeping).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{DEMO_PASSWORD, Res, TestApp, spawn_app, who};
use reqwest::StatusCode;
use serde_json::json;
use totp_rs::TOTP;

/// The code the authenticator shows at the service's current time.
fn code_now(app: &TestApp, t: &TOTP) -> String {
    t.generate(u64::try_from(app.clock.now().unix_timestamp()).unwrap())
}

/// Sets up an authenticator for `email` over the API; its TOTP and the recovery codes.
async fn enrol(app: &TestApp, email: &str) -> (TOTP, Vec<String>) {
    let token = app.token(email).await;
    let r = app
        .post(
            "/api/v1/me/second-factor/totp",
            Some(&token),
            &json!({ "current_password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let t = TOTP::from_url(r.body["otpauth_uri"].as_str().unwrap()).unwrap();
    assert_eq!(t.get_secret_base32(), r.body["secret"].as_str().unwrap());
    let r = app
        .post(
            "/api/v1/me/second-factor/totp/confirm",
            Some(&token),
            &json!({ "code": code_now(app, &t) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let codes: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (t, codes)
}

/// The challenge token of a password login that needs a second step.
async fn challenge(app: &TestApp, email: &str) -> String {
    let r = app.try_login(email, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["second_factor_required"], true);
    assert!(r.body.get("access_token").is_none(), "{}", r.text);
    r.body["challenge_token"].as_str().unwrap().to_owned()
}

async fn second_step(app: &TestApp, challenge: &str, code: &str) -> Res {
    app.post(
        "/api/v1/auth/login/second-factor",
        None,
        &json!({ "challenge_token": challenge, "code": code }),
    )
    .await
}

/// The next 30-second step, so that the authenticator shows a code not used yet.
fn next_step(app: &TestApp) {
    app.clock.advance(time::Duration::seconds(30));
}

#[tokio::test]
async fn an_authenticator_is_set_up_with_the_password_and_a_code_then_asked_at_every_login() {
    let app = spawn_app().await;
    let email = who::KRS_STAFF;
    let token = app.token(email).await;
    let other_session = app.token(email).await;

    let r = app.get("/api/v1/me/second-factor", &token).await;
    assert_eq!(
        r.body,
        json!({ "totp": false, "recovery_codes_left": 0, "required": false })
    );

    // The password is needed to start, and a wrong one is a field error.
    let r = app
        .post(
            "/api/v1/me/second-factor/totp",
            Some(&token),
            &json!({ "current_password": "not my password" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.invalid_fields(), vec!["current_password"]);

    // Confirming before starting is a conflict.
    let r = app
        .post(
            "/api/v1/me/second-factor/totp/confirm",
            Some(&token),
            &json!({ "code": "123456" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let r = app
        .post(
            "/api/v1/me/second-factor/totp",
            Some(&token),
            &json!({ "current_password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let uri = r.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains("issuer="), "{uri}");
    let t = TOTP::from_url(uri).unwrap();
    // The defaults every authenticator app assumes (so the URI may leave them out).
    assert_eq!(
        (t.digits, t.step, t.algorithm),
        (6, 30, totp_rs::Algorithm::SHA1)
    );
    assert_eq!(t.secret.len(), 20, "160-bit secret");

    // Not counted until confirmed: the login is still one step.
    let r = app.try_login(email, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A wrong code and a code of another key do not confirm it.
    let r = app
        .post(
            "/api/v1/me/second-factor/totp/confirm",
            Some(&token),
            &json!({ "code": "000000" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.invalid_fields(), vec!["code"]);

    let r = app
        .post(
            "/api/v1/me/second-factor/totp/confirm",
            Some(&token),
            &json!({ "code": code_now(&app, &t) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let codes = r.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.audit_count("user.second_factor_enabled", "success")
            .await,
        1
    );

    // The session that set it up goes on; the others, started without it, are over.
    let r = app.get("/api/v1/me/second-factor", &token).await;
    assert_eq!(
        r.body,
        json!({ "totp": true, "recovery_codes_left": 10, "required": false })
    );
    let r = app.get("/api/v1/me", &other_session).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // A second setup needs the first removed.
    let r = app
        .post(
            "/api/v1/me/second-factor/totp",
            Some(&token),
            &json!({ "current_password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Now the password alone gives a challenge, not tokens.
    let c = challenge(&app, email).await;
    // The code that confirmed the setup is of a step already used: refused (RFC 6238 5.2).
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
    assert_eq!(
        app.audit_count("auth.second_factor", "reused_code").await,
        1
    );

    next_step(&app);
    let code = code_now(&app, &t);
    let r = second_step(&app, &c, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let access = r.body["access_token"].as_str().unwrap().to_owned();
    let r = app.get("/api/v1/me", &access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The challenge worked once, and the same code does not work for a new challenge.
    let r = second_step(&app, &c, &code).await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );
    let c2 = challenge(&app, email).await;
    let r = second_step(&app, &c2, &code).await;
    assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
    // The code of the step after (a phone clock a little ahead) is accepted.
    let ahead = t.generate(u64::try_from(app.clock.now().unix_timestamp()).unwrap() + 30);
    let r = second_step(&app, &c2, &ahead).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Two codes further is outside the window.
    let c3 = challenge(&app, email).await;
    let far = t.generate(u64::try_from(app.clock.now().unix_timestamp()).unwrap() + 90);
    let r = second_step(&app, &c3, &far).await;
    assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
}

#[tokio::test]
async fn recovery_codes_work_once_and_new_ones_replace_the_old() {
    let app = spawn_app().await;
    let email = who::KOMMUNE_KRS_STAFF;
    let (t, codes) = enrol(&app, email).await;

    // Typed in upper case with spaces, as read off paper.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let c = challenge(&app, email).await;
    let r = second_step(&app, &c, &typed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap().to_owned();

    let c = challenge(&app, email).await;
    let r = second_step(&app, &c, &codes[0]).await;
    assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");

    let r = app.get("/api/v1/me/second-factor", &token).await;
    assert_eq!(r.body["recovery_codes_left"], 9);

    // New codes need a code; the old ones stop working.
    let r = app
        .post(
            "/api/v1/me/second-factor/recovery-codes",
            Some(&token),
            &json!({ "code": "999999" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    next_step(&app);
    let r = app
        .post(
            "/api/v1/me/second-factor/recovery-codes",
            Some(&token),
            &json!({ "code": code_now(&app, &t) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|f| !codes.contains(f)));
    let c = challenge(&app, email).await;
    let r = second_step(&app, &c, &codes[1]).await;
    assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
    let r = second_step(&app, &c, &fresh[1]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Only hashes are stored.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    for s in &stored {
        assert!(
            fresh
                .iter()
                .all(|f| !String::from_utf8_lossy(s).contains(f.as_str()))
        );
    }
}

#[tokio::test]
async fn a_challenge_takes_five_wrong_codes_and_wrong_codes_lock_the_account_like_passwords() {
    let app = spawn_app().await;
    let email = who::AGDER_COUNSELLOR;
    let (t, _) = enrol(&app, email).await;
    next_step(&app);

    let c = challenge(&app, email).await;
    for _ in 0..5 {
        let r = second_step(&app, &c, "111111").await;
        assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
    }
    // The challenge is gone: even the right code needs the password again.
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );
    // Five wrong codes also locked the account's second step for a while (429, Retry-After),
    // whatever challenge the next try comes with.
    let c = challenge(&app, email).await;
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    assert_eq!(
        r.assert_problem(429),
        "urn:handover:problem:too-many-requests"
    );
    assert!(r.header("retry-after").is_some());
    assert!(app.audit_count("auth.second_factor", "bad_code").await >= 5);
    assert!(app.audit_count("auth.second_factor", "throttled").await >= 1);

    // Another user is not affected.
    let (t2, _) = enrol(&app, who::TRD_COUNSELLOR).await;
    next_step(&app);
    let c = challenge(&app, who::TRD_COUNSELLOR).await;
    let r = second_step(&app, &c, &code_now(&app, &t2)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn forged_expired_and_foreign_challenges_are_refused() {
    let app = spawn_app().await;
    let (t, _) = enrol(&app, who::STJ_STAFF).await;
    next_step(&app);

    for forged in [
        "",
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &"a".repeat(129),
    ] {
        let r = second_step(&app, forged, &code_now(&app, &t)).await;
        assert_eq!(
            r.assert_problem(401),
            "urn:handover:problem:invalid-credentials",
            "{forged}"
        );
    }

    // Expired.
    let c = challenge(&app, who::STJ_STAFF).await;
    sqlx::query("UPDATE login_challenges SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );

    // Another user's code does not answer this user's challenge.
    let (t_other, _) = enrol(&app, who::KRS_STAFF).await;
    next_step(&app);
    let c = challenge(&app, who::STJ_STAFF).await;
    let r = second_step(&app, &c, &code_now(&app, &t_other)).await;
    // (One in a million, the two keys show the same code at this step.)
    if code_now(&app, &t_other) != code_now(&app, &t) {
        assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
    }

    // Deactivated between the two steps.
    let c = challenge(&app, who::STJ_STAFF).await;
    sqlx::query("UPDATE users SET active = false WHERE email = $1")
        .bind(who::STJ_STAFF)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );
}

#[tokio::test]
async fn bad_input_to_the_second_step_and_the_setup_gets_a_clear_4xx() {
    let app = spawn_app().await;
    let token = app.token(who::KOMMUNE_TRD_STAFF).await;
    let cases = [
        ("/api/v1/auth/login/second-factor", json!({})),
        (
            "/api/v1/auth/login/second-factor",
            json!({ "challenge_token": "x" }),
        ),
        (
            "/api/v1/auth/login/second-factor",
            json!({ "challenge_token": "x", "code": "1", "extra": 1 }),
        ),
        (
            "/api/v1/auth/login/second-factor",
            json!({ "challenge_token": 5, "code": "123456" }),
        ),
        ("/api/v1/me/second-factor/totp", json!({})),
        (
            "/api/v1/me/second-factor/totp",
            json!({ "current_password": null }),
        ),
        (
            "/api/v1/me/second-factor/totp/confirm",
            json!({ "code": 123456 }),
        ),
        ("/api/v1/me/second-factor/remove", json!([])),
    ];
    for (path, body) in cases {
        let r = app.post(path, Some(&token), &body).await;
        assert!(
            r.status.is_client_error(),
            "{path} {body}: {} {}",
            r.status,
            r.text
        );
        r.assert_problem(r.status.as_u16());
    }
    // A very long or odd code is just wrong, never a 500.
    let (_, _) = enrol(&app, who::KOMMUNE_KRS_STAFF).await;
    let c = challenge(&app, who::KOMMUNE_KRS_STAFF).await;
    for code in [
        "9".repeat(10_000),
        "١٢٣٤٥٦".into(),
        "12345\u{0}".into(),
        " ".into(),
    ] {
        let r = second_step(&app, &c, &code).await;
        assert!(r.status.is_client_error(), "{}", r.text);
    }
    // Without a token the account's own second-factor calls are 401.
    let r = app
        .post(
            "/api/v1/me/second-factor/totp",
            None,
            &json!({ "current_password": "x" }),
        )
        .await;
    assert_eq!(
        r.assert_problem(401),
        "urn:handover:problem:unauthenticated"
    );
}

#[tokio::test]
async fn removing_needs_a_code_and_the_login_is_one_step_again() {
    let app = spawn_app().await;
    let email = who::TRD_COUNSELLOR;
    let (t, codes) = enrol(&app, email).await;
    next_step(&app);
    let c = challenge(&app, email).await;
    let r = second_step(&app, &c, &code_now(&app, &t)).await;
    let token = r.body["access_token"].as_str().unwrap().to_owned();

    let r = app
        .post(
            "/api/v1/me/second-factor/remove",
            Some(&token),
            &json!({ "code": "000000" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // A recovery code removes it too (the phone is lost).
    let r = app
        .post(
            "/api/v1/me/second-factor/remove",
            Some(&token),
            &json!({ "code": codes[3] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.audit_count("user.second_factor_removed", "success")
            .await,
        1
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recovery_codes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = app.try_login(email, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            "/api/v1/me/second-factor/remove",
            Some(&token),
            &json!({ "code": codes[4] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
}

#[tokio::test]
async fn administrators_set_up_a_second_factor_at_their_first_login_and_cannot_remove_it() {
    let app = spawn_app().await;
    // Administrators of two organisations of the same kind, and the operator's.
    for email in [who::KRS_ADMIN, who::STJ_ADMIN, who::OPERATOR_ADMIN] {
        let r = app.try_login(email, DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert!(r.body.get("access_token").is_none());
        assert_eq!(r.body["methods"], json!(["totp"]));
        let uri = r.body["totp_setup"]["otpauth_uri"].as_str().unwrap();
        let t = TOTP::from_url(uri).unwrap();
        let c = r.body["challenge_token"].as_str().unwrap().to_owned();

        // Logging in again before confirming hands out a new key; the old one is void.
        let r2 = app.try_login(email, DEMO_PASSWORD).await;
        assert_eq!(r2.status, StatusCode::ACCEPTED, "{}", r2.text);
        let t2 = TOTP::from_url(r2.body["totp_setup"]["otpauth_uri"].as_str().unwrap()).unwrap();
        assert_ne!(t.secret, t2.secret);
        let r = second_step(&app, &c, &code_now(&app, &t)).await;
        if code_now(&app, &t) != code_now(&app, &t2) {
            assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");
        }
        // No recovery code exists yet to stand in for the app.
        let c2 = r2.body["challenge_token"].as_str().unwrap().to_owned();
        let r = second_step(&app, &c2, "abcde-fghjk").await;
        assert_eq!(r.assert_problem(401), "urn:handover:problem:invalid-code");

        let r = second_step(&app, &c2, &code_now(&app, &t2)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["recovery_codes"].as_array().unwrap().len(), 10);
        let token = r.body["access_token"].as_str().unwrap().to_owned();

        let r = app.get("/api/v1/me/second-factor", &token).await;
        assert_eq!(
            r.body,
            json!({ "totp": true, "recovery_codes_left": 10, "required": true })
        );
        next_step(&app);
        let r = app
            .post(
                "/api/v1/me/second-factor/remove",
                Some(&token),
                &json!({ "code": code_now(&app, &t2) }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        // From now on the login asks for a code, never for a new setup.
        let r = app.try_login(email, DEMO_PASSWORD).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        assert!(r.body.get("totp_setup").is_none(), "{}", r.text);
    }
    assert_eq!(
        app.audit_count("auth.login", "second_factor_setup_required")
            .await,
        6
    );
    // Staff are not made to have one.
    let r = app.try_login(who::KRS_STAFF, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn an_administrator_resets_a_lost_second_factor_of_their_own_organisation_only() {
    let app = spawn_app().await;
    let staff = who::KRS_STAFF;
    let (_, _) = enrol(&app, staff).await;
    let staff_id = app.user_id(staff).await;
    let path = format!("/api/v1/users/{staff_id}/second-factor/reset");
    let staff_token = {
        next_step(&app);
        app.token(staff).await
    };

    // Another centre's administrator: as if the user did not exist. Staff: not their role.
    let stj = app.token(who::STJ_ADMIN).await;
    let r = app.post(&path, Some(&stj), &json!({})).await;
    assert_eq!(r.assert_problem(404), "urn:handover:problem:not-found");
    let other_staff = app.token(who::STJ_STAFF).await;
    let r = app.post(&path, Some(&other_staff), &json!({})).await;
    assert_eq!(r.assert_problem(403), "urn:handover:problem:forbidden");

    let krs = app.token(who::KRS_ADMIN).await;
    // Not one's own (that is the account page), and not for a user without one.
    let own = format!(
        "/api/v1/users/{}/second-factor/reset",
        app.user_id(who::KRS_ADMIN).await
    );
    let r = app.post(&own, Some(&krs), &json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let r = app.post(&path, Some(&krs), &json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.post(&path, Some(&krs), &json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "no second factor now: {}",
        r.text
    );
    assert_eq!(
        app.audit_count("user.second_factor_reset", "success").await,
        1
    );
    // Signed out everywhere, one step again, and told by e-mail who did it.
    let r = app.get("/api/v1/me", &staff_token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.try_login(staff, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let told = app
        .wait_mail_containing(staff, "Totrinnsinnlogging er endret")
        .await;
    let (_, body) = told
        .iter()
        .find(|(s, _)| s.contains("Totrinnsinnlogging er endret"))
        .unwrap_or_else(|| panic!("no notice: {told:?}"));
    assert!(
        body.contains("Integreringsmottaket i Kristiansand"),
        "{body}"
    );

    // The operator resets another organisation's administrator, who sets one up again.
    let op = app.token(who::OPERATOR_ADMIN).await;
    let admin_path = format!(
        "/api/v1/users/{}/second-factor/reset",
        app.user_id(who::KRS_ADMIN).await
    );
    let r = app.post(&admin_path, Some(&op), &json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.try_login(who::KRS_ADMIN, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert!(r.body["totp_setup"]["secret"].is_string(), "{}", r.text);
}

#[tokio::test]
async fn an_organisation_that_requires_a_second_factor_makes_its_staff_set_one_up() {
    let app = spawn_app().await;
    let stj_staff_session = app.token(who::STJ_STAFF).await;
    let org = app.org_of(who::STJ_STAFF).await;
    let path = format!("/api/v1/organisations/{org}");
    let tag = |r: &Res| r.header("etag").unwrap().to_owned();

    // Only the operator sets it (the centre's own administrator may not).
    let stj_admin = app.token(who::STJ_ADMIN).await;
    let r = app.get(&path, &stj_admin).await;
    assert_eq!(r.body["require_second_factor"], false);
    let etag = tag(&r);
    let r = app
        .patch(
            &path,
            &stj_admin,
            &json!({ "require_second_factor": true }),
            Some(&etag),
        )
        .await;
    assert_eq!(r.assert_problem(403), "urn:handover:problem:forbidden");
    let op = app.token(who::OPERATOR_ADMIN).await;
    let r = app
        .patch(
            &path,
            &op,
            &json!({ "require_second_factor": "yes" }),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .patch(
            &path,
            &op,
            &json!({ "require_second_factor": true }),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["require_second_factor"], true);

    // Staff who signed in without one are signed out, and set one up at the next login.
    let r = app.get("/api/v1/me", &stj_staff_session).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.try_login(who::STJ_STAFF, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert!(r.body["totp_setup"]["secret"].is_string(), "{}", r.text);
    // The other centre is not affected.
    let r = app.try_login(who::KRS_STAFF, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let token = app.token(who::STJ_STAFF).await;
    let r = app.get("/api/v1/me/second-factor", &token).await;
    assert_eq!(r.body["required"], true, "{}", r.text);
    next_step(&app);
    let (t, _) = {
        let row: Vec<u8> = sqlx::query_scalar(
            "SELECT t.secret FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
        )
        .bind(who::STJ_STAFF)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        (
            TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, row, None, "x".into()).unwrap(),
            (),
        )
    };
    let r = app
        .post(
            "/api/v1/me/second-factor/remove",
            Some(&token),
            &json!({ "code": code_now(&app, &t) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Turned off again: those who have one keep it; it may be removed again.
    let r = app.get(&path, &op).await;
    let r = app
        .patch(
            &path,
            &op,
            &json!({ "require_second_factor": false }),
            Some(&tag(&r)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get("/api/v1/me/second-factor", &token).await;
    assert_eq!(
        (r.body["totp"].clone(), r.body["required"].clone()),
        (json!(true), json!(false))
    );
}
