//! The ranges values must lie in where they enter: basis points, amounts in
//! minor units, names. Each refusal names the field, its value and the
//! range, so whoever sent it can fix it.

use crate::payback::BPS;
use crate::period::Period;

/// A value refused where it entered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A number outside its range.
    #[error("{field} is {value} {unit}; it must be {range}")]
    OutOfRange {
        /// What the value is, in words (`the platform fee`).
        field: &'static str,
        /// The value given.
        value: i64,
        /// Its unit (`basis points`, `minor units`).
        unit: &'static str,
        /// The range it must lie in, in words.
        range: String,
    },
    /// A text that must say something is empty.
    #[error("{field} is empty; {hint}")]
    Empty {
        /// What the text is, in words.
        field: &'static str,
        /// What it should say.
        hint: &'static str,
    },
    /// A text that holds what it may not (a control character, …).
    #[error("{field} is refused: {why}")]
    Invalid {
        /// What the text is, in words.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A text longer than its bound.
    #[error("{field} is {chars} characters long; it must be at most {max}")]
    TooLong {
        /// What the text is, in words.
        field: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The most allowed.
        max: usize,
    },
    /// A period outside the platform's months.
    #[error("{field} is {period}; it must be from {first} to {open}")]
    Period {
        /// What the period is, in words.
        field: &'static str,
        /// The period given.
        period: Period,
        /// The platform's first month.
        first: Period,
        /// The open month.
        open: Period,
    },
    /// A term that would start in a period already closed: closed periods
    /// never change.
    #[error(
        "{field} starts in {period}; it must start in {first} (the first period not closed) or later: closed periods never change"
    )]
    Closed {
        /// What the term is, in words.
        field: &'static str,
        /// The period given.
        period: Period,
        /// The first period not closed.
        first: Period,
    },
    /// A range of periods that ends before it starts.
    #[error("{field} runs from {from} to {to}: the end is before the start")]
    Reversed {
        /// What the range is, in words.
        field: &'static str,
        /// Its first period.
        from: Period,
        /// Its last period.
        to: Period,
    },
}

/// The largest amount, in minor units, that enters anywhere (a pledge, a
/// principal, a credit, a goal, a minimum): 10^15, EUR 10 trillion. Far
/// above any real figure, and 9,000 of them still sum within i64, so sums
/// of accepted amounts cannot overflow where a few are added.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// The largest unit price, fee or tier price a plan may set, major units.
pub const MAX_PRICE: i64 = 1_000_000;

/// The most decimals a price or a free allowance may have: kept exactly
/// (a price with more is refused, never rounded to zero).
pub const MAX_PRICE_DECIMALS: u32 = 12;

/// The most characters of a title, a name or a reason.
pub const MAX_TEXT_CHARS: usize = 200;

/// Basis points: 0 to 10000 (100%).
pub fn bps(field: &'static str, value: u32) -> Result<u32, InputError> {
    if u64::from(value) > BPS {
        return Err(InputError::OutOfRange {
            field,
            value: i64::from(value),
            unit: "basis points",
            range: format!("0 to {BPS} (100%)"),
        });
    }
    Ok(value)
}

/// An amount in minor units above zero.
pub fn positive(field: &'static str, minor: i64) -> Result<i64, InputError> {
    if !(1..=MAX_AMOUNT_MINOR).contains(&minor) {
        return Err(InputError::OutOfRange {
            field,
            value: minor,
            unit: "minor units",
            range: format!("1 to {MAX_AMOUNT_MINOR}"),
        });
    }
    Ok(minor)
}

/// An amount in minor units of zero or more.
pub fn non_negative(field: &'static str, minor: i64) -> Result<i64, InputError> {
    if !(0..=MAX_AMOUNT_MINOR).contains(&minor) {
        return Err(InputError::OutOfRange {
            field,
            value: minor,
            unit: "minor units",
            range: format!("0 to {MAX_AMOUNT_MINOR}"),
        });
    }
    Ok(minor)
}

/// A moment strictly after `now_ms` (unix ms).
pub fn after(field: &'static str, at_ms: i64, now_ms: i64) -> Result<i64, InputError> {
    if at_ms <= now_ms {
        return Err(InputError::OutOfRange {
            field,
            value: at_ms,
            unit: "ms since the epoch",
            range: format!("in the future (after {now_ms})"),
        });
    }
    Ok(at_ms)
}

/// A text with something in it besides spaces; returns it trimmed.
pub fn not_empty<'t>(
    field: &'static str,
    text: &'t str,
    hint: &'static str,
) -> Result<&'t str, InputError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InputError::Empty { field, hint });
    }
    Ok(trimmed)
}

/// A text of at most `max` characters.
pub fn text<'t>(field: &'static str, text: &'t str, max: usize) -> Result<&'t str, InputError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(InputError::TooLong { field, chars, max });
    }
    Ok(text)
}

/// A period from the platform's `first` month to the `open` one.
pub fn period_in(
    field: &'static str,
    period: Period,
    first: Period,
    open: Period,
) -> Result<Period, InputError> {
    if period < first || period > open {
        return Err(InputError::Period {
            field,
            period,
            first,
            open,
        });
    }
    Ok(period)
}

/// A period that is `first` (the first period not closed) or later: terms
/// change only periods not yet closed.
pub fn not_closed(
    field: &'static str,
    period: Period,
    first: Period,
) -> Result<Period, InputError> {
    if period < first {
        return Err(InputError::Closed {
            field,
            period,
            first,
        });
    }
    Ok(period)
}

/// A range of periods from `from` to `to`, both included.
pub fn period_range(field: &'static str, from: Period, to: Period) -> Result<(), InputError> {
    if from > to {
        return Err(InputError::Reversed { field, from, to });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_refusal_names_the_field_its_value_and_the_range() {
        assert_eq!(
            bps("the platform fee", 12_000).unwrap_err().to_string(),
            "the platform fee is 12000 basis points; it must be 0 to 10000 (100%)"
        );
        assert_eq!(
            positive("the principal", -5).unwrap_err().to_string(),
            "the principal is -5 minor units; it must be 1 to 1000000000000000"
        );
        assert_eq!(
            not_empty("the title", "  ", "name what the campaign funds")
                .unwrap_err()
                .to_string(),
            "the title is empty; name what the campaign funds"
        );
        assert_eq!(not_empty("the title", " dark mode ", ""), Ok("dark mode"));
        let (nov, oct) = ("2026-11".parse().unwrap(), "2026-10".parse().unwrap());
        assert_eq!(
            period_range("the discount", nov, oct)
                .unwrap_err()
                .to_string(),
            "the discount runs from 2026-11 to 2026-10: the end is before the start"
        );
        assert!(after("the deadline", 5, 5).is_err());
        assert!(positive("a pledge", i64::MAX).is_err());
        assert!(non_negative("a credit", i64::MAX).is_err());
        assert_eq!(positive("a pledge", MAX_AMOUNT_MINOR), Ok(MAX_AMOUNT_MINOR));
        assert_eq!(
            text("the title", &"x".repeat(201), MAX_TEXT_CHARS)
                .unwrap_err()
                .to_string(),
            "the title is 201 characters long; it must be at most 200"
        );
        assert_eq!(text("the title", "é", 1), Ok("é"));
        let (first, open) = ("2026-01".parse().unwrap(), "2026-11".parse().unwrap());
        assert_eq!(
            period_in("the period", "0001-01".parse().unwrap(), first, open)
                .unwrap_err()
                .to_string(),
            "the period is 0001-01; it must be from 2026-01 to 2026-11"
        );
        assert!(period_in("the period", "2026-12".parse().unwrap(), first, open).is_err());
        assert_eq!(period_in("the period", open, first, open), Ok(open));
        assert_eq!(after("the deadline", 6, 5), Ok(6));
    }

    proptest! {
        #[test]
        fn bounds_accept_exactly_their_range(value in any::<u32>(), minor in any::<i64>()) {
            prop_assert_eq!(bps("x", value).is_ok(), value <= 10_000);
            prop_assert_eq!(positive("x", minor).is_ok(), minor > 0 && minor <= MAX_AMOUNT_MINOR);
            prop_assert_eq!(non_negative("x", minor).is_ok(), (0..=MAX_AMOUNT_MINOR).contains(&minor));
        }
    }
}
