//! A private, throwaway PostgreSQL cluster: initdb into a temporary directory, on a free port,
//! trust authentication. The fault tests restart it; the shared system cluster is never touched.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    /// Server options: port, address, socket directory. Given at every start, so the server
    /// never falls back to the default port of the system cluster.
    opts: String,
    /// Run the PostgreSQL tools as `postgres` (root may not run the server).
    as_postgres: bool,
}

/// The newest installed PostgreSQL's tools, or `FAULTS_PG_BIN`.
fn pg_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("FAULTS_PG_BIN") {
        return Ok(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no /usr/lib/postgresql: set FAULTS_PG_BIN to PostgreSQL's bin directory")?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!("no PostgreSQL server installed under /usr/lib/postgresql"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Cluster {
    pub fn start() -> anyhow::Result<Self> {
        let bin = pg_bin()?;
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("handover-faults-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        let data = dir.join("data");
        let port = free_port()?;
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=200",
            dir.display()
        );
        let c = Cluster {
            port,
            bin,
            dir,
            data,
            opts,
            as_postgres,
        };
        c.tool(
            "initdb",
            &[
                "-D",
                &c.data.to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        c.tool(
            "pg_ctl",
            &[
                "-D",
                &c.data.to_string_lossy(),
                "-l",
                &c.dir.join("postgres.log").to_string_lossy(),
                "-o",
                &c.opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        Ok(c)
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// What `pg_ctlcluster VERSION main restart` does: `pg_ctl restart -m fast` (open sessions
    /// are terminated, the server shuts down cleanly and starts again). Returns how long it took.
    pub fn restart(&self) -> anyhow::Result<Duration> {
        let t = Instant::now();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.data.to_string_lossy(),
                "-l",
                &self.log_path().to_string_lossy(),
                "-o",
                &self.opts,
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "restart",
            ],
        )?;
        Ok(t.elapsed())
    }

    /// A longer outage than a restart: `pg_ctl stop -m fast`, down for `down`, `pg_ctl start`.
    /// Returns how long the server was unreachable.
    pub fn stop_start(&self, down: Duration) -> anyhow::Result<Duration> {
        let t = Instant::now();
        let data = self.data.to_string_lossy().into_owned();
        self.tool("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])?;
        std::thread::sleep(down);
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &self.log_path().to_string_lossy(),
                "-o",
                &self.opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        Ok(t.elapsed())
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    fn tool(&self, name: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(&self.dir);
        run(&mut cmd)
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    // Always with `-l`: a server started without it would keep the output pipe open.
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
