//! The demo's data (as `scripts/demo` makes it), made through the HTTP API
//! of a test server: the author `examples` with three priced plugins, the
//! tenants `acme-energy` (which also funded the tariff plugin) and
//! `sports-club` (credit and a minimum), their calls, the month closed
//! early, and the legal details printed on invoices. The browser tests
//! and the console's benchmark start from it.

use crate::{Server, repo_root};
use serde_json::{Value, json};

/// The demo's accounts and their tokens.
pub struct Demo {
    /// The operator's token.
    pub operator: String,
    /// The author `examples`.
    pub author: String,
    /// The tenant and investor `acme-energy`.
    pub energy: String,
    /// The tenant `sports-club`.
    pub club: String,
    /// The closed period, `YYYY-MM`.
    pub period: String,
}

fn request_file(plugin: &str, name: &str) -> Value {
    let path = repo_root()
        .join("example-plugins")
        .join(plugin)
        .join("requests")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("a request is JSON")
}

fn ok(server: &Server, method: &str, path: &str, token: &str, body: Value) -> Value {
    let (status, answer) = server.request(method, path, token, Some(body));
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// Makes the demo's data on `server`.
pub fn demo(server: &Server) -> Demo {
    let operator = server.operator.clone();
    let author = server.account("examples", "author");
    let energy = server.account("acme-energy", "tenant");
    let club = server.account("sports-club", "tenant");
    for plugin in ["energy_tariff", "membership_dues", "vat_invoice"] {
        let (status, body) = server.publish(&author, plugin);
        assert_eq!(status, 201, "{body}");
    }
    ok(
        server,
        "PUT",
        "/v1/packages/examples/energy-tariff/plan",
        &author,
        json!({"currency":"EUR","charges":[
        {"meter":{"on":"calls"},"pricing":{"kind":"unit","price":"0.004"}},
        {"meter":{"on":"metric","metric":"active-contract"},"pricing":{"kind":"unit","price":"1.50"}}]}),
    );
    ok(
        server,
        "PUT",
        "/v1/packages/examples/vat-invoice/plan",
        &author,
        json!({"currency":"EUR","charges":[
        {"meter":{"on":"calls","operation":"calculate"},"pricing":{"kind":"unit","price":"0.01"}},
        {"meter":{"on":"metric","metric":"invoice-line"},"pricing":{"kind":"tiered","mode":"graduated","tiers":[
            {"up_to":"3","unit_price":"0.05"},{"up_to":null,"unit_price":"0.02"}]}}]}),
    );
    ok(
        server,
        "PUT",
        "/v1/packages/examples/membership-dues/plan",
        &author,
        json!({"currency":"EUR","charges":[
        {"meter":{"on":"calls"},"pricing":{"kind":"unit","price":"0.05"},"free_units":"2"}]}),
    );
    ok(
        server,
        "PUT",
        "/v1/packages/examples/energy-tariff/agreement",
        &operator,
        json!({"platform_fee_bps": 2000, "investor_share_bps": 3000, "after_payback": "to-platform"}),
    );
    ok(
        server,
        "POST",
        "/v1/investments",
        &operator,
        json!({"package": "examples/energy-tariff", "investor": "acme-energy", "principal_minor": 10000, "return_bps": 1000}),
    );
    ok(
        server,
        "POST",
        "/v1/tenants/sports-club/credit",
        &operator,
        json!({"amount_minor": 200}),
    );
    ok(
        server,
        "PUT",
        "/v1/tenants/sports-club/minimum",
        &operator,
        json!({"minimum_minor": 500}),
    );
    ok(
        server,
        "PUT",
        "/v1/parties/@platform",
        &operator,
        json!({"legal_name": "Spleis Platform AS",
        "address": "Storgata 1\n0155 Oslo\nNorway", "tax_id": "NO 999 999 999 MVA", "payment_terms_days": 14}),
    );
    ok(
        server,
        "PUT",
        "/v1/parties/acme-energy",
        &energy,
        json!({"legal_name": "Acme Energy GmbH",
        "address": "Energiestraße 5\n10115 Berlin\nGermany", "tax_id": "DE123456789", "payment_terms_days": 0}),
    );
    ok(
        server,
        "PUT",
        "/v1/parties/sports-club",
        &club,
        json!({"legal_name": "Sportsklubben Spleis",
        "address": "Idrettsveien 2\n5003 Bergen\nNorway", "tax_id": "", "payment_terms_days": 0}),
    );

    ok(
        server,
        "POST",
        "/v1/installs",
        &energy,
        json!({"package": "examples/energy-tariff", "requirement": "^0.1",
        "grants": ["metering", "log"]}),
    );
    ok(
        server,
        "POST",
        "/v1/installs",
        &energy,
        json!({"package": "examples/vat-invoice", "requirement": "^0.1",
        "grants": ["config", "metering"], "config": {"rate.DE.standard": "0.19", "rate.DE.reduced": "0.07"}}),
    );
    let quote = request_file("energy-tariff", "quote.json");
    let text = quote.to_string();
    for contract in ["C-1001", "C-1002", "C-1003", "C-1001"] {
        let body: Value = serde_json::from_str(&text.replace("C-1001", contract)).expect("JSON");
        let (status, answer) = server.call(&energy, "examples/energy-tariff", "quote", &body);
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = server.call(
        &energy,
        "examples/vat-invoice",
        "calculate",
        &request_file("vat-invoice", "calculate.json"),
    );
    assert_eq!(status, 200, "{answer}");

    ok(
        server,
        "POST",
        "/v1/installs",
        &club,
        json!({"package": "examples/membership-dues", "requirement": "^0.1",
        "grants": ["storage", "config", "log"], "config": {"default_monthly_dues": "10.00"}}),
    );
    for op in ["add-member", "record-payment"] {
        let (status, answer) = server.call(
            &club,
            "examples/membership-dues",
            op,
            &request_file("membership-dues", &format!("{op}.json")),
        );
        assert_eq!(status, 200, "{answer}");
    }
    ok(
        server,
        "POST",
        "/v1/events",
        &club,
        json!({"topic": "member.joined",
        "payload": request_file("membership-dues", "member-joined.json")}),
    );
    let (status, answer) = server.call(
        &club,
        "examples/membership-dues",
        "list-overdue",
        &request_file("membership-dues", "list-overdue.json"),
    );
    assert_eq!(status, 200, "{answer}");

    let (_, periods) = server.request("GET", "/v1/billing/periods", &operator, None);
    let period = periods["open"]
        .as_str()
        .expect("the open period")
        .to_owned();
    ok(
        server,
        "POST",
        "/v1/billing/close",
        &operator,
        json!({"period": period, "early": true}),
    );
    // A few calls after the close, so the open month has usage to show.
    for contract in ["C-2001", "C-2002"] {
        let body: Value = serde_json::from_str(&text.replace("C-1001", contract)).expect("JSON");
        let (status, answer) = server.call(&energy, "examples/energy-tariff", "quote", &body);
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = server.call(
        &club,
        "examples/membership-dues",
        "list-overdue",
        &request_file("membership-dues", "list-overdue.json"),
    );
    assert_eq!(status, 200, "{answer}");
    Demo {
        operator,
        author,
        energy,
        club,
        period,
    }
}
