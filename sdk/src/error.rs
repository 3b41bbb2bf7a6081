//! The error a plugin returns to its caller.

use crate::bindings::spleis::plugin::types;
use std::fmt;

/// An error returned by a plugin on purpose: a machine-readable `code` in
/// kebab-case and a human-readable `message`.
///
/// Host capability failures convert into it (`?` works), with the codes
/// `access-denied`, `invalid-argument` and `unavailable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Machine-readable code, e.g. `invalid-input`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Error {
    /// An error with any code.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The request body or an argument was not acceptable.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("invalid-input", message)
    }

    /// Something the request refers to does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not-found", message)
    }

    /// The plugin has no operation of this name.
    pub fn unknown_operation(operation: &str) -> Self {
        Self::new(
            "unknown-operation",
            format!("this plugin has no operation `{operation}`"),
        )
    }

    /// The plugin's configuration is missing or wrong.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new("config", message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<types::HostError> for Error {
    fn from(error: types::HostError) -> Self {
        match error {
            types::HostError::AccessDenied => Self::new(
                "access-denied",
                "the tenant did not grant this capability to the plugin",
            ),
            types::HostError::InvalidArgument(message) => Self::new("invalid-argument", message),
            types::HostError::Unavailable(message) => Self::new("unavailable", message),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Self::invalid_input(error.to_string())
    }
}

impl From<Error> for types::Error {
    fn from(error: Error) -> Self {
        types::Error {
            code: error.code,
            message: error.message,
        }
    }
}
