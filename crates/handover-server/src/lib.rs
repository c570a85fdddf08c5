//! Start-up, serving and operator commands of the handover service.

pub mod admin;
pub mod catalogue_check;
pub mod demo;
pub mod demo_handovers;
pub mod demo_participants;
pub mod metrics;
pub mod settings;
pub mod workers;

use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use handover_api::AppState;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use settings::Settings;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::OwnedSemaphorePermit;

/// Creates the database if missing, applies migrations and loads reference data.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<handover_db::PgPool> {
    handover_db::create_database_if_missing(&settings.database_url)
        .await
        .context("cannot reach PostgreSQL to create the database")?;
    let pool = handover_db::connect(&settings.database_url, &settings.pool_settings())
        .await
        .context("cannot connect to the database")?;
    handover_db::migrate(&pool)
        .await
        .context("migrations failed")?;
    handover_db::reference::load_municipalities(&pool)
        .await
        .context("loading municipalities failed")?;
    let catalogue = handover_db::guidance::load_catalogue(&pool)
        .await
        .context("loading the catalogue failed")?;
    if catalogue.added + catalogue.updated > 0 {
        tracing::info!(
            added = catalogue.added,
            updated = catalogue.updated,
            "shipped catalogue offerings loaded"
        );
    }
    Ok(pool)
}

pub fn app_state(settings: &Settings, pool: handover_db::PgPool) -> anyhow::Result<AppState> {
    app_state_with_clock(settings, pool, handover_app::Clock::system())
}

/// The state with a given clock: tests hold one they can move forward instead of sleeping.
pub fn app_state_with_clock(
    settings: &Settings,
    pool: handover_db::PgPool,
    clock: handover_app::Clock,
) -> anyhow::Result<AppState> {
    let config = settings.api_config()?;
    let app = handover_app::App::new(pool, config, clock).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(AppState {
        app,
        keys: Arc::new(settings.token_keys()?),
        draining: Arc::default(),
    })
}

/// The whole HTTP application: the JSON API and the web application, over one [`AppState`].
pub fn router(state: &AppState) -> axum::Router {
    let web = handover_web::router(handover_web::WebState::new(state.app.clone()));
    handover_api::router(state.clone(), web)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most the grace
/// period, stops the background workers and lets the mail worker release its claims.
///
/// Connections are served by hyper directly rather than `axum::serve`, which sets no timer and
/// so no header read timeout: a client sending its headers slowly (slowloris) or idling on a
/// keep-alive connection would hold a connection forever. Here every connection has a header
/// read timeout (also the idle keep-alive limit), bounded header size and count, and the number
/// of open connections is capped.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
    let drain_period = Duration::from_secs(settings.shutdown_drain_secs);
    let draining = state.draining.clone();
    let mailer = handover_mail::Mailer::new(&settings.mail_config()?)
        .map_err(|e| anyhow::anyhow!("mail: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let pool = state.pool.clone();
    let workers = vec![
        tokio::spawn(workers::MailWorker::from_settings(settings).run(
            pool.clone(),
            mailer,
            stop_rx.clone(),
        )),
        tokio::spawn(workers::retention(
            pool.clone(),
            settings.retention_days,
            Duration::from_secs(settings.retention_interval_secs.max(1)),
            stop_rx.clone(),
        )),
        tokio::spawn(workers::reminders(
            state.clone(),
            Duration::from_secs(settings.reminder_before_secs),
            Duration::from_secs(settings.reminder_interval_secs.max(1)),
            stop_rx.clone(),
        )),
        tokio::spawn(workers::housekeeping(pool.clone(), stop_rx)),
    ];
    let app = router(&state);
    let http = http1_builder(settings);
    // Clamped: `Semaphore::new` panics above MAX_PERMITS.
    let limit = Arc::new(tokio::sync::Semaphore::new(
        settings
            .max_connections
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
    ));
    let stall_limit = Duration::from_secs(settings.request_timeout_secs.max(1));
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut drain_end: Option<tokio::time::Instant> = None;
    loop {
        let (stream, peer, permit) = tokio::select! {
            biased;
            () = &mut shutdown, if drain_end.is_none() => {
                if drain_period.is_zero() {
                    break;
                }
                // Not ready any more, but still serving: a load balancer has time to notice, and
                // each keep-alive connection is closed right after its next answer, so no client
                // sends a request into a connection the server is closing.
                draining.store(true, Ordering::Relaxed);
                tracing::info!(?drain_period, "draining before shutdown");
                drain_end = Some(tokio::time::Instant::now() + drain_period);
                continue;
            }
            () = sleep_until(drain_end) => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = accept(&listener, &limit) => match r {
                Some(a) => a,
                None => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let draining = draining.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let answer = tower::ServiceExt::oneshot(router.clone(), req.map(axum::body::Body::new));
            let draining = draining.clone();
            async move {
                let mut res = answer.await?;
                if draining.load(Ordering::Relaxed) {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(res)
            }
        });
        let stream = WriteStallLimit {
            io: stream,
            limit: stall_limit,
            stalled: None,
        };
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut close = close_rx.clone();
        conns.spawn(async move {
            let _permit = permit;
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = close.changed() => {
                    // Finishes the request in flight, if any, then closes.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = close_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::warn!("shutdown deadline passed; dropping remaining connections");
        conns.abort_all();
    }
    let _ = stop_tx.send(true);
    for w in workers {
        if tokio::time::timeout(Duration::from_secs(5), w)
            .await
            .is_err()
        {
            tracing::warn!("a background worker did not stop in time");
        }
    }
    Ok(())
}

/// Resolves at `t`, never without one.
async fn sleep_until(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// HTTP/1.1 connection settings: the header read timeout needs hyper's timer to take effect.
fn http1_builder(settings: &Settings) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(
            settings.header_read_timeout_secs.max(1),
        ))
        .keep_alive(true)
        .max_headers(settings.max_headers)
        .max_header_size(settings.max_header_bytes);
    b
}

/// A connection whose writes must make progress within `limit`: a client that pipelines
/// requests and stops reading the answers would otherwise hold its connection slot for ever
/// (hyper has no write timeout), and enough of them would stall the accept loop at the cap.
struct WriteStallLimit {
    io: tokio::net::TcpStream,
    limit: Duration,
    /// Started when a write first waits; cleared by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteStallLimit {
    fn progress<T>(&mut self, cx: &mut TaskCx<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )));
        }
        Poll::Pending
    }
}

impl AsyncRead for WriteStallLimit {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteStallLimit {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.progress(cx, r)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.progress(cx, r)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_flush(cx);
        this.progress(cx, r)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_shutdown(cx);
        this.progress(cx, r)
    }
}

/// Waits for a free connection slot, then for a connection. `None` on an accept error (e.g. out
/// of file descriptors), after a short pause so the loop does not spin.
async fn accept(
    listener: &TcpListener,
    limit: &Arc<tokio::sync::Semaphore>,
) -> Option<(tokio::net::TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let permit = limit.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, permit)),
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

pub fn init_tracing(format: settings::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour codes only on a terminal: a log file or a collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        settings::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        settings::LogFormat::Text => builder.try_init(),
    };
}
