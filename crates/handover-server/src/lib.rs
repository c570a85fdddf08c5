//! Start-up, serving and operator commands of the handover service.

pub mod admin;
pub mod demo;
pub mod demo_handovers;
pub mod demo_participants;
pub mod settings;
pub mod workers;

use anyhow::Context;
use handover_api::AppState;
use handover_api::password::Hasher;
use settings::Settings;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

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
    handover_db::guidance::load_catalogue(&pool)
        .await
        .context("loading the catalogue failed")?;
    Ok(pool)
}

pub fn app_state(settings: &Settings, pool: handover_db::PgPool) -> anyhow::Result<AppState> {
    let config = settings.api_config()?;
    let hasher = Hasher::new(config.max_concurrent_hashes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(AppState {
        pool,
        config: Arc::new(config),
        keys: Arc::new(settings.token_keys()?),
        hasher,
    })
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most the grace
/// period, stops the background workers and lets the mail worker release its claims.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
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
    let app = handover_api::router(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let deadline = async move {
        if rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = server.into_future() => r.context("server failed")?,
        () = deadline => tracing::warn!("shutdown deadline passed; dropping remaining connections"),
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        settings::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        settings::LogFormat::Text => builder.try_init(),
    };
}
