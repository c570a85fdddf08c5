//! Typed clients, one per resource: each knows its paths, methods and headers, so a test says
//! what it does (`handovers.send(id, tag, reason)`) instead of spelling a request, and the path
//! of an operation is written once for all tests.

use crate::{Res, TestApp, call};
use reqwest::Method;
use serde_json::{Value, json};

/// Participants and their record, as one caller.
pub struct Participants<'a> {
    pub app: &'a TestApp,
    pub token: &'a str,
}

impl Participants<'_> {
    pub async fn create(&self, body: &Value) -> Res {
        self.app
            .post("/api/v1/participants", Some(self.token), body)
            .await
    }

    pub async fn get(&self, id: &str) -> Res {
        self.app
            .get(&format!("/api/v1/participants/{id}"), self.token)
            .await
    }

    pub async fn update(&self, id: &str, if_match: &str, patch: &Value) -> Res {
        call(
            self.app,
            Method::PATCH,
            &format!("/api/v1/participants/{id}"),
            Some(self.token),
            Some(patch),
            Some(if_match),
        )
        .await
    }

    /// Registers (no `if_match`) or changes the settlement decision.
    pub async fn put_settlement(&self, id: &str, body: &Value, if_match: Option<&str>) -> Res {
        call(
            self.app,
            Method::PUT,
            &format!("/api/v1/participants/{id}/settlement"),
            Some(self.token),
            Some(body),
            if_match,
        )
        .await
    }

    pub async fn record_consent(&self, id: &str, body: &Value) -> Res {
        self.app
            .post(
                &format!("/api/v1/participants/{id}/consents"),
                Some(self.token),
                body,
            )
            .await
    }

    /// Starts a handover of the participant.
    pub async fn start_handover(&self, id: &str) -> Res {
        self.app
            .post(
                &format!("/api/v1/participants/{id}/handovers"),
                Some(self.token),
                &Value::Null,
            )
            .await
    }
}

/// Handovers, as one caller.
pub struct Handovers<'a> {
    pub app: &'a TestApp,
    pub token: &'a str,
}

impl Handovers<'_> {
    pub async fn get(&self, id: &str) -> Res {
        self.app
            .get(&format!("/api/v1/handovers/{id}"), self.token)
            .await
    }

    pub async fn file(&self, id: &str) -> Res {
        self.app
            .get(&format!("/api/v1/handovers/{id}/file"), self.token)
            .await
    }

    /// Sends (or re-sends) the file; `missing_reason` when the readiness check finds a gap.
    pub async fn send(&self, id: &str, if_match: &str, missing_reason: Option<&str>) -> Res {
        let body = match missing_reason {
            Some(r) => json!({ "missing_reason": r }),
            None => json!({}),
        };
        self.act(id, "send", if_match, Some(&body)).await
    }

    /// A state change (`send`, `cancel`, `accept`, `decline`, `complete`) at the version named.
    pub async fn act(&self, id: &str, what: &str, if_match: &str, body: Option<&Value>) -> Res {
        call(
            self.app,
            Method::POST,
            &format!("/api/v1/handovers/{id}/{what}"),
            Some(self.token),
            body,
            Some(if_match),
        )
        .await
    }
}

impl TestApp {
    pub fn participants<'a>(&'a self, token: &'a str) -> Participants<'a> {
        Participants { app: self, token }
    }

    pub fn handovers<'a>(&'a self, token: &'a str) -> Handovers<'a> {
        Handovers { app: self, token }
    }
}
