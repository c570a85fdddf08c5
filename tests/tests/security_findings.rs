//! Regression tests of the security and onboarding review (docs/security.md, "Review findings
//! of 2026-12"): each failed on the code before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{TestApp, new_duf, spawn_app, spawn_app_with, who};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const GOOD_PASSWORD: &str = "korrekt hest batteri stift 42";

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Every answer on one keep-alive connection, read until the server closes it or `limit`.
async fn exchange(app: &TestApp, bytes: &[u8], limit: Duration) -> String {
    let mut s = tokio::net::TcpStream::connect(addr(app)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// Finding 9: a POST refused with 401 before its body was read closed the keep-alive
// connection without answering the request after it.
#[tokio::test]
async fn a_post_refused_before_its_body_is_read_keeps_the_connection_usable() {
    let app = spawn_app().await;
    for size in [10usize, 4_000, 60_000, 300_000] {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(size));
        let mut req = format!(
            "POST /api/v1/participants HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let out = exchange(&app, &req, Duration::from_secs(10)).await;
        let answers: Vec<&str> = out.matches("HTTP/1.1 ").collect();
        assert_eq!(
            answers.len(),
            2,
            "body of {size}: {}",
            &out[..out.len().min(600)]
        );
        assert!(
            out.starts_with("HTTP/1.1 401"),
            "{}",
            &out[..200.min(out.len())]
        );
        assert!(
            out.contains("HTTP/1.1 200"),
            "the second request was not answered"
        );
    }
}
