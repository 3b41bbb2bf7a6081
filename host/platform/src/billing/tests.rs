//! The billing operations without HTTP: who may do what, what each role
//! sees, and a close that writes queued usage first.

use crate::usage::Durability;
use crate::{AccessError, Actor, Error, Platform};
use spleis_billing::discounts::{Discount, DiscountAmount, Period};
use spleis_billing::rating::PricePlan;
use spleis_domain::UsageRow;
use spleis_domain::accounts::Role;
use spleis_domain::{MeterReport, OutcomeKind, Usage};
use spleis_store::testing::{self, Guard};
use spleis_store::{Store, now_ms};
use std::fmt::Debug;
use std::sync::Arc;

const PACKAGE: &str = "acme/tariff";

/// The cast: the operator, the plugin's author, another author, two tenants.
struct Cast {
    op: Actor,
    acme: Actor,
    rival: Actor,
    a: Actor,
    b: Actor,
}

fn platform(store: Store, durability: Durability) -> Platform {
    let runtime = spleis_runtime::Runtime::new(spleis_runtime::RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .expect("runtime");
    Platform::new(store, Arc::new(runtime), durability)
}

/// Platforms on every test backend, each with the cast and `acme/tariff`
/// published by acme (declaring the unique metric `active-contract`).
async fn platforms(durability: Durability) -> Vec<(Platform, Cast, Guard)> {
    let mut all = Vec::new();
    for (store, guard) in testing::all().await {
        let platform = platform(store, durability);
        let cast = cast(&platform.store).await;
        let manifest = spleis_registry::Manifest::parse(
            "name = \"acme/tariff\"\nversion = \"1.0.0\"\noperations = [\"quote\"]\n\
             capabilities = [\"metering\"]\n[metrics.active-contract]\naggregation = \"unique\"",
        )
        .unwrap();
        platform
            .store
            .publish_version(&cast.acme, b"component", &manifest, "0.1.0")
            .await
            .unwrap();
        all.push((platform, cast, guard));
    }
    all
}

async fn cast(store: &Store) -> Cast {
    let actor = |id: &'static str, role| async move {
        Actor::new(store.create_account(id, role, id).await.unwrap())
    };
    Cast {
        op: actor("op", Role::Operator).await,
        acme: actor("acme", Role::Author).await,
        rival: actor("rival", Role::Author).await,
        a: actor("tenant-a", Role::Tenant).await,
        b: actor("tenant-b", Role::Tenant).await,
    }
}

fn plan() -> PricePlan {
    serde_json::from_value(serde_json::json!({
        "currency": "EUR",
        "charges": [
            {"meter": {"on": "calls", "operation": null}, "pricing": {"kind": "unit", "price": "0.01"}},
            {"meter": {"on": "metric", "metric": "active-contract"}, "pricing": {"kind": "unit", "price": "1.50"}}
        ]
    }))
    .unwrap()
}

/// A call of `tenant` recorded now, counting `contract` once.
fn call(id: &str, tenant: &str, contract: &str) -> UsageRow {
    UsageRow {
        id: id.into(),
        version: "1.0.0".into(),
        usage: Usage {
            tenant: tenant.into(),
            plugin: PACKAGE.into(),
            digest: "sha256:00".into(),
            operation: "quote".into(),
            fuel_consumed: 1_000,
            wall_time_us: 10,
            host_time_us: 0,
            peak_memory_bytes: 1,
            outcome: OutcomeKind::Ok,
            deliveries_dropped: 0,
            units: vec![MeterReport {
                metric: "active-contract".into(),
                quantity: 1,
                key: Some(contract.into()),
            }],
        },
        idempotency_key: None,
        recorded_at: now_ms(),
    }
}

fn open_period() -> Period {
    Period::containing(now_ms())
}

/// The access error of a refused operation.
fn refused<T: Debug>(result: Result<T, Error>) -> AccessError {
    match result {
        Err(Error::Access(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn not_found<T: Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::NotFound(message)) => message,
        other => panic!("expected not found, got {other:?}"),
    }
}

#[tokio::test]
async fn settings_periods_ledger_and_tenant_terms_are_the_operators() {
    for (platform, cast, _guard) in platforms(Durability::Sync).await {
        for who in [&cast.acme, &cast.a] {
            let e = refused(platform.set_billing_settings(who, None, Some(100)).await);
            assert!(matches!(e, AccessError::Role { .. }), "{e}");
            refused(platform.billing_periods(who).await);
            refused(platform.ledger(who, None).await);
            refused(platform.close_period(who, open_period(), true).await);
            refused(platform.set_minimum(who, "tenant-b", 500).await);
            refused(platform.grant_credit(who, "tenant-b", 100).await);
            let discount = Discount {
                reason: "contributor".into(),
                amount: DiscountAmount::Percent { bps: 1000 },
                from: open_period(),
                to: open_period(),
            };
            refused(platform.add_discount(who, "tenant-b", &discount).await);
            let id = platform.add_discount(&cast.op, "tenant-b", &discount).await;
            assert!(id.is_ok(), "{id:?}");
        }
        // Everyone reads the settings: clients show amounts in its currency.
        let settings = platform.billing_settings(&cast.a).await.unwrap();
        let changed = platform
            .set_billing_settings(&cast.op, None, Some(1500))
            .await
            .unwrap();
        assert_eq!(
            (changed.currency, changed.platform_fee_bps),
            (settings.currency, 1500)
        );
        platform
            .set_minimum(&cast.op, "tenant-b", 500)
            .await
            .unwrap();
        assert_eq!(
            platform
                .grant_credit(&cast.op, "tenant-a", 100)
                .await
                .unwrap(),
            100
        );
        let periods = platform.billing_periods(&cast.op).await.unwrap();
        assert_eq!((periods.open, periods.closed.len()), (open_period(), 0));
        let ledger = platform.ledger(&cast.op, None).await.unwrap();
        assert!(!ledger.balances.is_empty());
        assert_eq!(ledger.sum, 0, "the credit booking balances");
    }
}

#[tokio::test]
async fn plans_agreements_and_campaigns_are_an_owners_or_the_operators() {
    for (platform, cast, _guard) in platforms(Durability::Sync).await {
        // Another author, or a tenant, may not price acme's plugin.
        for who in [&cast.rival, &cast.a] {
            let e = refused(platform.set_plan(who, PACKAGE, &plan()).await);
            assert_eq!(
                e.to_string(),
                "only an owner of the namespace `acme` or the operator may do this"
            );
            refused(platform.agreement(who, PACKAGE).await);
        }
        platform
            .set_plan(&cast.acme, PACKAGE, &plan())
            .await
            .unwrap();
        platform.set_plan(&cast.op, PACKAGE, &plan()).await.unwrap();
        assert_eq!(platform.plans(&cast.a, PACKAGE).await.unwrap().len(), 2);
        // A package nobody published is not found, not forbidden.
        assert!(matches!(
            platform.set_plan(&cast.rival, "ghost/tool", &plan()).await,
            Err(Error::Registry(_))
        ));

        // The owner reads its agreement; only the operator changes it.
        assert_eq!(
            platform
                .agreement(&cast.acme, PACKAGE)
                .await
                .unwrap()
                .author,
            "acme"
        );
        let change = crate::billing::AgreementChange {
            investor_share_bps: Some(3000),
            ..Default::default()
        };
        let e = refused(
            platform
                .set_agreement(&cast.acme, PACKAGE, change.clone())
                .await,
        );
        assert!(matches!(e, AccessError::Role { .. }), "{e}");
        let set = platform
            .set_agreement(&cast.op, PACKAGE, change)
            .await
            .unwrap();
        assert_eq!(set.investor_share_bps, 3000);

        // Campaigns: an owner opens, tenants pledge, an owner closes.
        let campaign = crate::billing::NewCampaign {
            package: PACKAGE.into(),
            title: "time-of-use tariffs".into(),
            goal_minor: 10_000,
            deadline_ms: now_ms() + 60_000,
            return_bps: 1000,
        };
        refused(platform.create_campaign(&cast.rival, &campaign).await);
        refused(platform.create_campaign(&cast.a, &campaign).await);
        let opened = platform
            .create_campaign(&cast.acme, &campaign)
            .await
            .unwrap();
        for who in [&cast.acme, &cast.op] {
            let e = refused(platform.pledge(who, &opened.id, 100).await);
            assert!(matches!(e, AccessError::Role { .. }), "{e}");
        }
        let pledged = platform.pledge(&cast.a, &opened.id, 5_000).await.unwrap();
        assert_eq!(pledged.pledged, 5_000);
        assert_eq!(platform.campaigns(&cast.b).await.unwrap().len(), 1);
        // Pledges are private: another account sees the total and the
        // count, not who pledged what; the owner sees everything.
        let seen = platform.campaign(&cast.rival, &opened.id).await.unwrap();
        assert_eq!((seen.pledged, seen.pledge_count), (5_000, 1));
        assert!(seen.pledges.is_empty());
        assert_eq!(
            platform.campaign(&cast.acme, &opened.id).await.unwrap(),
            pledged
        );
        refused(platform.close_campaign(&cast.rival, &opened.id).await);
        refused(platform.close_campaign(&cast.a, &opened.id).await);
        // The owner may close it, but not before its deadline.
        assert!(matches!(
            platform.close_campaign(&cast.acme, &opened.id).await,
            Err(Error::Billing(_))
        ));

        // Investments are recorded by the operator only.
        let investment = crate::billing::NewInvestment {
            package: PACKAGE.into(),
            investor: "tenant-b".into(),
            principal_minor: 1000,
            return_bps: 1000,
        };
        for who in [&cast.acme, &cast.b] {
            refused(platform.invest(who, &investment).await);
        }
        let record = platform.invest(&cast.op, &investment).await.unwrap();
        assert_eq!(record.cap, 1100);
    }
}

/// acme's plugin priced, B invested, A used it for two contracts and B
/// for one, the open month closed early.
async fn closed_month(platform: &Platform, cast: &Cast) {
    platform
        .set_plan(&cast.acme, PACKAGE, &plan())
        .await
        .unwrap();
    let change = crate::billing::AgreementChange {
        investor_share_bps: Some(3000),
        ..Default::default()
    };
    platform
        .set_agreement(&cast.op, PACKAGE, change)
        .await
        .unwrap();
    let investment = crate::billing::NewInvestment {
        package: PACKAGE.into(),
        investor: "tenant-b".into(),
        principal_minor: 1000,
        return_bps: 1000,
    };
    platform.invest(&cast.op, &investment).await.unwrap();
    let rows = [
        call("1", "tenant-a", "C-1"),
        call("2", "tenant-a", "C-2"),
        call("3", "tenant-b", "C-1"),
    ];
    platform.store.insert_usage(&rows).await.unwrap();
    let closed = platform
        .close_period(&cast.op, open_period(), true)
        .await
        .unwrap();
    assert!(closed.closed_now);
    assert_eq!(closed.summary.invoices, 2);
}

#[tokio::test]
async fn each_role_sees_its_own_invoices_statements_investments_and_usage() {
    for (platform, cast, _guard) in platforms(Durability::Sync).await {
        // Before the close: usage by role.
        platform
            .store
            .insert_usage(&[call("0", "tenant-a", "C-0")])
            .await
            .unwrap();
        let usage = |who| platform.usage_report(who, None, None);
        assert_eq!(usage(&cast.a).await.unwrap().calls.len(), 1);
        assert!(usage(&cast.b).await.unwrap().calls.is_empty());
        assert_eq!(usage(&cast.acme).await.unwrap().calls.len(), 1);
        assert!(usage(&cast.rival).await.unwrap().metrics.is_empty());
        let b_only = platform
            .usage_report(&cast.op, None, Some("tenant-b"))
            .await
            .unwrap();
        assert!(b_only.calls.is_empty());

        closed_month(&platform, &cast).await;

        // Invoices: a tenant its own whatever it names; the operator all.
        let mine = platform
            .invoices(&cast.a, Some("tenant-b"), None)
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].invoice.tenant, "tenant-a");
        assert_eq!(
            platform.invoices(&cast.op, None, None).await.unwrap().len(),
            2
        );
        let theirs = platform
            .invoices(&cast.op, Some("tenant-b"), Some(open_period()))
            .await
            .unwrap();
        assert_eq!(theirs.len(), 1);
        let e = refused(platform.invoices(&cast.acme, None, None).await);
        assert!(e.to_string().contains("authors read statements"), "{e}");

        // Another tenant's invoice is not found; the operator reads it.
        let number = theirs[0].number.clone();
        assert_eq!(
            not_found(platform.invoice(&cast.a, &number).await),
            format!("no invoice `{number}`")
        );
        not_found(platform.invoice(&cast.acme, &number).await);
        let own = platform.invoice(&cast.b, &number).await.unwrap();
        assert_eq!(own.invoice.tenant, "tenant-b");
        let csv = crate::billing::render::invoice_csv(
            &platform.invoice(&cast.op, &number).await.unwrap(),
        );
        assert!(csv.contains(&number), "{csv}");

        // Statements: the author's and the investor's own, nobody else's.
        let authors = platform.statements(&cast.acme, None, None).await.unwrap();
        assert_eq!(authors.len(), 1);
        assert_eq!(authors[0].statement.party, "acme");
        assert!(
            platform
                .statements(&cast.rival, Some("acme"), None)
                .await
                .unwrap()
                .is_empty()
        );
        let investor = platform.statements(&cast.b, None, None).await.unwrap();
        assert_eq!(investor.len(), 1);
        let number = &authors[0].number;
        not_found(platform.statement(&cast.b, number).await);
        let own = platform.statement(&cast.acme, number).await.unwrap();
        assert_eq!(own.statement.party, "acme");
        assert_eq!(
            platform
                .statements(&cast.op, None, None)
                .await
                .unwrap()
                .len(),
            2
        );

        // Investments: a tenant its own, the operator anyone's, authors none.
        assert!(
            platform
                .investments(&cast.a, Some("tenant-b"))
                .await
                .unwrap()
                .is_empty()
        );
        let views = platform.investments(&cast.b, None).await.unwrap();
        assert_eq!(views.len(), 1);
        assert!(views[0].investment.paid > 0, "{views:?}");
        assert_eq!(
            views[0].remaining,
            views[0].investment.cap - views[0].investment.paid
        );
        assert_eq!(platform.investments(&cast.op, None).await.unwrap().len(), 1);
        assert!(
            platform
                .investments(&cast.op, Some("tenant-a"))
                .await
                .unwrap()
                .is_empty()
        );
        refused(platform.investments(&cast.acme, None).await);
    }
}

#[tokio::test]
async fn a_close_writes_queued_usage_first() {
    for (platform, cast, _guard) in platforms(Durability::Batched).await {
        platform
            .set_plan(&cast.acme, PACKAGE, &plan())
            .await
            .unwrap();
        // Queued, not yet written: the writer flushes every 100 ms.
        for (id, contract) in [("1", "C-1"), ("2", "C-2")] {
            platform
                .usage
                .record(call(id, "tenant-a", contract))
                .await
                .unwrap();
        }
        let closed = platform
            .close_period(&cast.op, open_period(), true)
            .await
            .unwrap();
        assert_eq!(closed.summary.records, 2, "{:?}", closed.summary);
        let invoices = platform.invoices(&cast.a, None, None).await.unwrap();
        // 2 calls × 0.01 + 2 contracts × 1.50.
        assert_eq!(invoices[0].invoice.total, 302);
    }
}
