//! The `spleis` binary: run, inspect and serve plugins, and the client of a
//! server. Command-line parsing and dispatch; commands translate, the
//! platform decides.

mod billing;
mod client;
mod inspect;
mod notifications;
mod run;
mod serve;
mod wishlist;

/// The allocator of the server and the CLI (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// spleis: run, meter and bill sandboxed WebAssembly plugins.
#[derive(Parser)]
#[command(name = "spleis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    connection: client::Connection,
}

#[derive(Subcommand)]
enum Command {
    /// Run one call of a plugin component in the sandbox and print its
    /// output and usage.
    Run(Box<run::RunArgs>),
    /// Print a component's digest, contract version, imports, exports and
    /// manifest, after checking it as `run` would.
    Inspect(inspect::InspectArgs),
    /// Start the platform server: registry, installs, calls, usage.
    Serve(serve::ServeArgs),
    #[command(flatten)]
    Client(client::ClientCommand),
    /// Billing: close a period, plans, agreements, investments, co-funding,
    /// tenant terms, the ledger.
    #[command(subcommand)]
    Billing(billing::BillingCommand),
    /// Reports: invoices, statements, usage, investments.
    #[command(subcommand)]
    Report(billing::ReportCommand),
    /// Your notifications, newest first (`*` marks the unread).
    Notifications(notifications::NotificationsArgs),
    /// Your webhooks: register, list, remove, read the delivery log.
    #[command(subcommand)]
    Webhook(notifications::WebhookCommand),
    /// The wishlist: post, vote, comment; assess, fund and deliver requests.
    #[command(subcommand)]
    Request(wishlist::RequestCommand),
}

/// Exit codes: 0 success, 1 the call failed (plugin error or a limit),
/// 2 the input was refused (bad arguments, a component the host will not run).
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPLEIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => sandbox(run::run(*args)),
        Command::Inspect(args) => sandbox(inspect::inspect(args)),
        Command::Serve(args) => serve::serve(args),
        Command::Client(command) => client::run(command, cli.connection),
        Command::Billing(command) => billing::billing(command, cli.connection),
        Command::Report(command) => billing::report(command, cli.connection),
        Command::Notifications(args) => notifications::notifications(args, cli.connection),
        Command::Webhook(command) => notifications::webhook(command, cli.connection),
        Command::Request(command) => wishlist::request(command, cli.connection),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs a sandbox command (`run`, `inspect`): calls are futures, driven
/// here by a single-threaded runtime with timers for their deadlines.
fn sandbox(command: impl Future<Output = anyhow::Result<ExitCode>>) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(command)
}

/// The default cache directory for compiled components.
fn default_cache_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(std::path::PathBuf::from(dir).join("spleis"));
    }
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache").join("spleis"))
}

/// Reads a component file with an error that names it.
fn read_component(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}
