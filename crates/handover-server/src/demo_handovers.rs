//! Demo handovers in every state, to several municipalities. They are made by calling the API
//! in-process as the demo staff, so the demo data goes through the same rules as real use.

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use handover_api::AppState;
use handover_db::{orgs, participants, sessions};
use handover_domain::UserId;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use uuid::Uuid;

struct Client {
    app: Router,
    token: String,
}

impl Client {
    async fn new(state: &AppState, user: UserId) -> anyhow::Result<Self> {
        let mut conn = state.pool.acquire().await?;
        let (_, hash) = handover_api::tokens::new_opaque_token();
        let session = sessions::create(
            &mut conn,
            user,
            Duration::hours(1),
            &hash,
            Duration::hours(1),
        )
        .await?;
        let token = state
            .keys
            .issue(user, session, state.config.access_token_ttl)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Client {
            app: crate::router(state),
            token,
        })
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Option<String>, Value)> {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))?,
            None => req.body(Body::empty())?,
        };
        let res = self.app.clone().oneshot(req).await?;
        let status = res.status();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(res.into_body(), 10 * 1024 * 1024).await?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, etag, v))
    }

    async fn ok(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> anyhow::Result<(Option<String>, Value)> {
        let (status, etag, v) = self.call(method.clone(), uri, body, if_match).await?;
        if !status.is_success() {
            bail!("demo: {method} {uri} answered {status}: {v}");
        }
        Ok((etag, v))
    }
}

/// What to do with a demo participant's handover.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Draft,
    Sent,
    Received,
    Accepted,
    Completed,
    Declined,
    Cancelled,
    Updated,
}

fn demo_participant(slug: &str, i: usize) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("handover-demo-{slug}-{i}-participant").as_bytes(),
    )
}

/// Runs the flows for one centre. `municipality_staff` maps a municipality number to a demo
/// user who can open and answer files.
pub async fn load(
    state: &AppState,
    centre_slug: &str,
    staff: UserId,
    plan: &[(usize, &str, Target)],
    municipality_staff: &[(&str, UserId)],
) -> anyhow::Result<()> {
    let centre = Client::new(state, staff).await?;
    let today = OffsetDateTime::now_utc().date();
    for (i, number, target) in plan {
        let pid = demo_participant(centre_slug, *i);
        let (_, existing) = centre
            .ok(
                Method::GET,
                &format!("/api/v1/handovers?participant_id={pid}"),
                None,
                None,
            )
            .await?;
        if existing["total"].as_i64().unwrap_or(0) > 0 {
            continue;
        }
        let municipality = orgs::find_by_municipality_number(&state.pool, number)
            .await
            .with_context(|| format!("municipality {number}"))?;
        // The demo loader decides from facts of the record; it discloses nothing.
        let (status, version, interpreter) = participants::get(&state.pool, pid).await?.fact(|p| {
            (
                p.data.status,
                p.version,
                p.data.interpreter_language.clone(),
            )
        });
        let settlement = json!({
            "municipality_id": municipality.id,
            "settlement_date": (today + Duration::days(14 + *i as i64)).to_string(),
            "contacts": [{"name": "Programrådgiver", "email": format!("kontakt.{number}@kommune.example"), "role": "programrådgiver"}],
        });
        if handover_db::handovers::get_settlement(&state.pool, pid)
            .await?
            .fact(Option::is_none)
        {
            centre
                .ok(
                    Method::PUT,
                    &format!("/api/v1/participants/{pid}/settlement"),
                    Some(settlement),
                    None,
                )
                .await?;
        }
        if status == handover_domain::participant::ParticipantStatus::InProgramme {
            let etag = format!("\"{version}\"");
            centre
                .ok(
                    Method::PATCH,
                    &format!("/api/v1/participants/{pid}"),
                    Some(json!({"status": "settled"})),
                    Some(&etag),
                )
                .await?;
        }
        let sections = if i % 2 == 0 {
            json!(["guidance_summary", "health_and_adaptation"])
        } else {
            json!(["guidance_summary"])
        };
        let lang = interpreter.unwrap_or_else(|| "en".into());
        centre
            .ok(
                Method::POST,
                &format!("/api/v1/participants/{pid}/consents"),
                Some(json!({"sections": sections, "given_on": today.to_string(), "method": "written_signed", "language": lang, "interpreter_present": true})),
                None,
            )
            .await?;
        if i % 2 == 0
            && handover_db::handovers::get_adaptation(&state.pool, pid)
                .await?
                .fact(Option::is_none)
        {
            centre
                .ok(
                    Method::PUT,
                    &format!("/api/v1/participants/{pid}/adaptation-needs"),
                    Some(json!({"needs": [{"category": "care_responsibilities", "description": "Eneforsørger for to barn; trenger opplæring innenfor barnehagens åpningstid."}]})),
                    None,
                )
                .await?;
        }
        let (etag, h) = centre
            .ok(
                Method::POST,
                &format!("/api/v1/participants/{pid}/handovers"),
                None,
                None,
            )
            .await?;
        let hid = h["id"].as_str().unwrap_or_default().to_owned();
        let mut etag = etag.unwrap_or_default();
        if *target == Target::Draft {
            continue;
        }
        let send = json!({"missing_reason": "Deltakeren bosettes før all kartlegging er ferdig; resten følger i samtalen."});
        let (e, _) = centre
            .ok(
                Method::POST,
                &format!("/api/v1/handovers/{hid}/send"),
                Some(send.clone()),
                Some(&etag),
            )
            .await?;
        etag = e.unwrap_or_default();
        if *target == Target::Cancelled {
            centre
                .ok(
                    Method::POST,
                    &format!("/api/v1/handovers/{hid}/cancel"),
                    Some(json!({"reason": "Bosettingen ble omgjort av IMDi."})),
                    Some(&etag),
                )
                .await?;
            continue;
        }
        let Some((_, m_user)) = municipality_staff.iter().find(|(n, _)| n == number) else {
            continue;
        };
        if *target == Target::Sent {
            continue;
        }
        let muni = Client::new(state, *m_user).await?;
        muni.ok(
            Method::GET,
            &format!("/api/v1/handovers/{hid}/file"),
            None,
            None,
        )
        .await?;
        let (e, _) = muni
            .ok(Method::GET, &format!("/api/v1/handovers/{hid}"), None, None)
            .await?;
        etag = e.unwrap_or_default();
        match target {
            Target::Declined => {
                muni.ok(
                    Method::POST,
                    &format!("/api/v1/handovers/{hid}/decline"),
                    Some(json!({"reason": "Feil kommune: deltakeren er bosatt i nabokommunen."})),
                    Some(&etag),
                )
                .await?;
            }
            Target::Accepted | Target::Completed | Target::Updated => {
                let (e, _) = muni
                    .ok(
                        Method::POST,
                        &format!("/api/v1/handovers/{hid}/accept"),
                        None,
                        Some(&etag),
                    )
                    .await?;
                etag = e.unwrap_or_default();
                if *target == Target::Completed {
                    muni.ok(
                        Method::POST,
                        &format!("/api/v1/handovers/{hid}/complete"),
                        Some(json!({"note": "Overføringssamtale holdt på telefon."})),
                        Some(&etag),
                    )
                    .await?;
                    // What came of it, as the municipality reports after settlement.
                    muni.ok(
                        Method::PUT,
                        &format!("/api/v1/handovers/{hid}/outcome"),
                        Some(json!({
                            "integration_plan_decided_on": state.today().to_string(),
                            "end_goal": "work"
                        })),
                        None,
                    )
                    .await?;
                }
                if *target == Target::Updated {
                    centre
                        .ok(
                            Method::POST,
                            &format!("/api/v1/handovers/{hid}/send"),
                            Some(send),
                            Some(&etag),
                        )
                        .await?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Demo conversations on accepted handovers: (participant index, what to end with).
pub async fn load_conversations(
    state: &AppState,
    centre_slug: &str,
    staff: UserId,
    municipality_staff: UserId,
    plan: &[(usize, &str)],
) -> anyhow::Result<()> {
    let centre = Client::new(state, staff).await?;
    let muni = Client::new(state, municipality_staff).await?;
    let now = OffsetDateTime::now_utc();
    for (k, (i, outcome)) in plan.iter().enumerate() {
        let pid = demo_participant(centre_slug, *i);
        let (_, list) = centre
            .ok(
                Method::GET,
                &format!("/api/v1/handovers?participant_id={pid}&state=accepted"),
                None,
                None,
            )
            .await?;
        let Some(hid) = list["items"][0]["id"].as_str().map(str::to_owned) else {
            continue;
        };
        let (_, existing) = centre
            .ok(
                Method::GET,
                &format!("/api/v1/handovers/{hid}/conversations"),
                None,
                None,
            )
            .await?;
        // The list is a page (`items`): a second start on the same database skips what the
        // first made.
        if existing["items"].as_array().is_some_and(|a| !a.is_empty()) {
            continue;
        }
        let day = |d: i64, h: u8| {
            let t = (now + Duration::days(d))
                .date()
                .with_hms(h, 0, 0)
                .map(|t| t.assume_utc())
                .unwrap_or(now);
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let staff_id = staff.0;
        let muni_id = municipality_staff.0;
        let proposal = json!({
            "slots": [{"start": day(3 + k as i64, 8), "duration_minutes": 60}, {"start": day(4 + k as i64, 12), "duration_minutes": 60}],
            "mode": "video",
            "video_link": "https://video.example.no/overforing",
            "internal_attendees": [staff_id, muni_id],
            "external_attendees": [
                {"kind": "participant", "name": "Deltaker", "email": null},
                {"kind": "interpreter", "name": "Tolketjenesten", "email": "tolk@tolk.example", "language": "ti"}
            ],
        });
        let (etag, c) = muni
            .ok(
                Method::POST,
                &format!("/api/v1/handovers/{hid}/conversations"),
                Some(proposal),
                None,
            )
            .await?;
        if *outcome == "proposed" {
            continue;
        }
        let cid = c["id"].as_str().unwrap_or_default().to_owned();
        let (etag, _) = centre
            .ok(
                Method::POST,
                &format!("/api/v1/conversations/{cid}/accept"),
                Some(json!({"slot": 0})),
                etag.as_deref(),
            )
            .await?;
        match *outcome {
            "cancelled" => {
                centre
                    .ok(
                        Method::POST,
                        &format!("/api/v1/conversations/{cid}/cancel"),
                        Some(json!({"reason": "Tolken ble syk; ny tid avtales."})),
                        etag.as_deref(),
                    )
                    .await?;
            }
            "held" => {
                // A conversation in the past cannot be booked through the API; move it back.
                sqlx::query("UPDATE conversations SET confirmed_start = now() - interval '7 days' WHERE id = $1").bind(Uuid::parse_str(&cid)?).execute(&state.pool).await?;
                sqlx::query("UPDATE conversation_bookings SET during = tstzrange(now() - interval '7 days', now() - interval '7 days' + interval '1 hour') WHERE conversation_id = $1").bind(Uuid::parse_str(&cid)?).execute(&state.pool).await?;
                let centre_org = orgs::get(
                    &state.pool,
                    participants::get(&state.pool, pid)
                        .await?
                        .fact(|p| p.reception_centre_id),
                )
                .await?
                .id;
                muni.ok(
                    Method::POST,
                    &format!("/api/v1/conversations/{cid}/minutes"),
                    Some(json!({"outcome": "held", "notes": "Gjennomgang av mappen; deltakeren ønsker helsefag.", "actions": [
                        {"description": "Melde opp til § 11-veiledning hos karrieresenteret", "responsible_organisation_id": list["items"][0]["municipality_id"], "due_date": (now.date() + Duration::days(14)).to_string()},
                        {"description": "Sende oppdatert norskprøveresultat", "responsible_organisation_id": centre_org, "due_date": (now.date() - Duration::days(2)).to_string()}
                    ]})),
                    etag.as_deref(),
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The demo plan: (participant index, municipality number, target state).
pub fn plan(centre_slug: &str) -> Vec<(usize, &'static str, Target)> {
    if centre_slug == "krs" {
        vec![
            (0, "4204", Target::Completed),
            (3, "4204", Target::Accepted),
            (7, "4204", Target::Received),
            (10, "0301", Target::Sent),
            (14, "5001", Target::Declined),
            (17, "4204", Target::Draft),
            (6, "4601", Target::Cancelled),
            (1, "4204", Target::Updated),
        ]
    } else {
        vec![
            (0, "5001", Target::Accepted),
            (3, "5001", Target::Accepted),
            (1, "5001", Target::Received),
            (7, "5006", Target::Sent),
            (10, "5001", Target::Completed),
            (14, "4204", Target::Declined),
            (17, "1103", Target::Sent),
        ]
    }
}
