//! Installs: which tenant runs which version of which plugin, with which
//! grants and settings; their history; upgrades waiting for grants.

use crate::registry::RegistryError;
use serde::{Deserialize, Serialize};
use spleis_registry::Capability;
use std::collections::{BTreeMap, BTreeSet};

/// One tenant's install of one package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstallRecord {
    /// The tenant.
    pub tenant: String,
    /// `namespace/name`.
    pub package: String,
    /// The version requirement the tenant accepted (`^1.2`, `=1.0.0`, …).
    pub requirement: String,
    /// The version it runs.
    pub version: String,
    /// The version it ran before the last change, for rollback.
    pub previous: Option<String>,
    /// The capabilities granted.
    pub grants: BTreeSet<Capability>,
    /// The install's settings.
    pub config: BTreeMap<String, String>,
    /// Bytes of storage it may use. As stored, an install that follows its
    /// tenant's storage limit has the largest quota; the platform shows the
    /// quota that applies.
    pub storage_quota: u64,
    /// Whether it is installed (not uninstalled).
    pub active: bool,
}

/// An entry of an install's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// When, unix milliseconds.
    pub at: i64,
    /// `install`, `upgrade`, `auto-upgrade`, `upgrade-pending`, `rollback`,
    /// `uninstall`, `config`.
    pub action: String,
    /// The version before.
    pub from_version: Option<String>,
    /// The version after.
    pub to_version: Option<String>,
    /// Words for people.
    pub detail: String,
}

/// A version waiting for the tenant to grant new capabilities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PendingUpgrade {
    /// `namespace/name`.
    pub package: String,
    /// The version waiting.
    pub version: String,
    /// The capabilities it asks for that are not granted.
    pub new_capabilities: BTreeSet<Capability>,
}

/// What a publish did to existing installs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpgradeReport {
    /// Tenants moved to the new version.
    pub upgraded: Vec<String>,
    /// Tenants left on their version with a pending upgrade.
    pub pending: Vec<String>,
}

/// Why an install operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The plugin needs capabilities the tenant did not grant.
    #[error("{package}@{version} needs the capabilities {} which were not granted; grant them to install", capability_names(.missing))]
    NotGranted {
        /// The package.
        package: String,
        /// The version.
        version: String,
        /// What is missing.
        missing: BTreeSet<Capability>,
    },
    /// Already installed.
    #[error("`{0}` is already installed; upgrade it instead")]
    AlreadyInstalled(String),
    /// Not installed.
    #[error("`{0}` is not installed")]
    NotInstalled(String),
    /// The install changed (another request moved, uninstalled or upgraded
    /// it) between reading it and moving it; nothing was changed.
    #[error("`{0}` changed while this request ran; read it again and retry")]
    Changed(String),
    /// Nothing to roll back to.
    #[error("`{0}` has no previous version to roll back to")]
    NoPrevious(String),
    /// No such pending upgrade.
    #[error("no pending upgrade of `{package}` to {version}")]
    NoPending {
        /// The package.
        package: String,
        /// The version.
        version: String,
    },
    /// Resolution or the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// The capabilities' names, comma-separated, for messages.
pub fn capability_names(caps: &BTreeSet<Capability>) -> String {
    caps.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
}

impl From<crate::DatabaseError> for InstallError {
    fn from(e: crate::DatabaseError) -> Self {
        InstallError::Registry(RegistryError::Database(e))
    }
}
