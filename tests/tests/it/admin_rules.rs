#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{spawn_app, who};
use serde_json::json;

#[tokio::test]
async fn the_last_active_admin_of_an_organisation_cannot_be_removed() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let admin = app.user_id(who::KRS_ADMIN).await;
    let path = format!("/api/v1/users/{admin}");
    let etag = app.get(&path, &op).await.header("etag").unwrap().to_owned();
    let r = app
        .patch(&path, &op, &json!({"active": false}), Some(&etag))
        .await;
    assert_eq!(r.assert_problem(409), "urn:handover:problem:conflict");
    // Demoting another organisation's administrator to staff is out of the operator's reach
    // altogether (it never makes staff accounts elsewhere): 404, last administrator or not.
    // (Nobody else can try it on the last one: a local administrator changing their own role
    // is refused for that reason.)
    let r = app
        .patch(&path, &op, &json!({"role": "centre_staff"}), Some(&etag))
        .await;
    assert_eq!(r.assert_problem(404), "urn:handover:problem:not-found");
    // With a second administrator, the first can go.
    let org = app.org_of(who::KRS_ADMIN).await;
    let r = app
        .post("/api/v1/users", Some(&op), &json!({"email": "admin2@demo.no", "name": "Andre Admin", "role": "admin", "organisation_id": org}))
        .await;
    assert_eq!(r.status, 201);
    sqlx::query("UPDATE users SET password_hash = 'x' WHERE email = 'admin2@demo.no'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .patch(&path, &op, &json!({"role": "centre_staff"}), Some(&etag))
        .await;
    r.assert_problem(404);
    let r = app
        .patch(&path, &op, &json!({"active": false}), Some(&etag))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "admin");
}

#[tokio::test]
async fn deactivating_an_organisation_kills_its_sessions_for_good() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let staff = app.login(who::KOMMUNE_TRD_STAFF).await;
    let org = app.org_of(who::KOMMUNE_TRD_STAFF).await;
    let path = format!("/api/v1/organisations/{org}");
    let etag = app.get(&path, &op).await.header("etag").unwrap().to_owned();
    let r = app
        .patch(&path, &op, &json!({"active": false}), Some(&etag))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get("/api/v1/me", &staff.access)
        .await
        .assert_problem(401);
    let etag = r.header("etag").unwrap().to_owned();
    let r = app
        .patch(&path, &op, &json!({"active": true}), Some(&etag))
        .await;
    assert_eq!(r.status, 200);
    // Reactivation does not revive old tokens.
    app.get("/api/v1/me", &staff.access)
        .await
        .assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": staff.refresh}),
    )
    .await
    .assert_problem(401);
    // A new login works.
    assert_eq!(
        app.get("/api/v1/me", &app.token(who::KOMMUNE_TRD_STAFF).await)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn weak_etags_never_match() {
    let app = spawn_app().await;
    // The centre's own administrator: the operator's may not change its staff accounts.
    let admin = app.token(who::KRS_ADMIN).await;
    let id = app.user_id(who::KRS_STAFF).await;
    let path = format!("/api/v1/users/{id}");
    let r = app
        .patch(
            &path,
            &admin,
            &json!({"name": "Nytt Navn"}),
            Some("W/\"1\""),
        )
        .await;
    r.assert_problem(412);
    let r = app
        .patch(&path, &admin, &json!({"name": "Nytt Navn"}), Some("*"))
        .await;
    r.assert_problem(428);
    let r = app
        .patch(
            &path,
            &admin,
            &json!({"name": "Nytt Navn"}),
            Some("\"7\", \"1\""),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "a list with the current tag matches: {}",
        r.text
    );
}
