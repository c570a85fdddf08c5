//! The web application over plain HTTP, as a browser without a script would use it: cookies
//! kept by hand, forms posted with the session's CSRF token and the page's origin.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{DEMO_PASSWORD, TestApp};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use std::time::Duration;

pub const SESSION: &str = "handover-session";
pub const SETUP: &str = "handover-setup";
pub const SSO: &str = "handover-sso";
pub const EVIL: &str = "http://evil.example";

/// One answer of the web application.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location: {} {:?}", self.status, self.headers))
    }

    /// The whole `Set-Cookie` line for the cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.split_once('=').is_some_and(|(n, _)| n.trim() == name))
            .map(str::to_owned)
    }

    /// An HTML page (not a problem document).
    pub fn is_page(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    }

    /// A 422 with the error summary and the message beside each field.
    pub fn assert_invalid(&self, fields: &[&str], what: &str) {
        assert_eq!(self.status, 422, "{what}: {}", self.text);
        assert!(self.text.contains("ds-error-summary"), "{what}: no summary");
        for f in fields {
            assert!(
                self.text.contains(&format!("href=\"#{f}\"")),
                "{what}: no summary link to {f}"
            );
            assert!(
                self.text.contains(&format!("id=\"{f}-error\"")),
                "{what}: no message beside {f}: {}",
                self.text
            );
        }
    }

    /// Asserts a redirect (303) to exactly `to`.
    pub fn assert_redirect(&self, to: &str, what: &str) {
        assert_eq!(self.status, 303, "{what}: {}", self.text);
        assert_eq!(self.location(), to, "{what}");
    }
}

/// The value of a hidden input named `name` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let rest = html.split_once(&marker)?.1;
    Some(rest.split('"').next()?.to_owned())
}

/// A form value or query component, percent-encoded as a browser does.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser's session with the web application: its cookies (kept by hand from `Set-Cookie`)
/// and the CSRF token of the signed-in session, scraped from a page.
pub struct WebSession<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
    pub csrf: Option<String>,
}

/// Takes the cookies an answer sets into `jar`, and drops the ones it removes.
/// The `Cookie` header a browser would send with the cookies it keeps; None when it has none.
pub fn cookie_header(jar: &[(String, String)]) -> Option<String> {
    (!jar.is_empty()).then(|| {
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

pub fn keep_cookies(jar: &mut Vec<(String, String)>, headers: &HeaderMap) {
    for line in headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        let first = line.split(';').next().unwrap_or_default();
        let Some((name, value)) = first.split_once('=') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        let removed = value.is_empty()
            || line
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        jar.retain(|(n, _)| n != name);
        if !removed {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

/// How a post is sent: its `Origin` and `_csrf`, each right, wrong or missing.
#[derive(Clone, Copy)]
pub enum Field<'a> {
    Right,
    Wrong(&'a str),
    Missing,
}

impl<'a> WebSession<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        WebSession {
            app,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: Vec::new(),
            csrf: None,
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// Takes the cookies an answer sets, and drops the ones it removes.
    pub fn keep_cookies(&mut self, headers: &HeaderMap) {
        keep_cookies(&mut self.cookies, headers);
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Page {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.app.base));
        if let Some(c) = cookie_header(&self.cookies) {
            req = req.header("cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        self.keep_cookies(&headers);
        Page {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, &[], None).await
    }

    /// A form post with the given `Origin` and `_csrf`.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Field<'_>,
        csrf: Field<'_>,
    ) -> Page {
        let base = self.app.base.clone();
        let token = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        match csrf {
            Field::Right => all.push(("_csrf", &token)),
            Field::Wrong(t) => all.push(("_csrf", t)),
            Field::Missing => {}
        }
        let headers: Vec<(&str, &str)> = match origin {
            Field::Right => vec![("origin", &base)],
            Field::Wrong(o) => vec![("origin", o)],
            Field::Missing => vec![],
        };
        let body = form_body(&all).into_bytes();
        self.send(
            Method::POST,
            path,
            &headers,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    /// A form of a signed-in page: the right `Origin` and the session's `_csrf`.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, Field::Right, Field::Right)
            .await
    }

    /// A form before sign-in: the right `Origin`, no `_csrf`.
    pub async fn post_anon(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_with(path, fields, Field::Right, Field::Missing)
            .await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str, next: &str) -> Page {
        self.post_anon(
            "/sign-in",
            &[("email", email), ("password", password), ("next", next)],
        )
        .await
    }

    /// Answers the sign-in's code page as the user's authenticator app would (the key shown on
    /// the page when it sets one up, else the stored one).
    pub async fn pass_code_page(&mut self, email: &str, code_page: &Page, next: &str) -> Page {
        let challenge = hidden(&code_page.text, "challenge").expect("a challenge");
        let shown = code_page
            .text
            .split("id=\"totp-secret\">")
            .nth(1)
            .and_then(|t| t.split("</code>").next())
            .map(str::to_owned);
        let code =
            crate::authenticator_code(&self.app.pool, &self.app.clock, email, shown.as_deref())
                .await;
        self.post_anon(
            "/sign-in/code",
            &[("challenge", &challenge), ("code", &code), ("next", next)],
        )
        .await
    }

    /// Reads the CSRF token from a signed-in page.
    pub async fn scrape_csrf(&mut self) {
        let p = self.get("/").await;
        assert_eq!(p.status, 200, "start page: {}", p.text);
        let t = hidden(&p.text, "_csrf").unwrap_or_else(|| panic!("no _csrf in {}", p.text));
        assert!(t.len() >= 16, "short CSRF token {t:?}");
        self.csrf = Some(t);
    }
}

/// A session signed in as `email` with the demo password, its CSRF token read.
pub async fn signed_in<'a>(app: &'a TestApp, email: &str) -> WebSession<'a> {
    let mut s = WebSession::new(app);
    let mut r = s.sign_in(email, DEMO_PASSWORD, "").await;
    if r.status == StatusCode::OK && r.text.contains("action=\"/sign-in/code\"") {
        r = s.pass_code_page(email, &r, "").await;
    }
    if r.status == StatusCode::OK && r.text.contains("id=\"recovery-codes\"") {
        // The first sign-in of an administrator set up the authenticator.
        assert!(r.text.contains("id=\"continue\""), "{}", r.text);
    } else {
        r.assert_redirect("/", &format!("sign-in of {email}"));
    }
    assert!(s.cookie(SESSION).is_some(), "no session cookie for {email}");
    s.scrape_csrf().await;
    s
}
