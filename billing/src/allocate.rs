//! Largest-remainder allocation: split an integer amount by weights so the
//! parts add up exactly.

/// Splits `total` (≥ 0, minor units) by `weights`: each part gets the floor
/// of its exact share, and the units left over go one each to the largest
/// fractional remainders; ties go to the earlier index, so callers order
/// parties by their tie-break (funding time, then id). Parts sum to `total`
/// exactly. All weights zero (or none) gives all zeros (or nothing).
pub fn largest_remainder(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let total = u128::from(total);
    let mut parts: Vec<u64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = total * u128::from(w);
        // exact / sum ≤ total, which fits u64.
        parts.push((exact / sum) as u64);
        remainders.push((exact % sum, i));
    }
    let given: u128 = parts.iter().map(|&p| u128::from(p)).sum();
    let left = (total - given) as usize;
    // Largest remainder first; equal remainders by index.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(left) {
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
    }
}
