//! A tenant's installs: install, upgrade, pin, roll back, configure,
//! uninstall, and approve or decline the upgrades a publish left pending.
//!
//! Only tenants install, and every operation here acts on the actor's own
//! installs. Each change forgets the cached install it changed, so the
//! tenant's next call on this node runs the new state.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::accounts::{Account, Role};
use spleis_domain::installs::{HistoryEntry, InstallRecord, PendingUpgrade};
use spleis_registry::Capability;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// An install and its history, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InstallDetail {
    /// The install.
    pub install: InstallRecord,
    /// What happened to it.
    pub history: Vec<HistoryEntry>,
}

/// What a tenant asks for when it installs a package.
#[derive(Clone, Debug, Default)]
pub struct InstallRequest {
    /// `namespace/name`.
    pub package: String,
    /// A version requirement (`^1.2`, `=1.0.0`); default: any version.
    pub requirement: Option<String>,
    /// The capabilities granted; they must cover what the version declares.
    pub grants: BTreeSet<Capability>,
    /// The install's settings.
    pub config: BTreeMap<String, String>,
    /// Bytes of storage the install may use, at most the tenant's storage
    /// limit (the operator's); default: the limit.
    pub storage_quota_bytes: Option<u64>,
}

/// The actor as a tenant: only tenants install and call plugins.
fn tenant(actor: &Actor) -> Result<&Account, Error> {
    Ok(actor.require(&[Role::Tenant])?)
}

impl Platform {
    /// The tenant installs the highest version matching the requirement.
    pub async fn install(
        &self,
        actor: &Actor,
        request: &InstallRequest,
    ) -> Result<InstallRecord, Error> {
        let tenant = tenant(actor)?;
        let limit = self.limits_of(&tenant.id).await?.storage_quota_bytes;
        // A tenant may keep an install below its limit, never above: the
        // limit is the operator's. Without a quota of its own, an install
        // follows the limit as the operator changes it.
        let quota = match request.storage_quota_bytes {
            Some(asked) if asked > limit => {
                return Err(Error::Invalid(format!(
                    "`storage_quota_bytes` may be at most {limit}, this tenant's storage limit (set by the operator), not {asked}"
                )));
            }
            Some(asked) => asked,
            None => crate::limits::MAX_STORAGE_QUOTA,
        };
        let record = self
            .store
            .install(
                tenant,
                &request.package,
                request.requirement.as_deref().unwrap_or("*"),
                &request.grants,
                &request.config,
                quota,
            )
            .await?;
        // A failed call may have cached "not installed"; a catch-up with a
        // version published meanwhile may have moved other installs too.
        self.forget_package(&request.package);
        self.as_seen(record).await
    }

    /// The tenant's active installs, by package.
    pub async fn installs(&self, actor: &Actor) -> Result<Vec<InstallRecord>, Error> {
        let tenant = tenant(actor)?;
        let limit = self.limits_of(&tenant.id).await?.storage_quota_bytes;
        let installs = self.store.installs_of(&tenant.id).await?;
        Ok(installs
            .into_iter()
            .map(|install| under_limit(install, limit))
            .collect())
    }

    /// An install as its tenant sees it (see [`under_limit`]).
    async fn as_seen(&self, install: InstallRecord) -> Result<InstallRecord, Error> {
        let limit = self.limits_of(&install.tenant).await?.storage_quota_bytes;
        Ok(under_limit(install, limit))
    }

    /// The tenant's install of `package` (active or uninstalled) with its
    /// history.
    pub async fn install_detail(
        &self,
        actor: &Actor,
        package: &str,
    ) -> Result<InstallDetail, Error> {
        let tenant = tenant(actor)?;
        let install = self
            .store
            .install_of(&tenant.id, package)
            .await?
            .ok_or_else(|| Error::NotInstalled(package.to_owned()))?;
        let history = self.store.history(&tenant.id, package).await?;
        let install = self.as_seen(install).await?;
        Ok(InstallDetail { install, history })
    }

    /// The tenant upgrades its install: to the highest version matching a
    /// new requirement (`=x.y.z` pins) or else its current one, granting
    /// `grants` in addition to what it granted before.
    pub async fn upgrade(
        &self,
        actor: &Actor,
        package: &str,
        requirement: Option<&str>,
        grants: &BTreeSet<Capability>,
    ) -> Result<InstallRecord, Error> {
        let tenant = tenant(actor)?;
        let record = self
            .store
            .upgrade(&tenant.id, package, requirement, grants)
            .await?;
        self.forget_install(&tenant.id, package);
        self.as_seen(record).await
    }

    /// The tenant rolls its install back to the version it ran before,
    /// pinned.
    pub async fn rollback(&self, actor: &Actor, package: &str) -> Result<InstallRecord, Error> {
        let tenant = tenant(actor)?;
        let record = self.store.rollback(&tenant.id, package).await?;
        self.forget_install(&tenant.id, package);
        self.as_seen(record).await
    }

    /// The tenant replaces its install's settings.
    pub async fn set_config(
        &self,
        actor: &Actor,
        package: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<InstallRecord, Error> {
        let tenant = tenant(actor)?;
        let record = self.store.set_config(&tenant.id, package, config).await?;
        self.forget_install(&tenant.id, package);
        self.as_seen(record).await
    }

    /// The tenant uninstalls; its plugin storage is kept for the retention
    /// period, or deleted now with `purge`.
    pub async fn uninstall(&self, actor: &Actor, package: &str, purge: bool) -> Result<(), Error> {
        let tenant = tenant(actor)?;
        self.store.uninstall(&tenant.id, package, purge).await?;
        self.forget_install(&tenant.id, package);
        Ok(())
    }

    /// The tenant's upgrades waiting for it to grant new capabilities.
    pub async fn pending_upgrades(&self, actor: &Actor) -> Result<Vec<PendingUpgrade>, Error> {
        let tenant = tenant(actor)?;
        Ok(self.store.pending_upgrades(&tenant.id).await?)
    }

    /// The tenant approves a pending upgrade, granting what it asks for.
    pub async fn approve_upgrade(
        &self,
        actor: &Actor,
        package: &str,
        version: &str,
    ) -> Result<InstallRecord, Error> {
        let tenant = tenant(actor)?;
        let record = self
            .store
            .approve_pending(&tenant.id, package, version)
            .await?;
        self.forget_install(&tenant.id, package);
        self.as_seen(record).await
    }

    /// The tenant declines a pending upgrade; the install stays where it is.
    pub async fn decline_upgrade(
        &self,
        actor: &Actor,
        package: &str,
        version: &str,
    ) -> Result<(), Error> {
        let tenant = tenant(actor)?;
        self.store
            .decline_pending(&tenant.id, package, version)
            .await?;
        Ok(())
    }
}

/// The storage quota that applies to an install: its own or the tenant's
/// storage `limit`, whichever is lower (an install without a quota of its
/// own follows the limit, stored as the largest quota).
pub(crate) fn quota_that_applies(install: &InstallRecord, limit: u64) -> u64 {
    install.storage_quota.min(limit)
}

/// The install with the quota that applies in place of its own.
fn under_limit(mut install: InstallRecord, limit: u64) -> InstallRecord {
    install.storage_quota = quota_that_applies(&install, limit);
    install
}
