//! `spleis serve`: the platform server.

use anyhow::Context;
use clap::Args;
use spleis_platform::Platform;
use spleis_platform::limits::LimitDefaults;
use spleis_platform::maintenance::{Bootstrap, Database, PlatformConfig};
use spleis_platform::usage::Durability;
use spleis_platform::webhooks::WebhookConfig;
use spleis_platform::webhooks::schedule::Schedule;
use spleis_runtime::RuntimeConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    usage_durability: DurabilityArg,
    /// Days an uninstalled plugin's storage is kept before it is purged
    /// (unless the tenant purges it at uninstall).
    #[arg(long, default_value_t = 30)]
    retention_days: u32,
    /// How often a request's funding past its deadline is lapsed (its
    /// pledgers told), milliseconds.
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    funding_check_ms: u64,
    /// Runs the platform's clock this many milliseconds from the wall
    /// clock (negative: in the past), for tests and demos that live
    /// through months in minutes. Never on a platform that bills.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, hide = true)]
    clock_offset_ms: i64,
    /// Calls that may run at once on this node (instance slots), all
    /// tenants together (at most 1,000: the async fiber stacks wasmtime
    /// keeps per engine).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(2..=1000))]
    max_instances: u32,
    /// Calls of one tenant running at once, unless the operator sets
    /// another for the tenant (default: a quarter of --max-instances).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    tenant_concurrency: Option<u32>,
    /// Calls per second one tenant may make, sustained.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    tenant_rate: u32,
    /// Calls one tenant may make at once above its rate.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    tenant_burst: u32,
    /// Bytes of storage each install may keep.
    #[arg(long, default_value_t = 10 << 20, value_parser = clap::value_parser!(u64).range(0..=1 << 40))]
    storage_quota_bytes: u64,
    /// Event deliveries one call or platform event may cause, at every depth.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    fan_out: u32,
    /// Milliseconds a call over its tenant's concurrency waits for a slot
    /// before it is refused with 429.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    queue_wait_ms: u64,
    /// Live (neither revoked nor expired) API tokens one account may hold;
    /// the next is refused with 409 until one is revoked or expires.
    #[arg(long, default_value_t = spleis_platform::accounts::DEFAULT_TOKENS_PER_ACCOUNT, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    tokens_per_account: u32,
    /// Let webhooks point at private, loopback, link-local and other
    /// non-public addresses, over plain http:// too. Off by default, so no
    /// account can make the server call into its own network; for tests
    /// and closed networks.
    #[arg(long)]
    webhook_allow_private: bool,
    /// Testing knob: multiplies every webhook retry delay and the one-day
    /// retry window (1 in production: retries after 30 s, 2 min, 10 min,
    /// 30 min, 1 h, 3 h, then every 6 h, for a day; 0.001 makes that
    /// 30 ms … 86 s).
    #[arg(long, default_value_t = 1.0, value_parser = retry_scale)]
    webhook_retry_scale: f64,
}

/// `--webhook-retry-scale`: a factor in (0, 1].
fn retry_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if scale > 0.0 && scale <= 1.0 {
        Ok(scale)
    } else {
        Err(format!("{scale} is out of range: above 0, at most 1"))
    }
}

/// `--usage-durability`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum DurabilityArg {
    /// Queued and written within the flush window.
    Batched,
    /// Written before the response is sent.
    Sync,
}

impl From<DurabilityArg> for Durability {
    fn from(arg: DurabilityArg) -> Self {
        match arg {
            DurabilityArg::Batched => Durability::Batched,
            DurabilityArg::Sync => Durability::Sync,
        }
    }
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
    if args.clock_offset_ms != 0 {
        tracing::warn!(
            offset_ms = args.clock_offset_ms,
            "the platform's clock runs off the wall clock (a test or demo clock)"
        );
        spleis_platform::maintenance::set_clock_offset_ms(args.clock_offset_ms);
    }
    let database = match &args.database_url {
        Some(url) => Database::Url(url.clone()),
        None => Database::DataDir(args.data_dir.clone()),
    };
    let platform = Platform::open(PlatformConfig {
        database,
        runtime: RuntimeConfig {
            cache_dir: Some(args.data_dir.join("cache")),
            max_instances: args.max_instances,
            ..RuntimeConfig::default()
        },
        durability: args.usage_durability.into(),
        limits: LimitDefaults {
            concurrency: args
                .tenant_concurrency
                .unwrap_or(LimitDefaults::for_instances(args.max_instances).concurrency),
            rate_per_second: args.tenant_rate,
            burst: args.tenant_burst,
            storage_quota_bytes: args.storage_quota_bytes,
            fan_out: args.fan_out,
            queue_wait: Duration::from_millis(args.queue_wait_ms),
        },
        webhooks: WebhookConfig {
            allow_private: args.webhook_allow_private,
            schedule: Schedule {
                scale: args.webhook_retry_scale,
            },
            ..WebhookConfig::default()
        },
        tokens_per_account: args.tokens_per_account,
    })
    .await?;
    let from_env = std::env::var(BOOTSTRAP_TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty());
    match platform.bootstrap_operator(from_env.as_deref()).await? {
        Bootstrap::Created { token: None } => {
            println!("operator account created; its token is the one in {BOOTSTRAP_TOKEN_ENV}")
        }
        Bootstrap::Created { token: Some(token) } => {
            println!("operator account created; its token (shown once): {token}")
        }
        Bootstrap::Existing => {}
    }
    platform.spawn_funding_lapses(Duration::from_millis(args.funding_check_ms));
    platform.spawn_retention_purge(Duration::from_secs(
        u64::from(args.retention_days) * 24 * 60 * 60,
    ));
    platform.spawn_webhook_worker();
    if args.webhook_allow_private {
        println!(
            "  webhooks may reach private addresses and plain http:// (--webhook-allow-private)"
        );
    }
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
    spleis_server::serve(listener, platform.clone(), shutdown_signal())
        .await
        .context("the server failed")?;
    // Requests are drained; write every queued usage record before exiting.
    platform.drain().await;
    println!("spleis stopped; usage records flushed");
    Ok(())
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
