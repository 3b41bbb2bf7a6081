//! Discounts over a range of periods, and prepaid credit.

use crate::bounds::{InputError, bps, positive};
use crate::money::{Money, MoneyError, round_to_minor};
use crate::rating::InvoiceLine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

// Periods moved to their own module; these paths stay for callers.
pub use crate::period::{DAY_MS, ParsePeriodError, Period};

/// How much a discount takes off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum DiscountAmount {
    /// A share of the subtotal, basis points.
    Percent {
        /// Basis points (1000 = 10%).
        bps: u32,
    },
    /// A fixed amount, at most the subtotal.
    Fixed {
        /// Minor units.
        minor: i64,
    },
}

/// A discount for a tenant over a range of periods (a contributor
/// discount, say). The platform bears it: it does not reduce what authors
/// and investors receive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Discount {
    /// Why, for the invoice.
    pub reason: String,
    /// How much.
    pub amount: DiscountAmount,
    /// The first period it applies to.
    pub from: Period,
    /// The last period it applies to.
    pub to: Period,
}

/// Checks a discount where it enters: its periods in order, a share of at
/// most 100%, a fixed amount above zero.
pub fn validate(discount: &Discount) -> Result<(), InputError> {
    crate::bounds::period_range("the discount", discount.from, discount.to)?;
    // The reason is printed on every invoice the discount applies to.
    crate::bounds::text(
        "the discount reason",
        &discount.reason,
        crate::bounds::MAX_TEXT_CHARS,
    )?;
    match discount.amount {
        DiscountAmount::Percent { bps: share } => bps("a discount", share).map(drop),
        DiscountAmount::Fixed { minor } => positive("a fixed discount", minor).map(drop),
    }
}

/// The discount lines (negative amounts) for `subtotal` in `period`, in
/// order; together they never take the invoice below zero.
pub fn discount_lines(
    subtotal: Money,
    discounts: &[Discount],
    period: Period,
) -> Result<Vec<InvoiceLine>, MoneyError> {
    let mut left = subtotal.minor.max(0);
    let mut lines = Vec::new();
    for discount in discounts
        .iter()
        .filter(|d| d.from <= period && period <= d.to)
    {
        let off = match discount.amount {
            DiscountAmount::Percent { bps } => {
                let share = Decimal::from(bps.min(10_000)) / Decimal::from(10_000);
                round_to_minor(subtotal.to_decimal() * share, subtotal.currency)?.minor
            }
            DiscountAmount::Fixed { minor } => minor.max(0),
        }
        .min(left);
        if off == 0 {
            continue;
        }
        left -= off;
        lines.push(InvoiceLine {
            description: format!("discount: {}", discount.reason),
            quantity: Decimal::ONE,
            unit_price: None,
            amount: Money::new(-off, subtotal.currency),
        });
    }
    Ok(lines)
}

/// Prepaid credit consumed before invoicing: returns (credit used, amount
/// left to invoice).
pub fn apply_credit(total: Money, credit: Money) -> Result<(Money, Money), MoneyError> {
    let used = Money::new(credit.minor.max(0).min(total.minor.max(0)), total.currency);
    Ok((used, total.checked_sub(used)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::new("EUR").unwrap())
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_contributor_discount_applies_in_its_periods_only_and_never_below_zero() {
        let discounts = vec![
            Discount {
                reason: "contributor".into(),
                amount: DiscountAmount::Percent { bps: 1500 },
                from: p("2026-10"),
                to: p("2026-12"),
            },
            Discount {
                reason: "goodwill".into(),
                amount: DiscountAmount::Fixed { minor: 100_000 },
                from: p("2026-11"),
                to: p("2026-11"),
            },
        ];
        // 15% of 123.45 = 18.5175 → 18.52; then the fixed 1,000 takes the rest (104.93).
        let lines = discount_lines(eur(12_345), &discounts, p("2026-11")).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.amount.minor).collect::<Vec<_>>(),
            [-1852, -10_493]
        );
        assert!(
            discount_lines(eur(12_345), &discounts, p("2027-01"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_discount_is_checked_where_it_enters() {
        let discount = |amount, from, to| Discount {
            reason: "r".into(),
            amount,
            from: p(from),
            to: p(to),
        };
        assert!(
            validate(&discount(
                DiscountAmount::Percent { bps: 10_000 },
                "2026-10",
                "2026-10"
            ))
            .is_ok()
        );
        assert!(
            validate(&discount(
                DiscountAmount::Percent { bps: 10_001 },
                "2026-10",
                "2026-10"
            ))
            .is_err()
        );
        assert!(
            validate(&discount(
                DiscountAmount::Fixed { minor: 0 },
                "2026-10",
                "2026-11"
            ))
            .is_err()
        );
        let reversed = validate(&discount(
            DiscountAmount::Fixed { minor: 1 },
            "2026-11",
            "2026-10",
        ));
        assert!(
            matches!(reversed, Err(InputError::Reversed { .. })),
            "{reversed:?}"
        );
    }

    #[test]
    fn credit_is_consumed_before_invoicing() {
        assert_eq!(
            apply_credit(eur(5_000), eur(2_000)).unwrap(),
            (eur(2_000), eur(3_000))
        );
        assert_eq!(
            apply_credit(eur(5_000), eur(9_000)).unwrap(),
            (eur(5_000), eur(0))
        );
    }
}
