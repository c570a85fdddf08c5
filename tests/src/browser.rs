//! A real browser for the web pages: Debian's Chromium, driven over WebDriver by chromedriver
//! (fantoccini), one chromedriver and one browser per test. axe-core (vendored under
//! `tests/assets/vendor/axe-core`, MPL-2.0) is injected into pages to check WCAG 2.1 A and AA.
//!
//! Without chromedriver on the machine the browser tests say so and pass, so `cargo test` works
//! with PostgreSQL alone; `.ci/run` installs Chromium and sets `HANDOVER_REQUIRE_BROWSER=1`, and
//! then a missing browser fails them.

use crate::TestApp;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const AXE: &str = include_str!("../assets/vendor/axe-core/axe.min.js");

/// Where chromedriver is, if anywhere: `CHROMEDRIVER`, else Debian's path, else on `PATH`.
fn chromedriver_path() -> Option<String> {
    if let Ok(p) = std::env::var("CHROMEDRIVER") {
        return Some(p);
    }
    for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if std::path::Path::new(p).exists() {
            return Some(p.into());
        }
    }
    None
}

/// JavaScript on (the default) or off, as a user might have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Js {
    On,
    Off,
}

/// A browser window on the test's service.
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// For the codes of authenticators the test's users set up.
    pool: sqlx::PgPool,
    clock: handover_app::Clock,
    pub js: Js,
    _driver: Child,
}

impl Browser {
    /// A new browser on `app`, or `None` (with a note) when this machine has no chromedriver
    /// and the run does not require one.
    pub async fn start(app: &TestApp, js: Js) -> Option<Browser> {
        let Some(driver) = chromedriver_path() else {
            assert!(
                std::env::var("HANDOVER_REQUIRE_BROWSER").is_err(),
                "HANDOVER_REQUIRE_BROWSER is set but chromedriver is missing \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!("note: no chromedriver here; browser test skipped (install chromium-driver)");
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("port").port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--lang=nb-NO",
            "--no-first-run",
            "--disable-extensions",
        ];
        let mut prefs = json!({});
        if js == Js::Off {
            prefs = json!({ "profile.managed_default_content_settings.javascript": 2 });
            args.push("--blink-settings=scriptEnabled=false");
        }
        let mut caps = Capabilities::new();
        let mut opts = json!({ "args": args, "prefs": prefs });
        if let Ok(bin) = std::env::var("CHROME_BIN") {
            opts["binary"] = json!(bin);
        } else if std::path::Path::new("/usr/bin/chromium").exists() {
            opts["binary"] = json!("/usr/bin/chromium");
        }
        caps.insert("goog:chromeOptions".into(), opts);
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        base: app.base.clone(),
                        pool: app.pool.clone(),
                        clock: app.clock.clone(),
                        js,
                        _driver: child,
                    });
                }
                Err(e) => last = Some(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// The path (and query) the browser is at now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        let s = url.as_str();
        s.strip_prefix(&self.base).unwrap_or(s).to_owned()
    }

    /// Types `value` into the field `#id` (after clearing it). A date field takes the date as
    /// staff write it (`24.12.2026`): its value is set as the browser would after typing it,
    /// since what typing a date means depends on the browser's own locale.
    pub async fn fill(&self, id: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        let kind = el.attr("type").await.ok().flatten();
        if kind.as_deref() == Some("time") {
            // Like a date, what typing a time means depends on the browser's locale.
            self.set_value(id, value).await;
            return;
        }
        if kind.as_deref() == Some("date") {
            let iso = match value.split('.').collect::<Vec<_>>()[..] {
                [d, m, y] => format!("{y}-{m:0>2}-{d:0>2}"),
                _ => value.to_owned(),
            };
            self.set_value(id, &iso).await;
            return;
        }
        el.clear().await.expect("clear");
        if !value.is_empty() {
            el.send_keys(value).await.expect("type");
        }
    }

    /// Sets the value of `#id` as the browser would after typing it, with its events.
    async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute(
                "const e = document.getElementById(arguments[0]); e.value = arguments[1];
                 e.dispatchEvent(new Event('input', { bubbles: true }));
                 e.dispatchEvent(new Event('change', { bubbles: true }));
                 return e.value;",
                vec![json!(id), json!(value)],
            )
            .await
            .expect("set value");
    }

    /// Shows the page as printed (CSS `@media print`), or as on screen again, through
    /// Chrome's DevTools protocol, so a screenshot shows what "print" gives.
    pub async fn emulate_print(&self, print: bool) {
        let media = if print { "print" } else { "" };
        self.client
            .issue_cmd(Cdp {
                cmd: "Emulation.setEmulatedMedia",
                params: json!({ "media": media }),
            })
            .await
            .expect("emulate print media");
    }

    /// Prints the page to PDF as Chrome's print dialog would (its own page size and margin
    /// boxes) and returns the text of each printed page, read by `pdftotext` (poppler-utils).
    pub async fn print_pages(&self) -> Vec<String> {
        use base64::Engine;
        let out = self
            .client
            .issue_cmd(Cdp {
                cmd: "Page.printToPDF",
                params: json!({ "preferCSSPageSize": true, "displayHeaderFooter": false }),
            })
            .await
            .expect("print to PDF");
        let data = out["data"].as_str().expect("PDF data");
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("PDF base64");
        let path =
            std::env::temp_dir().join(format!("handover-print-{}.pdf", uuid::Uuid::new_v4()));
        std::fs::write(&path, pdf).expect("write PDF");
        let text = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) must be installed");
        let _ = std::fs::remove_file(&path);
        assert!(text.status.success(), "pdftotext failed");
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        text.split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Clicks the first element matching `css`.
    pub async fn click_css(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Chooses the option with `value` in the select `#id`.
    pub async fn choose(&self, id: &str, value: &str) {
        let el = self.client.find(Locator::Id(id)).await.expect("select");
        el.select_by_value(value).await.expect("option");
    }

    /// Clicks the button or link whose visible text is `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!(
            "//button[normalize-space(.)={t}] | //a[normalize-space(.)={t}]",
            t = xpath_literal(text)
        );
        let el = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("nothing to click called {text:?}: {e}"));
        el.click().await.expect("click");
    }

    /// Submits the form around the field `#id` with its first submit button.
    pub async fn submit(&self, id: &str) {
        let xpath = format!(
            "//*[@id={}]/ancestor::form//button[@type='submit']",
            xpath_literal(id)
        );
        let el = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .expect("submit button");
        el.click().await.expect("submit");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    pub async fn has(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| !v.is_empty())
            .unwrap_or(false)
    }

    /// The whole visible text of the page.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    /// Signs in with the demo password and lands on the start page (or on `next`).
    pub async fn sign_in(&self, email: &str) {
        self.sign_in_with(email, crate::DEMO_PASSWORD).await;
    }

    pub async fn sign_in_with(&self, email: &str, password: &str) {
        if !self.path().await.starts_with("/sign-in") {
            self.goto("/sign-in").await;
        }
        // The e-mail address first; the password on the next page (no demo domain signs in
        // through an identity provider).
        self.fill("email", email).await;
        self.submit("email").await;
        for _ in 0..100 {
            if self.has("#password").await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.fill("password", password).await;
        self.submit("password").await;
        // An account with a second factor (every administrator) gets the code page: answered
        // once, as its authenticator app would, and then the recovery codes' page if the
        // authenticator was set up in this sign-in.
        let (mut answered, mut continued) = (false, false);
        let mut at = self.path().await;
        for _ in 0..80 {
            if !at.starts_with("/sign-in") {
                return;
            }
            // Each step once: a second click while the page loads would start it over.
            if !continued && self.has("#continue").await {
                self.click_css("#continue").await;
                continued = true;
            } else if !answered && self.has("form[action='/sign-in/code'] #code").await {
                let shown = if self.has("#totp-secret").await {
                    Some(self.text("#totp-secret").await)
                } else {
                    None
                };
                let code =
                    crate::authenticator_code(&self.pool, &self.clock, email, shown.as_deref())
                        .await;
                self.fill("code", &code).await;
                self.submit("code").await;
                answered = true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            at = self.path().await;
        }
        panic!(
            "sign-in as {email} failed: still at {at}: {}",
            self.body().await
        );
    }

    pub async fn sign_out(&self) {
        self.click_text_any(&["Logg ut", "Sign out"]).await;
        self.wait_path("/sign-in?done=signed_out").await;
    }

    pub async fn click_text_any(&self, texts: &[&str]) {
        for t in texts {
            let xpath = format!(
                "//button[normalize-space(.)={l}] | //a[normalize-space(.)={l}]",
                l = xpath_literal(t)
            );
            if let Ok(el) = self.client.find(Locator::XPath(&xpath)).await {
                el.click().await.expect("click");
                return;
            }
        }
        panic!("none of {texts:?} to click");
    }

    /// Switches the page's language with the switch in the header.
    pub async fn switch_language(&self) {
        let el = self
            .client
            .find(Locator::Css("form[action='/language'] button"))
            .await
            .expect("language switch");
        el.click().await.expect("switch");
    }

    /// The page's `lang` (read in one script call, so a page that is being replaced cannot
    /// leave a stale element behind).
    pub async fn lang(&self) -> String {
        for _ in 0..20 {
            if let Ok(v) = self
                .client
                .execute("return document.documentElement.lang", vec![])
                .await
            {
                return v.as_str().unwrap_or_default().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no lang on {}", self.path().await);
    }

    /// The WCAG 2.0 and 2.1 A and AA violations axe-core finds on the page (needs JavaScript;
    /// a browser with it off is checked through the same pages with it on).
    pub async fn violations(&self) -> Vec<Value> {
        assert_eq!(self.js, Js::On, "axe needs JavaScript");
        let loaded: Value = self
            .client
            .execute("return typeof window.axe", vec![])
            .await
            .expect("probe");
        if loaded != json!("object") {
            self.client
                .execute(&format!("{AXE}\nreturn true;"), vec![])
                .await
                .expect("inject axe");
        }
        let r = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag',
                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                       help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("axe run");
        r.as_array().cloned().unwrap_or_default()
    }

    /// Runs axe-core on the page and panics listing every violation. In a browser with
    /// JavaScript off axe cannot run; the tests that drive a task with it off run the same task
    /// with it on, where every page is checked.
    pub async fn assert_accessible(&self) {
        if self.js == Js::Off {
            return;
        }
        let violations = self.violations().await;
        let path = self.path().await;
        assert!(
            violations.is_empty(),
            "accessibility violations on {path} ({}):\n{}",
            self.lang().await,
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }

    /// Makes the page's language `lang` (`nb` or `en`) with the switch, if it is not already.
    pub async fn use_lang(&self, lang: &str) {
        if self.lang().await != lang {
            self.switch_language().await;
            self.wait_for(|| async { self.lang().await == lang }, "language switch")
                .await;
        }
    }

    /// Waits up to 5 s for `ok`.
    pub async fn wait_for<F, Fut>(&self, ok: F, what: &str)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..50 {
            if ok().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what} at {}", self.path().await);
    }

    /// Waits until the browser is at a path starting with `prefix`.
    pub async fn wait_path(&self, prefix: &str) {
        self.wait_for(|| async { self.path().await.starts_with(prefix) }, prefix)
            .await;
    }

    /// Presses keys in the element that has the focus.
    pub async fn keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("focused element")
            .send_keys(keys)
            .await
            .expect("keys");
    }

    /// The id (or, failing that, the class) of the focused element.
    pub async fn focused(&self) -> String {
        let v: Value = self
            .client
            .execute(
                "const e = document.activeElement; return e ? (e.id || e.className || e.tagName) : '';",
                vec![],
            )
            .await
            .expect("focused");
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Whether the focused element shows a focus indicator (an outline or a box shadow).
    pub async fn focus_is_visible(&self) -> bool {
        let v: Value = self
            .client
            .execute(
                "const s = getComputedStyle(document.activeElement);
                 return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                     || s.boxShadow !== 'none';",
                vec![],
            )
            .await
            .expect("focus style");
        v == json!(true)
    }

    /// Saves a screenshot as `docs/web/NAME.png` when `WRITE_SCREENSHOTS=1`: the staff guide's
    /// pictures are made by the tests, never by hand.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("WRITE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/web");
        std::fs::create_dir_all(dir).expect("docs/web");
        std::fs::write(format!("{dir}/{name}.png"), png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A string as an XPath literal (XPath 1.0 has no escapes).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A Chrome DevTools command sent through chromedriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params }).to_string();
        (http::Method::POST, Some(body))
    }
}
