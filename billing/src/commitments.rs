//! Minimum commitments: what a tenant promised to pay at least each period,
//! in money or in units of a plugin's metric, over a range of periods (a
//! lower minimum in the first year, say), as discounts are.
//!
//! A money minimum tops the invoice up, and the platform earns the top-up.
//! A minimum in units bills the shortfall of units under the plugin's plan,
//! as if they had been used: the plugin earns it, and its author and
//! investors share it like any other charge.

use crate::bounds::{InputError, MAX_TEXT_CHARS, not_empty, period_range, positive, text};
use crate::period::Period;
use serde::{Deserialize, Serialize};

/// The most units a commitment may name per period: far above any real
/// contract. At the highest unit price (`MAX_PRICE`, 10^6) a charge's
/// shortfall is at most 10^17 minor units, within an amount; a plan with
/// many charges on the metric can still overflow an invoice, which the
/// close refuses naming the commitment, and the operator ends it or voids
/// the line.
pub const MAX_COMMITTED_UNITS: u64 = 1_000_000_000;

/// What a tenant commits to each period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum Minimum {
    /// At least this much money; the platform tops the invoice up to it.
    Money {
        /// Minor units.
        minor: i64,
    },
    /// At least this many units of a plugin's metric (5,000 active
    /// contracts, say); the shortfall is rated under the plugin's plan.
    Units {
        /// The plugin, `namespace/name`.
        plugin: String,
        /// The metric, as the plugin declares it.
        metric: String,
        /// Units per period.
        units: u64,
    },
}

/// A minimum over a range of periods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// What is committed to.
    pub minimum: Minimum,
    /// The first period it applies to.
    pub from: Period,
    /// The last period it applies to; none: until it is ended.
    #[serde(default)]
    pub to: Option<Period>,
}

impl Minimum {
    /// What it commits to, in words: `a money minimum`, `units of
    /// \`contracts\` of acme/tariff`.
    pub fn subject(&self) -> String {
        match self {
            Minimum::Money { .. } => "a money minimum".to_owned(),
            Minimum::Units { plugin, metric, .. } => format!("units of `{metric}` of {plugin}"),
        }
    }
}

impl Commitment {
    /// The commitment in words, with amounts, counts and periods as the
    /// caller shows them: "at least 5,000 units of `contracts` of
    /// acme/tariff a month, from Jan 2027 until ended".
    pub fn words(
        &self,
        money: impl Fn(i64) -> String,
        count: impl Fn(u64) -> String,
        period: impl Fn(Period) -> String,
    ) -> String {
        let what = match &self.minimum {
            Minimum::Money { minor } => money(*minor),
            Minimum::Units {
                plugin,
                metric,
                units,
            } => format!("{} units of `{metric}` of {plugin}", count(*units)),
        };
        let until = self
            .to
            .map_or("until ended".to_owned(), |to| format!("to {}", period(to)));
        format!(
            "at least {what} a month, from {} {until}",
            period(self.from)
        )
    }

    /// Whether it applies to `period`.
    pub fn covers(&self, period: Period) -> bool {
        self.from <= period && self.to.is_none_or(|to| period <= to)
    }

    /// Whether `other` commits to the same thing (money, or the same
    /// plugin's metric) in a period this one covers too: two such
    /// commitments would leave open which one holds.
    pub fn overlaps(&self, other: &Commitment) -> bool {
        let same = match (&self.minimum, &other.minimum) {
            (Minimum::Money { .. }, Minimum::Money { .. }) => true,
            (
                Minimum::Units { plugin, metric, .. },
                Minimum::Units {
                    plugin: p,
                    metric: m,
                    ..
                },
            ) => plugin == p && metric == m,
            _ => false,
        };
        let before = |a: &Commitment, b: &Commitment| a.to.is_some_and(|to| to < b.from);
        same && !before(self, other) && !before(other, self)
    }
}

/// Checks a commitment where it enters: its periods in order, an amount or
/// a number of units above zero and within bounds, names that say
/// something.
pub fn validate(commitment: &Commitment) -> Result<(), InputError> {
    if let Some(to) = commitment.to {
        period_range("the commitment", commitment.from, to)?;
    }
    match &commitment.minimum {
        Minimum::Money { minor } => positive("a minimum commitment", *minor).map(drop),
        Minimum::Units {
            plugin,
            metric,
            units,
        } => {
            not_empty("the committed plugin", plugin, "name it as namespace/name")?;
            text("the committed plugin", plugin, MAX_TEXT_CHARS)?;
            not_empty(
                "the committed metric",
                metric,
                "name a metric the plugin declares",
            )?;
            text("the committed metric", metric, MAX_TEXT_CHARS)?;
            if !(1..=MAX_COMMITTED_UNITS).contains(units) {
                return Err(InputError::OutOfRange {
                    field: "a minimum commitment",
                    value: i64::try_from(*units).unwrap_or(i64::MAX),
                    unit: "units",
                    range: format!("1 to {MAX_COMMITTED_UNITS}"),
                });
            }
            Ok(())
        }
    }
}

/// The money minimum in force in `period`, minor units (0: none). Where
/// several cover it (the host refuses that where they enter), the highest
/// holds.
pub fn money_minimum(commitments: &[Commitment], period: Period) -> i64 {
    commitments
        .iter()
        .filter(|c| c.covers(period))
        .filter_map(|c| match c.minimum {
            Minimum::Money { minor } => Some(minor.max(0)),
            Minimum::Units { .. } => None,
        })
        .max()
        .unwrap_or(0)
}

/// The unit minimums in force in `period` for `plugin`: (metric, units),
/// the highest per metric.
pub fn unit_minimums<'c>(
    commitments: &'c [Commitment],
    plugin: &str,
    period: Period,
) -> Vec<(&'c str, u64)> {
    let mut found: Vec<(&str, u64)> = Vec::new();
    for commitment in commitments.iter().filter(|c| c.covers(period)) {
        if let Minimum::Units {
            plugin: p,
            metric,
            units,
        } = &commitment.minimum
            && p == plugin
        {
            match found.iter_mut().find(|(m, _)| m == metric) {
                Some((_, most)) => *most = (*most).max(*units),
                None => found.push((metric, *units)),
            }
        }
    }
    found
}

/// The plugins `commitments` commit units of in `period`.
pub fn committed_plugins(commitments: &[Commitment], period: Period) -> Vec<&str> {
    let mut plugins: Vec<&str> = commitments
        .iter()
        .filter(|c| c.covers(period))
        .filter_map(|c| match &c.minimum {
            Minimum::Units { plugin, .. } => Some(plugin.as_str()),
            Minimum::Money { .. } => None,
        })
        .collect();
    plugins.sort_unstable();
    plugins.dedup();
    plugins
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn money(minor: i64, from: &str, to: Option<&str>) -> Commitment {
        Commitment {
            minimum: Minimum::Money { minor },
            from: p(from),
            to: to.map(p),
        }
    }

    fn units(metric: &str, units: u64, from: &str, to: Option<&str>) -> Commitment {
        Commitment {
            minimum: Minimum::Units {
                plugin: "acme/tariff".into(),
                metric: metric.into(),
                units,
            },
            from: p(from),
            to: to.map(p),
        }
    }

    #[test]
    fn a_lower_minimum_in_the_first_year_then_the_standing_one() {
        let schedule = [
            money(2_000, "2027-01", Some("2027-12")),
            money(5_000, "2028-01", None),
        ];
        assert_eq!(money_minimum(&schedule, p("2026-12")), 0);
        assert_eq!(money_minimum(&schedule, p("2027-01")), 2_000);
        assert_eq!(money_minimum(&schedule, p("2027-12")), 2_000);
        assert_eq!(money_minimum(&schedule, p("2028-01")), 5_000);
        assert_eq!(money_minimum(&schedule, p("2040-06")), 5_000);
        assert!(!schedule[0].overlaps(&schedule[1]));
    }

    #[test]
    fn commitments_to_the_same_thing_in_the_same_period_overlap() {
        let open = money(5_000, "2027-01", None);
        assert!(open.overlaps(&money(1, "2030-01", Some("2030-02"))));
        assert!(!open.overlaps(&money(1, "2026-01", Some("2026-12"))));
        assert!(money(1, "2026-01", Some("2027-01")).overlaps(&open));
        // Money and units, or two metrics, are different things.
        assert!(!open.overlaps(&units("contracts", 5, "2027-01", None)));
        assert!(
            !units("contracts", 5, "2027-01", None).overlaps(&units("meters", 5, "2027-01", None))
        );
        assert!(units("contracts", 5, "2027-01", None).overlaps(&units(
            "contracts",
            9,
            "2027-03",
            None
        )));
    }

    #[test]
    fn unit_minimums_are_per_plugin_and_metric() {
        let all = [
            units("contracts", 5_000, "2027-01", None),
            units("meters", 10, "2027-01", Some("2027-01")),
            money(100, "2027-01", None),
        ];
        assert_eq!(
            unit_minimums(&all, "acme/tariff", p("2027-01")),
            [("contracts", 5_000), ("meters", 10)]
        );
        assert_eq!(
            unit_minimums(&all, "acme/tariff", p("2027-02")),
            [("contracts", 5_000)]
        );
        assert!(unit_minimums(&all, "acme/other", p("2027-01")).is_empty());
        assert_eq!(committed_plugins(&all, p("2027-01")), ["acme/tariff"]);
        assert!(committed_plugins(&all, p("2026-01")).is_empty());
    }

    #[test]
    fn a_refusal_names_the_field_and_its_range() {
        let reversed = money(1, "2027-02", Some("2027-01"));
        assert_eq!(
            validate(&reversed).unwrap_err().to_string(),
            "the commitment runs from 2027-02 to 2027-01: the end is before the start"
        );
        assert!(validate(&money(0, "2027-01", None)).is_err());
        assert!(validate(&money(i64::MAX, "2027-01", None)).is_err());
        assert_eq!(
            validate(&units("contracts", 0, "2027-01", None))
                .unwrap_err()
                .to_string(),
            "a minimum commitment is 0 units; it must be 1 to 1000000000"
        );
        assert!(validate(&units("contracts", u64::MAX, "2027-01", None)).is_err());
        assert!(validate(&units(" ", 1, "2027-01", None)).is_err());
        assert!(validate(&units(&"m".repeat(201), 1, "2027-01", None)).is_err());
        assert!(validate(&units("contracts", 5_000, "2027-01", None)).is_ok());
        assert_eq!(
            units("contracts", 5_000, "2027-01", None).words(
                |m| m.to_string(),
                |n| n.to_string(),
                |p| p.to_string()
            ),
            "at least 5000 units of `contracts` of acme/tariff a month, from 2027-01 until ended"
        );
        assert_eq!(
            money(250, "2027-01", Some("2027-12")).words(
                |m| format!("{m} cents"),
                |n| n.to_string(),
                |p| p.to_string()
            ),
            "at least 250 cents a month, from 2027-01 to 2027-12"
        );
        // Unknown fields are refused, as in plans.
        let extra = r#"{"minimum":{"kind":"money","minor":1,"x":1},"from":"2027-01"}"#;
        assert!(serde_json::from_str::<Commitment>(extra).is_err());
    }

    proptest! {
        #[test]
        fn overlap_is_symmetric_and_means_a_shared_covered_period(
            a in (1u8..=24, proptest::option::of(0u8..12)),
            b in (1u8..=24, proptest::option::of(0u8..12)),
        ) {
            let period = |n: u8| Period { year: 2027 + u16::from((n - 1) / 12), month: (n - 1) % 12 + 1 };
            let make = |(from, len): (u8, Option<u8>)| money(1, &period(from).to_string(), len.map(|l| period(from.saturating_add(l).min(24))).map(|p| p.to_string()).as_deref());
            let (a, b) = (make(a), make(b));
            prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
            let shared = (1u8..=48).any(|n| {
                let q = Period { year: 2027 + u16::from((n - 1) / 12), month: (n - 1) % 12 + 1 };
                a.covers(q) && b.covers(q)
            });
            prop_assert_eq!(a.overlaps(&b), shared);
        }
    }
}
