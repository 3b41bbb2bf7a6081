//! Amounts in minor units, currencies, and the one rounding rule.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency with its number of minor-unit digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Why an amount or a currency was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a currency this crate knows.
    #[error("`{0}` is not a supported ISO 4217 currency code")]
    UnknownCurrency(String),
    /// Two currencies in one sum.
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(String, String),
    /// Past i64 minor units.
    #[error("the amount overflows")]
    Overflow,
}

/// Currencies and their minor-unit exponents (ISO 4217).
const KNOWN: &[(&str, u8)] = &[
    ("EUR", 2),
    ("USD", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("NOK", 2),
    ("SEK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("ISK", 0),
    ("BHD", 3),
    ("KWD", 3),
];

impl Currency {
    /// The currency `code` (e.g. `EUR`).
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        let (_, exponent) = KNOWN
            .iter()
            .find(|(c, _)| *c == code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        let bytes = code.as_bytes();
        Ok(Self {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent: *exponent,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The code was checked against ASCII entries of KNOWN.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::new(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount: integer minor units of a currency. No float touches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// Minor units (cents for EUR).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero of `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The sum, refusing mixed currencies and overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The difference, refusing mixed currencies and overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        self.minor
            .checked_sub(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(
                self.currency.to_string(),
                other.currency.to_string(),
            ))
        }
    }

    /// The amount as a decimal in major units (`12.34`).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, u32::from(self.currency.exponent))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal(), self.currency)
    }
}

/// The one rounding rule of spleis: an exact decimal amount in major units
/// becomes minor units rounded half away from zero (0.005 EUR → 1 cent,
/// −0.005 EUR → −1 cent). Invoice lines are rounded once, here.
pub fn round_to_minor(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
    let scaled = amount
        .checked_mul(Decimal::from(10_i64.pow(u32::from(currency.exponent))))
        .ok_or(MoneyError::Overflow)?;
    let rounded = scaled.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let minor = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
    Ok(Money::new(minor, currency))
}

/// `quantity × unit_price`, exactly, then rounded once by [`round_to_minor`].
pub fn line_amount(
    quantity: Decimal,
    unit_price: Decimal,
    currency: Currency,
) -> Result<Money, MoneyError> {
    let exact = quantity
        .checked_mul(unit_price)
        .ok_or(MoneyError::Overflow)?;
    round_to_minor(exact, currency)
}

/// `a × b` exactly, or an overflow: never a product rounded to fit (the
/// decimal type would otherwise drop digits silently when the product is
/// too large or has more than 28 decimals).
pub fn exact_mul(a: Decimal, b: Decimal) -> Result<Decimal, MoneyError> {
    let scale = a.scale() + b.scale();
    if scale > 28 {
        return Err(MoneyError::Overflow);
    }
    let product = a.checked_mul(b).ok_or(MoneyError::Overflow)?;
    if !product.is_zero() && product.scale() != scale {
        return Err(MoneyError::Overflow);
    }
    Ok(product)
}

/// `num / den` major units, rounded once to minor units by the rule of
/// [`round_to_minor`], with no intermediate rounding: a prorated fee
/// (`fee × days / days_in_period`) or a fraction of fuel blocks is divided
/// only here, in integers, so 4.90 × 1/28 = 0.175 rounds to 0.18.
pub fn round_ratio(num: Decimal, den: u64, currency: Currency) -> Result<Money, MoneyError> {
    if den == 0 {
        return Err(MoneyError::Overflow);
    }
    // num = mantissa / 10^scale, so the amount in minor units is
    // mantissa × 10^exponent / (10^scale × den).
    let mantissa = num.mantissa().unsigned_abs();
    let top = mantissa
        .checked_mul(10_u128.pow(u32::from(currency.exponent)))
        .ok_or(MoneyError::Overflow)?;
    let minor = match 10_u128
        .checked_pow(num.scale())
        .and_then(|p| p.checked_mul(u128::from(den)))
    {
        Some(bottom) => {
            let (q, r) = (top / bottom, top % bottom);
            // Half away from zero: round up when r ≥ bottom − r.
            if r >= bottom - r { q + 1 } else { q }
        }
        // The divisor passes 2^128 while top < 2^107: less than half a unit.
        None => 0,
    };
    let minor = i64::try_from(minor).map_err(|_| MoneyError::Overflow)?;
    let minor = if num.is_sign_negative() {
        -minor
    } else {
        minor
    };
    Ok(Money::new(minor, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn prices_finer_than_a_cent_are_exact_until_the_line_is_rounded() {
        let eur = Currency::new("EUR").unwrap();
        // 12,345 calls at EUR 0.0004 = 4.938 → 4.94
        assert_eq!(
            line_amount(d("12345"), d("0.0004"), eur).unwrap().minor,
            494
        );
        // midpoints go away from zero
        assert_eq!(round_to_minor(d("0.005"), eur).unwrap().minor, 1);
        assert_eq!(round_to_minor(d("-0.005"), eur).unwrap().minor, -1);
        assert_eq!(round_to_minor(d("0.0049999"), eur).unwrap().minor, 0);
        let jpy = Currency::new("JPY").unwrap();
        assert_eq!(round_to_minor(d("10.5"), jpy).unwrap().minor, 11);
        let bhd = Currency::new("BHD").unwrap();
        assert_eq!(round_to_minor(d("1.2345"), bhd).unwrap().minor, 1235);
    }

    #[test]
    fn a_ratio_is_rounded_once_from_the_exact_value() {
        let eur = Currency::new("EUR").unwrap();
        // 4.90 × 1/28 = 0.175 exactly → 0.18 (rounding 1/28 first gave 0.17).
        assert_eq!(round_ratio(d("4.90"), 28, eur).unwrap().minor, 18);
        // 1.65 / 30 = 0.055 → 0.06.
        assert_eq!(round_ratio(d("1.65"), 30, eur).unwrap().minor, 6);
        assert_eq!(round_ratio(d("-1.65"), 30, eur).unwrap().minor, -6);
        assert_eq!(round_ratio(d("1.64"), 30, eur).unwrap().minor, 5);
        assert_eq!(
            round_ratio(Decimal::MAX, u64::MAX, eur).unwrap().minor,
            429_496_729_600
        );
        assert_eq!(round_ratio(Decimal::MAX, 1, eur), Err(MoneyError::Overflow));
        assert_eq!(round_ratio(d("1"), 0, eur), Err(MoneyError::Overflow));
        // A tiny amount over a huge divisor is zero, not an overflow.
        assert_eq!(
            round_ratio(d("0.0000000000000000000000000001"), u64::MAX, eur)
                .unwrap()
                .minor,
            0
        );
    }

    #[test]
    fn a_product_is_exact_or_an_error() {
        assert_eq!(exact_mul(d("0.0333"), d("250")).unwrap(), d("8.325"));
        assert_eq!(exact_mul(Decimal::MAX, d("2")), Err(MoneyError::Overflow));
        assert_eq!(
            exact_mul(d("0.00000000000001"), d("0.000000000000001")),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn currencies_do_not_mix_and_overflow_is_an_error() {
        let eur = Currency::new("EUR").unwrap();
        let usd = Currency::new("USD").unwrap();
        assert!(matches!(
            Money::new(1, eur).checked_add(Money::new(1, usd)),
            Err(MoneyError::CurrencyMismatch(_, _))
        ));
        assert_eq!(
            Money::new(i64::MAX, eur).checked_add(Money::new(1, eur)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Currency::new("XYZ"),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
        assert_eq!(Money::new(123456, eur).to_string(), "1234.56 EUR");
    }
}
