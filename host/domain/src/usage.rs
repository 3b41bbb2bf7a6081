//! The usage record: what one call used and how it ended, the vocabulary the
//! sandbox writes and the store, the platform and billing read; and the
//! record as the platform keeps it ([`UsageRow`]).

use serde::{Deserialize, Serialize};
pub use spleis_billing::usage::Blame;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// The kind of a call's outcome. Each limit breach and each way a plugin can
/// fail has its own kind, so usage, billing and operators can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The plugin answered.
    Ok,
    /// The plugin returned an error on purpose (`Err(Error)`).
    PluginError,
    /// The fuel budget was used up.
    OutOfFuel,
    /// The wall-clock deadline passed.
    Timeout,
    /// Linear memory would have grown past the limit.
    MemoryLimit,
    /// Tables would have grown past the limit.
    TableLimit,
    /// The wasm call stack was exhausted (unbounded recursion).
    StackOverflow,
    /// The plugin panicked; the message is the panic's.
    Panic,
    /// The plugin trapped (unreachable, out-of-bounds access, ...).
    Trap,
    /// The response was larger than the output limit.
    OutputTooLarge,
    /// A storage write would have passed the install's quota.
    StorageQuota,
    /// The plugin emitted more events than allowed.
    EventLimit,
    /// The plugin wrote more log than allowed.
    LogLimit,
    /// The plugin exited (`std::process::exit`); the message has the code.
    Exit,
    /// The plugin reported more distinct keys of unique metrics than a
    /// call may.
    MeterLimit,
    /// The host failed (a bug or an unavailable backend): never billed.
    HostError,
}

impl OutcomeKind {
    /// Every kind, in declaration order.
    pub const ALL: [OutcomeKind; 16] = [
        OutcomeKind::Ok,
        OutcomeKind::PluginError,
        OutcomeKind::OutOfFuel,
        OutcomeKind::Timeout,
        OutcomeKind::MemoryLimit,
        OutcomeKind::TableLimit,
        OutcomeKind::StackOverflow,
        OutcomeKind::Panic,
        OutcomeKind::Trap,
        OutcomeKind::OutputTooLarge,
        OutcomeKind::StorageQuota,
        OutcomeKind::EventLimit,
        OutcomeKind::LogLimit,
        OutcomeKind::Exit,
        OutcomeKind::MeterLimit,
        OutcomeKind::HostError,
    ];

    /// The kebab-case name used in usage records and error codes.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::PluginError => "plugin-error",
            OutcomeKind::OutOfFuel => "out-of-fuel",
            OutcomeKind::Timeout => "timeout",
            OutcomeKind::MemoryLimit => "memory-limit",
            OutcomeKind::TableLimit => "table-limit",
            OutcomeKind::StackOverflow => "stack-overflow",
            OutcomeKind::Panic => "panic",
            OutcomeKind::Trap => "trap",
            OutcomeKind::OutputTooLarge => "output-too-large",
            OutcomeKind::StorageQuota => "storage-quota",
            OutcomeKind::EventLimit => "event-limit",
            OutcomeKind::LogLimit => "log-limit",
            OutcomeKind::Exit => "exit",
            OutcomeKind::MeterLimit => "meter-limit",
            OutcomeKind::HostError => "host-error",
        }
    }

    /// Who caused this outcome.
    pub fn blame(self) -> Blame {
        match self {
            OutcomeKind::Ok => Blame::None,
            OutcomeKind::HostError => Blame::Host,
            _ => Blame::Guest,
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no outcome kind (read from a row, a query or a header).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an outcome kind")]
pub struct UnknownOutcome(pub String);

impl FromStr for OutcomeKind {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutcomeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// What one call used: the record billing and operators read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// The tenant.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
    /// The digest of the component that ran.
    pub digest: String,
    /// The operation, or `event:<topic>`.
    pub operation: String,
    /// Fuel (instructions) consumed, instantiation included. After a
    /// `timeout` it is a lower bound: compiled code saves its fuel counter
    /// at calls, and the deadline can interrupt a loop between them.
    pub fuel_consumed: u64,
    /// Wall time from instantiation to the result, in microseconds.
    pub wall_time_us: u64,
    /// Of the wall time, how much the call spent inside host functions
    /// (storage, WASI sleeps and streams, the contract's imports), in
    /// microseconds: work fuel does not count. Records written before it
    /// was measured read 0.
    #[serde(default)]
    pub host_time_us: u64,
    /// The highest total linear memory of the instance, in bytes.
    pub peak_memory_bytes: u64,
    /// How the call ended.
    pub outcome: OutcomeKind,
    /// Event deliveries this call set off that its tenant's fan-out budget
    /// dropped (filled in after the deliveries ran).
    #[serde(default)]
    pub deliveries_dropped: u64,
    /// Units of declared metrics the plugin reported.
    pub units: Vec<MeterReport>,
}

/// The most units one call may report of a metric (10^12): reports merged
/// within a call included. Far above any real count per call (a trillion
/// bytes, rows, contracts), and far enough below `i64::MAX` that a period
/// needs more than nine million maximal reports before a sum of its units
/// could overflow, so one hostile plugin cannot wedge the close with a
/// couple of calls. The runtime refuses larger reports (`invalid-argument`);
/// the store refuses to write one.
pub const MAX_REPORT_QUANTITY: u64 = 1_000_000_000_000;

/// One report of a metric within a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeterReport {
    /// The metric, as declared in the manifest.
    pub metric: String,
    /// Units reported.
    pub quantity: u64,
    /// For unique metrics, the business object counted once per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_kind_parses_back_from_its_name_and_its_json() {
        for kind in OutcomeKind::ALL {
            assert_eq!(kind.as_str().parse::<OutcomeKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!(
            "ok ".parse::<OutcomeKind>(),
            Err(UnknownOutcome("ok ".into()))
        );
    }

    #[test]
    fn only_a_host_error_is_blamed_on_the_host() {
        for kind in OutcomeKind::ALL {
            let expected = match kind {
                OutcomeKind::Ok => Blame::None,
                OutcomeKind::HostError => Blame::Host,
                _ => Blame::Guest,
            };
            assert_eq!(kind.blame(), expected);
        }
    }
}
/// A usage record as the platform stores it: the runtime's [`Usage`] plus
/// the call's transaction id, the plugin version and the idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// The call's transaction id, unique per tenant.
    pub id: String,
    /// The plugin version that ran.
    pub version: String,
    /// What the runtime measured.
    #[serde(flatten)]
    pub usage: Usage,
    /// The caller's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// When the record was written, in unix milliseconds.
    pub recorded_at: i64,
}
