//! Writing to the install's log.

use crate::bindings::spleis::plugin::log as raw;

pub use raw::Level;

/// Writes `message` at `level`.
pub fn write(level: Level, message: &str) {
    raw::write(level, message);
}

/// Writes at `debug` level.
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Writes at `info` level.
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Writes at `warn` level.
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Writes at `error` level.
pub fn error(message: &str) {
    write(Level::Error, message);
}
