//! `spleis inspect`.

use anyhow::Context;
use clap::Args;
use spleis_runtime::{Runtime, RuntimeConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct InspectArgs {
    /// The component (.wasm).
    component: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let bytes = super::read_component(&args.component)?;
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 1,
        cache_dir: super::default_cache_dir(),
        ..RuntimeConfig::default()
    })?;
    let plugin = runtime
        .load(&bytes)
        .await
        .with_context(|| format!("{} was refused", args.component.display()))?;
    let shape = &plugin.shape;
    if args.json {
        let doc = serde_json::json!({
            "digest": plugin.digest.to_string(),
            "size": bytes.len(),
            "world": "spleis:plugin/plugin",
            "contract_version": shape.contract_version,
            "capabilities": shape.capabilities,
            "imports": shape.imports,
            "exports": shape.exports,
            "manifest": plugin.manifest,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("digest:       {}", plugin.digest);
    println!("size:         {} bytes", bytes.len());
    println!("world:        spleis:plugin/plugin");
    println!("contract:     {}", shape.contract_version);
    let caps: Vec<String> = shape.capabilities.iter().map(|c| c.to_string()).collect();
    println!(
        "capabilities: {}",
        if caps.is_empty() {
            "none".into()
        } else {
            caps.join(", ")
        }
    );
    println!("exports:");
    for export in &shape.exports {
        println!("  {export}");
    }
    println!("imports:");
    for import in &shape.imports {
        println!("  {import}");
    }
    match &plugin.manifest {
        Some(m) => {
            println!("manifest:     {} {}", m.name, m.version);
            if !m.description.is_empty() {
                println!("  description: {}", m.description);
            }
            println!(
                "  operations:  {}",
                m.operations.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            if !m.subscribes.is_empty() {
                println!(
                    "  subscribes:  {}",
                    m.subscribes.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            for (name, metric) in &m.metrics {
                println!(
                    "  metric:      {name} ({:?}) {}",
                    metric.aggregation, metric.description
                );
            }
        }
        None => println!("manifest:     none embedded"),
    }
    Ok(ExitCode::SUCCESS)
}
