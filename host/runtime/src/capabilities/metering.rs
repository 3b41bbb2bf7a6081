//! `metering`: billable units of the metrics the manifest declares.

use super::CallCapabilities;
use crate::bindings::HostError;
use crate::bindings::latest::spleis::plugin::metering;
use spleis_registry::{Aggregation, Capability};
use spleis_usage::MeterReport;

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
        // record. A keyed (unique) report counts its key once, whatever the
        // repetitions; a summed report adds up.
        match self
            .reports
            .iter_mut()
            .find(|r| r.metric == metric && r.key == key)
        {
            Some(existing) if key.is_none() => {
                existing.quantity = existing.quantity.saturating_add(quantity);
            }
            Some(_) => {}
            None => self.reports.push(MeterReport {
                metric,
                quantity,
                key,
            }),
        }
        Ok(Ok(()))
    }
}
