//! The access log (issue 20): one line per request at `info`, with the method, the route
//! template, the final status, the duration, the request id and the caller's user and
//! organisation ids, and never a path with ids, a query string, a name or a body. The lines are
//! captured as JSON from the same events the service writes (target `handover::access`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::WebSession;
use handover_tests::{DEMO_PASSWORD, Res, TestApp, spawn_app, who};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every access line written in this test process so far (other tests' too: each test finds
/// its own by request id).
fn captured() -> &'static Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new("handover::access=info"))
            .with_writer(move || writer.clone())
            .try_init();
        lines
    })
}

/// The access lines of the request with this id.
fn lines_of(request_id: &str) -> Vec<Value> {
    let all = captured().0.lock().unwrap().clone();
    String::from_utf8_lossy(&all)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["request_id"] == request_id)
        .collect()
}

/// The one line of a request, by the id the answer carries.
fn one_line(request_id: &str) -> Value {
    let found = lines_of(request_id);
    assert_eq!(
        found.len(),
        1,
        "one access line for {request_id}: {found:?}"
    );
    found.into_iter().next().unwrap()
}

fn id_of(r: &Res) -> String {
    r.header("x-request-id").expect("x-request-id").to_owned()
}

async fn user_and_org(app: &TestApp, email: &str) -> (String, String) {
    (
        app.user_id(email).await.to_string(),
        app.org_of(email).await.to_string(),
    )
}

#[tokio::test]
async fn every_request_leaves_one_line_with_its_route_template_status_and_caller_ids_only() {
    captured();
    let app = spawn_app().await;
    let participant: uuid::Uuid = sqlx::query_scalar(
        "SELECT p.id FROM participants p JOIN users u ON u.organisation_id = p.reception_centre_id
         WHERE u.email = $1 LIMIT 1",
    )
    .bind(who::KRS_STAFF)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (user, org) = user_and_org(&app, who::KRS_STAFF).await;

    // A failed login: a line, no caller, and nothing of what was typed.
    let r = app.try_login(who::KRS_STAFF, "feil passord 123").await;
    assert_eq!(r.status, 401);
    let l = one_line(&id_of(&r));
    assert_eq!(l["route"], "/api/v1/auth/login");
    assert_eq!(l["method"], "POST");
    assert_eq!(l["status"], 401);
    assert_eq!(l["user_id"], "");
    let text = l.to_string();
    assert!(
        !text.contains("ansatt.mottak") && !text.contains("feil passord"),
        "{text}"
    );

    // Reads with ids in the path and a name in the query: the template, the caller's ids.
    let token = app.token(who::KRS_STAFF).await;
    let r = app
        .get(&format!("/api/v1/participants/{participant}"), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let l = one_line(&id_of(&r));
    assert_eq!(l["route"], "/api/v1/participants/{id}");
    assert_eq!(
        (l["user_id"].as_str(), l["org_id"].as_str()),
        (Some(user.as_str()), Some(org.as_str()))
    );
    assert!(!l.to_string().contains(&participant.to_string()), "{l}");
    assert!(l["duration_ms"].as_f64().unwrap() >= 0.0);

    let r = app
        .get("/api/v1/participants?name=Hemmelignavn", &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let l = one_line(&id_of(&r));
    assert_eq!(l["route"], "/api/v1/participants");
    assert!(
        !l.to_string().contains("Hemmelignavn") && !l.to_string().contains('?'),
        "{l}"
    );

    // A refusal and a path no route has.
    let r = app.get("/api/v1/participants/not-a-uuid", &token).await;
    assert_eq!(one_line(&id_of(&r))["status"], r.status.as_u16());
    let r = app.get("/nowhere/12345678", &token).await;
    let l = one_line(&id_of(&r));
    assert_eq!(
        (l["route"].as_str(), l["status"].as_u64()),
        (Some("(no route)"), Some(404))
    );
    assert!(!l.to_string().contains("12345678"), "{l}");

    // A web page, as a signed-in member of staff: the page's template and the caller.
    let mut web = WebSession::new(&app);
    let p = web.sign_in(who::KRS_STAFF, DEMO_PASSWORD, "").await;
    let l = one_line(p.header("x-request-id").unwrap());
    assert_eq!(
        (l["route"].as_str(), l["status"].as_u64()),
        (Some("/sign-in"), Some(303))
    );
    let p = web.get(&format!("/participants/{participant}")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let l = one_line(p.header("x-request-id").unwrap());
    assert_eq!(l["route"], "/participants/{id}");
    assert_eq!(l["user_id"].as_str(), Some(user.as_str()));
    assert!(!l.to_string().contains(&participant.to_string()), "{l}");
}
