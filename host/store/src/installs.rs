//! Installs: which tenant runs which version of which plugin, with which
//! grants and settings; their history; automatic and pending upgrades.

use super::{Db, Store, StoreError, now_ms};
use serde::Serialize;
use spleis_domain::accounts::Account;
use spleis_domain::installs::{
    HistoryEntry, InstallError, InstallRecord, PendingUpgrade, UpgradeReport, capability_names,
};
use spleis_domain::registry::VersionRecord;
use spleis_registry::Capability;
use spleis_registry::resolve;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

fn missing(version: &VersionRecord, grants: &BTreeSet<Capability>) -> BTreeSet<Capability> {
    version
        .manifest
        .capabilities
        .difference(grants)
        .copied()
        .collect()
}

const INSTALL_COLUMNS: &str = "tenant, package, requirement, version, previous, grants, config, storage_quota, uninstalled_at";

fn install_from_row(row: &sqlx::any::AnyRow) -> Result<InstallRecord, StoreError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("install {what}: {e}"));
    let grants: String = row.try_get("grants")?;
    let config: String = row.try_get("config")?;
    Ok(InstallRecord {
        tenant: row.try_get("tenant")?,
        package: row.try_get("package")?,
        requirement: row.try_get("requirement")?,
        version: row.try_get("version")?,
        previous: row.try_get("previous")?,
        grants: serde_json::from_str(&grants).map_err(|e| corrupt("grants", &e))?,
        config: serde_json::from_str(&config).map_err(|e| corrupt("config", &e))?,
        storage_quota: row.try_get::<i64, _>("storage_quota")? as u64,
        active: row.try_get::<Option<i64>, _>("uninstalled_at")?.is_none(),
    })
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt(format!("cannot encode: {e}")))
}

impl Store {
    /// Installs `package` for `tenant`: resolves `requirement`, and refuses
    /// unless `grants` cover every capability the version declares.
    pub async fn install(
        &self,
        tenant: &Account,
        package: &str,
        requirement: &str,
        grants: &BTreeSet<Capability>,
        config: &BTreeMap<String, String>,
        storage_quota: u64,
    ) -> Result<InstallRecord, InstallError> {
        let version = self.resolve(package, requirement).await?;
        let lacking = missing(&version, grants);
        if !lacking.is_empty() {
            return Err(InstallError::NotGranted {
                package: package.to_owned(),
                version: version.version.to_string(),
                missing: lacking,
            });
        }
        // Only what the plugin declares is granted, whatever else was offered.
        let grants: BTreeSet<Capability> = grants
            .intersection(&version.manifest.capabilities)
            .copied()
            .collect();
        let now = now_ms();
        let mut tx = self.begin_write().await.db()?;
        // One statement decides, so two installs at once give one install
        // and one refusal: a new row, or an uninstalled one reinstalled;
        // an active row is left alone (no row changed: already installed).
        let done = sqlx::query(&format!(
            "INSERT INTO installs ({INSTALL_COLUMNS}, installed_at) VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, NULL, $8) \
             ON CONFLICT (tenant, package) DO UPDATE SET requirement = excluded.requirement, version = excluded.version, \
             previous = NULL, grants = excluded.grants, config = excluded.config, storage_quota = excluded.storage_quota, \
             installed_at = excluded.installed_at, uninstalled_at = NULL \
             WHERE installs.uninstalled_at IS NOT NULL"
        ))
        .bind(&tenant.id)
        .bind(package)
        .bind(requirement)
        .bind(version.version.to_string())
        .bind(json(&grants)?)
        .bind(json(config)?)
        .bind(storage_quota as i64)
        .bind(now)
        .execute(&mut *tx)
        .await.db()?;
        if done.rows_affected() == 0 {
            return Err(InstallError::AlreadyInstalled(package.to_owned()));
        }
        history(
            &mut tx,
            &tenant.id,
            package,
            "install",
            None,
            Some(&version.version.to_string()),
            &format!("installed with requirement {requirement}"),
        )
        .await?;
        tx.commit().await.db()?;
        // A version published while this install was being made may have
        // rolled out before this row existed: catch up now, by the
        // roll-out's own rules (upward only, under its locks).
        if let Ok(latest) = self.resolve(package, requirement).await
            && latest.version > version.version
        {
            self.apply_published(&latest).await?;
        }
        self.install_of(&tenant.id, package)
            .await?
            .ok_or_else(|| InstallError::NotInstalled(package.to_owned()))
    }

    /// The tenant's install of `package`, active or not.
    pub async fn install_of(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<Option<InstallRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INSTALL_COLUMNS} FROM installs WHERE tenant = $1 AND package = $2"
        ))
        .bind(tenant)
        .bind(package)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| install_from_row(&r)).transpose()
    }

    async fn active_install(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<InstallRecord, InstallError> {
        match self.install_of(tenant, package).await? {
            Some(install) if install.active => Ok(install),
            _ => Err(InstallError::NotInstalled(package.to_owned())),
        }
    }

    /// The tenant's active installs, by package.
    pub async fn installs_of(&self, tenant: &str) -> Result<Vec<InstallRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INSTALL_COLUMNS} FROM installs WHERE tenant = $1 AND uninstalled_at IS NULL ORDER BY package"
        ))
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(install_from_row).collect()
    }

    /// Moves an install to what `requirement` resolves to (the current
    /// requirement if `None`); pins with `=x.y.z`. `grants` adds capabilities.
    pub async fn upgrade(
        &self,
        tenant: &str,
        package: &str,
        requirement: Option<&str>,
        grants: &BTreeSet<Capability>,
    ) -> Result<InstallRecord, InstallError> {
        let install = self.active_install(tenant, package).await?;
        let requirement = requirement.unwrap_or(&install.requirement).to_owned();
        let target = self.resolve(package, &requirement).await?;
        let all: BTreeSet<Capability> = install.grants.union(grants).copied().collect();
        let lacking = missing(&target, &all);
        if !lacking.is_empty() {
            return Err(InstallError::NotGranted {
                package: package.to_owned(),
                version: target.version.to_string(),
                missing: lacking,
            });
        }
        self.move_install(
            &install,
            &requirement,
            &target.version.to_string(),
            &all,
            "upgrade",
        )
        .await?;
        self.active_install(tenant, package).await
    }

    /// Moves back to the previous version, pinning it.
    pub async fn rollback(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<InstallRecord, InstallError> {
        let install = self.active_install(tenant, package).await?;
        let previous = install
            .previous
            .clone()
            .ok_or_else(|| InstallError::NoPrevious(package.to_owned()))?;
        // The previous version may since be yanked: rollback still goes
        // there, as existing installs keep running yanked versions.
        let requirement = format!("={previous}");
        self.move_install(
            &install,
            &requirement,
            &previous,
            &install.grants,
            "rollback",
        )
        .await?;
        self.active_install(tenant, package).await
    }

    async fn move_install(
        &self,
        install: &InstallRecord,
        requirement: &str,
        version: &str,
        grants: &BTreeSet<Capability>,
        action: &str,
    ) -> Result<(), InstallError> {
        let mut tx = self.begin_write().await.db()?;
        // Moves only from the version read: had a roll-out or another
        // request moved the install meanwhile, this move (decided on what
        // it read) could take it backwards.
        let done = sqlx::query(
            "UPDATE installs SET requirement = $1, version = $2, previous = $3, grants = $4 \
             WHERE tenant = $5 AND package = $6 AND version = $7 AND uninstalled_at IS NULL",
        )
        .bind(requirement)
        .bind(version)
        .bind(&install.version)
        .bind(json(grants)?)
        .bind(&install.tenant)
        .bind(&install.package)
        .bind(&install.version)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(InstallError::Changed(install.package.clone()));
        }
        sqlx::query("DELETE FROM pending_upgrades WHERE tenant = $1 AND package = $2")
            .bind(&install.tenant)
            .bind(&install.package)
            .execute(&mut *tx)
            .await
            .db()?;
        history(
            &mut tx,
            &install.tenant,
            &install.package,
            action,
            Some(&install.version),
            Some(version),
            &format!("requirement {requirement}"),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    /// Replaces the install's settings.
    pub async fn set_config(
        &self,
        tenant: &str,
        package: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<InstallRecord, InstallError> {
        self.active_install(tenant, package).await?;
        let mut tx = self.begin_write().await.db()?;
        sqlx::query("UPDATE installs SET config = $1 WHERE tenant = $2 AND package = $3")
            .bind(json(config)?)
            .bind(tenant)
            .bind(package)
            .execute(&mut *tx)
            .await
            .db()?;
        history(
            &mut tx,
            tenant,
            package,
            "config",
            None,
            None,
            &format!("{} settings", config.len()),
        )
        .await?;
        tx.commit().await.db()?;
        self.active_install(tenant, package).await
    }

    /// Uninstalls; the plugin's storage stays for the retention period
    /// unless `purge`, which deletes it now.
    pub async fn uninstall(
        &self,
        tenant: &str,
        package: &str,
        purge: bool,
    ) -> Result<(), InstallError> {
        let install = self.active_install(tenant, package).await?;
        let mut tx = self.begin_write().await.db()?;
        sqlx::query("UPDATE installs SET uninstalled_at = $1 WHERE tenant = $2 AND package = $3")
            .bind(now_ms())
            .bind(tenant)
            .bind(package)
            .execute(&mut *tx)
            .await
            .db()?;
        if purge {
            self.purge_scope(&mut tx, tenant, package).await?;
        }
        let detail = if purge {
            "uninstalled; storage purged"
        } else {
            "uninstalled; storage kept for the retention period"
        };
        history(
            &mut tx,
            tenant,
            package,
            "uninstall",
            Some(&install.version),
            None,
            detail,
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    /// Deletes the storage of installs uninstalled before `cutoff_ms`;
    /// returns the (tenant, package) pairs that had data to delete.
    pub async fn purge_expired(&self, cutoff_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT tenant, package FROM installs WHERE uninstalled_at IS NOT NULL AND uninstalled_at < $1")
            .bind(cutoff_ms)
            .fetch_all(self.pool())
            .await?;
        let mut purged = Vec::new();
        for row in rows {
            let (tenant, package): (String, String) =
                (row.try_get("tenant")?, row.try_get("package")?);
            let mut tx = self.begin_write().await?;
            let deleted = self.purge_scope(&mut tx, &tenant, &package).await?;
            tx.commit().await?;
            if deleted > 0 {
                purged.push((tenant, package));
            }
        }
        Ok(purged)
    }

    /// The install's history, oldest first.
    pub async fn history(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, action, from_version, to_version, detail FROM install_history WHERE tenant = $1 AND package = $2 ORDER BY seq",
        )
        .bind(tenant)
        .bind(package)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: r.try_get("at")?,
                    action: r.try_get("action")?,
                    from_version: r.try_get("from_version")?,
                    to_version: r.try_get("to_version")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// After `published` lands: every active install whose requirement
    /// admits it and that runs an older version moves to it, unless it asks
    /// for capabilities not granted; those get a pending upgrade instead.
    ///
    /// Two roll-outs may run at once (two versions published together, on
    /// one node or two): the installs are read inside the one writing
    /// transaction with their rows locked (`FOR UPDATE` on PostgreSQL;
    /// SQLite's `BEGIN IMMEDIATE` is already the one writer), so each sees
    /// the version the other committed and a version never moves backwards.
    pub async fn apply_published(
        &self,
        published: &VersionRecord,
    ) -> Result<UpgradeReport, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT {INSTALL_COLUMNS} FROM installs WHERE package = $1 AND uninstalled_at IS NULL ORDER BY tenant{}",
            self.for_update()
        ))
        .bind(&published.package)
        .fetch_all(&mut *tx)
        .await?;
        let mut report = UpgradeReport::default();
        let new = published.version.to_string();
        for install in rows
            .iter()
            .map(install_from_row)
            .collect::<Result<Vec<_>, _>>()?
        {
            let admits = resolve::admits(&install.requirement, &published.version).unwrap_or(false);
            if !admits || !older(&install.version, &published.version) {
                continue;
            }
            let lacking = missing(published, &install.grants);
            if lacking.is_empty() {
                sqlx::query("UPDATE installs SET version = $1, previous = $2 WHERE tenant = $3 AND package = $4")
                    .bind(&new)
                    .bind(&install.version)
                    .bind(&install.tenant)
                    .bind(&install.package)
                    .execute(&mut *tx)
                    .await?;
                history(
                    &mut tx,
                    &install.tenant,
                    &install.package,
                    "auto-upgrade",
                    Some(&install.version),
                    Some(&new),
                    "a new version was published",
                )
                .await?;
                report.upgraded.push(install.tenant.clone());
            } else {
                sqlx::query(
                    "INSERT INTO pending_upgrades (tenant, package, version, new_capabilities, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant, package, version) DO NOTHING",
                )
                .bind(&install.tenant)
                .bind(&install.package)
                .bind(&new)
                .bind(json(&lacking)?)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                history(
                    &mut tx,
                    &install.tenant,
                    &install.package,
                    "upgrade-pending",
                    Some(&install.version),
                    Some(&new),
                    &format!("needs new capabilities: {}", capability_names(&lacking)),
                )
                .await?;
                report.pending.push(install.tenant.clone());
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    /// The tenant's pending upgrades.
    pub async fn pending_upgrades(&self, tenant: &str) -> Result<Vec<PendingUpgrade>, StoreError> {
        let rows = sqlx::query("SELECT package, version, new_capabilities FROM pending_upgrades WHERE tenant = $1 ORDER BY package, version")
            .bind(tenant)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let caps: String = r.try_get("new_capabilities")?;
                Ok(PendingUpgrade {
                    package: r.try_get("package")?,
                    version: r.try_get("version")?,
                    new_capabilities: serde_json::from_str(&caps)
                        .map_err(|e| StoreError::corrupt(format!("pending capabilities: {e}")))?,
                })
            })
            .collect()
    }

    /// Approves a pending upgrade: grants its capabilities and moves to it.
    pub async fn approve_pending(
        &self,
        tenant: &str,
        package: &str,
        version: &str,
    ) -> Result<InstallRecord, InstallError> {
        let pending = self.pending_upgrades(tenant).await?;
        let Some(p) = pending
            .iter()
            .find(|p| p.package == package && p.version == version)
        else {
            return Err(InstallError::NoPending {
                package: package.to_owned(),
                version: version.to_owned(),
            });
        };
        let install = self.active_install(tenant, package).await?;
        let grants: BTreeSet<Capability> =
            install.grants.union(&p.new_capabilities).copied().collect();
        self.move_install(&install, &install.requirement, version, &grants, "upgrade")
            .await?;
        self.active_install(tenant, package).await
    }

    /// Declines a pending upgrade: the install stays where it is.
    pub async fn decline_pending(
        &self,
        tenant: &str,
        package: &str,
        version: &str,
    ) -> Result<(), InstallError> {
        let done = sqlx::query(
            "DELETE FROM pending_upgrades WHERE tenant = $1 AND package = $2 AND version = $3",
        )
        .bind(tenant)
        .bind(package)
        .bind(version)
        .execute(self.pool())
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(InstallError::NoPending {
                package: package.to_owned(),
                version: version.to_owned(),
            });
        }
        let mut tx = self.begin_write().await.db()?;
        history(
            &mut tx,
            tenant,
            package,
            "upgrade-declined",
            None,
            Some(version),
            "the tenant declined",
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }
}

/// Whether the installed `current` version is lower than `candidate` (an
/// unreadable stored version is never moved).
fn older(current: &str, candidate: &semver::Version) -> bool {
    current
        .parse::<semver::Version>()
        .is_ok_and(|v| v < *candidate)
}

async fn history(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &str,
    package: &str,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    // Milliseconds can tie; the per-install sequence number orders events.
    sqlx::query(
        "INSERT INTO install_history (tenant, package, seq, at, action, from_version, to_version, detail) \
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7 FROM install_history WHERE tenant = $8 AND package = $9",
    )
    .bind(tenant)
    .bind(package)
    .bind(now_ms())
        .bind(action)
        .bind(from)
        .bind(to)
        .bind(detail)
        .bind(tenant)
        .bind(package)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use spleis_domain::accounts::Role;
    use spleis_domain::registry::PublishOutcome;
    use spleis_registry::Manifest;

    fn manifest(version: &str, caps: &str) -> Manifest {
        Manifest::parse(&format!(
            "name = \"acme/tool\"\nversion = \"{version}\"\noperations = [\"run\"]\ncapabilities = [{caps}]"
        ))
        .unwrap()
    }

    async fn publish(
        store: &Store,
        author: &Account,
        version: &str,
        caps: &str,
    ) -> (VersionRecord, UpgradeReport) {
        let PublishOutcome::Published(record) = store
            .publish_version(
                author,
                version.as_bytes(),
                &manifest(version, caps),
                "0.1.0",
            )
            .await
            .unwrap()
        else {
            panic!("new version");
        };
        let report = store.apply_published(&record).await.unwrap();
        (record, report)
    }

    fn caps(list: &[Capability]) -> BTreeSet<Capability> {
        list.iter().copied().collect()
    }

    /// Two versions published at once (0.1.N and 0.1.N+1) roll out at
    /// once, either order: every `^0.1` install ends on the higher, and no
    /// history entry moves backwards.
    #[tokio::test]
    async fn concurrent_rollouts_never_move_a_version_backwards() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            publish(&store, &acme, "0.1.0", "").await;
            let mut tenants = Vec::new();
            for t in 0..8 {
                let tenant = store
                    .create_account(&format!("tenant-{t}"), Role::Tenant, "T")
                    .await
                    .unwrap();
                store
                    .install(
                        &tenant,
                        "acme/tool",
                        "^0.1",
                        &caps(&[]),
                        &BTreeMap::new(),
                        0,
                    )
                    .await
                    .unwrap();
                tenants.push(tenant);
            }
            for round in 1..=10_u64 {
                let mut records = Vec::new();
                for patch in [2 * round - 1, 2 * round] {
                    let v = format!("0.1.{patch}");
                    let PublishOutcome::Published(record) = store
                        .publish_version(&acme, v.as_bytes(), &manifest(&v, ""), "0.1.0")
                        .await
                        .unwrap()
                    else {
                        panic!("new version");
                    };
                    records.push(record);
                }
                // Alternate which roll-out starts first.
                if round % 2 == 0 {
                    records.reverse();
                }
                let tasks: Vec<_> = records
                    .into_iter()
                    .map(|record| {
                        let store = store.clone();
                        tokio::spawn(async move { store.apply_published(&record).await })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap().unwrap();
                }
                let highest = format!("0.1.{}", 2 * round);
                for tenant in &tenants {
                    let install = store.install_of(&tenant.id, "acme/tool").await.unwrap();
                    assert_eq!(install.unwrap().version, highest, "round {round}");
                }
            }
            for tenant in &tenants {
                for entry in store.history(&tenant.id, "acme/tool").await.unwrap() {
                    let parse = |v: &Option<String>| {
                        v.as_deref().map(|v| v.parse::<semver::Version>().unwrap())
                    };
                    if let (Some(from), Some(to)) =
                        (parse(&entry.from_version), parse(&entry.to_version))
                    {
                        assert!(from < to, "{}: {from} → {to}", tenant.id);
                    }
                }
            }
        }
    }

    /// The same install made twenty times at once: one install, the others
    /// refused as already installed, one history entry; the same for a
    /// reinstall after an uninstall.
    #[tokio::test]
    async fn concurrent_installs_install_once() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            let tenant = store
                .create_account("tenant-a", Role::Tenant, "A")
                .await
                .unwrap();
            publish(&store, &acme, "1.0.0", "").await;
            for round in 0..10 {
                let tasks: Vec<_> = (0..20)
                    .map(|_| {
                        let (store, tenant) = (store.clone(), tenant.clone());
                        tokio::spawn(async move {
                            store
                                .install(
                                    &tenant,
                                    "acme/tool",
                                    "^1",
                                    &caps(&[]),
                                    &BTreeMap::new(),
                                    0,
                                )
                                .await
                        })
                    })
                    .collect();
                let mut installed = 0;
                for task in tasks {
                    match task.await.unwrap() {
                        Ok(_) => installed += 1,
                        Err(InstallError::AlreadyInstalled(_)) => {}
                        Err(other) => panic!("round {round}: {other}"),
                    }
                }
                assert_eq!(installed, 1, "round {round}");
                let installs = store
                    .history("tenant-a", "acme/tool")
                    .await
                    .unwrap()
                    .iter()
                    .filter(|e| e.action == "install")
                    .count();
                assert_eq!(installs, round + 1, "round {round}: one entry per install");
                store
                    .uninstall("tenant-a", "acme/tool", false)
                    .await
                    .unwrap();
            }
        }
    }

    #[tokio::test]
    async fn install_upgrade_pending_rollback_and_uninstall() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            let a = store
                .create_account("tenant-a", Role::Tenant, "A")
                .await
                .unwrap();
            let b = store
                .create_account("tenant-b", Role::Tenant, "B")
                .await
                .unwrap();
            publish(&store, &acme, "1.0.0", "\"storage\"").await;

            let refused = store
                .install(&a, "acme/tool", "^1", &caps(&[]), &BTreeMap::new(), 1000)
                .await
                .unwrap_err();
            assert_eq!(
                refused.to_string(),
                "acme/tool@1.0.0 needs the capabilities storage which were not granted; grant them to install"
            );
            let inst = store
                .install(
                    &a,
                    "acme/tool",
                    "^1",
                    &caps(&[Capability::Storage, Capability::Events]),
                    &BTreeMap::new(),
                    1000,
                )
                .await
                .unwrap();
            assert_eq!(
                inst.grants,
                caps(&[Capability::Storage]),
                "only declared capabilities are granted"
            );
            store
                .install(
                    &b,
                    "acme/tool",
                    "=1.0.0",
                    &caps(&[Capability::Storage]),
                    &BTreeMap::new(),
                    1000,
                )
                .await
                .unwrap();
            assert!(matches!(
                store
                    .install(
                        &a,
                        "acme/tool",
                        "^1",
                        &caps(&[Capability::Storage]),
                        &BTreeMap::new(),
                        1000
                    )
                    .await,
                Err(InstallError::AlreadyInstalled(_))
            ));

            // 1.1.0 asks for nothing new: A (^1) moves, B (=1.0.0) stays.
            let (_, report) = publish(&store, &acme, "1.1.0", "\"storage\"").await;
            assert_eq!(report.upgraded, ["tenant-a"]);
            assert!(report.pending.is_empty());
            assert_eq!(
                store
                    .install_of("tenant-a", "acme/tool")
                    .await
                    .unwrap()
                    .unwrap()
                    .version,
                "1.1.0"
            );
            assert_eq!(
                store
                    .install_of("tenant-b", "acme/tool")
                    .await
                    .unwrap()
                    .unwrap()
                    .version,
                "1.0.0"
            );

            // 1.2.0 asks for events: A stays on 1.1.0 with a pending upgrade.
            let (_, report) = publish(&store, &acme, "1.2.0", "\"storage\", \"events\"").await;
            assert_eq!(report.pending, ["tenant-a"]);
            let pending = store.pending_upgrades("tenant-a").await.unwrap();
            assert_eq!(
                pending,
                [PendingUpgrade {
                    package: "acme/tool".into(),
                    version: "1.2.0".into(),
                    new_capabilities: caps(&[Capability::Events])
                }]
            );
            let approved = store
                .approve_pending("tenant-a", "acme/tool", "1.2.0")
                .await
                .unwrap();
            assert_eq!(
                (approved.version.as_str(), approved.previous.as_deref()),
                ("1.2.0", Some("1.1.0"))
            );
            assert!(approved.grants.contains(&Capability::Events));
            assert!(store.pending_upgrades("tenant-a").await.unwrap().is_empty());

            // Rollback pins the previous version.
            let back = store.rollback("tenant-a", "acme/tool").await.unwrap();
            assert_eq!(
                (back.version.as_str(), back.requirement.as_str()),
                ("1.1.0", "=1.1.0")
            );
            let actions: Vec<String> = store
                .history("tenant-a", "acme/tool")
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.action)
                .collect();
            assert_eq!(
                actions,
                [
                    "install",
                    "auto-upgrade",
                    "upgrade-pending",
                    "upgrade",
                    "rollback"
                ]
            );

            // Uninstall keeps storage unless purged.
            store
                .kv_set("tenant-a", "acme/tool", "k", b"v", 100)
                .await
                .unwrap()
                .unwrap();
            store
                .uninstall("tenant-a", "acme/tool", false)
                .await
                .unwrap();
            assert!(store.installs_of("tenant-a").await.unwrap().is_empty());
            assert!(matches!(
                store.uninstall("tenant-a", "acme/tool", false).await,
                Err(InstallError::NotInstalled(_))
            ));
            assert_eq!(
                store.purge_expired(i64::MAX).await.unwrap(),
                [("tenant-a".to_owned(), "acme/tool".to_owned())]
            );
        }
    }
}
