//! SIGTERM under load: requests in flight (among them two whose bodies are still arriving) finish
//! with their normal answers, the process exits within its shutdown deadline, and the mail
//! worker gives back its outbox claims (a new instance delivers them at once, each once).

use crate::api::{self, Answer, Api};
use crate::service::Service;
use crate::{Ctx, Report, mail_tally, outbox_mark, secs, wait_outbox_drained};
use handover_tests::smtp::SmtpServer;
use reqwest::Method;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const GRACE_SECS: u64 = 10;
const CLIENTS: usize = 8;
/// How long before the signal a request may still race the closing of idle connections.
const RACE: Duration = Duration::from_millis(50);

struct Call {
    start: Instant,
    /// The title of a created element (writes only).
    title: Option<String>,
    /// The status, or why no answer came.
    answer: Result<u16, String>,
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Report> {
    let mut rep = Report::new("sigterm");
    let smtp = SmtpServer::start().await;
    let spec = ctx
        .spec("sigterm", "faults_sigterm", &smtp)
        .set("HANDOVER_SHUTDOWN_GRACE_SECS", GRACE_SECS)
        .set("HANDOVER_MAIL_BATCH", 50)
        .set("HANDOVER_MAIL_LEASE_SECS", 300);
    let mut svc = Service::start(&spec, &ctx.work).await?;
    let pool = ctx.pool("faults_sigterm").await?;
    wait_outbox_drained(&pool, Duration::from_secs(60)).await?;
    let mark = outbox_mark(&pool).await?;
    // A slow SMTP server keeps the worker busy with claimed messages when the signal comes.
    smtp.set_delay(Duration::from_millis(1500));
    let api = Api::new(&svc.base)?;
    let centre = api.login(api::CENTRE_STAFF).await?;
    let pids = api.participants(&centre).await?;
    anyhow::ensure!(pids.len() >= CLIENTS, "too few demo participants");
    let kommune: Uuid =
        sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = '4204'")
            .fetch_one(&pool)
            .await?;
    for _ in 0..8 {
        api::sent_handover(&api, &centre, kommune).await?;
    }
    let claims_of = format!("%-{}-%", svc.pid);
    let claimed = |pool: sqlx::PgPool, pattern: String| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM outbox WHERE locked_by LIKE $1 AND status = 'pending' AND locked_until > now()",
        )
        .bind(pattern)
        .fetch_one(&pool)
        .await
    };
    let start = Instant::now();
    let mut claims_before = 0;
    while start.elapsed() < Duration::from_secs(10) {
        claims_before = claimed(pool.clone(), claims_of.clone()).await?;
        if claims_before > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Load: reads and writes from several clients.
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (c, pid) in pids.iter().take(CLIENTS).enumerate() {
        let (api, token, calls, stop) = (api.clone(), centre.clone(), calls.clone(), stop.clone());
        let pid = pid.clone();
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let start = Instant::now();
                let title = (c % 2 == 1).then(|| format!("sigterm-{c}-{n}"));
                let r = if let Some(title) = &title {
                    let body = api::element(title);
                    api.call(
                        Method::POST,
                        &format!("/api/v1/participants/{pid}/programme-elements"),
                        Some(&token),
                        Some(&body),
                        None,
                    )
                    .await
                } else {
                    api.call(
                        Method::GET,
                        "/api/v1/participants?limit=50",
                        Some(&token),
                        None,
                        None,
                    )
                    .await
                };
                let failed = r.is_err();
                if let Ok(mut l) = calls.lock() {
                    l.push(Call {
                        start,
                        title,
                        answer: r.map(|a: Answer| a.status).map_err(|e| format!("{e:?}")),
                    });
                }
                if failed {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let addr = svc.base.trim_start_matches("http://").to_owned();
    let slow: Vec<_> = pids
        .iter()
        .take(2)
        .map(|pid| {
            let (addr, token, pid) = (addr.clone(), centre.clone(), pid.clone());
            tokio::spawn(async move { slow_post(&addr, &token, &pid).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let claims_at_signal = claimed(pool.clone(), claims_of.clone()).await?;
    let signal_at = Instant::now();
    svc.sigterm()?;
    let exit = svc.wait_exit(Duration::from_secs(GRACE_SECS + 15)).await?;
    let exit_took = signal_at.elapsed();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    let mut slow_status = Vec::new();
    for s in slow {
        slow_status.push(match s.await {
            Ok(Ok(status)) => status.to_string(),
            Ok(Err(e)) => format!("error: {e:#}"),
            Err(e) => format!("task: {e}"),
        });
    }
    let calls = calls
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    // Sent within RACE of the signal, a request may reach an idle keep-alive connection just
    // as the server closes it: no answer, and (checked below) not processed either.
    let settled = signal_at.checked_sub(RACE).unwrap_or(signal_at);
    let before: Vec<&Call> = calls.iter().filter(|c| c.start < settled).collect();
    let is_ok = |c: &Call| c.answer.as_ref().is_ok_and(|s| (200..300).contains(s));
    let before_ok = before.iter().filter(|c| is_ok(c)).count();
    for c in before.iter().filter(|c| !is_ok(c)) {
        println!(
            "sent {:?} before SIGTERM: {:?}",
            signal_at.duration_since(c.start),
            c.answer
        );
    }
    let racing: Vec<&Call> = calls
        .iter()
        .filter(|c| c.start >= settled && c.start < signal_at)
        .collect();
    let cut: Vec<&&Call> = racing.iter().filter(|c| !is_ok(c)).collect();
    let cut_answered = cut.iter().filter(|c| c.answer.is_ok()).count();
    let cut_titles: Vec<String> = cut.iter().filter_map(|c| c.title.clone()).collect();
    let cut_stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM programme_elements WHERE title = ANY($1)")
            .bind(&cut_titles)
            .fetch_one(&pool)
            .await?;
    let after: Vec<&Call> = calls.iter().filter(|c| c.start >= signal_at).collect();
    let after_ok = after.iter().filter(|c| is_ok(c)).count();
    let claims_after = claimed(pool.clone(), claims_of.clone()).await?;

    rep.fig("requests sent before SIGTERM", before.len());
    rep.fig("of them answered normally (2xx)", before_ok);
    rep.fig(
        &format!(
            "sent < {} ms before SIGTERM / closed unanswered (not processed)",
            RACE.as_millis()
        ),
        format!("{} / {}", racing.len(), cut.len()),
    );
    rep.fig(
        "requests sent after SIGTERM: answered 2xx (drain) / refused",
        format!("{after_ok} / {}", after.len() - after_ok),
    );
    rep.fig(
        "slow-body requests in flight at SIGTERM",
        slow_status.join(", "),
    );
    rep.fig("SIGTERM -> exit", secs(exit_took));
    rep.fig(
        "shutdown grace period",
        secs(Duration::from_secs(GRACE_SECS)),
    );
    rep.fig("outbox claims at SIGTERM", claims_at_signal);
    rep.fig("outbox claims left after exit", claims_after);
    rep.check(
        before.len() > CLIENTS && before_ok == before.len(),
        format!(
            "{} of {} requests sent before SIGTERM were not answered normally",
            before.len() - before_ok,
            before.len()
        ),
    );
    rep.check(
        cut_answered == 0 && cut_stored == 0,
        format!(
            "near the signal: {cut_answered} requests answered with an error, {cut_stored} cut requests were processed"
        ),
    );
    rep.check(
        slow_status.iter().all(|s| s == "201"),
        format!("requests in flight at SIGTERM: {slow_status:?}"),
    );
    rep.check(
        exit.is_some_and(|s| s.success()),
        format!("exit status {exit:?}"),
    );
    rep.check(
        exit_took <= Duration::from_secs(GRACE_SECS),
        format!("exit took {} (grace {GRACE_SECS} s)", secs(exit_took)),
    );
    rep.check(
        claims_before > 0,
        "the worker held no claims when signalled: nothing was tested",
    );
    rep.check(
        claims_after == 0,
        format!("{claims_after} claims left by the stopped instance"),
    );
    if exit.is_none() {
        svc.kill().await;
    }

    // Released claims are due at once: a new instance (lease 300 s) delivers them now.
    smtp.set_delay(Duration::ZERO);
    let spec = crate::service::Spec {
        demo: false,
        ..spec.clone()
    };
    let mut next = Service::start(
        &crate::service::Spec {
            name: "sigterm-next".into(),
            ..spec
        },
        &ctx.work,
    )
    .await?;
    let t = Instant::now();
    let pending = wait_outbox_drained(&pool, Duration::from_secs(30)).await?;
    rep.fig("new instance: outbox drained in", secs(t.elapsed()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tally = mail_tally(&pool, &smtp, mark, "%").await?;
    rep.fig(
        "e-mails queued / delivered / duplicated",
        format!(
            "{} / {} / {}",
            tally.queued, tally.delivered, tally.duplicated
        ),
    );
    rep.check(
        pending == 0,
        format!("{pending} e-mails still pending 30 s after a new instance started"),
    );
    rep.check(
        tally.missing == 0 && tally.duplicated == 0,
        format!("{} missing, {} duplicated", tally.missing, tally.duplicated),
    );
    next.sigterm()?;
    let _ = next.wait_exit(Duration::from_secs(30)).await;
    Ok(rep)
}

/// A POST whose body arrives in pieces over two seconds, on its own connection.
async fn slow_post(addr: &str, token: &str, pid: &str) -> anyhow::Result<u16> {
    let body = serde_json::to_vec(&api::element("sigterm-slow"))?;
    let mut sock = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/v1/participants/{pid}/programme-elements HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    for chunk in body.chunks(body.len().div_ceil(6)) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sock.write_all(chunk).await?;
    }
    let mut answer = Vec::new();
    sock.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no HTTP answer: {text:?}"))?;
    Ok(status)
}
