//! # spleis-domain
//!
//! The words the platform speaks in: accounts and roles, packages and
//! versions, installs, the usage record and how a call ended, events, the
//! notifications and webhooks, the parties to an invoice, billing's
//! records and documents (invoice, statement, the close summary), and the
//! refusals that are not about SQL.
//!
//! The store maps rows to and from these types; the platform's operations
//! take and return them; the faces (HTTP, the console, the CLI) show them.
//! This crate knows no wasmtime, SQL or HTTP: a failed database reaches it
//! only as a [`DatabaseError`], whose cause is kept as text and source.

pub mod accounts;
pub mod billing;
pub mod events;
pub mod installs;
pub mod limits;
pub mod notifications;
pub mod parties;
pub mod registry;
pub mod usage;
pub mod wishlist;

pub use usage::{Blame, MAX_REPORT_QUANTITY, MeterReport, OutcomeKind, Usage, UsageRow};

/// The cause of a database failure, whatever the driver.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the database failed: not a refusal of the request, a fault the
/// operator must see (500).
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A migration failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] Cause),
    /// The database failed.
    #[error("database error: {0}")]
    Failed(#[source] Cause),
    /// Stored data is not what it should be (a bug or tampering).
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
    /// A write to the storage of an install that was uninstalled (by
    /// another node, within its cache's lifetime).
    #[error("`{0}` was uninstalled: its storage takes no more writes")]
    Uninstalled(String),
}
