//! The registry's operations: publishing a component (checked by the
//! runtime, stored by the registry, rolled out to installs), yanking a
//! version, adding a namespace owner, and reading the catalog.
//!
//! Authors and the operator publish, yank and add owners; the store checks
//! that the actor owns the namespace. Anyone signed in reads the catalog.

use crate::failures::{MAX_COMPONENT_BYTES, PublishError};
use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::DatabaseError;
use spleis_domain::accounts::Role;
use spleis_domain::installs::UpgradeReport;
use spleis_domain::registry::{PackageSummary, PublishOutcome, RegistryError, VersionRecord};
use spleis_registry::Manifest;
use spleis_runtime::LoadedPlugin;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Who may publish, yank and add owners (within the namespaces they own).
const PUBLISHERS: [Role; 2] = [Role::Author, Role::Operator];

/// What a publish did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Published {
    /// The version.
    pub version: VersionRecord,
    /// Whether it was new (false: the same bytes were already published).
    pub created: bool,
    /// Installs moved or left pending.
    pub upgrades: UpgradeReport,
}

/// A package: its namespace's owners and its versions, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PackageDetail {
    /// `namespace/name`.
    pub name: String,
    /// The accounts that own its namespace.
    pub owners: Vec<String>,
    /// Every published version, yanked ones included.
    pub versions: Vec<VersionRecord>,
}

impl Platform {
    /// An author (or the operator) publishes `bytes` into a namespace it
    /// owns (a new namespace becomes its own), with `manifest_text` or else the manifest the SDK embedded;
    /// installs that accept the new version move to it, the others get a
    /// pending upgrade (and a notification), and cached installs of the
    /// package are forgotten.
    pub async fn publish(
        &self,
        actor: &Actor,
        bytes: Vec<u8>,
        manifest_text: Option<&str>,
    ) -> Result<Published, Error> {
        let publisher = actor.require(&PUBLISHERS)?;
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(PublishError::TooLarge {
                size: bytes.len(),
                max: MAX_COMPONENT_BYTES,
            }
            .into());
        }
        let loaded = self.load(bytes.clone()).await.map_err(|e| {
            PublishError::Database(DatabaseError::Corrupt(format!(
                "the compile task died: {e}"
            )))
        })?;
        let loaded = loaded.map_err(PublishError::from)?;
        let manifest = choose_manifest(&loaded, manifest_text)?;
        if let Some(cap) = loaded
            .shape
            .capabilities
            .iter()
            .find(|c| !manifest.capabilities.contains(c))
        {
            return Err(PublishError::UndeclaredCapability(cap.to_string()).into());
        }
        let outcome = self
            .store
            .publish_version(publisher, &bytes, &manifest, &loaded.shape.contract_version)
            .await
            .map_err(PublishError::from)?;
        let (version, created, upgrades) = match outcome {
            PublishOutcome::Published(version) => {
                self.metrics.publish();
                let report = self
                    .store
                    .apply_published(&version)
                    .await
                    .map_err(PublishError::from)?;
                self.forget_package(&version.package);
                self.notify_pending_upgrades(&version, &report.pending)
                    .await;
                (version, true, report)
            }
            PublishOutcome::Unchanged(version) => (version, false, UpgradeReport::default()),
        };
        tracing::info!(package = %version.package, version = %version.version, created, upgraded = upgrades.upgraded.len(), pending = upgrades.pending.len(), "published");
        Ok(Published {
            version,
            created,
            upgrades,
        })
    }

    /// The catalog, optionally filtered by words in the name or description;
    /// anyone signed in.
    pub async fn catalog(
        &self,
        _actor: &Actor,
        query: Option<&str>,
    ) -> Result<Vec<PackageSummary>, Error> {
        Ok(self.store.catalog(query).await?)
    }

    /// A package (`namespace/name`) with its owners and versions; anyone
    /// signed in.
    pub async fn package(&self, _actor: &Actor, package: &str) -> Result<PackageDetail, Error> {
        let namespace = package.split_once('/').map_or(package, |(ns, _)| ns);
        let versions = self.store.versions(package).await?;
        let owners = self.store.owners(namespace).await?;
        Ok(PackageDetail {
            name: package.to_owned(),
            owners,
            versions,
        })
    }

    /// An owner of the package's namespace (an author or the operator)
    /// yanks a version, or takes the yank back: a requirement no longer
    /// resolves to a yanked version.
    pub async fn set_yanked(
        &self,
        actor: &Actor,
        package: &str,
        version: &str,
        yanked: bool,
    ) -> Result<(), Error> {
        let by = actor.require(&PUBLISHERS)?;
        let version: semver::Version = version
            .parse()
            .map_err(|e| Error::Invalid(format!("`{version}` is not a version: {e}")))?;
        self.store.set_yanked(by, package, &version, yanked).await?;
        // The cached install carries the version record, yanked flag included.
        self.forget_package(package);
        Ok(())
    }

    /// An owner of `namespace` (an author or the operator) makes `account`
    /// an owner too.
    pub async fn add_owner(
        &self,
        actor: &Actor,
        namespace: &str,
        account: &str,
    ) -> Result<(), Error> {
        let by = actor.require(&PUBLISHERS)?;
        self.store.add_owner(by, namespace, account).await?;
        Ok(())
    }

    /// For each namespace of `plugins`: whether `actor` owns it.
    pub(crate) async fn namespaces_owned<'a>(
        &self,
        actor: &Actor,
        plugins: impl Iterator<Item = &'a str>,
    ) -> Result<BTreeMap<String, bool>, Error> {
        let mut owned = BTreeMap::new();
        for plugin in plugins {
            let namespace = spleis_domain::registry::namespace_of(plugin);
            if owned.contains_key(namespace) {
                continue;
            }
            let owns = match self.store.owners(namespace).await {
                Ok(owners) => owners.iter().any(|o| o == actor.id()),
                Err(RegistryError::UnknownNamespace(_)) => false,
                Err(e) => return Err(e.into()),
            };
            owned.insert(namespace.to_owned(), owns);
        }
        Ok(owned)
    }
}

/// The manifest to publish: the one sent (checked against the embedded
/// one's name and version) or the embedded one.
fn choose_manifest(loaded: &LoadedPlugin, sent: Option<&str>) -> Result<Manifest, PublishError> {
    match (sent, &loaded.manifest) {
        (None, None) => Err(PublishError::NoManifest),
        (None, Some(embedded)) => Ok(embedded.clone()),
        (Some(text), embedded) => {
            // A crate's Cargo.toml may inherit its version from a workspace;
            // the SDK embedded the resolved one.
            let version = embedded.as_ref().map(|m| m.version.to_string());
            let manifest = Manifest::parse_with_version(text, version.as_deref())?;
            if let Some(embedded) = embedded
                && (embedded.name != manifest.name || embedded.version != manifest.version)
            {
                return Err(PublishError::ManifestMismatch {
                    sent: format!("{}@{}", manifest.name, manifest.version),
                    embedded: format!("{}@{}", embedded.name, embedded.version),
                });
            }
            Ok(manifest)
        }
    }
}
