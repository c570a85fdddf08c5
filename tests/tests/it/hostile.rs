//! Hostile input against the real service (OWASP API4:2023, ASVS V13/V12): oversized and
//! malformed bodies, header abuse and slow clients get a clean 4xx (or a closed connection)
//! within bounded time and memory, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{DEMO_PASSWORD, Res, TestApp, spawn_app, spawn_app_with, who};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Counts the hostile requests sent, for the report line each test prints.
static CASES: AtomicUsize = AtomicUsize::new(0);

fn case() {
    CASES.fetch_add(1, Ordering::Relaxed);
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

fn ago(days: i64) -> String {
    (OffsetDateTime::now_utc().date() - time::Duration::days(days)).to_string()
}

fn participant_body(given: &str) -> Value {
    json!({
        "given_name": given,
        "family_name": "Tesfay",
        "date_of_birth": "1990-05-17",
        "duf_number": "202312345678",
        "arrival_date": ago(100),
        "status": "in_programme",
    })
}

/// Sends raw bytes and reads until the server closes or `limit` passes. Returns what was read
/// and whether the server closed the connection.
async fn raw_exchange(app: &TestApp, request: &[u8], limit: Duration) -> (String, bool) {
    let mut s = TcpStream::connect(addr(app)).await.unwrap();
    s.write_all(request).await.unwrap();
    read_until_close(&mut s, limit).await
}

async fn read_until_close(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
        }
    }
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, ct: &str, body: Vec<u8>) -> Res {
    case();
    app.raw(Method::POST, path, token, ct, body).await
}

async fn with_headers(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Res {
    case();
    app.request(method, path, None, body, headers).await
}

fn report(name: &str) {
    handover_tests::figure!(
        "hostile cases sent so far ({name}): {}",
        CASES.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_without_buffering_them() {
    let app = spawn_app().await;
    // Declared length over the limit (1 MiB by default).
    let big = format!(
        "{{\"email\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let r = post_raw(
        &app,
        "/api/v1/auth/login",
        None,
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_eq!(
        r.assert_problem(413),
        "urn:handover:problem:payload-too-large"
    );

    // 50 MB chunked, no length announced: the server must stop reading after about the limit
    // and answer 413 instead of buffering it all.
    case();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\n\r\n",
    )
    .await
    .unwrap();
    let (mut rd, mut wr) = s.into_split();
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(20), rd.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    let chunk = {
        let data = vec![b'['; 64 * 1024];
        let mut c = format!("{:x}\r\n", data.len()).into_bytes();
        c.extend_from_slice(&data);
        c.extend_from_slice(b"\r\n");
        c
    };
    let total = 50 * 1024 * 1024;
    let mut sent = 0usize;
    let started = Instant::now();
    while sent < total {
        match tokio::time::timeout(Duration::from_secs(3), wr.write_all(&chunk)).await {
            Ok(Ok(())) => sent += 64 * 1024,
            // Refused (connection reset / closed) or no longer read: either way cut off.
            _ => break,
        }
    }
    let response = reader.await.unwrap();
    assert!(
        sent < 20 * 1024 * 1024,
        "the server read {sent} bytes of a body over the 1 MiB limit"
    );
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    handover_tests::figure!(
        "50 MB chunked body cut off after {:.1} MB in {:?}",
        sent as f64 / 1048576.0,
        started.elapsed()
    );
    report("oversized");
}

#[tokio::test]
async fn deep_nesting_huge_strings_and_bad_encodings_are_clean_4xx() {
    let app = spawn_app().await;
    let token = app.token(who::KRS_STAFF).await;

    // 100 000 levels of nesting: serde_json's recursion limit answers, no stack overflow.
    for (path, tok, body) in [
        ("/api/v1/auth/login", None, "[".repeat(100_000)),
        (
            "/api/v1/participants",
            Some(token.as_str()),
            "{\"a\":".repeat(100_000),
        ),
        (
            "/api/v1/participants",
            Some(token.as_str()),
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "/api/v1/participants",
            Some(token.as_str()),
            format!(
                "{{\"given_name\":\"a\",\"languages\":{}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
        ),
    ] {
        let r = post_raw(&app, path, tok, "application/json", body.into_bytes()).await;
        assert!(
            matches!(r.status.as_u16(), 400 | 422),
            "{path}: {} {}",
            r.status,
            r.text
        );
        r.assert_problem(r.status.as_u16());
    }
    // The service is still alive and well.
    assert_eq!(app.get("/api/v1/me", &token).await.status, 200);

    // A huge string within the body limit: 422 naming the field, in bounded time.
    let started = Instant::now();
    let mut body = participant_body(&"x".repeat(900_000));
    let r = post_raw(
        &app,
        "/api/v1/participants",
        Some(&token),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["given_name"], "{}", r.text);
    assert!(r.text.len() < 10_000, "the problem must not echo the input");
    body["given_name"] = json!("Kari");
    body["notes"] = json!("\u{0}".repeat(100_000));
    let r = post_raw(
        &app,
        "/api/v1/participants",
        Some(&token),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["notes"], "{}", r.text);
    // A 900 KB password is not hashed: refused like any wrong password, quickly.
    let r = post_raw(
        &app,
        "/api/v1/auth/login",
        None,
        "application/json",
        serde_json::to_vec(&json!({"email": who::STJ_STAFF, "password": "p".repeat(900_000)}))
            .unwrap(),
    )
    .await;
    r.assert_problem(401);
    assert!(started.elapsed() < Duration::from_secs(5));

    // Invalid UTF-8 and invalid escapes: 400.
    let bad: [&[u8]; 5] = [
        b"{\"email\":\"\xff\xfe\",\"password\":\"x\"}",
        b"{\"email\":\"\xc0\xaf\",\"password\":\"x\"}",
        b"{\"email\":\"\xed\xa0\x80\",\"password\":\"x\"}",
        b"{\"email\":\"\\ud800\",\"password\":\"x\"}",
        b"\xef\xbb\xbf{\"email\":\"a@b.no\",\"password\":\"x\"}",
    ];
    for b in bad {
        let r = post_raw(
            &app,
            "/api/v1/auth/login",
            None,
            "application/json",
            b.to_vec(),
        )
        .await;
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(b),
            r.text
        );
        assert_eq!(r.assert_problem(400), "urn:handover:problem:malformed-json");
    }
    // An empty body, a truncated one, trailing garbage, two documents: 400. (Trailing data was
    // accepted before this test: a proxy and the service could have read different bodies.)
    for b in [
        "",
        "{\"email\":",
        "{\"email\":\"a@b.no\",\"password\":\"x\"} trailing",
        "{\"email\":\"a@b.no\",\"password\":\"x\"} {}",
    ] {
        let r = post_raw(
            &app,
            "/api/v1/auth/login",
            None,
            "application/json",
            b.into(),
        )
        .await;
        r.assert_problem(400);
    }

    // Wrong or missing content type: 415, even with a perfectly good JSON body.
    let good =
        serde_json::to_vec(&json!({"email": who::STJ_STAFF, "password": DEMO_PASSWORD})).unwrap();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/xml",
        "json",
        "",
        "application/json-seq",
    ] {
        let r = post_raw(&app, "/api/v1/auth/login", None, ct, good.clone()).await;
        assert_eq!(
            r.assert_problem(415),
            "urn:handover:problem:unsupported-media-type",
            "{ct:?}"
        );
    }
    case();
    let r = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "no content type at all");
    // Parameters and case in the media type are fine.
    let r = post_raw(
        &app,
        "/api/v1/auth/login",
        None,
        "Application/JSON; charset=utf-8",
        good,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    report("bodies");
}

#[tokio::test]
async fn duplicate_keys_and_out_of_range_numbers_are_422() {
    let app = spawn_app().await;
    let token = app.token(who::KRS_STAFF).await;

    // Duplicate keys are refused, not "last one wins": a proxy or a WAF could have read the
    // first one.
    let r = post_raw(
        &app,
        "/api/v1/auth/login",
        None,
        "application/json",
        br#"{"email":"a@b.no","email":"drift.admin@demo.no","password":"x"}"#.to_vec(),
    )
    .await;
    r.assert_problem(422);
    assert!(r.text.contains("duplicate"), "{}", r.text);

    let created = app
        .post(
            "/api/v1/participants",
            Some(&token),
            &participant_body("Kari"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mapping = format!("/api/v1/participants/{id}/competence-mapping");
    let mapping_with = |years: &str| {
        format!(
            r#"{{"education":[{{"level":"upper_secondary","years":{years},"field":"Allmennfag","country":"ER","documents_for_recognition":true}}],"work_experience":[],"driving_licences":[],"certificates":[],"digital_skills":"basic","own_goals":"","mapped_on":"{}"}}"#,
            ago(3)
        )
    };
    for years in ["1e400", "-1e400"] {
        case();
        let r = app
            .client
            .put(format!("{}{mapping}", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(mapping_with(years))
            .send()
            .await
            .unwrap();
        assert!(
            matches!(r.status().as_u16(), 400 | 422),
            "{years}: {}",
            r.status()
        );
    }
    for years in ["1e308", "-1", "31", "1.7976931348623157e308"] {
        case();
        let r = app
            .client
            .put(format!("{}{mapping}", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(mapping_with(years))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{years}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["field"], "education[0].years",
            "{years}: {body}"
        );
    }
    // Integers beyond i64 and absurd dates.
    for q in [
        "limit=99999999999999999999",
        "limit=-9223372036854775809",
        "limit=1e3",
        "offset=-1",
        "limit=0",
    ] {
        case();
        let r = app.get(&format!("/api/v1/participants?{q}"), &token).await;
        assert_eq!(
            r.assert_problem(422),
            "urn:handover:problem:validation",
            "{q}"
        );
    }
    for dob in [
        "99999-12-31",
        "+10000-01-01",
        "2024-02-30",
        "-0001-01-01",
        "1990-5-17",
    ] {
        let mut b = participant_body("Kari");
        b["date_of_birth"] = json!(dob);
        b["duf_number"] = json!("202311111111");
        case();
        let r = app.post("/api/v1/participants", Some(&token), &b).await;
        r.assert_problem(422);
        assert_eq!(r.invalid_fields(), ["date_of_birth"], "{dob}: {}", r.text);
    }
    report("numbers");
}

#[tokio::test]
async fn header_abuse_gets_clean_4xx() {
    let app = spawn_app().await;
    let token = app.token(who::KRS_STAFF).await;

    // Headers over the size or count limits: hyper answers 431 before any handler runs.
    let huge = "h".repeat(100 * 1024);
    let r = with_headers(&app, Method::GET, "/healthz", None, &[("x-junk", &huge)]).await;
    assert_eq!(r.status, 431);
    let bearer = format!("Bearer {}", "e".repeat(100 * 1024));
    let r = with_headers(
        &app,
        Method::GET,
        "/api/v1/me",
        None,
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(r.status, 431, "a 100 KB bearer token");
    let names: Vec<String> = (0..200).map(|i| format!("x-h{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    let r = with_headers(&app, Method::GET, "/healthz", None, &many).await;
    assert_eq!(r.status, 431, "200 header fields");
    let long_uri = format!("/api/v1/participants?q={}", "q".repeat(40 * 1024));
    let r = with_headers(&app, Method::GET, &long_uri, None, &[]).await;
    assert!(matches!(r.status.as_u16(), 414 | 431), "{}", r.status);

    // Below the limits, a long or malformed credential is a plain 401 problem.
    let long_bearer = format!("Bearer {}", "e".repeat(20 * 1024));
    let malformed = [
        long_bearer.as_str(),
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Bearer a b c",
        "Bearer a.b.c",
        "Bearer ..",
        "Bearer eyJhbGciOiJIUzI1NiJ9",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.e30.e30",
        "Bearer ====.====.====",
        "Bearer\ttoken",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "Digest username=\"x\"",
        "Bearer %00",
        "bearer",
    ];
    for a in malformed {
        let r = with_headers(
            &app,
            Method::GET,
            "/api/v1/me",
            None,
            &[("authorization", a)],
        )
        .await;
        assert_eq!(
            r.assert_problem(401),
            "urn:handover:problem:unauthenticated",
            "{a:.40}"
        );
    }
    // Non-ASCII bytes in the header, and two Authorization headers (one of them good).
    case();
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    case();
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", "Bearer forged.token.here")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "only the first Authorization header counts"
    );

    // CR/LF and other smuggling attempts on the wire: 400 from the parser, never a 2xx.
    let wire: [&[u8]; 7] = [
        // An escape sequence meant for a log viewer, in the request id that is logged.
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: a\x1b[31m\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\rx-b: b\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx a: b\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: \x00\r\n\r\n",
        b"GET /healthz\r\n HTTP/1.1\r\nhost: x\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
        b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n",
    ];
    for w in wire {
        case();
        let (resp, _) = raw_exchange(&app, w, Duration::from_secs(5)).await;
        let status = status_of(&resp);
        assert!(
            (400..500).contains(&status) || resp.is_empty(),
            "{:?} -> {resp}",
            String::from_utf8_lossy(w)
        );
    }

    // Bogus If-Match forms: 412 or 428, never 500 and never a write.
    let list = app.get("/api/v1/participants?limit=1", &token).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/participants/{id}");
    let before = app.get(&path, &token).await;
    let tags: String = (1..2000).map(|i| format!("\"x{i}\", ")).collect();
    let forms = [
        ("W/\"1\"", 412),
        ("\"abc\"", 412),
        ("\"99999999999999999999\"", 412),
        ("\"-1\"", 412),
        ("\"0\"", 412),
        ("\"\"", 412),
        ("1", 412),
        ("\"1", 412),
        (",,,", 412),
        ("*", 428),
        (tags.as_str(), 412),
    ];
    for (form, status) in forms {
        let r = with_headers(
            &app,
            Method::PATCH,
            &path,
            Some(&json!({"notes": "endret"})),
            &[
                ("if-match", form),
                ("authorization", &format!("Bearer {token}")),
            ],
        )
        .await;
        r.assert_problem(status);
    }
    let after = app.get(&path, &token).await;
    assert_eq!(before.header("etag"), after.header("etag"));

    // Absurd Accept and Range: ignored, the JSON answer comes whole.
    for (h, v) in [
        ("accept", "image/png"),
        ("accept", "*/*;q=0"),
        ("accept", &"text/html, ".repeat(1000)),
        ("range", "bytes=0-99999999999999999999999"),
        ("range", "bytes=-1"),
        ("range", "bytes=5-1, 0-0, 1-1"),
        ("accept-encoding", "gzip;q=2, br, zstd, *;q=-1"),
    ] {
        let r = with_headers(
            &app,
            Method::GET,
            "/api/v1/me",
            None,
            &[(h, v), ("authorization", &format!("Bearer {token}"))],
        )
        .await;
        assert_eq!(r.status, 200, "{h}: {v:.40}");
        assert_eq!(r.body["user"]["email"], who::KRS_STAFF);
    }
    // Odd methods.
    let r = with_headers(
        &app,
        Method::from_bytes(b"FOO").unwrap(),
        "/api/v1/me",
        None,
        &[],
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let r = with_headers(&app, Method::TRACE, "/api/v1/me", None, &[]).await;
    r.assert_problem(405);
    report("headers");
}

#[tokio::test]
async fn slow_clients_are_cut_off_in_bounded_time() {
    let app = spawn_app_with(|s| {
        s.header_read_timeout_secs = 2;
        s.request_timeout_secs = 3;
    })
    .await;

    // Slowloris: headers one byte per second. Cut off at the header read timeout.
    case();
    let started = Instant::now();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let head =
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut closed_after = None;
    for b in head {
        if s.write_all(&[*b]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 1024];
        if let Ok(r) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
            // EOF, a reset, or an answer (no answer is expected; the connection just closes).
            let n = r.unwrap_or(0);
            assert!(
                n == 0 || !String::from_utf8_lossy(&buf[..n]).contains(" 200 "),
                "slowloris was served"
            );
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let t = closed_after.expect("the slowloris connection was never closed");
    assert!(t < Duration::from_secs(5), "closed only after {t:?}");
    handover_tests::figure!("slowloris connection closed after {t:?}");

    // An idle keep-alive connection is closed too.
    case();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (resp, closed) = read_until_close(&mut s, Duration::from_secs(6)).await;
    assert_eq!(status_of(&resp), 200, "{resp}");
    assert!(closed, "idle keep-alive connection still open after 6 s");
    handover_tests::figure!(
        "idle keep-alive connection closed after {:?}",
        started.elapsed()
    );

    // A body sent one byte per second: the request timeout answers 503 and the connection closes.
    case();
    let started = Instant::now();
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          content-length: 1000\r\n\r\n",
    )
    .await
    .unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..1000 {
            if wr.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rd.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    let resp = String::from_utf8_lossy(&out);
    let t = started.elapsed();
    assert!(
        matches!(status_of(&resp), 408 | 503),
        "slow body answered {resp}"
    );
    assert!(resp.contains("application/problem+json"), "{resp}");
    assert!(
        t < Duration::from_secs(8),
        "slow body cut off only after {t:?}"
    );
    handover_tests::figure!("slow body cut off after {t:?}");

    // Meanwhile everybody else was served.
    assert_eq!(
        app.try_login(who::STJ_STAFF, DEMO_PASSWORD).await.status,
        200
    );
    report("slow");
}

#[tokio::test]
async fn idle_connections_cannot_exhaust_the_server() {
    let app = spawn_app_with(|s| {
        s.header_read_timeout_secs = 2;
        s.max_connections = 4;
    })
    .await;
    // Four connections that never send anything take every slot...
    let mut idle = Vec::new();
    for _ in 0..4 {
        case();
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so a fifth client waits, but only until the header read timeout frees the slots.
    case();
    let started = Instant::now();
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(
        waited >= Duration::from_millis(1000),
        "the connection cap did not hold ({waited:?})"
    );
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    // The idle connections were closed by the server.
    for mut s in idle {
        let (_, closed) = read_until_close(&mut s, Duration::from_secs(1)).await;
        assert!(closed);
    }
    handover_tests::figure!(
        "with 4 idle connections holding every slot, a new client waited {waited:?}"
    );
    report("connections");
}

/// A second instance on the app's database, served until `stop` is sent.
async fn second_instance(
    app: &TestApp,
    settings: handover_server::settings::Settings,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let state = handover_server::app_state(&settings, app.pool.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        handover_server::serve(listener, state, &settings, async move {
            let _ = rx.await;
        })
        .await
    });
    (local, stop, server)
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_and_closes_idle_connections() {
    let app = spawn_app().await;
    // A second instance on the same database, which this test stops.
    let settings = handover_server::settings::Settings {
        shutdown_grace_secs: 5,
        ..app.settings.clone()
    };
    let (local, stop, server) = second_instance(&app, settings).await;

    // An idle keep-alive connection, and a request whose body is still arriving.
    let mut idle = TcpStream::connect(local).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains(" 200 "));
    let body =
        serde_json::to_vec(&json!({"email": who::STJ_STAFF, "password": DEMO_PASSWORD})).unwrap();
    let mut busy = TcpStream::connect(local).await.unwrap();
    busy.write_all(
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    busy.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    stop.send(()).unwrap();
    // The idle connection is closed at once.
    let (_, closed) = read_until_close(&mut idle, Duration::from_secs(2)).await;
    assert!(closed, "idle connection kept open during shutdown");
    // New connections are refused.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        TcpStream::connect(local).await.is_err(),
        "still accepting after shutdown"
    );
    // The request in flight completes.
    busy.write_all(&body[10..]).await.unwrap();
    let (resp, closed) = read_until_close(&mut busy, Duration::from_secs(5)).await;
    assert_eq!(status_of(&resp), 200, "{resp}");
    assert!(resp.contains("access_token"));
    assert!(closed, "connection not closed after the last response");
    let r = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
    handover_tests::figure!("graceful shutdown took {:?}", started.elapsed());
}

#[tokio::test]
async fn shutdown_first_drains_not_ready_and_closes_keep_alive_connections_after_their_answer() {
    let app = spawn_app().await;
    let settings = handover_server::settings::Settings {
        shutdown_drain_secs: 2,
        shutdown_grace_secs: 5,
        ..app.settings.clone()
    };
    let (local, stop, server) = second_instance(&app, settings).await;
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");

    // A keep-alive connection, ready before shutdown.
    let mut kept = TcpStream::connect(local).await.unwrap();
    kept.write_all(get("/readyz").as_bytes()).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = kept.read(&mut buf).await.unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).to_string();
    assert_eq!(status_of(&first), 200, "{first}");
    assert!(!first.to_ascii_lowercase().contains("connection: close"));

    let started = Instant::now();
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Draining: still serving on the kept connection, but it says close and closes.
    kept.write_all(get("/readyz").as_bytes()).await.unwrap();
    let (resp, closed) = read_until_close(&mut kept, Duration::from_secs(1)).await;
    assert_eq!(status_of(&resp), 503, "{resp}");
    assert!(resp.contains("application/problem+json"), "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains("connection: close"),
        "{resp}"
    );
    assert!(closed, "keep-alive connection left open while draining");
    // New connections are still served during the drain.
    let mut fresh = TcpStream::connect(local).await.unwrap();
    fresh.write_all(get("/healthz").as_bytes()).await.unwrap();
    let (resp, closed) = read_until_close(&mut fresh, Duration::from_secs(1)).await;
    assert_eq!(status_of(&resp), 200, "{resp}");
    assert!(closed);

    let r = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "drain cut short: {took:?}");
    assert!(
        TcpStream::connect(local).await.is_err(),
        "still accepting after shutdown"
    );
    handover_tests::figure!("shutdown with a 2 s drain took {took:?}");
}
