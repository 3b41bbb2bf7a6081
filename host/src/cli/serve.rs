//! `spleis serve`: the platform server.

use anyhow::Context;
use clap::Args;
use spleis_host::api;
use spleis_host::platform::Platform;
use spleis_host::platform::usage::{Durability, UsagePipeline};
use spleis_host::store::Store;
use spleis_host::store::accounts::{Role, token_hash};
use spleis_host::{Runtime, RuntimeConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The environment variable that may carry the bootstrap operator token.
const BOOTSTRAP_TOKEN_ENV: &str = "SPLEIS_BOOTSTRAP_TOKEN";

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Where the embedded SQLite database and the compile cache live.
    #[arg(long, default_value = "./spleis-data")]
    data_dir: PathBuf,
    /// Use this database instead of SQLite in the data directory
    /// (postgres://user@host/db).
    #[arg(long, env = "SPLEIS_DATABASE_URL")]
    database_url: Option<String>,
    /// When a call's usage record is durable: `batched` (within 100 ms,
    /// off the request path) or `sync` (before the response).
    #[arg(long, value_enum, default_value = "batched")]
    usage_durability: Durability,
    /// Days an uninstalled plugin's storage is kept before it is purged
    /// (unless the tenant purges it at uninstall).
    #[arg(long, default_value_t = 30)]
    retention_days: u32,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let store = match &args.database_url {
        Some(url) => Store::connect(url).await?,
        None => Store::open_data_dir(&args.data_dir).await?,
    };
    bootstrap_operator(&store).await?;
    let sandbox = Arc::new(Runtime::new(RuntimeConfig {
        cache_dir: Some(args.data_dir.join("cache")),
        ..RuntimeConfig::default()
    })?);
    let platform = Arc::new(Platform {
        store: store.clone(),
        runtime: sandbox,
        usage: UsagePipeline::start(store, args.usage_durability),
        metrics: Default::default(),
        caches: Default::default(),
    });
    tokio::spawn(purge_expired(platform.clone(), args.retention_days));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    println!("spleis is listening on http://{address}");
    println!("  health:   http://{address}/healthz");
    println!(
        "  database: {}",
        args.database_url.as_deref().map_or_else(
            || args.data_dir.join("spleis.db").display().to_string(),
            redact
        )
    );
    axum::serve(listener, api::router(platform.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
    // Requests are drained; write every queued usage record before exiting.
    platform.usage.flush().await;
    println!("spleis stopped; usage records flushed");
    Ok(())
}

/// The first start creates the operator and prints its token (or takes it
/// from SPLEIS_BOOTSTRAP_TOKEN, which is also accepted on later starts).
async fn bootstrap_operator(store: &Store) -> anyhow::Result<()> {
    let from_env = std::env::var(BOOTSTRAP_TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty());
    if !store.has_operator().await? {
        store
            .create_account("operator", Role::Operator, "Operator")
            .await?;
        match &from_env {
            Some(token) => {
                store
                    .insert_token_hash("operator", "bootstrap", &token_hash(token))
                    .await?;
                println!("operator account created; its token is the one in {BOOTSTRAP_TOKEN_ENV}");
            }
            None => {
                let token = store.issue_token("operator", "bootstrap").await?;
                println!("operator account created; its token (shown once): {token}");
            }
        }
    } else if let Some(token) = &from_env {
        store
            .insert_token_hash("operator", "bootstrap", &token_hash(token))
            .await?;
    }
    Ok(())
}

/// Deletes, hourly, the storage of installs uninstalled longer ago than the
/// retention period.
async fn purge_expired(platform: Arc<Platform>, retention_days: u32) {
    let retention_ms = i64::from(retention_days) * 24 * 60 * 60 * 1000;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let cutoff = spleis_host::store::now_ms() - retention_ms;
        match platform.store.purge_expired(cutoff).await {
            Ok(purged) if !purged.is_empty() => tracing::info!(
                count = purged.len(),
                "purged the storage of uninstalled plugins"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot purge expired storage"),
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining requests and usage records");
}
