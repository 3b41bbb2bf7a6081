//! `metering`: billable units of the metrics the manifest declares.

use super::CallCapabilities;
use crate::bindings::HostError;
use crate::bindings::latest::spleis::plugin::metering;
use crate::limits::LimitBreach;
use spleis_domain::MAX_REPORT_QUANTITY;
use spleis_registry::{Aggregation, Capability};

/// Longest key of a unique metric, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

impl CallCapabilities {
    fn check_report(
        &self,
        metric: &str,
        quantity: u64,
        key: Option<&str>,
    ) -> Result<(), HostError> {
        self.granted(Capability::Metering)?;
        let declared = self.install.metrics.get(metric).ok_or_else(|| {
            HostError::InvalidArgument(format!(
                "metric `{metric}` is not declared in the plugin's manifest"
            ))
        })?;
        if quantity == 0 {
            return Err(HostError::InvalidArgument(
                "a report needs a quantity above 0".into(),
            ));
        }
        if quantity > MAX_REPORT_QUANTITY {
            return Err(too_many(metric, quantity));
        }
        match (declared.aggregation, key) {
            (Aggregation::Unique, None) => Err(HostError::InvalidArgument(format!(
                "metric `{metric}` counts unique keys: report it with a key"
            ))),
            (Aggregation::Unique, Some(k)) if k.is_empty() || k.len() > MAX_KEY_BYTES => Err(
                HostError::InvalidArgument(format!("a metric key is 1 to {MAX_KEY_BYTES} bytes")),
            ),
            (Aggregation::Unique, Some(_)) if quantity != 1 => Err(HostError::InvalidArgument(
                format!("metric `{metric}` counts unique keys: report quantity 1"),
            )),
            (Aggregation::Sum, Some(_)) => Err(HostError::InvalidArgument(format!(
                "metric `{metric}` sums quantities: report it without a key"
            ))),
            _ => Ok(()),
        }
    }
}

/// The refusal of a report (or a call's merged reports) above
/// [`MAX_REPORT_QUANTITY`].
fn too_many(metric: &str, quantity: u64) -> HostError {
    HostError::InvalidArgument(format!(
        "{quantity} units of `{metric}` in one call: a call may report at most {MAX_REPORT_QUANTITY}"
    ))
}

impl metering::Host for CallCapabilities {
    fn report(
        &mut self,
        metric: String,
        quantity: u64,
        key: Option<String>,
    ) -> wasmtime::Result<Result<(), HostError>> {
        if let Err(e) = self.check_report(&metric, quantity, key.as_deref()) {
            return Ok(Err(e));
        }
        // Reports of one metric and key within a call merge into one
        // record, found by key (not by scanning: a call may report many). A
        // keyed (unique) report counts its key once, whatever the
        // repetitions; a summed report adds up.
        let keyed = key.is_some();
        let entry = (metric, key);
        match self.reports.get_mut(&entry) {
            Some(existing) if !keyed => {
                // The bound holds for the merged record too, else many small
                // reports in one call would make one too large to store.
                match existing.checked_add(quantity) {
                    Some(total) if total <= MAX_REPORT_QUANTITY => *existing = total,
                    total => {
                        return Ok(Err(too_many(&entry.0, total.unwrap_or(u64::MAX))));
                    }
                }
            }
            Some(_) => {}
            None => {
                if keyed {
                    if self.keys >= self.max_keys {
                        return Err(wasmtime::Error::new(LimitBreach::MeterKeys {
                            limit: self.max_keys,
                        }));
                    }
                    self.keys += 1;
                }
                self.reports.insert(entry, quantity);
            }
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::storage::MemoryStore;
    use crate::capabilities::{Install, log};
    use crate::limits::Limits;
    use metering::Host as _;
    use spleis_registry::Metric;
    use std::sync::Arc;

    /// A call of an install that declares one summed metric, `rows`.
    fn call() -> CallCapabilities {
        let install = Install {
            tenant: "t".into(),
            plugin: "acme/p".into(),
            grants: [Capability::Metering].into(),
            config: Default::default(),
            metrics: [(
                "rows".to_owned(),
                Metric {
                    aggregation: Aggregation::Sum,
                    description: String::new(),
                },
            )]
            .into(),
            storage_quota_bytes: 0,
        };
        CallCapabilities::new(
            Arc::new(install),
            Arc::new(MemoryStore::new()),
            &Limits::default(),
            log::LogSink::new(1024),
        )
    }

    #[test]
    fn a_report_above_the_maximum_is_an_invalid_argument_and_not_kept() {
        let mut call = call();
        let refused = call.report("rows".into(), u64::MAX, None).unwrap();
        assert!(
            matches!(&refused, Err(HostError::InvalidArgument(m)) if m.contains("at most 1000000000000")),
            "{refused:?}"
        );
        assert!(
            call.report("rows".into(), MAX_REPORT_QUANTITY, None)
                .unwrap()
                .is_ok()
        );
        // Merged reports stay within the bound too: the second is refused
        // and the first kept as it was.
        assert!(matches!(
            call.report("rows".into(), 1, None).unwrap(),
            Err(HostError::InvalidArgument(_))
        ));
        assert!(matches!(
            call.report("rows".into(), u64::MAX, None).unwrap(),
            Err(HostError::InvalidArgument(_))
        ));
        let (reports, _) = call.finish();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].quantity, MAX_REPORT_QUANTITY);
    }
}
