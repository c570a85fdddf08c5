#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{spawn_app, who};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    let r = app.request(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some());
}

#[tokio::test]
async fn readiness_fails_with_problem_when_database_is_gone() {
    let app = spawn_app().await;
    app.pool.close().await;
    let r = app.request(Method::GET, "/readyz", None, None, &[]).await;
    r.assert_problem(503);
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let t = app.token(who::KRS_STAFF).await;
    app.get("/api/v1/nope", &t).await.assert_problem(404);
    let r = app
        .request(Method::DELETE, "/api/v1/me", Some(&t), None, &[])
        .await;
    r.assert_problem(405);
    let r = app.request(Method::PUT, "/healthz", None, None, &[]).await;
    r.assert_problem(405);
}

#[tokio::test]
async fn bodies_are_checked() {
    let app = spawn_app().await;
    // Wrong content type.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        r.assert_problem(415),
        "urn:handover:problem:unsupported-media-type"
    );
    // Malformed JSON.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            "application/json",
            b"{\"email\":".to_vec(),
        )
        .await;
    assert_eq!(r.assert_problem(400), "urn:handover:problem:malformed-json");
    // Invalid UTF-8.
    let r = app
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            "application/json",
            vec![b'"', 0xff, 0xfe, b'"'],
        )
        .await;
    r.assert_problem(400);
    // Deeply nested JSON.
    // Deeply nested JSON: refused (400 past serde's depth limit, 422 when the shape is wrong
    // first), never a stack overflow.
    for deep in [
        "[".repeat(100_000),
        format!("{{\"email\":{}", "[".repeat(100_000)),
    ] {
        let r = app
            .raw(
                Method::POST,
                "/api/v1/auth/login",
                None,
                "application/json",
                deep.into_bytes(),
            )
            .await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{}", r.text);
        r.assert_problem(r.status.as_u16());
    }
    // Oversized body.
    let big = vec![b' '; 2 * 1024 * 1024];
    let r = app
        .raw(
            Method::POST,
            "/api/v1/auth/login",
            None,
            "application/json",
            big,
        )
        .await;
    r.assert_problem(413);
    // Unknown field.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.no", "password": "x", "role": "admin"}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["role"]);
    assert_eq!(r.body["errors"][0]["code"], "unknown_field");
    // Missing and mistyped fields.
    let r = app
        .post("/api/v1/auth/login", None, &json!({"email": "a@b.no"}))
        .await;
    r.assert_problem(422);
    assert_eq!(r.body["errors"][0]["code"], "missing_field");
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": 5, "password": "x"}),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["email"]);
}

#[tokio::test]
async fn docs_are_served_offline() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/api-docs/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["paths"]["/api/v1/auth/login"].is_object());
    let r = app.request(Method::GET, "/docs/", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("swagger"),
        "{}",
        &r.text[..r.text.len().min(200)]
    );
    // The UI's assets come from the service itself, not a CDN.
    assert!(!r.text.contains("unpkg.com") && !r.text.contains("cdn.jsdelivr"));
    let r = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None, None, &[])
        .await;
    assert_eq!(r.status, 200);
    // The password-setup link opens the web application's form (no script needed), and the
    // page's stylesheet is the service's own.
    let r = app
        .request(Method::GET, "/password-setup", None, None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("<form") && r.text.contains("/assets/designsystemet.css"));
    let r = app
        .request(Method::GET, "/assets/designsystemet.css", None, None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains(".ds-button"));
}

/// The committed OpenAPI document must be what the code produces (`handover openapi`).
#[test]
fn committed_openapi_matches_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .unwrap();
    let generated = handover_api::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -p handover-server -- openapi > openapi/openapi.json`"
    );
}
