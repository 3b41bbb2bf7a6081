//! The investor's projection of the open month: what the plugin charged so
//! far, extrapolated over the whole period by the days elapsed, and what an
//! investment would be paid at the close if the month goes on like that.

use crate::close::PluginTerms;
use crate::money::MoneyError;
use crate::period::{DAY_MS, Period};
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
    }
}
