//! Projections of the open month: what was used so far, extrapolated over
//! the whole period by the days elapsed. The investor's view projects what
//! the plugin charged; a tenant's projected invoice is the close of the
//! month's usage projected ([`project_input`]), so what is fixed for the
//! month (a monthly fee, a minimum, a fixed discount, a funded pledge)
//! counts once, and a minimum tops up the projected usage instead of being
//! multiplied by the pace.

use crate::close::{PeriodInput, PluginTerms};
use crate::money::MoneyError;
use crate::period::{DAY_MS, Period};
use crate::rating::PeriodUsage;
use crate::split::{platform_fee, split};

/// One investment's view of the open period, minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    /// What tenants were charged for the plugin so far.
    pub charged_so_far: u64,
    /// The plugin's revenue so far (after the platform fee).
    pub revenue_so_far: u64,
    /// The period's revenue, projected from the days elapsed.
    pub projected_revenue: u64,
    /// What the investment would be paid at the close, on the projection.
    pub projected_payout: u64,
}

/// Days of `period` elapsed at `now_ms`, counting today: 1 to its days.
pub fn days_elapsed(period: Period, now_ms: i64) -> u32 {
    let elapsed = now_ms
        .saturating_sub(period.start_ms())
        .div_euclid(DAY_MS)
        .saturating_add(1);
    let days = period.days();
    // Clamped to 1..=days, which fits u32.
    u32::try_from(elapsed.clamp(1, i64::from(days))).unwrap_or(days)
}

/// `so_far` extrapolated over the whole of `period` by the days elapsed at
/// `now_ms`: `so_far × days / elapsed`, floored (a projection never
/// promises a unit more than the month's pace).
pub fn extrapolate(so_far: u64, period: Period, now_ms: i64) -> Result<u64, MoneyError> {
    let elapsed = u128::from(days_elapsed(period, now_ms));
    u128::from(so_far)
        .checked_mul(u128::from(period.days()))
        .map(|whole| whole / elapsed)
        .and_then(|p| u64::try_from(p).ok())
        .ok_or(MoneyError::Overflow)
}

/// `so_far` × `days` / `elapsed`, floored, for the wide counters of usage.
fn scale(so_far: u128, days: u32, elapsed: u32) -> Result<u128, MoneyError> {
    so_far
        .checked_mul(u128::from(days))
        .map(|whole| whole / u128::from(elapsed.max(1)))
        .ok_or(MoneyError::Overflow)
}

/// One install's usage so far, as it would stand at the end of `period`
/// at the pace of the days elapsed at `now_ms`: what is counted (calls,
/// failed calls, metric units, fuel, host time) is extrapolated; the days
/// installed are not (the close already counts an install to the period's
/// end, so its monthly fee is the whole month's already).
pub fn project_usage(
    usage: &PeriodUsage,
    period: Period,
    now_ms: i64,
) -> Result<PeriodUsage, MoneyError> {
    let (days, elapsed) = (period.days(), days_elapsed(period, now_ms));
    let wide = |n: u128| scale(n, days, elapsed);
    let narrow = |n: u64| {
        scale(u128::from(n), days, elapsed)
            .and_then(|p| u64::try_from(p).map_err(|_| MoneyError::Overflow))
    };
    let counts = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter()
            .map(|(k, n)| Ok((k.clone(), narrow(*n)?)))
            .collect::<Result<_, MoneyError>>()
    };
    Ok(PeriodUsage {
        calls: counts(&usage.calls)?,
        failed_calls: counts(&usage.failed_calls)?,
        metrics: counts(&usage.metrics)?,
        fuel: wide(usage.fuel)?,
        failed_fuel: wide(usage.failed_fuel)?,
        host_us: wide(usage.host_us)?,
        failed_host_us: wide(usage.failed_host_us)?,
        days_installed: usage.days_installed,
        days_in_period: usage.days_in_period,
    })
}

/// The open period's input as it would stand at its end if the month goes
/// on at the pace of the days elapsed at `now_ms`: every install's usage
/// projected ([`project_usage`]), everything else (plans, commitments,
/// discounts, credit, funded pledges) as it is. Its close is the projected
/// month: fixed monthly amounts count once, and an invoice under a money
/// minimum is max(projected usage, minimum), never the minimum times the
/// pace.
pub fn project_input(input: &PeriodInput, now_ms: i64) -> Result<PeriodInput, MoneyError> {
    let mut projected = input.clone();
    for install in &mut projected.installs {
        install.usage = project_usage(&install.usage, input.period, now_ms)?;
    }
    Ok(projected)
}

/// Projects `charged_so_far` over `period` at `now_ms`, and what
/// `investment` (an id of `terms`' agreement) would receive.
pub fn project(
    charged_so_far: u64,
    terms: &PluginTerms,
    investment: &str,
    period: Period,
    now_ms: i64,
) -> Result<Projection, MoneyError> {
    let fee_bps = terms.agreement.platform_fee_bps;
    // The fee is at most what was charged, so the differences below hold.
    let fee = |charged| platform_fee(charged, fee_bps).map_err(|_| MoneyError::Overflow);
    let projected = extrapolate(charged_so_far, period, now_ms)?;
    // The projection settles a copy: the stored payback state is untouched.
    let mut state = terms.payback.clone();
    // The shares were validated where they entered; a payback that cannot
    // be computed is reported as the overflow it is.
    let parts = split(projected, &terms.agreement, &mut state).map_err(|_| MoneyError::Overflow)?;
    let projected_payout = terms
        .agreement
        .investors
        .iter()
        .position(|i| i.id == investment)
        .and_then(|at| parts.investors.get(at).copied())
        .unwrap_or(0);
    Ok(Projection {
        charged_so_far,
        revenue_so_far: charged_so_far - fee(charged_so_far)?,
        projected_revenue: projected - fee(projected)?,
        projected_payout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payback::{Investor, PaybackState};
    use crate::split::{AfterPayback, Agreement};
    use proptest::prelude::*;

    fn nov() -> Period {
        "2026-11".parse().unwrap()
    }

    fn terms() -> PluginTerms {
        PluginTerms {
            plan: None,
            author: "ada".into(),
            agreement: Agreement {
                platform_fee_bps: 2000,
                investors: vec![Investor {
                    id: "inv-1".into(),
                    principal: 1_000_000,
                    return_bps: 1000,
                }],
                investor_share_bps: 3000,
                after_payback: AfterPayback::ToPlatform,
            },
            investor_accounts: vec!["tenant-a".into()],
            payback: PaybackState::default(),
        }
    }

    #[test]
    fn days_elapsed_counts_today_and_stays_in_the_period() {
        let nov = nov();
        assert_eq!(days_elapsed(nov, nov.start_ms()), 1);
        assert_eq!(days_elapsed(nov, nov.start_ms() + 22 * DAY_MS + 5), 23);
        assert_eq!(days_elapsed(nov, nov.end_ms() + 99 * DAY_MS), 30);
        assert_eq!(days_elapsed(nov, nov.start_ms() - DAY_MS), 1);
    }

    #[test]
    fn ten_days_of_a_thirty_day_month_project_three_times_over() {
        let now = nov().start_ms() + 9 * DAY_MS;
        let view = project(10_000, &terms(), "inv-1", nov(), now).unwrap();
        // 100.00 so far → 300.00; revenue after 20%: 80.00 and 240.00; the
        // investor's 30% of 240.00 = 72.00.
        assert_eq!(
            view,
            Projection {
                charged_so_far: 10_000,
                revenue_so_far: 8_000,
                projected_revenue: 24_000,
                projected_payout: 7_200,
            }
        );
        assert_eq!(
            project(10_000, &terms(), "inv-9", nov(), now)
                .unwrap()
                .projected_payout,
            0
        );
    }

    /// A tenant's month: calls to `acme/tariff` at EUR 0.01, an optional
    /// monthly fee (EUR), a money minimum (minor units) and a fixed
    /// discount (minor units, none if 0).
    fn month(calls: u64, monthly_fee: Option<&str>, minimum: i64, discount: i64) -> PeriodInput {
        use crate::close::{InstallUsage, PlanInForce, TenantTerms};
        use crate::commitments::{Commitment, Minimum};
        use crate::discounts::{Discount, DiscountAmount};
        use crate::money::Currency;
        use crate::rating::{Charge, Meter, PricePlan, Pricing};
        use rust_decimal::Decimal;
        let price = |p: &str| p.parse::<Decimal>().unwrap();
        let mut charges = vec![Charge {
            meter: Meter::Calls { operation: None },
            pricing: Pricing::Unit {
                price: price("0.01"),
            },
            free_units: Decimal::ZERO,
        }];
        if let Some(fee) = monthly_fee {
            charges.push(Charge {
                meter: Meter::Monthly {},
                pricing: Pricing::Unit { price: price(fee) },
                free_units: Decimal::ZERO,
            });
        }
        let eur = Currency::new("EUR").unwrap();
        let mut plugin = terms();
        plugin.plan = Some(PlanInForce {
            id: "acme/tariff plan 1".into(),
            plan: PricePlan {
                currency: eur,
                charges,
                charge_failed_calls: false,
            },
        });
        let mut tenant = TenantTerms::default();
        if minimum > 0 {
            tenant.commitments.push(Commitment {
                minimum: Minimum::Money { minor: minimum },
                from: nov(),
                to: None,
            });
        }
        if discount > 0 {
            tenant.discounts.push(Discount {
                reason: "launch".into(),
                amount: DiscountAmount::Fixed { minor: discount },
                from: nov(),
                to: nov(),
            });
        }
        PeriodInput {
            period: nov(),
            currency: eur,
            installs: vec![InstallUsage {
                tenant: "tenant-a".into(),
                plugin: "acme/tariff".into(),
                versions: vec!["1.0.0".into()],
                usage: PeriodUsage {
                    calls: [("quote".to_owned(), calls)].into(),
                    days_installed: 30,
                    days_in_period: 30,
                    ..PeriodUsage::default()
                },
            }],
            plugins: [("acme/tariff".to_owned(), plugin)].into(),
            tenants: [("tenant-a".to_owned(), tenant)].into(),
            voids: Vec::new(),
            fundings: Vec::new(),
            releases: Vec::new(),
        }
    }

    /// The tenant's invoice total so far and projected, on day `day`.
    fn totals_on(input: &PeriodInput, day: i64) -> (i64, i64) {
        let now = nov().start_ms() + (day - 1) * DAY_MS;
        let total = |input: &PeriodInput| {
            crate::close::close(input)
                .unwrap()
                .invoices
                .first()
                .map_or(0, |i| i.total)
        };
        (total(input), total(&project_input(input, now).unwrap()))
    }

    #[test]
    fn a_minimum_on_day_one_is_projected_once_not_by_the_pace() {
        // The reported case: EUR 5.00 a month minimum, day 1 of 30. The
        // pace rule on the invoice's total said 30 × 5.00 = 150.00 (and
        // more with a little usage).
        assert_eq!(totals_on(&month(0, None, 500, 0), 1), (500, 500));
        assert_eq!(totals_on(&month(17, None, 500, 0), 1), (500, 510));
        // Usage that outruns the minimum is projected as usage.
        assert_eq!(totals_on(&month(100, None, 500, 0), 1), (500, 3_000));
        assert_eq!(totals_on(&month(100, None, 500, 0), 10), (500, 500));
    }

    #[test]
    fn a_monthly_fee_and_a_fixed_discount_count_once() {
        // Day 10 of 30: 100 calls (EUR 1.00) → 300 calls (EUR 3.00); the
        // EUR 2.00 fee and the EUR 0.50 discount stay as they are.
        assert_eq!(
            totals_on(&month(100, Some("2.00"), 0, 50), 10),
            (100 + 200 - 50, 300 + 200 - 50)
        );
        assert_eq!(totals_on(&month(0, Some("2.00"), 0, 0), 1), (200, 200));
    }

    #[test]
    fn usage_is_projected_by_the_pace_and_the_days_installed_are_not() {
        let usage = PeriodUsage {
            calls: [("a".to_owned(), 7)].into(),
            metrics: [("m".to_owned(), 3)].into(),
            fuel: 10,
            host_us: 1,
            days_installed: 12,
            days_in_period: 30,
            ..PeriodUsage::default()
        };
        let day_ten = nov().start_ms() + 9 * DAY_MS;
        let projected = project_usage(&usage, nov(), day_ten).unwrap();
        assert_eq!(projected.calls["a"], 21);
        assert_eq!(projected.metrics["m"], 9);
        assert_eq!((projected.fuel, projected.host_us), (30, 3));
        assert_eq!(
            (projected.days_installed, projected.days_in_period),
            (12, 30)
        );
        let huge = PeriodUsage {
            calls: [("a".to_owned(), u64::MAX)].into(),
            ..usage
        };
        assert_eq!(
            project_usage(&huge, nov(), day_ten),
            Err(MoneyError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn a_projection_never_shrinks_what_was_charged(
            charged in 0u64..u64::MAX / 31,
            day in 0i64..30,
        ) {
            let view = project(charged, &terms(), "inv-1", nov(), nov().start_ms() + day * DAY_MS).unwrap();
            prop_assert!(view.projected_revenue >= view.revenue_so_far);
            prop_assert!(view.revenue_so_far <= view.charged_so_far);
            prop_assert!(view.projected_payout <= view.projected_revenue);
        }

        #[test]
        fn fixed_amounts_alone_are_projected_as_they_are(
            fee in proptest::option::of(1u32..10_000),
            minimum in 0i64..100_000,
            discount in 0i64..1_000,
            day in 1i64..=30,
        ) {
            let fee = fee.map(|f| format!("{}.{:02}", f / 100, f % 100));
            let input = month(0, fee.as_deref(), minimum, discount);
            let (so_far, projected) = totals_on(&input, day);
            prop_assert_eq!(projected, so_far);
        }

        #[test]
        fn a_projected_invoice_is_never_below_what_is_due_or_the_minimum(
            calls in 0u64..1_000_000,
            fee in proptest::option::of(1u32..10_000),
            minimum in 0i64..100_000,
            day in 1i64..=30,
        ) {
            let fee = fee.map(|f| format!("{}.{:02}", f / 100, f % 100));
            let input = month(calls, fee.as_deref(), minimum, 0);
            let (so_far, projected) = totals_on(&input, day);
            prop_assert!(projected >= so_far, "{} < {}", projected, so_far);
            prop_assert!(projected >= minimum);
            // Never more than the whole invoice times the pace: the old
            // rule, which multiplied the fixed amounts too.
            prop_assert!(projected <= so_far * 30);
        }
    }
}
