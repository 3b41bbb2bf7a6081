//! The platform end to end: the real `spleis serve` on a random loopback
//! port, on SQLite and (when scripts/test started one) on PostgreSQL; an
//! author publishes the example plugins, two tenants install and call them,
//! and neither can see or touch the other's.

use serde_json::json;
use spleis_tests::{Server, backends};
use std::process::Command;

#[test]
fn authors_publish_tenants_install_and_call_in_isolation() {
    for database in backends() {
        let server = Server::start(database.as_deref());
        let (status, body) = server.request("GET", "/healthz", "", None);
        assert_eq!(status, 200, "{body}");

        let author = server.account("examples", "author");
        let a = server.account("tenant-a", "tenant");
        let b = server.account("tenant-b", "tenant");

        for plugin in ["energy_tariff", "membership_dues", "vat_invoice"] {
            let (status, body) = server.publish(&author, plugin);
            assert_eq!(status, 201, "{plugin}: {body}");
            assert_eq!(body["created"], true);
        }
        // Publishing the same bytes again changes nothing.
        let (status, body) = server.publish(&author, "energy_tariff");
        assert_eq!((status, &body["created"]), (200, &json!(false)), "{body}");
        // A tenant cannot publish; nor can another author into `examples`.
        let (status, _) = server.publish(&a, "energy_tariff");
        assert_eq!(status, 403);
        let intruder = server.account("intruder", "author");
        let (status, body) = server.publish(&intruder, "vat_invoice");
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body["error"]["message"],
            "`intruder` is not an owner of the namespace `examples`"
        );
        // A hostile import is refused with its name.
        let (status, body) = server.publish(&intruder, "foreign_import");
        assert_eq!(status, 422, "{body}");

        let (status, body) = server.request("GET", "/v1/packages?q=dues", &a, None);
        assert_eq!(status, 200);
        assert_eq!(body["packages"][0]["name"], "examples/membership-dues");

        // Refusing a declared capability fails the install, clearly.
        let (status, body) = server.request(
            "POST",
            "/v1/installs",
            &a,
            Some(json!({"package": "examples/membership-dues", "grants": ["log"]})),
        );
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "capabilities-not-granted");
        for tenant in [&a, &b] {
            let (status, body) = server.request("POST", "/v1/installs", tenant, Some(json!({
                "package": "examples/membership-dues", "requirement": "^0.1",
                "grants": ["storage", "config", "log"], "config": {"default_monthly_dues": "10.00"}
            })));
            assert_eq!(status, 201, "{body}");
        }
        let (status, body) = server.request(
            "POST",
            "/v1/installs",
            &a,
            Some(json!({
                "package": "examples/energy-tariff", "grants": ["metering", "log"]
            })),
        );
        assert_eq!(status, 201, "{body}");

        // A's members are A's.
        let (status, body) = server.call(
            &a,
            "examples/membership-dues",
            "add-member",
            &json!({"id": "ann", "name": "Ann", "joined": "2026-10"}),
        );
        assert_eq!(status, 200, "{body}");
        let (_, a_list) = server.call(
            &a,
            "examples/membership-dues",
            "list-overdue",
            &json!({"as_of": "2026-11"}),
        );
        assert_eq!(a_list[0]["owed"], "20.00");
        let (status, b_list) = server.call(
            &b,
            "examples/membership-dues",
            "list-overdue",
            &json!({"as_of": "2026-11"}),
        );
        assert_eq!((status, b_list), (200, json!([])));
        let (status, body) = server.call(
            &b,
            "examples/membership-dues",
            "get-member",
            &json!({"id": "ann"}),
        );
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "not-found");

        // B has no energy-tariff install: it cannot call A's.
        let contract = json!({"contract_id": "C-9", "consumption_kwh": "10", "tariff": {"currency": "EUR", "base_fee_per_month": "1", "tiers": [{"price_per_kwh": "0.5"}], "vat_rate": "0"}});
        let (status, body) = server.call(&b, "examples/energy-tariff", "quote", &contract);
        assert_eq!(status, 404, "{body}");
        let (status, body) = server.call(&a, "examples/energy-tariff", "quote", &contract);
        assert_eq!((status, &body["total"]), (200, &json!("6.00")), "{body}");
        let (status, _) = server.call(&a, "examples/energy-tariff", "nope", &contract);
        assert_eq!(status, 404);

        // Usage: each tenant reads its own; B cannot read A's.
        let (status, usage) = server.request("GET", "/v1/usage", &a, None);
        assert_eq!(status, 200);
        let records = usage["records"].as_array().unwrap();
        // add-member, list-overdue, quote; the unknown operation never ran.
        assert_eq!(records.len(), 3, "{usage}");
        assert!(records.iter().all(|r| r["tenant"] == "tenant-a"));
        let quote = records.iter().find(|r| r["operation"] == "quote").unwrap();
        assert_eq!(
            quote["units"],
            json!([{"metric": "active-contract", "quantity": 1, "key": "C-9"}])
        );
        let (status, _) = server.request("GET", "/v1/usage?tenant=tenant-a", &b, None);
        assert_eq!(status, 403);
        let (status, usage) = server.request(
            "GET",
            "/v1/usage?tenant=tenant-a",
            &server.operator.clone(),
            None,
        );
        assert_eq!(
            (status, usage["records"].as_array().map(Vec::len)),
            (200, Some(3))
        );

        // A platform event reaches the tenant's subscribing installs only.
        let (status, body) = server.request(
            "POST",
            "/v1/events",
            &a,
            Some(json!({
                "topic": "member.joined", "payload": {"id": "cy", "name": "Cy", "month": "2026-11"}
            })),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["deliveries"].as_array().map(Vec::len),
            Some(1),
            "{body}"
        );
        assert_eq!(body["deliveries"][0]["package"], "examples/membership-dues");
        assert_eq!(body["deliveries"][0]["outcome"], "ok");
        let (status, _) = server.call(
            &a,
            "examples/membership-dues",
            "get-member",
            &json!({"id": "cy"}),
        );
        assert_eq!(status, 200);
        let (status, _) = server.call(
            &b,
            "examples/membership-dues",
            "get-member",
            &json!({"id": "cy"}),
        );
        assert_eq!(status, 422);
        let (status, _) = server.request(
            "POST",
            "/v1/events",
            &a,
            Some(json!({"topic": "Not A Topic"})),
        );
        assert_eq!(status, 400);

        // Operations: the OpenAPI document and Prometheus counters.
        let (status, openapi) = server.request("GET", "/v1/openapi.json", "", None);
        assert_eq!((status, &openapi["openapi"]), (200, &json!("3.1.0")));
        let metrics = ureq::get(&format!("{}/metrics", server.url))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert!(
            metrics.contains("spleis_calls_total{outcome=\"ok\"}"),
            "{metrics}"
        );
        assert!(
            metrics.contains("spleis_versions_published_total 3"),
            "{metrics}"
        );

        // Errors are JSON with a code; no token is 401.
        let (status, body) = server.request("GET", "/v1/installs", "spl_wrong", None);
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("unauthorized"))
        );
        assert!(server.stop(), "SIGTERM drains and exits cleanly");
    }
}

#[test]
fn events_emitted_by_plugins_fan_out_until_the_depth_limit() {
    let server = Server::start(None);
    let author = server.account("fixtures", "author");
    let tenant = server.account("t", "tenant");
    let (status, body) = server.publish(&author, "hostile");
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request(
        "POST",
        "/v1/installs",
        &tenant,
        Some(json!({
            "package": "fixtures/hostile", "grants": ["storage", "events", "log", "metering"]
        })),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request(
        "POST",
        "/v1/events",
        &tenant,
        Some(json!({"topic": "loop.ping", "payload": 1})),
    );
    assert_eq!(status, 200, "{body}");
    let deliveries = body["deliveries"].as_array().unwrap();
    let depths: Vec<u64> = deliveries
        .iter()
        .map(|d| d["depth"].as_u64().unwrap())
        .collect();
    assert_eq!(depths, [0, 1, 2, 3, 4, 5]);
    assert!(deliveries[..5].iter().all(|d| d["outcome"] == "ok"));
    assert_eq!(deliveries[5]["outcome"], "depth-limit");
    // Five deliveries ran and were metered; the sixth never ran.
    let (_, usage) = server.request("GET", "/v1/usage", &tenant, None);
    assert_eq!(
        usage["records"].as_array().map(Vec::len),
        Some(5),
        "{usage}"
    );
}

#[test]
fn an_idempotent_retry_returns_the_stored_answer_and_is_billed_once() {
    for database in backends() {
        let server = Server::start(database.as_deref());
        let author = server.account("examples", "author");
        let tenant = server.account("t", "tenant");
        assert_eq!(server.publish(&author, "membership_dues").0, 201);
        let (status, body) = server.request(
            "POST",
            "/v1/installs",
            &tenant,
            Some(json!({
                "package": "examples/membership-dues", "grants": ["storage", "config", "log"]
            })),
        );
        assert_eq!(status, 201, "{body}");
        let add = json!({"id": "m", "name": "M", "monthly_dues": "5", "joined": "2026-11"});
        let (status, replayed, first) = server.call_with_key(
            &tenant,
            "examples/membership-dues",
            "add-member",
            &add,
            "req-1",
        );
        assert_eq!((status, replayed.as_str()), (200, "false"), "{first}");
        // The retry does not run again (a second add would be a conflict).
        let (status, replayed, again) = server.call_with_key(
            &tenant,
            "examples/membership-dues",
            "add-member",
            &add,
            "req-1",
        );
        assert_eq!((status, replayed.as_str()), (200, "true"));
        assert_eq!(again, first);
        // The same key with another request is refused.
        let other = json!({"id": "n", "name": "N", "monthly_dues": "5", "joined": "2026-11"});
        let (status, _, body) = server.call_with_key(
            &tenant,
            "examples/membership-dues",
            "add-member",
            &other,
            "req-1",
        );
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("idempotency-key-reused"))
        );
        let (_, usage) = server.request("GET", "/v1/usage", &tenant, None);
        let records = usage["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "billed once: {usage}");
        assert_eq!(records[0]["idempotency_key"], "req-1");
    }
}

#[test]
fn a_blob_altered_in_the_database_is_detected_and_not_run() {
    for database in backends() {
        let server = Server::start(database.as_deref());
        let author = server.account("examples", "author");
        let tenant = server.account("t", "tenant");
        assert_eq!(server.publish(&author, "vat_invoice").0, 201);
        let (status, _) = server.request("POST", "/v1/installs", &tenant, Some(json!({
            "package": "examples/vat-invoice", "grants": ["config", "metering"], "config": {"rate.DE.standard": "0.19"}
        })));
        assert_eq!(status, 201);
        // Tamper with the stored component, then restart so the runtime has
        // to read it back from the database.
        let mut bytes = spleis_tests::plugin("foreign_import");
        bytes.extend_from_slice(b"tampered");
        match &database {
            None => {
                let db = server.data_dir().join("spleis.db");
                let changed = tokio::runtime::Runtime::new().unwrap().block_on(async {
                    use sqlx::Connection;
                    let mut conn =
                        sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                            .await
                            .unwrap();
                    sqlx::query("UPDATE blobs SET bytes = $1")
                        .bind(bytes)
                        .execute(&mut conn)
                        .await
                        .unwrap()
                        .rows_affected()
                });
                assert_eq!(changed, 1);
            }
            Some(url) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let status = Command::new("psql")
                    .args([
                        url.as_str(),
                        "-q",
                        "-c",
                        &format!("UPDATE blobs SET bytes = decode('{hex}', 'hex')"),
                    ])
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
        let server = server.restart();
        let invoice = json!({"country": "DE", "currency": "EUR", "lines": [{"description": "x", "quantity": "1", "unit_price": "1"}]});
        let (status, body) = server.call(&tenant, "examples/vat-invoice", "calculate", &invoice);
        assert_eq!(status, 500, "{body}");
        assert_eq!(body["error"]["code"], "integrity");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("does not hash to its digest")
        );
        let (_, usage) = server.request("GET", "/v1/usage", &tenant, None);
        assert_eq!(usage["records"], json!([]), "nothing ran, nothing billed");
    }
}

#[test]
fn new_versions_roll_out_automatically_unless_they_need_new_grants() {
    let v100 = spleis_tests::versioned_fixture("1.0.0", &["storage"]);
    let v110 = spleis_tests::versioned_fixture("1.1.0", &["storage"]);
    let v120 = spleis_tests::versioned_fixture("1.2.0", &["storage", "events"]);
    for database in backends() {
        let server = Server::start(database.as_deref());
        let author = server.account("fixtures", "author");
        let (a, b, c) = (
            server.account("a", "tenant"),
            server.account("b", "tenant"),
            server.account("c", "tenant"),
        );
        let version = |token: &str| {
            server
                .call(token, "fixtures/versioned", "version", &json!({}))
                .1
        };
        let install = |token: &str, requirement: &str| {
            let (status, body) = server.request("POST", "/v1/installs", token, Some(json!({
            "package": "fixtures/versioned", "requirement": requirement, "grants": ["storage"]
        })));
            assert_eq!(status, 201, "{body}");
        };

        assert_eq!(server.publish_bytes(&author, &v100).0, 201);
        install(&a, "^1");
        install(&b, "=1.0.0");
        assert_eq!(version(&a), "1.0.0");

        // 1.1.0 needs nothing new: A moves by itself, B's pin holds.
        let (status, body) = server.publish_bytes(&author, &v110);
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["upgrades"]["upgraded"], json!(["a"]));
        assert_eq!((version(&a), version(&b)), (json!("1.1.0"), json!("1.0.0")));

        // Yanked: new installs resolve past it, A keeps running it.
        let (status, _) = server.request(
            "POST",
            "/v1/packages/fixtures/versioned/versions/1.1.0/yank",
            &author,
            None,
        );
        assert_eq!(status, 204);
        install(&c, "^1");
        assert_eq!((version(&a), version(&c)), (json!("1.1.0"), json!("1.0.0")));
        let (status, _) = server.request(
            "POST",
            "/v1/packages/fixtures/versioned/versions/1.1.0/yank",
            &a,
            None,
        );
        assert_eq!(status, 403, "a tenant cannot yank");

        // 1.2.0 asks for `events`: A stays and sees a pending upgrade naming it.
        let (_, body) = server.publish_bytes(&author, &v120);
        assert_eq!(body["upgrades"]["pending"], json!(["a", "c"]));
        assert_eq!(version(&a), "1.1.0");
        let (_, pending) = server.request("GET", "/v1/upgrades", &a, None);
        assert_eq!(
            pending["pending"],
            json!([{"package": "fixtures/versioned", "version": "1.2.0", "new_capabilities": ["events"]}])
        );
        let (status, body) =
            server.request("POST", "/v1/upgrades/fixtures/versioned/1.2.0", &a, None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(version(&a), "1.2.0");
        let (status, _) =
            server.request("DELETE", "/v1/upgrades/fixtures/versioned/1.2.0", &c, None);
        assert_eq!(status, 204);
        assert_eq!(version(&c), "1.0.0");

        // Rollback goes to the previous version and pins it.
        let (status, body) =
            server.request("POST", "/v1/installs/fixtures/versioned/rollback", &a, None);
        assert_eq!(
            (status, &body["requirement"]),
            (200, &json!("=1.1.0")),
            "{body}"
        );
        assert_eq!(version(&a), "1.1.0");
        let (_, detail) = server.request("GET", "/v1/installs/fixtures/versioned", &a, None);
        let actions: Vec<&str> = detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "install",
                "auto-upgrade",
                "upgrade-pending",
                "upgrade",
                "rollback"
            ]
        );
    }
}
