//! PostgreSQL restarted (`pg_ctl restart -m fast`, what `pg_ctlcluster ... restart` runs) under
//! 16 clients of conditional writes: half create programme elements, half PATCH their own
//! element with If-Match. Every 2xx must be stored once; failures must be quick 503 problems;
//! the service must serve again without being restarted.

use crate::api::{self, Answer, Api};
use crate::service::Service;
use crate::{Ctx, Report, secs};
use handover_tests::smtp::SmtpServer;
use reqwest::Method;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CREATORS: usize = 8;
const PATCHERS: usize = 8;
const READERS: usize = 2;
const ACQUIRE_TIMEOUT_SECS: u64 = 3;
/// Longer than the acquire timeout: waiting requests must give up with 503.
const DOWN_SECS: u64 = 6;

#[derive(Debug, Clone)]
struct Attempt {
    patch: bool,
    title: String,
    /// Since the load began.
    start: Duration,
    elapsed: Duration,
    /// `None`: no HTTP answer at all.
    answer: Option<Answer>,
}

impl Attempt {
    fn end(&self) -> Duration {
        self.start + self.elapsed
    }
    fn ok(&self) -> bool {
        self.answer.as_ref().is_some_and(Answer::ok)
    }
}

struct Element {
    participant: String,
    id: String,
    initial_version: i32,
}

fn version_of(a: &Answer) -> Option<i32> {
    a.body["version"]
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Report> {
    let mut rep = Report::new("restart");
    let smtp = SmtpServer::start().await;
    let spec = ctx
        .spec("restart", "faults_restart", &smtp)
        .set("HANDOVER_DB_ACQUIRE_TIMEOUT_SECS", ACQUIRE_TIMEOUT_SECS)
        .set("HANDOVER_DB_MAX_CONNECTIONS", 16);
    let mut svc = Service::start(&spec, &ctx.work).await?;
    let api = Api::new(&svc.base)?;
    let token = api.login(api::CENTRE_STAFF).await?;
    let pids = api.participants(&token).await?;
    anyhow::ensure!(
        pids.len() >= CREATORS.max(PATCHERS),
        "too few demo participants"
    );
    let mut elements = Vec::new();
    for (i, pid) in pids.iter().take(PATCHERS).enumerate() {
        let r = api
            .post(
                &format!("/api/v1/participants/{pid}/programme-elements"),
                &token,
                &api::element(&format!("fault-patch-{i}-0")),
                None,
            )
            .await?
            .expect(201, "element")?;
        elements.push(Element {
            participant: pid.clone(),
            id: r.id()?,
            initial_version: version_of(&r).unwrap_or(1),
        });
    }

    let log: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut clients = Vec::new();
    for (c, pid) in pids.iter().take(CREATORS).enumerate() {
        let (api, token, log, stop) = (api.clone(), token.clone(), log.clone(), stop.clone());
        let path = format!("/api/v1/participants/{pid}/programme-elements");
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let title = format!("fault-create-{c}-{n}");
                let start = t0.elapsed();
                let body = api::element(&title);
                let answer = api
                    .call(Method::POST, &path, Some(&token), Some(&body), None)
                    .await
                    .ok();
                let failed = !answer.as_ref().is_some_and(Answer::ok);
                push(&log, false, title, start, t0, answer);
                if failed {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    // Readers (lists, a record, logins): their failures must be quick 503 problems too.
    let reads: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    for (r, pid) in pids.iter().take(READERS).enumerate() {
        let (api, token, log, stop) = (api.clone(), token.clone(), reads.clone(), stop.clone());
        let record = format!("/api/v1/participants/{pid}/record");
        clients.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let start = t0.elapsed();
                let answer = match n % 3 {
                    0 => {
                        let body = json!({ "email": api::CENTRE_STAFF, "password": api::PASSWORD });
                        api.call(Method::POST, "/api/v1/auth/login", None, Some(&body), None)
                            .await
                    }
                    1 => {
                        api.call(
                            Method::GET,
                            "/api/v1/participants?limit=20",
                            Some(&token),
                            None,
                            None,
                        )
                        .await
                    }
                    _ => {
                        api.call(Method::GET, &record, Some(&token), None, None)
                            .await
                    }
                }
                .ok();
                let failed = !answer.as_ref().is_some_and(Answer::ok);
                push(&log, false, format!("read-{r}-{n}"), start, t0, answer);
                if failed {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    for (c, e) in elements.iter().enumerate() {
        let (api, token, log, stop) = (api.clone(), token.clone(), log.clone(), stop.clone());
        let path = format!(
            "/api/v1/participants/{}/programme-elements/{}",
            e.participant, e.id
        );
        clients.push(tokio::spawn(async move {
            let mut etag: Option<String> = None;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                if etag.is_none() {
                    // (Re)read the element: after a failed write its version is not known.
                    etag = match api.get(&path, &token).await {
                        Ok(a) if a.ok() => a.etag,
                        _ => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                }
                n += 1;
                let title = format!("fault-patch-{c}-{n}");
                let start = t0.elapsed();
                let answer = api
                    .call(
                        Method::PATCH,
                        &path,
                        Some(&token),
                        Some(&json!({ "title": title })),
                        etag.as_deref(),
                    )
                    .await
                    .ok();
                etag = answer
                    .as_ref()
                    .filter(|a| a.ok())
                    .and_then(|a| a.etag.clone());
                let failed = etag.is_none();
                push(&log, true, title, start, t0, answer);
                if failed {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }

    // Two outages under load: a restart (shorter than the acquire timeout), then PostgreSQL
    // down for longer than the acquire timeout, so requests must fail rather than wait.
    let mut phases: Vec<(&str, Duration, Duration, Duration)> = Vec::new();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let begin = t0.elapsed();
    let took = tokio::task::block_in_place(|| ctx.cluster.restart());
    phases.push(("pg_ctl restart -m fast", begin, t0.elapsed(), took?));
    tokio::time::sleep(Duration::from_secs(6)).await;
    let begin = t0.elapsed();
    let took =
        tokio::task::block_in_place(|| ctx.cluster.stop_start(Duration::from_secs(DOWN_SECS)));
    phases.push((
        "pg_ctl stop -m fast, down, start",
        begin,
        t0.elapsed(),
        took?,
    ));
    // Load goes on: the service must recover by itself.
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    let attempts = log.lock().map(|l| l.clone()).unwrap_or_default();
    let reads = reads.lock().map(|l| l.clone()).unwrap_or_default();
    let limit = Duration::from_secs(ACQUIRE_TIMEOUT_SECS) + Duration::from_millis(1500);
    let read_bad: Vec<String> = reads
        .iter()
        .filter(|a| !a.ok())
        .filter(|a| {
            !a.answer
                .as_ref()
                .is_some_and(|x| x.status == 503 && x.problem)
        })
        .map(|a| match &a.answer {
            Some(x) => format!(
                "{} {}",
                x.status,
                x.text.chars().take(200).collect::<String>()
            ),
            None => "no answer".into(),
        })
        .collect();
    let read_max_failed = reads
        .iter()
        .filter(|a| !a.ok())
        .map(|a| a.elapsed)
        .max()
        .unwrap_or_default();
    rep.fig(
        "reads and logins (2 clients): attempted / 503",
        format!(
            "{} / {}",
            reads.len(),
            reads.iter().filter(|a| !a.ok()).count()
        ),
    );
    rep.fig(
        "reads and logins: max latency of a failed one",
        secs(read_max_failed),
    );
    rep.check(
        read_bad.is_empty(),
        format!("reads failed otherwise than 503 problem: {read_bad:?}"),
    );
    rep.check(
        read_max_failed <= limit,
        format!("a failed read took {}", secs(read_max_failed)),
    );

    // Answers.
    let ok = attempts.iter().filter(|a| a.ok()).count();
    let status = |s: u16| {
        attempts
            .iter()
            .filter(|a| a.answer.as_ref().is_some_and(|x| x.status == s))
            .count()
    };
    let no_answer = attempts.iter().filter(|a| a.answer.is_none()).count();
    let other: Vec<String> = attempts
        .iter()
        .filter_map(|a| a.answer.as_ref())
        .filter(|x| !x.ok() && x.status != 503 && x.status != 412)
        .map(|x| {
            format!(
                "{} {}",
                x.status,
                x.text.chars().take(200).collect::<String>()
            )
        })
        .collect();
    let not_problem = attempts
        .iter()
        .filter_map(|a| a.answer.as_ref())
        .filter(|x| x.status == 503 && !x.problem)
        .count();
    rep.fig("writes attempted (16 clients)", attempts.len());
    rep.fig("2xx", ok);
    rep.fig("503 problem answers", status(503));
    rep.fig(
        "412 (version moved by a write whose answer was lost)",
        status(412),
    );
    rep.fig("no HTTP answer", no_answer);
    rep.fig(
        "max latency of any 2xx",
        secs(
            attempts
                .iter()
                .filter(|a| a.ok())
                .map(|a| a.elapsed)
                .max()
                .unwrap_or_default(),
        ),
    );
    rep.check(
        other.is_empty(),
        format!("answers other than 2xx/503/412: {other:?}"),
    );
    rep.check(
        no_answer == 0,
        format!("{no_answer} requests got no HTTP answer"),
    );
    rep.check(
        not_problem == 0,
        format!("{not_problem} 503s were not problem+json"),
    );
    for (i, (label, begin, end, took)) in phases.iter().enumerate() {
        let next = phases.get(i + 1).map_or(Duration::MAX, |p| p.1);
        // A request that failed after the next outage began counts for that one.
        let window: Vec<&Attempt> = attempts
            .iter()
            .filter(|a| a.end() > *begin && a.start < next && (a.ok() || a.end() < next))
            .collect();
        let failed: Vec<&&Attempt> = window.iter().filter(|a| !a.ok()).collect();
        let max_failed = failed.iter().map(|a| a.elapsed).max().unwrap_or_default();
        let first_ok_after = window
            .iter()
            .filter(|a| a.ok() && a.end() > *end)
            .map(|a| a.end())
            .min();
        let settle = *end + Duration::from_secs(ACQUIRE_TIMEOUT_SECS + 1);
        let late_failures = window
            .iter()
            .filter(|a| a.start > settle && !a.ok())
            .count();
        let late_ok = window.iter().filter(|a| a.start > settle && a.ok()).count();
        let overlapping = window.iter().filter(|a| a.start < *end).count();
        rep.fig(&format!("{label}: took"), secs(*took));
        rep.fig(
            &format!("{label}: requests overlapping / failed"),
            format!("{overlapping} / {}", failed.len()),
        );
        rep.fig(
            &format!("{label}: max latency of a failed request"),
            secs(max_failed),
        );
        rep.fig(
            &format!("{label}: recovery, PostgreSQL up -> first 2xx"),
            first_ok_after
                .map(|t| secs(t.saturating_sub(*end)))
                .unwrap_or_else(|| "never".into()),
        );
        rep.check(
            overlapping > 0,
            format!("{label}: no request overlapped the outage"),
        );
        rep.check(
            max_failed <= limit,
            format!(
                "{label}: a failed request took {} (acquire timeout {ACQUIRE_TIMEOUT_SECS} s)",
                secs(max_failed)
            ),
        );
        rep.check(
            first_ok_after.is_some() && late_ok > 0,
            format!("{label}: no 2xx after PostgreSQL came back"),
        );
        rep.check(
            late_failures == 0,
            format!("{label}: {late_failures} failures more than {ACQUIRE_TIMEOUT_SECS} s after PostgreSQL was back"),
        );
    }
    if let Some((label, ..)) = phases.get(1) {
        let failed = attempts
            .iter()
            .filter(|a| a.start > phases[1].1 && !a.ok())
            .count();
        rep.check(
            failed > 0,
            format!("{label}: no request failed while PostgreSQL was down: nothing was tested"),
        );
    }

    // The database against the answers.
    let pool = ctx.pool("faults_restart").await?;
    let stored: Vec<(String, i64)> = sqlx::query_as(
        "SELECT title, count(*) FROM programme_elements WHERE title LIKE 'fault-create-%' GROUP BY title",
    )
    .fetch_all(&pool)
    .await?;
    let stored: BTreeMap<String, i64> = stored.into_iter().collect();
    let created_ok: BTreeSet<&str> = attempts
        .iter()
        .filter(|a| !a.patch && a.ok())
        .map(|a| a.title.as_str())
        .collect();
    let mut lost = created_ok
        .iter()
        .filter(|t| !stored.contains_key(**t))
        .count();
    let mut duplicated: i64 = stored.values().map(|n| n - 1).sum();
    let mut stored_without_2xx = stored
        .keys()
        .filter(|t| !created_ok.contains(t.as_str()))
        .count() as i64;
    for (c, e) in elements.iter().enumerate() {
        let eid = Uuid::parse_str(&e.id)?;
        let (version, title): (i32, Option<String>) =
            sqlx::query_as("SELECT version, title FROM programme_elements WHERE id = $1")
                .bind(eid)
                .fetch_one(&pool)
                .await?;
        let history: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM record_changes WHERE record_id = $1 AND operation = 'update'",
        )
        .bind(eid)
        .fetch_one(&pool)
        .await?;
        let prefix = format!("fault-patch-{c}-");
        let oks: Vec<(i32, &str)> = attempts
            .iter()
            .filter(|a| a.patch && a.ok() && a.title.starts_with(&prefix))
            .filter_map(|a| Some((version_of(a.answer.as_ref()?)?, a.title.as_str())))
            .collect();
        let versions: BTreeSet<i32> = oks.iter().map(|(v, _)| *v).collect();
        let applied = i64::from(version - e.initial_version);
        // Two 2xx with one version: one of them was overwritten unseen.
        lost += oks.len() - versions.len();
        if applied < oks.len() as i64 {
            lost += oks.len() - applied.max(0) as usize;
        }
        if let Some((v, t)) = oks.iter().max_by_key(|(v, _)| *v)
            && *v == version
            && title.as_deref() != Some(*t)
        {
            lost += 1;
        }
        duplicated += (history - applied).max(0);
        stored_without_2xx += (applied - oks.len() as i64).max(0);
    }
    rep.fig("2xx writes lost", lost);
    rep.fig("writes stored twice", duplicated);
    rep.fig(
        "writes stored without a 2xx (commit acknowledged to nobody)",
        stored_without_2xx,
    );
    rep.check(
        lost == 0,
        format!("{lost} acknowledged writes are not in the database"),
    );
    rep.check(
        duplicated == 0,
        format!("{duplicated} writes are stored twice"),
    );

    // Still serving, without a restart of the service.
    let r = api.get("/readyz", &token).await;
    rep.check(
        r.as_ref().is_ok_and(Answer::ok),
        "readiness fails after the restart",
    );
    svc.sigterm()?;
    let _ = svc.wait_exit(Duration::from_secs(30)).await;
    Ok(rep)
}

fn push(
    log: &Mutex<Vec<Attempt>>,
    patch: bool,
    title: String,
    start: Duration,
    t0: Instant,
    answer: Option<Answer>,
) {
    let elapsed = t0.elapsed().saturating_sub(start);
    if let Ok(mut l) = log.lock() {
        l.push(Attempt {
            patch,
            title,
            start,
            elapsed,
            answer,
        });
    }
}
