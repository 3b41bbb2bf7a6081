//! # spleis-platform
//!
//! Every operation of the platform, independent of HTTP, each taking the
//! [`Actor`] it acts for and deciding itself who may do what: accounts,
//! the registry (publish, yank, owners, catalog), installs, calls (with
//! idempotency), event delivery, usage, billing. The only crate that joins
//! the sandbox (`spleis-runtime`) and the database (`spleis-store`); its
//! fields are private, so a face (the HTTP server, the CLI, a console)
//! reaches the database and the sandbox only through these operations.
//!
//! | module | operations |
//! |---|---|
//! | [`accounts`] | authenticate a token, create and list accounts |
//! | [`registry`] | publish, catalog, package, yank, add an owner |
//! | [`installs`] | install, list, detail, upgrade, rollback, config, uninstall, pending upgrades |
//! | [`call`] | call an install (idempotency keys) |
//! | [`deliver`] | emit a platform event, deliver events to subscribers |
//! | [`usage`] | the usage pipeline, reading usage records, calls by day |
//! | [`caches`] | the cached lookups every call makes, forgotten on change |
//! | [`sessions`] | sign in with a token, the live session, sign out |
//! | [`month`] | the open month so far (drafts, projection), a close preview, tenants' terms, a plan rated on a sample |
//! | [`notifications`] | tell accounts (inbox and webhooks), read and mark an inbox |
//! | [`webhooks`] | register, list and remove webhooks, their delivery log, the delivery worker |
//! | [`parties`] | legal details of invoice parties, an invoice's parties and due date |
//! | [`compiles`] | one compile per digest at a time, a few at once |
//! | [`limits`] | the operator's limits per tenant; a tenant's own limits and use |
//! | [`shares`] | admission of calls by rate, concurrency cap and the shared pool |
//! | [`wishlist`] | requests: post, list, search, similar, vote, comment, subscribe; assess, fund, deliver |
//! | [`maintenance`] | open, bootstrap the operator, retention purge, drain |
//! | [`metrics`] | counters for `/metrics` |

pub mod access;
pub mod accounts;
pub mod billing;
pub mod caches;
pub mod call;
pub mod compiles;
pub mod deliver;
mod error;
mod failures;
pub mod installs;
pub mod kv;
pub mod limits;
pub mod maintenance;
pub mod metrics;
pub mod month;
pub mod notifications;
pub mod parties;
pub mod registry;
pub mod sessions;
pub mod shares;
mod tenant_limits;
pub mod usage;
pub mod webhooks;
pub mod wishlist;

#[cfg(test)]
mod races;
#[cfg(test)]
mod tests;

use spleis_runtime::Runtime;
use spleis_store::Store;
use std::sync::Arc;

pub use access::{AccessError, Actor};
pub use accounts::AccountCreated;
pub use call::{Answer, CallRequest};
pub use deliver::MAX_EVENT_DEPTH;
pub use error::Error;
pub use failures::{CallFailure, MAX_COMPONENT_BYTES, MAX_IDEMPOTENCY_KEY_BYTES, PublishError};
pub use registry::Published;

/// Shared state of a running platform. Its parts are private: every use of
/// the database or the sandbox goes through an operation, which checks the
/// actor and forgets what the change makes stale.
pub struct Platform {
    /// The database.
    pub(crate) store: Store,
    /// The sandbox.
    pub(crate) runtime: Arc<Runtime>,
    /// The usage writer.
    pub(crate) usage: usage::UsagePipeline,
    /// Counters for `/metrics`.
    pub(crate) metrics: metrics::Metrics,
    /// Caches of what every request looks up.
    pub(crate) caches: caches::Caches,
    /// Every tenant's share of the sandbox.
    pub(crate) shares: shares::Shares,
    /// Compiles on this node: one per digest, a few at once.
    pub(crate) compiles: compiles::Compiles,
    /// The limits tenants get unless the operator overrides them.
    pub(crate) limit_defaults: tenant_limits::LimitDefaults,
    /// Work that runs on after its request answered (event deliveries):
    /// each holds a permit, and `drain` waits for all of them.
    pub(crate) background: Arc<tokio::sync::Semaphore>,
    /// Webhook deliveries on this node: configuration, worker, tries.
    pub(crate) webhooks: webhooks::Webhooks,
    /// Live tokens one account may hold.
    pub(crate) tokens_per_account: u32,
}
