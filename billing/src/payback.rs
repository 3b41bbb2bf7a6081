//! Investor payback: a share of a plugin's revenue each period until each
//! investor has received principal plus return, exactly.
//!
//! Accrue exactly, pay by cumulative flooring: the pool's cumulative accrual
//! `A = Σ revenue × share_bps` is kept as an integer in 1/10000 minor units;
//! a period's pool payout is `floor(A_now / 10000) − floor(A_before / 10000)`,
//! so rounding never drifts. The cumulative pool is split among investors by
//! largest remainder weighted by principal (ties: funding time, then id — the
//! order of the `investors` slice); each investor is paid its cumulative
//! allocation minus what it was already paid, capped at what it is still
//! owed. What a capped investor would have received goes to the platform.

use crate::allocate::largest_remainder;
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

impl Investor {
    /// What the investor receives in all: `floor(principal × (10000 + return_bps) / 10000)`.
    pub fn cap(&self) -> u64 {
        let cap = u128::from(self.principal) * u128::from(BPS + u64::from(self.return_bps))
            / u128::from(BPS);
        u64::try_from(cap).unwrap_or(u64::MAX)
    }
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

/// Settles one period with `revenue` (the plugin's revenue after the
/// platform fee, minor units) and the investors' pool share `share_bps`.
/// Once everyone is paid back, the pool takes nothing more.
pub fn settle(
    investors: &[Investor],
    share_bps: u32,
    state: &mut PaybackState,
    revenue: u64,
) -> Settlement {
    state.paid.resize(investors.len(), 0);
    let caps: Vec<u64> = investors.iter().map(Investor::cap).collect();
    let done = |paid: &[u64]| paid.iter().zip(&caps).all(|(p, c)| p >= c);
    if investors.is_empty() || done(&state.paid) {
        return Settlement {
            payouts: vec![0; investors.len()],
            to_platform: 0,
            to_author: revenue,
            paid_back: true,
        };
    }
    let before = state.accrued / u128::from(BPS);
    state.accrued += u128::from(revenue) * u128::from(share_bps.min(BPS as u32));
    let now = state.accrued / u128::from(BPS);
    let pool = u64::try_from(now - before).unwrap_or(u64::MAX);

    let weights: Vec<u64> = investors.iter().map(|i| i.principal).collect();
    let allocated = largest_remainder(u64::try_from(now).unwrap_or(u64::MAX), &weights);
    let mut payouts: Vec<u64> = (0..investors.len())
        .map(|i| {
            let due = allocated[i].saturating_sub(state.paid[i]);
            due.min(caps[i].saturating_sub(state.paid[i]))
        })
        .collect();
    // Largest remainder can, rarely, shrink one party's cumulative share as
    // the total grows; then the others' increments exceed the period's pool.
    // Trim the excess one unit at a time from the largest payouts: those
    // investors are owed it and get it in a later period.
    let mut excess = payouts.iter().sum::<u64>().saturating_sub(pool);
    while excess > 0 {
        let Some(largest) = (0..payouts.len()).max_by_key(|&i| (payouts[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        payouts[largest] -= 1;
        excess -= 1;
    }
    for (paid, payout) in state.paid.iter_mut().zip(&payouts) {
        *paid += payout;
    }
    let to_investors: u64 = payouts.iter().sum();
    Settlement {
        to_platform: pool - to_investors,
        to_author: revenue - pool,
        paid_back: done(&state.paid),
        payouts,
    }
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
        assert_eq!(investors[0].cap(), 1_100_000);
        let mut state = PaybackState::default();
        let mut total = 0;
        let mut months = Vec::new();
        for _ in 0..12 {
            let s = settle(&investors, 3000, &mut state, 400_000);
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
        let s = settle(&investors, 1000, &mut state, 1_466_666);
        assert_eq!(state.accrued, 1_466_666_000);
        assert_eq!(s.payouts, [88_000, 58_666]);
        assert_eq!(s.to_platform, 0);
        // The 0.6 cent residue carries: 4 more cents of revenue accrue 0.4,
        // completing one more cent of pool.
        let s = settle(&investors, 1000, &mut state, 4);
        assert_eq!(s.payouts.iter().sum::<u64>(), 1);
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
                let s = settle(&investors, share, &mut state, revenue);
                let paid: u64 = s.payouts.iter().sum();
                prop_assert_eq!(u128::from(paid) + u128::from(s.to_platform) + u128::from(s.to_author), u128::from(revenue));
                paid_total += u128::from(paid);
                revenue_total += u128::from(revenue);
            }
            for (inv, paid) in investors.iter().zip(&state.paid) {
                prop_assert!(*paid <= inv.cap());
            }
            prop_assert!(paid_total <= revenue_total * u128::from(share) / 10_000 + 1);
        }

        #[test]
        fn replaying_gives_the_same_figures(revenues in proptest::collection::vec(0u64..1_000_000, 1..20)) {
            let investors = [investor("a", 300_000, 1000), investor("b", 200_000, 500)];
            let run = || {
                let mut state = PaybackState::default();
                revenues.iter().map(|r| settle(&investors, 2500, &mut state, *r)).collect::<Vec<_>>()
            };
            prop_assert_eq!(run(), run());
        }
    }
}
