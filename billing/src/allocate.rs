//! Largest-remainder allocation: split an integer amount by weights so the
//! parts add up exactly. The one copy of the rule: [`largest_remainder`]
//! for a total by weights, and [`extra_units`] for callers that set their
//! own lower bounds (investor caps and payback) and hand out the units
//! above them.

use std::cmp::Reverse;
use std::num::NonZeroU128;

/// Why extra units could not be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocateError {
    /// The exact shares have a denominator of zero.
    #[error("exact shares with a denominator of zero")]
    ZeroDenominator,
    /// More units than parts that may take one.
    #[error("{units} extra units for {parts} parts, one each at most")]
    TooManyUnits {
        /// The units to give.
        units: u128,
        /// The parts.
        parts: usize,
    },
}

/// The parts' indices, largest remainder `numerator % denominator` first;
/// equal remainders by index.
fn by_remainder(numerators: &[u128], denominator: NonZeroU128) -> Vec<usize> {
    let mut order: Vec<usize> = (0..numerators.len()).collect();
    order.sort_by_key(|&i| (Reverse(numerators[i] % denominator), i));
    order
}

/// Gives `units` extra units, one each at most, to the parts whose exact
/// shares `numerators[i] / denominator` have the largest fractional
/// remainders; equal remainders go to the earlier index, so callers order
/// parties by their tie-break. Returns, per part, whether it takes one.
/// Callers add these to their lower bounds (usually the floors of the
/// shares) and pass only the parts that may still take a unit.
pub fn extra_units(
    units: u128,
    numerators: &[u128],
    denominator: u128,
) -> Result<Vec<bool>, AllocateError> {
    let denominator = NonZeroU128::new(denominator).ok_or(AllocateError::ZeroDenominator)?;
    let parts = numerators.len();
    let units = usize::try_from(units)
        .ok()
        .filter(|&u| u <= parts)
        .ok_or(AllocateError::TooManyUnits { units, parts })?;
    let mut extra = vec![false; parts];
    for &i in by_remainder(numerators, denominator).iter().take(units) {
        extra[i] = true;
    }
    Ok(extra)
}

/// Splits `total` (≥ 0, minor units) by `weights`: each part gets the floor
/// of its exact share, and the units left over go one each to the largest
/// fractional remainders; ties go to the earlier index, so callers order
/// parties by their tie-break (funding time, then id). Parts sum to `total`
/// exactly. All weights zero (or none) gives all zeros (or nothing).
pub fn largest_remainder(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let Some(sum) = NonZeroU128::new(sum) else {
        return vec![0; weights.len()];
    };
    // total × w < 2^128, and each exact share ≤ total fits u64.
    let exact: Vec<u128> = weights
        .iter()
        .map(|&w| u128::from(total) * u128::from(w))
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|&e| (e / sum) as u64).collect();
    let given: u128 = parts.iter().map(|&p| u128::from(p)).sum();
    // Each floor lost less than one unit, so fewer units are left than parts.
    let left = (u128::from(total) - given) as usize;
    for &i in by_remainder(&exact, sum).iter().take(left) {
        parts[i] += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_design_worked_check() {
        // Pool 146,666 cents split 60/40.
        assert_eq!(largest_remainder(146_666, &[60, 40]), [88_000, 58_666]);
        // Three uneven pledges.
        assert_eq!(largest_remainder(100, &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(largest_remainder(0, &[5, 7]), [0, 0]);
        assert_eq!(largest_remainder(10, &[0, 0]), [0, 0]);
    }

    #[test]
    fn extra_units_go_to_the_largest_remainders_ties_to_the_earlier_part() {
        // Shares 1.25, 2.75, 0.5, 3.75, 4.0 (quarters).
        let shares = [5, 11, 2, 15, 16];
        assert_eq!(
            extra_units(2, &shares, 4),
            Ok(vec![false, true, false, true, false])
        );
        // 2.75 and 3.75 tie: the earlier takes the only unit.
        assert_eq!(
            extra_units(1, &shares, 4),
            Ok(vec![false, true, false, false, false])
        );
        // A whole share (remainder 0) comes last, after every fraction.
        assert_eq!(extra_units(5, &shares, 4), Ok(vec![true; 5]));
        assert_eq!(extra_units(0, &shares, 4), Ok(vec![false; 5]));
        assert_eq!(extra_units(0, &[], 4), Ok(vec![]));
        assert_eq!(
            extra_units(6, &shares, 4),
            Err(AllocateError::TooManyUnits { units: 6, parts: 5 })
        );
        assert_eq!(
            extra_units(u128::MAX, &shares, 4),
            Err(AllocateError::TooManyUnits {
                units: u128::MAX,
                parts: 5
            })
        );
        assert_eq!(
            extra_units(1, &shares, 0),
            Err(AllocateError::ZeroDenominator)
        );
    }

    proptest! {
        #[test]
        fn parts_sum_exactly_and_stay_within_one_unit_of_the_exact_share(
            total in 0u64..10_000_000_000,
            weights in proptest::collection::vec(0u64..1_000_000_000, 1..12),
        ) {
            let parts = largest_remainder(total, &weights);
            let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
            prop_assert_eq!(parts.len(), weights.len());
            if sum == 0 {
                prop_assert!(parts.iter().all(|&p| p == 0));
                return Ok(());
            }
            prop_assert_eq!(parts.iter().map(|&p| u128::from(p)).sum::<u128>(), u128::from(total));
            for (p, w) in parts.iter().zip(&weights) {
                let exact_floor = (u128::from(total) * u128::from(*w)).checked_div(sum).unwrap_or(0);
                prop_assert!(u128::from(*p) == exact_floor || u128::from(*p) == exact_floor + 1);
            }
        }

        #[test]
        fn floors_plus_extra_units_sum_exactly_each_within_one_unit_of_its_share(
            numerators in proptest::collection::vec(any::<u64>().prop_map(u128::from), 0..12),
            denominator in 1u128..1_000_000_000_000,
        ) {
            // The floor of the shares' sum, split: the floors, and the units
            // they lost by largest remainder.
            let total: u128 = numerators.iter().sum::<u128>() / denominator;
            let floors: Vec<u128> = numerators.iter().map(|n| n / denominator).collect();
            let units = total - floors.iter().sum::<u128>();
            let extra = extra_units(units, &numerators, denominator).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let parts: Vec<u128> = floors.iter().zip(&extra).map(|(f, e)| f + u128::from(*e)).collect();
            prop_assert_eq!(parts.iter().sum::<u128>(), total);
            for (part, n) in parts.iter().zip(&numerators) {
                // |part − n / denominator| < 1
                prop_assert!((part * denominator).abs_diff(*n) < denominator);
            }
            // No part with a smaller remainder takes a unit over one with a larger.
            for (i, a) in numerators.iter().enumerate() {
                for (j, b) in numerators.iter().enumerate() {
                    let (ra, rb) = (a % denominator, b % denominator);
                    if extra[j] && !extra[i] {
                        prop_assert!(ra < rb || (ra == rb && j < i));
                    }
                }
            }
        }
    }
}
