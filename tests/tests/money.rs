//! Money that no input can break, end to end on the real binary, on SQLite
//! and PostgreSQL: each hostile input of issue 9 is refused with a 4xx, and
//! afterwards the ledger still answers and the open period still closes.

use serde_json::{Value, json};
use spleis_tests::{Server, backends, postgres_database, repo_root};

/// The open period, `YYYY-MM`, from the clock (UTC civil date).
fn open_period() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    spleis_billing::period::Period::containing(ms).to_string()
}

/// A fresh platform with the energy tariff published, investors given a
/// share, and tenant `t` holding an install: (server, operator, author, t).
fn platform(database: Option<&str>) -> (Server, String, String, String) {
    let server = Server::start(database);
    let op = server.operator.clone();
    let author = server.account("examples", "author");
    let tenant = server.account("tenant-a", "tenant");
    assert_eq!(server.publish(&author, "energy_tariff").0, 201);
    let (status, body) = server.request(
        "PUT",
        "/v1/packages/examples/energy-tariff/agreement",
        &op,
        Some(json!({"investor_share_bps": 5000})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.request(
        "POST",
        "/v1/installs",
        &tenant,
        Some(json!({"package": "examples/energy-tariff", "grants": ["metering", "log"]})),
    );
    assert_eq!(status, 201, "{body}");
    (server, op, author, tenant)
}

/// The ledger answers and the open period closes (early): nothing wedged.
fn still_bills(server: Server, op: &str, case: &str) {
    let (status, body) = server.request("GET", "/v1/billing/ledger", op, None);
    assert_eq!(status, 200, "{case}: the ledger: {body}");
    let (status, body) = server.request(
        "POST",
        "/v1/billing/close",
        op,
        Some(json!({"period": open_period(), "early": true})),
    );
    assert_eq!(status, 201, "{case}: the close: {body}");
    let (status, body) = server.request("GET", "/v1/billing/ledger", op, None);
    assert_eq!(status, 200, "{case}: the ledger after the close: {body}");
    assert!(server.stop(), "{case}: the server exited cleanly");
}

fn refused(answer: (u16, Value), status: u16, code: &str, case: &str) -> Value {
    let (got, body) = answer;
    assert_eq!(got, status, "{case}: {body}");
    assert_eq!(body["error"]["code"].as_str(), Some(code), "{case}: {body}");
    body
}

/// Calls the energy tariff's `quote` with `key`'s raw bytes as the
/// `Idempotency-Key` (HTTP clients refuse to send non-ASCII headers, a
/// hostile one does); returns the status line and the body.
fn call_with_raw_key(server: &Server, token: &str, key: &[u8]) -> (String, Value) {
    use std::io::{Read, Write};
    let address = server.url.trim_start_matches("http://");
    let body = quote().to_string();
    let mut request = format!(
        "POST /v1/plugins/examples/energy-tariff/quote HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\nIdempotency-Key: ",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(key);
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(body.as_bytes());
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.write_all(&request).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn quote() -> Value {
    let text = std::fs::read_to_string(
        repo_root().join("example-plugins/energy-tariff/requests/quote.json"),
    )
    .expect("sample request");
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn no_single_request_wedges_billing() {
    // Each case needs a fresh platform: a fresh SQLite directory, or a
    // fresh PostgreSQL database per case.
    for database in backends() {
        let postgres = database.is_some();
        let fresh = || postgres.then(postgres_database).flatten();

        // Closing 0001-01 on a fresh platform: before its first month.
        let (server, op, ..) = platform(fresh().as_deref());
        let body = refused(
            server.request(
                "POST",
                "/v1/billing/close",
                &op,
                Some(json!({"period": "0001-01"})),
            ),
            422,
            "period-out-of-range",
            "0001-01",
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("the period is 0001-01"), "{body}");
        still_bills(server, &op, "0001-01");

        // A pledge of i64::MAX; a 1 MB title.
        let (server, op, author, tenant) = platform(fresh().as_deref());
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            + 3_600_000;
        let campaign = |title: &str| {
            json!({"package": "examples/energy-tariff", "title": title,
                "goal_minor": 10_000, "deadline_ms": deadline, "return_bps": 500})
        };
        let body = refused(
            server.request(
                "POST",
                "/v1/campaigns",
                &author,
                Some(campaign(&"x".repeat(1 << 20))),
            ),
            422,
            "too-long",
            "a 1 MB title",
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("the title") && m.contains("at most 200")),
            "{body}"
        );
        let (status, created) = server.request(
            "POST",
            "/v1/campaigns",
            &author,
            Some(campaign("dark mode")),
        );
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        refused(
            server.request(
                "POST",
                &format!("/v1/campaigns/{id}/pledges"),
                &tenant,
                Some(json!({"amount_minor": i64::MAX})),
            ),
            422,
            "out-of-range",
            "a pledge of i64::MAX",
        );
        let (status, body) = server.request(
            "POST",
            &format!("/v1/campaigns/{id}/pledges"),
            &tenant,
            Some(json!({"amount_minor": 100})),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(server.request("GET", "/v1/campaigns", &op, None).0, 200);
        assert_eq!(
            server
                .request("GET", &format!("/v1/campaigns/{id}"), &op, None)
                .0,
            200
        );
        still_bills(server, &op, "a pledge of i64::MAX");

        // A plan price of 10^20 and a negative unit price, then a call.
        let (server, op, author, tenant) = platform(fresh().as_deref());
        for (price, case) in [
            ("100000000000000000000", "a price of 10^20"),
            ("-1", "a negative price"),
        ] {
            let plan = json!({"currency": "EUR", "charges": [
                {"meter": {"on": "calls", "operation": null}, "pricing": {"kind": "unit", "price": price}}
            ]});
            let (status, body) = server.request(
                "PUT",
                "/v1/packages/examples/energy-tariff/plan",
                &author,
                Some(plan),
            );
            assert_eq!(status, 422, "{case}: {body}");
        }
        assert_eq!(
            server
                .call(&tenant, "examples/energy-tariff", "quote", &quote())
                .0,
            200
        );
        still_bills(server, &op, "plan prices");

        // Credit of i64::MAX twice; an investment of i64::MAX.
        let (server, op, ..) = platform(fresh().as_deref());
        for _ in 0..2 {
            refused(
                server.request(
                    "POST",
                    "/v1/tenants/tenant-a/credit",
                    &op,
                    Some(json!({"amount_minor": i64::MAX})),
                ),
                422,
                "out-of-range",
                "credit of i64::MAX",
            );
        }
        refused(
            server.request(
                "POST",
                "/v1/investments",
                &op,
                Some(
                    json!({"package": "examples/energy-tariff", "investor": "tenant-a",
                    "principal_minor": i64::MAX, "return_bps": 0}),
                ),
            ),
            422,
            "out-of-range",
            "an investment of i64::MAX",
        );
        still_bills(server, &op, "credit and investment");

        // A non-ASCII Idempotency-Key: refused, the plugin does not run.
        let (server, op, _, tenant) = platform(fresh().as_deref());
        for key in ["clé", "two words", &"k".repeat(256)] {
            let (status, body) = call_with_raw_key(&server, &tenant, key.as_bytes());
            assert!(status.contains(" 400 "), "{key}: {status} {body}");
            assert_eq!(
                body["error"]["code"].as_str(),
                Some("invalid-idempotency-key"),
                "{key}: {body}"
            );
        }
        let (_, usage) = server.request("GET", "/v1/reports/usage", &tenant, None);
        assert!(
            usage["calls"]
                .as_array()
                .is_none_or(|calls| calls.is_empty()),
            "no call was billed: {usage}"
        );
        still_bills(server, &op, "idempotency keys");
    }
}

/// A plan within every bound can still rate a month out of range (fuel
/// priced high, failed calls charged, calls that burn their whole fuel).
/// The close then refuses, naming the tenant and the plugin, and bills
/// nothing; the operator corrects the plan for that period and the month
/// closes. The author's own change would apply only from the next month.
/// A platform whose open month no plan can rate: `fixtures/hostile` charges
/// EUR 1,000,000 per unit of fuel 100 times over, and tenant-a made two
/// calls that burn all their fuel; tenant-b made one ordinary call.
/// (server, operator, author, tenant-a, tenant-b).
fn wedged_platform() -> (Server, String, String, String, String) {
    let server = Server::start(None);
    let op = server.operator.clone();
    let author = server.account("fixtures", "author");
    let tenant = server.account("tenant-a", "tenant");
    let other = server.account("tenant-b", "tenant");
    assert_eq!(server.publish(&author, "hostile").0, 201);
    for token in [&tenant, &other] {
        let (status, body) = server.request(
            "POST",
            "/v1/installs",
            token,
            Some(json!({"package": "fixtures/hostile", "grants": ["storage", "events", "log", "metering"]})),
        );
        assert_eq!(status, 201, "{body}");
    }
    // 100 charges of EUR 1,000,000 per unit of fuel: each line is in range,
    // their sum is not.
    let charge = json!({"meter": {"on": "fuel", "per": 1},
                        "pricing": {"kind": "unit", "price": "1000000"}});
    let ruinous = json!({
        "currency": "EUR",
        "charges": vec![charge; 100],
        "charge_failed_calls": true
    });
    let (status, body) = server.request(
        "PUT",
        "/v1/packages/fixtures/hostile/plan",
        &author,
        Some(ruinous),
    );
    assert_eq!(status, 201, "{body}");
    // Two calls that compute until their fuel (500 M each) runs out: 10^9
    // fuel at EUR 1,000,000 is 10^17 cents a line, 10^19 for the invoice,
    // past what an amount can hold.
    for _ in 0..2 {
        let (status, body) = server.request(
            "POST",
            "/v1/plugins/fixtures/hostile/loop",
            &tenant,
            Some(json!({})),
        );
        assert_eq!(status, 422, "{body}");
    }
    let (status, body) = server.request(
        "POST",
        "/v1/plugins/fixtures/hostile/echo",
        &other,
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    (server, op, author, tenant, other)
}

#[test]
fn a_close_the_plan_cannot_rate_is_resolved_by_the_operators_correction() {
    let (server, op, author, _tenant, _other) = wedged_platform();
    let period = open_period();
    // Before any close, a correction reaches back to the platform's first
    // month and no further, like commitments and voids.
    let early = "/v1/packages/fixtures/hostile/plan?from=2000-01";
    let free = json!({"currency": "EUR", "charges": []});
    let (status, body) = server.request("PUT", early, &op, Some(free));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "period-out-of-range", "{body}");
    let close = json!({"period": period, "early": true});
    let (status, body) = server.request("POST", "/v1/billing/close", &op, Some(close.clone()));
    assert!((400..500).contains(&status), "{status} {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("fixtures/hostile") && message.contains("tenant-a"),
        "the refusal names the tenant and the plugin: {body}"
    );
    // Nothing was billed, and the ledger still answers.
    let (status, invoices) = server.request("GET", "/v1/invoices", &op, None);
    assert_eq!(status, 200, "{invoices}");
    assert_eq!(
        invoices["invoices"].as_array().map(Vec::len),
        Some(0),
        "{invoices}"
    );
    assert_eq!(
        server.request("GET", "/v1/billing/ledger", &op, None).0,
        200
    );
    // Only the operator corrects a period that is not closed.
    let sane = json!({
        "currency": "EUR",
        "charges": [{"meter": {"on": "calls"}, "pricing": {"kind": "unit", "price": "0.01"}}],
        "charge_failed_calls": true
    });
    let path = format!("/v1/packages/fixtures/hostile/plan?from={period}");
    let (status, _) = server.request("PUT", &path, &author, Some(sane.clone()));
    assert_eq!(status, 403);
    let (status, body) = server.request("PUT", &path, &op, Some(sane));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["effective_from"], period.as_str());
    let (status, body) = server.request("POST", "/v1/billing/close", &op, Some(close));
    assert_eq!(status, 201, "the corrected month closes: {body}");
    // Two failed calls and tenant-b's call, charged at 0.01 each.
    assert_eq!(body["summary"]["charged"], 3, "{body}");
    // A closed period never changes: no correction reaches it.
    let (status, body) = server.request(
        "PUT",
        &path,
        &op,
        Some(json!({"currency": "EUR", "charges": []})),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "period-out-of-range", "{body}");
}

#[test]
fn commitments_in_money_and_units_over_periods_end_to_end() {
    for database in backends() {
        let (server, op, author, tenant) = platform(database.as_deref());
        let other = server.account("tenant-b", "tenant");
        // 0.10 per active contract.
        let plan = json!({
            "currency": "EUR",
            "charges": [{"meter": {"on": "metric", "metric": "active-contract"},
                         "pricing": {"kind": "unit", "price": "0.10"}}]
        });
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(plan),
        );
        assert_eq!(status, 201, "{body}");
        let period = open_period();
        let path = "/v1/tenants/tenant-a/commitments";
        let units = |units: u64, metric: &str| {
            json!({"minimum": {"kind": "units", "plugin": "examples/energy-tariff",
                               "metric": metric, "units": units},
                   "from": period})
        };
        // At least 50 contracts a month from now on, and 10.00 this month.
        let (status, contracts) =
            server.request("POST", path, &op, Some(units(50, "active-contract")));
        assert_eq!(status, 201, "{contracts}");
        let money =
            json!({"minimum": {"kind": "money", "minor": 1_000}, "from": period, "to": period});
        let (status, body) = server.request("POST", path, &op, Some(money));
        assert_eq!(status, 201, "{body}");
        // Refusals, each naming what was wrong.
        refused(
            server.request("POST", path, &op, Some(units(60, "active-contract"))),
            409,
            "commitment-overlap",
            "the same metric twice",
        );
        refused(
            server.request("POST", path, &op, Some(units(5, "sites"))),
            422,
            "undeclared-metric",
            "a metric the plugin does not declare",
        );
        refused(
            server.request(
                "POST",
                path,
                &op,
                Some(json!({"minimum": {"kind": "money", "minor": -5}, "from": period})),
            ),
            422,
            "out-of-range",
            "a negative minimum",
        );
        refused(
            server.request(
                "POST",
                path,
                &op,
                Some(json!({"minimum": {"kind": "money", "minor": 5}, "from": "0001-01"})),
            ),
            422,
            "period-closed",
            "a commitment in a closed period",
        );
        let (status, body) = server.request(
            "POST",
            path,
            &op,
            Some(json!({"minimum": {"kind": "money", "minor": 5}, "from": period, "x": 1})),
        );
        assert!(
            (400..500).contains(&status),
            "an unknown field: {status} {body}"
        );
        assert_eq!(
            server
                .request("POST", path, &tenant, Some(units(1, "active-contract")))
                .0,
            403
        );
        // The tenant reads its own; another tenant does not.
        let (status, own) = server.request("GET", path, &tenant, None);
        assert_eq!(status, 200, "{own}");
        assert_eq!(
            own["commitments"].as_array().map(Vec::len),
            Some(2),
            "{own}"
        );
        assert_eq!(server.request("GET", path, &other, None).0, 403);

        // Three contracts priced: 0.30; the shortfall of 47 is 4.70 for the
        // plugin; the money minimum tops 5.00 up to 10.00.
        for id in ["C-1", "C-2", "C-3"] {
            let mut request = quote();
            request["contract_id"] = json!(id);
            let (status, body) = server.call(&tenant, "examples/energy-tariff", "quote", &request);
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = server.request(
            "POST",
            "/v1/billing/close",
            &op,
            Some(json!({"period": period, "early": true})),
        );
        assert_eq!(status, 201, "{body}");
        let (status, invoices) = server.request("GET", "/v1/invoices?tenant=tenant-a", &op, None);
        assert_eq!(status, 200, "{invoices}");
        let invoice = &invoices["invoices"][0];
        let amounts: Vec<i64> = invoice["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount"]["minor"].as_i64().unwrap_or_default())
            .collect();
        assert_eq!(amounts, [30, 470, 500], "{invoice}");
        assert_eq!(invoice["total"], 1_000, "{invoice}");
        assert_eq!(invoice["lines"][1]["plugin"], "examples/energy-tariff");

        // Ending the contracts commitment keeps the closed month as it was.
        let id = contracts["id"].as_str().unwrap();
        let (status, ended) = server.request("DELETE", &format!("{path}/{id}"), &op, None);
        assert_eq!(status, 200, "{ended}");
        assert_eq!(
            (ended["removed"].clone(), ended["to"].clone()),
            (json!(false), json!(period))
        );
        refused(
            server.request("DELETE", &format!("{path}/{id}"), &op, None),
            409,
            "commitment-ended",
            "ending it twice",
        );
        // The CLI lists them in words.
        let connection = ["--server", server.url.as_str(), "--token", op.as_str()];
        let (code, out, err) = spleis_tests::spleis(
            &[
                &["billing", "commitment", "list", "tenant-a"][..],
                &connection[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(&format!("at least 50 units of `active-contract` of examples/energy-tariff a month, from {period} to {period}")),
            "{out}"
        );
        assert_eq!(
            server.request("GET", "/v1/billing/ledger", &op, None).0,
            200
        );
        assert!(server.stop());
    }
}

#[test]
fn a_close_one_install_wedges_is_resolved_by_voiding_that_line() {
    let (server, op, _author, tenant, _other) = wedged_platform();
    let period = open_period();
    let close = json!({"period": period, "early": true});
    let (status, body) = server.request("POST", "/v1/billing/close", &op, Some(close.clone()));
    assert!((400..500).contains(&status), "{status} {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("void the line"), "{body}");
    // Only the operator voids; a void says why; a month closed or far back
    // takes none.
    let path = format!("/v1/billing/periods/{period}/voids");
    let void = json!({"tenant": "tenant-a", "plugin": "fixtures/hostile",
                      "reason": "a runaway loop, waived"});
    assert_eq!(
        server.request("POST", &path, &tenant, Some(void.clone())).0,
        403
    );
    refused(
        server.request(
            "POST",
            &path,
            &op,
            Some(json!({"tenant": "tenant-a", "plugin": "fixtures/hostile", "reason": " "})),
        ),
        422,
        "empty-field",
        "a void without a reason",
    );
    refused(
        server.request(
            "POST",
            "/v1/billing/periods/0001-01/voids",
            &op,
            Some(void.clone()),
        ),
        422,
        "period-out-of-range",
        "a void before the platform's first month",
    );
    refused(
        server.request(
            "POST",
            &path,
            &op,
            Some(json!({"tenant": "tenant-a", "plugin": "fixtures/nope", "reason": "r"})),
        ),
        404,
        "unknown-package",
        "a void of an unknown plugin",
    );
    // Through the CLI.
    let connection = ["--server", server.url.as_str(), "--token", op.as_str()];
    let (code, out, err) = spleis_tests::spleis(
        &[
            &[
                "billing",
                "void",
                &period,
                "--tenant",
                "tenant-a",
                "--plugin",
                "fixtures/hostile",
                "--reason",
                "a runaway loop, waived",
            ][..],
            &connection[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("voided"), "{out}");
    let (status, voids) = server.request("GET", &path, &op, None);
    assert_eq!(status, 200, "{voids}");
    assert_eq!(
        voids["voids"][0]["reason"], "a runaway loop, waived",
        "{voids}"
    );
    assert!(
        voids["voids"][0]["created_by"]
            .as_str()
            .is_some_and(|by| !by.is_empty()),
        "{voids}"
    );
    // A void can be withdrawn while its month is open (by the operator
    // only), and given again.
    let one = format!("{path}/tenant-a/fixtures/hostile");
    assert_eq!(server.request("DELETE", &one, &tenant, None).0, 403);
    let (status, body) = server.request("DELETE", &one, &op, None);
    assert_eq!(status, 204, "{body}");
    let (_, voids) = server.request("GET", &path, &op, None);
    assert_eq!(voids["voids"].as_array().map(Vec::len), Some(0), "{voids}");
    refused(
        server.request("DELETE", &one, &op, None),
        404,
        "not-found",
        "withdrawing twice",
    );
    let (status, body) = server.request("POST", &path, &op, Some(void.clone()));
    assert_eq!(status, 201, "{body}");
    // The month closes; tenant-a's line is not billed, tenant-b's is.
    let (status, body) = server.request("POST", "/v1/billing/close", &op, Some(close));
    assert_eq!(
        status, 201,
        "the month closes once the line is voided: {body}"
    );
    let (_, invoices) = server.request("GET", "/v1/invoices", &op, None);
    let billed: Vec<&str> = invoices["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["tenant"].as_str())
        .collect();
    assert_eq!(billed, ["tenant-b"], "{invoices}");
    assert_eq!(
        server.request("GET", "/v1/billing/ledger", &op, None).0,
        200
    );
    refused(
        server.request("POST", &path, &op, Some(void)),
        422,
        "period-out-of-range",
        "a void of a closed month",
    );
    refused(
        server.request("DELETE", &one, &op, None),
        422,
        "period-out-of-range",
        "withdrawing a void of a closed month",
    );
}
