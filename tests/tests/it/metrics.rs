//! Metrics (issue 20): served in the Prometheus text format on their own listener (never on the
//! service's address), read here with a Prometheus text-format parser: request counts and
//! durations by route template and status, login failures, the database pool, the outbox and
//! the sessions; no label carries an id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{spawn_app, who};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

fn value(v: &PrometheusValue) -> f64 {
    match v {
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
        PrometheusValue::Histogram(h) => h.count.unwrap_or_default() as f64,
        PrometheusValue::Summary(_) => 0.0,
    }
}

/// The values of `metric`'s samples whose labels include `labels`.
fn find(exp: &Exposition, metric: &str, labels: &[(&str, &str)]) -> Vec<PrometheusValue> {
    let Some(family) = exp.families.get(metric) else {
        return Vec::new();
    };
    family
        .iter_samples()
        .filter(|s| {
            let set = s.get_labelset().unwrap();
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| s.value.clone())
        .collect()
}

/// Every label value of every sample.
fn label_values(exp: &Exposition) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for family in exp.families.values() {
        for s in family.iter_samples() {
            let set = s.get_labelset().unwrap();
            for (k, v) in set.iter() {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_and_parse_as_prometheus_text() {
    let app = spawn_app().await;
    // Not on the service's own address.
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    let state = app.state.clone();
    tokio::spawn(async move {
        handover_server::metrics::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });

    // Some traffic after the recorder is installed, and a dead letter in the outbox.
    let url = format!("http://{at}/metrics");
    let _ = app.client.get(&url).send().await.unwrap();
    let r = app.try_login(who::KRS_STAFF, "feil passord 123").await;
    assert_eq!(r.status, 401);
    let token = app.token(who::KRS_STAFF).await;
    let r = app.get("/api/v1/participants", &token).await;
    assert_eq!(r.status, 200);
    let participant = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .get(&format!("/api/v1/participants/{participant}"), &token)
        .await;
    assert_eq!(r.status, 200);
    sqlx::query(
        "INSERT INTO outbox (dedupe_key, to_address, subject, body_text, status, attempts)
         VALUES ('metrics:test', 'x@example.no', 's', 'b', 'dead', 10)",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = res.text().await.unwrap();
    let scrape = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?} in {text}"));

    let failed = find(
        &scrape,
        "handover_http_requests_total",
        &[
            ("route", "/api/v1/auth/login"),
            ("status", "401"),
            ("method", "POST"),
        ],
    );
    assert!(failed.iter().map(value).sum::<f64>() >= 1.0, "{text}");
    let by_template = find(
        &scrape,
        "handover_http_request_duration_seconds",
        &[("route", "/api/v1/participants/{id}"), ("status", "200")],
    );
    assert!(
        by_template
            .iter()
            .any(|v| matches!(v, PrometheusValue::Histogram(_)) && value(v) >= 1.0),
        "{text}"
    );
    assert!(
        find(
            &scrape,
            "handover_login_failures_total",
            &[("step", "password")]
        )
        .iter()
        .map(value)
        .sum::<f64>()
            >= 1.0
    );
    let gauge = |name: &str, labels: &[(&str, &str)]| {
        let found = find(&scrape, name, labels);
        assert_eq!(found.len(), 1, "{name} {labels:?} in {text}");
        value(&found[0])
    };
    assert_eq!(gauge("handover_outbox_dead_letters", &[]), 1.0);
    assert_eq!(
        gauge("handover_outbox_messages", &[("status", "dead")]),
        1.0
    );
    assert!(gauge("handover_sessions_active", &[]) >= 1.0);
    assert!(gauge("handover_db_pool_connections", &[("state", "idle")]) >= 0.0);
    assert!(gauge("handover_db_pool_max_connections", &[]) >= 1.0);
    assert!(gauge("handover_outbox_oldest_due_seconds", &[]) >= 0.0);
    assert!(gauge("handover_reminders_queued", &[]) >= 0.0);
    // Route templates only: no id, no query string, no address in any label.
    assert!(!text.contains(&participant), "an id in a label");
    assert!(!text.contains("x@example.no"));
    for (k, v) in label_values(&scrape) {
        if k == "route" {
            assert!(!v.contains('?'), "{v}");
            assert!(
                v.split('/').all(|p| uuid::Uuid::parse_str(p).is_err()),
                "{v}"
            );
        }
    }
    // HELP lines for what an operator watches.
    for name in [
        "handover_http_requests_total",
        "handover_outbox_oldest_due_seconds",
        "handover_login_locks_total",
    ] {
        let family = scrape.families.get(name);
        assert!(
            family.is_some_and(|f| !f.help.is_empty()),
            "{name} has no HELP in {text}"
        );
    }
}
