//! Price plans and rating: a period's aggregated usage of one install
//! becomes invoice lines, each rounded once.

use crate::bounds::{MAX_PRICE, MAX_PRICE_DECIMALS};
use crate::money::{Currency, Money, MoneyError, exact_mul, round_ratio};
use crate::tiers::{self, Tier, TierError, TierMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a quantity is priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum Pricing {
    /// One price per unit (may be finer than a cent).
    Unit {
        /// Price per unit, major units.
        price: Decimal,
    },
    /// Tiers, graduated or volume.
    Tiered {
        /// The tiers.
        tiers: Vec<Tier>,
        /// How they apply.
        mode: TierMode,
    },
}

/// What a charge counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "on", deny_unknown_fields)]
pub enum Meter {
    /// Calls: of one operation, or of all when `None`.
    Calls {
        /// The operation, or all.
        operation: Option<String>,
    },
    /// Units of a declared metric (for "unique" metrics, distinct keys).
    Metric {
        /// The metric.
        metric: String,
    },
    /// Fuel, in blocks of `per` (e.g. per million instructions).
    Fuel {
        /// Fuel per billed unit.
        per: u64,
    },
    /// Time the calls spent inside host functions (storage, WASI waits,
    /// the contract's imports), which fuel does not count, in blocks of
    /// `per_ms` milliseconds: a plugin that waits on the host is not free.
    HostTime {
        /// Milliseconds per billed unit.
        per_ms: u64,
    },
    /// A flat monthly fee per install, prorated by days installed. A struct
    /// variant, not a unit one: serde lets a unit variant of a tagged enum
    /// ignore extra fields even under `deny_unknown_fields`, and
    /// `{"on":"monthly","x":1}` must be refused. The JSON stays
    /// `{"on":"monthly"}`.
    Monthly {},
}

/// One charge of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Charge {
    /// What is counted.
    pub meter: Meter,
    /// How it is priced (for `Monthly`, the unit price is the monthly fee).
    pub pricing: Pricing,
    /// Units free each period before pricing starts.
    #[serde(default)]
    pub free_units: Decimal,
}

/// A plugin's price plan, as its author set it. Unknown fields are refused:
/// a misspelt `free_units` must not silently mean none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricePlan {
    /// The plan's currency.
    pub currency: Currency,
    /// Its charges.
    pub charges: Vec<Charge>,
    /// Whether failed calls (plugin error, trap, limit) count; default not.
    #[serde(default)]
    pub charge_failed_calls: bool,
}

/// One install's aggregated usage in one period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodUsage {
    /// Successful calls per operation.
    pub calls: BTreeMap<String, u64>,
    /// Failed calls (guest's fault) per operation; host faults are never here.
    pub failed_calls: BTreeMap<String, u64>,
    /// Units per metric (sums, or distinct keys for unique metrics).
    pub metrics: BTreeMap<String, u64>,
    /// Fuel of the successful calls.
    pub fuel: u128,
    /// Fuel of the failed calls (guest's fault); counted only when the plan
    /// charges failed calls.
    #[serde(default)]
    pub failed_fuel: u128,
    /// Host time of the successful calls, in microseconds.
    #[serde(default)]
    pub host_us: u128,
    /// Host time of the failed calls (guest's fault), in microseconds;
    /// counted only when the plan charges failed calls.
    #[serde(default)]
    pub failed_host_us: u128,
    /// Days the install existed in the period.
    pub days_installed: u32,
    /// Days in the period.
    pub days_in_period: u32,
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceLine {
    /// What it is for.
    pub description: String,
    /// Billed quantity (after the free allowance).
    pub quantity: Decimal,
    /// The unit price, for unit pricing.
    pub unit_price: Option<Decimal>,
    /// The amount, rounded once.
    pub amount: Money,
}

/// Why rating failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// Tiers are malformed.
    #[error(transparent)]
    Tiers(#[from] TierError),
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A fuel block of zero, or a period of zero days.
    #[error("invalid plan or usage: {0}")]
    Invalid(&'static str),
    /// A quantity does not fit.
    #[error("the {0} to rate overflows")]
    Overflow(&'static str),
}

/// The longest host-time block a plan may bill by: a day, in ms (so the
/// block in µs never overflows).
pub const MAX_HOST_TIME_BLOCK_MS: u64 = 86_400_000;

/// Why a plan was refused when it was set.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Free units below zero.
    #[error("charge {charge}: free units cannot be negative")]
    NegativeFreeUnits {
        /// The charge, counted from 1.
        charge: usize,
    },
    /// A fuel block of zero.
    #[error("charge {charge}: a fuel block must be at least 1")]
    EmptyFuelBlock {
        /// The charge, counted from 1.
        charge: usize,
    },
    /// A host-time block outside 1 ms to a day.
    #[error("charge {charge}: a host-time block is 1 to {MAX_HOST_TIME_BLOCK_MS} ms")]
    HostTimeBlock {
        /// The charge, counted from 1.
        charge: usize,
    },
    /// A metric charge without a metric.
    #[error("charge {charge}: name the metric")]
    UnnamedMetric {
        /// The charge, counted from 1.
        charge: usize,
    },
    /// A unit price below zero.
    #[error("charge {charge}: a unit price cannot be negative")]
    NegativePrice {
        /// The charge, counted from 1.
        charge: usize,
    },
    /// Tiers that cannot price every quantity.
    #[error("charge {charge}: {source}")]
    Tiers {
        /// The charge, counted from 1.
        charge: usize,
        /// What is wrong with them.
        source: TierError,
    },
    /// A price, fee, bound or allowance outside its range, or with more
    /// decimals than are kept exactly.
    #[error("charge {charge}: {field} is {value}; it must be {range}")]
    OutOfRange {
        /// The charge, counted from 1.
        charge: usize,
        /// What the value is (`the unit price`, `tier 2's flat fee`).
        field: String,
        /// The value given.
        value: Decimal,
        /// The range, in words.
        range: String,
    },
    /// A metric the plugin does not declare: the charge would never charge.
    #[error("charge {charge}: {package} declares no metric `{metric}` (declared: {declared})")]
    UndeclaredMetric {
        /// The charge, counted from 1.
        charge: usize,
        /// The plugin.
        package: String,
        /// The metric named.
        metric: String,
        /// The metrics it declares, comma-separated.
        declared: String,
    },
    /// An operation the plugin does not have: the charge would never charge.
    #[error("charge {charge}: {package} has no operation `{operation}` (operations: {declared})")]
    UndeclaredOperation {
        /// The charge, counted from 1.
        charge: usize,
        /// The plugin.
        package: String,
        /// The operation named.
        operation: String,
        /// Its operations, comma-separated.
        declared: String,
    },
    /// The plan is in another currency than the platform bills in.
    #[error("the plan is in {plan}, but the platform bills in {platform}")]
    Currency {
        /// The plan's currency.
        plan: Currency,
        /// The platform's.
        platform: Currency,
    },
}

/// A decimal in `0..=max` with at most [`MAX_PRICE_DECIMALS`] decimals
/// (a price with more is refused, never rounded to 0).
fn in_range(charge: usize, field: String, value: Decimal, max: Decimal) -> Result<(), PlanError> {
    if value.is_sign_negative() || value > max || value.scale() > MAX_PRICE_DECIMALS {
        return Err(PlanError::OutOfRange {
            charge,
            field,
            value,
            range: format!("0 to {max} with at most {MAX_PRICE_DECIMALS} decimals"),
        });
    }
    Ok(())
}

/// Checks what rating would refuse, when the plan is set rather than at
/// the close: prices and fees in `0..=`[`MAX_PRICE`], allowances and tier
/// bounds in `0..=`[`MAX_QUANTITY`], each with at most
/// [`MAX_PRICE_DECIMALS`] decimals.
pub fn validate_plan(plan: &PricePlan) -> Result<(), PlanError> {
    let max_price = Decimal::from(MAX_PRICE);
    let max_quantity = Decimal::from(MAX_QUANTITY);
    for (i, charge) in plan.charges.iter().enumerate() {
        let n = i + 1;
        if charge.free_units.is_sign_negative() {
            return Err(PlanError::NegativeFreeUnits { charge: n });
        }
        in_range(n, "free_units".into(), charge.free_units, max_quantity)?;
        match &charge.pricing {
            Pricing::Unit { price } if !price.is_sign_negative() => {
                in_range(n, "price".into(), *price, max_price)?;
            }
            Pricing::Unit { .. } => {}
            Pricing::Tiered { tiers, .. } => {
                for (t, tier) in tiers.iter().enumerate() {
                    let t = t + 1;
                    if let Some(up_to) = tier.up_to {
                        in_range(n, format!("tier {t}'s up_to"), up_to, max_quantity)?;
                    }
                    in_range(
                        n,
                        format!("tier {t}'s unit_price"),
                        tier.unit_price,
                        max_price,
                    )?;
                    in_range(n, format!("tier {t}'s flat_fee"), tier.flat_fee, max_price)?;
                }
            }
        }
        match &charge.meter {
            Meter::Fuel { per: 0 } => return Err(PlanError::EmptyFuelBlock { charge: n }),
            Meter::HostTime { per_ms } if !(1..=MAX_HOST_TIME_BLOCK_MS).contains(per_ms) => {
                return Err(PlanError::HostTimeBlock { charge: n });
            }
            Meter::Metric { metric } if metric.is_empty() => {
                return Err(PlanError::UnnamedMetric { charge: n });
            }
            _ => {}
        }
        match &charge.pricing {
            Pricing::Unit { price } if price.is_sign_negative() => {
                return Err(PlanError::NegativePrice { charge: n });
            }
            Pricing::Tiered { tiers, mode } => {
                tiers::amount(Decimal::ONE, tiers, *mode)
                    .map_err(|source| PlanError::Tiers { charge: n, source })?;
            }
            Pricing::Unit { .. } => {}
        }
    }
    Ok(())
}

/// The largest free allowance or tier bound, in units: 10^18.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000_000_000;

/// What a plugin declares across its published versions: the metrics and
/// operations a plan may name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    /// Metric names.
    pub metrics: BTreeSet<String>,
    /// Operation names.
    pub operations: BTreeSet<String>,
}

/// Refuses a plan of `package` that names a metric or an operation the
/// plugin does not declare: that charge would silently never charge.
pub fn check_declared(
    plan: &PricePlan,
    package: &str,
    declared: &Declared,
) -> Result<(), PlanError> {
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
    for (i, charge) in plan.charges.iter().enumerate() {
        match &charge.meter {
            Meter::Metric { metric } if !declared.metrics.contains(metric) => {
                return Err(PlanError::UndeclaredMetric {
                    charge: i + 1,
                    package: package.to_owned(),
                    metric: metric.clone(),
                    declared: list(&declared.metrics),
                });
            }
            Meter::Calls {
                operation: Some(operation),
            } if !declared.operations.contains(operation) => {
                return Err(PlanError::UndeclaredOperation {
                    charge: i + 1,
                    package: package.to_owned(),
                    operation: operation.clone(),
                    declared: list(&declared.operations),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a plan in another currency than the platform's.
pub fn check_currency(plan: &PricePlan, platform: Currency) -> Result<(), PlanError> {
    if plan.currency != platform {
        return Err(PlanError::Currency {
            plan: plan.currency,
            platform,
        });
    }
    Ok(())
}

/// The exact amount of `num / den` units: priced over `den` and divided
/// once, when rounded.
fn price(
    num: Decimal,
    den: u64,
    pricing: &Pricing,
    currency: Currency,
) -> Result<(Option<Decimal>, Money), RatingError> {
    match pricing {
        Pricing::Unit { price } => Ok((
            Some(*price),
            round_ratio(exact_mul(num, *price)?, den, currency)?,
        )),
        Pricing::Tiered { tiers, mode } => Ok((
            None,
            round_ratio(tiers::amount_over(num, den, tiers, *mode)?, den, currency)?,
        )),
    }
}

/// Calls of `operation` (all, for `None`) in `map`, checked.
fn count_calls(map: &BTreeMap<String, u64>, operation: Option<&str>) -> Result<u64, RatingError> {
    match operation {
        Some(op) => Ok(map.get(op).copied().unwrap_or(0)),
        None => map
            .values()
            .try_fold(0_u64, |sum, n| sum.checked_add(*n))
            .ok_or(RatingError::Overflow("calls")),
    }
}

/// What a charge counts in `usage` as the exact fraction `num / den`
/// (`den` is 1 except for fuel blocks and prorated months), and its
/// description.
fn quantity(
    meter: &Meter,
    plan: &PricePlan,
    usage: &PeriodUsage,
) -> Result<(String, Decimal, u64), RatingError> {
    Ok(match meter {
        Meter::Calls { operation } => {
            let mut calls = count_calls(&usage.calls, operation.as_deref())?;
            if plan.charge_failed_calls {
                calls = calls
                    .checked_add(count_calls(&usage.failed_calls, operation.as_deref())?)
                    .ok_or(RatingError::Overflow("calls"))?;
            }
            let what = operation
                .as_deref()
                .map_or("calls".to_owned(), |op| format!("calls of `{op}`"));
            (what, Decimal::from(calls), 1)
        }
        Meter::Metric { metric } => (
            format!("units of `{metric}`"),
            Decimal::from(usage.metrics.get(metric).copied().unwrap_or(0)),
            1,
        ),
        Meter::Fuel { per } => {
            if *per == 0 {
                return Err(RatingError::Invalid("a fuel block must be at least 1"));
            }
            // The fuel of failed calls counts when the plan charges them.
            let mut fuel = usage.fuel;
            if plan.charge_failed_calls {
                fuel = fuel
                    .checked_add(usage.failed_fuel)
                    .ok_or(RatingError::Overflow("fuel"))?;
            }
            // Fuel past 96 bits does not fit a decimal: an error, not a panic.
            let fuel = i128::try_from(fuel)
                .ok()
                .and_then(|fuel| Decimal::try_from_i128_with_scale(fuel, 0).ok())
                .ok_or(RatingError::Overflow("fuel"))?;
            (format!("compute (per {per} fuel)"), fuel, *per)
        }
        Meter::HostTime { per_ms } => {
            if !(1..=MAX_HOST_TIME_BLOCK_MS).contains(per_ms) {
                return Err(RatingError::Invalid("a host-time block is 1 ms to a day"));
            }
            let mut host_us = usage.host_us;
            if plan.charge_failed_calls {
                host_us = host_us
                    .checked_add(usage.failed_host_us)
                    .ok_or(RatingError::Overflow("host time"))?;
            }
            let host_us = i128::try_from(host_us)
                .ok()
                .and_then(|us| Decimal::try_from_i128_with_scale(us, 0).ok())
                .ok_or(RatingError::Overflow("host time"))?;
            // Blocks of `per_ms` ms, counted in µs: the exact fraction
            // host_us / (per_ms × 1000), rounded once with the amount.
            (
                format!("host time (per {per_ms} ms)"),
                host_us,
                per_ms * 1000,
            )
        }
        Meter::Monthly {} => {
            if usage.days_in_period == 0 {
                return Err(RatingError::Invalid("a period has at least one day"));
            }
            let days = usage.days_installed.min(usage.days_in_period);
            (
                format!("monthly fee, {days} of {} days", usage.days_in_period),
                Decimal::from(days),
                u64::from(usage.days_in_period),
            )
        }
    })
}

/// Rates one install's period: one line per charge with a non-zero
/// amount (after rounding). Each amount is computed from the exact product (a fraction of
/// a month or of a fuel block is never rounded first) and rounded once.
pub fn rate(plan: &PricePlan, usage: &PeriodUsage) -> Result<Vec<InvoiceLine>, RatingError> {
    rate_charges(plan, usage).map_err(|(_, error)| error)
}

/// [`rate`], with the number of the charge (from 1) that failed.
pub fn rate_charges(
    plan: &PricePlan,
    usage: &PeriodUsage,
) -> Result<Vec<InvoiceLine>, (usize, RatingError)> {
    let mut lines = Vec::new();
    for (i, charge) in plan.charges.iter().enumerate() {
        lines.extend(rate_charge(charge, plan, usage).map_err(|error| (i + 1, error))?);
    }
    Ok(lines)
}

/// One charge of `plan` on `usage`: its line, or none when it rounds to
/// nothing.
fn rate_charge(
    charge: &Charge,
    plan: &PricePlan,
    usage: &PeriodUsage,
) -> Result<Option<InvoiceLine>, RatingError> {
    let (description, num, den) = quantity(&charge.meter, plan, usage)?;
    if charge.free_units.is_sign_negative() {
        return Err(RatingError::Invalid("free units cannot be negative"));
    }
    let free = exact_mul(charge.free_units, Decimal::from(den))
        .map_err(|_| RatingError::Overflow("free units"))?;
    let billed = num
        .checked_sub(free)
        .ok_or(RatingError::Overflow("quantity"))?
        .max(Decimal::ZERO);
    if billed.is_zero() {
        return Ok(None);
    }
    let (unit_price, amount) = price(billed, den, &charge.pricing, plan.currency)?;
    // A line that rounds to nothing (a free price, 1 call at 0.001) is
    // not written: an invoice shows only what it charges.
    if amount.minor == 0 {
        return Ok(None);
    }
    // The quantity shown: the fraction, to the decimal type's precision.
    let quantity = billed
        .checked_div(Decimal::from(den))
        .ok_or(RatingError::Overflow("quantity"))?
        .normalize();
    Ok(Some(InvoiceLine {
        description,
        quantity,
        unit_price,
        amount,
    }))
}

/// The line that bills a tenant's shortfall against a commitment of
/// `units` of `metric` a period: what the plan's charges on that metric
/// would add had `units` been used, each charge rounded as its usage line
/// is, so usage line plus shortfall equals the line of `units`. None when
/// enough was used, or the plan does not charge the metric.
pub fn units_top_up(
    plan: &PricePlan,
    usage: &PeriodUsage,
    metric: &str,
    units: u64,
) -> Result<Option<InvoiceLine>, RatingError> {
    let used = usage.metrics.get(metric).copied().unwrap_or(0);
    if used >= units {
        return Ok(None);
    }
    let mut committed = usage.clone();
    committed.metrics.insert(metric.to_owned(), units);
    let amount_of = |charge: &Charge, usage: &PeriodUsage| {
        Ok::<_, RatingError>(rate_charge(charge, plan, usage)?.map_or(0, |line| line.amount.minor))
    };
    let mut short: i64 = 0;
    for charge in plan
        .charges
        .iter()
        .filter(|c| matches!(&c.meter, Meter::Metric { metric: m } if m == metric))
    {
        // A volume tier can make more units cost less: that charge adds
        // nothing, it never takes from another charge's shortfall.
        let more = amount_of(charge, &committed)?
            .checked_sub(amount_of(charge, usage)?)
            .ok_or(RatingError::Overflow("a commitment's shortfall"))?
            .max(0);
        short = short
            .checked_add(more)
            .ok_or(RatingError::Overflow("a commitment's shortfall"))?;
    }
    Ok((short > 0).then(|| InvoiceLine {
        description: format!(
            "minimum commitment of {units} units of `{metric}` a month ({used} used)"
        ),
        quantity: Decimal::from(units - used),
        unit_price: None,
        amount: Money::new(short, plan.currency),
    }))
}

/// The line that tops an invoice up to the tenant's minimum monthly
/// commitment, if its total falls short.
pub fn minimum_top_up(total: Money, minimum: Money) -> Result<Option<InvoiceLine>, MoneyError> {
    let short = minimum.checked_sub(total)?;
    Ok((short.minor > 0).then(|| InvoiceLine {
        description: format!("minimum monthly commitment of {minimum}"),
        quantity: Decimal::ONE,
        unit_price: None,
        amount: short,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    fn plan(charges: Vec<Charge>) -> PricePlan {
        PricePlan {
            currency: eur(),
            charges,
            charge_failed_calls: false,
        }
    }

    fn unit(meter: Meter, price: &str, free: &str) -> Charge {
        Charge {
            meter,
            pricing: Pricing::Unit { price: d(price) },
            free_units: d(free),
        }
    }

    fn usage() -> PeriodUsage {
        PeriodUsage {
            calls: [("quote".to_owned(), 12_345), ("list".to_owned(), 100)].into(),
            failed_calls: [("quote".to_owned(), 55)].into(),
            metrics: [("active-contract".to_owned(), 42)].into(),
            fuel: 2_500_000_000,
            failed_fuel: 500_000_000,
            host_us: 1_234_567,
            failed_host_us: 100_000,
            days_installed: 10,
            days_in_period: 30,
        }
    }

    #[test]
    fn host_time_is_billed_in_blocks_from_the_exact_fraction() {
        // 1,234,567 µs in blocks of 100 ms at 0.01: 12.34567 blocks →
        // 0.1234567 → 0.12; with failed calls, 1,334,567 µs → 0.13.
        let mut p = plan(vec![unit(Meter::HostTime { per_ms: 100 }, "0.01", "0")]);
        let lines = rate(&p, &usage()).unwrap();
        assert_eq!(lines[0].amount.minor, 12);
        assert_eq!(lines[0].description, "host time (per 100 ms)");
        p.charge_failed_calls = true;
        assert_eq!(rate(&p, &usage()).unwrap()[0].amount.minor, 13);
        let zero = plan(vec![unit(Meter::HostTime { per_ms: 0 }, "0.01", "0")]);
        assert!(rate(&zero, &usage()).is_err());
    }

    #[test]
    fn each_charge_is_one_line_rounded_once() {
        let p = plan(vec![
            unit(
                Meter::Calls {
                    operation: Some("quote".into()),
                },
                "0.0004",
                "0",
            ),
            unit(
                Meter::Metric {
                    metric: "active-contract".into(),
                },
                "1.50",
                "0",
            ),
            unit(Meter::Fuel { per: 1_000_000 }, "0.0001", "0"),
            unit(Meter::Monthly {}, "29.99", "0"),
        ]);
        let lines = rate(&p, &usage()).unwrap();
        let amounts: Vec<i64> = lines.iter().map(|l| l.amount.minor).collect();
        // 12,345 × 0.0004 = 4.938 → 4.94; 42 × 1.50 = 63.00;
        // 2,500 × 0.0001 = 0.25; 29.99 × 10/30 = 9.9966… → 10.00.
        assert_eq!(amounts, [494, 6300, 25, 1000]);
        assert_eq!(
            lines[0].quantity,
            d("12345"),
            "failed calls are not charged by default"
        );
    }

    #[test]
    fn free_allowance_and_failed_calls_when_the_plan_says_so() {
        let mut p = plan(vec![unit(Meter::Calls { operation: None }, "0.01", "1000")]);
        let lines = rate(&p, &usage()).unwrap();
        assert_eq!(lines[0].quantity, d("11445"));
        assert_eq!(lines[0].amount.minor, 11445);
        p.charge_failed_calls = true;
        assert_eq!(rate(&p, &usage()).unwrap()[0].quantity, d("11500"));
        // Under the allowance: no line at all.
        let p = plan(vec![unit(
            Meter::Metric {
                metric: "active-contract".into(),
            },
            "1",
            "100",
        )]);
        assert!(rate(&p, &usage()).unwrap().is_empty());
    }

    #[test]
    fn a_line_that_rounds_to_zero_is_not_written() {
        // 4 calls at 0.001 = 0.004 → 0.00: no line; a free price neither.
        let usage = PeriodUsage {
            calls: [("quote".to_owned(), 4)].into(),
            ..PeriodUsage::default()
        };
        let p = plan(vec![
            unit(Meter::Calls { operation: None }, "0.001", "0"),
            unit(Meter::Calls { operation: None }, "0", "0"),
        ]);
        assert_eq!(rate(&p, &usage), Ok(vec![]));
        // 5 calls = 0.005 → 0.01: a line.
        let usage = PeriodUsage {
            calls: [("quote".to_owned(), 5)].into(),
            ..usage
        };
        let lines = rate(&p, &usage).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].amount.minor, 1);
    }

    #[test]
    fn the_fuel_of_failed_calls_counts_only_when_the_plan_charges_failed_calls() {
        let mut p = plan(vec![unit(Meter::Fuel { per: 1_000_000 }, "0.01", "0")]);
        assert_eq!(rate(&p, &usage()).unwrap()[0].quantity, d("2500"));
        p.charge_failed_calls = true;
        assert_eq!(rate(&p, &usage()).unwrap()[0].quantity, d("3000"));
    }

    #[test]
    fn quantities_that_do_not_fit_are_errors_not_saturation() {
        let mut huge = usage();
        huge.fuel = u128::MAX;
        let p = plan(vec![unit(Meter::Fuel { per: 1 }, "0.01", "0")]);
        assert_eq!(rate(&p, &huge), Err(RatingError::Overflow("fuel")));
        huge.calls = [("a".to_owned(), u64::MAX), ("b".to_owned(), 1)].into();
        let p = plan(vec![unit(Meter::Calls { operation: None }, "0", "0")]);
        assert_eq!(rate(&p, &huge), Err(RatingError::Overflow("calls")));
    }

    #[test]
    fn a_plan_is_checked_when_it_is_set() {
        assert_eq!(
            validate_plan(&plan(vec![unit(Meter::Monthly {}, "1", "0")])),
            Ok(())
        );
        let bad =
            |charge: Charge| validate_plan(&plan(vec![unit(Meter::Monthly {}, "1", "0"), charge]));
        assert_eq!(
            bad(unit(Meter::Monthly {}, "1", "-1")),
            Err(PlanError::NegativeFreeUnits { charge: 2 })
        );
        assert_eq!(
            bad(unit(Meter::Fuel { per: 0 }, "1", "0")),
            Err(PlanError::EmptyFuelBlock { charge: 2 })
        );
        assert_eq!(
            bad(unit(
                Meter::Metric {
                    metric: String::new()
                },
                "1",
                "0"
            )),
            Err(PlanError::UnnamedMetric { charge: 2 })
        );
        assert_eq!(
            bad(unit(Meter::Monthly {}, "-0.01", "0")),
            Err(PlanError::NegativePrice { charge: 2 })
        );
        let open_last = Charge {
            meter: Meter::Monthly {},
            pricing: Pricing::Tiered {
                tiers: vec![Tier {
                    up_to: Some(d("1")),
                    unit_price: d("1"),
                    flat_fee: d("0"),
                }],
                mode: TierMode::Volume,
            },
            free_units: d("0"),
        };
        assert_eq!(
            bad(open_last),
            Err(PlanError::Tiers {
                charge: 2,
                source: TierError::Closed
            })
        );
    }

    #[test]
    fn a_plan_names_only_what_the_plugin_declares_in_the_platform_currency() {
        let declared = Declared {
            metrics: ["active-contract".to_owned()].into(),
            operations: ["quote".to_owned(), "list".to_owned()].into(),
        };
        let p = plan(vec![
            unit(
                Meter::Calls {
                    operation: Some("quote".into()),
                },
                "1",
                "0",
            ),
            unit(
                Meter::Metric {
                    metric: "active-contracts".into(),
                },
                "1",
                "0",
            ),
        ]);
        assert_eq!(
            check_declared(&p, "acme/tariff", &declared)
                .unwrap_err()
                .to_string(),
            "charge 2: acme/tariff declares no metric `active-contracts` (declared: active-contract)"
        );
        let p = plan(vec![unit(
            Meter::Calls {
                operation: Some("nope".into()),
            },
            "1",
            "0",
        )]);
        assert_eq!(
            check_declared(&p, "acme/tariff", &declared)
                .unwrap_err()
                .to_string(),
            "charge 1: acme/tariff has no operation `nope` (operations: list, quote)"
        );
        let usd = Currency::new("USD").unwrap();
        assert_eq!(check_currency(&p, eur()), Ok(()));
        assert_eq!(
            check_currency(&p, usd).unwrap_err().to_string(),
            "the plan is in EUR, but the platform bills in USD"
        );
    }

    #[test]
    fn tiers_price_a_charge() {
        let tiers = vec![
            Tier {
                up_to: Some(d("10")),
                unit_price: d("2"),
                flat_fee: d("0"),
            },
            Tier {
                up_to: None,
                unit_price: d("1"),
                flat_fee: d("0"),
            },
        ];
        let graduated = plan(vec![Charge {
            meter: Meter::Metric {
                metric: "active-contract".into(),
            },
            pricing: Pricing::Tiered {
                tiers: tiers.clone(),
                mode: TierMode::Graduated,
            },
            free_units: d("0"),
        }]);
        assert_eq!(rate(&graduated, &usage()).unwrap()[0].amount.minor, 5200); // 10×2 + 32×1
        let volume = plan(vec![Charge {
            meter: Meter::Metric {
                metric: "active-contract".into(),
            },
            pricing: Pricing::Tiered {
                tiers,
                mode: TierMode::Volume,
            },
            free_units: d("0"),
        }]);
        assert_eq!(rate(&volume, &usage()).unwrap()[0].amount.minor, 4200); // 42×1
    }

    #[test]
    fn a_plan_is_bounded_where_it_enters() {
        let refused = |price: &str| {
            validate_plan(&plan(vec![unit(Meter::Monthly {}, price, "0")]))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refused("100000000000000000000"),
            "charge 1: price is 100000000000000000000; it must be 0 to 1000000 with at most 12 decimals"
        );
        assert!(refused("79228162514264337593543950335").contains("price"));
        // 29 decimals are not kept: refused, never rounded to zero.
        let tiny = "0.00000000000000000000000000001";
        let p: Result<PricePlan, _> = serde_json::from_str(&format!(
            r#"{{"currency":"EUR","charges":[{{"meter":{{"on":"monthly"}},"pricing":{{"kind":"unit","price":"{tiny}"}}}}]}}"#
        ));
        if let Ok(p) = p {
            assert!(validate_plan(&p).is_err());
        }
        assert!(refused("0.0000000000001").contains("at most 12 decimals"));
        assert_eq!(
            validate_plan(&plan(vec![unit(Meter::Monthly {}, "0.000000000001", "0")])),
            Ok(())
        );
        assert_eq!(
            validate_plan(&plan(vec![unit(Meter::Monthly {}, "-1", "0")])),
            Err(PlanError::NegativePrice { charge: 1 })
        );
        assert_eq!(
            validate_plan(&plan(vec![unit(Meter::Monthly {}, "1", "-0.5")])),
            Err(PlanError::NegativeFreeUnits { charge: 1 })
        );
        let huge_free = Charge {
            free_units: Decimal::MAX,
            ..unit(Meter::Monthly {}, "1", "0")
        };
        assert!(validate_plan(&plan(vec![huge_free])).is_err());
        // Unknown fields are refused, at every level.
        for json in [
            r#"{"currency":"EUR","charges":[],"surprise":1}"#,
            r#"{"currency":"EUR","charges":[{"meter":{"on":"monthly"},"pricing":{"kind":"unit","price":"1"},"free_unit":"5"}]}"#,
            r#"{"currency":"EUR","charges":[{"meter":{"on":"fuel","per":3,"x":1},"pricing":{"kind":"unit","price":"1"}}]}"#,
            r#"{"currency":"EUR","charges":[{"meter":{"on":"monthly"},"pricing":{"kind":"unit","price":"1","y":2}}]}"#,
            r#"{"currency":"EUR","charges":[{"meter":{"on":"monthly","x":1},"pricing":{"kind":"unit","price":"1"}}]}"#,
            r#"{"currency":"EUR","charges":[{"meter":{"on":"monthly","per":3},"pricing":{"kind":"unit","price":"1"}}]}"#,
        ] {
            assert!(serde_json::from_str::<PricePlan>(json).is_err(), "{json}");
        }
        let monthly = r#"{"currency":"EUR","charges":[{"meter":{"on":"monthly"},"pricing":{"kind":"unit","price":"1"},"free_units":"0"}],"charge_failed_calls":false}"#;
        let p: PricePlan = serde_json::from_str(monthly).unwrap();
        assert_eq!(p.charges[0].meter, Meter::Monthly {});
        // The shape valid plans have is unchanged: `{"on":"monthly"}`.
        assert_eq!(serde_json::to_string(&p).unwrap(), monthly);
    }

    fn one_day(days_in_period: u32) -> PeriodUsage {
        PeriodUsage {
            days_installed: 1,
            days_in_period,
            ..PeriodUsage::default()
        }
    }

    #[test]
    fn a_prorated_fee_is_rounded_once_from_the_exact_product() {
        // 4.90 × 1/28 = 0.175 exactly → 0.18 (1/28 rounded first gave 0.17).
        let p = plan(vec![unit(Meter::Monthly {}, "4.90", "0")]);
        assert_eq!(rate(&p, &one_day(28)).unwrap()[0].amount.minor, 18);
        // 1.65 × 1/30 = 0.055 → 0.06 (not 0.05).
        let p = plan(vec![unit(Meter::Monthly {}, "1.65", "0")]);
        assert_eq!(rate(&p, &one_day(30)).unwrap()[0].amount.minor, 6);
        // The same through a tiered price: one open tier at 4.90.
        let tiered = plan(vec![Charge {
            meter: Meter::Monthly {},
            pricing: Pricing::Tiered {
                tiers: vec![Tier {
                    up_to: None,
                    unit_price: d("4.90"),
                    flat_fee: d("0"),
                }],
                mode: TierMode::Graduated,
            },
            free_units: d("0"),
        }]);
        assert_eq!(rate(&tiered, &one_day(28)).unwrap()[0].amount.minor, 18);
    }

    #[test]
    fn fuel_blocks_are_priced_from_the_exact_fraction() {
        // 250 fuel in blocks of 3 at 0.0333 = 2.775 exactly → 2.78 (not 2.77).
        let p = plan(vec![unit(Meter::Fuel { per: 3 }, "0.0333", "0")]);
        let usage = PeriodUsage {
            fuel: 250,
            ..PeriodUsage::default()
        };
        let lines = rate(&p, &usage).unwrap();
        assert_eq!(lines[0].amount.minor, 278);
        // A fractional allowance is taken off the exact fraction too:
        // 250/3 − 0.5 blocks = 248.5/3 → × 0.0333 = 2.75835 → 2.76.
        let p = plan(vec![unit(Meter::Fuel { per: 3 }, "0.0333", "0.5")]);
        assert_eq!(rate(&p, &usage).unwrap()[0].amount.minor, 276);
    }

    #[test]
    fn a_commitment_in_units_bills_the_shortfall_as_if_it_were_used() {
        let metric = |m: &str| Meter::Metric { metric: m.into() };
        let contracts = |n: u64| PeriodUsage {
            metrics: BTreeMap::from([("contracts".to_owned(), n)]),
            ..PeriodUsage::default()
        };
        // 0.0125 per contract after 100 free; a second metric is untouched.
        let p = plan(vec![
            unit(metric("contracts"), "0.0125", "100"),
            unit(metric("meters"), "1", "0"),
        ]);
        let line = units_top_up(&p, &contracts(4_210), "contracts", 5_000)
            .unwrap()
            .unwrap();
        // 4,900 × 0.0125 = 61.25; 4,110 × 0.0125 = 51.375 → 51.38; the
        // shortfall is what makes the two lines 61.25.
        assert_eq!(line.amount.minor, 6_125 - 5_138);
        assert_eq!(line.quantity, Decimal::from(790));
        assert_eq!(
            line.description,
            "minimum commitment of 5000 units of `contracts` a month (4210 used)"
        );
        let used = rate(&p, &contracts(4_210)).unwrap()[0].amount.minor;
        let committed = rate(&p, &contracts(5_000)).unwrap()[0].amount.minor;
        assert_eq!(used + line.amount.minor, committed);
        // Enough used, or a metric the plan does not charge: nothing.
        assert_eq!(
            units_top_up(&p, &contracts(5_000), "contracts", 5_000),
            Ok(None)
        );
        assert_eq!(units_top_up(&p, &contracts(0), "sites", 5_000), Ok(None));
        // Within the free units: nothing either.
        assert_eq!(units_top_up(&p, &contracts(0), "contracts", 100), Ok(None));
        // Volume tiers: 5,000 units fall in the cheaper tier, so the
        // shortfall can be below the price of the missing units alone.
        let volume = plan(vec![Charge {
            meter: metric("contracts"),
            pricing: Pricing::Tiered {
                tiers: vec![
                    Tier {
                        up_to: Some(d("4999")),
                        unit_price: d("0.02"),
                        flat_fee: d("0"),
                    },
                    Tier {
                        up_to: None,
                        unit_price: d("0.01"),
                        flat_fee: d("0"),
                    },
                ],
                mode: TierMode::Volume,
            },
            free_units: d("0"),
        }]);
        let line = units_top_up(&volume, &contracts(2_400), "contracts", 5_000)
            .unwrap()
            .unwrap();
        assert_eq!(line.amount.minor, 5_000 - 4_800);
        // 4,999 units cost 99.98, 5,000 only 50.00: no shortfall to bill.
        assert_eq!(
            units_top_up(&volume, &contracts(4_999), "contracts", 5_000),
            Ok(None)
        );
    }

    #[test]
    fn hostile_quantities_are_errors_not_panics() {
        // Fuel of 2^100 does not fit a decimal.
        let p = plan(vec![unit(Meter::Fuel { per: 1 }, "0.01", "0")]);
        let usage = PeriodUsage {
            fuel: 1 << 100,
            ..PeriodUsage::default()
        };
        assert_eq!(rate(&p, &usage), Err(RatingError::Overflow("fuel")));
        // Free units of −Decimal::MAX are refused, not billed as extra units.
        let p = plan(vec![Charge {
            meter: Meter::Calls { operation: None },
            pricing: Pricing::Unit { price: d("1") },
            free_units: -Decimal::MAX,
        }]);
        assert!(matches!(
            rate(&p, &self::usage()),
            Err(RatingError::Invalid(_))
        ));
        // u64::MAX calls at a huge price overflow as an error.
        let p = plan(vec![unit(
            Meter::Calls { operation: None },
            "1000000000000",
            "0",
        )]);
        let usage = PeriodUsage {
            calls: [("a".to_owned(), u64::MAX)].into(),
            ..PeriodUsage::default()
        };
        assert!(rate(&p, &usage).is_err());
    }

    #[test]
    fn a_minimum_commitment_tops_up_a_small_month() {
        let line = minimum_top_up(Money::new(1234, eur()), Money::new(5000, eur()))
            .unwrap()
            .unwrap();
        assert_eq!(line.amount.minor, 3766);
        assert!(
            minimum_top_up(Money::new(6000, eur()), Money::new(5000, eur()))
                .unwrap()
                .is_none()
        );
    }
}

#[cfg(test)]
mod readme {
    use super::*;

    /// The plan example in the README is a plan this crate reads and rates.
    #[test]
    fn the_readme_plan_example_parses_and_rates() {
        let readme = include_str!("../../README.md");
        // The first JSON example with charges: other sections show other
        // JSON (a webhook's body).
        let example = readme
            .split("```json")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .find(|block| block.contains("\"charges\""))
            .expect("a plan example");
        let plan: PricePlan = serde_json::from_str(example).expect("a valid plan");
        assert_eq!(plan.charges.len(), 4);
        let usage = PeriodUsage {
            calls: [("quote".to_owned(), 10_000)].into(),
            metrics: [("active-contract".to_owned(), 3)].into(),
            fuel: 250_000_000,
            days_installed: 15,
            days_in_period: 30,
            ..PeriodUsage::default()
        };
        let amounts: Vec<i64> = rate(&plan, &usage)
            .unwrap()
            .iter()
            .map(|l| l.amount.minor)
            .collect();
        // 10,000 × 0.0004 = 4.00; 3 × 1.50 = 4.50; 250 blocks: 100 × 0.01 +
        // 150 × 0.005 = 1.75; 9.90 × 15/30 = 4.95.
        assert_eq!(amounts, [400, 450, 175, 495]);
    }
}
