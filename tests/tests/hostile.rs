//! The host survives whatever a plugin does: each hostile plugin ends with
//! its own outcome kind, and the same runtime then serves a normal call.

use spleis_runtime::capabilities::storage::{KeyValueStore, MemoryStore};
use spleis_runtime::{Call, Install, Limits, LoadError, OutcomeKind, Runtime, RuntimeConfig};
use std::sync::Arc;
use std::time::Duration;

async fn install(
    runtime: &Runtime,
    bytes: &[u8],
    tenant: &str,
) -> (Arc<spleis_runtime::LoadedPlugin>, Arc<Install>) {
    let plugin = runtime.load(bytes).await.expect("loads");
    let manifest = plugin.manifest.clone().expect("manifest");
    let install = Arc::new(Install {
        storage_quota_bytes: 1 << 20,
        ..Install::granting_all(tenant, &manifest)
    });
    (plugin, install)
}

/// Small limits so the suite stays quick; each hostile op breaches one.
fn limits() -> Limits {
    Limits {
        fuel: 200_000_000,
        timeout: Duration::from_secs(10),
        memory_bytes: 32 << 20,
        ..Limits::default()
    }
}

/// Runs `operation` with `body` for `install`, on empty storage, under
/// `limits` (the runtime's own when `None`).
async fn call(
    runtime: &Runtime,
    plugin: &spleis_runtime::LoadedPlugin,
    install: &Arc<Install>,
    operation: &str,
    body: &[u8],
    limits: Option<&Limits>,
) -> spleis_runtime::Invocation {
    runtime
        .invoke(
            plugin,
            install.clone(),
            Arc::new(MemoryStore::new()),
            Call::Handle {
                operation: operation.into(),
                body: body.to_vec(),
            },
            limits,
        )
        .await
        .unwrap()
}

/// Loads `bytes` (a fixture without a manifest), calls it, and checks the
/// call ended as a trap blamed on the guest; the error, for more checks.
async fn guest_trap(runtime: &Runtime, bytes: &[u8], case: &str) -> spleis_runtime::CallError {
    let plugin = runtime
        .load(bytes)
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let inv = call(
        runtime,
        &plugin,
        &bare_install("fixtures/guest"),
        "any",
        b"",
        None,
    )
    .await;
    assert_eq!(
        inv.usage.outcome.blame(),
        spleis_runtime::Blame::Guest,
        "{case}"
    );
    let error = inv.result.expect_err(case);
    assert_eq!(error.kind, OutcomeKind::Trap, "{case}: {error}");
    error
}

/// An install of a fixture that has no manifest: nothing granted.
fn bare_install(plugin: &str) -> Arc<Install> {
    Arc::new(Install {
        tenant: "t".into(),
        plugin: plugin.into(),
        grants: Default::default(),
        config: Default::default(),
        metrics: Default::default(),
        storage_quota_bytes: 0,
    })
}

#[tokio::test]
async fn every_hostile_plugin_gets_its_own_outcome_and_the_host_serves_on() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let bytes = spleis_tests::plugin("hostile");
    let (plugin, install) = install(&runtime, &bytes, "victim").await;
    let store = Arc::new(MemoryStore::new());
    let cases = [
        ("loop", OutcomeKind::OutOfFuel, "fuel"),
        (
            "memory-bomb",
            OutcomeKind::MemoryLimit,
            "over the limit of 33554432 bytes",
        ),
        ("recursion", OutcomeKind::StackOverflow, "call stack"),
        (
            "panic",
            OutcomeKind::Panic,
            "the hostile plugin panics on purpose",
        ),
        ("trap", OutcomeKind::Trap, "unreachable"),
        ("huge-output", OutcomeKind::OutputTooLarge, "16777216 bytes"),
        ("storage-flood", OutcomeKind::StorageQuota, "quota"),
        (
            "event-flood",
            OutcomeKind::EventLimit,
            "more than 100 events",
        ),
        ("log-flood", OutcomeKind::LogLimit, "65536 bytes of log"),
        ("stdout-flood", OutcomeKind::LogLimit, "65536 bytes of log"),
        // WASI 0.2 carries only failure: any non-zero code exits with 1.
        ("exit", OutcomeKind::Exit, "exited with code 1"),
        (
            "meter-flood",
            OutcomeKind::MeterLimit,
            "more than 1000 distinct keys",
        ),
    ];
    for (op, kind, words) in cases {
        let inv = runtime
            .invoke(
                &plugin,
                install.clone(),
                store.clone(),
                Call::Handle {
                    operation: op.into(),
                    body: b"{}".to_vec(),
                },
                Some(&limits()),
            )
            .await
            .unwrap();
        let error = inv.result.as_ref().expect_err(op);
        assert_eq!(error.kind, kind, "{op}: {error}");
        assert!(
            error.message.contains(words),
            "{op}: `{}` lacks `{words}`",
            error.message
        );
        assert_eq!(inv.usage.outcome, kind);
        assert_eq!(
            inv.usage.outcome.blame(),
            spleis_runtime::Blame::Guest,
            "{op}"
        );
        assert!(
            inv.usage.units.is_empty(),
            "{op}: a failed call keeps no units"
        );
        assert!(
            inv.events.is_empty(),
            "{op}: a failed call delivers no events"
        );

        // The same runtime serves a normal call right after.
        let echo = runtime
            .invoke(
                &plugin,
                install.clone(),
                store.clone(),
                Call::Handle {
                    operation: "echo".into(),
                    body: b"{\"n\":1}".to_vec(),
                },
                Some(&limits()),
            )
            .await
            .unwrap();
        assert_eq!(
            echo.result.as_deref().ok(),
            Some(&b"{\"n\":1}"[..]),
            "echo after {op}"
        );
    }
    // The storage flood wrote up to the quota and no further.
    assert!(store.used_bytes(&install.scope()).await.unwrap() <= 1 << 20);
}

/// A call never sees what an earlier call left in memory: its data, its
/// heap. (The pool resets only pages a call wrote; this holds it to that.)
#[tokio::test]
async fn every_call_starts_from_a_fresh_memory() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    for _ in 0..50 {
        let inv = call(&runtime, &plugin, &install, "remember", b"", None).await;
        let body = inv.result.expect("answers");
        assert_eq!(
            String::from_utf8_lossy(&body),
            r#"{"calls":1,"leftovers":0}"#
        );
    }
}

#[tokio::test]
async fn a_deadline_ends_an_endless_loop_with_a_timeout() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    let limits = Limits {
        fuel: u64::MAX / 2,
        timeout: Duration::from_millis(50),
        ..Limits::default()
    };
    let inv = call(&runtime, &plugin, &install, "loop", b"", Some(&limits)).await;
    assert_eq!(inv.usage.outcome, OutcomeKind::Timeout);
    // It computed: its yields and turns for a lane are not host time.
    assert!(
        inv.usage.host_time_us * 10 < inv.usage.wall_time_us,
        "{} µs in the host of {} µs",
        inv.usage.host_time_us,
        inv.usage.wall_time_us
    );
}

#[tokio::test]
async fn undeclared_metrics_are_refused_to_the_plugin() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    let inv = call(&runtime, &plugin, &install, "undeclared-metric", b"", None).await;
    let error = inv.result.unwrap_err();
    assert_eq!(error.code, "invalid-argument");
    assert!(error.message.contains("`not-declared` is not declared"));
    assert!(inv.usage.units.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_are_isolated() {
    let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).unwrap());
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    let store: Arc<MemoryStore> = Arc::new(MemoryStore::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (runtime, plugin, install, store) = (
                runtime.clone(),
                plugin.clone(),
                install.clone(),
                store.clone(),
            );
            tokio::spawn(async move {
                let op = if i % 2 == 0 { "panic" } else { "echo" };
                let inv = runtime
                    .invoke(
                        &plugin,
                        install,
                        store,
                        Call::Handle {
                            operation: op.into(),
                            body: format!("{i}").into_bytes(),
                        },
                        None,
                    )
                    .await
                    .unwrap();
                (op, inv)
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let (op, inv) = handle.await.unwrap();
        match op {
            "panic" => assert_eq!(inv.usage.outcome, OutcomeKind::Panic),
            _ => assert_eq!(inv.result.unwrap(), format!("{i}").into_bytes()),
        }
    }
}

async fn refused(bytes: &[u8]) -> LoadError {
    Runtime::new(RuntimeConfig::default())
        .unwrap()
        .load(bytes)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_foreign_import_is_refused_and_named() {
    let error = refused(&spleis_tests::plugin("foreign_import")).await;
    assert!(
        matches!(&error, LoadError::ForeignImport(name) if name == "evil:exfil/net"),
        "{error}"
    );
    assert!(error.to_string().contains("`evil:exfil/net`"));
}

#[tokio::test]
async fn non_wasm_and_core_modules_are_refused() {
    assert!(matches!(
        refused(b"#!/bin/sh\necho hi\n").await,
        LoadError::NotWasm
    ));
    assert!(matches!(refused(&[]).await, LoadError::NotWasm));
    let core = wat::parse_str("(module (func (export \"handle\")))").unwrap();
    let error = refused(&core).await;
    assert!(matches!(error, LoadError::CoreModule));
    assert!(error.to_string().contains("wasm32-wasip2"));
    let mut truncated = spleis_tests::plugin("energy_tariff");
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        refused(&truncated).await,
        LoadError::Invalid(_) | LoadError::Manifest(_)
    ));
}

#[tokio::test]
async fn a_component_of_another_world_is_refused() {
    let other = wat::parse_str(
        r#"(component
            (core module $m (func (export "run") (result i32) i32.const 0))
            (core instance $i (instantiate $m))
            (func $run (result u32) (canon lift (core func $i "run")))
            (export "run" (func $run)))"#,
    )
    .unwrap();
    let error = refused(&other).await;
    assert!(
        matches!(&error, LoadError::NotAPlugin { missing, .. } if missing == "spleis:plugin/handler"),
        "{error}"
    );
    assert!(error.to_string().contains("it exports: run"), "{error}");
}

/// A component exporting the contract's interfaces at `version`, importing
/// `imports` (empty instances: the checks run before type-checking), and
/// carrying `manifest` in the SDK's custom section.
fn shaped(version: &str, imports: &[&str], manifest: Option<&str>) -> Vec<u8> {
    let imports: String = imports
        .iter()
        .map(|i| format!("(import \"{i}\" (instance))\n"))
        .collect();
    let section = manifest.map_or(String::new(), |m| {
        format!(
            "(@custom \"spleis-manifest\" \"{}\")",
            m.replace('"', "\\\"").replace('\n', "\\n")
        )
    });
    wat::parse_str(format!(
        r#"(component
            {imports}
            (core module $m (func (export "f")) {section})
            (core instance $i (instantiate $m))
            (func $f (canon lift (core func $i "f")))
            (instance $h (export "handle" (func $f)))
            (instance $s (export "on-event" (func $f)))
            (export "spleis:plugin/handler@{version}" (instance $h))
            (export "spleis:plugin/subscriber@{version}" (instance $s)))"#
    ))
    .unwrap()
}

#[tokio::test]
async fn an_unsupported_contract_version_is_refused_naming_both() {
    let error = refused(&shaped("0.2.0", &[], None)).await;
    assert_eq!(
        error.to_string(),
        "the plugin targets contract spleis:plugin@0.2.0, but this host accepts only 0.1.0"
    );
}

#[tokio::test]
async fn network_and_unknown_interfaces_are_refused() {
    for import in [
        "wasi:sockets/tcp@0.2.6",
        "wasi:http/outgoing-handler@0.2.6",
        "spleis:plugin/admin@0.1.0",
        "wasi:cli/stdout@0.3.0",
    ] {
        let error = refused(&shaped("0.1.0", &[import], None)).await;
        assert!(
            matches!(&error, LoadError::ForeignImport(name) if name == import),
            "{import}: {error}"
        );
    }
    let error = refused(&shaped("0.1.0", &["spleis:plugin/storage@0.2.0"], None)).await;
    assert!(matches!(error, LoadError::MixedContract { .. }), "{error}");
}

#[tokio::test]
async fn an_import_the_manifest_does_not_declare_is_refused() {
    let manifest = "name = \"acme/x\"\nversion = \"1.0.0\"\noperations = [\"run\"]\ncapabilities = [\"config\"]";
    let error = refused(&shaped(
        "0.1.0",
        &["spleis:plugin/storage@0.1.0"],
        Some(manifest),
    ))
    .await;
    assert_eq!(
        error.to_string(),
        "the plugin imports the `storage` capability but its manifest does not declare it (declared: config)"
    );
}

#[tokio::test]
async fn exports_of_the_wrong_type_are_refused_at_link() {
    // Right names, wrong function types: the linker's type check says so.
    let error = refused(&shaped("0.1.0", &[], None)).await;
    assert!(matches!(error, LoadError::Link(_)), "{error}");
}

#[tokio::test]
async fn a_start_that_waits_for_ever_is_refused_within_the_trial_deadline() {
    let runtime = Runtime::new(RuntimeConfig {
        trial: Limits {
            timeout: Duration::from_millis(200),
            ..Limits::trial()
        },
        ..RuntimeConfig::default()
    })
    .unwrap();
    let error = runtime
        .load(&spleis_tests::blocking_start(u64::MAX))
        .await
        .unwrap_err();
    assert!(
        matches!(error, LoadError::StartTooSlow { limit } if limit == Duration::from_millis(200)),
        "{error}"
    );
    assert!(error.to_string().contains("did not finish within 200 ms"));
    // A start that waits a moment is admitted and then answers.
    let plugin = runtime
        .load(&spleis_tests::blocking_start(1_000))
        .await
        .unwrap();
    assert!(plugin.manifest.is_none());
}

/// Whatever the guest waits on, the call ends at its deadline with
/// `timeout`, and the time it waited in the host is recorded.
#[tokio::test]
async fn a_deadline_holds_whatever_the_guest_waits_on() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    let limits = Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    for op in ["sleep", "sleep-forever", "host-loop"] {
        let inv = call(&runtime, &plugin, &install, op, b"", Some(&limits)).await;
        assert_eq!(inv.usage.outcome, OutcomeKind::Timeout, "{op}");
        // Host time is most of the call: the guest waited, not computed.
        assert!(
            inv.usage.host_time_us * 2 > inv.usage.wall_time_us,
            "{op}: {} µs in the host of {} µs",
            inv.usage.host_time_us,
            inv.usage.wall_time_us
        );
        assert!(inv.usage.host_time_us <= inv.usage.wall_time_us, "{op}");
    }
}

/// As many waiting calls as there are instance slots, all ended by their
/// deadline: the slots come back and the next call runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_calls_give_their_slots_back() {
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig {
            max_instances: 8,
            ..RuntimeConfig::default()
        })
        .unwrap(),
    );
    let (plugin, install) = install(&runtime, &spleis_tests::plugin("hostile"), "t").await;
    let limits = Limits {
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (runtime, plugin, install, limits) = (
                runtime.clone(),
                plugin.clone(),
                install.clone(),
                limits.clone(),
            );
            tokio::spawn(async move {
                call(
                    &runtime,
                    &plugin,
                    &install,
                    "sleep-forever",
                    b"",
                    Some(&limits),
                )
                .await
            })
        })
        .collect();
    for waiting in calls {
        assert_eq!(waiting.await.unwrap().usage.outcome, OutcomeKind::Timeout);
    }
    let echo = call(&runtime, &plugin, &install, "echo", b"1", None).await;
    assert_eq!(echo.result.unwrap(), b"1");
}

/// A component whose code would take minutes to compile is refused before
/// compiling, naming the bound (here: 5,000 locals in one function).
#[tokio::test]
async fn a_component_too_large_to_compile_is_refused_before_compiling() {
    let locals = "i32 ".repeat(5000);
    let bytes =
        wat::parse_str(format!("(component (core module (func (local {locals}))))")).unwrap();
    let error = refused(&bytes).await;
    assert!(matches!(error, LoadError::OverBudget(_)), "{error}");
    assert!(error.to_string().contains("has 5000 locals"), "{error}");
}

/// Each malformed value a guest can return is its own fault: a `trap`,
/// blamed on the guest and billed, never a `host-error`; and the runtime
/// serves the next call.
#[tokio::test]
async fn malformed_answers_are_the_guests_fault() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let cases = [
        // The result pointer is out of bounds.
        ("a pointer out of bounds", "-16", ""),
        // A result discriminant of 7 (only 0 and 1 exist).
        ("a bad discriminant", "16", "\\07"),
        // err(error { code: the 2 bytes at 36, ff fe, message: "" }).
        (
            "invalid UTF-8",
            "16",
            "\\01\\00\\00\\00\\24\\00\\00\\00\\02\\00\\00\\00\\24\\00\\00\\00\\00\\00\\00\\00\\ff\\fe",
        ),
        // ok(response { body: 100 bytes at 0xffff0000 }).
        (
            "a list out of bounds",
            "16",
            "\\00\\00\\00\\00\\00\\00\\ff\\ff\\64\\00\\00\\00",
        ),
    ];
    let well = spleis_tests::plugin("hostile");
    let (echo, echo_install) = install(&runtime, &well, "t").await;
    for (case, ptr, data) in cases {
        guest_trap(&runtime, &spleis_tests::answer(ptr, data, 0), case).await;
        let next = call(&runtime, &echo, &echo_install, "echo", b"1", None).await;
        assert_eq!(next.result.unwrap(), b"1", "after {case}");
    }
}

/// A component with a 15 MiB memory image runs on the engine that maps
/// images copy-on-write, answers, and leaves the next call a fresh memory.
#[tokio::test]
async fn a_large_memory_image_is_served() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let plugin = runtime
        .load(&spleis_tests::answer("16", "", 15 << 20))
        .await
        .unwrap();
    let install = bare_install("fixtures/large");
    for _ in 0..3 {
        let inv = call(&runtime, &plugin, &install, "any", b"", None).await;
        assert_eq!(inv.result.unwrap(), b"");
        assert!(inv.usage.peak_memory_bytes >= 15 << 20);
    }
}

/// Each wrong use of an import is the guest's fault, a `trap` billed like
/// any failed call, never a `host-error`: invalid UTF-8 passed to an
/// import, a forged resource handle, an empty or out-of-bounds poll list.
#[tokio::test]
async fn wrong_calls_of_imports_are_the_guests_fault() {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let path = spleis_tests::repo_root().join("tests/fixtures/bad_imports.wat");
    let text = std::fs::read_to_string(&path).expect("the fixture is there");
    for (case, code, why) in [
        (
            "invalid UTF-8",
            "(call $log_write (i32.const 2) (i32.const 256) (i32.const 2))",
            "invalid utf-8",
        ),
        (
            "a forged handle",
            "(call $drop_pollable (i32.const 12345))",
            "unknown handle index 12345",
        ),
        (
            "an empty poll list",
            "(call $poll (i32.const 0) (i32.const 0) (i32.const 512))",
            "empty poll list",
        ),
        (
            "a poll list out of bounds",
            "(call $poll (i32.const 65000) (i32.const 100000) (i32.const 512))",
            "out of bounds",
        ),
    ] {
        let bytes = wat::parse_str(text.replace("$CASE", code)).expect("the fixture parses");
        let error = guest_trap(&runtime, &bytes, case).await;
        assert!(error.message.contains(why), "{case}: {}", error.message);
    }
}
