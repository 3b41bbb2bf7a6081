//! `spleis run`: one call of a component in the sandbox, from a file.

use anyhow::{Context, bail};
use clap::Args;
use spleis_registry::Capability;
use spleis_runtime::capabilities::log::LogLine;
use spleis_runtime::capabilities::storage::{MemoryStore, SnapshotEntry};
use spleis_runtime::{Call, Install, Invocation, Limits, LoadedPlugin, Runtime, RuntimeConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct RunArgs {
    /// The component (.wasm).
    component: PathBuf,
    /// The operation to call.
    #[arg(long, conflicts_with = "event", required_unless_present = "event")]
    op: Option<String>,
    /// Deliver an event of this topic instead of calling an operation.
    #[arg(long)]
    event: Option<String>,
    /// The request body or event payload: JSON text, or @FILE to read it.
    #[arg(long, default_value = "{}")]
    input: String,
    /// The tenant the call runs for.
    #[arg(long, default_value = "local")]
    tenant: String,
    /// Fuel (instruction budget).
    #[arg(long)]
    fuel: Option<u64>,
    /// Wall-clock deadline in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Linear memory limit in MiB.
    #[arg(long)]
    memory_mb: Option<u64>,
    /// A setting of the install, KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Grant only these capabilities (repeatable); default: what the
    /// manifest declares.
    #[arg(long = "grant", value_name = "CAPABILITY")]
    grants: Vec<String>,
    /// Keep the plugin's storage in this JSON file between runs.
    #[arg(long)]
    storage_file: Option<PathBuf>,
    /// Where compiled components are cached (default: ~/.cache/spleis).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile without the disk cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Print one JSON document (output, error, usage, log, events, load).
    #[arg(long)]
    json: bool,
}

fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    let text = match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
        }
        None => input.to_owned(),
    };
    serde_json::from_str::<serde_json::Value>(&text).context("--input is not valid JSON")?;
    Ok(text.into_bytes())
}

/// Linear memory a wasm32 instance can address: 4 GiB.
const MAX_MEMORY_MB: u64 = 4096;

fn limits(args: &RunArgs) -> anyhow::Result<Limits> {
    let mut limits = Limits::default();
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    if let Some(ms) = args.timeout_ms {
        limits.timeout = Duration::from_millis(ms);
    }
    if let Some(mb) = args.memory_mb {
        if !(1..=MAX_MEMORY_MB).contains(&mb) {
            bail!(
                "--memory-mb must be between 1 and {MAX_MEMORY_MB} (a wasm32 instance addresses at most 4 GiB), not {mb}"
            );
        }
        limits.memory_bytes = mb << 20;
    }
    Ok(limits)
}

fn load_store(path: &Option<PathBuf>) -> anyhow::Result<MemoryStore> {
    match path {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let entries: Vec<SnapshotEntry> = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a storage file", path.display()))?;
            MemoryStore::from_snapshot(entries)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        _ => Ok(MemoryStore::new()),
    }
}

fn save_store(path: &Option<PathBuf>, store: &MemoryStore) -> anyhow::Result<()> {
    if let Some(path) = path {
        let snapshot = store.snapshot().map_err(|e| anyhow::anyhow!("{e}"))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&snapshot)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A body shown as JSON when it is JSON, else as text.
fn body_value(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let bytes = super::read_component(&args.component)?;
    let input = read_input(&args.input)?;
    let limits = limits(&args)?;
    let runtime = runtime(&args, &limits)?;
    let (plugin, load) = load(&runtime, &bytes, &args.component).await?;
    let install = Arc::new(install(&args, &plugin)?);
    let store = Arc::new(load_store(&args.storage_file)?);
    let call = call(&args, input)?;
    let invocation = runtime
        .invoke(&plugin, install, store.clone(), call, Some(&limits))
        .await?;
    save_store(&args.storage_file, &store)?;
    if args.json {
        print_json(&invocation, &plugin, &load)?;
    } else {
        print_text(&invocation, &plugin, &load)?;
    }
    Ok(if invocation.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A sandbox for one call: two instances, the disk cache unless refused,
/// room for the call's memory limit.
fn runtime(args: &RunArgs, limits: &Limits) -> anyhow::Result<Runtime> {
    let mut config = RuntimeConfig {
        max_instances: 2,
        cache_dir: if args.no_cache {
            None
        } else {
            args.cache_dir.clone().or_else(super::default_cache_dir)
        },
        ..RuntimeConfig::default()
    };
    config.max_memory_bytes = config.max_memory_bytes.max(limits.memory_bytes);
    config.limits = limits.clone();
    Ok(Runtime::new(config)?)
}

/// How the component was loaded, for the usage line.
struct Load {
    /// `compiled` or `disk-cache`.
    source: &'static str,
    /// Milliseconds it took.
    ms: f64,
}

/// Loads (checks, compiles or reads from the cache) the component.
async fn load(
    runtime: &Runtime,
    bytes: &[u8],
    path: &std::path::Path,
) -> anyhow::Result<(Arc<LoadedPlugin>, Load)> {
    let started = Instant::now();
    let plugin = runtime
        .load(bytes)
        .await
        .with_context(|| format!("{} was refused", path.display()))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let source = if runtime.cache_stats().disk_loads > 0 {
        "disk-cache"
    } else {
        "compiled"
    };
    Ok((plugin, Load { source, ms }))
}

/// The install the call runs as: the grants asked for (default: what the
/// manifest declares, else what the component imports) and the settings.
fn install(args: &RunArgs, plugin: &LoadedPlugin) -> anyhow::Result<Install> {
    let grants: BTreeSet<Capability> = if args.grants.is_empty() {
        plugin
            .manifest
            .as_ref()
            .map(|m| m.capabilities.clone())
            .unwrap_or_else(|| plugin.shape.capabilities.clone())
    } else {
        args.grants
            .iter()
            .map(|g| g.parse())
            .collect::<Result<_, _>>()?
    };
    let mut settings = BTreeMap::new();
    for pair in &args.config {
        let Some((k, v)) = pair.split_once('=') else {
            bail!("--config `{pair}` is not KEY=VALUE");
        };
        settings.insert(k.to_owned(), v.to_owned());
    }
    let manifest = plugin.manifest.as_ref();
    Ok(Install {
        tenant: args.tenant.clone(),
        plugin: manifest.map_or_else(
            || format!("local/{}", plugin.digest.hex()),
            |m| m.name.clone(),
        ),
        grants,
        config: settings,
        metrics: manifest.map(|m| m.metrics.clone()).unwrap_or_default(),
        storage_quota_bytes: Install::DEFAULT_STORAGE_QUOTA,
    })
}

/// An operation call (`--op`) or an event delivery (`--event`).
fn call(args: &RunArgs, input: Vec<u8>) -> anyhow::Result<Call> {
    Ok(match (&args.op, &args.event) {
        (Some(op), _) => Call::Handle {
            operation: op.clone(),
            body: input,
        },
        (None, Some(topic)) => Call::Event {
            id: format!("cli-{}", std::process::id()),
            topic: topic.clone(),
            payload: input,
        },
        (None, None) => bail!("give --op or --event"),
    })
}

/// `--json`: one document with the output, error, usage, log, events and load.
fn print_json(invocation: &Invocation, plugin: &LoadedPlugin, load: &Load) -> anyhow::Result<()> {
    let doc = serde_json::json!({
        "output": invocation.result.as_ref().ok().map(|b| body_value(b)),
        "error": invocation.result.as_ref().err(),
        "usage": invocation.usage,
        "log": invocation.log,
        "events": invocation.events.iter().map(|e| serde_json::json!({
            "topic": e.topic, "payload": body_value(&e.payload)
        })).collect::<Vec<_>>(),
        "load": { "source": load.source, "ms": load.ms, "digest": plugin.digest.to_string() },
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

/// Text: the output on stdout; the log, error, events and usage on stderr.
fn print_text(invocation: &Invocation, plugin: &LoadedPlugin, load: &Load) -> anyhow::Result<()> {
    print_log(&invocation.log);
    match &invocation.result {
        // An event handler answers nothing; the usage line says it went well.
        Ok(body) if body.is_empty() => {}
        Ok(body) => println!("{}", serde_json::to_string_pretty(&body_value(body))?),
        Err(error) => eprintln!("error: {} ({}): {}", error.kind, error.code, error.message),
    }
    for event in &invocation.events {
        eprintln!(
            "event: {} {}",
            event.topic,
            String::from_utf8_lossy(&event.payload)
        );
    }
    let usage = &invocation.usage;
    let units: Vec<String> = usage
        .units
        .iter()
        .map(|u| match &u.key {
            Some(key) => format!("{}[{key}]={}", u.metric, u.quantity),
            None => format!("{}={}", u.metric, u.quantity),
        })
        .collect();
    eprintln!(
        "usage: op={} outcome={} fuel={} wall={:.3}ms peak_memory={}KiB units={} ({} {} in {:.1}ms)",
        usage.operation,
        usage.outcome,
        usage.fuel_consumed,
        usage.wall_time_us as f64 / 1000.0,
        usage.peak_memory_bytes / 1024,
        if units.is_empty() {
            "none".into()
        } else {
            units.join(",")
        },
        plugin.digest,
        load.source,
        load.ms,
    );
    Ok(())
}

fn print_log(lines: &[LogLine]) {
    for line in lines {
        eprintln!("log[{:?}/{:?}]: {}", line.source, line.level, line.message);
    }
}
