//! Billing end to end on the real binary, on SQLite and PostgreSQL: an
//! author prices two example plugins, tenants use them, the operator adds an
//! investment, credit and a minimum commitment, closes the month, and every
//! invoice, statement and ledger figure is asserted to the cent; roles see
//! only their own; closing twice changes nothing; later usage goes into the
//! next period.

use serde_json::{Value, json};
use spleis_tests::{Server, backends, repo_root, spleis};

fn quote(contract: &str) -> Value {
    let text = std::fs::read_to_string(
        repo_root().join("example-plugins/energy-tariff/requests/quote.json"),
    )
    .expect("sample request");
    let mut body: Value = serde_json::from_str(&text).expect("JSON");
    body["contract_id"] = json!(contract);
    body
}

fn vat_request() -> Value {
    let text = std::fs::read_to_string(
        repo_root().join("example-plugins/vat-invoice/requests/calculate.json"),
    )
    .expect("sample request");
    serde_json::from_str(&text).expect("JSON")
}

fn minor(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[test]
fn a_month_is_closed_exactly_once_and_everyone_sees_their_own() {
    for database in backends() {
        let server = Server::start(database.as_deref());
        let op = server.operator.clone();
        let author = server.account("examples", "author");
        let a = server.account("tenant-a", "tenant");
        let b = server.account("tenant-b", "tenant");
        for plugin in ["energy_tariff", "vat_invoice"] {
            assert_eq!(server.publish(&author, plugin).0, 201);
        }

        // The author prices the plugins; another author may not.
        let energy_plan = json!({
            "currency": "EUR",
            "charges": [
                {"meter": {"on": "calls", "operation": null}, "pricing": {"kind": "unit", "price": "0.0004"}},
                {"meter": {"on": "metric", "metric": "active-contract"}, "pricing": {"kind": "unit", "price": "1.50"}}
            ]
        });
        let vat_plan = json!({
            "currency": "EUR",
            "charges": [
                {"meter": {"on": "calls", "operation": "calculate"}, "pricing": {"kind": "unit", "price": "0.01"}},
                {"meter": {"on": "metric", "metric": "invoice-line"}, "pricing": {"kind": "tiered", "mode": "graduated", "tiers": [
                    {"up_to": "3", "unit_price": "0.05"}, {"up_to": null, "unit_price": "0.02"}
                ]}}
            ]
        });
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(energy_plan.clone()),
        );
        assert_eq!(status, 201, "{body}");
        let period = body["effective_from"]
            .as_str()
            .expect("a period")
            .to_owned();
        let (status, _) = server.request(
            "PUT",
            "/v1/packages/examples/vat-invoice/plan",
            &author,
            Some(vat_plan),
        );
        assert_eq!(status, 201);
        let intruder = server.account("intruder", "author");
        let (status, _) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &intruder,
            Some(energy_plan.clone()),
        );
        assert_eq!(status, 403);
        let mut usd = energy_plan.clone();
        usd["currency"] = json!("USD");
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(usd),
        );
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bills in EUR")
        );

        // A malformed plan is refused with a JSON error that says why.
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(json!({"currency": "EUR", "charges": [{"meter": {"on": "stars"}, "pricing": {"kind": "unit", "price": "1"}}]})),
        );
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid-body")),
            "{body}"
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains("stars"),
            "{body}"
        );

        // A plan must name what the plugin declares.
        let mut typo = energy_plan.clone();
        typo["charges"][1]["meter"]["metric"] = json!("active-contracts");
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/plan",
            &author,
            Some(typo),
        );
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body["error"]["message"],
            "charge 2: examples/energy-tariff declares no metric `active-contracts` (declared: active-contract)"
        );

        // The operator: an agreement with an investor share, B's investment
        // of EUR 10.00 at 10%, credit for A, a minimum commitment for B.
        let (status, body) = server.request(
            "PUT",
            "/v1/packages/examples/energy-tariff/agreement",
            &author,
            Some(json!({"investor_share_bps": 3000})),
        );
        assert_eq!(status, 403, "{body}");
        let (status, body) = server.request("PUT", "/v1/packages/examples/energy-tariff/agreement", &op,
            Some(json!({"platform_fee_bps": 2000, "investor_share_bps": 3000, "after_payback": "to-platform"})));
        assert_eq!(
            (status, body["author"].as_str()),
            (200, Some("examples")),
            "{body}"
        );
        let (status, body) = server.request("POST", "/v1/investments", &op,
            Some(json!({"package": "examples/energy-tariff", "investor": "tenant-b", "principal_minor": 1000, "return_bps": 1000})));
        assert_eq!(status, 201, "{body}");
        assert_eq!(minor(&body["cap"]), 1100);
        let (status, body) = server.request("POST", "/v1/investments", &op,
            Some(json!({"package": "examples/energy-tariff", "investor": "tenant-b", "principal_minor": -5})));
        assert_eq!(status, 422, "{body}");
        let (status, _) = server.request(
            "POST",
            "/v1/tenants/tenant-a/credit",
            &op,
            Some(json!({"amount_minor": 100})),
        );
        assert_eq!(status, 200);
        let (status, _) = server.request(
            "PUT",
            "/v1/tenants/tenant-b/minimum",
            &op,
            Some(json!({"minimum_minor": 500})),
        );
        assert_eq!(status, 200);
        // B contributed: 10% off this period, borne by the platform.
        let (status, body) = server.request(
            "POST",
            "/v1/tenants/tenant-b/discounts",
            &op,
            Some(
                json!({"reason": "contributor", "percent_bps": 1000, "from": period, "to": period}),
            ),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = server.request(
            "POST",
            "/v1/tenants/tenant-b/discounts",
            &op,
            Some(json!({"reason": "both", "percent_bps": 1000, "fixed_minor": 5, "from": period, "to": period})),
        );
        assert_eq!(status, 400, "{body}");
        let (status, _) = server.request(
            "PUT",
            "/v1/tenants/nobody/minimum",
            &op,
            Some(json!({"minimum_minor": 500})),
        );
        assert_eq!(status, 404);

        // Usage: A quotes contracts C-1 (3×) and C-2 (2×) and calculates two
        // invoices of two lines; B quotes C-1 once.
        for (tenant, package, grants) in [
            (&a, "examples/energy-tariff", json!(["metering", "log"])),
            (&a, "examples/vat-invoice", json!(["config", "metering"])),
            (&b, "examples/energy-tariff", json!(["metering", "log"])),
        ] {
            let (status, body) = server.request(
                "POST",
                "/v1/installs",
                tenant,
                Some(json!({"package": package, "grants": grants,
                    "config": {"rate.DE.standard": "0.19", "rate.DE.reduced": "0.07"}})),
            );
            assert_eq!(status, 201, "{body}");
        }
        for contract in ["C-1", "C-1", "C-2", "C-1", "C-2"] {
            assert_eq!(
                server
                    .call(&a, "examples/energy-tariff", "quote", &quote(contract))
                    .0,
                200
            );
        }
        for _ in 0..2 {
            assert_eq!(
                server
                    .call(&a, "examples/vat-invoice", "calculate", &vat_request())
                    .0,
                200
            );
        }
        assert_eq!(
            server
                .call(&b, "examples/energy-tariff", "quote", &quote("C-1"))
                .0,
            200
        );

        // Usage by role: A sees its own; the author its plugins; B its own.
        let (_, report) = server.request(
            "GET",
            &format!("/v1/reports/usage?period={period}"),
            &a,
            None,
        );
        let contracts = report["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == "active-contract")
            .expect("A's contracts");
        assert_eq!(
            (contracts["units"].as_i64(), &contracts["unique"]),
            (Some(2), &json!(true)),
            "counted once per contract"
        );
        assert!(
            report["calls"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["tenant"] == "tenant-a")
        );
        let (_, report) = server.request("GET", "/v1/reports/usage", &author, None);
        assert_eq!(report["calls"].as_array().unwrap().len(), 3, "{report}");
        let (_, report) = server.request("GET", "/v1/reports/usage", &intruder, None);
        assert!(report["calls"].as_array().unwrap().is_empty());

        // Closing: not by a tenant; not a running month by accident.
        let close = json!({"period": period});
        assert_eq!(
            server
                .request("POST", "/v1/billing/close", &a, Some(close.clone()))
                .0,
            403
        );
        let (status, body) = server.request("POST", "/v1/billing/close", &op, Some(close.clone()));
        assert_eq!(status, 409, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--early")
        );
        let (status, closed) = server.request(
            "POST",
            "/v1/billing/close",
            &op,
            Some(json!({"period": period, "early": true})),
        );
        assert_eq!(status, 201, "{closed}");
        let summary = &closed["summary"];
        // A: 3.00 contracts + 0.00 calls (0.002) + 0.02 calls + 0.17 lines
        // (3 × 0.05 + 1 × 0.02) = 3.19. B: 1.50, topped up to 5.00, less its
        // 10% contributor discount: 4.50 (the platform bears the 0.50).
        // Energy 4.50: fee 0.90, investor 30% of 3.60 = 1.08, author 2.52.
        // VAT 0.19: fee 0.03 (0.038 floored), author 0.16.
        assert_eq!(
            [
                &summary["charged"],
                &summary["platform"],
                &summary["authors"],
                &summary["investors"]
            ]
            .map(minor),
            [769, 90 + 3 + 350 - 50, 252 + 16, 108]
        );

        let (_, invoices) = server.request("GET", "/v1/invoices", &a, None);
        let invoices = invoices["invoices"].as_array().unwrap().clone();
        assert_eq!(invoices.len(), 1, "A sees only its own");
        let inv = &invoices[0];
        let number = inv["number"].as_str().unwrap().to_owned();
        assert!(number.ends_with("-0001"));
        let lines: Vec<(String, String, i64)> = inv["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["plugin"].as_str().unwrap_or("").to_owned(),
                    l["quantity"].as_str().unwrap().to_owned(),
                    minor(&l["amount"]["minor"]),
                )
            })
            .collect();
        assert_eq!(
            lines,
            // The 5 units that round to 0.00 are not written (issue 9).
            [
                ("examples/energy-tariff".into(), "2".into(), 300),
                ("examples/vat-invoice".into(), "2".into(), 2),
                ("examples/vat-invoice".into(), "4".into(), 17),
            ]
        );
        assert_eq!(inv["lines"][0]["plan"], "examples/energy-tariff plan 1");
        assert_eq!(inv["lines"][0]["versions"], json!(["0.1.0"]));
        assert_eq!(
            [
                &inv["subtotal"],
                &inv["total"],
                &inv["credit_used"],
                &inv["amount_due"]
            ]
            .map(minor),
            [319, 319, 100, 219]
        );

        // B may not read A's invoice; an author lists no invoices.
        let (status, _) = server.request("GET", &format!("/v1/invoices/{number}"), &b, None);
        assert_eq!(status, 404);
        assert_eq!(server.request("GET", "/v1/invoices", &author, None).0, 403);
        let (_, b_invoices) = server.request("GET", "/v1/invoices", &b, None);
        let b_inv = &b_invoices["invoices"][0];
        assert_eq!(minor(&b_inv["total"]), 450);
        // B's usage line that rounds to 0.00 is not written: one usage
        // line, then the top-up and the discount.
        assert_eq!(b_inv["lines"].as_array().unwrap().len(), 3);
        assert_eq!(
            b_inv["lines"][1]["description"],
            "minimum monthly commitment of 5.00 EUR"
        );
        assert_eq!(b_inv["lines"][2]["description"], "discount: contributor");
        assert_eq!(minor(&b_inv["lines"][2]["amount"]["minor"]), -50);

        // CSV and printable HTML of the same invoice.
        let (status, kind, csv) = server.get_text(&format!("/v1/invoices/{number}?format=csv"), &a);
        assert_eq!((status, kind.as_str()), (200, "text/csv"));
        assert!(csv.contains(",examples/vat-invoice,0.1.0,examples/vat-invoice plan 1,units of `invoice-line`,4,,17,EUR"), "{csv}");
        assert!(csv.contains("amount due,,,219,EUR"), "{csv}");
        let (status, kind, html) =
            server.get_text(&format!("/v1/invoices/{number}?format=html"), &a);
        assert_eq!((status, kind.as_str()), (200, "text/html"));
        // The console's printed invoice (parties, due date), figures in English.
        assert!(
            html.contains(&format!("<h1>Invoice {number}</h1>"))
                && html.contains("EUR\u{a0}2.19")
                && html.contains("Bill to")
                && html.contains("Due"),
            "{html}"
        );
        assert_eq!(
            server
                .get_text(&format!("/v1/invoices/{number}?format=html"), &b)
                .0,
            404,
            "not B's, as HTML either"
        );

        // Statements, booked as received: the author's and the investor's.
        let (_, statements) = server.request("GET", "/v1/statements", &author, None);
        assert_eq!(minor(&statements["statements"][0]["total"]), 268);
        let (_, statements) = server.request("GET", "/v1/statements", &b, None);
        let investor = &statements["statements"][0];
        assert_eq!(
            (investor["kind"].as_str(), minor(&investor["total"])),
            (Some("investor"), 108)
        );
        let statement = investor["number"].as_str().unwrap().to_owned();
        let (status, _, statement_csv) =
            server.get_text(&format!("/v1/statements/{statement}?format=csv"), &b);
        assert_eq!(status, 200);
        assert!(
            statement_csv.contains(",tenant-b,examples/energy-tariff,inv-")
                && statement_csv.contains(",total,108,EUR"),
            "{statement_csv}"
        );
        let (status, _, statement_html) =
            server.get_text(&format!("/v1/statements/{statement}?format=html"), &b);
        assert_eq!(status, 200);
        assert!(
            statement_html.contains("<strong>tenant-b</strong> (investor)")
                && statement_html.contains("EUR\u{a0}1.08"),
            "{statement_html}"
        );
        assert_eq!(
            server
                .get_text(&format!("/v1/statements/{statement}"), &a)
                .0,
            404,
            "not A's"
        );
        let (_, statements) = server.request("GET", "/v1/statements", &a, None);
        assert!(statements["statements"].as_array().unwrap().is_empty());

        // Money and names in every format: never sniffed, never cached;
        // the printable ones under the standalone document's strict policy.
        for (document, reader) in [
            (format!("/v1/invoices/{number}"), &a),
            (format!("/v1/statements/{statement}"), &b),
        ] {
            for format in ["", "?format=json", "?format=csv", "?format=html"] {
                let path = format!("{document}{format}");
                let (status, headers, _) = server.get_with_headers(
                    &path,
                    reader,
                    &[
                        "x-content-type-options",
                        "cache-control",
                        "content-security-policy",
                    ],
                );
                assert_eq!(status, 200, "{path}");
                assert_eq!(headers[0].as_deref(), Some("nosniff"), "{path}");
                assert_eq!(headers[1].as_deref(), Some("no-store"), "{path}");
                if format == "?format=html" {
                    let csp = headers[2].as_deref().unwrap_or_default();
                    assert!(
                        csp.contains("default-src 'none'")
                            && csp.contains("frame-ancestors 'none'")
                            && !csp.contains("script-src")
                            && !csp.contains("unsafe-inline"),
                        "{path}: {csp}"
                    );
                }
            }
        }
        let (_, ledger) = server.request(
            "GET",
            &format!("/v1/billing/ledger?period={period}"),
            &op,
            None,
        );
        assert_eq!(minor(&ledger["sum"]), 0, "{ledger}");

        // Closing again changes nothing.
        let (status, again) = server.request(
            "POST",
            "/v1/billing/close",
            &op,
            Some(json!({"period": period, "early": true})),
        );
        assert_eq!((status, &again["summary"]), (200, summary));
        let (_, all) = server.request("GET", "/v1/invoices", &op, None);
        assert_eq!(all["invoices"].as_array().unwrap().len(), 2);

        // Later usage goes into the next period; the closed one is unchanged.
        assert_eq!(
            server
                .call(&a, "examples/energy-tariff", "quote", &quote("C-3"))
                .0,
            200
        );
        let (_, periods) = server.request("GET", "/v1/billing/periods", &op, None);
        let next = periods["open"].as_str().unwrap().to_owned();
        assert_ne!(next, period);
        let (_, report) = server.request(
            "GET",
            &format!("/v1/reports/usage?period={period}"),
            &op,
            None,
        );
        let calls: i64 = report["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| minor(&c["calls"]))
            .sum();
        assert_eq!(calls, 8);
        let (_, report) = server.request("GET", "/v1/reports/usage", &a, None);
        assert_eq!(report["period"], next.as_str());
        assert_eq!(minor(&report["calls"][0]["calls"]), 1);

        // The investor's view: paid, remaining, this month so far.
        let (_, view) = server.request("GET", "/v1/investments", &b, None);
        let mine = &view["investments"][0];
        assert_eq!([&mine["paid"], &mine["remaining"]].map(minor), [108, 992]);
        assert_eq!(mine["period"], next.as_str());
        // 1.50 charged so far (C-3); revenue after the 20% fee: 1.20.
        assert_eq!(
            [&mine["charged_so_far"], &mine["revenue_so_far"]].map(minor),
            [150, 120]
        );
        assert!(minor(&mine["projected_revenue"]) >= 120);
        assert_eq!(
            server.request("GET", "/v1/investments", &author, None).0,
            403
        );

        // The same through the command line.
        let connection = ["--server", server.url.as_str(), "--token", op.as_str()];
        let (code, out, err) = spleis(
            &[
                &["billing", "close", "--period", &period][..],
                &connection[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("was already closed") && out.contains("charged 7.69 EUR"),
            "{out}"
        );
        let (code, out, err) = spleis(
            &[
                &["report", "invoice", &number, "--format", "csv"][..],
                &connection[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, csv);
        let (code, out, _) =
            spleis(&[&["report", "invoice", &number][..], &connection[..]].concat());
        assert_eq!(code, 0);
        assert!(
            out.contains("amount due") && out.contains("2.19 EUR"),
            "{out}"
        );
        let (code, _, err) = spleis(
            &[
                &["billing", "credit", "tenant-a", "--amount", "1.005"][..],
                &connection[..],
            ]
            .concat(),
        );
        assert_eq!(code, 2);
        assert!(err.contains("more decimals than EUR allows"), "{err}");
    }
}

#[test]
fn a_funded_campaign_becomes_investments_paid_back_in_proportion() {
    let server = Server::start(None);
    let op = server.operator.clone();
    let author = server.account("examples", "author");
    let tenants: Vec<String> = ["t-a", "t-b", "t-c"]
        .iter()
        .map(|t| server.account(t, "tenant"))
        .collect();
    assert_eq!(server.publish(&author, "energy_tariff").0, 201);
    server.request(
        "PUT",
        "/v1/packages/examples/energy-tariff/agreement",
        &op,
        Some(json!({"investor_share_bps": 5000})),
    );
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 1500;
    let (status, campaign) = server.request(
        "POST",
        "/v1/campaigns",
        &author,
        Some(json!({
            "package": "examples/energy-tariff", "title": "time-of-use tariffs",
            "goal_minor": 10_000, "deadline_ms": deadline, "return_bps": 1000
        })),
    );
    assert_eq!(status, 201, "{campaign}");
    let id = campaign["id"].as_str().unwrap().to_owned();
    for (token, amount) in tenants.iter().zip([5_000, 3_333, 1_667]) {
        let (status, body) = server.request(
            "POST",
            &format!("/v1/campaigns/{id}/pledges"),
            token,
            Some(json!({"amount_minor": amount})),
        );
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        server
            .request(
                "POST",
                &format!("/v1/campaigns/{id}/pledges"),
                &author,
                Some(json!({"amount_minor": 1}))
            )
            .0,
        403
    );
    // Pledges are private: a tenant sees the total, the count and its own
    // pledge; the author and the operator see who pledged what.
    let (_, seen) = server.request("GET", &format!("/v1/campaigns/{id}"), &tenants[1], None);
    assert_eq!(
        (&seen["pledged"], &seen["pledge_count"]),
        (&json!(10_000), &json!(3)),
        "{seen}"
    );
    let pledges = seen["pledges"].as_array().unwrap();
    assert_eq!(pledges.len(), 1, "{seen}");
    assert_eq!(pledges[0]["tenant"], "t-b");
    let (_, listed) = server.request("GET", "/v1/campaigns", &tenants[2], None);
    assert_eq!(
        listed["campaigns"][0]["pledges"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    for token in [&author, &op] {
        let (_, seen) = server.request("GET", &format!("/v1/campaigns/{id}"), token, None);
        assert_eq!(seen["pledges"].as_array().unwrap().len(), 3, "{seen}");
    }
    let (status, body) = server.request("POST", &format!("/v1/campaigns/{id}/close"), &op, None);
    assert_eq!(status, 409, "before the deadline: {body}");
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let (status, closed) = server.request("POST", &format!("/v1/campaigns/{id}/close"), &op, None);
    assert_eq!(
        (status, closed["status"].as_str()),
        (200, Some("funded")),
        "{closed}"
    );
    let (_, all) = server.request("GET", "/v1/investments", &op, None);
    let caps: Vec<(String, i64, i64)> = all["investments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["investor"].as_str().unwrap().to_owned(),
                minor(&i["principal"]),
                minor(&i["cap"]),
            )
        })
        .collect();
    assert_eq!(
        caps,
        [
            ("t-a".into(), 5_000, 5_500),
            ("t-b".into(), 3_333, 3_666),
            ("t-c".into(), 1_667, 1_833)
        ]
    );
}
