use anyhow::Context;
use clap::{Parser, Subcommand};
use handover_server::settings::{Mode, Settings, generate_key_spec};
use std::path::PathBuf;
use std::time::Duration;

// Argon2 needs 19 MiB per hash; glibc keeps such blocks in per-thread arenas after use, and a
// login burst grew the process by 200 MiB. mimalloc returns large blocks to the system.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Handover service between Norway's integration reception centres and settlement municipalities.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file; environment variables override it.
    #[arg(long, global = true, env = "HANDOVER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (creates the database and applies migrations first).
    Serve {
        /// Load demo organisations and users and print their logins (development mode only).
        #[arg(long)]
        demo: bool,
    },
    /// Apply migrations and load reference data, then exit.
    Migrate,
    /// Load the demo data into the database and exit (development mode only).
    SeedDemo,
    /// Create an administrator of the operator organisation; prints a one-time password-setup link.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// The qualification-pathway catalogue's facts and their sources.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print a new signing key for HANDOVER_JWT_KEY (KID:BASE64SECRET).
    GenerateKey,
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// List the facts of the offerings in use whose newest source was checked too long ago,
    /// and those no source supports (exits 0; the list is for the administrators to work on).
    StaleFacts {
        /// A fact is due when its newest check is older than this.
        #[arg(long, default_value_t = handover_domain::guidance::RECHECK_AFTER_DAYS)]
        older_than_days: i64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Openapi => {
            print!("{}", handover_api::openapi_json());
            Ok(())
        }
        Command::GenerateKey => {
            println!("{}", generate_key_spec());
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load(cli.config.as_deref())?;
            handover_server::init_tracing(settings.log_format);
            handover_server::prepare_database(&settings).await?;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::SeedDemo => {
            let settings = Settings::load(cli.config.as_deref())?;
            handover_server::init_tracing(settings.log_format);
            if settings.mode == Mode::Production {
                anyhow::bail!("demo data is never loaded in production mode");
            }
            let pool = handover_server::prepare_database(&settings).await?;
            let state = handover_server::app_state(&settings, pool)?;
            let logins = handover_server::demo::load(&state).await?;
            println!("Demo data loaded ({} demo logins).", logins.len());
            Ok(())
        }
        Command::CreateAdmin { email, name } => {
            let settings = Settings::load(cli.config.as_deref())?;
            handover_server::init_tracing(settings.log_format);
            let pool = handover_server::prepare_database(&settings).await?;
            let link = handover_server::admin::create_admin(
                &pool,
                &email,
                &name,
                &settings.public_url(),
                Duration::from_secs(settings.password_setup_ttl_secs),
            )
            .await?;
            println!("Administrator {email} created. Password-setup link (valid once):\n{link}");
            Ok(())
        }
        Command::Catalogue {
            command: CatalogueCommand::StaleFacts { older_than_days },
        } => {
            let settings = Settings::load(cli.config.as_deref())?;
            handover_server::init_tracing(settings.log_format);
            let pool = handover_server::prepare_database(&settings).await?;
            let today = time::OffsetDateTime::now_utc().date();
            let r = handover_server::catalogue_check::stale_facts(&pool, today, older_than_days)
                .await?;
            print!("{}", r.render(older_than_days));
            Ok(())
        }
        Command::Serve { demo } => serve(Settings::load(cli.config.as_deref())?, demo).await,
    }
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    handover_server::init_tracing(settings.log_format);
    if demo && settings.mode == Mode::Production {
        anyhow::bail!("demo data is never loaded in production mode");
    }
    let started = std::time::Instant::now();
    let pool = handover_server::prepare_database(&settings).await?;
    let state = handover_server::app_state(&settings, pool.clone())?;
    let logins = if demo {
        Some(handover_server::demo::load(&state).await?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(&settings.listen_addr)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, elapsed_ms = started.elapsed().as_millis() as u64, "ready");
    println!("Handover service listening on http://{addr}");
    println!("Web application:  http://{addr}/   (sign in with a demo login below)");
    println!(
        "API:              http://{addr}/api/v1   docs: http://{addr}/docs   (OpenAPI: http://{addr}/api-docs/openapi.json)"
    );
    if let Some(logins) = logins {
        println!(
            "\nDemo logins (password for all: {}):",
            handover_server::demo::DEMO_PASSWORD
        );
        for l in logins {
            println!(
                "  {:<40} {:<19} {}",
                l.email,
                l.role.as_str(),
                l.organisation
            );
        }
        println!(
            "\nAdministrators (role admin) must have two-step sign-in: their first sign-in shows a QR code\nfor an authenticator app (Microsoft or Google Authenticator, or any TOTP app) and asks for its code."
        );
        println!(
            "\nTry:\n  curl -s http://{addr}/api/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"email\":\"ansatt.mottak-kristiansand@demo.no\",\"password\":\"{}\"}}'",
            handover_server::demo::DEMO_PASSWORD
        );
    }
    if let Some(metrics_addr) = &settings.metrics_addr {
        let metrics = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {metrics_addr}"))?;
        let at = metrics.local_addr()?;
        println!("Metrics:          http://{at}/metrics");
        tracing::info!(%at, "metrics");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) =
                handover_server::metrics::serve(metrics, state, handover_server::shutdown_signal())
                    .await
            {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    handover_server::serve(
        listener,
        state,
        &settings,
        handover_server::shutdown_signal(),
    )
    .await?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
