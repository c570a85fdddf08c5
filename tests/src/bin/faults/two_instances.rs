//! Two instances on one database, both with mail workers and reminder jobs: conditional writes
//! raced through both with one ETag (one winner per round, the rest 412, nothing lost), e-mail
//! from both outbox workers delivered once, reminders queued and sent once.

use crate::api::{self, Api};
use crate::service::{Service, Spec};
use crate::{Ctx, Report, mail_tally, outbox_mark, wait_outbox_drained};
use handover_tests::smtp::SmtpServer;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

const ROUNDS: usize = 25;
const RACERS: usize = 8;
const CONVERSATIONS: usize = 2;

pub async fn run(ctx: &Ctx) -> anyhow::Result<Report> {
    let mut rep = Report::new("two");
    let smtp = SmtpServer::start().await;
    let spec = |name: &str, demo: bool| Spec {
        demo,
        ..ctx
            .spec(name, "faults_two", &smtp)
            .set("HANDOVER_REMINDER_BEFORE_SECS", 7200)
            .set("HANDOVER_REMINDER_INTERVAL_SECS", 1)
    };
    let mut a = Service::start(&spec("two-a", true), &ctx.work).await?;
    let mut b = Service::start(&spec("two-b", false), &ctx.work).await?;
    let pool = ctx.pool("faults_two").await?;
    wait_outbox_drained(&pool, Duration::from_secs(60)).await?;
    let mark = outbox_mark(&pool).await?;
    let apis = [Api::new(&a.base)?, Api::new(&b.base)?];
    let centre = apis[0].login(api::CENTRE_STAFF).await?;
    let muni = apis[1].login(api::MUNI_STAFF).await?;

    // Conditional writes raced through both instances with the same ETag.
    let pids = apis[0].participants(&centre).await?;
    let pid = pids
        .first()
        .ok_or_else(|| anyhow::anyhow!("no participants"))?;
    let r = apis[0]
        .post(
            &format!("/api/v1/participants/{pid}/programme-elements"),
            &centre,
            &api::element("race-0"),
            None,
        )
        .await?
        .expect(201, "element")?;
    let path = format!("/api/v1/participants/{pid}/programme-elements/{}", r.id()?);
    let (mut wins, mut refused, mut lost, mut other) = (0usize, 0usize, 0usize, Vec::new());
    let mut bad_rounds = 0;
    for round in 0..ROUNDS {
        let cur = apis[round % 2]
            .get(&path, &centre)
            .await?
            .expect(200, "element")?;
        let tag = cur.etag()?;
        let version = cur.body["version"].as_i64().unwrap_or_default();
        let racers: Vec<_> = (0..RACERS)
            .map(|k| {
                let (api, token, path, tag) = (
                    apis[k % 2].clone(),
                    centre.clone(),
                    path.clone(),
                    tag.clone(),
                );
                let title = format!("race-{round}-{k}");
                tokio::spawn(async move {
                    let r = api
                        .call(
                            Method::PATCH,
                            &path,
                            Some(&token),
                            Some(&json!({ "title": title })),
                            Some(&tag),
                        )
                        .await;
                    (title, r.map(|a| a.status).map_err(|e| e.to_string()))
                })
            })
            .collect();
        let mut winners = Vec::new();
        for h in racers {
            match h.await? {
                (t, Ok(s)) if (200..300).contains(&s) => winners.push(t),
                (_, Ok(412)) => refused += 1,
                (_, r) => other.push(format!("{r:?}")),
            }
        }
        wins += winners.len();
        let now = apis[(round + 1) % 2]
            .get(&path, &centre)
            .await?
            .expect(200, "element")?;
        let stored = now.body["title"].as_str().unwrap_or_default().to_owned();
        let stored_version = now.body["version"].as_i64().unwrap_or_default();
        if winners.len() != 1 {
            bad_rounds += 1;
        }
        // Every winner beyond the stored one was overwritten without anyone knowing.
        lost += winners.iter().filter(|w| **w != stored).count();
        if stored_version != version + winners.len().min(1) as i64 {
            lost += 1;
        }
    }
    rep.fig(
        "race rounds x racers (half per instance)",
        format!("{ROUNDS} x {RACERS}"),
    );
    rep.fig(
        "2xx / 412 / other",
        format!("{wins} / {refused} / {}", other.len()),
    );
    rep.fig("lost updates", lost);
    rep.check(
        bad_rounds == 0,
        format!("{bad_rounds} rounds without exactly one winner"),
    );
    rep.check(lost == 0, format!("{lost} lost updates"));
    rep.check(other.is_empty(), format!("unexpected answers: {other:?}"));

    // E-mail through both instances, and reminders due within the window on both.
    let kommune: Uuid =
        sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = '4204'")
            .fetch_one(&pool)
            .await?;
    let user = |email: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>("SELECT id FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(&pool)
                .await
        }
    };
    let attendees = [user(api::CENTRE_STAFF).await?, user(api::MUNI_STAFF).await?];
    let mut conversations = Vec::new();
    for i in 0..4 {
        let api = &apis[i % 2];
        let (hid, _) = api::sent_handover(api, &centre, kommune).await?;
        api::accept(&apis[(i + 1) % 2], &muni, &hid).await?;
        if i < CONVERSATIONS {
            let start = (OffsetDateTime::now_utc() + time::Duration::hours(1))
                .replace_nanosecond(0)?
                + time::Duration::minutes(40 * i as i64);
            let cid =
                api::confirmed_conversation(api, &centre, &muni, &hid, start, &attendees).await?;
            conversations.push(cid);
        }
    }
    // 2 internal attendees and the interpreter, per conversation.
    let expected_reminders = (CONVERSATIONS * 3) as i64;
    let start = Instant::now();
    let mut reminders = 0;
    while start.elapsed() < Duration::from_secs(30) {
        reminders = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE id > $1 AND dedupe_key LIKE 'conversation:%:reminder:%'",
        )
        .bind(mark)
        .fetch_one(&pool)
        .await?;
        if reminders >= expected_reminders {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Several more rounds of both reminder jobs and workers: nothing more may come.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pending = wait_outbox_drained(&pool, Duration::from_secs(30)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = mail_tally(&pool, &smtp, mark, "%").await?;
    let rem = mail_tally(&pool, &smtp, mark, "conversation:%:reminder:%").await?;
    let reminder_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE id > $1 AND dedupe_key LIKE 'conversation:%:reminder:%'",
    )
    .bind(mark)
    .fetch_one(&pool)
    .await?;
    let by_worker: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT locked_by, count(*) FROM outbox WHERE id > $1 AND status = 'sent' GROUP BY 1",
    )
    .bind(mark)
    .fetch_all(&pool)
    .await?;
    let mut sent_by: BTreeMap<&str, i64> = BTreeMap::new();
    for (w, n) in &by_worker {
        let w = w.as_deref().unwrap_or_default();
        let who = if w.contains(&format!("-{}-", a.pid)) {
            "a"
        } else if w.contains(&format!("-{}-", b.pid)) {
            "b"
        } else {
            "?"
        };
        *sent_by.entry(who).or_default() += n;
    }
    rep.fig(
        "e-mails queued / delivered / duplicated",
        format!("{} / {} / {}", all.queued, all.delivered, all.duplicated),
    );
    rep.fig(
        "sent by instance a / b",
        format!(
            "{} / {}",
            sent_by.get("a").copied().unwrap_or(0),
            sent_by.get("b").copied().unwrap_or(0)
        ),
    );
    rep.fig(
        "reminders expected / queued / delivered / duplicated",
        format!(
            "{expected_reminders} / {reminder_rows} / {} / {}",
            rem.delivered, rem.duplicated
        ),
    );
    rep.check(all.queued > 0, "no e-mail queued");
    rep.check(
        all.missing == 0 && all.duplicated == 0 && pending == 0,
        format!(
            "{} missing, {} duplicated, {pending} pending",
            all.missing, all.duplicated
        ),
    );
    rep.check(
        reminders == expected_reminders && reminder_rows == expected_reminders,
        format!("{reminder_rows} reminders queued, {expected_reminders} expected"),
    );
    rep.check(
        rem.delivered as i64 == expected_reminders && rem.duplicated == 0,
        format!(
            "reminders delivered {} (expected {expected_reminders}), duplicated {}",
            rem.delivered, rem.duplicated
        ),
    );
    for s in [&a, &b] {
        s.sigterm()?;
    }
    let _ = a.wait_exit(Duration::from_secs(30)).await;
    let _ = b.wait_exit(Duration::from_secs(30)).await;
    Ok(rep)
}
