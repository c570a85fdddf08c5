//! SMTP down for minutes, then back: the e-mails queued meanwhile are retried with backoff and
//! each is delivered exactly once after the server returns; the outbox ends with nothing pending.

use crate::api::{self, Api};
use crate::service::Service;
use crate::{Ctx, Report, mail_tally, outbox_mark, secs, wait_outbox_drained};
use handover_tests::smtp::SmtpServer;
use std::time::{Duration, Instant};
use uuid::Uuid;

const HANDOVERS: usize = 6;

pub async fn run(ctx: &Ctx) -> anyhow::Result<Report> {
    let mut rep = Report::new("smtp");
    let down_secs: u64 = std::env::var("FAULTS_SMTP_DOWN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let smtp = SmtpServer::start().await;
    let spec = ctx.spec("smtp", "faults_smtp", &smtp);
    let mut svc = Service::start(&spec, &ctx.work).await?;
    let pool = ctx.pool("faults_smtp").await?;
    // The demo's own e-mails go out first, so the count below is only this test's.
    wait_outbox_drained(&pool, Duration::from_secs(60)).await?;
    let mark = outbox_mark(&pool).await?;
    let api = Api::new(&svc.base)?;
    let centre = api.login(api::CENTRE_STAFF).await?;
    let muni = api.login(api::MUNI_STAFF).await?;
    let kommune: Uuid =
        sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = '4204'")
            .fetch_one(&pool)
            .await?;

    let received_before = smtp.messages().len();
    smtp.stop();
    let down_at = Instant::now();
    for i in 0..HANDOVERS {
        let (hid, _) = api::sent_handover(&api, &centre, kommune).await?;
        if i % 2 == 0 {
            api::accept(&api, &muni, &hid).await?;
        }
    }
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE id > $1")
        .bind(mark)
        .fetch_one(&pool)
        .await?;
    println!("{queued} e-mails queued; SMTP stays down for {down_secs} s");
    let remaining = Duration::from_secs(down_secs).saturating_sub(down_at.elapsed());
    tokio::time::sleep(remaining).await;
    let (failed_attempts, max_attempts, sent_while_down, dead): (i64, i32, i64, i64) =
        sqlx::query_as(
            "SELECT coalesce(sum(attempts), 0)::bigint, coalesce(max(attempts), 0),
                    count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'dead')
             FROM outbox WHERE id > $1",
        )
        .bind(mark)
        .fetch_one(&pool)
        .await?;
    let received_while_down = smtp.messages().len() - received_before;
    smtp.restart().await;
    let back_at = Instant::now();
    let pending = wait_outbox_drained(&pool, Duration::from_secs(60)).await?;
    let drained = back_at.elapsed();
    // A few more worker rounds: nothing may arrive twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = mail_tally(&pool, &smtp, mark, "%").await?;

    rep.fig("SMTP down for", secs(Duration::from_secs(down_secs)));
    rep.fig("e-mails queued during the outage", queued);
    rep.fig(
        "failed delivery attempts during the outage",
        failed_attempts,
    );
    rep.fig("most attempts for one e-mail", max_attempts);
    rep.fig("e-mails delivered after SMTP came back", t.delivered);
    rep.fig("e-mails duplicated", t.duplicated);
    rep.fig("e-mails missing", t.missing);
    rep.fig("dead-lettered", t.dead);
    rep.fig("SMTP back -> outbox drained", secs(drained));
    rep.check(
        queued > 0,
        "no e-mail was queued: the test exercised nothing",
    );
    rep.check(
        sent_while_down == 0 && received_while_down == 0 && dead == 0,
        format!("while SMTP was down: {sent_while_down} marked sent, {received_while_down} received, {dead} dead"),
    );
    rep.check(
        failed_attempts > queued,
        "the worker did not retry during the outage",
    );
    rep.check(
        t.queued as i64 == queued && t.delivered == t.queued && t.missing == 0,
        format!("{} of {} queued e-mails delivered", t.delivered, t.queued),
    );
    rep.check(
        t.duplicated == 0,
        format!("{} e-mails delivered twice", t.duplicated),
    );
    rep.check(
        pending == 0 && t.pending == 0 && t.dead == 0,
        format!("outbox after: {pending} pending, {} dead", t.dead),
    );
    svc.sigterm()?;
    let _ = svc.wait_exit(Duration::from_secs(30)).await;
    Ok(rep)
}
