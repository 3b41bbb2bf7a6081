//! How a call ended, and who is to blame.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a call's outcome. Each limit breach and each way a plugin can
/// fail has its own kind, so usage, billing and operators can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The host failed (a bug or an unavailable backend): never billed.
    HostError,
}

impl OutcomeKind {
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

/// Who caused a failure. A host fault is never billed to a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blame {
    /// Nothing failed.
    None,
    /// The plugin.
    Guest,
    /// The platform.
    Host,
}

/// Why a call did not produce a response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CallError {
    /// The outcome's kind.
    pub kind: OutcomeKind,
    /// For `plugin-error`, the plugin's own code; otherwise the kind's name.
    pub code: String,
    /// What happened, in words.
    pub message: String,
}

impl CallError {
    /// An error of `kind` whose code is the kind's name.
    pub fn new(kind: OutcomeKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: kind.as_str().to_owned(),
            message: message.into(),
        }
    }
}
