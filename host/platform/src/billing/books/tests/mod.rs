use super::Books;
use rust_decimal::Decimal;
use spleis_billing::Currency;
use spleis_billing::discounts::{DAY_MS, Period};
use spleis_billing::rating::{Charge, Meter, PricePlan, Pricing};
use spleis_billing::split::{AfterPayback, LedgerAccount};
use spleis_domain::MeterReport;
use spleis_domain::OutcomeKind;
use spleis_domain::Usage;
use spleis_domain::UsageRow;
use spleis_domain::accounts::Role;
use spleis_domain::registry::PublishOutcome;
use spleis_registry::Manifest;
use spleis_store::{Store, testing};
use std::str::FromStr;

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

/// Unix ms of a day in 2026: (month, day).
fn at(month: u8, day: i64) -> i64 {
    p(&format!("2026-{month:02}")).start_ms() + (day - 1) * DAY_MS + 3_600_000
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn call(tenant: &str, id: &str, outcome: OutcomeKind, key: Option<&str>, when: i64) -> UsageRow {
    UsageRow {
        id: id.into(),
        version: "1.0.0".into(),
        usage: Usage {
            tenant: tenant.into(),
            plugin: "acme/tariff".into(),
            digest: "sha256:00".into(),
            operation: "quote".into(),
            fuel_consumed: 1_000_000,
            wall_time_us: 10,
            host_time_us: 0,
            peak_memory_bytes: 1,
            outcome,
            deliveries_dropped: 0,
            units: key
                .map(|k| MeterReport {
                    metric: "active-contract".into(),
                    quantity: 1,
                    key: Some(k.into()),
                })
                .into_iter()
                .collect(),
        },
        idempotency_key: None,
        recorded_at: when,
    }
}

async fn setup(store: &Store) {
    let acme = store
        .create_account("acme", Role::Author, "Acme")
        .await
        .unwrap();
    for tenant in ["tenant-a", "tenant-b"] {
        store
            .create_account(tenant, Role::Tenant, tenant)
            .await
            .unwrap();
    }
    let manifest = Manifest::parse(
        "name = \"acme/tariff\"\nversion = \"1.0.0\"\noperations = [\"quote\"]\ncapabilities = [\"metering\"]\n\
         [metrics.active-contract]\naggregation = \"unique\"",
    )
    .unwrap();
    let PublishOutcome::Published(_) = store
        .publish_version(&acme, b"component", &manifest, "0.1.0")
        .await
        .unwrap()
    else {
        panic!("published");
    };
}

/// Calls recorded in `period`, as the close would count them.
async fn calls_in(store: &Store, period: &str) -> i64 {
    let report = store.usage_report(p(period)).await.unwrap();
    report.calls.iter().map(|c| c.calls).sum()
}

fn plan() -> PricePlan {
    PricePlan {
        currency: Currency::new("EUR").unwrap(),
        charges: vec![
            Charge {
                meter: Meter::Calls { operation: None },
                pricing: Pricing::Unit { price: d("0.0004") },
                free_units: Decimal::ZERO,
            },
            Charge {
                meter: Meter::Metric {
                    metric: "active-contract".into(),
                },
                pricing: Pricing::Unit { price: d("1.50") },
                free_units: Decimal::ZERO,
            },
        ],
        charge_failed_calls: false,
    }
}

#[tokio::test]
async fn a_period_closes_once_in_order_and_late_usage_lands_in_the_next() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        let first = store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 2))
            .await
            .unwrap();
        assert_eq!(
            first.effective_from,
            p("2026-10"),
            "a first plan applies at once"
        );
        let mut changed = plan();
        changed.charges[0].pricing = Pricing::Unit { price: d("0.001") };
        let second = store
            .set_plan("acme/tariff", &changed, "acme", at(10, 20))
            .await
            .unwrap();
        assert_eq!(
            second.effective_from,
            p("2026-11"),
            "a change waits for the next period"
        );

        // Tenant A: 3 good calls reporting contract C-1 three times and C-2
        // once, a failed call and a host fault (neither charged).
        let rows = vec![
            call("tenant-a", "1", OutcomeKind::Ok, Some("C-1"), at(10, 3)),
            call("tenant-a", "2", OutcomeKind::Ok, Some("C-1"), at(10, 4)),
            call("tenant-a", "3", OutcomeKind::Ok, Some("C-2"), at(10, 5)),
            call(
                "tenant-a",
                "4",
                OutcomeKind::OutOfFuel,
                Some("C-3"),
                at(10, 6),
            ),
            call("tenant-a", "5", OutcomeKind::HostError, None, at(10, 7)),
            call("tenant-b", "1", OutcomeKind::Ok, Some("C-1"), at(10, 8)),
        ];
        store.insert_usage(&rows).await.unwrap();

        let refused = store
            .close_period(p("2026-10"), "op", false, at(10, 30))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("--early"), "{refused}");
        let refused = store
            .close_period(p("2026-11"), "op", false, at(12, 2))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("close 2026-10 first"),
            "{refused}"
        );

        let (summary, new) = store
            .close_period(p("2026-10"), "op", false, at(11, 2))
            .await
            .unwrap();
        assert!(new);
        assert_eq!((summary.records, summary.invoices), (6, 2));
        let invoices = store.invoices(None, Some(p("2026-10"))).await.unwrap();
        let a = &invoices[0];
        assert_eq!(
            (a.number.as_str(), a.invoice.tenant.as_str()),
            ("INV-202610-0001", "tenant-a")
        );
        let lines: Vec<(String, i64)> = a
            .invoice
            .lines
            .iter()
            .map(|l| (l.line.quantity.to_string(), l.line.amount.minor))
            .collect();
        // 3 calls × 0.0004 = 0.0012 → 0.00: a zero line is not written
        // (issue 9); C-1 and C-2, once each however often reported: 2 × 1.50.
        assert_eq!(lines, [("2".into(), 300)]);
        assert_eq!(
            a.invoice.lines[0].plan.as_deref(),
            Some("acme/tariff plan 1")
        );
        assert_eq!(a.invoice.lines[0].versions, ["1.0.0"]);
        assert_eq!(invoices[1].invoice.total, 150);

        // Closing again changes nothing.
        let (again, new) = store
            .close_period(p("2026-10"), "op", false, at(11, 3))
            .await
            .unwrap();
        assert!(!new);
        assert_eq!(again, summary);
        assert_eq!(store.invoices(None, None).await.unwrap().len(), 2);

        // A record of October arriving now goes into November, under plan 2.
        store
            .insert_usage(&[call(
                "tenant-a",
                "6",
                OutcomeKind::Ok,
                Some("C-9"),
                at(10, 31),
            )])
            .await
            .unwrap();
        assert_eq!(calls_in(&store, "2026-10").await, 6);
        let november = store.usage_report(p("2026-11")).await.unwrap();
        assert_eq!(november.calls[0].calls, 1);
        let preview = store.preview_period(p("2026-11")).await.unwrap();
        assert_eq!(
            preview.invoices[0].lines[0].plan.as_deref(),
            Some("acme/tariff plan 2")
        );

        // The ledger balances and matches the invoices: 4.50 charged, 20%
        // platform fee floored (0.90), the author 3.60.
        let balances = store.balances(Some(p("2026-10"))).await.unwrap();
        assert_eq!(balances.iter().map(|b| b.balance).sum::<i64>(), 0);
        let of = |account: LedgerAccount| {
            balances
                .iter()
                .find(|b| b.account == account)
                .map(|b| b.balance)
        };
        assert_eq!(of(LedgerAccount::PlatformRevenue), Some(-90));
        assert_eq!(of(LedgerAccount::AuthorPayable("acme".into())), Some(-360));
        let statements = store.statements(Some("acme"), None).await.unwrap();
        assert_eq!(statements[0].statement.total, 360);
    }
}

#[tokio::test]
async fn investments_credit_and_terms_flow_into_the_close() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 1))
            .await
            .unwrap();
        let refused = store
            .invest("acme/tariff", "tenant-a", 1_000_000, 1000, at(10, 1))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("no share"), "{refused}");
        store
            .set_agreement(
                "acme/tariff",
                None,
                Some(2000),
                Some(3000),
                Some(AfterPayback::ToPlatform),
                at(10, 1),
            )
            .await
            .unwrap();
        let refused = store
            .invest("acme/tariff", "acme", 100, 0, at(10, 1))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("no tenant account `acme`"),
            "{refused}"
        );
        assert!(
            store
                .invest("acme/tariff", "tenant-a", 0, 0, at(10, 1))
                .await
                .is_err()
        );
        let investment = store
            .invest("acme/tariff", "tenant-a", 1_000, 1000, at(10, 1))
            .await
            .unwrap();
        assert_eq!(investment.cap, 1_100);
        assert_eq!(
            store
                .grant_credit("tenant-b", 100, at(10, 1))
                .await
                .unwrap(),
            100
        );
        store.set_minimum("tenant-b", 500, at(10, 1)).await.unwrap();
        assert!(store.set_minimum("tenant-b", -1, at(10, 1)).await.is_err());

        // 100 calls and 100 contracts for A: 0.04 + 150.00.
        let rows: Vec<UsageRow> = (0..100)
            .map(|i| {
                call(
                    "tenant-a",
                    &i.to_string(),
                    OutcomeKind::Ok,
                    Some(&format!("C-{i}")),
                    at(10, 9),
                )
            })
            .collect();
        store.insert_usage(&rows).await.unwrap();
        store
            .close_period(p("2026-10"), "op", false, at(11, 1))
            .await
            .unwrap();

        // Fee 30.00 (30.008 floored); revenue 120.04; the pool 30% = 36.01
        // (36.012 floored), of which the investor takes its cap, 11.00, and
        // the platform 25.01; the author 120.04 − 36.01 = 84.03.
        let paid = store.investments(Some("tenant-a"), None).await.unwrap();
        assert_eq!(paid[0].paid, 1_100);
        let statements = store.statements(None, Some(p("2026-10"))).await.unwrap();
        let totals: Vec<(&str, i64)> = statements
            .iter()
            .map(|s| (s.statement.party.as_str(), s.statement.total))
            .collect();
        assert_eq!(totals, [("acme", 8_403), ("tenant-a", 1_100)]);
        // B used nothing but owes its minimum 5.00, of which credit pays 1.00.
        let b = store.invoices(Some("tenant-b"), None).await.unwrap();
        assert_eq!(
            (
                b[0].invoice.total,
                b[0].invoice.credit_used,
                b[0].invoice.amount_due
            ),
            (500, 100, 400)
        );
        assert_eq!(
            store
                .balance(&LedgerAccount::Credit("tenant-b".into()))
                .await
                .unwrap(),
            0
        );
        let all = store.balances(None).await.unwrap();
        assert_eq!(all.iter().map(|b| b.balance).sum::<i64>(), 0);
    }
}

#[tokio::test]
async fn a_campaign_that_meets_its_goal_becomes_investments_and_one_short_lapses() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        store
            .set_agreement("acme/tariff", None, None, Some(2500), None, 0)
            .await
            .unwrap();
        let now = at(10, 1);
        let funded = store
            .create_campaign(
                "acme/tariff",
                "export to XRechnung",
                1_000,
                now + 1000,
                1000,
                "acme",
                now,
            )
            .await
            .unwrap();
        store
            .pledge(&funded.id, "tenant-a", 700, now + 1)
            .await
            .unwrap();
        store
            .pledge(&funded.id, "tenant-b", 301, now + 2)
            .await
            .unwrap();
        assert!(
            store.close_campaign(&funded.id, now + 500).await.is_err(),
            "before the deadline"
        );
        assert!(
            store
                .pledge(&funded.id, "tenant-b", 5, now + 2000)
                .await
                .is_err(),
            "after it"
        );
        let closed = store.close_campaign(&funded.id, now + 2000).await.unwrap();
        assert_eq!((closed.status.as_str(), closed.pledged), ("funded", 1_001));
        let investments = store.investments(None, Some("acme/tariff")).await.unwrap();
        let made: Vec<(&str, i64, i64)> = investments
            .iter()
            .map(|i| (i.investor.as_str(), i.principal, i.cap))
            .collect();
        assert_eq!(made, [("tenant-a", 700, 770), ("tenant-b", 301, 331)]);

        let short = store
            .create_campaign(
                "acme/tariff",
                "dark mode",
                10_000,
                now + 1000,
                1000,
                "acme",
                now,
            )
            .await
            .unwrap();
        store
            .pledge(&short.id, "tenant-a", 9_999, now + 1)
            .await
            .unwrap();
        let lapsed = store.close_campaign(&short.id, now + 2000).await.unwrap();
        assert_eq!(lapsed.status, "lapsed");
        assert_eq!(
            store.investments(None, None).await.unwrap().len(),
            2,
            "nothing charged"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 10, ..proptest::prelude::ProptestConfig::default() })]

    /// Random usage (tenants, outcomes, contracts): the close conserves
    /// money and balances the ledger, and closing again changes nothing.
    #[test]
    fn closing_conserves_money_and_is_idempotent(
        calls in proptest::collection::vec((proptest::bool::ANY, 0u8..3, 0u8..6), 1..40),
        minimum in 0i64..500,
        credit in 0i64..300,
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (store, _guard) = testing::sqlite().await;
            let store = Books(&store);
            setup(&store).await;
            store.set_plan("acme/tariff", &plan(), "acme", at(10, 1)).await.unwrap();
            store.set_minimum("tenant-b", minimum, at(10, 1)).await.unwrap();
            if credit > 0 {
                store.grant_credit("tenant-a", credit, at(10, 1)).await.unwrap();
            }
            let rows: Vec<UsageRow> = calls
                .iter()
                .enumerate()
                .map(|(i, (a, outcome, contract))| {
                    let outcome = [OutcomeKind::Ok, OutcomeKind::Panic, OutcomeKind::HostError][usize::from(*outcome)];
                    let tenant = if *a { "tenant-a" } else { "tenant-b" };
                    call(tenant, &i.to_string(), outcome, Some(&format!("C-{contract}")), at(10, 2))
                })
                .collect();
            store.insert_usage(&rows).await.unwrap();
            let (first, new) = store.close_period(p("2026-10"), "op", false, at(11, 1)).await.unwrap();
            assert!(new);
            assert_eq!(first.charged, first.platform + first.authors + first.investors);
            let invoices = store.invoices(None, None).await.unwrap();
            let balances = store.balances(None).await.unwrap();
            assert_eq!(balances.iter().map(|b| b.balance).sum::<i64>(), 0);
            assert!(invoices.iter().all(|i| i.invoice.amount_due >= 0 && i.invoice.total >= 0));
            let (second, new) = store.close_period(p("2026-10"), "op", false, at(11, 2)).await.unwrap();
            assert!(!new);
            assert_eq!(second, first);
            assert_eq!(store.invoices(None, None).await.unwrap(), invoices);
            assert_eq!(store.balances(None).await.unwrap(), balances);
        });
    }
}

/// Usage written while a close runs is billed exactly once: in the closed
/// period if the close saw it, else in the next one. Nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_written_during_a_close_is_billed_once() {
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 1))
            .await
            .unwrap();
        let writer = {
            let store = Store::clone(&store);
            tokio::spawn(async move {
                let mut written = 0;
                for batch in 0..40 {
                    let rows: Vec<UsageRow> = (0..25)
                        .map(|i| {
                            call(
                                "tenant-a",
                                &format!("{batch}-{i}"),
                                OutcomeKind::Ok,
                                None,
                                at(10, 20),
                            )
                        })
                        .collect();
                    written += store.insert_usage(&rows).await.unwrap();
                    tokio::task::yield_now().await;
                }
                written
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let (summary, _) = store
            .close_period(p("2026-10"), "op", false, at(11, 1))
            .await
            .unwrap();
        let written = writer.await.unwrap();
        assert_eq!(written, 1000);
        let late = calls_in(&store, "2026-11").await;
        assert_eq!(summary.records + late, 1000, "each record in one period");
        let closed = calls_in(&store, "2026-10").await;
        assert_eq!(
            closed, summary.records,
            "the closed period holds what it billed"
        );
    }
}

/// A close fixes its boundary first: usage for the period that arrives
/// while the close computes goes to the next period at once, without
/// waiting for the close (on PostgreSQL the close then holds only the money
/// lock, which writers never take). Nothing is lost or counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_under_way_does_not_hold_usage_writers() {
    let Some((store, _guard)) = testing::postgres().await else {
        return;
    };
    let store = Books(&store);
    setup(&store).await;
    store
        .set_plan("acme/tariff", &plan(), "acme", at(10, 1))
        .await
        .unwrap();
    store
        .insert_usage(&[call(
            "tenant-a",
            "before",
            OutcomeKind::Ok,
            None,
            at(10, 20),
        )])
        .await
        .unwrap();
    assert!(
        store
            .fix_close_boundary(p("2026-10"), false, at(11, 1))
            .await
            .unwrap()
            .is_none()
    );
    // A close computing for as long as this transaction holds the money
    // lock.
    let computing = testing::hold_money_lock(&store).await;
    let close = {
        let store = Store::clone(&store);
        tokio::spawn(async move {
            Books(&store)
                .finish_close(p("2026-10"), "op", at(11, 1))
                .await
        })
    };
    // Meanwhile a late record of October is written, without waiting.
    let late = [call("tenant-a", "late", OutcomeKind::Ok, None, at(10, 31))];
    let written = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.insert_usage(&late),
    )
    .await
    .expect("a usage writer does not wait for the close")
    .unwrap();
    assert_eq!(written, 1);
    assert_eq!(
        calls_in(&store, "2026-11").await,
        1,
        "late usage lands in November"
    );
    assert!(!close.is_finished(), "the close is still computing");
    computing.release().await;
    let (summary, closed) = close.await.unwrap().unwrap();
    assert!(closed);
    assert_eq!(summary.records, 1, "the close billed what October held");
    assert_eq!(calls_in(&store, "2026-10").await, 1);
    // The boundary is cleared: the next close starts from it.
    let (again, closed) = store
        .close_period(p("2026-10"), "op", false, at(11, 2))
        .await
        .unwrap();
    assert!(!closed);
    assert_eq!(again, summary);
}

mod errors;

#[tokio::test]
async fn commitments_in_money_and_units_over_periods_close_and_end() {
    use spleis_billing::commitments::{Commitment, Minimum};
    use spleis_domain::billing::BillingError;
    let units = |metric: &str, units: u64, from: &str, to: Option<&str>| Commitment {
        minimum: Minimum::Units {
            plugin: "acme/tariff".into(),
            metric: metric.into(),
            units,
        },
        from: p(from),
        to: to.map(p),
    };
    let money = |minor: i64, from: &str, to: Option<&str>| Commitment {
        minimum: Minimum::Money { minor },
        from: p(from),
        to: to.map(p),
    };
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        store
            .set_plan("acme/tariff", &plan(), "acme", at(10, 2))
            .await
            .unwrap();
        let now = at(10, 3);
        let contracts = store
            .add_commitment(
                "tenant-b",
                &units("active-contract", 10, "2026-10", None),
                now,
            )
            .await
            .unwrap();
        // The same metric in a period it covers: refused, naming it.
        let overlap = store
            .add_commitment(
                "tenant-b",
                &units("active-contract", 5, "2026-12", None),
                now,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&overlap, BillingError::CommitmentOverlap { existing, .. } if *existing == contracts),
            "{overlap}"
        );
        let undeclared = store
            .add_commitment("tenant-b", &units("sites", 5, "2026-10", None), now)
            .await
            .unwrap_err();
        assert!(
            undeclared
                .to_string()
                .contains("declares no metric `sites`"),
            "{undeclared}"
        );
        let mut unknown = units("active-contract", 5, "2026-10", None);
        unknown.minimum = Minimum::Units {
            plugin: "acme/nope".into(),
            metric: "active-contract".into(),
            units: 5,
        };
        assert!(matches!(
            store.add_commitment("tenant-b", &unknown, now).await,
            Err(BillingError::UnknownPackage(_))
        ));
        assert!(matches!(
            store
                .add_commitment("acme", &money(100, "2026-10", None), now)
                .await,
            Err(BillingError::UnknownAccount { .. })
        ));
        // A lower money minimum in the first month, then the standing one.
        store
            .add_commitment(
                "tenant-b",
                &money(2_000, "2026-10", Some("2026-10")),
                now + 1,
            )
            .await
            .unwrap();
        let standing = store
            .add_commitment("tenant-b", &money(5_000, "2026-11", None), now + 2)
            .await
            .unwrap();

        // A used one contract (1.50); B used nothing: 10 contracts at 1.50
        // = 15.00 for the plugin, then a top-up of 5.00 to its 20.00.
        store
            .insert_usage(&[call(
                "tenant-a",
                "1",
                OutcomeKind::Ok,
                Some("C-1"),
                at(10, 9),
            )])
            .await
            .unwrap();
        store
            .close_period(p("2026-10"), "op", false, at(11, 1))
            .await
            .unwrap();
        let b = store.invoices(Some("tenant-b"), None).await.unwrap();
        let lines: Vec<(i64, Option<&str>)> = b[0]
            .invoice
            .lines
            .iter()
            .map(|l| (l.line.amount.minor, l.plugin.as_deref()))
            .collect();
        assert_eq!(lines, [(1_500, Some("acme/tariff")), (500, None)]);
        assert_eq!(b[0].invoice.total, 2_000);
        // The author's statement carries its share of the shortfall: 80%
        // of 16.50.
        let statements = store.statements(None, Some(p("2026-10"))).await.unwrap();
        assert_eq!(statements[0].statement.total, 1_320);

        // October is closed now: nothing may start there.
        let now = at(11, 2);
        let closed = store
            .add_commitment(
                "tenant-b",
                &units("active-contract", 1, "2026-10", Some("2026-10")),
                now,
            )
            .await
            .unwrap_err();
        assert!(
            closed.to_string().contains("the first period not closed"),
            "{closed}"
        );
        // Ending: the one that applied to October is cut there; the one
        // that never applied is removed; an ended one is refused.
        let cut = store
            .end_commitment("tenant-b", &contracts, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cut.commitment.to, Some(p("2026-10")));
        assert!(matches!(
            store.end_commitment("tenant-b", &contracts, now).await,
            Err(BillingError::CommitmentEnded { .. })
        ));
        assert_eq!(
            store
                .end_commitment("tenant-b", &standing, now)
                .await
                .unwrap(),
            None
        );
        assert!(matches!(
            store.end_commitment("tenant-a", &contracts, now).await,
            Err(BillingError::NotFound { .. })
        ));
        // The standing minimum through the shorthand: from November on.
        store.set_minimum("tenant-b", 700, now).await.unwrap();
        store.set_minimum("tenant-b", 900, now).await.unwrap();
        let list = store.commitments("tenant-b").await.unwrap();
        let shown: Vec<(Minimum, Period, Option<Period>)> = list
            .into_iter()
            .map(|c| (c.commitment.minimum, c.commitment.from, c.commitment.to))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    Minimum::Units {
                        plugin: "acme/tariff".into(),
                        metric: "active-contract".into(),
                        units: 10
                    },
                    p("2026-10"),
                    Some(p("2026-10"))
                ),
                (
                    Minimum::Money { minor: 2_000 },
                    p("2026-10"),
                    Some(p("2026-10"))
                ),
                (Minimum::Money { minor: 900 }, p("2026-11"), None),
            ]
        );
    }
}

#[tokio::test]
async fn two_overlapping_commitments_at_once_one_is_refused() {
    use spleis_billing::commitments::{Commitment, Minimum};
    for (store, _guard) in testing::all().await {
        let store = Books(&store);
        setup(&store).await;
        let now = at(10, 3);
        let money = |minor: i64| Commitment {
            minimum: Minimum::Money { minor },
            from: p("2026-10"),
            to: None,
        };
        let (a, b) = (money(1_000), money(2_000));
        let (first, second) = tokio::join!(
            store.add_commitment("tenant-b", &a, now),
            store.add_commitment("tenant-b", &b, now)
        );
        assert_eq!(
            usize::from(first.is_ok()) + usize::from(second.is_ok()),
            1,
            "{first:?} {second:?}"
        );
        assert!(matches!(
            first.err().or(second.err()),
            Some(spleis_domain::billing::BillingError::CommitmentOverlap { .. })
        ));
        assert_eq!(store.commitments("tenant-b").await.unwrap().len(), 1);
    }
}
