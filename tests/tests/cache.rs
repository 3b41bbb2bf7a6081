//! Compile once per digest; a new process loads from the disk cache.
//! Asserted through the runtime's own counters, never through timing.

use spleis_runtime::CacheStats;
use spleis_runtime::{Runtime, RuntimeConfig};
use std::sync::Arc;

fn runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn a_digest_compiles_once_and_a_new_runtime_loads_it_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = spleis_tests::plugin("energy_tariff");

    let first = runtime(dir.path());
    let a = first.load(&bytes).await.unwrap();
    let b = first.load(&bytes).await.unwrap();
    assert!(
        Arc::ptr_eq(&a, &b),
        "the second load returns the same InstancePre"
    );
    assert_eq!(
        first.cache_stats(),
        CacheStats {
            compiled: 1,
            disk_loads: 0,
            memory_hits: 1
        }
    );
    drop(first);

    let second = runtime(dir.path());
    second.load(&bytes).await.unwrap();
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            compiled: 0,
            disk_loads: 1,
            memory_hits: 0
        }
    );
}

#[tokio::test]
async fn a_corrupt_artifact_is_recompiled_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = spleis_tests::plugin("vat_invoice");
    runtime(dir.path()).load(&bytes).await.unwrap();
    let artifacts: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1);
    std::fs::write(&artifacts[0], b"garbage").unwrap();

    let again = runtime(dir.path());
    again.load(&bytes).await.unwrap();
    assert_eq!(again.cache_stats().compiled, 1);
    assert_eq!(again.cache_stats().disk_loads, 0);
    // And the artifact was rewritten, so a third start loads it.
    let third = runtime(dir.path());
    third.load(&bytes).await.unwrap();
    assert_eq!(third.cache_stats().disk_loads, 1);
}

#[tokio::test]
async fn a_refused_component_leaves_nothing_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path());
    assert!(
        rt.load(&spleis_tests::plugin("foreign_import"))
            .await
            .is_err()
    );
    assert!(
        walk(dir.path())
            .iter()
            .all(|p| p.extension().is_none_or(|e| e != "cwasm"))
    );
}

#[tokio::test]
async fn a_new_spleis_process_loads_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let wasm = spleis_tests::plugin_path("hostile");
    let wasm = wasm.to_str().unwrap();
    let args = [
        wasm,
        "--op",
        "echo",
        "--input",
        "{\"a\":1}",
        "--cache-dir",
        cache,
    ];
    let (code, first) = spleis_tests::spleis_run_json(&args);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["load"]["source"], "compiled");
    let (code, second) = spleis_tests::spleis_run_json(&args);
    assert_eq!(code, 0, "{second}");
    assert_eq!(second["load"]["source"], "disk-cache");
    assert_eq!(second["output"], serde_json::json!({"a": 1}));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
