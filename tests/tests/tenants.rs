//! One tenant cannot slow down, stop or impersonate another, on the real
//! server: a tenant over its share gets 429 with `Retry-After` while
//! another's calls succeed; guests that wait for ever and components whose
//! start blocks hold no slot past their deadline; limits are the operator's;
//! tokens can be listed, created, expired and revoked, and an account holds
//! a bounded number of them.

use serde_json::json;
use spleis_tests::Server;
use std::sync::Arc;

/// An author publishes the hostile fixture and `tenants` install it.
fn hostile_for(server: &Server, tenants: &[&str]) -> Vec<String> {
    let author = server.account("fixtures", "author");
    let (status, body) = server.publish(&author, "hostile");
    assert_eq!(status, 201, "{body}");
    tenants
        .iter()
        .map(|id| {
            let token = server.account(id, "tenant");
            let (status, body) = server.request(
                "POST",
                "/v1/installs",
                &token,
                Some(json!({"package": "fixtures/hostile",
                    "grants": ["storage", "events", "log", "metering"]})),
            );
            assert_eq!(status, 201, "{body}");
            token
        })
        .collect()
}

fn echo(server: &Server, token: &str) -> u16 {
    server
        .request(
            "POST",
            "/v1/plugins/fixtures/hostile/echo",
            token,
            Some(json!({"n": 1})),
        )
        .0
}

/// An answer as `request_with_headers` gives it: status, body, Retry-After.
type Answer = (u16, serde_json::Value, Option<String>);

/// A call of `token` that sleeps to its deadline (5 s), on its own thread.
fn sleeping_call(server: &Arc<Server>, token: &str) -> std::thread::JoinHandle<Answer> {
    let (server, token) = (server.clone(), token.to_owned());
    std::thread::spawn(move || {
        server.request_with_headers(
            "POST",
            "/v1/plugins/fixtures/hostile/sleep",
            &token,
            Some(json!({})),
        )
    })
}

/// The answers of `calls`, sorted by status, and their statuses.
fn answers_of(calls: Vec<std::thread::JoinHandle<Answer>>) -> (Vec<Answer>, Vec<u16>) {
    let mut answers: Vec<Answer> = calls.into_iter().map(|t| t.join().unwrap()).collect();
    answers.sort_by_key(|a| a.0);
    let statuses = answers.iter().map(|a| a.0).collect();
    (answers, statuses)
}

#[test]
fn a_tenant_over_its_share_gets_429_and_another_tenant_is_served() {
    let server = Arc::new(Server::start_with(&[
        "--tenant-concurrency",
        "2",
        "--queue-wait-ms",
        "50",
    ]));
    let tokens = hostile_for(&server, &["tenant-a", "tenant-b"]);
    let (a, b) = (tokens[0].clone(), tokens[1].clone());

    // A sends 8 calls that sleep past their deadline, 4 times its cap.
    let slow: Vec<_> = (0..8).map(|_| sleeping_call(&server, &a)).collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Meanwhile B's calls succeed.
    for _ in 0..10 {
        assert_eq!(echo(&server, &b), 200);
    }
    let (answers, statuses) = answers_of(slow);
    // Two ran to their deadline (422, outcome `timeout`); six were refused.
    assert_eq!(
        statuses,
        [422, 422, 429, 429, 429, 429, 429, 429],
        "{answers:?}"
    );
    assert_eq!(answers[0].1["error"]["kind"], "timeout");
    let (_, refused, retry_after) = &answers[7];
    assert_eq!(refused["error"]["code"], "concurrency-limited");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may run 2 at a time")
    );

    // Each sees its own limits and use; /metrics shows the throttling.
    let (status, limits) = server.request("GET", "/v1/limits", &a, None);
    assert_eq!(status, 200, "{limits}");
    assert_eq!(limits["limits"]["concurrency"], 2);
    assert_eq!(limits["current"]["throttled_concurrency"], 6);
    // By tenant for the operator; anyone else sees the node's totals and
    // no tenant's name.
    let (_, _, metrics) = server.get_text("/metrics", &server.operator);
    assert!(
        metrics.contains(
            "spleis_tenant_throttled_total{tenant=\"tenant-a\",reason=\"concurrency\"} 6"
        ),
        "{metrics}"
    );
    for token in ["", b.as_str(), "spl_not_a_token"] {
        let (status, _, metrics) = server.get_text("/metrics", token);
        assert_eq!(status, 200);
        assert!(
            metrics.contains("spleis_throttled_total{reason=\"concurrency\"} 6"),
            "{metrics}"
        );
        assert!(!metrics.contains("tenant-a"), "{metrics}");
    }
}

#[test]
fn a_tenant_over_its_rate_gets_429_at_once_and_another_tenant_is_served() {
    let server = Server::start_with(&["--tenant-rate", "1", "--tenant-burst", "2"]);
    let tokens = hostile_for(&server, &["tenant-a", "tenant-b"]);
    let call = |token: &str| {
        server.request_with_headers(
            "POST",
            "/v1/plugins/fixtures/hostile/echo",
            token,
            Some(json!({})),
        )
    };
    // A burst of two, then refused until the bucket has a call again (one
    // a second: a slow machine may see a third succeed, never many).
    assert_eq!(call(&tokens[0]).0, 200);
    assert_eq!(call(&tokens[0]).0, 200);
    let (status, body, retry_after) = (0..20)
        .map(|_| call(&tokens[0]))
        .find(|answer| answer.0 != 200)
        .expect("refused within 20 calls");
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate-limited", "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Another tenant has its own bucket.
    assert_eq!(call(&tokens[1]).0, 200);
    let (status, limits) = server.request("GET", "/v1/limits", &tokens[0], None);
    assert_eq!(status, 200, "{limits}");
    assert!(
        limits["current"]["throttled_rate"].as_u64() >= Some(1),
        "{limits}"
    );
}

#[test]
fn busy_tenants_cannot_take_every_slot_of_the_pool() {
    // 12 instances: 4 for trials, 8 for calls, of which 2 are the reserve
    // that only a tenant running fewer than two calls may take. Caps far
    // above the pool: only the pool's fairness protects tenant-b.
    let server = Arc::new(Server::start_with(&[
        "--max-instances",
        "12",
        "--tenant-concurrency",
        "100",
        "--queue-wait-ms",
        "50",
    ]));
    let tokens = hostile_for(&server, &["tenant-a", "tenant-c", "tenant-b"]);
    let mut slow = Vec::new();
    // tenant-a, then tenant-c, send four calls each that sleep to their
    // deadline (5 s).
    for busy in &tokens[..2] {
        for _ in 0..4 {
            slow.push(sleeping_call(&server, busy));
        }
    }
    // Two of the eight find the six shared slots taken and are refused
    // (after the 50 ms queue wait); the other six sleep on.
    while slow.iter().filter(|t| t.is_finished()).count() < 2 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The six shared slots are theirs; tenant-b is served from the reserve.
    assert_eq!(echo(&server, &tokens[2]), 200);
    let (answers, statuses) = answers_of(slow);
    // Six ran to their deadline; two found the pool full. Each busy tenant
    // ran at least two (its first calls found shared slots free).
    assert_eq!(
        statuses,
        [422, 422, 422, 422, 422, 422, 503, 503],
        "{answers:?}"
    );
    assert_eq!(answers[7].1["error"]["code"], "at-capacity");
    assert_eq!(answers[7].2.as_deref(), Some("1"));
}

#[test]
fn limits_are_the_operators() {
    let server = Server::start_with(&["--storage-quota-bytes", "1048576"]);
    let a = server.account("tenant-a", "tenant");
    // A tenant cannot set its own limits, nor read another's.
    let (status, _) = server.request(
        "PUT",
        "/v1/tenants/tenant-a/limits",
        &a,
        Some(json!({"storage_quota_bytes": 1_000_000_000})),
    );
    assert_eq!(status, 403);
    let (status, _) = server.request("GET", "/v1/tenants/tenant-b/limits", &a, None);
    assert_eq!(status, 403);
    // Nor install with more storage than its limit.
    let author = server.account("fixtures", "author");
    assert_eq!(server.publish(&author, "hostile").0, 201);
    let (status, body) = server.request(
        "POST",
        "/v1/installs",
        &a,
        Some(json!({"package": "fixtures/hostile",
            "grants": ["storage", "events", "log", "metering"],
            "storage_quota_bytes": 18446744073709551615u64})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1048576, this tenant's storage limit"),
        "{body}"
    );
    // The operator can raise it, within range; out of range is refused.
    let (status, body) = server.request(
        "PUT",
        "/v1/tenants/tenant-a/limits",
        &server.operator,
        Some(json!({"storage_quota_bytes": 18446744073709551615u64})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.request(
        "PUT",
        "/v1/tenants/tenant-a/limits",
        &server.operator,
        Some(json!({"storage_quota_bytes": 4_194_304, "concurrency": 3})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["limits"]["storage_quota_bytes"], 4_194_304);
    assert_eq!(body["limits"]["concurrency"], 3);
    assert_eq!(body["overrides"]["burst"], serde_json::Value::Null);
    let (status, body) = server.request("GET", "/v1/limits", &a, None);
    assert_eq!((status, &body["limits"]["concurrency"]), (200, &json!(3)));
    // An install without a quota of its own shows the limit it follows,
    // as the operator changes it.
    let (status, body) = server.request(
        "POST",
        "/v1/installs",
        &a,
        Some(json!({"package": "fixtures/hostile", "grants": ["storage", "events", "log", "metering"]})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["storage_quota"], 4_194_304, "{body}");
    let (status, body) = server.request(
        "PUT",
        "/v1/tenants/tenant-a/limits",
        &server.operator,
        Some(json!({"storage_quota_bytes": 2_097_152})),
    );
    assert_eq!(status, 200, "{body}");
    let (_, installs) = server.request("GET", "/v1/installs", &a, None);
    assert_eq!(
        installs["installs"][0]["storage_quota"], 2_097_152,
        "{installs}"
    );
    // An unknown tenant is named as such.
    let (status, _) = server.request("GET", "/v1/tenants/nobody/limits", &server.operator, None);
    assert_eq!(status, 404);
}

#[test]
fn blocking_calls_and_blocking_publishes_do_not_stop_other_tenants() {
    let server = Arc::new(Server::start(None));
    let tokens = hostile_for(&server, &["noisy", "quiet"]);
    let (noisy, quiet) = (tokens[0].clone(), tokens[1].clone());
    let author = server.account("mallory", "author");
    // 64 calls that wait for ever, and 64 publishes of components whose
    // start waits for ever, all at once.
    let mut threads = Vec::new();
    for _ in 0..64 {
        let (server, noisy) = (server.clone(), noisy.clone());
        threads.push(std::thread::spawn(move || {
            server
                .request(
                    "POST",
                    "/v1/plugins/fixtures/hostile/sleep-forever",
                    &noisy,
                    Some(json!({})),
                )
                .0
        }));
    }
    for i in 0..64 {
        let (server, author) = (server.clone(), author.clone());
        threads.push(std::thread::spawn(move || {
            let (status, body) =
                server.publish_bytes(&author, &spleis_tests::blocking_start(u64::MAX - i));
            if status == 422 {
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("did not finish within"),
                    "{body}"
                );
            }
            status
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The quiet tenant is served meanwhile.
    for _ in 0..10 {
        assert_eq!(echo(&server, &quiet), 200);
    }
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    // Calls: each ran to its deadline (422 timeout) or was refused (429);
    // publishes: each refused (422) — never a 500.
    assert!(
        statuses.iter().all(|s| *s == 422 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(statuses[64..].iter().filter(|s| **s == 422).count(), 64);
    // And after all that, still.
    assert_eq!(echo(&server, &quiet), 200);
    assert_eq!(echo(&server, &noisy), 200);
}

#[test]
fn tokens_are_named_listed_without_secrets_expired_and_revoked() {
    let server = Server::start(None);
    let first = server.account("tenant-a", "tenant");
    let other = server.account("tenant-b", "tenant");
    let (status, created) = server.request(
        "POST",
        "/v1/tokens",
        &first,
        Some(json!({"label": "ci deploys"})),
    );
    assert_eq!(status, 201, "{created}");
    let second = created["token"].as_str().unwrap().to_owned();
    let id = created["info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(server.request("GET", "/v1/whoami", &second, None).0, 200);

    // Listed without secrets, newest first.
    let (_, listed) = server.request("GET", "/v1/tokens", &first, None);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    assert_eq!(tokens[0]["label"], "ci deploys");
    assert!(!listed.to_string().contains(&second));
    assert!(!listed.to_string().contains(&first));

    // Another tenant cannot see or revoke them.
    let (status, _) = server.request("GET", "/v1/tokens?account=tenant-a", &other, None);
    assert_eq!(status, 403);
    let (status, _) = server.request("DELETE", &format!("/v1/tokens/{id}"), &other, None);
    assert_eq!(status, 404);

    // Revoked: refused at once.
    let (status, _) = server.request("DELETE", &format!("/v1/tokens/{id}"), &first, None);
    assert_eq!(status, 204);
    assert_eq!(server.request("GET", "/v1/whoami", &second, None).0, 401);
    assert_eq!(server.request("GET", "/v1/whoami", &first, None).0, 200);

    // The operator revokes any account's token.
    let (_, theirs) = server.request("GET", "/v1/tokens?account=tenant-b", &server.operator, None);
    let their_id = theirs["tokens"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = server.request(
        "DELETE",
        &format!("/v1/tokens/{their_id}?account=tenant-b"),
        &server.operator,
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(server.request("GET", "/v1/whoami", &other, None).0, 401);

    // Expiry: in the past is refused; a token that expires is refused after.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (status, body) = server.request(
        "POST",
        "/v1/tokens",
        &first,
        Some(json!({"label": "old", "expires_at_ms": now - 1})),
    );
    assert_eq!(status, 400, "{body}");
    let (_, short) = server.request(
        "POST",
        "/v1/tokens",
        &first,
        Some(json!({"label": "short", "expires_at_ms": now + 1500})),
    );
    let short = short["token"].as_str().unwrap().to_owned();
    assert_eq!(server.request("GET", "/v1/whoami", &short, None).0, 200);
    // A token that expires cannot make one that outlives it.
    let (status, body) = server.request(
        "POST",
        "/v1/tokens",
        &short,
        Some(json!({"label": "forever"})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must expire by then")
    );
    // Past its expiry and the auth cache's 2 s.
    std::thread::sleep(std::time::Duration::from_millis(3600));
    assert_eq!(server.request("GET", "/v1/whoami", &short, None).0, 401);
}

#[test]
fn an_account_holds_at_most_fifty_live_tokens_with_visible_labels() {
    let server = Server::start(None);
    let first = server.account("tenant-a", "tenant");
    let other = server.account("tenant-b", "tenant");
    let create = |token: &str, label: &str| {
        server.request("POST", "/v1/tokens", token, Some(json!({"label": label})))
    };
    // The account's first token is one of the 50.
    let mut last_id = String::new();
    for n in 2..=50 {
        let (status, body) = create(&first, &format!("token {n}"));
        assert_eq!(status, 201, "token {n}: {body}");
        last_id = body["info"]["id"].as_str().unwrap().to_owned();
    }
    let (status, body) = create(&first, "token 51");
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "too-many-tokens");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("50") && message.contains("DELETE /v1/tokens/{id}"),
        "{message}"
    );
    let (_, listed) = server.request("GET", "/v1/tokens", &first, None);
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 50);

    // Another account is not held by it.
    let (status, body) = create(&other, "theirs");
    assert_eq!(status, 201, "{body}");

    // A revoked token frees its place.
    let (status, _) = server.request("DELETE", &format!("/v1/tokens/{last_id}"), &first, None);
    assert_eq!(status, 204);
    let (status, body) = create(&first, "token 51");
    assert_eq!(status, 201, "{body}");

    // Labels: 1 to 100 visible characters after trimming, else 422 naming
    // the field.
    for label in [
        "",
        "   ",
        "nul\0byte",
        "two\nlines",
        "tab\there",
        &"x".repeat(101),
    ] {
        let (status, body) = create(&other, label);
        assert_eq!(status, 422, "{label:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`label`"),
            "{body}"
        );
    }
    let (status, body) = create(&other, "  laptop  ");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["info"]["label"], "laptop");

    // The contract says so.
    let (_, openapi) = server.request("GET", "/v1/openapi.json", &other, None);
    let label = &openapi["components"]["schemas"]["NewToken"]["properties"]["label"];
    assert_eq!(label["minLength"], 1, "{label}");
    assert_eq!(label["maxLength"], 100, "{label}");
}
