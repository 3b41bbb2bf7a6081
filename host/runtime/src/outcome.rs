//! Why a call did not produce a response.

use serde::{Deserialize, Serialize};
use spleis_domain::OutcomeKind;

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
