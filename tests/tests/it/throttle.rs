//! Login throttling (docs/security.md, "Login throttling"): rotating `X-Forwarded-For` gains an
//! attacker nothing, and no attacker can keep a user out from the address they usually log in from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{DEMO_PASSWORD, Res, TestApp, spawn_app_with, who};
use reqwest::Method;
use serde_json::json;

async fn login_from(app: &TestApp, email: &str, password: &str, xff: &str) -> Res {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
        &[("x-forwarded-for", xff)],
    )
    .await
}

#[tokio::test]
async fn rotating_forwarded_for_from_an_untrusted_peer_does_not_escape_the_account_limit() {
    let app = spawn_app_with(|s| s.login_max_failures_per_account = 5).await;
    for i in 0..5 {
        login_from(
            &app,
            who::KRS_STAFF,
            "wrong wrong wrong",
            &format!("203.0.113.{i}"),
        )
        .await
        .assert_problem(401);
    }
    // The header is not believed: every attempt came from the same peer, whose pair is locked,
    // whatever the header says now.
    let r = login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, "198.51.100.77").await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
    // Other accounts from the same peer are still fine (the address limit is 30).
    assert_eq!(
        login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, "198.51.100.78")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_distributed_attack_hits_the_account_ceiling_but_cannot_lock_out_a_known_address() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = "127.0.0.1".into();
        s.login_max_failures_per_account = 3;
        s.login_max_failures_per_account_total = 8;
    })
    .await;
    let home = "198.51.100.7";
    // The user logs in from their usual address: it becomes known.
    assert_eq!(
        login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, home)
            .await
            .status,
        200
    );

    // One attacker address: locked after 3 failures; its further attempts are not even
    // counted, so one address cannot push the account to its ceiling.
    for _ in 0..3 {
        login_from(&app, who::KRS_STAFF, "guess guess guess", "203.0.113.1")
            .await
            .assert_problem(401);
    }
    for _ in 0..10 {
        login_from(&app, who::KRS_STAFF, "guess guess guess", "203.0.113.1")
            .await
            .assert_problem(429);
    }
    let account_failures: i32 =
        sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = 'account:' || $1")
            .bind(who::KRS_STAFF)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(account_failures, 3);
    // Even with the right password, that address waits; the user at home does not.
    login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, "203.0.113.1")
        .await
        .assert_problem(429);
    assert_eq!(
        login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, home)
            .await
            .status,
        200
    );

    // Many addresses behind the trusted proxy (a botnet, or one client rotating the header):
    // each address fails once, but together they reach the account-wide ceiling.
    for i in 10..15 {
        login_from(
            &app,
            who::KRS_STAFF,
            "guess guess guess",
            &format!("203.0.113.{i}"),
        )
        .await
        .assert_problem(401);
    }
    // The account is now locked for addresses it never logged in from, even with the right
    // password and a fresh address...
    let r = login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, "203.0.113.200").await;
    assert_eq!(
        r.assert_problem(429),
        "urn:handover:problem:too-many-requests"
    );
    // ...but not for the user at their known address, however long the attack goes on.
    for round in 0..3 {
        for i in 0..3 {
            let _ = login_from(
                &app,
                who::KRS_STAFF,
                "guess guess guess",
                &format!("192.0.2.{}", round * 10 + i),
            )
            .await;
        }
        let r = login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, home).await;
        assert_eq!(r.status, 200, "round {round}: {}", r.text);
    }
    // Wrong passwords from the known address still count against it.
    for _ in 0..3 {
        login_from(&app, who::KRS_STAFF, "guess guess guess", home)
            .await
            .assert_problem(401);
    }
    login_from(&app, who::KRS_STAFF, DEMO_PASSWORD, home)
        .await
        .assert_problem(429);
    assert!(app.audit_count("auth.login", "throttled").await >= 10);
}

#[tokio::test]
async fn locks_end_on_their_own_and_known_addresses_expire() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = "127.0.0.1".into();
        s.login_max_failures_per_account = 2;
        s.login_max_failures_per_account_total = 4;
    })
    .await;
    let home = "198.51.100.9";
    assert_eq!(
        login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, home)
            .await
            .status,
        200
    );
    for i in 0..4 {
        login_from(
            &app,
            who::STJ_STAFF,
            "guess guess guess",
            &format!("203.0.113.{i}"),
        )
        .await
        .assert_problem(401);
    }
    login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, "203.0.113.99")
        .await
        .assert_problem(429);
    // The lock has a fixed length (Retry-After at most the configured 15 minutes).
    let r = login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, "203.0.113.99").await;
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");

    // A known address not used for more than 30 days is no longer known.
    sqlx::query(
        "UPDATE login_throttle SET window_started_at = now() - interval '31 days'
         WHERE key LIKE 'known:%'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, home)
        .await
        .assert_problem(429);
    // Housekeeping forgets it, and keeps the live lock.
    handover_db::throttle::purge(&app.pool).await.unwrap();
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_throttle ORDER BY key")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(keys.iter().all(|k| !k.starts_with("known:")), "{keys:?}");
    assert!(
        keys.contains(&format!("account:{}", who::STJ_STAFF)),
        "{keys:?}"
    );

    // When the lock ends (moved into the past here), everybody gets in again.
    sqlx::query("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        login_from(&app, who::STJ_STAFF, DEMO_PASSWORD, "203.0.113.99")
            .await
            .status,
        200
    );
}
