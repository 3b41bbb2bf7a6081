//! HTTP call throughput on loopback, against its ceiling.
//!
//! Starts, in this process, (1) the spleis API on SQLite with the hostile
//! fixture published and installed, and (2) a bare axum server whose one
//! route answers `{}` without doing anything: the ceiling for this machine,
//! runtime and load generator. Then `wrk` (Debian's package) drives
//! `POST /v1/plugins/fixtures/hostile/echo` and the no-op route with the same
//! settings, one after the other, and the bench prints both rates and their
//! ratio. Target: spleis at least 40% of the ceiling.
//!
//! With `SPLEIS_BENCH_WASMTIME` (a `wasmtime` 48.0.8 binary) and
//! `SPLEIS_BENCH_PEER` (the `bench/peer-proxy` component), it also drives
//! the peer: `wasmtime serve -Scli --max-instance-reuse-count 1` (one fresh
//! instance per request, like spleis) serving a wasi:http handler that
//! answers `{}`. Target: spleis at least 3× the peer.
//!
//! `cargo bench -p spleis-server --bench http` (installs nothing: run
//! `scripts/bench http`, which installs wrk and wasmtime-cli and builds the
//! peer).

mod common;

/// As the `spleis` binary runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::Router;
use axum::routing::post;
use spleis_platform::CallRequest;
use spleis_platform::limits::LimitDefaults;
use spleis_runtime::RuntimeConfig;
use spleis_server as api;
use std::process::Command;

const CONNECTIONS: &str = "32";
const THREADS: &str = "2";
const SECONDS: &str = "8";

fn wrk(url: &str, token: &str, script: &std::path::Path) -> f64 {
    let out = Command::new("wrk")
        .args([
            "-t",
            THREADS,
            "-c",
            CONNECTIONS,
            "-d",
            &format!("{SECONDS}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .args(["-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(!text.contains("Non-2xx"), "some requests failed:\n{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("wrk printed Requests/sec")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let data = tempfile::tempdir().expect("tempdir");
    let (spleis_url, token, ceiling_url) = runtime.block_on(async {
        // The bench measures throughput, not the shares: one tenant may use
        // the whole node.
        let limits = LimitDefaults {
            concurrency: 60,
            rate_per_second: 1_000_000,
            burst: 1_000_000,
            ..LimitDefaults::for_instances(64)
        };
        let (platform, mut tenants) =
            common::hostile_platform(data.path(), RuntimeConfig::default(), limits, &["bench"])
                .await;
        let (tenant, token) = tenants.remove(0);

        // Without HTTP: the platform's own cost of a call, for comparison.
        let n = 20_000;
        let started = std::time::Instant::now();
        for _ in 0..n {
            platform
                .call(
                    &tenant,
                    CallRequest::new("fixtures/hostile", "echo", b"{}".to_vec()),
                )
                .await
                .expect("calls");
        }
        println!(
            "Platform::call, one at a time, no HTTP: {:.1} µs per call",
            started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );

        let spleis = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let spleis_url = format!(
            "http://{}/v1/plugins/fixtures/hostile/echo",
            spleis.local_addr().expect("addr")
        );
        tokio::spawn(async move { axum::serve(spleis, api::router(platform)).await });

        let noop = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let ceiling_url = format!("http://{}/noop", noop.local_addr().expect("addr"));
        let app = Router::new().route("/noop", post(|| async { "{}" }));
        tokio::spawn(async move { axum::serve(noop, app).await });
        (spleis_url, token, ceiling_url)
    });

    let script = data.path().join("post.lua");
    std::fs::write(&script, "wrk.method = \"POST\"\nwrk.body = \"{}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n").expect("script");
    // `SPLEIS_BENCH_CEILING=skip` measures spleis alone (for profiling).
    let ceiling = if std::env::var("SPLEIS_BENCH_CEILING").as_deref() == Ok("skip") {
        f64::NAN
    } else {
        println!("== ceiling: axum no-op handler, {ceiling_url}");
        wrk(&ceiling_url, &token, &script)
    };
    println!("== spleis: trivial plugin call, {spleis_url}");
    let spleis = wrk(&spleis_url, &token, &script);
    let peer = peer(&token, &script);
    let ratio = spleis / ceiling;
    println!("ceiling (axum no-op):       {ceiling:>10.0} requests/s");
    println!("spleis (echo plugin call):  {spleis:>10.0} requests/s");
    println!(
        "ratio:                      {:>10.1}%   target ≥ 40%: {}",
        ratio * 100.0,
        if ratio >= 0.4 { "met" } else { "MISSED" }
    );
    if let Some(peer) = peer {
        println!("peer (wasmtime serve):      {peer:>10.0} requests/s");
        println!(
            "spleis / peer:              {:>10.2}×   target ≥ 3×: {}",
            spleis / peer,
            if spleis >= 3.0 * peer {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

/// The peer's rate: `wasmtime serve` of the peer component, when both are
/// given, driven like spleis.
fn peer(token: &str, script: &std::path::Path) -> Option<f64> {
    let wasmtime = std::env::var_os("SPLEIS_BENCH_WASMTIME")?;
    let component = std::env::var_os("SPLEIS_BENCH_PEER")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut serve = Command::new(wasmtime)
        .args([
            "serve",
            "-Scli",
            "--max-instance-reuse-count",
            "1",
            "--addr",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg(component)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("wasmtime serve starts");
    let url = format!("http://127.0.0.1:{port}/");
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "wasmtime serve did not listen on {url}");
    println!("== peer: wasmtime serve, one instance per request, {url}");
    let rate = wrk(&url, token, script);
    let _ = serve.kill();
    let _ = serve.wait();
    Some(rate)
}
