//! The real `handover` binary as a child process, configured by `HANDOVER_*` variables.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The debug binary `cargo build -p handover-server` makes, or `FAULTS_HANDOVER_BIN`.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("FAULTS_HANDOVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug").join("handover");
    if !bin.exists() {
        bail!(
            "{} is missing: run `cargo build -p handover-server` first",
            bin.display()
        );
    }
    Ok(bin)
}

/// How to start one instance.
#[derive(Clone)]
pub struct Spec {
    pub name: String,
    pub database_url: String,
    pub smtp_port: u16,
    /// Load the demo data first (`serve --demo`).
    pub demo: bool,
    /// Shared by instances that must accept each other's tokens.
    pub jwt_key: String,
    pub env: Vec<(String, String)>,
}

impl Spec {
    pub fn new(name: &str, database_url: String, smtp_port: u16, jwt_key: &str) -> Self {
        Spec {
            name: name.into(),
            database_url,
            smtp_port,
            demo: true,
            jwt_key: jwt_key.into(),
            env: Vec::new(),
        }
    }

    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.env.push((key.into(), value.to_string()));
        self
    }
}

pub struct Service {
    pub base: String,
    pub pid: u32,
    child: Child,
}

impl Service {
    pub async fn start(spec: &Spec, work_dir: &std::path::Path) -> anyhow::Result<Service> {
        let bin = binary()?;
        let data_dir = work_dir.join(format!("data-{}", spec.name));
        std::fs::create_dir_all(&data_dir)?;
        let log = work_dir.join(format!("{}.log", spec.name));
        let log_file = std::fs::File::create(&log)?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve");
        if spec.demo {
            cmd.arg("--demo");
        }
        // Variables of the caller's environment must not reconfigure the instance.
        for (k, _) in std::env::vars() {
            if k.starts_with("HANDOVER_") || k == "DATABASE_URL" || k == "LISTEN_ADDR" {
                cmd.env_remove(k);
            }
        }
        cmd.env("HANDOVER_MODE", "development")
            .env("HANDOVER_DATABASE_URL", &spec.database_url)
            .env("HANDOVER_LISTEN_ADDR", "127.0.0.1:0")
            .env("HANDOVER_JWT_KEY", &spec.jwt_key)
            .env("HANDOVER_DATA_DIR", &data_dir)
            .env("HANDOVER_SMTP_HOST", "127.0.0.1")
            .env("HANDOVER_SMTP_PORT", spec.smtp_port.to_string())
            .env("HANDOVER_SMTP_SECURITY", "none")
            .env("HANDOVER_SMTP_TIMEOUT_SECS", "3")
            .env("HANDOVER_MAIL_POLL_MS", "100")
            .env("HANDOVER_MAIL_RETRY_BASE_SECS", "1")
            .env("HANDOVER_MAIL_RETRY_MAX_SECS", "8")
            .env("HANDOVER_MAIL_MAX_ATTEMPTS", "40")
            .env("RUST_LOG", "info,sqlx=warn,tower_http=warn");
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("no pid")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        let base = loop {
            let line = tokio::time::timeout(Duration::from_secs(180), lines.next_line()).await;
            match line {
                Ok(Ok(Some(l))) => {
                    if let Some(rest) = l.strip_prefix("Handover service listening on ") {
                        break rest.trim().to_owned();
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    let status = child.wait().await.ok();
                    bail!(
                        "{} exited before it was ready ({status:?}); see {}",
                        spec.name,
                        log.display()
                    )
                }
                Err(_) => bail!(
                    "{} not ready after {:?}; see {}",
                    spec.name,
                    started.elapsed(),
                    log.display()
                ),
            }
        };
        // Keep reading so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Service { base, pid, child })
    }

    /// Sends SIGTERM, as an orchestrator stopping the instance does.
    pub fn sigterm(&self) -> anyhow::Result<()> {
        let st = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()?;
        if !st.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        Ok(())
    }

    /// Waits for the process to exit; `None` when it still runs after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(r) => Ok(Some(r?)),
            Err(_) => Ok(None),
        }
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}
