//! The wishlist end to end on the real binary, on SQLite and PostgreSQL:
//! the seeds' story from a wish to its payback (a request, votes, a
//! duplicate merged, an assessment, funding reached, the funders invoiced,
//! a delivery, the builder owed its funding, the funders paid back over the
//! following months to the cent), a funding that lapses, privacy between
//! tenants, and bad input refused without changing anything. The server's
//! clock is set months back (`--clock-offset-ms`) and moved on by
//! restarts, so the months close in minutes.

use serde_json::{Value, json};
use spleis_tests::{Server, backends, clock_in_month_before, repo_root};

fn minor(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn quote(contract: &str) -> Value {
    let text = std::fs::read_to_string(
        repo_root().join("example-plugins/energy-tariff/requests/quote.json"),
    )
    .expect("sample request");
    let mut body: Value = serde_json::from_str(&text).expect("JSON");
    body["contract_id"] = json!(contract);
    body
}

/// The server's clock now, Unix ms (the wall clock plus its offset).
fn server_now(offset: i64) -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + offset
}

fn start(database: Option<&str>, offset: i64) -> Server {
    let offset = offset.to_string();
    let args = ["--clock-offset-ms", &offset, "--funding-check-ms", "200"];
    match database {
        Some(url) => Server::start_on(url, &args),
        None => Server::start_with(&args),
    }
}

fn balance(ledger: &Value, kind: &str, id: &str) -> i64 {
    ledger["balances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["account"]["kind"] == kind && b["account"]["id"].as_str().unwrap_or("") == id)
        .map(|b| minor(&b["balance"]))
        .sum()
}

fn close(server: &Server, period: &str) {
    let (status, body) = server.request(
        "POST",
        "/v1/billing/close",
        &server.operator,
        Some(json!({"period": period, "early": true})),
    );
    assert!(
        matches!(status, 200 | 201),
        "closing {period}: {status} {body}"
    );
    let (_, ledger) = server.request(
        "GET",
        &format!("/v1/billing/ledger?period={period}"),
        &server.operator,
        None,
    );
    assert_eq!(minor(&ledger["sum"]), 0, "the ledger balances: {ledger}");
}

#[test]
fn a_wish_is_voted_funded_delivered_and_paid_back_to_the_cent() {
    for database in backends() {
        let (first, offset) = clock_in_month_before(3);
        let server = start(database.as_deref(), offset);
        let op = server.operator.clone();
        let a = server.account("tenant-a", "tenant");
        let b = server.account("tenant-b", "tenant");
        let c = server.account("tenant-c", "tenant");
        let author = server.account("examples", "author");

        // A wishes; B, typing its own, is offered A's and votes instead.
        let (status, wish) = server.request(
            "POST",
            "/v1/requests",
            &a,
            Some(json!({
                "title": "Time-of-use tariffs for heat pumps",
                "problem": "Our customers with heat pumps pay peak prices at night; we retype the tariffs by hand.",
            })),
        );
        assert_eq!(status, 201, "{wish}");
        let id = wish["id"].as_i64().unwrap();
        assert_eq!(
            (wish["status"].as_str(), minor(&wish["votes"])),
            (Some("open"), 1)
        );
        let (_, similar) =
            server.request("GET", "/v1/requests/similar?q=heat%20pump%20tar", &b, None);
        assert_eq!(similar["requests"][0]["id"], id, "{similar}");
        // However often it votes, a tenant is one vote (10,000 times on the
        // first backend; a few on the next, the rule is the same SQL).
        let times = if database.is_none() { 10_000 } else { 20 };
        for _ in 0..times {
            assert_eq!(
                server
                    .request("PUT", &format!("/v1/requests/{id}/vote"), &b, None)
                    .0,
                200
            );
        }
        let (_, seen) = server.request("GET", &format!("/v1/requests/{id}"), &b, None);
        assert_eq!((minor(&seen["votes"]), &seen["voted"]), (2, &json!(true)));

        // C posts the same wish; B votes there too; the operator merges it.
        let (_, dup) = server.request(
            "POST",
            "/v1/requests",
            &c,
            Some(json!({"title": "Heat pump night tariff", "problem": "Night prices.", "details": "Same as the others."})),
        );
        let dup_id = dup["id"].as_i64().unwrap();
        server.request("PUT", &format!("/v1/requests/{dup_id}/vote"), &b, None);
        for (body, code) in [
            (json!({"status": "duplicate", "duplicate_of": dup_id}), 422),
            (json!({"status": "duplicate"}), 422),
            (json!({"status": "duplicate", "duplicate_of": 999_999}), 404),
            (json!({"status": "delivered"}), 409),
        ] {
            let (status, body) = server.request(
                "POST",
                &format!("/v1/requests/{dup_id}/status"),
                &op,
                Some(body),
            );
            assert_eq!(status, code, "{body}");
        }
        let (status, merged) = server.request(
            "POST",
            &format!("/v1/requests/{dup_id}/status"),
            &op,
            Some(json!({"status": "duplicate", "duplicate_of": id, "reason": "the same wish"})),
        );
        assert_eq!(
            (status, merged["status"].as_str()),
            (200, Some("duplicate")),
            "{merged}"
        );
        // A cycle: the original cannot become a duplicate of its duplicate.
        let (status, body) = server.request(
            "POST",
            &format!("/v1/requests/{id}/status"),
            &op,
            Some(json!({"status": "duplicate", "duplicate_of": dup_id})),
        );
        assert_eq!(status, 422, "{body}");
        let (_, original) = server.request("GET", &format!("/v1/requests/{id}"), &op, None);
        assert_eq!(
            minor(&original["votes"]),
            3,
            "A, B and C, each once: {original}"
        );
        assert_eq!(
            original["voters"],
            json!(["tenant-a", "tenant-b", "tenant-c"])
        );
        let (status, body) =
            server.request("PUT", &format!("/v1/requests/{dup_id}/vote"), &a, None);
        assert_eq!(status, 409, "a merged request takes no votes: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("#{id}"))
        );

        // Tenants may not assess, fund or deliver.
        for (path, body) in [
            (
                format!("/v1/requests/{id}/status"),
                json!({"status": "accepted"}),
            ),
            (
                format!("/v1/requests/{id}/funding"),
                json!({"goal_minor": 1, "return_bps": 0, "deadline_ms": server_now(offset) + 60_000, "builder": "examples"}),
            ),
            (
                format!("/v1/requests/{id}/delivery"),
                json!({"package": "examples/energy-tariff", "version": "0.1.0"}),
            ),
        ] {
            assert_eq!(
                server.request("POST", &path, &a, Some(body)).0,
                403,
                "{path}"
            );
        }

        // The author's namespace exists: it published before.
        assert_eq!(server.publish(&author, "vat_invoice").0, 201);

        // Assessed and accepted; funding of EUR 10,000 at 10% for the
        // examples namespace.
        for status in ["under-review", "accepted"] {
            let (code, body) = server.request(
                "POST",
                &format!("/v1/requests/{id}/status"),
                &op,
                Some(json!({"status": status, "reason": "useful to every energy tenant"})),
            );
            assert_eq!(code, 200, "{body}");
        }
        let funding = json!({
            "goal_minor": 1_000_000, "return_bps": 1000,
            "deadline_ms": server_now(offset) + 20 * 86_400_000, "builder": "examples"
        });
        let (status, campaign) = server.request(
            "POST",
            &format!("/v1/requests/{id}/funding"),
            &op,
            Some(funding.clone()),
        );
        assert_eq!(status, 201, "{campaign}");
        assert_eq!(campaign["request"], id);
        let campaign_id = campaign["id"].as_str().unwrap().to_owned();
        let (status, body) = server.request(
            "POST",
            &format!("/v1/requests/{id}/funding"),
            &op,
            Some(funding),
        );
        assert_eq!(status, 409, "funded twice: {body}");
        let pledge = |token: &str, amount: i64| {
            server.request(
                "POST",
                &format!("/v1/campaigns/{campaign_id}/pledges"),
                token,
                Some(json!({"amount_minor": amount})),
            )
        };
        assert_eq!(pledge(&a, 600_000).0, 200);
        assert_eq!(pledge(&b, 400_001).0, 409, "over the goal");
        assert_eq!(pledge(&b, 0).0, 422);
        let (status, funded) = pledge(&b, 400_000);
        assert_eq!(
            (status, funded["status"].as_str()),
            (200, Some("funded")),
            "{funded}"
        );
        assert_eq!(pledge(&c, 1).0, 409, "funded: no more pledges");
        let (_, planned) = server.request("GET", &format!("/v1/requests/{id}"), &b, None);
        assert_eq!(planned["status"], "planned", "{planned}");
        let (_, inbox) = server.request("GET", "/v1/notifications", &a, None);
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "funding-reached" && n["subject"] == format!("request-{id}")),
            "A, a pledger, is told the goal is reached: {inbox}"
        );

        // Privacy: B sees the totals and its own pledge, never who else.
        let text = planned.to_string();
        for hidden in ["tenant-a", "tenant-c"] {
            assert!(!text.contains(hidden), "{hidden} leaks to B: {text}");
        }
        assert_eq!(planned["funding"]["pledged"], 1_000_000);
        assert_eq!(planned["funding"]["pledges"].as_array().unwrap().len(), 1);
        assert!(planned.get("posted_by").is_none() && planned.get("voters").is_none());

        // The author publishes the plugin and prices it; the operator
        // gives investors half of its revenue after the fee.
        let (status, published) = server.publish(&author, "energy_tariff");
        assert_eq!(status, 201, "{published}");
        let version = published["version"]["version"]
            .as_str()
            .unwrap_or_else(|| panic!("a version: {published}"))
            .to_owned();
        let plan = json!({"currency": "EUR", "charges": [
            {"meter": {"on": "calls", "operation": null}, "pricing": {"kind": "unit", "price": "5000"}}
        ]});
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(plan),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/agreement",
            &op,
            Some(json!({"investor_share_bps": 5000})),
        );
        assert_eq!(status, 200, "{body}");

        // Deliveries that do not fit are refused; then the author delivers.
        let intruder = server.account("intruder", "author");
        for (token, body, code) in [
            (
                &author,
                json!({"package": "examples/energy-tariff", "version": "9.9.9"}),
                409,
            ),
            (
                &author,
                json!({"package": "other/plugin", "version": version}),
                409,
            ),
            (
                &intruder,
                json!({"package": "examples/energy-tariff", "version": version}),
                403,
            ),
        ] {
            let (status, answer) = server.request(
                "POST",
                &format!("/v1/requests/{id}/delivery"),
                token,
                Some(body),
            );
            assert_eq!(status, code, "{answer}");
        }
        let (status, delivered) = server.request(
            "POST",
            &format!("/v1/requests/{id}/delivery"),
            &author,
            Some(json!({"package": "examples/energy-tariff", "version": version})),
        );
        assert_eq!(status, 200, "{delivered}");
        assert_eq!(delivered["status"], "delivered");
        assert_eq!(delivered["delivery"]["package"], "examples/energy-tariff");
        let (_, investments) = server.request("GET", "/v1/investments", &op, None);
        let investments = investments["investments"].as_array().unwrap().clone();
        assert_eq!(investments.len(), 2, "{investments:?}");

        // C uses the plugin; the month closes: A and B are invoiced their
        // pledges on their own lines, the funding is held and released to
        // the builder.
        let (status, body) = server.request(
            "POST",
            "/v1/installs",
            &c,
            Some(json!({"package": "examples/energy-tariff", "grants": ["metering", "log"]})),
        );
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            server
                .call(&c, "examples/energy-tariff", "quote", &quote("k1"))
                .0,
            200
        );
        close(&server, &first);
        for (token, amount) in [(&a, 600_000), (&b, 400_000)] {
            let (_, invoices) = server.request("GET", "/v1/invoices", token, None);
            let invoice = &invoices["invoices"][0];
            assert_eq!(minor(&invoice["total"]), amount, "{invoice}");
            assert_eq!(minor(&invoice["funding"]), amount, "{invoice}");
            let line = &invoice["lines"][0];
            assert!(
                line["description"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("request #{id}: Time-of-use tariffs")),
                "{line}"
            );
        }
        let (_, ledger) = server.request("GET", "/v1/billing/ledger", &op, None);
        assert_eq!(
            balance(&ledger, "funding-held", &id.to_string()),
            0,
            "{ledger}"
        );
        assert_eq!(
            balance(&ledger, "builder-payable", "examples"),
            -1_000_000,
            "{ledger}"
        );
        let (_, statements) = server.request("GET", "/v1/statements", &author, None);
        assert!(
            statements["statements"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "builder" && minor(&s["total"]) == 1_000_000),
            "{statements}"
        );

        // The following months: C's use pays A and B back in proportion
        // until they have 11,000.00 together, exactly.
        let mut server = server;
        for back in [2, 1, 0] {
            let (month, offset) = clock_in_month_before(back);
            let offset = offset.to_string();
            server = server.restart_with(&["--clock-offset-ms", &offset]);
            for n in 0..3 {
                let (status, body) = server.call(
                    &c,
                    "examples/energy-tariff",
                    "quote",
                    &quote(&format!("m{n}")),
                );
                assert_eq!(status, 200, "{body}");
            }
            close(&server, &month);
        }
        let (_, investments) = server.request("GET", "/v1/investments", &op, None);
        let paid: Vec<(String, i64, i64)> = investments["investments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["investor"].as_str().unwrap().to_owned(),
                    minor(&i["paid"]),
                    minor(&i["cap"]),
                )
            })
            .collect();
        assert_eq!(
            paid,
            [
                ("tenant-a".to_owned(), 660_000, 660_000),
                ("tenant-b".to_owned(), 440_000, 440_000)
            ]
        );
        let (_, ledger) = server.request("GET", "/v1/billing/ledger", &op, None);
        assert_eq!(minor(&ledger["sum"]), 0);
        assert_eq!(balance(&ledger, "builder-payable", "examples"), -1_000_000);
    }
}

#[test]
fn a_funding_short_of_its_goal_lapses_invoices_nothing_and_bad_input_changes_nothing() {
    for database in backends() {
        let server = start(database.as_deref(), 0);
        let op = server.operator.clone();
        let a = server.account("tenant-a", "tenant");
        let c = server.account("tenant-c", "tenant");
        let author = server.account("examples", "author");
        assert_eq!(server.publish(&author, "energy_tariff").0, 201);

        // Bad input: nothing is created.
        for body in [
            json!({"title": "x".repeat(1 << 20), "problem": "p"}),
            json!({"title": "", "problem": "p"}),
            json!({"title": "a\u{0}b", "problem": "p"}),
            json!({"title": "t", "problem": "p", "extra": 1}),
            json!(["t", "p"]),
        ] {
            let (status, answer) = server.request("POST", "/v1/requests", &a, Some(body));
            assert!((400..500).contains(&status), "{status} {answer}");
        }
        let (_, all) = server.request("GET", "/v1/requests", &a, None);
        assert!(all["requests"].as_array().unwrap().is_empty(), "{all}");
        assert_eq!(
            server.request("GET", "/v1/requests?limit=501", &a, None).0,
            400
        );
        assert_eq!(server.request("GET", "/v1/requests/12345", &a, None).0, 404);

        let (_, wish) = server.request(
            "POST",
            "/v1/requests",
            &a,
            Some(json!({"title": "Solar feed-in export", "problem": "We export by hand."})),
        );
        let id = wish["id"].as_i64().unwrap();
        let (status, body) = server.request(
            "POST",
            &format!("/v1/requests/{id}/funding"),
            &op,
            Some(json!({"goal_minor": 100_000, "return_bps": 1000, "deadline_ms": server_now(0) + 60_000, "builder": "examples"})),
        );
        assert_eq!(status, 409, "funding an open request: {body}");
        // Declined requests show their reason to everyone and take no votes.
        let (_, other) = server.request(
            "POST",
            "/v1/requests",
            &a,
            Some(json!({"title": "Paint the console pink", "problem": "Taste."})),
        );
        let other = other["id"].as_i64().unwrap();
        let path = format!("/v1/requests/{other}/status");
        assert_eq!(
            server
                .request("POST", &path, &op, Some(json!({"status": "declined"})))
                .0,
            422,
            "a decline needs its reason"
        );
        server.request(
            "POST",
            &path,
            &op,
            Some(
                json!({"status": "declined", "reason": "one tenant's taste, no value for others"}),
            ),
        );
        let (_, seen) = server.request("GET", &format!("/v1/requests/{other}"), &c, None);
        assert_eq!(seen["reason"], "one tenant's taste, no value for others");
        assert_eq!(
            server
                .request("PUT", &format!("/v1/requests/{other}/vote"), &c, None)
                .0,
            409
        );

        // Funding that lapses: nothing is invoiced, the pledger is told.
        server.request(
            "POST",
            &format!("/v1/requests/{id}/status"),
            &op,
            Some(json!({"status": "accepted"})),
        );
        let (status, campaign) = server.request(
            "POST",
            &format!("/v1/requests/{id}/funding"),
            &op,
            Some(json!({"goal_minor": 100_000, "return_bps": 1000, "deadline_ms": server_now(0) + 1_500, "builder": "examples"})),
        );
        assert_eq!(status, 201, "{campaign}");
        let campaign_id = campaign["id"].as_str().unwrap().to_owned();
        let pledges = format!("/v1/campaigns/{campaign_id}/pledges");
        assert_eq!(
            server
                .request(
                    "POST",
                    &pledges,
                    &c,
                    Some(json!({"amount_minor": i64::MAX}))
                )
                .0,
            422
        );
        assert_eq!(
            server
                .request("POST", &pledges, &c, Some(json!({"amount_minor": 25_000})))
                .0,
            200
        );
        std::thread::sleep(std::time::Duration::from_millis(2_500));
        let (_, lapsed) = server.request("GET", &format!("/v1/campaigns/{campaign_id}"), &c, None);
        assert_eq!(lapsed["status"], "lapsed", "{lapsed}");
        assert_eq!(
            server
                .request("POST", &pledges, &c, Some(json!({"amount_minor": 1})))
                .0,
            409,
            "no pledges after the deadline"
        );
        let (_, request) = server.request("GET", &format!("/v1/requests/{id}"), &c, None);
        assert_eq!(request["status"], "accepted", "{request}");
        // The pledger was told; the poster (subscribed) heard of the
        // funding, not of the lapse, which is the pledgers' news.
        let kinds = |token: &str| -> Vec<String> {
            let (_, inbox) = server.request("GET", "/v1/notifications", token, None);
            inbox["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{inbox}"))
                .iter()
                .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let told = kinds(&c);
        assert!(told.contains(&"funding-lapsed".to_owned()), "{told:?}");
        let told = kinds(&a);
        assert!(!told.contains(&"funding-lapsed".to_owned()), "{told:?}");
        assert!(told.contains(&"request-status".to_owned()), "{told:?}");
        let period = spleis_tests::month_before(0);
        close(&server, &period);
        let (_, invoices) = server.request("GET", "/v1/invoices", &c, None);
        assert!(
            invoices["invoices"].as_array().unwrap().is_empty(),
            "{invoices}"
        );

        // After a lapse, funding opens again; C funds it alone.
        let (status, campaign) = server.request(
            "POST",
            &format!("/v1/requests/{id}/funding"),
            &op,
            Some(json!({"goal_minor": 50_000, "return_bps": 0, "deadline_ms": server_now(0) + 86_400_000, "builder": "examples"})),
        );
        assert_eq!(status, 201, "{campaign}");
        let pledges = format!("/v1/campaigns/{}/pledges", campaign["id"].as_str().unwrap());
        assert_eq!(
            server
                .request("POST", &pledges, &c, Some(json!({"amount_minor": 50_000})))
                .0,
            200
        );
        // A plugin that pays back investors already cannot take a
        // request's funders into its pool; a plugin of their own can.
        assert_eq!(server.publish(&author, "vat_invoice").0, 201);
        for package in ["examples/energy-tariff", "examples/vat-invoice"] {
            server.request(
                "PUT",
                &format!("/v1/packages/{package}/agreement"),
                &op,
                Some(json!({"investor_share_bps": 5000})),
            );
        }
        let (status, body) = server.request(
            "POST",
            "/v1/investments",
            &op,
            Some(json!({"package": "examples/energy-tariff", "investor": "tenant-a", "principal_minor": 1000, "return_bps": 0})),
        );
        assert_eq!(status, 201, "{body}");
        let delivery = format!("/v1/requests/{id}/delivery");
        let (status, body) = server.request(
            "POST",
            &delivery,
            &op,
            Some(json!({"package": "examples/energy-tariff", "version": "0.1.0"})),
        );
        assert_eq!(status, 409, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already pays back")
        );
        let (status, body) = server.request(
            "POST",
            &delivery,
            &op,
            Some(json!({"package": "examples/vat-invoice", "version": "0.1.0"})),
        );
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("delivered")),
            "{body}"
        );

        // Merging keeps no chains: what was merged into a request follows
        // it when it is merged in turn; nothing merges into a delivered one.
        let post = |title: &str| {
            let (_, r) = server.request(
                "POST",
                "/v1/requests",
                &c,
                Some(json!({"title": title, "problem": "p"})),
            );
            r["id"].as_i64().unwrap()
        };
        let (x, y, z) = (
            post("Import tariffs"),
            post("Tariff import"),
            post("Tariffs, imported"),
        );
        let merge = |from: i64, into: i64| {
            server.request(
                "POST",
                &format!("/v1/requests/{from}/status"),
                &op,
                Some(json!({"status": "duplicate", "duplicate_of": into})),
            )
        };
        assert_eq!(merge(z, y).0, 200);
        assert_eq!(merge(y, x).0, 200);
        let (_, seen) = server.request("GET", &format!("/v1/requests/{z}"), &c, None);
        assert_eq!(seen["duplicate_of"], x, "{seen}");
        assert_eq!(merge(x, id).0, 422, "#{id} is delivered");
        let (status, body) = server.request("GET", "/v1/requests?status=bogus", &c, None);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid-query")),
            "{body}"
        );
    }
}

#[test]
fn the_cli_posts_votes_assesses_and_shows_a_request() {
    let server = start(None, 0);
    let a = server.account("tenant-a", "tenant");
    let b = server.account("tenant-b", "tenant");
    let as_ = |token: &str, args: &[&str]| {
        let mut all = vec!["--server", server.url.as_str(), "--token", token, "request"];
        all.extend_from_slice(args);
        spleis_tests::spleis(&all)
    };
    let (code, out, err) = as_(
        &a,
        &[
            "post",
            "--title",
            "CSV export of invoices",
            "--problem",
            "We retype them.",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("#1 CSV export of invoices"), "{out}");
    let (code, _, err) = as_(
        &b,
        &[
            "post",
            "--title",
            "Export invoices as CSV files",
            "--problem",
            "Same.",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("similar requests") && err.contains("#1"),
        "{err}"
    );
    assert_eq!(as_(&b, &["vote", "1"]).0, 0);
    let (code, out, _) = as_(&a, &["list", "--q", "csv invoices"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("#1 [open] CSV export of invoices — 2 votes"),
        "{out}"
    );
    let (code, _, err) = as_(&a, &["assess", "1", "accepted"]);
    assert_eq!(code, 2, "a tenant may not assess");
    assert!(err.contains("operator"), "{err}");
    let op = server.operator.clone();
    let (code, out, err) = as_(
        &op,
        &[
            "assess",
            "2",
            "duplicate",
            "--duplicate-of",
            "1",
            "--reason",
            "same wish",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = as_(&a, &["show", "1"]);
    assert_eq!(code, 0);
    assert!(out.contains("votes: 2"), "{out}");
    assert!(out.contains("#2 merged into this request"), "{out}");
    let (code, _, err) = as_(&a, &["assess", "1", "shipped"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown status `shipped`"), "{err}");
}
