use super::*;
use crate::commitments::{Commitment, Minimum};
use crate::discounts::DiscountAmount;
use crate::payback::Investor;
use crate::rating::{Charge, Meter, Pricing};
use crate::split::AfterPayback;
use crate::split::LedgerAccount;
use crate::tiers::{Tier, TierMode};
use proptest::prelude::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn eur() -> Currency {
    Currency::new("EUR").unwrap()
}

fn per_call(price: &str) -> PlanInForce {
    PlanInForce {
        id: "acme/tariff plan 1".into(),
        plan: PricePlan {
            currency: eur(),
            charges: vec![Charge {
                meter: Meter::Calls { operation: None },
                pricing: Pricing::Unit { price: d(price) },
                free_units: Decimal::ZERO,
            }],
            charge_failed_calls: false,
        },
    }
}

fn calls(tenant: &str, plugin: &str, n: u64) -> InstallUsage {
    InstallUsage {
        tenant: tenant.into(),
        plugin: plugin.into(),
        versions: vec!["1.0.0".into()],
        usage: PeriodUsage {
            calls: [("quote".to_owned(), n)].into(),
            days_installed: 30,
            days_in_period: 30,
            ..PeriodUsage::default()
        },
    }
}

fn terms(plan: PlanInForce, investors: Vec<(Investor, &str)>, share_bps: u32) -> PluginTerms {
    PluginTerms {
        plan: Some(plan),
        author: "ada".into(),
        investor_accounts: investors.iter().map(|(_, a)| (*a).to_owned()).collect(),
        agreement: Agreement {
            platform_fee_bps: 2000,
            investors: investors.into_iter().map(|(i, _)| i).collect(),
            investor_share_bps: share_bps,
            after_payback: AfterPayback::ToPlatform,
        },
        payback: PaybackState::default(),
    }
}

/// A money minimum in force from 2026-01 on.
fn minimum(minor: i64) -> Vec<Commitment> {
    vec![Commitment {
        minimum: Minimum::Money { minor },
        from: "2026-01".parse().unwrap(),
        to: None,
    }]
}

fn input(installs: Vec<InstallUsage>, plugin: PluginTerms) -> PeriodInput {
    PeriodInput {
        period: "2026-11".parse().unwrap(),
        currency: eur(),
        installs,
        plugins: [("acme/tariff".to_owned(), plugin)].into(),
        tenants: BTreeMap::new(),
        voids: Vec::new(),
        fundings: Vec::new(),
        releases: Vec::new(),
    }
}

/// Charged = platform + authors + investors, per period, and every
/// transaction balances (Transaction::new refuses otherwise).
fn assert_conserved(closed: &PeriodClose) {
    let charged: i64 = closed.invoices.iter().map(|i| i.total).sum();
    let mut platform = 0;
    let mut payable = 0;
    let mut receivable = 0;
    let mut credit = 0;
    for tx in &closed.transactions {
        assert_eq!(tx.entries.iter().map(|(_, a)| a).sum::<i64>(), 0);
        for (account, amount) in &tx.entries {
            match account {
                LedgerAccount::PlatformRevenue => platform -= amount,
                LedgerAccount::AuthorPayable(_) | LedgerAccount::InvestorPayable(_) => {
                    payable -= amount
                }
                LedgerAccount::TenantReceivable(_) => receivable += amount,
                LedgerAccount::Credit(_) => credit += amount,
                LedgerAccount::FundingHeld(_) | LedgerAccount::BuilderPayable(_) => {
                    panic!("no funding in these closes")
                }
            }
        }
    }
    let statements: i64 = closed.statements.iter().map(|s| s.total).sum();
    assert_eq!(payable, statements, "statements are booked as received");
    assert_eq!(
        charged,
        platform + payable,
        "charged = platform + authors + investors"
    );
    let credit_used: i64 = closed.invoices.iter().map(|i| i.credit_used).sum();
    assert_eq!(credit, credit_used);
    assert_eq!(receivable + credit, charged);
}

#[test]
fn an_investor_is_paid_back_exactly_and_then_the_plugin_passes_to_the_platform() {
    // Tenant A invests EUR 10,000 at 10% with a 30% share. Two tenants are
    // charged 16,667 calls at EUR 0.30 = EUR 5,000.10 a month.
    let investor = Investor {
        id: "inv-1".into(),
        principal: 1_000_000,
        return_bps: 1000,
    };
    let mut plugin = terms(per_call("0.30"), vec![(investor, "tenant-a")], 3000);
    let mut months = Vec::new();
    for _ in 0..11 {
        let closed = close(&input(
            vec![
                calls("tenant-a", "acme/tariff", 10_000),
                calls("tenant-b", "acme/tariff", 6_667),
            ],
            plugin.clone(),
        ))
        .unwrap();
        assert_conserved(&closed);
        let s = &closed.settlements[0];
        months.push((
            s.charged,
            s.platform,
            s.author,
            s.investors[0].2,
            s.paid_back,
        ));
        plugin.payback = closed.payback["acme/tariff"].clone();
    }
    // Charged 5,000.10: fee 20% = 1,000.02; revenue 4,000.08; 30% = 1,200.024
    // → the cumulative floor pays 1,200.02 a month, the 0.004 carrying.
    assert_eq!(months[0], (500_010, 100_002, 280_006, 120_002, false));
    let paid_nine: i64 = months[..9].iter().map(|m| m.3).sum();
    // Nine months accrue 10,800.216 → 10,800.21 paid.
    assert_eq!(paid_nine, 1_080_021);
    // The crossing month pays exactly what remains: 11,000 − 10,800.21.
    assert_eq!(months[9].3, 19_979);
    assert!(months[9].4);
    // That month's pool is 1,200.03 (the carried 0.006 completes a cent):
    // 199.79 to the investor, 1,000.24 to the platform; the author keeps
    // 4,000.08 − 1,200.03.
    assert_eq!(
        months[9],
        (500_010, 100_002 + 100_024, 280_005, 19_979, true)
    );
    assert_eq!(
        paid_nine + months[9].3,
        1_100_000,
        "exactly EUR 11,000 in all"
    );
    // Afterwards the plugin is the platform's.
    assert_eq!(months[10], (500_010, 500_010, 0, 0, true));
}

#[test]
fn the_invoice_shows_each_line_with_its_plugin_version_and_plan() {
    let closed = close(&input(
        vec![calls("tenant-a", "acme/tariff", 12_345)],
        terms(per_call("0.0004"), vec![], 0),
    ))
    .unwrap();
    let invoice = &closed.invoices[0];
    assert_eq!(invoice.tenant, "tenant-a");
    let line = &invoice.lines[0];
    assert_eq!(line.plugin.as_deref(), Some("acme/tariff"));
    assert_eq!(line.versions, ["1.0.0"]);
    assert_eq!(line.plan.as_deref(), Some("acme/tariff plan 1"));
    assert_eq!(line.line.quantity, d("12345"));
    assert_eq!(line.line.unit_price, Some(d("0.0004")));
    assert_eq!(line.line.amount.minor, 494); // 4.938 → 4.94
    assert_eq!(
        (invoice.subtotal, invoice.total, invoice.amount_due),
        (494, 494, 494)
    );
    // Fee 20% of 4.94 = 0.988 → 0.98 (floored); the author gets 3.96.
    assert_eq!(closed.statements[0].party, "ada");
    assert_eq!(closed.statements[0].total, 396);
    assert_conserved(&closed);
}

#[test]
fn graduated_and_volume_tiers_on_the_same_quantities() {
    let tiers = vec![
        Tier {
            up_to: Some(d("1000")),
            unit_price: d("0.010"),
            flat_fee: Decimal::ZERO,
        },
        Tier {
            up_to: Some(d("10000")),
            unit_price: d("0.008"),
            flat_fee: Decimal::ZERO,
        },
        Tier {
            up_to: None,
            unit_price: d("0.005"),
            flat_fee: Decimal::ZERO,
        },
    ];
    let tiered = |mode| PlanInForce {
        id: "acme/tariff plan 2".into(),
        plan: PricePlan {
            currency: eur(),
            charges: vec![Charge {
                meter: Meter::Calls { operation: None },
                pricing: Pricing::Tiered {
                    tiers: tiers.clone(),
                    mode,
                },
                free_units: Decimal::ZERO,
            }],
            charge_failed_calls: false,
        },
    };
    let amounts = |mode| -> Vec<i64> {
        [500, 1_000, 4_321, 25_000]
            .iter()
            .map(|n| {
                let closed = close(&input(
                    vec![calls("t", "acme/tariff", *n)],
                    terms(tiered(mode), vec![], 0),
                ))
                .unwrap();
                closed.invoices[0].total
            })
            .collect()
    };
    // Graduated: 500×0.01 = 5.00; 1,000×0.01 = 10.00;
    // 10.00 + 3,321×0.008 = 36.568 → 36.57; 10 + 72 + 15,000×0.005 = 157.00.
    assert_eq!(amounts(TierMode::Graduated), [500, 1_000, 3_657, 15_700]);
    // Volume: the whole quantity at its tier's price: 5.00; 10.00;
    // 4,321×0.008 = 34.568 → 34.57; 25,000×0.005 = 125.00.
    assert_eq!(amounts(TierMode::Volume), [500, 1_000, 3_457, 12_500]);
}

#[test]
fn a_minimum_commitment_tops_up_a_small_month_then_discounts_then_credit() {
    let mut input = input(
        vec![calls("tenant-a", "acme/tariff", 1_000)],
        terms(per_call("0.01"), vec![], 0),
    );
    input.tenants.insert(
        "tenant-a".into(),
        TenantTerms {
            commitments: minimum(5_000),
            discounts: vec![Discount {
                reason: "contributor".into(),
                amount: DiscountAmount::Percent { bps: 1000 },
                from: "2026-10".parse().unwrap(),
                to: "2026-12".parse().unwrap(),
            }],
            credit: 1_500,
        },
    );
    // A tenant with a commitment and no usage at all still owes it.
    input.tenants.insert(
        "tenant-idle".into(),
        TenantTerms {
            commitments: minimum(2_000),
            ..TenantTerms::default()
        },
    );
    let closed = close(&input).unwrap();
    let a = &closed.invoices[0];
    let amounts: Vec<i64> = a.lines.iter().map(|l| l.line.amount.minor).collect();
    // 10.00 of usage, topped up by 40.00 to 50.00; 10% off = −5.00 → 45.00;
    // 15.00 of credit → 30.00 due.
    assert_eq!(amounts, [1_000, 4_000, -500]);
    assert_eq!(
        (a.subtotal, a.total, a.credit_used, a.amount_due),
        (1_000, 4_500, 1_500, 3_000)
    );
    let idle = &closed.invoices[1];
    assert_eq!((idle.tenant.as_str(), idle.total), ("tenant-idle", 2_000));
    // The author's part comes from usage only: 80% of 10.00.
    assert_eq!(closed.statements[0].total, 800);
    assert_conserved(&closed);
}

#[test]
fn a_commitment_in_units_bills_the_shortfall_to_the_plugin_even_without_an_install() {
    // 0.01 per contract; tenant-a used 4,210 of its 5,000, tenant-idle has
    // no install this month but committed to 1,000; tenant-b used more
    // than its 100.
    let mut plan = per_call("0.01");
    plan.plan.charges[0].meter = Meter::Metric {
        metric: "contracts".into(),
    };
    let used = |tenant: &str, n: u64| {
        let mut install = calls(tenant, "acme/tariff", 0);
        install.usage.metrics.insert("contracts".into(), n);
        install
    };
    let mut input = input(
        vec![used("tenant-a", 4_210), used("tenant-b", 300)],
        terms(plan, vec![], 0),
    );
    let units = |units: u64, from: &str, to: Option<&str>| Commitment {
        minimum: Minimum::Units {
            plugin: "acme/tariff".into(),
            metric: "contracts".into(),
            units,
        },
        from: from.parse().unwrap(),
        to: to.map(|to| to.parse().unwrap()),
    };
    for (tenant, commitments) in [
        // The first year's lower minimum, then the standing one.
        (
            "tenant-a",
            vec![
                units(5_000, "2026-01", Some("2026-11")),
                units(9_000, "2026-12", None),
            ],
        ),
        ("tenant-b", vec![units(100, "2026-01", None)]),
        (
            "tenant-idle",
            vec![units(1_000, "2026-11", Some("2026-11"))],
        ),
        // Ended before this month: nothing.
        (
            "tenant-gone",
            vec![units(1_000, "2026-01", Some("2026-10"))],
        ),
    ] {
        input.tenants.insert(
            tenant.into(),
            TenantTerms {
                commitments,
                ..TenantTerms::default()
            },
        );
    }
    let closed = close(&input).unwrap();
    let lines = |tenant: &str| -> Vec<(i64, Option<String>)> {
        closed
            .invoices
            .iter()
            .find(|i| i.tenant == tenant)
            .map(|i| {
                i.lines
                    .iter()
                    .map(|l| (l.line.amount.minor, l.plugin.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let tariff = Some("acme/tariff".to_owned());
    assert_eq!(
        lines("tenant-a"),
        [(4_210, tariff.clone()), (790, tariff.clone())]
    );
    assert_eq!(lines("tenant-b"), [(300, tariff.clone())]);
    assert_eq!(lines("tenant-idle"), [(1_000, tariff.clone())]);
    assert!(lines("tenant-gone").is_empty());
    let a = closed
        .invoices
        .iter()
        .find(|i| i.tenant == "tenant-a")
        .unwrap();
    assert_eq!(
        a.lines[1].line.description,
        "minimum commitment of 5000 units of `contracts` a month (4210 used)"
    );
    assert_eq!(a.subtotal, 5_000, "the shortfall is usage of the plugin");
    // The plugin earns the shortfalls: 50.00 + 3.00 + 10.00, of which the
    // author has 80%.
    assert_eq!(closed.settlements[0].charged, 6_300);
    assert_eq!(closed.statements[0].total, 5_040);
    assert_conserved(&closed);
    // In December the standing 9,000 holds.
    input.period = "2026-12".parse().unwrap();
    let december = close(&input).unwrap();
    let a = december
        .invoices
        .iter()
        .find(|i| i.tenant == "tenant-a")
        .unwrap();
    assert_eq!(a.total, 9_000);
    assert!(december.invoices.iter().all(|i| i.tenant != "tenant-idle"));
}

#[test]
fn a_voided_line_is_not_rated_and_its_reason_is_in_the_ledger() {
    let mut input = input(
        vec![
            calls("tenant-a", "acme/tariff", 1_000),
            calls("tenant-b", "acme/tariff", 500),
        ],
        terms(per_call("0.01"), vec![], 0),
    );
    // A unit commitment of the voided tenant is not billed either.
    input.tenants.insert(
        "tenant-a".into(),
        TenantTerms {
            commitments: vec![Commitment {
                minimum: Minimum::Units {
                    plugin: "acme/tariff".into(),
                    metric: "contracts".into(),
                    units: 10,
                },
                from: "2026-01".parse().unwrap(),
                to: None,
            }],
            ..TenantTerms::default()
        },
    );
    input.voids.push(Void {
        tenant: "tenant-a".into(),
        plugin: "acme/tariff".into(),
        reason: "a runaway loop, waived".into(),
    });
    // A void of what the tenant did not use voids nothing: no ledger note.
    input.voids.push(Void {
        tenant: "tenant-c".into(),
        plugin: "acme/tariff".into(),
        reason: "nothing to void".into(),
    });
    let closed = close(&input).unwrap();
    let tenants: Vec<&str> = closed.invoices.iter().map(|i| i.tenant.as_str()).collect();
    assert_eq!(tenants, ["tenant-b"]);
    assert_eq!(closed.settlements[0].charged, 500);
    let note = closed
        .transactions
        .iter()
        .find(|t| t.memo.contains("voided"))
        .unwrap();
    assert_eq!(
        note.memo,
        "tenant-a 2026-11: acme/tariff voided by the operator: a runaway loop, waived"
    );
    assert!(note.entries.is_empty(), "a void moves no money");
    assert!(
        !closed
            .transactions
            .iter()
            .any(|t| t.memo.contains("nothing to void"))
    );
    assert_conserved(&closed);
}

#[test]
fn a_rating_failure_names_the_tenant_the_plugin_and_the_charge() {
    let mut plan = per_call("0.01");
    plan.plan.charges.push(Charge {
        meter: Meter::Fuel { per: 1 },
        pricing: Pricing::Unit { price: d("1") },
        free_units: Decimal::ZERO,
    });
    let mut install = calls("tenant-a", "acme/tariff", 1);
    install.usage.fuel = 1 << 100;
    let error = close(&input(vec![install], terms(plan, vec![], 0))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rating charge 2 of `acme/tariff` for `tenant-a`: the fuel to rate overflows; correct the plan for the period, or void the line"
    );
}

#[test]
fn a_plan_in_another_currency_is_refused() {
    let mut plan = per_call("0.01");
    plan.plan.currency = Currency::new("USD").unwrap();
    let error = close(&input(vec![], terms(plan, vec![], 0))).unwrap_err();
    assert!(error.to_string().contains("is in USD"), "{error}");
}

#[test]
fn zero_amount_lines_are_not_written_and_a_tenant_charged_nothing_gets_no_invoice() {
    // 4 calls at 0.001 round to 0.00. The free-plugin rule applies: a tenant
    // with nothing to charge gets no invoice; with a minimum, the invoice
    // holds only the top-up.
    let mut input = input(
        vec![
            calls("t-free", "acme/tariff", 4),
            calls("t-min", "acme/tariff", 4),
            calls("t-paid", "acme/tariff", 1_000),
        ],
        terms(per_call("0.001"), vec![], 0),
    );
    input.tenants.insert(
        "t-min".into(),
        TenantTerms {
            commitments: minimum(500),
            ..TenantTerms::default()
        },
    );
    let closed = close(&input).unwrap();
    let tenants: Vec<&str> = closed.invoices.iter().map(|i| i.tenant.as_str()).collect();
    assert_eq!(tenants, ["t-min", "t-paid"]);
    let min = &closed.invoices[0];
    assert_eq!(min.lines.len(), 1);
    assert_eq!(min.lines[0].plugin, None, "only the top-up");
    assert_eq!((min.subtotal, min.total), (0, 500));
    assert_eq!(closed.invoices[1].lines[0].line.amount.minor, 100);
    assert!(
        closed
            .invoices
            .iter()
            .flat_map(|i| &i.lines)
            .all(|l| l.line.amount.minor != 0)
    );
    assert_conserved(&closed);
}

#[test]
fn a_close_whose_totals_overflow_is_refused_not_left_to_the_ledger() {
    // Found by the "any period" property: each invoice fits i64, their sum
    // does not, so the close's totals (and the ledger's sums) would overflow.
    let mut input = input(
        vec![calls("t0", "acme/tariff", 100)],
        terms(per_call("0.01"), vec![], 0),
    );
    input.tenants.insert(
        "t1".into(),
        TenantTerms {
            commitments: minimum(i64::MAX),
            ..TenantTerms::default()
        },
    );
    assert_eq!(close(&input), Err(CloseError::Money(MoneyError::Overflow)));
}

prop_compose! {
    fn arbitrary_input()(
        tenants in proptest::collection::vec((0u64..50_000, 0u64..500, 0i64..20_000, 0i64..10_000, 0u32..5_000), 1..6),
        price in 1u32..10_000,
        fee_bps in 0u32..10_000,
        share_bps in 0u32..10_000,
        investors in proptest::collection::vec((1u64..2_000_000, 0u32..3000), 0..4),
        months in 1usize..6,
    ) -> (PeriodInput, usize) {
        let plan = PlanInForce {
            id: "p".into(),
            plan: PricePlan {
                currency: eur(),
                charges: vec![
                    Charge {
                        meter: Meter::Calls { operation: None },
                        pricing: Pricing::Unit { price: Decimal::new(i64::from(price), 4) },
                        free_units: Decimal::from(100),
                    },
                    Charge {
                        meter: Meter::Metric { metric: "contract".into() },
                        pricing: Pricing::Unit { price: Decimal::new(150, 2) },
                        free_units: Decimal::ZERO,
                    },
                ],
                charge_failed_calls: false,
            },
        };
        let mut plugin = terms(
            plan,
            investors
                .iter()
                .enumerate()
                .map(|(i, (p, r))| (Investor { id: format!("inv-{i}"), principal: *p, return_bps: *r }, "investor"))
                .collect(),
            share_bps,
        );
        plugin.agreement.platform_fee_bps = fee_bps;
        let mut input = input(Vec::new(), plugin);
        for (i, (n, contracts, minimum, credit, discount_bps)) in tenants.into_iter().enumerate() {
            let tenant = format!("t{i}");
            let mut usage = calls(&tenant, "acme/tariff", n);
            usage.usage.metrics.insert("contract".into(), contracts);
            input.installs.push(usage);
            input.tenants.insert(tenant, TenantTerms {
                commitments: self::minimum(minimum),
                credit,
                discounts: vec![Discount {
                    reason: "r".into(),
                    amount: DiscountAmount::Percent { bps: discount_bps },
                    from: "2026-01".parse().unwrap(),
                    to: "2027-01".parse().unwrap(),
                }],
            });
        }
        (input, months)
    }
}

proptest! {
    #[test]
    fn money_is_conserved_payouts_are_never_negative_and_payback_is_capped(
        (mut input, months) in arbitrary_input()
    ) {
        for _ in 0..months {
            let closed = close(&input).unwrap();
            assert_conserved(&closed);
            prop_assert_eq!(&close(&input).unwrap(), &closed, "closing is deterministic");
            for s in &closed.settlements {
                prop_assert!(s.platform >= 0 && s.author >= 0);
                prop_assert!(s.investors.iter().all(|(_, _, p)| *p >= 0));
                prop_assert_eq!(
                    s.platform + s.author + s.investors.iter().map(|i| i.2).sum::<i64>(),
                    s.charged
                );
            }
            for invoice in &closed.invoices {
                prop_assert!(invoice.total >= 0 && invoice.amount_due >= 0);
            }
            let sums = totals(&closed).unwrap();
            prop_assert_eq!(sums.charged, sums.platform + sums.authors + sums.investors);
            prop_assert_eq!(sums.charged, closed.invoices.iter().map(|i| i.total).sum::<i64>());
            let plugin = input.plugins.get_mut("acme/tariff").unwrap();
            plugin.payback = closed.payback["acme/tariff"].clone();
            let caps = crate::payback::caps(&plugin.agreement.investors).unwrap();
            for (cap, paid) in caps.iter().zip(&plugin.payback.paid) {
                prop_assert!(paid <= cap);
            }
            input.period = input.period.next();
        }
    }
}

/// The sum of `account`'s entries over `transactions`.
fn balance(transactions: &[Transaction], account: &LedgerAccount) -> i64 {
    transactions
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|(a, _)| a == account)
        .map(|(_, amount)| amount)
        .sum()
}

fn funding(tenant: &str, request: &str, amount: i64) -> FundingCharge {
    FundingCharge {
        tenant: tenant.into(),
        request: request.into(),
        description: format!("funding of request #{request}: night tariffs"),
        amount,
    }
}

#[test]
fn funding_is_its_own_line_after_discounts_held_then_released_to_the_builder() {
    let mut input = input(
        vec![calls("t1", "acme/tariff", 1_000)],
        terms(per_call("0.01"), Vec::new(), 0),
    );
    // A 10% discount and a minimum are about usage: funding is neither
    // discounted nor counted toward the minimum.
    input.tenants.insert(
        "t1".into(),
        TenantTerms {
            commitments: minimum(2_000),
            discounts: vec![Discount {
                reason: "launch".into(),
                amount: DiscountAmount::Percent { bps: 1000 },
                from: "2026-01".parse().unwrap(),
                to: "2026-12".parse().unwrap(),
            }],
            credit: 0,
        },
    );
    input.fundings = vec![funding("t1", "7", 600_000), funding("t2", "7", 400_000)];
    input.releases = vec![FundingRelease {
        request: "7".into(),
        builder: "ada".into(),
        plugin: "acme/tariff".into(),
        description: "funding of request #7".into(),
        amount: 1_000_000,
    }];
    let closed = close(&input).unwrap();
    let t1 = closed.invoices.iter().find(|i| i.tenant == "t1").unwrap();
    // Usage 10.00 topped up to the 20.00 minimum, less 10%: 18.00, then
    // the pledge of 6,000.00 on its own line.
    assert_eq!((t1.subtotal, t1.funding, t1.total), (1_000, 600_000, 601_800));
    assert_eq!(
        t1.lines.last().unwrap().line.description,
        "funding of request #7: night tariffs"
    );
    let t2 = closed.invoices.iter().find(|i| i.tenant == "t2").unwrap();
    assert_eq!((t2.subtotal, t2.total, t2.lines.len()), (0, 400_000, 1));
    let held = balance(&closed.transactions, &LedgerAccount::FundingHeld("7".into()));
    assert_eq!(held, 0, "invoiced and released in one period");
    let builder = balance(&closed.transactions, &LedgerAccount::BuilderPayable("ada".into()));
    assert_eq!(builder, -1_000_000);
    let statement = closed
        .statements
        .iter()
        .find(|s| s.kind == Party::Builder)
        .unwrap();
    assert_eq!((statement.party.as_str(), statement.total), ("ada", 1_000_000));
    let totals = totals(&closed).unwrap();
    assert_eq!(
        totals.charged,
        totals.platform + totals.authors + totals.investors + totals.funding
    );
    assert_eq!((totals.funding, totals.builders), (1_000_000, 1_000_000));
}

proptest::proptest! {
    /// Whatever is pledged and released, every transaction balances, the
    /// funding invoiced is the pledges' sum, and the held funding is what
    /// was invoiced less what was released.
    #[test]
    fn funding_moves_exactly(
        pledges in proptest::collection::vec((0_usize..4, 1_i64..1_000_000_000_000), 0..12),
        released in proptest::collection::vec(0_usize..4, 0..3),
    ) {
        let tenants = ["t1", "t2", "t3", "t4"];
        let mut input = input(Vec::new(), terms(per_call("0.01"), Vec::new(), 0));
        input.fundings = pledges
            .iter()
            .map(|(t, amount)| funding(tenants[*t], &format!("{}", t % 2), *amount))
            .collect();
        let mut released: Vec<usize> = released;
        released.sort();
        released.dedup();
        input.releases = released
            .iter()
            .map(|r| FundingRelease {
                request: format!("{}", r % 2),
                builder: "ada".into(),
                plugin: "acme/tariff".into(),
                description: "d".into(),
                amount: 1 + *r as i64,
            })
            .collect();
        let closed = close(&input).unwrap();
        let invoiced: i64 = pledges.iter().map(|(_, a)| a).sum();
        let released_sum: i64 = input.releases.iter().map(|r| r.amount).sum();
        proptest::prop_assert_eq!(closed.invoices.iter().map(|i| i.funding).sum::<i64>(), invoiced);
        proptest::prop_assert_eq!(closed.invoices.iter().map(|i| i.total).sum::<i64>(), invoiced);
        let mut held = 0;
        for request in ["0", "1"] {
            held += balance(&closed.transactions, &LedgerAccount::FundingHeld(request.into()));
        }
        proptest::prop_assert_eq!(held, released_sum - invoiced);
        for t in &closed.transactions {
            proptest::prop_assert_eq!(t.entries.iter().map(|(_, a)| a).sum::<i64>(), 0);
        }
    }
}
