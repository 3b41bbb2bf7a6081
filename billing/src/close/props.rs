//! "Any input" properties (issue 9, item 8): random plans — structurally
//! valid ones with hostile numbers, arbitrary JSON, and valid plans with one
//! part replaced by arbitrary JSON — through parsing, validation and rating;
//! random periods (installs, plans, investors, discounts, credits, minimum
//! commitments in money and in units)
//! through the close, over a few consecutive months. Nothing may panic, and
//! whatever is accepted must add up to the cent.
//!
//! The strategies are small (a few installs, tenants and investors) and the
//! case counts fixed so the crate's whole test run stays well under 30 s.

use super::*;
use crate::commitments::{Commitment, Minimum};
use crate::discounts::DiscountAmount;
use crate::payback::{Investor, caps};
use crate::rating::{Charge, Meter, Pricing, rate, validate_plan};
use crate::split::{AfterPayback, LedgerAccount};
use crate::tiers::{Tier, TierMode};
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------- numbers

/// Any decimal the type can hold: every mantissa, sign and scale.
fn any_decimal() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

/// Mostly prices a plan could have, and every kind of hostile value: huge,
/// negative, more decimals than are kept, the type's extremes.
fn hostile_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        16 => (0i64..1_000_000, 0u32..6).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => (-1_000_000i64..0, 0u32..6).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(Decimal::ZERO),
            Just(Decimal::new(1, 28)),
            Just(Decimal::new(1, 13)),
            Just(Decimal::new(1, 12)),
            Just(Decimal::from(1_000_000)),
            Just(Decimal::from_i128_with_scale(100_000_000_000_000_000_000, 0)),
        ],
        1 => any_decimal(),
    ]
}

/// Counts: mostly small, sometimes at or near the type's end.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..100_000,
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

// ----------------------------------------------------------------- plans

fn tier() -> impl Strategy<Value = Tier> {
    (
        proptest::option::weighted(0.7, hostile_decimal()),
        hostile_decimal(),
        hostile_decimal(),
    )
        .prop_map(|(up_to, unit_price, flat_fee)| Tier {
            up_to,
            unit_price,
            flat_fee,
        })
}

fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    proptest::collection::vec(tier(), 0..4).prop_map(|mut tiers| {
        // Usually well-formed (rising bounds, open last), so rating is
        // reached; sometimes left as drawn, so malformed tiers are too.
        if tiers.len() % 2 == 1 {
            tiers.sort_by(|a, b| a.up_to.cmp(&b.up_to).reverse());
            tiers.reverse();
            if let Some(last) = tiers.last_mut() {
                last.up_to = None;
            }
        }
        tiers
    })
}

fn meter() -> impl Strategy<Value = Meter> {
    prop_oneof![
        proptest::option::of(prop_oneof![Just("a"), Just("b")]).prop_map(|op| Meter::Calls {
            operation: op.map(str::to_owned)
        }),
        prop_oneof![Just("m"), Just("n"), Just("")].prop_map(|m| Meter::Metric {
            metric: m.to_owned()
        }),
        prop_oneof![3 => 1u64..1_000_000, 1 => Just(0u64), 1 => any::<u64>()]
            .prop_map(|per| Meter::Fuel { per }),
        prop_oneof![3 => 1u64..100_000, 1 => Just(0u64), 1 => any::<u64>()]
            .prop_map(|per_ms| Meter::HostTime { per_ms }),
        Just(Meter::Monthly {}),
    ]
}

fn pricing() -> impl Strategy<Value = Pricing> {
    prop_oneof![
        hostile_decimal().prop_map(|price| Pricing::Unit { price }),
        (
            tiers(),
            prop_oneof![Just(TierMode::Graduated), Just(TierMode::Volume)]
        )
            .prop_map(|(tiers, mode)| Pricing::Tiered { tiers, mode }),
    ]
}

fn charge() -> impl Strategy<Value = Charge> {
    (
        meter(),
        pricing(),
        prop_oneof![3 => Just(Decimal::ZERO), 2 => hostile_decimal()],
    )
        .prop_map(|(meter, pricing, free_units)| Charge {
            meter,
            pricing,
            free_units,
        })
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![4 => Just("EUR"), 1 => Just("JPY"), 1 => Just("BHD")]
        .prop_map(|c| Currency::new(c).unwrap())
}

/// A plan of the right shape with hostile numbers in it.
fn plan() -> impl Strategy<Value = PricePlan> {
    (
        currency(),
        proptest::collection::vec(charge(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(currency, charges, charge_failed_calls)| PricePlan {
            currency,
            charges,
            charge_failed_calls,
        })
}

fn usage() -> impl Strategy<Value = PeriodUsage> {
    let name = || {
        prop_oneof![
            Just("a".to_owned()),
            Just("b".to_owned()),
            Just("c".to_owned())
        ]
    };
    let metric = || prop_oneof![Just("m".to_owned()), Just("n".to_owned())];
    let fuel = || {
        prop_oneof![
            6 => 0u128..10_000_000_000_000,
            1 => Just(u128::MAX),
            1 => Just(1u128 << 100),
            1 => any::<u128>(),
        ]
    };
    (
        proptest::collection::btree_map(name(), count(), 0..3),
        proptest::collection::btree_map(name(), count(), 0..2),
        proptest::collection::btree_map(metric(), count(), 0..2),
        fuel(),
        fuel(),
        prop_oneof![4 => 0u32..=31, 1 => any::<u32>()],
        prop_oneof![4 => 28u32..=31, 1 => Just(0u32), 1 => any::<u32>()],
    )
        .prop_map(
            |(calls, failed_calls, metrics, fuel, failed_fuel, days_installed, days_in_period)| {
                PeriodUsage {
                    calls,
                    failed_calls,
                    metrics,
                    // Host time follows the fuel: any size, including
                    // past what fits a decimal.
                    host_us: fuel / 7,
                    failed_host_us: failed_fuel / 3,
                    fuel,
                    failed_fuel,
                    days_installed,
                    days_in_period,
                }
            },
        )
}

// ------------------------------------------------------------------ JSON

/// The words plans are made of, so arbitrary JSON often comes close.
const WORDS: &[&str] = &[
    "currency",
    "charges",
    "meter",
    "on",
    "pricing",
    "kind",
    "price",
    "tiers",
    "mode",
    "up_to",
    "unit_price",
    "flat_fee",
    "free_units",
    "per",
    "metric",
    "operation",
    "charge_failed_calls",
    "calls",
    "fuel",
    "monthly",
    "unit",
    "tiered",
    "graduated",
    "volume",
    "EUR",
    "JPY",
    "XXX",
    "x",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
    ]
}

/// Any JSON value, plan words and numeric strings weighted in.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word().prop_map(Value::String),
        hostile_decimal().prop_map(|d| Value::String(d.to_string())),
        Just(Value::String("1e30".into())),
        Just(Value::String("79228162514264337593543950336".into())),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(word(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(nodes).sum(),
        Value::Object(fields) => fields.values().map(nodes).sum(),
        _ => 0,
    }
}

/// Replaces the `n`th node (pre-order) of `value` with `with`, or, when
/// `extra` and that node is an object, adds `with` under the key `x`.
fn mutate(value: &mut Value, n: &mut usize, with: &Value, extra: bool) -> bool {
    if *n == 0 {
        match value {
            Value::Object(fields) if extra => {
                fields.insert("x".into(), with.clone());
            }
            _ => *value = with.clone(),
        }
        return true;
    }
    *n -= 1;
    match value {
        Value::Array(items) => items.iter_mut().any(|v| mutate(v, n, with, extra)),
        Value::Object(fields) => fields.values_mut().any(|v| mutate(v, n, with, extra)),
        _ => false,
    }
}

// --------------------------------------------------------- rating checks

/// Whatever JSON came in: parsing, validation and rating never panic, and a
/// plan that parses and validates rates to non-negative lines in its
/// currency whose sum fits.
fn check_plan_json(json: Value, usage: &PeriodUsage) -> Result<(), TestCaseError> {
    let Ok(plan) = serde_json::from_value::<PricePlan>(json) else {
        return Ok(());
    };
    check_plan(&plan, usage)
}

fn check_plan(plan: &PricePlan, usage: &PeriodUsage) -> Result<(), TestCaseError> {
    // Rating an unchecked plan may fail, never panic.
    let rated = rate(plan, usage);
    if validate_plan(plan).is_err() {
        return Ok(());
    }
    let Ok(lines) = rated else { return Ok(()) };
    let mut sum = 0_i64;
    for line in &lines {
        prop_assert!(line.amount.minor > 0, "a negative or zero line: {line:?}");
        prop_assert!(
            !line.quantity.is_sign_negative(),
            "a negative quantity: {line:?}"
        );
        prop_assert_eq!(line.amount.currency, plan.currency);
        sum = sum
            .checked_add(line.amount.minor)
            .ok_or_else(|| TestCaseError::fail(format!("the lines' sum overflows: {lines:?}")))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_plan_of_any_numbers_parses_back_validates_and_rates_without_panic(
        plan in plan(),
        usage in usage(),
    ) {
        let json = serde_json::to_value(&plan).unwrap();
        let parsed: PricePlan = serde_json::from_value(json.clone()).unwrap();
        prop_assert_eq!(&parsed, &plan, "a plan reads back as written");
        check_plan_json(json, &usage)?;
    }

    #[test]
    fn any_json_as_a_plan_never_panics(json in any_json(), usage in usage()) {
        check_plan_json(json, &usage)?;
    }

    #[test]
    fn a_plan_with_one_part_replaced_never_panics(
        plan in plan(),
        at in any::<proptest::sample::Index>(),
        with in any_json(),
        extra in any::<bool>(),
        usage in usage(),
    ) {
        let mut json = serde_json::to_value(&plan).unwrap();
        let mut n = at.index(nodes(&json));
        mutate(&mut json, &mut n, &with, extra);
        check_plan_json(json, &usage)?;
    }
}

// ---------------------------------------------------------------- periods

const TENANTS: &[&str] = &["t0", "t1", "t2"];
const PLUGINS: &[&str] = &["acme/a", "acme/b"];

/// Mostly plans that validate (small prices), sometimes hostile ones.
fn plan_in_force() -> impl Strategy<Value = Option<PlanInForce>> {
    let sane = (
        0i64..100_000,
        0u32..5,
        prop_oneof![Just(Decimal::ZERO), (0i64..1000).prop_map(Decimal::from)],
        meter(),
    )
        .prop_map(|(price, scale, free_units, meter)| {
            let meter = match meter {
                Meter::Fuel { .. } => Meter::Fuel { per: 1000 },
                Meter::HostTime { .. } => Meter::HostTime { per_ms: 100 },
                Meter::Metric { .. } => Meter::Metric { metric: "m".into() },
                other => other,
            };
            PricePlan {
                currency: Currency::new("EUR").unwrap(),
                charges: vec![
                    Charge {
                        meter,
                        pricing: Pricing::Unit {
                            price: Decimal::new(price, scale),
                        },
                        free_units,
                    },
                    Charge {
                        meter: Meter::Calls { operation: None },
                        pricing: Pricing::Unit {
                            price: Decimal::new(1, 3),
                        },
                        free_units: Decimal::ZERO,
                    },
                ],
                charge_failed_calls: false,
            }
        });
    let hostile = plan().prop_map(|mut p| {
        p.currency = Currency::new("EUR").unwrap();
        p
    });
    proptest::option::weighted(0.9, prop_oneof![4 => sane, 1 => hostile]).prop_map(|plan| {
        plan.map(|plan| PlanInForce {
            id: "plan".into(),
            plan,
        })
    })
}

fn bps() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0u32..=10_000, 1 => Just(10_000u32), 1 => any::<u32>()]
}

fn plugin_terms() -> impl Strategy<Value = PluginTerms> {
    let investor = (
        prop_oneof![6 => 1u64..5_000_000, 1 => Just(0u64), 1 => Just(u64::MAX), 1 => any::<u64>()],
        prop_oneof![6 => 0u32..5_000, 1 => any::<u32>()],
        proptest::sample::select(TENANTS),
    );
    (
        plan_in_force(),
        bps(),
        bps(),
        proptest::collection::vec(investor, 0..4),
        any::<bool>(),
    )
        .prop_map(
            |(plan, platform_fee_bps, investor_share_bps, investors, keeps)| PluginTerms {
                plan,
                author: "ada".into(),
                investor_accounts: investors.iter().map(|(_, _, a)| (*a).to_owned()).collect(),
                agreement: Agreement {
                    platform_fee_bps,
                    investors: investors
                        .iter()
                        .enumerate()
                        .map(|(i, (principal, return_bps, _))| Investor {
                            id: format!("inv-{i}"),
                            principal: *principal,
                            return_bps: *return_bps,
                        })
                        .collect(),
                    investor_share_bps,
                    after_payback: if keeps {
                        AfterPayback::AuthorKeeps
                    } else {
                        AfterPayback::ToPlatform
                    },
                },
                payback: PaybackState::default(),
            },
        )
}

fn minor() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(0i64),
        6 => 0i64..1_000_000,
        1 => Just(i64::MAX),
        1 => any::<i64>(),
    ]
}

fn tenant_terms() -> impl Strategy<Value = TenantTerms> {
    let period = |m: u8| Period {
        year: 2026,
        month: m,
    };
    let discount = (
        prop_oneof![
            bps().prop_map(|bps| DiscountAmount::Percent { bps }),
            minor().prop_map(|minor| DiscountAmount::Fixed { minor }),
        ],
        1u8..=12,
        1u8..=12,
    )
        .prop_map(move |(amount, a, b)| Discount {
            reason: "r".into(),
            amount,
            from: period(a.min(b)),
            to: period(a.max(b)),
        });
    let commitment = (
        prop_oneof![
            minor().prop_map(|minor| Minimum::Money { minor }),
            (
                prop_oneof![9 => proptest::sample::select(PLUGINS), 1 => Just("acme/none")],
                prop_oneof![Just("m"), Just("n")],
                count(),
            )
                .prop_map(|(plugin, metric, units)| Minimum::Units {
                    plugin: plugin.to_owned(),
                    metric: metric.to_owned(),
                    units,
                }),
        ],
        1u8..=12,
        proptest::option::of(1u8..=12),
    )
        .prop_map(move |(minimum, from, to)| Commitment {
            minimum,
            from: period(from),
            to: to.map(period),
        });
    (
        proptest::collection::vec(commitment, 0..3),
        proptest::collection::vec(discount, 0..3),
        minor(),
    )
        .prop_map(|(commitments, discounts, credit)| TenantTerms {
            commitments,
            discounts,
            credit,
        })
}

fn install() -> impl Strategy<Value = InstallUsage> {
    (
        proptest::sample::select(TENANTS),
        prop_oneof![9 => proptest::sample::select(PLUGINS), 1 => Just("acme/none")],
        usage(),
    )
        .prop_map(|(tenant, plugin, usage)| InstallUsage {
            tenant: tenant.to_owned(),
            plugin: plugin.to_owned(),
            versions: vec!["1.0.0".into()],
            usage,
        })
}

fn period_input() -> impl Strategy<Value = PeriodInput> {
    (
        proptest::collection::vec(install(), 0..5),
        proptest::collection::vec(plugin_terms(), PLUGINS.len()),
        proptest::collection::btree_map(proptest::sample::select(TENANTS), tenant_terms(), 0..3),
        1u8..=12,
        proptest::collection::vec(
            (
                proptest::sample::select(TENANTS),
                proptest::sample::select(PLUGINS),
            ),
            0..2,
        ),
    )
        .prop_map(|(installs, plugins, tenants, month, voids)| PeriodInput {
            period: Period { year: 2026, month },
            currency: Currency::new("EUR").unwrap(),
            installs,
            plugins: PLUGINS
                .iter()
                .map(|p| (*p).to_owned())
                .zip(plugins)
                .collect(),
            tenants: tenants
                .into_iter()
                .map(|(t, terms)| (t.to_owned(), terms))
                .collect(),
            voids: voids
                .into_iter()
                .map(|(tenant, plugin)| Void {
                    tenant: tenant.to_owned(),
                    plugin: plugin.to_owned(),
                    reason: "r".into(),
                })
                .collect(),
            fundings: Vec::new(),
            releases: Vec::new(),
        })
}

// ----------------------------------------------------------- close checks

/// The sum of `account`'s entries over every transaction.
fn booked(closed: &PeriodClose, account: &LedgerAccount) -> i64 {
    closed
        .transactions
        .iter()
        .flat_map(|t| &t.entries)
        .filter(|(a, _)| a == account)
        .map(|(_, amount)| amount)
        .sum()
}

/// Every invariant a successful close must keep.
fn check_close(input: &PeriodInput, closed: &PeriodClose) -> Result<(), TestCaseError> {
    let sums = totals(closed).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        sums.charged,
        sums.platform + sums.authors + sums.investors,
        "charged = platform + authors + investors"
    );
    for transaction in &closed.transactions {
        let off: i128 = transaction
            .entries
            .iter()
            .map(|(_, a)| i128::from(*a))
            .sum();
        prop_assert_eq!(off, 0, "{:?} does not balance", transaction);
    }
    for invoice in &closed.invoices {
        let receivable = LedgerAccount::TenantReceivable(invoice.tenant.clone());
        let credit = LedgerAccount::Credit(invoice.tenant.clone());
        // The receivable is debited with the total, then credited with the
        // prepaid credit used: what is left is the amount due.
        prop_assert_eq!(
            booked(closed, &receivable),
            invoice.amount_due,
            "{:?}",
            invoice
        );
        prop_assert_eq!(booked(closed, &credit), invoice.credit_used);
        prop_assert_eq!(invoice.total, invoice.amount_due + invoice.credit_used);
        prop_assert!(invoice.total >= 0 && invoice.amount_due >= 0 && invoice.credit_used >= 0);
        let lines: i64 = invoice.lines.iter().map(|l| l.line.amount.minor).sum();
        prop_assert_eq!(lines, invoice.total, "the lines add up to the total");
        let usage: i64 = invoice
            .lines
            .iter()
            .filter(|l| l.plugin.is_some())
            .map(|l| l.line.amount.minor)
            .sum();
        prop_assert_eq!(usage, invoice.subtotal);
        for line in &invoice.lines {
            prop_assert!(line.line.amount.minor != 0, "a zero line: {:?}", line);
            // Only discounts (no plugin) are below zero.
            prop_assert!(
                line.line.amount.minor >= 0 || line.plugin.is_none(),
                "a negative usage line: {:?}",
                line
            );
        }
    }
    // No tenant is booked a receivable without an invoice showing it.
    for transaction in &closed.transactions {
        for (account, _) in &transaction.entries {
            if let LedgerAccount::TenantReceivable(tenant) = account {
                prop_assert!(
                    closed.invoices.iter().any(|i| &i.tenant == tenant)
                        || booked(closed, account) == 0,
                    "{} is booked a receivable but has no invoice",
                    tenant
                );
            }
        }
    }
    for settlement in &closed.settlements {
        prop_assert!(settlement.platform >= 0 && settlement.author >= 0);
        let investors: i64 = settlement.investors.iter().map(|i| i.2).sum();
        prop_assert!(settlement.investors.iter().all(|i| i.2 >= 0));
        prop_assert_eq!(
            settlement.platform + settlement.author + investors,
            settlement.charged
        );
    }
    for (plugin, state) in &closed.payback {
        // Nothing paid yet: the plugin was not settled, and its caps (which
        // may not even be computable) were never needed.
        if state.paid.is_empty() {
            continue;
        }
        let investors = &input.plugins[plugin].agreement.investors;
        let caps = caps(investors).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (paid, cap) in state.paid.iter().zip(&caps) {
            prop_assert!(paid <= cap, "{} paid {} over its cap {}", plugin, paid, cap);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Up to three consecutive months, the payback carried between them.
    #[test]
    fn any_period_closes_without_panic_and_adds_up_to_the_cent(
        mut input in period_input(),
        months in 1usize..4,
    ) {
        for _ in 0..months {
            let first = close(&input);
            let again = close(&input);
            let Ok(closed) = first else {
                prop_assert_eq!(first, again, "the same input fails the same way");
                break;
            };
            prop_assert_eq!(
                serde_json::to_vec(&closed).unwrap(),
                serde_json::to_vec(&again.unwrap()).unwrap(),
                "the same input closes to the same bytes"
            );
            check_close(&input, &closed)?;
            for (plugin, state) in &closed.payback {
                if let Some(terms) = input.plugins.get_mut(plugin) {
                    terms.payback = state.clone();
                }
            }
            input.period = input.period.next();
        }
    }
}
