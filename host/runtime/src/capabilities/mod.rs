//! The host side of the contract's imports: one module per capability.
//!
//! Each capability keeps its per-call state in its own struct and implements
//! the generated `Host` trait on it; the runtime links each interface to its
//! struct inside the call's store. A capability the tenant did not grant
//! answers `host-error::access-denied`; a limit breach traps with a
//! [`LimitBreach`](crate::LimitBreach).

pub mod config;
pub mod events;
pub mod log;
pub mod metering;
pub mod storage;

use crate::bindings::HostError;
use crate::limits::Limits;
use spleis_registry::{Capability, Metric};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the platform knows about one install when it calls it: whose it is,
/// what was granted, its settings, and what its manifest declares.
#[derive(Clone, Debug)]
pub struct Install {
    /// The tenant the install belongs to.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
    /// The capabilities the tenant granted.
    pub grants: BTreeSet<Capability>,
    /// The install's settings.
    pub config: BTreeMap<String, String>,
    /// The metrics the plugin's manifest declares.
    pub metrics: BTreeMap<String, Metric>,
    /// Bytes the install may keep in storage.
    pub storage_quota_bytes: u64,
}

impl Install {
    /// The default storage quota per install: 10 MiB.
    pub const DEFAULT_STORAGE_QUOTA: u64 = 10 << 20;

    /// An install for `tenant` that grants everything `manifest` declares,
    /// with no settings and the default storage quota.
    pub fn granting_all(tenant: &str, manifest: &spleis_registry::Manifest) -> Self {
        Self {
            tenant: tenant.to_owned(),
            plugin: manifest.name.clone(),
            grants: manifest.capabilities.clone(),
            config: BTreeMap::new(),
            metrics: manifest.metrics.clone(),
            storage_quota_bytes: Self::DEFAULT_STORAGE_QUOTA,
        }
    }

    /// The (tenant, plugin) scope its storage lives in.
    pub fn scope(&self) -> storage::Scope {
        storage::Scope {
            tenant: self.tenant.clone(),
            plugin: self.plugin.clone(),
        }
    }
}

/// The capabilities' state for one call: the install, the storage backend,
/// and what the call has produced so far (meter reports, events, log).
pub struct CallCapabilities {
    install: Arc<Install>,
    scope: storage::Scope,
    storage: Arc<dyn storage::KeyValueStore>,
    /// Meter reports by (metric, key), merged as they come.
    reports: BTreeMap<(String, Option<String>), u64>,
    /// Distinct keys of unique metrics so far, and how many may be.
    keys: u32,
    max_keys: u32,
    events: events::Outbox,
    log: log::LogSink,
}

impl CallCapabilities {
    /// Fresh state for one call of `install` under `limits`.
    pub fn new(
        install: Arc<Install>,
        storage: Arc<dyn storage::KeyValueStore>,
        limits: &Limits,
        log: log::LogSink,
    ) -> Self {
        Self {
            scope: install.scope(),
            install,
            storage,
            reports: BTreeMap::new(),
            keys: 0,
            max_keys: limits.meter_keys,
            events: events::Outbox::new(limits),
            log,
        }
    }

    fn granted(&self, capability: Capability) -> Result<(), HostError> {
        if self.install.grants.contains(&capability) {
            Ok(())
        } else {
            Err(HostError::AccessDenied)
        }
    }

    /// The tenant the call runs for.
    pub fn tenant(&self) -> &str {
        &self.install.tenant
    }

    /// Takes what the call produced: meter reports and emitted events.
    pub fn finish(self) -> (Vec<spleis_domain::MeterReport>, Vec<events::EmittedEvent>) {
        let reports = self
            .reports
            .into_iter()
            .map(|((metric, key), quantity)| spleis_domain::MeterReport {
                metric,
                quantity,
                key,
            })
            .collect();
        (reports, self.events.into_events())
    }
}

impl crate::bindings::latest::spleis::plugin::types::Host for CallCapabilities {}
