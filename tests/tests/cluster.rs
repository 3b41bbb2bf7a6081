//! Two `spleis serve` nodes on one PostgreSQL database, driven at once:
//! starting together, the same bytes published to both, the same install
//! made on both, one Idempotency-Key sent to both. Outcomes are asserted,
//! never timing. Runs only when the suite has a PostgreSQL server
//! (`SPLEIS_TEST_DATABASE_URL`).

use serde_json::json;
use spleis_tests::{Server, plugin, postgres_database};
use std::sync::Arc;
use std::thread;

/// Rounds per race: the races failed in 3 to 7 of 10 trials before.
const ROUNDS: usize = 10;

/// Two nodes started at the same moment on `url`; both must start.
fn two_nodes(url: &str) -> (Arc<Server>, Arc<Server>) {
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let url = url.to_owned();
            thread::spawn(move || Server::start(Some(&url)))
        })
        .collect();
    let mut nodes = starts
        .into_iter()
        .map(|t| Arc::new(t.join().expect("both nodes start")));
    let a = nodes.next().expect("node a");
    let b = nodes.next().expect("node b");
    (a, b)
}

/// Runs `f(node, i)` on `n` threads, alternating the nodes; the results.
fn at_once<T: Send + 'static>(
    nodes: &[Arc<Server>; 2],
    n: usize,
    f: impl Fn(&Server, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (node, f, barrier) = (nodes[i % 2].clone(), f.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                f(&node, i)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("joins"))
        .collect()
}

/// Successful calls a node ran, from its `/metrics`.
fn ok_runs(node: &Server) -> u64 {
    let (_, _, text) = node.get_text("/metrics", "");
    text.lines()
        .find_map(|l| l.strip_prefix("spleis_calls_total{outcome=\"ok\"} "))
        .map_or(0, |n| n.parse().expect("a count"))
}

#[test]
fn two_nodes_start_together_and_agree_under_concurrency() {
    if postgres_database().is_none() {
        assert!(
            std::env::var_os("SPLEIS_REQUIRE_POSTGRES").is_none(),
            "PostgreSQL is required here"
        );
        return;
    }
    // Starting together on a fresh database, ROUNDS times.
    for round in 0..ROUNDS {
        let url = postgres_database().expect("a fresh database");
        let (a, b) = two_nodes(&url);
        for node in [&a, &b] {
            let (status, _) = node.request("GET", "/v1/packages", &node.operator, None);
            assert_eq!(status, 200, "round {round}: the bootstrap token works");
        }
    }

    let url = postgres_database().expect("a fresh database");
    let (a, b) = two_nodes(&url);
    let nodes = [a.clone(), b.clone()];
    let author = a.account("fixtures", "author");
    let tenant = a.account("tenant-a", "tenant");

    // The same bytes published to both nodes at once: one 201, the rest 200.
    let bytes = Arc::new(plugin("hostile"));
    let statuses = at_once(&nodes, 4, {
        let (author, bytes) = (author.clone(), bytes.clone());
        move |node, _| node.publish_bytes(&author, &bytes).0
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );

    // The same install on both nodes at once: one 201, the others 409.
    for round in 0..ROUNDS {
        let statuses = at_once(&nodes, 6, {
            let tenant = tenant.clone();
            move |node, _| {
                node.request(
                    "POST",
                    "/v1/installs",
                    &tenant,
                    Some(json!({"package": "fixtures/hostile", "grants": ["storage", "events", "log", "metering"]})),
                )
                .0
            }
        });
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 409),
            "{statuses:?}"
        );
        if round + 1 < ROUNDS {
            let (status, body) =
                a.request("DELETE", "/v1/installs/fixtures/hostile", &tenant, None);
            assert!(status < 300, "uninstalls: {status} {body}");
        }
    }

    // One Idempotency-Key sent to both nodes at once: the plugin runs once
    // per key, every answer is the key's one answer or 409 in progress.
    let runs_before = ok_runs(&a) + ok_runs(&b);
    for round in 0..ROUNDS {
        let key = format!("cluster-{round}");
        let answers = at_once(&nodes, 6, {
            let (tenant, key) = (tenant.clone(), key.clone());
            move |node, _| {
                node.call_with_key(&tenant, "fixtures/hostile", "echo", &json!({"n": 1}), &key)
            }
        });
        let mut usage_ids = std::collections::BTreeSet::new();
        for (status, _, body) in &answers {
            match status {
                200 => {}
                409 => assert_eq!(body["error"]["code"], "idempotency-key-in-progress"),
                other => panic!("round {round}: {other} {body}"),
            }
        }
        let (status, replayed, _) =
            b.call_with_key(&tenant, "fixtures/hostile", "echo", &json!({"n": 1}), &key);
        assert_eq!((status, replayed.as_str()), (200, "true"), "round {round}");
        let (_, records) = a.request("GET", "/v1/usage", &tenant, None);
        for record in records["records"].as_array().expect("records") {
            if record["idempotency_key"] == key.as_str() {
                usage_ids.insert(record["id"].to_string());
            }
        }
        assert_eq!(usage_ids.len(), 1, "round {round}: billed once");
    }
    assert_eq!(
        ok_runs(&a) + ok_runs(&b) - runs_before,
        ROUNDS as u64,
        "the plugin ran once per key"
    );
}
