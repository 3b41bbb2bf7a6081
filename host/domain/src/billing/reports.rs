//! Reports: a period's usage aggregated like the close aggregates it,
//! calls by day, and ledger balances.

use serde::{Deserialize, Serialize};
use spleis_billing::split::LedgerAccount;

/// Calls of one tenant to one plugin on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DayCalls {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// The tenant.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
    /// Calls recorded that day in the period.
    pub calls: i64,
    /// Of which failed (any outcome but `ok`).
    pub failed: i64,
}

/// One row of the usage report: calls of one operation with one outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallsRow {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The operation.
    pub operation: String,
    /// The outcome kind.
    pub outcome: String,
    /// The plugin version.
    pub version: String,
    /// Calls.
    pub calls: i64,
    /// Fuel.
    pub fuel: i64,
    /// Time inside host functions, in microseconds.
    pub host_time_us: i64,
}

impl CallsRow {
    /// The group this row sums, naming it in a corrupt-data error.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}/{}",
            self.tenant, self.plugin, self.operation, self.outcome, self.version
        )
    }
}

/// One row of the usage report: units of one metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetricRow {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The metric.
    pub metric: String,
    /// Summed quantity, or distinct keys for unique metrics.
    pub units: i64,
    /// Whether it counts distinct keys.
    pub unique: bool,
}

impl MetricRow {
    /// The group this row sums, naming it in a corrupt-data error.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.tenant, self.plugin, self.metric)
    }
}

/// A period's usage, aggregated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageReport {
    /// The period.
    pub period: String,
    /// Calls by tenant, plugin, operation, outcome and version.
    pub calls: Vec<CallsRow>,
    /// Metric units by tenant, plugin and metric.
    pub metrics: Vec<MetricRow>,
}

/// A ledger account's balance (debits positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Balance {
    /// The account.
    pub account: LedgerAccount,
    /// Its balance, minor units.
    pub balance: i64,
}
