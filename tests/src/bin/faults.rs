//! Fault tests against real `handover` processes: PostgreSQL restarted under a load of
//! conditional writes, SMTP down for minutes, SIGTERM under load, two instances on one
//! database. Prints a figures table and exits non-zero when a guarantee was violated.
//!
//! Run with `.ci/faults` (builds the service first). Environment:
//! - `FAULTS_SMTP_DOWN_SECS`: how long SMTP stays down (default 120).
//! - `FAULTS_ONLY`: comma-separated subset of `restart,smtp,sigterm,two`.
//! - `FAULTS_HANDOVER_BIN`, `FAULTS_PG_BIN`: the service binary, PostgreSQL's bin directory.
//! - `FAULTS_KEEP`: keep the work directory (service logs, PostgreSQL log) after the run.

// A binary's root resolves modules beside it, not in faults/.
#[path = "faults/api.rs"]
mod api;
#[path = "faults/cluster.rs"]
mod cluster;
#[path = "faults/restart.rs"]
mod restart;
#[path = "faults/service.rs"]
mod service;
#[path = "faults/sigterm.rs"]
mod sigterm;
#[path = "faults/smtp_outage.rs"]
mod smtp_outage;
#[path = "faults/two_instances.rs"]
mod two_instances;

use handover_tests::smtp::SmtpServer;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What one fault test measured and which guarantees it saw broken.
pub struct Report {
    pub name: &'static str,
    pub figures: Vec<(String, String)>,
    pub violations: Vec<String>,
}

impl Report {
    pub fn new(name: &'static str) -> Self {
        Report {
            name,
            figures: Vec::new(),
            violations: Vec::new(),
        }
    }

    pub fn fig(&mut self, name: &str, value: impl std::fmt::Display) {
        self.figures.push((name.to_owned(), value.to_string()));
    }

    /// Records a violated guarantee unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.violations.push(what.into());
        }
    }
}

/// What the fault tests share: the private cluster, a work directory, one signing key.
pub struct Ctx {
    pub cluster: cluster::Cluster,
    pub work: PathBuf,
    pub jwt_key: String,
}

impl Ctx {
    pub fn spec(&self, name: &str, db: &str, smtp: &SmtpServer) -> service::Spec {
        service::Spec::new(name, self.cluster.url(db), smtp.addr.port(), &self.jwt_key)
    }

    /// A pool on one database of the private cluster, for the checks.
    pub async fn pool(&self, db: &str) -> anyhow::Result<PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&self.cluster.url(db))
            .await?)
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Outbox rows against what the SMTP server received.
#[derive(Debug, Default)]
pub struct MailTally {
    pub queued: usize,
    pub delivered: usize,
    pub missing: usize,
    /// Extra copies of one Message-ID to one recipient, over everything received.
    pub duplicated: usize,
    pub pending: i64,
    pub dead: i64,
}

/// The Message-ID the worker gives an outbox row (see `workers.rs` and handover-mail).
pub fn message_id(dedupe_key: &str) -> String {
    format!("<{}@handover>", dedupe_key.replace([':', '@', ' '], "."))
}

/// Counts each outbox row with `id > after` (and `dedupe_key LIKE pattern`) in the received
/// messages, by Message-ID and recipient.
pub async fn mail_tally(
    pool: &PgPool,
    smtp: &SmtpServer,
    after: i64,
    pattern: &str,
) -> anyhow::Result<MailTally> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT dedupe_key, lower(to_address), status FROM outbox WHERE id > $1 AND dedupe_key LIKE $2",
    )
    .bind(after)
    .bind(pattern)
    .fetch_all(pool)
    .await?;
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in smtp.messages() {
        let mid = m.header("Message-ID").unwrap_or_default();
        for to in &m.to {
            *seen.entry((mid.clone(), to.to_lowercase())).or_default() += 1;
        }
    }
    let mut t = MailTally {
        queued: rows.len(),
        duplicated: seen.values().map(|n| n.saturating_sub(1)).sum(),
        ..MailTally::default()
    };
    for (key, to, status) in &rows {
        match seen.get(&(message_id(key), to.clone())) {
            Some(_) => t.delivered += 1,
            None => t.missing += 1,
        }
        match status.as_str() {
            "pending" => t.pending += 1,
            "dead" => t.dead += 1,
            _ => {}
        }
    }
    Ok(t)
}

/// The highest outbox id so far (messages after it are the test's).
pub async fn outbox_mark(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(max(id), 0)::bigint FROM outbox")
            .fetch_one(pool)
            .await?,
    )
}

/// Waits until no outbox row is pending (or the timeout passed); returns the pending count.
pub async fn wait_outbox_drained(pool: &PgPool, timeout: Duration) -> anyhow::Result<i64> {
    let start = Instant::now();
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(pool)
                .await?;
        if pending == 0 || start.elapsed() > timeout {
            return Ok(pending);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn run_all(only: &[String]) -> anyhow::Result<Vec<Report>> {
    let wanted = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    let work = std::env::temp_dir().join(format!("handover-faults-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    println!("work directory: {}", work.display());
    let cluster = tokio::task::spawn_blocking(cluster::Cluster::start).await??;
    println!(
        "private PostgreSQL cluster on 127.0.0.1:{} (log: {})",
        cluster.port,
        cluster.log_path().display()
    );
    let ctx = Ctx {
        cluster,
        work: work.clone(),
        jwt_key: handover_server::settings::generate_key_spec(),
    };
    let mut reports = Vec::new();
    type Test = for<'a> fn(
        &'a Ctx,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<Report>> + 'a>,
    >;
    let tests: [(&str, Test); 4] = [
        ("restart", |c| Box::pin(restart::run(c))),
        ("smtp", |c| Box::pin(smtp_outage::run(c))),
        ("sigterm", |c| Box::pin(sigterm::run(c))),
        ("two", |c| Box::pin(two_instances::run(c))),
    ];
    for (name, test) in tests {
        if !wanted(name) {
            continue;
        }
        println!("\n== fault test: {name}");
        let started = Instant::now();
        let mut report = match test(&ctx).await {
            Ok(r) => r,
            Err(e) => {
                let mut r = Report::new(name);
                r.violations.push(format!("could not run: {e:#}"));
                r
            }
        };
        report.fig("test duration", secs(started.elapsed()));
        for v in &report.violations {
            println!("VIOLATED [{name}]: {v}");
        }
        reports.push(report);
    }
    drop(ctx);
    if std::env::var_os("FAULTS_KEEP").is_none() && reports.iter().all(|r| r.violations.is_empty())
    {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(reports)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    let only: Vec<String> = std::env::var("FAULTS_ONLY")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let started = Instant::now();
    // Interrupted (Ctrl-C, a CI timeout): dropping the run stops the cluster and the services.
    let interrupted = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            Some(_) = async { term.as_mut()?.recv().await } => {}
        }
    };
    let run = tokio::select! {
        r = run_all(&only) => r,
        () = interrupted => Err(anyhow::anyhow!("interrupted")),
    };
    let reports = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fault tests could not run: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let date = time::OffsetDateTime::now_utc().date();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "\n== Figures ({date}, {cores} cores, {})",
        secs(started.elapsed())
    );
    println!("| test | figure | value |\n|---|---|---|");
    for r in &reports {
        for (k, v) in &r.figures {
            println!("| {} | {k} | {v} |", r.name);
        }
    }
    let violations: usize = reports.iter().map(|r| r.violations.len()).sum();
    if violations > 0 {
        println!("\n{violations} guarantee(s) violated:");
        for r in &reports {
            for v in &r.violations {
                println!("- [{}] {v}", r.name);
            }
        }
        return std::process::ExitCode::FAILURE;
    }
    println!("\nAll fault guarantees held.");
    std::process::ExitCode::SUCCESS
}
