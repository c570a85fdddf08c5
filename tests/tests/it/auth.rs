#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use handover_tests::{DEMO_PASSWORD, TestApp, spawn_app, spawn_app_with, who};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key_parts(app: &TestApp) -> (String, Vec<u8>) {
    let spec = app.settings.jwt_key.clone().unwrap();
    let (kid, secret) = spec.split_once(':').unwrap();
    (kid.to_owned(), STANDARD.decode(secret).unwrap())
}

/// Claims of a real token of `email`, decoded without verification.
async fn real_claims(app: &TestApp, email: &str) -> Value {
    let t = app.token(email).await;
    let payload = t.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(
    alg: Algorithm,
    kid: Option<&str>,
    typ: Option<&str>,
    claims: &Value,
    secret: &[u8],
) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    h.typ = typ.map(str::to_owned);
    encode(&h, claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn every_role_can_log_in_and_read_me() {
    let app = spawn_app().await;
    for email in who::ALL {
        let t = app.token(email).await;
        let r = app.get("/api/v1/me", &t).await;
        assert_eq!(r.status, 200, "{email}: {}", r.text);
        assert_eq!(r.body["user"]["email"], email);
        assert!(r.body["user"]["role"].is_string());
        assert!(r.body["organisation"]["kind"].is_string());
        assert!(!r.text.contains("password_hash") && !r.text.contains("argon2"));
    }
    assert_eq!(
        app.audit_count("auth.login", "success").await,
        who::ALL.len() as i64
    );
}

#[tokio::test]
async fn login_answers_the_same_for_unknown_user_and_wrong_password() {
    let app = spawn_app().await;
    let wrong = app.try_login(who::KRS_STAFF, "wrong password 123").await;
    let unknown = app.try_login("nobody@demo.no", "wrong password 123").await;
    assert_eq!(
        wrong.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );
    assert_eq!(
        unknown.assert_problem(401),
        "urn:handover:problem:invalid-credentials"
    );
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.body["title"], unknown.body["title"]);
    // Case and whitespace in the e-mail do not matter.
    let r = app
        .try_login("  Ansatt.Mottak-Kristiansand@DEMO.no ", DEMO_PASSWORD)
        .await;
    assert_eq!(r.status, 200);
    // Failures are audited without the password or e-mail text.
    assert_eq!(app.audit_count("auth.login", "bad_credentials").await, 2);
    let leaked: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE audit_log::text LIKE '%wrong password%' OR audit_log::text LIKE '%nobody@%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn unknown_user_costs_as_much_time_as_a_wrong_password() {
    let app = spawn_app().await;
    async fn median(app: &TestApp, email: &str) -> Duration {
        let mut v = Vec::new();
        for i in 0..5 {
            let t = Instant::now();
            app.try_login(email, &format!("not the password {i}")).await;
            v.push(t.elapsed());
        }
        v.sort();
        v[2]
    }
    // Different accounts, so the account throttle (5 failures) is not reached.
    let wrong = median(&app, who::STJ_STAFF).await;
    let unknown = median(&app, "nobody-at-all@demo.no").await;
    // Without the dummy hash an unknown user answers in ~1 ms against ~20+ ms.
    assert!(
        unknown * 3 >= wrong,
        "unknown {unknown:?} vs wrong password {wrong:?}"
    );
}

#[tokio::test]
async fn inactive_account_cannot_log_in() {
    let app = spawn_app().await;
    sqlx::query("UPDATE users SET active = false WHERE email = $1")
        .bind(who::KRS_STAFF)
        .execute(&app.pool)
        .await
        .unwrap();
    app.try_login(who::KRS_STAFF, DEMO_PASSWORD)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.try_login(who::KRS_STAFF, "definitely wrong")
            .await
            .assert_problem(401);
    }
    // Locked: even the right password is refused until the lock ends.
    let r = app.try_login(who::KRS_STAFF, DEMO_PASSWORD).await;
    assert_eq!(
        r.assert_problem(429),
        "urn:handover:problem:too-many-requests"
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    // Other accounts are unaffected.
    assert_eq!(
        app.try_login(who::STJ_STAFF, DEMO_PASSWORD).await.status,
        200
    );
    // The lock ends on its own (here: moved into the past), and the account works again.
    sqlx::query("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.try_login(who::KRS_STAFF, DEMO_PASSWORD).await.status,
        200
    );
    assert!(app.audit_count("auth.login", "throttled").await >= 1);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address_even_with_forged_forwarded_for() {
    let app = spawn_app_with(|s| s.login_max_failures_per_address = 6).await;
    for i in 0..6 {
        // A different account each time, and a rotating X-Forwarded-For that must be ignored.
        let xff = format!("203.0.113.{i}");
        let r = app
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(
                    &json!({"email": format!("user{i}@demo.no"), "password": "wrong wrong wrong"}),
                ),
                &[("x-forwarded-for", &xff)],
            )
            .await;
        r.assert_problem(401);
    }
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": who::KRS_STAFF, "password": DEMO_PASSWORD})),
            &[("x-forwarded-for", "198.51.100.1")],
        )
        .await;
    r.assert_problem(429);
}

#[tokio::test]
async fn forwarded_for_is_believed_from_a_trusted_proxy() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = "127.0.0.1".into();
        s.login_max_failures_per_address = 3;
    })
    .await;
    for i in 0..3 {
        let r = app
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"email": format!("u{i}@demo.no"), "password": "wrong wrong wrong"})),
                &[("x-forwarded-for", "203.0.113.5")],
            )
            .await;
        r.assert_problem(401);
    }
    // The same client is now locked...
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": who::KRS_STAFF, "password": DEMO_PASSWORD})),
            &[("x-forwarded-for", "203.0.113.5")],
        )
        .await;
    r.assert_problem(429);
    // ...while another client behind the same proxy is not.
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": who::KRS_STAFF, "password": DEMO_PASSWORD})),
            &[("x-forwarded-for", "203.0.113.6")],
        )
        .await;
    assert_eq!(r.status, 200);
    let addr: Option<String> = sqlx::query_scalar(
        "SELECT client_addr FROM audit_log WHERE action = 'auth.login' AND outcome = 'success'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(addr.as_deref(), Some("203.0.113.6"));
}

#[tokio::test]
async fn forged_and_misused_tokens_are_refused() {
    let app = spawn_app().await;
    let (kid, secret) = key_parts(&app);
    let claims = real_claims(&app, who::KRS_STAFF).await;
    let good = sign(
        Algorithm::HS256,
        Some(&kid),
        Some("at+jwt"),
        &claims,
        &secret,
    );
    assert_eq!(
        app.get("/api/v1/me", &good).await.status,
        200,
        "control: a correctly signed token works"
    );

    let mut variants: Vec<(&str, String)> = Vec::new();
    // alg none: header and payload, no signature.
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    variants.push(("alg none", format!("{none_header}.{payload}.")));
    variants.push((
        "wrong key",
        sign(
            Algorithm::HS256,
            Some(&kid),
            Some("at+jwt"),
            &claims,
            &[9u8; 32],
        ),
    ));
    variants.push((
        "HS512 with the right key",
        sign(
            Algorithm::HS512,
            Some(&kid),
            Some("at+jwt"),
            &claims,
            &secret,
        ),
    ));
    variants.push((
        "unknown kid",
        sign(
            Algorithm::HS256,
            Some("other"),
            Some("at+jwt"),
            &claims,
            &secret,
        ),
    ));
    variants.push((
        "no kid",
        sign(Algorithm::HS256, None, Some("at+jwt"), &claims, &secret),
    ));
    variants.push((
        "typ JWT",
        sign(Algorithm::HS256, Some(&kid), Some("JWT"), &claims, &secret),
    ));
    variants.push((
        "no typ",
        sign(Algorithm::HS256, Some(&kid), None, &claims, &secret),
    ));
    let mut c = claims.clone();
    c["aud"] = json!("someone-else");
    variants.push((
        "wrong audience",
        sign(Algorithm::HS256, Some(&kid), Some("at+jwt"), &c, &secret),
    ));
    let mut c = claims.clone();
    c["iss"] = json!("evil");
    variants.push((
        "wrong issuer",
        sign(Algorithm::HS256, Some(&kid), Some("at+jwt"), &c, &secret),
    ));
    let mut c = claims.clone();
    c["exp"] = json!(now() - 120);
    c["iat"] = json!(now() - 1000);
    variants.push((
        "expired",
        sign(Algorithm::HS256, Some(&kid), Some("at+jwt"), &c, &secret),
    ));
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("exp");
    variants.push((
        "no exp",
        sign(Algorithm::HS256, Some(&kid), Some("at+jwt"), &c, &secret),
    ));
    let mut c = claims.clone();
    c["sid"] = json!(Uuid::new_v4());
    variants.push((
        "unknown session",
        sign(Algorithm::HS256, Some(&kid), Some("at+jwt"), &c, &secret),
    ));
    // Payload swapped for another user's, signature kept.
    let mut c = claims.clone();
    c["sub"] = json!(app.user_id(who::OPERATOR_ADMIN).await);
    let parts: Vec<&str> = good.split('.').collect();
    variants.push((
        "tampered payload",
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(c.to_string()),
            parts[2]
        ),
    ));
    // A refresh token is not an access token.
    let s = app.login(who::KRS_STAFF).await;
    variants.push(("refresh token as access token", s.refresh.clone()));
    variants.push(("garbage", "not.a.token".into()));
    variants.push(("empty", String::new()));

    for (name, token) in &variants {
        let r = app
            .request(
                Method::GET,
                "/api/v1/me",
                None,
                None,
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;
        assert_eq!(
            r.assert_problem(401),
            "urn:handover:problem:unauthenticated",
            "{name}"
        );
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{name}");
    }
    // Other schemes and no header.
    let r = app
        .request(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Basic {good}"))],
        )
        .await;
    r.assert_problem(401);
    app.request(Method::GET, "/api/v1/me", None, None, &[])
        .await
        .assert_problem(401);
    println!("forged-token variants refused: {}", variants.len() + 2);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_chain() {
    let app = spawn_app().await;
    let s1 = app.login(who::KOMMUNE_KRS_STAFF).await;
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": s1.refresh}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let access2 = r.body["access_token"].as_str().unwrap().to_owned();
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, s1.refresh);
    assert_eq!(app.get("/api/v1/me", &access2).await.status, 200);

    // The old refresh token again: theft suspected, the whole session dies.
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": s1.refresh}),
        )
        .await;
    r.assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh2}),
    )
    .await
    .assert_problem(401);
    app.get("/api/v1/me", &access2).await.assert_problem(401);
    app.get("/api/v1/me", &s1.access).await.assert_problem(401);
    assert_eq!(app.audit_count("auth.refresh", "reuse_detected").await, 1);

    // A separate login is unaffected.
    let s3 = app.login(who::KOMMUNE_KRS_STAFF).await;
    assert_eq!(app.get("/api/v1/me", &s3.access).await.status, 200);
    // Nonsense refresh tokens.
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": "nope"}),
    )
    .await
    .assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": "x".repeat(5000)}),
    )
    .await
    .assert_problem(401);
    // Refresh tokens are stored hashed only.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'")
        .bind(&s3.refresh)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_yield_one_winner() {
    let app = spawn_app().await;
    let s = app.login(who::STJ_STAFF).await;
    let body = json!({"refresh_token": s.refresh});
    let (a, b) = tokio::join!(
        app.post("/api/v1/auth/refresh", None, &body),
        app.post("/api/v1/auth/refresh", None, &body)
    );
    let ok = [a.status.as_u16(), b.status.as_u16()]
        .iter()
        .filter(|s| **s == 200)
        .count();
    assert!(ok <= 1, "both refreshes succeeded");
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    let s = app.login(who::STJ_STAFF).await;
    sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": s.refresh}),
    )
    .await
    .assert_problem(401);
}

#[tokio::test]
async fn logout_revokes_access_and_refresh() {
    let app = spawn_app().await;
    let s = app.login(who::AGDER_COUNSELLOR).await;
    let other = app.login(who::AGDER_COUNSELLOR).await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&s.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/api/v1/me", &s.access).await.assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": s.refresh}),
    )
    .await
    .assert_problem(401);
    // Only that session ends.
    assert_eq!(app.get("/api/v1/me", &other.access).await.status, 200);
    app.request(Method::POST, "/api/v1/auth/logout", None, None, &[])
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn changing_own_password() {
    let app = spawn_app().await;
    let s = app.login(who::TRD_COUNSELLOR).await;
    let other = app.login(who::TRD_COUNSELLOR).await;
    let path = "/api/v1/me/password";
    let r = app.post(path, Some(&s.access), &json!({"current_password": "wrong wrong wrong", "new_password": "en lang og god setning"})).await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["current_password"]);
    let r = app
        .post(
            path,
            Some(&s.access),
            &json!({"current_password": DEMO_PASSWORD, "new_password": "short"}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["new_password"]);
    let r = app
        .post(
            path,
            Some(&s.access),
            &json!({"current_password": DEMO_PASSWORD, "new_password": "passwordpassword"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["code"], "common_password");
    let r = app
        .post(
            path,
            Some(&s.access),
            &json!({"current_password": DEMO_PASSWORD, "new_password": "en lang og god setning"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // The current session goes on; other sessions are logged out.
    assert_eq!(app.get("/api/v1/me", &s.access).await.status, 200);
    app.get("/api/v1/me", &other.access)
        .await
        .assert_problem(401);
    app.try_login(who::TRD_COUNSELLOR, DEMO_PASSWORD)
        .await
        .assert_problem(401);
    assert_eq!(
        app.try_login(who::TRD_COUNSELLOR, "en lang og god setning")
            .await
            .status,
        200
    );
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
        .bind(who::TRD_COUNSELLOR)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn access_tokens_are_short_lived_and_carry_no_personal_data() {
    let app = spawn_app().await;
    let r = app.try_login(who::KOMMUNE_TRD_STAFF, DEMO_PASSWORD).await;
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    let t = r.body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "at+jwt");
    assert!(header["kid"].is_string());
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    for k in ["iss", "aud", "sub", "sid", "iat", "exp", "jti"] {
        assert!(claims.get(k).is_some(), "{k}");
    }
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    assert!(!t.contains("demo.no"));
}
