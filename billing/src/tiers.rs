//! Graduated and volume tiers.

use crate::money::exact_mul;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One tier: quantities up to `up_to` (cumulative, inclusive; `None` for the
/// last, open tier) cost `unit_price` each, plus `flat_fee` once if the tier
/// is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The tier's upper bound, or `None` for the last tier.
    pub up_to: Option<Decimal>,
    /// Price per unit in major units (may be finer than a cent).
    pub unit_price: Decimal,
    /// A fee charged once when the quantity reaches this tier.
    #[serde(default)]
    pub flat_fee: Decimal,
}

/// How tiers apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TierMode {
    /// Each unit is priced by the tier it falls in.
    Graduated,
    /// Every unit is priced by the tier the total falls in.
    Volume,
}

/// Why tiers were refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// No tiers.
    #[error("a tiered price needs at least one tier")]
    Empty,
    /// Bounds not ascending, or an open tier before the last.
    #[error("tier {0}: bounds must rise and only the last tier may be open")]
    Bounds(usize),
    /// The last tier is bounded.
    #[error("the last tier must be open (no `up_to`) so every quantity has a price")]
    Closed,
    /// A negative price or quantity.
    #[error("prices and quantities must not be negative")]
    Negative,
    /// The amount does not fit a decimal.
    #[error("the tiered amount overflows")]
    Overflow,
}

fn validate(tiers: &[Tier]) -> Result<(), TierError> {
    let (last, rest) = tiers.split_last().ok_or(TierError::Empty)?;
    if last.up_to.is_some() {
        return Err(TierError::Closed);
    }
    let mut previous = Decimal::ZERO;
    for (i, tier) in rest.iter().enumerate() {
        match tier.up_to {
            Some(bound) if bound > previous => previous = bound,
            _ => return Err(TierError::Bounds(i)),
        }
    }
    if tiers
        .iter()
        .any(|t| t.unit_price.is_sign_negative() || t.flat_fee.is_sign_negative())
    {
        return Err(TierError::Negative);
    }
    Ok(())
}

/// The exact (unrounded) amount in major units for `quantity`.
pub fn amount(quantity: Decimal, tiers: &[Tier], mode: TierMode) -> Result<Decimal, TierError> {
    amount_over(quantity, 1, tiers, mode)
}

/// `den ×` the exact amount for the quantity `num / den` (`den ≥ 1`): a
/// fractional quantity (fuel blocks, a prorated month) is priced from the
/// exact fraction, never from a rounded one, so the caller divides once,
/// when it rounds to minor units.
pub fn amount_over(
    num: Decimal,
    den: u64,
    tiers: &[Tier],
    mode: TierMode,
) -> Result<Decimal, TierError> {
    validate(tiers)?;
    if num.is_sign_negative() {
        return Err(TierError::Negative);
    }
    if den == 0 {
        return Err(TierError::Overflow);
    }
    let den = Decimal::from(den);
    // Products are exact or an overflow, never rounded to fit.
    let mul = |a: Decimal, b: Decimal| exact_mul(a, b).map_err(|_| TierError::Overflow);
    let scale = |bound: Decimal| mul(bound, den);
    // `den ×` a tier's amount for `units` already scaled by `den`.
    let scaled_amount = |units: Decimal, tier: &Tier| {
        mul(units, tier.unit_price)?
            .checked_add(mul(tier.flat_fee, den)?)
            .ok_or(TierError::Overflow)
    };
    let mut total = Decimal::ZERO;
    let mut lower = Decimal::ZERO;
    for tier in tiers {
        // `None` is the open last tier: every quantity falls in it.
        let upper = tier.up_to.map(scale).transpose()?;
        let within = upper.is_none_or(|upper| num <= upper);
        match mode {
            TierMode::Graduated => {
                if num > lower {
                    let top = upper.map_or(num, |upper| num.min(upper));
                    let units = top.checked_sub(lower).ok_or(TierError::Overflow)?;
                    total = total
                        .checked_add(scaled_amount(units, tier)?)
                        .ok_or(TierError::Overflow)?;
                }
            }
            TierMode::Volume => {
                if within {
                    return scaled_amount(num, tier);
                }
            }
        }
        match upper {
            Some(upper) if !within => lower = upper,
            _ => break,
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn tiers() -> Vec<Tier> {
        vec![
            Tier {
                up_to: Some(d("1000")),
                unit_price: d("0.010"),
                flat_fee: d("0"),
            },
            Tier {
                up_to: Some(d("10000")),
                unit_price: d("0.008"),
                flat_fee: d("0"),
            },
            Tier {
                up_to: None,
                unit_price: d("0.005"),
                flat_fee: d("0"),
            },
        ]
    }

    #[test]
    fn graduated_and_volume_on_the_same_quantities() {
        // 12,000 units. Graduated: 1000×0.010 + 9000×0.008 + 2000×0.005 = 10 + 72 + 10 = 92.
        assert_eq!(
            amount(d("12000"), &tiers(), TierMode::Graduated).unwrap(),
            d("92")
        );
        // Volume: all 12,000 at the third tier's 0.005 = 60.
        assert_eq!(
            amount(d("12000"), &tiers(), TierMode::Volume).unwrap(),
            d("60")
        );
        // 500 units: both the first tier.
        assert_eq!(
            amount(d("500"), &tiers(), TierMode::Graduated).unwrap(),
            d("5")
        );
        assert_eq!(
            amount(d("500"), &tiers(), TierMode::Volume).unwrap(),
            d("5")
        );
        // Exactly at a bound: 1000 stays in the first tier.
        assert_eq!(
            amount(d("1000"), &tiers(), TierMode::Volume).unwrap(),
            d("10")
        );
        assert_eq!(
            amount(d("0"), &tiers(), TierMode::Graduated).unwrap(),
            d("0")
        );
    }

    #[test]
    fn malformed_tiers_are_refused() {
        assert_eq!(amount(d("1"), &[], TierMode::Volume), Err(TierError::Empty));
        let mut closed = tiers();
        closed[2].up_to = Some(d("20000"));
        assert_eq!(
            amount(d("1"), &closed, TierMode::Volume),
            Err(TierError::Closed)
        );
        let mut unordered = tiers();
        unordered[1].up_to = Some(d("500"));
        assert_eq!(
            amount(d("1"), &unordered, TierMode::Volume),
            Err(TierError::Bounds(1))
        );
        assert_eq!(
            amount(d("-1"), &tiers(), TierMode::Volume),
            Err(TierError::Negative)
        );
    }

    #[test]
    fn huge_quantities_are_errors_not_panics() {
        let q = Decimal::from(u64::MAX);
        assert!(amount(q, &tiers(), TierMode::Graduated).is_ok());
        assert_eq!(
            amount(Decimal::MAX, &tiers(), TierMode::Graduated),
            Err(TierError::Overflow)
        );
        let mut dear = tiers();
        dear[2].unit_price = Decimal::MAX;
        assert_eq!(amount(q, &dear, TierMode::Volume), Err(TierError::Overflow));
        assert_eq!(
            amount(q, &dear, TierMode::Graduated),
            Err(TierError::Overflow)
        );
    }

    #[test]
    fn a_fraction_is_priced_exactly() {
        // 2500/3 units in the first tier at 0.010: 25/3 exactly, times 3.
        assert_eq!(
            amount_over(d("2500"), 3, &tiers(), TierMode::Graduated).unwrap(),
            d("25")
        );
        // 3001/3 crosses the first bound: 1000×0.010×3 + 1×0.008.
        assert_eq!(
            amount_over(d("3001"), 3, &tiers(), TierMode::Graduated).unwrap(),
            d("30.008")
        );
    }
}
