//! Aggregated usage rows become what is billable per install: who bears
//! the cost of a call by how it ended, units per metric, and the days an
//! install touched the period. The host aggregates in its database and
//! hands the rows here; every sum is checked.

use crate::close::InstallUsage;
use crate::period::{Period, days_installed};
use crate::rating::PeriodUsage;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Who caused a failure. A host fault is never billed to a tenant. As far
/// as money goes, who bears a call's cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blame {
    /// Nothing failed: the tenant pays.
    None,
    /// The plugin (an error, a trap, a limit): the tenant pays only when
    /// the plan charges failed calls.
    Guest,
    /// The platform: never the tenant's cost.
    Host,
}

/// Calls of one install with one operation and one blame, summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallsAggregate {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The operation.
    pub operation: String,
    /// Who caused the calls' failure, if any: who bears their cost.
    pub blame: Blame,
    /// How many.
    pub calls: u64,
    /// Their fuel.
    pub fuel: u128,
    /// Their time inside host functions, in microseconds.
    pub host_us: u128,
}

/// Units of one metric of one install: a sum, or distinct keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitsAggregate {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The metric.
    pub metric: String,
    /// The units.
    pub units: u64,
}

/// When an install existed (unix ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallSpan {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// Installed at.
    pub installed_at: i64,
    /// Uninstalled at, if it was.
    pub uninstalled_at: Option<i64>,
}

/// A sum of usage that does not fit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {what} of `{plugin}` for `{tenant}` overflows")]
pub struct UsageOverflow {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// What was summed (`calls`, `fuel`, `units of …`).
    pub what: String,
}

/// One period's usage per install (tenant, plugin), folded from rows.
#[derive(Clone, Debug)]
pub struct PeriodTally {
    period: Period,
    installs: BTreeMap<(String, String), PeriodUsage>,
}

/// `sum += value` by `checked` (the type's `checked_add`), or the overflow
/// named for the install.
fn add<T: Copy>(
    sum: &mut T,
    value: T,
    checked: fn(T, T) -> Option<T>,
    (tenant, plugin): (&str, &str),
    what: impl Into<String>,
) -> Result<(), UsageOverflow> {
    *sum = checked(*sum, value).ok_or_else(|| UsageOverflow {
        tenant: tenant.to_owned(),
        plugin: plugin.to_owned(),
        what: what.into(),
    })?;
    Ok(())
}

impl PeriodTally {
    /// An empty tally of `period`.
    pub fn new(period: Period) -> Self {
        Self {
            period,
            installs: BTreeMap::new(),
        }
    }

    fn usage(&mut self, tenant: &str, plugin: &str) -> &mut PeriodUsage {
        self.installs
            .entry((tenant.to_owned(), plugin.to_owned()))
            .or_default()
    }

    /// Adds calls: successful ones count; the plugin's failures are kept
    /// apart (the plan decides); the platform's failures are dropped.
    pub fn add_calls(&mut self, row: CallsAggregate) -> Result<(), UsageOverflow> {
        let usage = self.usage(&row.tenant, &row.plugin);
        let (calls, fuel, host) = match row.blame {
            Blame::None => (&mut usage.calls, &mut usage.fuel, &mut usage.host_us),
            Blame::Guest => (
                &mut usage.failed_calls,
                &mut usage.failed_fuel,
                &mut usage.failed_host_us,
            ),
            // A host fault is never the tenant's cost; the install still
            // appears (it was used), with nothing to bill for these calls.
            Blame::Host => return Ok(()),
        };
        let install = (row.tenant.as_str(), row.plugin.as_str());
        let count = calls.entry(row.operation).or_default();
        add(count, row.calls, u64::checked_add, install, "calls")?;
        add(fuel, row.fuel, u128::checked_add, install, "fuel")?;
        add(host, row.host_us, u128::checked_add, install, "host time")
    }

    /// Adds units of a metric.
    pub fn add_units(&mut self, row: UnitsAggregate) -> Result<(), UsageOverflow> {
        let usage = self.usage(&row.tenant, &row.plugin);
        let units = usage.metrics.entry(row.metric.clone()).or_default();
        add(
            units,
            row.units,
            u64::checked_add,
            (&row.tenant, &row.plugin),
            format!("units of `{}`", row.metric),
        )
    }

    /// Records the days an install touched the period (for monthly fees).
    pub fn add_install(&mut self, span: InstallSpan) {
        let days = days_installed(self.period, span.installed_at, span.uninstalled_at);
        self.usage(&span.tenant, &span.plugin).days_installed = days;
    }

    /// The plugins with any usage or install in the period.
    pub fn plugins(&self) -> BTreeSet<String> {
        self.installs.keys().map(|(_, p)| p.clone()).collect()
    }

    /// The installs' usage, by tenant then plugin; `versions` names the
    /// versions that served each (tenant, plugin), oldest first.
    pub fn into_installs(
        self,
        mut versions: impl FnMut(&str, &str) -> Vec<String>,
    ) -> Vec<InstallUsage> {
        let days = self.period.days();
        self.installs
            .into_iter()
            .map(|((tenant, plugin), mut usage)| {
                usage.days_in_period = days;
                InstallUsage {
                    versions: versions(&tenant, &plugin),
                    tenant,
                    plugin,
                    usage,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::DAY_MS;
    use proptest::prelude::*;

    fn calls(
        tenant: &str,
        operation: &str,
        blame: Blame,
        calls: u64,
        fuel: u128,
    ) -> CallsAggregate {
        CallsAggregate {
            tenant: tenant.into(),
            plugin: "acme/tariff".into(),
            operation: operation.into(),
            blame,
            calls,
            fuel,
            host_us: fuel / 10,
        }
    }

    fn nov() -> Period {
        "2026-11".parse().unwrap()
    }

    #[test]
    fn success_counts_plugin_failures_wait_for_the_plan_host_failures_never_count() {
        let mut tally = PeriodTally::new(nov());
        tally
            .add_calls(calls("a", "quote", Blame::None, 3, 30))
            .unwrap();
        tally
            .add_calls(calls("a", "quote", Blame::None, 2, 20))
            .unwrap();
        tally
            .add_calls(calls("a", "quote", Blame::Guest, 1, 7))
            .unwrap();
        tally
            .add_calls(calls("a", "list", Blame::Host, 9, 99))
            .unwrap();
        tally
            .add_calls(calls("b", "list", Blame::Host, 1, 1))
            .unwrap();
        tally
            .add_units(UnitsAggregate {
                tenant: "a".into(),
                plugin: "acme/tariff".into(),
                metric: "contract".into(),
                units: 4,
            })
            .unwrap();
        tally.add_install(InstallSpan {
            tenant: "a".into(),
            plugin: "acme/tariff".into(),
            installed_at: nov().start_ms() + 20 * DAY_MS,
            uninstalled_at: None,
        });
        assert_eq!(tally.plugins(), ["acme/tariff".to_owned()].into());
        let installs = tally.into_installs(|_, _| vec!["1.0.0".into()]);
        assert_eq!(
            installs.len(),
            2,
            "b's install appears, with nothing billable"
        );
        let a = &installs[0].usage;
        assert_eq!(a.calls, [("quote".to_owned(), 5)].into());
        assert_eq!((a.fuel, a.failed_fuel), (50, 7));
        assert_eq!(a.failed_calls, [("quote".to_owned(), 1)].into());
        assert_eq!(a.metrics, [("contract".to_owned(), 4)].into());
        assert_eq!((a.days_installed, a.days_in_period), (10, 30));
        assert_eq!(installs[1].usage.calls, BTreeMap::new());
        assert_eq!(installs[0].versions, ["1.0.0"]);
    }

    #[test]
    fn blame_reads_as_kebab_case_names() {
        for (blame, name) in [
            (Blame::None, "\"none\""),
            (Blame::Guest, "\"guest\""),
            (Blame::Host, "\"host\""),
        ] {
            assert_eq!(serde_json::to_string(&blame).unwrap(), name);
            assert_eq!(serde_json::from_str::<Blame>(name).unwrap(), blame);
        }
    }

    #[test]
    fn a_sum_that_does_not_fit_is_an_error() {
        let mut tally = PeriodTally::new(nov());
        tally
            .add_calls(calls("a", "q", Blame::None, u64::MAX, 0))
            .unwrap();
        let error = tally
            .add_calls(calls("a", "q", Blame::None, 1, 0))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the calls of `acme/tariff` for `a` overflows"
        );
    }

    proptest! {
        #[test]
        fn the_fold_keeps_every_billable_call_and_drops_only_host_failures(
            rows in proptest::collection::vec((0u8..3, 0u8..3, 0u64..1_000, 0u128..1_000_000), 0..50)
        ) {
            let mut tally = PeriodTally::new(nov());
            let blames = [Blame::None, Blame::Guest, Blame::Host];
            let (mut ok, mut failed) = (0u64, 0u64);
            for (tenant, blame, n, fuel) in &rows {
                let blame = blames[usize::from(*blame)];
                match blame {
                    Blame::None => ok += n,
                    Blame::Guest => failed += n,
                    Blame::Host => {}
                }
                tally.add_calls(calls(&format!("t{tenant}"), "q", blame, *n, *fuel)).unwrap();
            }
            let installs = tally.into_installs(|_, _| Vec::new());
            let sum = |f: fn(&PeriodUsage) -> &BTreeMap<String, u64>| -> u64 {
                installs.iter().flat_map(|i| f(&i.usage).values()).sum()
            };
            prop_assert_eq!(sum(|u| &u.calls), ok);
            prop_assert_eq!(sum(|u| &u.failed_calls), failed);
            prop_assert!(installs.iter().all(|i| i.usage.days_in_period == 30));
        }
    }
}
