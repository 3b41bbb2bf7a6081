//! Investor payback: a share of a plugin's revenue each period until each
//! investor has received principal plus return, exactly.
//!
//! **Caps, for the pool.** An investor's exact cap is
//! `principal × (10000 + return_bps) / 10000`. The floor is taken once for
//! the plugin's investors together: the pool is owed `floor(Σ exact caps)`
//! minor units, split by largest remainder of the exact caps (ties: the
//! order of the `investors` slice, which is funding time, then id). EUR
//! 10,000 at 10% is owed EUR 11,000 whether it came from one investor or
//! from 3,333.33 + 3,333.33 + 3,333.34.
//!
//! **Accrue exactly, pay cumulatively.** The cumulative accrual
//! `A = Σ revenue × share_bps` is kept as an integer in 1/10000 minor units;
//! the cumulative pool is `P = floor(A / 10000)`. An investor's exact
//! cumulative share is `f = min(P × principal / Σ principal, cap)`. Each
//! period every investor's cumulative payment is set within `[floor(f),
//! ceil(f)]` and never below what it was already paid (a payout is never
//! taken back); the investors together are paid `floor(Σ f)` (raised, if
//! need be, to what the lower bounds require), and the units above the
//! floors go by largest remainder of `f`. So every investor stays within one
//! minor unit of its exact share at the end of every period, `paid ≤ cap`,
//! and what a capped investor would have received goes to the platform.

use crate::allocate::{AllocateError, extra_units};
use serde::{Deserialize, Serialize};

/// Basis points in one whole.
pub const BPS: u64 = 10_000;

/// An investment in a plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Investor {
    /// Who.
    pub id: String,
    /// What was invested, minor units.
    pub principal: u64,
    /// The return on top, basis points of the principal (1000 = 10%).
    pub return_bps: u32,
}

/// Why a payback could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaybackError {
    /// A figure does not fit its integer type.
    #[error("the payback's {0} overflows")]
    Overflow(&'static str),
    /// A share of revenue above 100%.
    #[error("the investors' share is {0} basis points; it must be 0 to 10000 (100%)")]
    Share(u32),
    /// A payback state that no settlement could have produced (more paid
    /// than the pool ever held).
    #[error("the payback state is inconsistent: {0}")]
    State(&'static str),
    /// The units above the investors' lower bounds could not be given (no
    /// consistent state gets here: each takes one at most).
    #[error(transparent)]
    Allocate(#[from] AllocateError),
}

/// What the investors of one plugin are owed in all, each: the pool's
/// `floor(Σ principal × (10000 + return_bps) / 10000)` split by largest
/// remainder of the exact caps, ties to the earlier investor.
pub fn caps(investors: &[Investor]) -> Result<Vec<u64>, PaybackError> {
    let overflow = || PaybackError::Overflow("caps");
    // Each exact cap is weight / 10000; principal × (10000 + bps) < 2^97.
    let weights: Vec<u128> = investors
        .iter()
        .map(|i| u128::from(i.principal) * (u128::from(BPS) + u128::from(i.return_bps)))
        .collect();
    let total = weights
        .iter()
        .try_fold(0_u128, |sum, w| sum.checked_add(*w))
        .ok_or_else(overflow)?
        / u128::from(BPS);
    let mut caps: Vec<u128> = weights.iter().map(|w| w / u128::from(BPS)).collect();
    let floors: u128 = caps.iter().sum();
    // Fewer than one unit per investor is left over (each floor lost < 1).
    let extra = extra_units(total - floors, &weights, u128::from(BPS))?;
    for (cap, extra) in caps.iter_mut().zip(extra) {
        *cap += u128::from(extra);
    }
    caps.into_iter()
        .map(|c| u64::try_from(c).map_err(|_| overflow()))
        .collect()
}

/// What carries from period to period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaybackState {
    /// Cumulative accrual, 1/10000 minor units.
    pub accrued: u128,
    /// Paid so far, per investor, in the order of the investors slice.
    pub paid: Vec<u64>,
}

/// One period's settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// Paid to each investor this period.
    pub payouts: Vec<u64>,
    /// The pool's payout this period that no investor could take (caps).
    pub to_platform: u64,
    /// The plugin's revenue left after the pool: the author's part.
    pub to_author: u64,
    /// Whether every investor has now received its cap.
    pub paid_back: bool,
}

/// Whether every investor has received its cap.
pub fn is_paid_back(paid: &[u64], caps: &[u64]) -> bool {
    paid.len() == caps.len() && paid.iter().zip(caps).all(|(p, c)| p >= c)
}

/// Settles one period with `revenue` (the plugin's revenue after the
/// platform fee, minor units) and the investors' pool share `share_bps`.
/// Once everyone is paid back, the pool takes nothing more.
pub fn settle(
    investors: &[Investor],
    share_bps: u32,
    state: &mut PaybackState,
    revenue: u64,
) -> Result<Settlement, PaybackError> {
    if u64::from(share_bps) > BPS {
        return Err(PaybackError::Share(share_bps));
    }
    let overflow = PaybackError::Overflow;
    let caps = caps(investors)?;
    let mut paid = state.paid.clone();
    paid.resize(investors.len(), 0);
    if investors.is_empty() || is_paid_back(&paid, &caps) {
        state.paid = paid;
        return Ok(Settlement {
            payouts: vec![0; investors.len()],
            to_platform: 0,
            to_author: revenue,
            paid_back: true,
        });
    }
    let before = state.accrued / u128::from(BPS);
    let accrued = state
        .accrued
        .checked_add(u128::from(revenue) * u128::from(share_bps))
        .ok_or(overflow("accrual"))?;
    let now = accrued / u128::from(BPS);
    let pool = u64::try_from(now - before).map_err(|_| overflow("pool"))?;
    let to_author = revenue
        .checked_sub(pool)
        .ok_or(PaybackError::State("the pool exceeds the revenue"))?;

    // Exact shares f_i = num_i / weight, capped.
    let weight: u128 = investors
        .iter()
        .try_fold(0_u128, |sum, i| sum.checked_add(u128::from(i.principal)))
        .ok_or(overflow("principals"))?;
    let weight = weight.max(1);
    let exact: Vec<u128> = investors
        .iter()
        .zip(&caps)
        .map(|(i, cap)| {
            let share = now
                .checked_mul(u128::from(i.principal))
                .ok_or(overflow("share"))?;
            let capped = u128::from(*cap)
                .checked_mul(weight)
                .ok_or(overflow("share"))?;
            Ok(share.min(capped))
        })
        .collect::<Result<_, PaybackError>>()?;
    let floor = |num: u128| num / weight;
    let ceil = |num: u128| num.div_ceil(weight);
    // Never below what was paid, never below the floor of the exact share.
    let lower: Vec<u128> = exact
        .iter()
        .zip(&paid)
        .map(|(num, p)| floor(*num).max(u128::from(*p)))
        .collect();
    let upper: Vec<u128> = exact
        .iter()
        .zip(&lower)
        .map(|(num, low)| ceil(*num).max(*low))
        .collect();
    let sum = |v: &[u128]| v.iter().sum::<u128>();
    let paid_before: u128 = paid.iter().map(|p| u128::from(*p)).sum();
    let total_exact = exact
        .iter()
        .try_fold(0_u128, |sum, n| sum.checked_add(*n))
        .ok_or(overflow("shares"))?;
    let target = floor(total_exact).clamp(sum(&lower), sum(&upper));
    if target > paid_before + u128::from(pool) {
        return Err(PaybackError::State(
            "the investors are owed more than the pool holds",
        ));
    }
    // The units above the lower bounds go by largest remainder of the
    // exact share, ties to the earlier investor, among those below their
    // upper bound (one unit below: `upper − lower` is 0 or 1).
    let mut cumulative = lower.clone();
    let open: Vec<usize> = (0..investors.len())
        .filter(|&i| upper[i] > lower[i])
        .collect();
    let open_exact: Vec<u128> = open.iter().map(|&i| exact[i]).collect();
    let extra = extra_units(target - sum(&lower), &open_exact, weight)?;
    for (&i, extra) in open.iter().zip(extra) {
        cumulative[i] += u128::from(extra);
    }
    let payouts: Vec<u64> = cumulative
        .iter()
        .zip(&paid)
        .map(|(c, p)| u64::try_from(*c - u128::from(*p)).map_err(|_| overflow("payout")))
        .collect::<Result<_, PaybackError>>()?;
    let paid_now: Vec<u64> = cumulative
        .iter()
        .map(|c| u64::try_from(*c).map_err(|_| overflow("payout")))
        .collect::<Result<_, PaybackError>>()?;
    let to_investors = payouts
        .iter()
        .try_fold(0_u64, |sum, p| sum.checked_add(*p))
        .ok_or(overflow("payout"))?;
    let to_platform = pool
        .checked_sub(to_investors)
        .ok_or(PaybackError::State("the payouts exceed the pool"))?;
    state.accrued = accrued;
    state.paid = paid_now;
    Ok(Settlement {
        to_platform,
        to_author,
        paid_back: is_paid_back(&state.paid, &caps),
        payouts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn investor(id: &str, principal: u64, return_bps: u32) -> Investor {
        Investor {
            id: id.into(),
            principal,
            return_bps,
        }
    }

    #[test]
    fn ten_thousand_at_ten_percent_with_a_thirty_percent_share() {
        // EUR 10,000 at 10% → cap EUR 11,000; 30% of EUR 4,000 a month =
        // EUR 1,200 a month: nine months of 1,200 (10,800), then exactly 200.
        let investors = [investor("tenant-a", 1_000_000, 1000)];
        assert_eq!(caps(&investors).unwrap(), [1_100_000]);
        let mut state = PaybackState::default();
        let mut total = 0;
        let mut months = Vec::new();
        for _ in 0..12 {
            let s = settle(&investors, 3000, &mut state, 400_000).unwrap();
            total += s.payouts[0];
            months.push((s.payouts[0], s.to_platform, s.to_author, s.paid_back));
        }
        assert_eq!(total, 1_100_000, "exactly principal plus return");
        assert!(
            months[..9]
                .iter()
                .all(|m| *m == (120_000, 0, 280_000, false))
        );
        assert_eq!(
            months[9],
            (20_000, 100_000, 280_000, true),
            "the crossing month pays the remainder"
        );
        // After payback the pool takes nothing: the plugin's revenue is no longer shared.
        assert_eq!(months[10], (0, 0, 400_000, true));
    }

    #[test]
    fn the_design_worked_check_with_two_investors() {
        // Pool of 146,666.6 cents: 146,666 paid, 60/40 → 88,000 / 58,666.
        let investors = [
            investor("a", 60_000_000, 1000),
            investor("b", 40_000_000, 1000),
        ];
        let mut state = PaybackState::default();
        // 1,466,666 cents of revenue at a 10% share accrue 146,666.6 cents.
        let s = settle(&investors, 1000, &mut state, 1_466_666).unwrap();
        assert_eq!(state.accrued, 1_466_666_000);
        assert_eq!(s.payouts, [88_000, 58_666]);
        assert_eq!(s.to_platform, 0);
        // The 0.6 cent residue carries: 4 more cents of revenue accrue 0.4,
        // completing one more cent of pool.
        let s = settle(&investors, 1000, &mut state, 4).unwrap();
        assert_eq!(s.payouts.iter().sum::<u64>(), 1);
    }

    /// Checks every investor is within one minor unit of its exact
    /// cumulative share `min(P × principal / Σ principal, cap)`.
    fn within_one_unit(investors: &[Investor], state: &PaybackState) -> Result<(), String> {
        let caps = caps(investors).unwrap();
        let pool = state.accrued / u128::from(BPS);
        let weight: u128 = investors
            .iter()
            .map(|i| u128::from(i.principal))
            .sum::<u128>()
            .max(1);
        for (i, inv) in investors.iter().enumerate() {
            let exact = (pool * u128::from(inv.principal)).min(u128::from(caps[i]) * weight);
            let paid = u128::from(state.paid[i]) * weight;
            if paid.abs_diff(exact) >= weight {
                return Err(format!(
                    "investor {i} paid {} but its exact share is {}/{weight}",
                    state.paid[i], exact
                ));
            }
        }
        Ok(())
    }

    #[test]
    fn every_investor_stays_within_one_unit_of_its_exact_share() {
        // The counter-example: the old allocation paid the fourth
        // investor 112 against an exact share of 369 × 650 / 2118 = 113.244.
        let investors: Vec<Investor> = [470, 279, 344, 650, 355, 20]
            .iter()
            .enumerate()
            .map(|(i, p)| investor(&format!("i{i}"), *p, 1000))
            .collect();
        let mut state = PaybackState::default();
        let mut total = vec![0; investors.len()];
        for revenue in [1869, 672, 75] {
            let s = settle(&investors, 1414, &mut state, revenue).unwrap();
            for (t, p) in total.iter_mut().zip(&s.payouts) {
                *t += p;
            }
            within_one_unit(&investors, &state).unwrap();
        }
        assert_eq!(state.accrued / 10_000, 369);
        assert_eq!(total, state.paid);
        assert_eq!(total.iter().sum::<u64>(), 369);
        assert!((113..=114).contains(&total[3]), "{total:?}");
    }

    #[test]
    fn the_pool_is_owed_the_floor_of_the_exact_caps_together() {
        // 3,333.33 + 3,333.33 + 3,333.34 EUR at 10% are owed 11,000.00 in all,
        // as the same EUR 10,000 from one investor is.
        let investors = [
            investor("a", 333_333, 1000),
            investor("b", 333_333, 1000),
            investor("c", 333_334, 1000),
        ];
        let caps = caps(&investors).unwrap();
        assert_eq!(caps, [366_666, 366_666, 366_668]);
        assert_eq!(caps.iter().sum::<u64>(), 1_100_000);
        let mut state = PaybackState::default();
        let mut paid = 0;
        for _ in 0..20 {
            let s = settle(&investors, 5000, &mut state, 123_457).unwrap();
            paid += s.payouts.iter().sum::<u64>();
            within_one_unit(&investors, &state).unwrap();
        }
        assert_eq!(paid, 1_100_000);
        assert_eq!(state.paid, caps);
    }

    #[test]
    fn hostile_figures_are_errors_not_panics() {
        let investors = [
            investor("a", u64::MAX, u32::MAX),
            investor("b", u64::MAX, 0),
        ];
        assert_eq!(caps(&investors), Err(PaybackError::Overflow("caps")));
        let mut state = PaybackState::default();
        assert_eq!(
            settle(&[investor("a", 100, 0)], 10_001, &mut state, 5),
            Err(PaybackError::Share(10_001))
        );
        let mut state = PaybackState {
            accrued: u128::MAX,
            paid: vec![0],
        };
        assert_eq!(
            settle(&[investor("a", 100, 0)], 10_000, &mut state, 5),
            Err(PaybackError::Overflow("accrual"))
        );
        // A huge but valid investment settles.
        let mut state = PaybackState::default();
        let s = settle(
            &[investor("a", u64::MAX / 2, 0)],
            10_000,
            &mut state,
            u64::MAX,
        )
        .unwrap();
        assert_eq!(s.payouts, [u64::MAX / 2]);
    }

    proptest! {
        #[test]
        fn money_is_conserved_and_caps_hold(
            principals in proptest::collection::vec((1u64..5_000_000, 0u32..5000), 1..5),
            share in 1u32..10_000,
            revenues in proptest::collection::vec(0u64..10_000_000, 1..40),
        ) {
            let investors: Vec<Investor> = principals.iter().enumerate()
                .map(|(i, (p, r))| investor(&format!("i{i}"), *p, *r)).collect();
            let mut state = PaybackState::default();
            let mut paid_total = 0u128;
            let mut revenue_total = 0u128;
            for revenue in revenues {
                let s = settle(&investors, share, &mut state, revenue).unwrap();
                let paid: u64 = s.payouts.iter().sum();
                prop_assert_eq!(u128::from(paid) + u128::from(s.to_platform) + u128::from(s.to_author), u128::from(revenue));
                paid_total += u128::from(paid);
                revenue_total += u128::from(revenue);
            }
            for (cap, paid) in caps(&investors).unwrap().into_iter().zip(&state.paid) {
                prop_assert!(*paid <= cap);
            }
            prop_assert!(paid_total <= revenue_total * u128::from(share) / 10_000 + 1);
        }

        #[test]
        fn conserved_capped_within_one_unit_and_deterministic(
            principals in proptest::collection::vec((0u64..5_000_000, 0u32..5000), 1..8),
            share in 0u32..=10_000,
            revenues in proptest::collection::vec(0u64..20_000_000, 1..40),
        ) {
            let investors: Vec<Investor> = principals.iter().enumerate()
                .map(|(i, (p, r))| investor(&format!("i{i}"), *p, *r)).collect();
            let caps = caps(&investors).unwrap();
            let exact: u128 = principals.iter()
                .map(|(p, r)| u128::from(*p) * (10_000 + u128::from(*r))).sum::<u128>() / 10_000;
            prop_assert_eq!(caps.iter().map(|c| u128::from(*c)).sum::<u128>(), exact);
            let run = || {
                let mut state = PaybackState::default();
                let mut out = Vec::new();
                for revenue in &revenues {
                    let before = state.paid.clone();
                    let s = settle(&investors, share, &mut state, *revenue).unwrap();
                    let paid: u64 = s.payouts.iter().sum();
                    assert_eq!(paid + s.to_platform + s.to_author, *revenue);
                    for (i, p) in state.paid.iter().enumerate() {
                        assert!(*p <= caps[i]);
                        assert_eq!(*p, before.get(i).copied().unwrap_or(0) + s.payouts[i]);
                    }
                    if let Err(e) = within_one_unit(&investors, &state) {
                        panic!("{e}");
                    }
                    out.push(s);
                }
                (out, state)
            };
            prop_assert_eq!(run(), run());
        }

        #[test]
        fn replaying_gives_the_same_figures(revenues in proptest::collection::vec(0u64..1_000_000, 1..20)) {
            let investors = [investor("a", 300_000, 1000), investor("b", 200_000, 500)];
            let run = || {
                let mut state = PaybackState::default();
                revenues.iter().map(|r| settle(&investors, 2500, &mut state, *r).unwrap()).collect::<Vec<_>>()
            };
            prop_assert_eq!(run(), run());
        }
    }
}
