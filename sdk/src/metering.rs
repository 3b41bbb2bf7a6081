//! Reporting billable units of the metrics the manifest declares.

use crate::Error;
use crate::bindings::spleis::plugin::metering as raw;

/// Reports `quantity` units of a summed metric.
pub fn report(metric: &str, quantity: u64) -> Result<(), Error> {
    Ok(raw::report(metric, quantity, None)?)
}

/// Reports one unit of a metric counted once per distinct `key` per period,
/// such as an active contract keyed by its id.
pub fn report_unique(metric: &str, key: &str) -> Result<(), Error> {
    Ok(raw::report(metric, 1, Some(key))?)
}
