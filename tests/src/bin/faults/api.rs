//! HTTP calls to an instance, and the API flows that make e-mail (handovers, conversations).

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub const PASSWORD: &str = handover_server::demo::DEMO_PASSWORD;
pub const CENTRE_STAFF: &str = "ansatt.mottak-kristiansand@demo.no";
pub const MUNI_STAFF: &str = "ansatt.kommune-kristiansand@demo.no";

#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

/// One answer, or how the exchange failed.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub problem: bool,
    pub etag: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn id(&self) -> anyhow::Result<String> {
        self.body["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no id in {} {}", self.status, self.text))
    }

    pub fn etag(&self) -> anyhow::Result<String> {
        self.etag
            .clone()
            .with_context(|| format!("no ETag in {} {}", self.status, self.text))
    }

    /// This answer, or an error naming what was expected.
    pub fn expect(self, status: u16, what: &str) -> anyhow::Result<Answer> {
        if self.status != status {
            bail!(
                "{what}: expected {status}, got {} {}",
                self.status,
                self.text
            );
        }
        Ok(self)
    }
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    /// One request; `Err` only when no HTTP answer came (refused, reset, timed out).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let header = |n: &str| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let problem =
            header("content-type").is_some_and(|c| c.starts_with("application/problem+json"));
        let etag = header("etag");
        let text = res.text().await?;
        Ok(Answer {
            status,
            problem,
            etag,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        })
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Answer> {
        Ok(self
            .call(Method::GET, path, Some(token), None, None)
            .await?)
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> anyhow::Result<Answer> {
        Ok(self
            .call(Method::POST, path, Some(token), Some(body), if_match)
            .await?)
    }

    pub async fn login(&self, email: &str) -> anyhow::Result<String> {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({ "email": email, "password": PASSWORD })),
                None,
            )
            .await?
            .expect(200, "login")?;
        r.body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("no access token")
    }

    /// Ids of the participants the caller sees.
    pub async fn participants(&self, token: &str) -> anyhow::Result<Vec<String>> {
        let r = self
            .get("/api/v1/participants?limit=200", token)
            .await?
            .expect(200, "participant list")?;
        Ok(r.body["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

pub fn day(offset: i64) -> String {
    (OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

pub fn rfc(t: OffsetDateTime) -> anyhow::Result<String> {
    Ok(t.format(&Rfc3339)?)
}

pub fn element(title: &str) -> Value {
    json!({
        "kind": "norwegian",
        "title": title,
        "start_date": day(-60),
        "end_date": day(-20),
        "hours_planned": 100.0,
        "hours_attended": 90.0,
        "language_of_instruction": "nb",
        "outcome": "Fullført."
    })
}

/// A DUF number (12 digits) no demo participant has.
fn new_duf() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let salt = u64::from(Uuid::new_v4().as_u128() as u16) % 1000;
    format!("2023{:08}", 90_000_000 + salt * 1000 + n % 1000)
}

/// A handover sent to `municipality`: a new participant with settlement and consent, a
/// handover started and sent. Returns (handover id, reference).
pub async fn sent_handover(
    api: &Api,
    centre: &str,
    municipality: Uuid,
) -> anyhow::Result<(String, String)> {
    let r = api
        .post(
            "/api/v1/participants",
            centre,
            &json!({
                "given_name": "Feil",
                "family_name": "Test",
                "date_of_birth": "1990-05-06",
                "duf_number": new_duf(),
                "languages": [{ "language": "ti", "level": "native" }],
                "interpreter_language": "ti",
                "arrival_date": day(-100),
                "programme_start": day(-90),
                "status": "in_programme",
                "notes": ""
            }),
            None,
        )
        .await?
        .expect(201, "participant")?;
    let pid = r.id()?;
    api.call(
        Method::PUT,
        &format!("/api/v1/participants/{pid}/settlement"),
        Some(centre),
        Some(&json!({
            "municipality_id": municipality,
            "settlement_date": day(30),
            "contacts": [{ "name": "Programrådgiver", "email": "kontakt@kommune.example", "role": "programrådgiver" }]
        })),
        None,
    )
    .await?
    .expect(201, "settlement")?;
    api.post(
        &format!("/api/v1/participants/{pid}/consents"),
        centre,
        &json!({"sections": ["guidance_summary"], "given_on": day(0), "method": "written_signed", "language": "ti", "interpreter_present": true}),
        None,
    )
    .await?
    .expect(201, "consent")?;
    let r = api
        .post(
            &format!("/api/v1/participants/{pid}/handovers"),
            centre,
            &Value::Null,
            None,
        )
        .await?
        .expect(201, "handover")?;
    let hid = r.id()?;
    let r = api
        .post(
            &format!("/api/v1/handovers/{hid}/send"),
            centre,
            &json!({"missing_reason": "Kartleggingen er ikke ferdig."}),
            Some(&r.etag()?),
        )
        .await?
        .expect(200, "send")?;
    let reference = r.body["reference"]
        .as_str()
        .context("no reference")?
        .to_owned();
    Ok((hid, reference))
}

/// The municipality opens the file and accepts the handover.
pub async fn accept(api: &Api, muni: &str, hid: &str) -> anyhow::Result<()> {
    api.get(&format!("/api/v1/handovers/{hid}/file"), muni)
        .await?
        .expect(200, "file")?;
    let r = api
        .get(&format!("/api/v1/handovers/{hid}"), muni)
        .await?
        .expect(200, "handover")?;
    api.call(
        Method::POST,
        &format!("/api/v1/handovers/{hid}/accept"),
        Some(muni),
        None,
        Some(&r.etag()?),
    )
    .await?
    .expect(200, "accept")?;
    Ok(())
}

/// The municipality proposes a conversation at `start` and the centre confirms it.
pub async fn confirmed_conversation(
    api: &Api,
    centre: &str,
    muni: &str,
    hid: &str,
    start: OffsetDateTime,
    attendees: &[Uuid],
) -> anyhow::Result<String> {
    let r = api
        .post(
            &format!("/api/v1/handovers/{hid}/conversations"),
            muni,
            &json!({
                "slots": [{ "start": rfc(start)?, "duration_minutes": 30 }],
                "mode": "video",
                "video_link": "https://video.example.no/overforing/feiltest",
                "internal_attendees": attendees,
                "external_attendees": [
                    { "kind": "interpreter", "name": "Tolketjenesten Sør", "email": "tolk.feiltest@tolk.example", "language": "ti" }
                ],
            }),
            None,
        )
        .await?
        .expect(201, "proposal")?;
    let cid = r.id()?;
    let r = api
        .get(&format!("/api/v1/conversations/{cid}"), centre)
        .await?
        .expect(200, "conversation")?;
    api.post(
        &format!("/api/v1/conversations/{cid}/accept"),
        centre,
        &json!({ "slot": 0 }),
        Some(&r.etag()?),
    )
    .await?
    .expect(200, "confirm")?;
    Ok(cid)
}
