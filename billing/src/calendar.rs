//! The civil calendar: day numbers since 1970-01-01 to and from
//! year-month-day in the proleptic Gregorian calendar (UTC), by Howard
//! Hinnant's `days_from_civil` / `civil_from_days`. The one copy of the
//! algorithm: billing periods, the console's dates and day names use it.
//!
//! **Range.** Every `i64` day number is a date: from [`Date::MIN`]
//! (`-25252734927764585-06-07`, day `i64::MIN`) to [`Date::MAX`]
//! (`25252734927768524-07-27`, day `i64::MAX`). The work is done in `i128`,
//! so no input overflows; a date outside that range has no `i64` day number
//! and is refused ([`DateError::OutOfRange`]).

use std::fmt;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Days from 0000-03-01 to 1970-01-01: the algorithm counts from a March so
/// that the leap day ends its year.
const EPOCH_SHIFT: i128 = 719_468;
/// Days in 400 Gregorian years (one era).
const ERA_DAYS: i128 = 146_097;

/// Why a year, month and day are no date with a day number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The month is not 1 to 12, or the day is not in the month.
    #[error("{year:04}-{month:02}-{day:02} is not a day of the calendar")]
    NotADay {
        /// The year.
        year: i64,
        /// The month.
        month: u8,
        /// The day.
        day: u8,
    },
    /// The date is real but its day number does not fit `i64`.
    #[error("the year {0} lies outside the days an i64 counts")]
    OutOfRange(i64),
}

/// Whether `year` is a leap year (proleptic Gregorian).
pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1 to 12) of `year`; `None` for another month.
pub const fn days_in_month(year: i64, month: u8) -> Option<u8> {
    match month {
        2 if is_leap_year(year) => Some(29),
        2 => Some(28),
        4 | 6 | 9 | 11 => Some(30),
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        _ => None,
    }
}

/// `(year, month, day)` of day `days` since 1970-01-01. Total: every `i64`
/// is a day.
pub const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // `as` because `From` is not const; every cast is bounded below.
    let z = days as i128 + EPOCH_SHIFT;
    let era = z.div_euclid(ERA_DAYS);
    let doe = z.rem_euclid(ERA_DAYS); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March year, [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + (month <= 2) as i128;
    // |year| ≤ |days| / 365 + 1, so it fits i64.
    (year as i64, month as u8, day as u8)
}

/// Day number since 1970-01-01 of `year-month-day`.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> Result<i64, DateError> {
    match days_in_month(year, month) {
        Some(last) if (1..=last).contains(&day) => {}
        _ => return Err(DateError::NotADay { year, month, day }),
    }
    // The year counted from March, so February's leap day ends it.
    let y = i128::from(year) - i128::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i128::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // [0, 11]
    let doy = (153 * mp + 2) / 5 + i128::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    i64::try_from(era * ERA_DAYS + doe - EPOCH_SHIFT).map_err(|_| DateError::OutOfRange(year))
}

/// A day of the proleptic Gregorian calendar (UTC) whose day number fits
/// `i64`; shown as `YYYY-MM-DD`. Ordered in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    // First, so the derived order is the order in time.
    days: i64,
    year: i64,
    month: u8,
    day: u8,
}

impl Date {
    /// The first date: day `i64::MIN`.
    pub const MIN: Date = Date::from_days(i64::MIN);
    /// The last date: day `i64::MAX`.
    pub const MAX: Date = Date::from_days(i64::MAX);

    /// The date `year-month-day`, if it is one within the range.
    pub fn new(year: i64, month: u8, day: u8) -> Result<Self, DateError> {
        let days = days_from_civil(year, month, day)?;
        Ok(Self {
            days,
            year,
            month,
            day,
        })
    }

    /// The date of day `days` since 1970-01-01.
    pub const fn from_days(days: i64) -> Self {
        let (year, month, day) = civil_from_days(days);
        Self {
            days,
            year,
            month,
            day,
        }
    }

    /// The date (UTC) that contains `unix_ms`.
    pub const fn from_unix_ms(unix_ms: i64) -> Self {
        Self::from_days(unix_ms.div_euclid(DAY_MS))
    }

    /// Days since 1970-01-01 (negative before).
    pub const fn days(self) -> i64 {
        self.days
    }

    /// The year (astronomical: year 0 is 1 BC).
    pub const fn year(self) -> i64 {
        self.year
    }

    /// The month, 1 to 12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1 to 31.
    pub const fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(days: i64) -> String {
        Date::from_days(days).to_string()
    }

    #[test]
    fn known_days_have_their_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(20_513), "2026-03-01");
        assert_eq!(date(19_782), "2024-02-29");
        assert_eq!(date(10_957), "2000-01-01");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(-25_509), "1900-02-28");
        assert_eq!(date(-25_508), "1900-03-01", "1900 is no leap year");
        assert_eq!(date(-719_528), "0000-01-01");
        assert_eq!(date(-719_529), "-001-12-31");
        assert_eq!(days_from_civil(2026, 11, 24), Ok(20_781));
        assert_eq!(days_from_civil(1970, 1, 1), Ok(0));
        assert_eq!(days_from_civil(1600, 2, 29), Ok(-135_081));
        assert_eq!(
            Date::from_unix_ms(1_795_507_800_000).to_string(),
            "2026-11-24"
        );
        assert_eq!(Date::from_unix_ms(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        let leap = [1600, 2000, 2024, 2400, 0, -4, -400];
        let common = [1700, 1800, 1900, 2026, 2100, -1, -100];
        assert!(leap.iter().all(|y| is_leap_year(*y)));
        assert!(!common.iter().any(|y| is_leap_year(*y)));
        assert_eq!(days_in_month(2024, 2), Some(29));
        assert_eq!(days_in_month(2100, 2), Some(28));
        assert_eq!(days_in_month(2026, 13), None);
        assert_eq!(
            days_from_civil(2100, 2, 29),
            Err(DateError::NotADay {
                year: 2100,
                month: 2,
                day: 29
            })
        );
        assert!(Date::new(2026, 0, 1).is_err());
        assert!(Date::new(2026, 4, 31).is_err());
    }

    #[test]
    fn the_range_is_every_i64_day_and_nothing_beyond() {
        assert_eq!(Date::MIN.to_string(), "-25252734927764585-06-07");
        assert_eq!(Date::MAX.to_string(), "25252734927768524-07-27");
        for edge in [Date::MIN, Date::MAX] {
            assert_eq!(Date::new(edge.year(), edge.month(), edge.day()), Ok(edge));
        }
        assert_eq!(
            Date::new(25_252_734_927_768_524, 7, 28),
            Err(DateError::OutOfRange(25_252_734_927_768_524))
        );
        assert_eq!(
            Date::new(i64::MIN, 1, 1),
            Err(DateError::OutOfRange(i64::MIN))
        );
        assert!(days_from_civil(i64::MAX, 12, 31).is_err());
    }

    #[test]
    fn consecutive_days_step_through_the_calendar_one_day_at_a_time() {
        // From 1599-12-31 through 2401-01-01, by the naive rule.
        let mut expected = (1599, 12, 31);
        let first = days_from_civil(1599, 12, 31).unwrap_or_default();
        let last = days_from_civil(2401, 1, 1).unwrap_or_default();
        for days in first..=last {
            let got = Date::from_days(days);
            assert_eq!((got.year(), got.month(), got.day()), expected, "{days}");
            assert_eq!(got.days(), days);
            let (y, m, d) = expected;
            expected = if Some(d) < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
    }

    proptest! {
        #[test]
        fn days_to_civil_and_back_is_the_same_day(days in any::<i64>()) {
            let (year, month, day) = civil_from_days(days);
            prop_assert!(day >= 1 && Some(day) <= days_in_month(year, month));
            prop_assert_eq!(days_from_civil(year, month, day), Ok(days));
            let date = Date::from_days(days);
            prop_assert_eq!(Date::new(year, month, day), Ok(date));
        }

        #[test]
        fn later_days_are_later_dates(a in any::<i64>(), b in any::<i64>()) {
            let (da, db) = (Date::from_days(a), Date::from_days(b));
            prop_assert_eq!(a.cmp(&b), (da.year(), da.month(), da.day()).cmp(&(db.year(), db.month(), db.day())));
            prop_assert_eq!(a.cmp(&b), da.cmp(&db));
        }
    }
}
