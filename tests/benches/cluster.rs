//! Two nodes on one PostgreSQL while one closes a large month: what the
//! other node's calls see.
//!
//! 1. Sync-mode calls on node B, alone and while node A closes a month of
//!    `SPLEIS_BENCH_RECORDS` (default 500,000) usage records: B's p50 and
//!    p99. A close used to hold every node's usage writers until it ended;
//!    now it fixes the month's boundary first and writers go on.
//! 2. Batched-mode calls on node B while A closes the next such month,
//!    and `kill -9` of B in the middle: acknowledged calls against the usage
//!    records that reached the database. At most the last flush window
//!    (100 ms) may be lost.
//!
//! Needs `SPLEIS_TEST_DATABASE_URL` (scripts/bench starts a PostgreSQL):
//! `cargo bench -p spleis-tests --bench cluster --profile dev` (the nodes
//! are the debug binary the tests use)

use serde_json::json;
use spleis_tests::{Server, postgres_database};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let Some(url) = postgres_database() else {
        eprintln!("set SPLEIS_TEST_DATABASE_URL (scripts/bench starts a PostgreSQL)");
        std::process::exit(2);
    };
    let records: u64 = std::env::var("SPLEIS_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500_000);
    let a = Server::start_on(&url, &[]);
    let author = a.account("fixtures", "author");
    assert_eq!(a.publish(&author, "hostile").0, 201);
    let tenant = a.account("caller", "tenant");
    let (status, body) = a.request(
        "POST",
        "/v1/installs",
        &tenant,
        Some(json!({"package": "fixtures/hostile",
            "grants": ["storage", "events", "log", "metering"]})),
    );
    assert_eq!(status, 201, "{body}");
    let month = spleis_tests::month_before;
    let (older, newer) = (month(2), month(1));
    println!("loading {records} usage records into each of {older} and {newer} …");
    for period in [&older, &newer] {
        spleis_tests::bulk_usage(&url, period, records);
    }

    // 1. Sync-mode calls on B, alone and during A's close.
    let b = Arc::new(Server::start_on(&url, &["--usage-durability", "sync"]));
    let alone = calls_for(&b, &tenant, Duration::from_secs(3));
    let closing = close_in_background(&a, &older);
    let during = calls_while(&b, &tenant, &closing);
    let close_took = closing.join().expect("close thread");
    println!(
        "sync calls on node B alone:            p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  ({} calls)",
        alone.p50, alone.p99, alone.max, alone.n
    );
    println!(
        "sync calls on node B during A's close: p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  ({} calls; the close took {:.1} s)",
        during.p50,
        during.p99,
        during.max,
        during.n,
        close_took.as_secs_f64()
    );
    drop(b);

    // 2. Batched calls on B, killed with -9 during A's close.
    let b = Arc::new(Server::start_on(&url, &[]));
    let before = spleis_tests::usage_records_of(&url, "caller");
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (b, tenant, acknowledged, stop) = (
                b.clone(),
                tenant.clone(),
                acknowledged.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if b.request(
                        "POST",
                        "/v1/plugins/fixtures/hostile/echo",
                        &tenant,
                        Some(json!({})),
                    )
                    .0 == 200
                    {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let closing = close_in_background(&a, &newer);
    std::thread::sleep(Duration::from_millis(700));
    // kill -9: the Server's drop kills its process.
    let acked_at_kill = acknowledged.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    kill9(&b);
    for client in clients {
        let _ = client.join();
    }
    let acked = acknowledged.load(Ordering::Relaxed).max(acked_at_kill);
    closing.join().expect("close thread");
    let stored = spleis_tests::usage_records_of(&url, "caller") - before;
    let lost = acked.saturating_sub(stored);
    println!(
        "batched calls on node B, kill -9 during A's close: {acked} acknowledged, {stored} recorded, {lost} lost (target: at most the last 100 ms flush window)"
    );
}

fn close_in_background(a: &Server, period: &str) -> std::thread::JoinHandle<Duration> {
    let (url, token, period) = (a.url.clone(), a.operator.clone(), period.to_owned());
    std::thread::spawn(move || {
        let started = Instant::now();
        let response = ureq::post(&format!("{url}/v1/billing/close"))
            .set("Authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(600))
            .send_json(json!({"period": period}));
        match response {
            Ok(r) => assert!(r.status() < 300),
            Err(e) => panic!("the close failed: {e}"),
        }
        started.elapsed()
    })
}

struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn latency(mut times: Vec<f64>) -> Latency {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Latency {
        p50: at(0.5),
        p99: at(0.99),
        max: times.last().copied().unwrap_or(0.0),
        n: times.len(),
    }
}

fn one_call(b: &Server, tenant: &str) -> f64 {
    let started = Instant::now();
    let (status, body) = b.request(
        "POST",
        "/v1/plugins/fixtures/hostile/echo",
        tenant,
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    started.elapsed().as_secs_f64() * 1000.0
}

fn calls_for(b: &Server, tenant: &str, length: Duration) -> Latency {
    let until = Instant::now() + length;
    let mut times = Vec::new();
    while Instant::now() < until {
        times.push(one_call(b, tenant));
    }
    latency(times)
}

fn calls_while(b: &Server, tenant: &str, closing: &std::thread::JoinHandle<Duration>) -> Latency {
    let mut times = Vec::new();
    while !closing.is_finished() {
        times.push(one_call(b, tenant));
    }
    latency(times)
}

/// `kill -9` of a node.
fn kill9(node: &Arc<Server>) {
    let _ = Command::new("kill")
        .args(["-9", &node.pid().to_string()])
        .status();
}
