//! Every example plugin's operations, end to end through the runtime.

use serde_json::{Value, json};
use spleis_registry::Capability;
use spleis_runtime::CallError;
use spleis_runtime::capabilities::storage::{KeyValueStore, MemoryStore};
use spleis_runtime::{
    Call, Install, Invocation, LoadedPlugin, OutcomeKind, Runtime, RuntimeConfig,
};
use std::sync::{Arc, OnceLock};

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime starts"))
}

async fn load(name: &str) -> Arc<LoadedPlugin> {
    runtime()
        .load(&spleis_tests::plugin(name))
        .await
        .expect("example plugin loads")
}

fn install(plugin: &LoadedPlugin, tenant: &str, config: &[(&str, &str)]) -> Arc<Install> {
    let manifest = plugin.manifest.as_ref().expect("examples embed a manifest");
    Arc::new(Install {
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Install::granting_all(tenant, manifest)
    })
}

async fn call(
    plugin: &LoadedPlugin,
    install: &Arc<Install>,
    store: &Arc<MemoryStore>,
    op: &str,
    body: Value,
) -> Invocation {
    runtime()
        .invoke(
            plugin,
            install.clone(),
            store.clone(),
            Call::Handle {
                operation: op.into(),
                body: serde_json::to_vec(&body).unwrap(),
            },
            None,
        )
        .await
        .expect("the call runs")
}

fn ok(inv: &Invocation) -> Value {
    match &inv.result {
        Ok(body) => serde_json::from_slice(body).expect("JSON response"),
        Err(e) => panic!("call failed: {e}; log: {:?}", inv.log),
    }
}

fn err(inv: &Invocation) -> &CallError {
    inv.result.as_ref().expect_err("the call should fail")
}

fn contract() -> Value {
    json!({
        "contract_id": "C-1001",
        "consumption_kwh": "3500",
        "months": 12,
        "tariff": {
            "currency": "EUR",
            "base_fee_per_month": "9.90",
            "tiers": [
                {"up_to_kwh": "2000", "price_per_kwh": "0.3124"},
                {"price_per_kwh": "0.2950"}
            ],
            "vat_rate": "0.19"
        }
    })
}

#[tokio::test]
async fn energy_tariff_quotes_exactly_and_reports_one_active_contract() {
    let plugin = load("energy_tariff").await;
    let inst = install(&plugin, "tenant-a", &[]);
    let store = Arc::new(MemoryStore::new());
    let inv = call(&plugin, &inst, &store, "quote", contract()).await;
    let quote = ok(&inv);
    let amounts: Vec<&str> = quote["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    // 12 × 9.90; 2000 × 0.3124; 1500 × 0.2950
    assert_eq!(amounts, ["118.80", "624.80", "442.50"]);
    assert_eq!(quote["net"], "1186.10");
    // 1186.10 × 0.19 = 225.359 → 225.36 (half away from zero)
    assert_eq!(quote["vat"], "225.36");
    assert_eq!(quote["total"], "1411.46");
    assert_eq!(inv.usage.outcome, OutcomeKind::Ok);
    assert_eq!(inv.usage.units.len(), 1);
    assert_eq!(inv.usage.units[0].metric, "active-contract");
    assert_eq!(inv.usage.units[0].key.as_deref(), Some("C-1001"));
    assert_eq!(inv.usage.units[0].quantity, 1);
    assert!(inv.usage.fuel_consumed > 0 && inv.usage.peak_memory_bytes > 0);
    assert_eq!(inv.usage.tenant, "tenant-a");
    assert_eq!(inv.usage.plugin, "examples/energy-tariff");
    assert!(
        inv.log
            .iter()
            .any(|l| l.message.contains("quoted contract C-1001"))
    );
}

#[tokio::test]
async fn energy_tariff_rounds_half_away_from_zero_per_line() {
    let plugin = load("energy_tariff").await;
    let inst = install(&plugin, "t", &[]);
    let store = Arc::new(MemoryStore::new());
    let mut c = contract();
    c["consumption_kwh"] = json!("0.5");
    c["months"] = json!(1);
    c["tariff"]["base_fee_per_month"] = json!("0");
    c["tariff"]["tiers"] = json!([{"price_per_kwh": "0.125"}]);
    c["tariff"]["vat_rate"] = json!("0");
    let quote = ok(&call(&plugin, &inst, &store, "quote", c).await);
    // 0.5 × 0.125 = 0.0625 → 0.06; a midpoint case: 0.025 → 0.03
    assert_eq!(quote["lines"][1]["amount"], "0.06");
    let mut c = contract();
    c["consumption_kwh"] = json!("1");
    c["months"] = json!(1);
    c["tariff"]["base_fee_per_month"] = json!("0");
    c["tariff"]["tiers"] = json!([{"price_per_kwh": "0.025"}]);
    c["tariff"]["vat_rate"] = json!("0");
    assert_eq!(
        ok(&call(&plugin, &inst, &store, "quote", c).await)["total"],
        "0.03"
    );
}

#[tokio::test]
async fn energy_tariff_refuses_bad_input_with_a_clear_error_and_bills_nothing() {
    let plugin = load("energy_tariff").await;
    let inst = install(&plugin, "t", &[]);
    let store = Arc::new(MemoryStore::new());
    let mut c = contract();
    c["tariff"]["tiers"] =
        json!([{"price_per_kwh": "0.3"}, {"up_to_kwh": "10", "price_per_kwh": "0.2"}]);
    let inv = call(&plugin, &inst, &store, "quote", c).await;
    let e = err(&inv);
    assert_eq!(e.kind, OutcomeKind::PluginError);
    assert_eq!(e.code, "invalid-input");
    assert!(e.message.contains("only the last tier"), "{}", e.message);
    assert!(inv.usage.units.is_empty());

    let inv = call(&plugin, &inst, &store, "quote", json!({"contract_id": "x"})).await;
    assert!(
        err(&inv).message.contains("missing field"),
        "{}",
        err(&inv).message
    );
}

#[tokio::test]
async fn unknown_operations_are_refused_before_running() {
    let plugin = load("energy_tariff").await;
    let inst = install(&plugin, "t", &[]);
    let error = runtime()
        .invoke(
            &plugin,
            inst,
            Arc::new(MemoryStore::new()),
            Call::Handle {
                operation: "nope".into(),
                body: vec![],
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the plugin has no operation `nope` (it has: quote)"
    );
}

#[tokio::test]
async fn membership_dues_keeps_members_per_tenant_and_lists_who_is_overdue() {
    let plugin = load("membership_dues").await;
    let a = install(&plugin, "club-a", &[("default_monthly_dues", "10.00")]);
    let b = install(&plugin, "club-b", &[]);
    let store = Arc::new(MemoryStore::new());

    let m = ok(&call(
        &plugin,
        &a,
        &store,
        "add-member",
        json!({"id": "ann", "name": "Ann", "joined": "2026-09"}),
    )
    .await);
    assert_eq!(m["monthly_dues"], "10.00");
    ok(&call(
        &plugin,
        &a,
        &store,
        "add-member",
        json!({"id": "bob", "name": "Bob", "monthly_dues": "12.50", "joined": "2026-10"}),
    )
    .await);
    let dup = call(
        &plugin,
        &a,
        &store,
        "add-member",
        json!({"id": "bob", "name": "Bob", "monthly_dues": "1", "joined": "2026-10"}),
    )
    .await;
    assert_eq!(err(&dup).code, "conflict");

    // Ann owes Sep-Nov (30.00), pays 30: settled. Bob owes Oct-Nov 25.00, pays 10.
    ok(&call(
        &plugin,
        &a,
        &store,
        "record-payment",
        json!({"member_id": "ann", "amount": "30"}),
    )
    .await);
    ok(&call(
        &plugin,
        &a,
        &store,
        "record-payment",
        json!({"member_id": "bob", "amount": "10.00"}),
    )
    .await);
    let overdue = ok(&call(
        &plugin,
        &a,
        &store,
        "list-overdue",
        json!({"as_of": "2026-11"}),
    )
    .await);
    assert_eq!(
        overdue,
        json!([{"id": "bob", "name": "Bob", "months_due": 2, "owed": "15.00"}])
    );

    // An event adds a member the same way.
    let inv = runtime()
        .invoke(
            &plugin,
            a.clone(),
            store.clone(),
            Call::Event {
                id: "ev-1".into(),
                topic: "member.joined".into(),
                payload: serde_json::to_vec(&json!({"id": "cy", "name": "Cy", "month": "2026-11"}))
                    .unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(inv.result.is_ok(), "{:?}", inv.result);
    assert_eq!(inv.usage.operation, "event:member.joined");
    let cy = ok(&call(&plugin, &a, &store, "get-member", json!({"id": "cy"})).await);
    assert_eq!(cy["joined"], "2026-11");

    // Club B sees none of club A's members.
    let none = ok(&call(
        &plugin,
        &b,
        &store,
        "list-overdue",
        json!({"as_of": "2026-11"}),
    )
    .await);
    assert_eq!(none, json!([]));
    let missing = call(&plugin, &b, &store, "get-member", json!({"id": "ann"})).await;
    assert_eq!(err(&missing).code, "not-found");
    let scope_b = b.scope();
    assert!(
        store
            .list_keys(&scope_b, "", None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_capability_not_granted_answers_access_denied() {
    let plugin = load("membership_dues").await;
    let mut inst = (*install(&plugin, "t", &[])).clone();
    inst.grants.remove(&Capability::Storage);
    let inv = call(
        &plugin,
        &Arc::new(inst),
        &Arc::new(MemoryStore::new()),
        "get-member",
        json!({"id": "x"}),
    )
    .await;
    assert_eq!(err(&inv).kind, OutcomeKind::PluginError);
    assert_eq!(err(&inv).code, "access-denied");
}

#[tokio::test]
async fn vat_invoice_uses_configured_rates_per_category() {
    let plugin = load("vat_invoice").await;
    let inst = install(
        &plugin,
        "shop",
        &[("rate.DE.standard", "0.19"), ("rate.DE.reduced", "0.07")],
    );
    let store = Arc::new(MemoryStore::new());
    let inv = call(
        &plugin,
        &inst,
        &store,
        "calculate",
        json!({
            "country": "DE",
            "currency": "EUR",
            "lines": [
                {"description": "Widget", "quantity": "3", "unit_price": "19.99"},
                {"description": "Book", "quantity": "1", "unit_price": "12.345", "category": "reduced"},
                {"description": "Gadget", "quantity": "0.5", "unit_price": "0.01"}
            ]
        }),
    ).await;
    let invoice = ok(&inv);
    // 59.97; 12.345 → 12.35; 0.005 → 0.01
    let nets: Vec<&str> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["net"].as_str().unwrap())
        .collect();
    assert_eq!(nets, ["59.97", "12.35", "0.01"]);
    // reduced: 12.35 × 0.07 = 0.8645 → 0.86; standard: 59.98 × 0.19 = 11.3962 → 11.40
    assert_eq!(
        invoice["vat"],
        json!([
            {"category": "reduced", "rate": "0.07", "net": "12.35", "vat": "0.86"},
            {"category": "standard", "rate": "0.19", "net": "59.98", "vat": "11.40"}
        ])
    );
    assert_eq!(invoice["net_total"], "72.33");
    assert_eq!(invoice["vat_total"], "12.26");
    assert_eq!(invoice["gross_total"], "84.59");
    assert_eq!(inv.usage.units[0].metric, "invoice-line");
    assert_eq!(inv.usage.units[0].quantity, 3);

    let rates = ok(&call(&plugin, &inst, &store, "rates", json!({"country": "DE"})).await);
    assert_eq!(rates, json!({"reduced": "0.07", "standard": "0.19"}));

    let missing = call(
        &plugin,
        &inst,
        &store,
        "calculate",
        json!({"country": "FR", "currency": "EUR", "lines": [{"description": "x", "quantity": "1", "unit_price": "1"}]}),
    ).await;
    assert_eq!(err(&missing).code, "config");
    assert!(
        err(&missing).message.contains("rate.FR.standard"),
        "{}",
        err(&missing).message
    );
}

#[tokio::test]
async fn config_is_per_install() {
    let plugin = load("vat_invoice").await;
    let store = Arc::new(MemoryStore::new());
    let de = install(&plugin, "a", &[("rate.DE.standard", "0.19")]);
    let other = install(&plugin, "b", &[("rate.DE.standard", "0.20")]);
    let body = json!({"country": "DE", "currency": "EUR", "lines": [{"description": "x", "quantity": "1", "unit_price": "100"}]});
    assert_eq!(
        ok(&call(&plugin, &de, &store, "calculate", body.clone()).await)["vat_total"],
        "19.00"
    );
    assert_eq!(
        ok(&call(&plugin, &other, &store, "calculate", body).await)["vat_total"],
        "20.00"
    );
}
