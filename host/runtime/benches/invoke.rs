//! The cost of a call, and of loading a component.
//!
//! Both sides are async calls driven by the same single-threaded tokio
//! runtime, as the server drives them.
//!
//! `calls/bare-wasmtime`: a new `Store`, instantiate from an `InstancePre`,
//! call `handle` of the hostile fixture's trivial `echo` operation: nothing
//! but what wasmtime needs (the same engine, so fuel and the epoch deadline
//! are set to their maximum because the engine requires them; unknown
//! imports are traps).
//!
//! `calls/spleis-invoke`: the same call through `Runtime::invoke`: limits,
//! resource limiter, WASI context with captured stdio, capabilities,
//! classification and the usage record.
//!
//! After criterion's report it prints both medians and their ratio, and the
//! targets: ratio at most 1.15, spleis at most 30 µs.
//!
//! `load/compile/<plugin>` is a cold load (cranelift compile, checks, disk
//! cache write); `load/disk-cache/<plugin>` a load in a new process, from
//! the disk cache.

use criterion::{BenchmarkId, Criterion};
use spleis_runtime::bindings::Request;
use spleis_runtime::bindings::latest::PluginPre;
use spleis_runtime::capabilities::storage::MemoryStore;
use spleis_runtime::{Call, Install, Runtime, RuntimeConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::Store;
use wasmtime::component::{Component, Linker};

fn criterion_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("criterion")
}

fn bench_calls(c: &mut Criterion) {
    let rt = executor();
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let bytes = spleis_tests::plugin("hostile");
    let plugin = rt.block_on(runtime.load(&bytes)).expect("loads");
    let manifest = plugin.manifest.clone().expect("manifest");
    let install = Arc::new(Install::granting_all("bench", &manifest));
    let storage = Arc::new(MemoryStore::new());

    let engine = runtime.engine().clone();
    let component = Component::new(&engine, &bytes).expect("compiles");
    let mut linker = Linker::<()>::new(&engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("traps");
    let pre = PluginPre::new(linker.instantiate_pre(&component).expect("pre")).expect("plugin pre");
    let request = Request {
        operation: "echo".into(),
        body: b"{}".to_vec(),
        tenant: "bench".into(),
    };

    let mut group = c.benchmark_group("calls");
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("bare-wasmtime", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut store = Store::new(&engine, ());
                store.set_fuel(u64::MAX / 2).expect("fuel");
                store.set_epoch_deadline(u64::MAX / 2);
                let instance = pre
                    .instantiate_async(&mut store)
                    .await
                    .expect("instantiates");
                let response = instance
                    .spleis_plugin_handler()
                    .call_handle(&mut store, &request)
                    .await
                    .expect("runs")
                    .expect("answers");
                assert_eq!(response.body, b"{}");
            })
        })
    });
    group.bench_function("spleis-invoke", |b| {
        b.iter(|| {
            rt.block_on(async {
                let invocation = runtime
                    .invoke(
                        &plugin,
                        install.clone(),
                        storage.clone(),
                        Call::Handle {
                            operation: "echo".into(),
                            body: b"{}".to_vec(),
                        },
                        None,
                    )
                    .await
                    .expect("runs");
                assert_eq!(invocation.result.as_deref().ok(), Some(&b"{}"[..]));
                invocation.usage
            })
        })
    });
    group.finish();

    // A component with a 15 MiB memory image: mapped copy-on-write (the
    // default for large images) and copied at each call (as small ones are).
    let large = spleis_tests::answer("16", "", 15 << 20);
    let mut group = c.benchmark_group("large-image");
    group.measurement_time(Duration::from_secs(8));
    for (name, threshold) in [("cow", 1 << 20), ("copied", u64::MAX)] {
        let runtime = Runtime::new(RuntimeConfig {
            large_image_bytes: threshold,
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        let plugin = rt.block_on(runtime.load(&large)).expect("loads");
        let install = Arc::new(Install {
            tenant: "bench".into(),
            plugin: "fixtures/large".into(),
            grants: Default::default(),
            config: Default::default(),
            metrics: Default::default(),
            storage_quota_bytes: 0,
        });
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let invocation = runtime
                        .invoke(
                            &plugin,
                            install.clone(),
                            storage.clone(),
                            Call::Handle {
                                operation: "any".into(),
                                body: Vec::new(),
                            },
                            None,
                        )
                        .await
                        .expect("runs");
                    assert_eq!(invocation.result.as_deref().ok(), Some(&b""[..]));
                })
            })
        });
    }
    group.finish();
}

fn bench_loads(c: &mut Criterion) {
    let rt = executor();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for name in ["energy_tariff", "membership_dues", "vat_invoice"] {
        let bytes = spleis_tests::plugin(name);
        let digest = spleis_registry::Digest::of(&bytes);
        let cache = tempfile::tempdir().expect("tempdir");
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        group.bench_function(BenchmarkId::new("compile", name), |b| {
            b.iter(|| {
                runtime.evict(&digest);
                clear(cache.path());
                rt.block_on(runtime.load(&bytes)).expect("loads")
            })
        });
        group.bench_function(BenchmarkId::new("disk-cache", name), |b| {
            b.iter(|| {
                runtime.evict(&digest);
                rt.block_on(runtime.load(&bytes)).expect("loads")
            })
        });
    }
    group.finish();
}

/// The executor both sides of a comparison run on.
fn executor() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Removes every cached artifact under `dir`.
fn clear(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("cache dir").flatten() {
        if entry.path().is_dir() {
            clear(&entry.path());
        } else {
            std::fs::remove_file(entry.path()).expect("removes");
        }
    }
}

fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc["median"]["point_estimate"].as_f64()
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    bench_calls(&mut c);
    bench_loads(&mut c);
    c.final_summary();
    for id in ["cow", "copied"] {
        if let Some(ns) = median_ns("large-image", id) {
            println!("15 MiB image, {id:<6} (median): {:>8.2} µs", ns / 1000.0);
        }
    }
    if let (Some(bare), Some(spleis)) = (
        median_ns("calls", "bare-wasmtime"),
        median_ns("calls", "spleis-invoke"),
    ) {
        let ratio = spleis / bare;
        println!();
        println!("bare wasmtime call (median):  {:>8.2} µs", bare / 1000.0);
        println!(
            "spleis invoke (median):       {:>8.2} µs   target ≤ 30 µs: {}",
            spleis / 1000.0,
            verdict(spleis <= 30_000.0)
        );
        println!(
            "ratio spleis / bare:          {ratio:>8.3}      target ≤ 1.15: {}",
            verdict(ratio <= 1.15)
        );
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
