//! Metrics in the Prometheus text format, served on their own listen address
//! (`HANDOVER_METRICS_ADDR`, off by default) so that they are never public by accident: the
//! counters and histograms the request path and the use cases record (`metrics` facade), and
//! gauges read from the database at each scrape (the database pool, the outbox, sessions).

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use handover_api::AppState;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use tokio::net::TcpListener;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static INSTALLING: Mutex<()> = Mutex::new(());

/// Request durations, in seconds: from a cached page to the slowest PDF.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's one Prometheus recorder, installed on first use (a process has one global
/// recorder; until it is installed every `metrics::counter!` is a no-op).
pub fn install() -> anyhow::Result<&'static PrometheusHandle> {
    if let Some(h) = HANDLE.get() {
        return Ok(h);
    }
    let _guard = INSTALLING
        .lock()
        .map_err(|_| anyhow::anyhow!("metrics install lock poisoned"))?;
    if let Some(h) = HANDLE.get() {
        return Ok(h);
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .context("metrics buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    describe();
    Ok(HANDLE.get_or_init(|| handle))
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "handover_http_requests_total",
        "Requests answered, by method, route template and status"
    );
    describe_histogram!(
        "handover_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer, by method, route template and status"
    );
    describe_counter!(
        "handover_db_errors_total",
        "Database statements that failed (statement) or found the database unreachable (unavailable)"
    );
    describe_counter!(
        "handover_login_failures_total",
        "Failed logins, by step (password, second_factor)"
    );
    describe_counter!(
        "handover_login_locks_total",
        "Throttling locks set by failed logins, by step"
    );
    // Counters an operator alerts on exist from the start at 0: an absent series cannot be told
    // from a scrape that failed.
    for step in ["password", "second_factor"] {
        metrics::counter!("handover_login_failures_total", "step" => step).increment(0);
        metrics::counter!("handover_login_locks_total", "step" => step).increment(0);
    }
    for kind in ["statement", "unavailable"] {
        metrics::counter!("handover_db_errors_total", "kind" => kind).increment(0);
    }
    describe_gauge!(
        "handover_db_pool_connections",
        "Database pool connections, by state (in_use, idle)"
    );
    describe_gauge!(
        "handover_db_pool_max_connections",
        "The most connections the pool opens"
    );
    describe_gauge!("handover_outbox_messages", "Outbox messages, by status");
    describe_gauge!(
        "handover_outbox_oldest_due_seconds",
        Unit::Seconds,
        "Age of the oldest e-mail that is due and not yet delivered (0 when none)"
    );
    describe_gauge!(
        "handover_outbox_dead_letters",
        "Dead-lettered e-mails waiting for the operator"
    );
    describe_gauge!(
        "handover_reminders_queued",
        "Conversation reminders waiting to be delivered"
    );
    describe_gauge!(
        "handover_sessions_active",
        "Sessions neither expired nor revoked (API and browser)"
    );
}

#[derive(sqlx::FromRow)]
struct Gauges {
    pending: i64,
    sent: i64,
    dead: i64,
    discarded: i64,
    oldest_due_secs: f64,
    reminders: i64,
    sessions: i64,
}

/// The gauges, read in one statement at scrape time.
async fn read_gauges(state: &AppState) -> anyhow::Result<()> {
    let g: Gauges = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
                count(*) FILTER (WHERE status = 'sent') AS sent,
                count(*) FILTER (WHERE status = 'dead') AS dead,
                count(*) FILTER (WHERE status = 'discarded') AS discarded,
                COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)
                    FILTER (WHERE status = 'pending' AND next_attempt_at <= now())), 0)::float8
                    AS oldest_due_secs,
                count(*) FILTER (WHERE status = 'pending'
                                   AND dedupe_key LIKE 'conversation:%:reminder:%') AS reminders,
                (SELECT count(*) FROM sessions
                 WHERE revoked_at IS NULL AND expires_at > now()) AS sessions
         FROM outbox",
    )
    .fetch_one(&state.pool)
    .await?;
    for (status, n) in [
        ("pending", g.pending),
        ("sent", g.sent),
        ("dead", g.dead),
        ("discarded", g.discarded),
    ] {
        metrics::gauge!("handover_outbox_messages", "status" => status).set(n as f64);
    }
    metrics::gauge!("handover_outbox_oldest_due_seconds").set(g.oldest_due_secs);
    metrics::gauge!("handover_outbox_dead_letters").set(g.dead as f64);
    metrics::gauge!("handover_reminders_queued").set(g.reminders as f64);
    metrics::gauge!("handover_sessions_active").set(g.sessions as f64);
    Ok(())
}

fn read_pool(state: &AppState) {
    let size = f64::from(state.pool.size());
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!("handover_db_pool_connections", "state" => "in_use").set(size - idle);
    metrics::gauge!("handover_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("handover_db_pool_max_connections")
        .set(f64::from(state.pool.options().get_max_connections()));
}

async fn scrape(State(state): State<AppState>) -> Response {
    let handle = match install() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "metrics recorder");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    read_pool(&state);
    // A database that does not answer still gets the request metrics out; the failure shows
    // as a stale gauge and in handover_db_errors_total.
    if let Err(e) = read_gauges(&state).await {
        metrics::counter!("handover_db_errors_total", "kind" => "statement").increment(1);
        tracing::warn!(error = %e, "reading the metrics gauges failed");
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// `GET /metrics`, and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

/// Serves the metrics on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    install()?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("metrics listener")
}
