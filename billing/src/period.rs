//! Billing periods: the calendar month a record is billed in, how many of
//! its days an install touched, and the order in which periods close.

use crate::calendar::{Date, days_from_civil, days_in_month};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use crate::calendar::DAY_MS;

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
        // Digits only: `u16::from_str` would take `+026` as 26.
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || m.len() != 2 || !digits(y) || !digits(m) {
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
        let date = Date::from_unix_ms(unix_ms);
        Self {
            // A period's year is four digits: earlier or later days are
            // kept at the nearest year that is.
            year: u16::try_from(date.year().clamp(0, 9999)).unwrap_or(9999),
            month: date.month(),
        }
    }

    /// The first millisecond of the period (UTC), unix time.
    pub fn start_ms(self) -> i64 {
        // A u16 year's first days fit i64 milliseconds, and with the month
        // kept to 1..=12 (a parsed period's always is) the day exists, so
        // the fallback is never taken.
        days_from_civil(i64::from(self.year), self.month.clamp(1, 12), 1)
            .map_or(0, |days| days * DAY_MS)
    }

    /// The first millisecond after the period.
    pub fn end_ms(self) -> i64 {
        self.next().start_ms()
    }

    /// Days in the period.
    pub fn days(self) -> u32 {
        // A month outside 1..=12 cannot be parsed; one built by hand counts 31.
        days_in_month(i64::from(self.year), self.month).map_or(31, u32::from)
    }
}

/// The period something recorded at `at_ms` is billed in: its calendar
/// month, or, when that month is already closed, the first open one. Late
/// usage therefore needs no special path: it lands in the open period.
pub fn billing_period(at_ms: i64, last_closed: Option<Period>) -> Period {
    let calendar = Period::containing(at_ms);
    match last_closed {
        Some(closed) if calendar <= closed => closed.next(),
        _ => calendar,
    }
}

/// Days of `period` that an install existing over `[from, to)` (unix ms;
/// `to` is `None` while it is installed) touched, counting partial days.
pub fn days_installed(period: Period, from: i64, to: Option<i64>) -> u32 {
    let start = from.max(period.start_ms());
    let end = to.map_or(period.end_ms(), |to| to.min(period.end_ms()));
    if end <= start {
        return 0;
    }
    let first = start.div_euclid(DAY_MS);
    let last = (end - 1).div_euclid(DAY_MS);
    // Both ends lie inside the period, so the count is 1 to 31 and fits.
    u32::try_from(last - first + 1).map_or(period.days(), |days| days.min(period.days()))
}

/// Why a period may not close now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseOrderError {
    /// The period lies in the future.
    #[error("the period {period} has not started yet")]
    NotStarted {
        /// The period asked for.
        period: Period,
    },
    /// The period is the running month and the close was not asked early.
    #[error(
        "the period {period} is still under way; close it early on purpose with --early (usage after the close goes into {})",
        .period.next()
    )]
    UnderWay {
        /// The period asked for.
        period: Period,
    },
    /// The period lies before the last closed one: its usage went into the
    /// period after that, so there is nothing left to close.
    #[error(
        "the period {period} was never closed and is before the last closed one ({last}); its usage went into {}",
        .last.next()
    )]
    Passed {
        /// The period asked for.
        period: Period,
        /// The last closed period.
        last: Period,
    },
    /// An earlier period must close first.
    #[error("periods close in order: close {first} first")]
    OutOfOrder {
        /// The period asked for.
        period: Period,
        /// The period to close first.
        first: Period,
    },
}

/// Whether `period` may close at `now_ms`. Periods close in order, each
/// once, and a running month only `early`. `earliest_usage` is the earliest
/// period holding usage before `period`; it matters only for the first
/// close of all (`last_closed` is `None`).
pub fn check_close(
    period: Period,
    now_ms: i64,
    early: bool,
    last_closed: Option<Period>,
    earliest_usage: Option<Period>,
) -> Result<(), CloseOrderError> {
    if period.start_ms() > now_ms {
        return Err(CloseOrderError::NotStarted { period });
    }
    if period.end_ms() > now_ms && !early {
        return Err(CloseOrderError::UnderWay { period });
    }
    match last_closed {
        Some(last) if period < last => Err(CloseOrderError::Passed { period, last }),
        Some(last) if period != last.next() => Err(CloseOrderError::OutOfOrder {
            period,
            first: last.next(),
        }),
        Some(_) => Ok(()),
        None => match earliest_usage {
            Some(first) if first < period => Err(CloseOrderError::OutOfOrder { period, first }),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    /// Unix ms of a day in 2026 at 01:00: (month, day).
    fn at(month: u8, day: i64) -> i64 {
        p(&format!("2026-{month:02}")).start_ms() + (day - 1) * DAY_MS + 3_600_000
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
        for bad in [
            "2026-13", "26-11", "2026/11", "2026-1", "+026-11", "2026-+1", " 026-11",
        ] {
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
    fn usage_of_a_closed_month_lands_in_the_first_open_one() {
        assert_eq!(billing_period(at(10, 31), None), p("2026-10"));
        assert_eq!(billing_period(at(10, 31), Some(p("2026-09"))), p("2026-10"));
        assert_eq!(billing_period(at(10, 31), Some(p("2026-10"))), p("2026-11"));
        assert_eq!(billing_period(at(9, 1), Some(p("2026-10"))), p("2026-11"));
    }

    #[test]
    fn days_installed_counts_the_days_touched_in_the_period() {
        let nov = p("2026-11");
        assert_eq!(days_installed(nov, at(10, 1), None), 30);
        assert_eq!(days_installed(nov, at(11, 21), None), 10);
        assert_eq!(days_installed(nov, at(11, 21), Some(at(11, 22))), 2);
        assert_eq!(days_installed(nov, at(10, 1), Some(at(10, 31))), 0);
        assert_eq!(days_installed(nov, at(12, 1), None), 0);
    }

    #[test]
    fn periods_close_in_order_once_started_and_a_running_one_only_early() {
        let oct = p("2026-10");
        let check = |now, early, last, earliest| check_close(oct, now, early, last, earliest);
        assert_eq!(check(at(11, 1), false, None, None), Ok(()));
        assert_eq!(
            check(at(9, 30), true, None, None),
            Err(CloseOrderError::NotStarted { period: oct })
        );
        assert_eq!(
            check(at(10, 30), false, None, None),
            Err(CloseOrderError::UnderWay { period: oct })
        );
        assert_eq!(check(at(10, 30), true, None, None), Ok(()));
        assert_eq!(check(at(11, 1), false, Some(p("2026-09")), None), Ok(()));
        assert_eq!(
            check(at(12, 1), false, Some(p("2026-11")), None),
            Err(CloseOrderError::Passed {
                period: oct,
                last: p("2026-11")
            })
        );
        assert_eq!(
            check(at(11, 1), false, Some(p("2026-08")), None),
            Err(CloseOrderError::OutOfOrder {
                period: oct,
                first: p("2026-09")
            })
        );
        assert_eq!(
            check(at(11, 1), false, None, Some(p("2026-07"))),
            Err(CloseOrderError::OutOfOrder {
                period: oct,
                first: p("2026-07")
            })
        );
        let message = check(at(10, 30), false, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--early") && message.contains("2026-11"),
            "{message}"
        );
    }

    fn any_period() -> impl Strategy<Value = Period> {
        (1970u16..2200, 1u8..=12).prop_map(|(year, month)| Period { year, month })
    }

    proptest! {
        #[test]
        fn a_period_contains_its_own_bounds_and_text_round_trips(period in any_period()) {
            prop_assert_eq!(Period::containing(period.start_ms()), period);
            prop_assert_eq!(Period::containing(period.end_ms() - 1), period);
            prop_assert_eq!(period.end_ms() - period.start_ms(), i64::from(period.days()) * DAY_MS);
            prop_assert_eq!(period.to_string().parse::<Period>(), Ok(period));
            prop_assert_eq!(period.next().previous(), period);
        }

        #[test]
        fn a_record_is_billed_in_its_month_or_the_first_open_one(
            at_ms in 0i64..7_258_118_400_000,
            last in proptest::option::of(any_period()),
        ) {
            let billed = billing_period(at_ms, last);
            let calendar = Period::containing(at_ms);
            prop_assert!(billed >= calendar);
            match last {
                Some(last) => {
                    prop_assert!(billed > last);
                    prop_assert!(billed == calendar || billed == last.next());
                }
                None => prop_assert_eq!(billed, calendar),
            }
        }

        #[test]
        fn days_installed_stay_within_the_period(
            period in any_period(),
            from in -DAY_MS * 40..DAY_MS * 40,
            length in proptest::option::of(0i64..DAY_MS * 80),
        ) {
            let from = period.start_ms() + from;
            let days = days_installed(period, from, length.map(|l| from + l));
            prop_assert!(days <= period.days());
            if from <= period.start_ms() && length.is_none_or(|l| from + l >= period.end_ms()) {
                prop_assert_eq!(days, period.days());
            }
        }
    }
}
