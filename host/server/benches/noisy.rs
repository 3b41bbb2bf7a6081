//! The noisy neighbour: tenant B's latency for a fast call, alone and while
//! tenant A sends slow calls at four times its concurrency cap.
//!
//! Starts, in this process, the spleis API on SQLite with the hostile
//! fixture installed for two tenants. B calls `echo` one request at a time
//! for `SECONDS`; then the same while A runs `CAP × 4` clients in a loop,
//! each calling `loop` (computes until its fuel or deadline ends it). Prints
//! B's p50 and p99 both times, B's errors, and A's answers by status.
//! Targets: B's p99 with A at most 2× alone; B no errors; A's excess 429,
//! never 500.
//!
//! `cargo bench -p spleis-server --bench noisy`

mod common;

/// As the `spleis` binary runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use spleis_platform::limits::LimitDefaults;
use spleis_runtime::{Limits, RuntimeConfig};
use spleis_server as api;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A's concurrency cap; A sends four times as many calls at once.
const CAP: u32 = 8;
const SECONDS: u64 = 10;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let data = tempfile::tempdir().expect("tempdir");
    let (base, a, b) = runtime.block_on(async {
        let config = RuntimeConfig {
            // A slow call: a loop that computes for about a second.
            limits: Limits {
                fuel: 2_000_000_000,
                timeout: Duration::from_secs(1),
                ..Limits::default()
            },
            ..RuntimeConfig::default()
        };
        let limits = LimitDefaults {
            concurrency: CAP,
            rate_per_second: 100_000,
            burst: 100_000,
            ..LimitDefaults::for_instances(64)
        };
        let (platform, tenants) =
            common::hostile_platform(data.path(), config, limits, &["tenant-a", "tenant-b"]).await;
        let tokens: Vec<String> = tenants.into_iter().map(|(_, token)| token).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, api::router(platform)).await });
        (base, tokens[0].clone(), tokens[1].clone())
    });

    let alone = measure_b(&base, &b);
    println!(
        "B alone:          p50 {:>8.2} ms   p99 {:>8.2} ms   {} calls, {} errors",
        alone.p50, alone.p99, alone.calls, alone.errors
    );

    let stop = Arc::new(AtomicBool::new(false));
    let noisy: Vec<_> = (0..CAP * 4)
        .map(|_| {
            let (base, a, stop) = (base.clone(), a.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut statuses = BTreeMap::<u16, u64>::new();
                while !stop.load(Ordering::Relaxed) {
                    let status = post(&base, "loop", &a);
                    *statuses.entry(status).or_default() += 1;
                    if status == 429 {
                        // As a client honouring Retry-After would, but
                        // sooner: keep the pressure on.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                statuses
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let with_a = measure_b(&base, &b);
    stop.store(true, Ordering::Relaxed);
    let mut a_statuses = BTreeMap::<u16, u64>::new();
    for thread in noisy {
        for (status, n) in thread.join().expect("client thread") {
            *a_statuses.entry(status).or_default() += n;
        }
    }
    println!(
        "B with A's flood: p50 {:>8.2} ms   p99 {:>8.2} ms   {} calls, {} errors",
        with_a.p50, with_a.p99, with_a.calls, with_a.errors
    );
    println!("A's answers by status: {a_statuses:?} (422 = its loop ended by fuel or deadline)");
    let ratio = with_a.p99 / alone.p99;
    println!(
        "B's p99 with A / alone: {ratio:.2}   target ≤ 2: {}",
        verdict(ratio <= 2.0)
    );
    println!(
        "B's errors: {}   target 0: {}",
        with_a.errors,
        verdict(with_a.errors == 0)
    );
    let a_500s = a_statuses.get(&500).copied().unwrap_or(0);
    println!(
        "A's 429s: {}, A's 500s: {a_500s}   target: excess 429, never 500: {}",
        a_statuses.get(&429).copied().unwrap_or(0),
        verdict(a_500s == 0 && a_statuses.contains_key(&429))
    );
}

struct Latency {
    p50: f64,
    p99: f64,
    calls: usize,
    errors: usize,
}

/// B's echo calls, one at a time, for `SECONDS`.
fn measure_b(base: &str, token: &str) -> Latency {
    let mut times = Vec::new();
    let mut errors = 0;
    let until = Instant::now() + Duration::from_secs(SECONDS);
    while Instant::now() < until {
        let started = Instant::now();
        let status = post(base, "echo", token);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            errors += 1;
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Latency {
        p50: at(0.50),
        p99: at(0.99),
        calls: times.len(),
        errors,
    }
}

fn post(base: &str, operation: &str, token: &str) -> u16 {
    let response = ureq::post(&format!("{base}/v1/plugins/fixtures/hostile/{operation}"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_string("{}");
    match response {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(_) => 599,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
