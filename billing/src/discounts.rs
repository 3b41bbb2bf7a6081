//! Billing periods, discounts over a range of periods, and prepaid credit.

use crate::money::{Money, MoneyError, round_to_minor};
use crate::rating::InvoiceLine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// A calendar month, the billing period: `2026-11`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// The year.
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
}

/// Not a `YYYY-MM` period.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period of the form YYYY-MM")]
pub struct ParsePeriodError(String);

impl FromStr for Period {
    type Err = ParsePeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParsePeriodError(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: u16 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }
}

impl TryFrom<String> for Period {
    type Error = ParsePeriodError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Period> for String {
    fn from(period: Period) -> Self {
        period.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Period {
    /// The next period.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The period before.
    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year.saturating_sub(1),
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The period (UTC) that contains `unix_ms`.
    pub fn containing(unix_ms: i64) -> Self {
        // Howard Hinnant's civil_from_days, on days since 1970-01-01.
        let z = unix_ms.div_euclid(DAY_MS) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: u16::try_from(year.clamp(0, 9999)).unwrap_or(9999),
            month: month as u8,
        }
    }

    /// The first millisecond of the period (UTC), unix time.
    pub fn start_ms(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (y, m) = (i64::from(self.year), i64::from(self.month));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468) * DAY_MS
    }

    /// The first millisecond after the period.
    pub fn end_ms(self) -> i64 {
        self.next().start_ms()
    }

    /// Days in the period.
    pub fn days(self) -> u32 {
        match self.month {
            2 if (self.year.is_multiple_of(4) && !self.year.is_multiple_of(100))
                || self.year.is_multiple_of(400) =>
            {
                29
            }
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
}

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
    fn periods_parse_order_and_count_days() {
        assert_eq!(p("2026-11").to_string(), "2026-11");
        assert_eq!(p("2026-12").next(), p("2027-01"));
        assert!(p("2026-11") < p("2027-01"));
        assert_eq!(
            (
                p("2024-02").days(),
                p("2026-02").days(),
                p("1900-02").days(),
                p("2000-02").days()
            ),
            (29, 28, 28, 29)
        );
        for bad in ["2026-13", "26-11", "2026/11", "2026-1"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn periods_know_their_bounds_in_unix_time() {
        assert_eq!(p("1970-01").start_ms(), 0);
        // 2026-11-01T00:00:00Z and 2026-12-01T00:00:00Z
        assert_eq!(p("2026-11").start_ms(), 1_793_491_200_000);
        assert_eq!(p("2026-11").end_ms(), 1_796_083_200_000);
        assert_eq!(Period::containing(1_793_491_200_000), p("2026-11"));
        assert_eq!(Period::containing(1_793_491_199_999), p("2026-10"));
        assert_eq!(Period::containing(1_796_083_199_999), p("2026-11"));
        assert_eq!(Period::containing(951_782_400_000), p("2000-02")); // 2000-02-29
        assert_eq!(p("2027-01").previous(), p("2026-12"));
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
