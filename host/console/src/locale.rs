//! How figures read in the viewer's language: amounts in minor units of the
//! platform currency, exact decimals (unit prices), counts, dates and
//! months, for nb, nl, de, fr and en. Money is never a float here: minor
//! units are split into whole and fractional digits as integers.
//!
//! Between an amount and its currency code, and inside digit groups, the
//! separators are non-breaking, so an amount never wraps over two lines.

use rust_decimal::Decimal;
use spleis_billing::Currency;
use spleis_billing::calendar::Date;
use spleis_billing::discounts::Period;

/// A language the console formats for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    /// English (the default).
    #[default]
    En,
    /// Norwegian Bokmål.
    Nb,
    /// Dutch.
    Nl,
    /// German.
    De,
    /// French.
    Fr,
}

/// A no-break space: between digit groups (nb) and before a currency code.
const NBSP: char = '\u{a0}';
/// A narrow no-break space: French digit groups.
const NNBSP: char = '\u{202f}';

impl Locale {
    /// Every locale, in the order the language menu lists them.
    pub const ALL: [Locale; 5] = [Locale::En, Locale::Nb, Locale::Nl, Locale::De, Locale::Fr];

    /// Its BCP 47 tag, for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Nb => "nb",
            Locale::Nl => "nl",
            Locale::De => "de",
            Locale::Fr => "fr",
        }
    }

    /// Its name in itself, for the language menu.
    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Nb => "Norsk bokmål",
            Locale::Nl => "Nederlands",
            Locale::De => "Deutsch",
            Locale::Fr => "Français",
        }
    }

    /// The locale of a tag (`de`, `nb-NO`, `no`, `nn`), if one is served.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            // Norwegian in any written form reads Bokmål figures.
            "nb" | "no" | "nn" => Some(Locale::Nb),
            "nl" => Some(Locale::Nl),
            "de" => Some(Locale::De),
            "fr" => Some(Locale::Fr),
            _ => None,
        }
    }

    /// The best served locale of an `Accept-Language` header, by quality
    /// (ties: the order given); English when none is served.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut best: Option<(u32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, parse_quality);
            if quality == 0 {
                continue;
            }
            if let Some(locale) = Locale::from_tag(tag)
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, locale));
            }
        }
        best.map_or(Locale::En, |(_, l)| l)
    }

    /// (decimal mark, group separator).
    fn separators(self) -> (char, Option<char>) {
        match self {
            Locale::En => ('.', Some(',')),
            Locale::Nb => (',', Some(NBSP)),
            Locale::Nl | Locale::De => (',', Some('.')),
            Locale::Fr => (',', Some(NNBSP)),
        }
    }

    /// Whether the currency code goes before the amount.
    fn code_first(self) -> bool {
        matches!(self, Locale::En | Locale::Nl)
    }

    /// A count with digit groups: `12,345` / `12 345` / `12.345`.
    pub fn count(self, n: i64) -> String {
        let digits = group(&n.unsigned_abs().to_string(), self.separators().1);
        if n < 0 { format!("-{digits}") } else { digits }
    }

    /// `minor` units of `currency`, with the code: `EUR 1,234.56`,
    /// `1.234,56 EUR`, `1 234,56 EUR`.
    pub fn money(self, minor: i64, currency: &Currency) -> String {
        let number = self.minor_units(minor, currency.exponent());
        if self.code_first() {
            format!("{}{NBSP}{number}", currency.code())
        } else {
            format!("{number}{NBSP}{}", currency.code())
        }
    }

    /// `minor` units with `exponent` decimals, without a currency.
    pub fn minor_units(self, minor: i64, exponent: u8) -> String {
        let (mark, sep) = self.separators();
        let digits = minor.unsigned_abs().to_string();
        let exponent = usize::from(exponent);
        // Left-pad so there is at least one whole digit.
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        let (whole, fraction) = padded.split_at(padded.len() - exponent);
        let sign = if minor < 0 { "-" } else { "" };
        if exponent == 0 {
            format!("{sign}{}", group(whole, sep))
        } else {
            format!("{sign}{}{mark}{fraction}", group(whole, sep))
        }
    }

    /// An exact decimal (a quantity, a unit price) as written, with the
    /// locale's marks; no digit is added or dropped.
    pub fn decimal(self, value: Decimal) -> String {
        self.decimal_as_is(value.normalize())
    }

    fn decimal_as_is(self, value: Decimal) -> String {
        let (mark, sep) = self.separators();
        let text = value.to_string();
        let (sign, unsigned) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        match unsigned.split_once('.') {
            Some((whole, fraction)) => format!("{sign}{}{mark}{fraction}", group(whole, sep)),
            None => format!("{sign}{}", group(unsigned, sep)),
        }
    }

    /// A unit price: exact, with at least the currency's `exponent`
    /// decimals (`1.50`, `0.0004`).
    pub fn price(self, value: Decimal, exponent: u8) -> String {
        let mut value = value.normalize();
        if value.scale() < u32::from(exponent) {
            value.rescale(u32::from(exponent));
        }
        self.decimal_as_is(value)
    }

    /// Basis points as a percentage: `20%`, `12,5 %`.
    pub fn percent(self, bps: u32) -> String {
        let value = Decimal::new(i64::from(bps), 2);
        let number = self.decimal(value);
        match self {
            Locale::En | Locale::Nl => format!("{number}%"),
            _ => format!("{number}{NBSP}%"),
        }
    }

    /// A date (UTC) of Unix milliseconds: `24 Nov 2026`, `24.11.2026`,
    /// `24-11-2026`, `24/11/2026`.
    pub fn date(self, unix_ms: i64) -> String {
        let date = Date::from_unix_ms(unix_ms);
        let (y, m, d) = (date.year(), date.month(), date.day());
        match self {
            Locale::En => format!("{d} {} {y}", &self.month_name(m)[..3]),
            Locale::Nb | Locale::De => format!("{d:02}.{m:02}.{y}"),
            Locale::Nl => format!("{d:02}-{m:02}-{y}"),
            Locale::Fr => format!("{d:02}/{m:02}/{y}"),
        }
    }

    /// A date and time (UTC) of Unix milliseconds.
    pub fn date_time(self, unix_ms: i64) -> String {
        let minutes = unix_ms.div_euclid(60_000).rem_euclid(24 * 60);
        format!(
            "{} {:02}:{:02} UTC",
            self.date(unix_ms),
            minutes / 60,
            minutes % 60
        )
    }

    /// A day given as `YYYY-MM-DD`, shortened for a chart's axis: `24 Nov`,
    /// `24.11.`.
    pub fn day_label(self, day: &str) -> String {
        let mut parts = day.split('-').skip(1);
        let month: u8 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(1);
        let d: u8 = parts.next().and_then(|d| d.parse().ok()).unwrap_or(1);
        match self {
            Locale::En => format!("{d} {}", &self.month_name(month)[..3]),
            Locale::Nb | Locale::De => format!("{d}.{month}."),
            Locale::Nl => format!("{d}-{month}"),
            Locale::Fr => format!("{d}/{month}"),
        }
    }

    /// A period as its month: `November 2026`, `november 2026`,
    /// `novembre 2026`.
    pub fn period(self, period: Period) -> String {
        format!("{} {}", self.month_name(period.month), period.year)
    }

    /// The name of month `m` (1 to 12).
    pub fn month_name(self, m: u8) -> &'static str {
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const NB: [&str; 12] = [
            "januar",
            "februar",
            "mars",
            "april",
            "mai",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "desember",
        ];
        const NL: [&str; 12] = [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ];
        const DE: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        let names = match self {
            Locale::En => &EN,
            Locale::Nb => &NB,
            Locale::Nl => &NL,
            Locale::De => &DE,
            Locale::Fr => &FR,
        };
        names[usize::from(m.clamp(1, 12) - 1)]
    }
}

/// A `q=` value in thousandths (`0.8` → 800); malformed counts as 0.
fn parse_quality(q: &str) -> u32 {
    let q = q.trim();
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    let whole: u32 = match whole {
        "1" => 1000,
        "0" | "" => 0,
        _ => return 0,
    };
    let mut thousandths = 0;
    for (i, c) in fraction.chars().take(3).enumerate() {
        let Some(d) = c.to_digit(10) else { return 0 };
        thousandths += d * [100, 10, 1][i];
    }
    (whole + thousandths).min(1000)
}

/// Groups `digits` by three from the right with `sep`.
fn group(digits: &str, sep: Option<char>) -> String {
    let Some(sep) = sep else {
        return digits.to_owned();
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    #[test]
    fn amounts_read_in_each_locale_and_never_break() {
        let cases = [
            (Locale::En, "EUR\u{a0}1,234,567.89"),
            (Locale::Nb, "1\u{a0}234\u{a0}567,89\u{a0}EUR"),
            (Locale::Nl, "EUR\u{a0}1.234.567,89"),
            (Locale::De, "1.234.567,89\u{a0}EUR"),
            (Locale::Fr, "1\u{202f}234\u{202f}567,89\u{a0}EUR"),
        ];
        for (locale, expected) in cases {
            let text = locale.money(123_456_789, &eur());
            assert_eq!(text, expected, "{locale:?}");
            assert!(!text.contains(' '), "a breaking space in {text:?}");
        }
    }

    #[test]
    fn small_negative_and_zero_decimal_amounts_keep_every_digit() {
        assert_eq!(Locale::En.money(5, &eur()), "EUR\u{a0}0.05");
        assert_eq!(Locale::De.money(-200, &eur()), "-2,00\u{a0}EUR");
        assert_eq!(Locale::En.money(0, &eur()), "EUR\u{a0}0.00");
        assert_eq!(
            Locale::En.money(i64::MIN, &eur()),
            "EUR\u{a0}-92,233,720,368,547,758.08"
        );
        let jpy = Currency::new("JPY").unwrap();
        assert_eq!(Locale::En.money(1234, &jpy), "JPY\u{a0}1,234");
        let bhd = Currency::new("BHD").unwrap();
        assert_eq!(Locale::Fr.money(1234, &bhd), "1,234\u{a0}BHD");
    }

    #[test]
    fn unit_prices_keep_their_exact_digits() {
        let price: Decimal = "0.0004".parse().unwrap();
        assert_eq!(Locale::En.decimal(price), "0.0004");
        assert_eq!(Locale::De.decimal(price), "0,0004");
        let big: Decimal = "12345.50".parse().unwrap();
        assert_eq!(Locale::Nl.decimal(big), "12.345,5");
        assert_eq!(Locale::En.price("1.5".parse().unwrap(), 2), "1.50");
        assert_eq!(Locale::De.price(price, 2), "0,0004");
        assert_eq!(Locale::En.percent(2000), "20%");
        assert_eq!(Locale::Fr.percent(1250), "12,5\u{a0}%");
    }

    #[test]
    fn dates_and_months_read_in_each_locale() {
        // 2026-11-24 08:10 UTC.
        let at = 1_795_507_800_000;
        assert_eq!(Locale::En.date(at), "24 Nov 2026");
        assert_eq!(Locale::Nb.date(at), "24.11.2026");
        assert_eq!(Locale::Nl.date(at), "24-11-2026");
        assert_eq!(Locale::Fr.date(at), "24/11/2026");
        assert_eq!(Locale::De.date_time(at), "24.11.2026 08:10 UTC");
        let period: Period = "2026-03".parse().unwrap();
        assert_eq!(Locale::De.period(period), "März 2026");
        assert_eq!(Locale::Fr.period(period), "mars 2026");
        assert_eq!(Locale::En.day_label("2026-11-03"), "3 Nov");
        assert_eq!(Locale::Nb.day_label("2026-11-03"), "3.11.");
    }

    #[test]
    fn the_accept_language_header_picks_the_best_served_locale() {
        assert_eq!(
            Locale::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            Locale::De
        );
        assert_eq!(
            Locale::from_accept_language("ja, nb-NO;q=0.5, en;q=0.4"),
            Locale::Nb
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.5, fr;q=0.9"),
            Locale::Fr
        );
        assert_eq!(Locale::from_accept_language("nn"), Locale::Nb);
        assert_eq!(Locale::from_accept_language("ja, zh"), Locale::En);
        assert_eq!(Locale::from_accept_language("fr;q=0, nl"), Locale::Nl);
        assert_eq!(Locale::from_accept_language(""), Locale::En);
        assert_eq!(Locale::from_accept_language("de;q=garbage"), Locale::En);
    }
}
