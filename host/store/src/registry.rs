//! The registry's tables: namespaces and their owners, packages, immutable
//! versions, and content-addressed blobs.

use super::{Db, Store, StoreError, now_ms};
use spleis_domain::accounts::Account;
use spleis_domain::registry::{
    PackageSummary, PublishOutcome, RegistryError, VersionRecord, namespace_of,
};
use spleis_registry::resolve::{self, Published};
use spleis_registry::{Digest, Manifest};
use sqlx::Row;

const VERSION_COLUMNS: &str =
    "package, version, digest, manifest, contract, yanked, published_by, published_at";

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<VersionRecord, StoreError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("{what}: {e}"));
    let version: String = row.try_get("version")?;
    let digest: String = row.try_get("digest")?;
    let manifest: String = row.try_get("manifest")?;
    Ok(VersionRecord {
        package: row.try_get("package")?,
        version: version.parse().map_err(|e| corrupt("version", &e))?,
        digest: digest.parse().map_err(|e| corrupt("digest", &e))?,
        manifest: serde_json::from_str(&manifest).map_err(|e| corrupt("manifest", &e))?,
        contract: row.try_get("contract")?,
        yanked: row.try_get::<i64, _>("yanked")? != 0,
        published_by: row.try_get("published_by")?,
        published_at: row.try_get("published_at")?,
    })
}

impl Store {
    /// Publishes `bytes` as `manifest.name@manifest.version`, already checked
    /// by the runtime. The first publisher into a namespace becomes its
    /// owner; after that only owners publish into it. Publishing the same
    /// bytes again is a no-op; other bytes under the same version are
    /// refused.
    pub async fn publish_version(
        &self,
        publisher: &Account,
        bytes: &[u8],
        manifest: &Manifest,
        contract: &str,
    ) -> Result<PublishOutcome, RegistryError> {
        let package = manifest.name.as_str();
        let namespace = namespace_of(package);
        let digest = Digest::of(bytes);
        let now = now_ms();
        let manifest_json = serde_json::to_string(manifest)
            .map_err(|e| StoreError::corrupt(format!("cannot encode the manifest: {e}")))?;
        let mut tx = self.begin_write().await.db()?;

        let claimed = sqlx::query("INSERT INTO namespaces (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(namespace)
            .bind(now)
            .execute(&mut *tx)
            .await.db()?;
        if claimed.rows_affected() == 1 {
            sqlx::query("INSERT INTO namespace_owners (namespace, account_id, added_at) VALUES ($1, $2, $3)")
                .bind(namespace)
                .bind(&publisher.id)
                .bind(now)
                .execute(&mut *tx)
                .await.db()?;
        } else {
            let owner = sqlx::query(
                "SELECT 1 AS one FROM namespace_owners WHERE namespace = $1 AND account_id = $2",
            )
            .bind(namespace)
            .bind(&publisher.id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            if owner.is_none() {
                return Err(RegistryError::NotOwner {
                    namespace: namespace.to_owned(),
                    account: publisher.id.clone(),
                });
            }
        }

        let existing = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE package = $1 AND version = $2"
        ))
        .bind(package)
        .bind(manifest.version.to_string())
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if let Some(row) = existing {
            return already_published(version_from_row(&row)?, digest);
        }

        sqlx::query(
            "INSERT INTO packages (name, namespace, description, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET description = excluded.description",
        )
        .bind(package)
        .bind(namespace)
        .bind(&manifest.description)
        .bind(now)
        .execute(&mut *tx)
        .await.db()?;
        sqlx::query(
            "INSERT INTO blobs (digest, bytes, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest.to_string())
        .bind(bytes.to_vec())
        .bind(bytes.len() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await.db()?;
        // A concurrent publisher of the same version may have committed
        // since the read above (PostgreSQL reads committed data only): the
        // unique key decides, and the loser answers from the winner's row.
        let inserted = sqlx::query(&format!(
            "INSERT INTO versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (package, version) DO NOTHING"
        ))
        .bind(package)
        .bind(manifest.version.to_string())
        .bind(digest.to_string())
        .bind(&manifest_json)
        .bind(contract)
        .bind(0_i64)
        .bind(&publisher.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        if inserted.rows_affected() == 0 {
            drop(tx);
            let record = self.version(package, &manifest.version.to_string()).await?;
            return already_published(record, digest);
        }
        tx.commit().await.db()?;
        Ok(PublishOutcome::Published(VersionRecord {
            package: package.to_owned(),
            version: manifest.version.clone(),
            digest,
            manifest: manifest.clone(),
            contract: contract.to_owned(),
            yanked: false,
            published_by: publisher.id.clone(),
            published_at: now,
        }))
    }

    /// Every version of `package`, lowest first.
    pub async fn versions(&self, package: &str) -> Result<Vec<VersionRecord>, RegistryError> {
        let rows = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE package = $1"
        ))
        .bind(package)
        .fetch_all(self.pool())
        .await
        .db()?;
        if rows.is_empty() {
            return Err(RegistryError::UnknownPackage(package.to_owned()));
        }
        let mut versions = rows
            .iter()
            .map(version_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(versions)
    }

    /// One version of `package`.
    pub async fn version(
        &self,
        package: &str,
        version: &str,
    ) -> Result<VersionRecord, RegistryError> {
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE package = $1 AND version = $2"
        ))
        .bind(package)
        .bind(version)
        .fetch_optional(self.pool())
        .await
        .db()?
        .ok_or_else(|| RegistryError::UnknownVersion {
            package: package.to_owned(),
            version: version.to_owned(),
        })?;
        Ok(version_from_row(&row)?)
    }

    /// The highest non-yanked version of `package` that `requirement` admits.
    pub async fn resolve(
        &self,
        package: &str,
        requirement: &str,
    ) -> Result<VersionRecord, RegistryError> {
        let versions = self.versions(package).await?;
        let published: Vec<Published> = versions
            .iter()
            .map(|v| Published {
                version: v.version.clone(),
                yanked: v.yanked,
            })
            .collect();
        let chosen =
            resolve::resolve(requirement, &published).map_err(|source| RegistryError::Resolve {
                package: package.to_owned(),
                source,
            })?;
        versions
            .into_iter()
            .find(|v| v.version == chosen)
            .ok_or_else(|| RegistryError::UnknownPackage(package.to_owned()))
    }

    /// Yanks (or un-yanks) a version; only the namespace's owners may.
    pub async fn set_yanked(
        &self,
        by: &Account,
        package: &str,
        version: &semver::Version,
        yanked: bool,
    ) -> Result<(), RegistryError> {
        self.require_owner(by, namespace_of(package)).await?;
        let done =
            sqlx::query("UPDATE versions SET yanked = $1 WHERE package = $2 AND version = $3")
                .bind(i64::from(yanked))
                .bind(package)
                .bind(version.to_string())
                .execute(self.pool())
                .await
                .db()?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::UnknownVersion {
                package: package.to_owned(),
                version: version.to_string(),
            });
        }
        Ok(())
    }

    /// The owners of `namespace`.
    pub async fn owners(&self, namespace: &str) -> Result<Vec<String>, RegistryError> {
        let rows = sqlx::query(
            "SELECT account_id FROM namespace_owners WHERE namespace = $1 ORDER BY account_id",
        )
        .bind(namespace)
        .fetch_all(self.pool())
        .await
        .db()?;
        if rows.is_empty() {
            return Err(RegistryError::UnknownNamespace(namespace.to_owned()));
        }
        rows.iter()
            .map(|r| r.try_get("account_id").db().map_err(RegistryError::from))
            .collect()
    }

    async fn require_owner(&self, by: &Account, namespace: &str) -> Result<(), RegistryError> {
        if self.owners(namespace).await?.contains(&by.id) {
            Ok(())
        } else {
            Err(RegistryError::NotOwner {
                namespace: namespace.to_owned(),
                account: by.id.clone(),
            })
        }
    }

    /// Adds `new_owner` to `namespace`; only an owner may.
    pub async fn add_owner(
        &self,
        by: &Account,
        namespace: &str,
        new_owner: &str,
    ) -> Result<(), RegistryError> {
        self.require_owner(by, namespace).await?;
        if self.account(new_owner).await?.is_none() {
            return Err(RegistryError::UnknownAccount(new_owner.to_owned()));
        }
        sqlx::query(
            "INSERT INTO namespace_owners (namespace, account_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (namespace, account_id) DO NOTHING",
        )
        .bind(namespace)
        .bind(new_owner)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    /// Packages whose name or description contains `query` (all without one),
    /// by name.
    pub async fn catalog(&self, query: Option<&str>) -> Result<Vec<PackageSummary>, RegistryError> {
        let pattern = format!("%{}%", query.unwrap_or("").to_lowercase());
        let rows = sqlx::query(
            "SELECT name, description FROM packages WHERE LOWER(name) LIKE $1 OR LOWER(description) LIKE $2 ORDER BY name",
        )
        .bind(&pattern)
        .bind(&pattern)
        .fetch_all(self.pool())
        .await.db()?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.try_get("name").db()?;
            let latest = self
                .resolve(&name, "*")
                .await
                .ok()
                .map(|v| v.version.to_string());
            out.push(PackageSummary {
                description: row.try_get("description").db()?,
                name,
                latest,
            });
        }
        Ok(out)
    }

    /// The bytes of `digest`, re-hashed on every read: a mismatch is an
    /// error, never a plugin run.
    pub async fn blob(&self, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let row = sqlx::query("SELECT bytes FROM blobs WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(self.pool())
            .await
            .db()?
            .ok_or_else(|| StoreError::corrupt(format!("the blob {digest} is missing")))?;
        let bytes: Vec<u8> = row.try_get("bytes").db()?;
        if !digest.matches(&bytes) {
            tracing::error!(%digest, "stored blob does not match its digest");
            return Err(RegistryError::Integrity(*digest));
        }
        Ok(bytes)
    }
}

/// Publishing a version that exists: the same bytes are the documented
/// no-op, other bytes are refused (a published version is immutable).
fn already_published(
    record: VersionRecord,
    digest: Digest,
) -> Result<PublishOutcome, RegistryError> {
    if record.digest == digest {
        Ok(PublishOutcome::Unchanged(record))
    } else {
        Err(RegistryError::VersionExists {
            package: record.package.clone(),
            version: record.version.to_string(),
            existing: record.digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use spleis_domain::accounts::Role;

    fn manifest(name: &str, version: &str) -> Manifest {
        Manifest::parse(&format!(
            "name = \"{name}\"\nversion = \"{version}\"\noperations = [\"run\"]\ndescription = \"does {name}\""
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn publishing_is_immutable_idempotent_and_owned() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            let evil = store
                .create_account("evil", Role::Author, "Evil")
                .await
                .unwrap();
            let m = manifest("acme/tool", "1.0.0");

            assert!(matches!(
                store
                    .publish_version(&acme, b"v1", &m, "0.1.0")
                    .await
                    .unwrap(),
                PublishOutcome::Published(_)
            ));
            assert!(matches!(
                store
                    .publish_version(&acme, b"v1", &m, "0.1.0")
                    .await
                    .unwrap(),
                PublishOutcome::Unchanged(_)
            ));
            let err = store
                .publish_version(&acme, b"other", &m, "0.1.0")
                .await
                .unwrap_err();
            assert!(matches!(err, RegistryError::VersionExists { .. }), "{err}");
            let err = store
                .publish_version(&evil, b"x", &manifest("acme/evil", "1.0.0"), "0.1.0")
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "`evil` is not an owner of the namespace `acme`"
            );

            store.add_owner(&acme, "acme", "evil").await.unwrap();
            store
                .publish_version(&evil, b"x", &manifest("acme/evil", "1.0.0"), "0.1.0")
                .await
                .unwrap();
            assert_eq!(store.owners("acme").await.unwrap(), ["acme", "evil"]);
            assert!(matches!(
                store.add_owner(&acme, "acme", "ghost").await,
                Err(RegistryError::UnknownAccount(_))
            ));
        }
    }

    /// Twenty publishers of the same bytes at once: one publishes, the
    /// others answer "unchanged"; other bytes under the version are refused.
    #[tokio::test]
    async fn concurrent_publishes_of_the_same_bytes_publish_once() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            for round in 0..10 {
                let m = manifest(&format!("acme/race-{round}"), "1.0.0");
                let tasks: Vec<_> = (0..20)
                    .map(|i| {
                        let (store, acme, m) = (store.clone(), acme.clone(), m.clone());
                        // One in ten sends other bytes: refused, never a 500.
                        let bytes: &[u8] = if i == 7 { b"other" } else { b"same" };
                        tokio::spawn(async move {
                            store.publish_version(&acme, bytes, &m, "0.1.0").await
                        })
                    })
                    .collect();
                let (mut published, mut unchanged, mut refused) = (0, 0, 0);
                for task in tasks {
                    match task.await.unwrap() {
                        Ok(PublishOutcome::Published(_)) => published += 1,
                        Ok(PublishOutcome::Unchanged(_)) => unchanged += 1,
                        Err(RegistryError::VersionExists { .. }) => refused += 1,
                        Err(other) => panic!("round {round}: {other}"),
                    }
                }
                assert_eq!(published, 1, "round {round}");
                assert_eq!(published + unchanged + refused, 20, "round {round}");
                let stored = store.version(&m.name, "1.0.0").await.unwrap();
                let winner_is_other = stored.digest == Digest::of(b"other");
                assert_eq!(
                    (refused, unchanged),
                    if winner_is_other { (19, 0) } else { (1, 18) },
                    "round {round}"
                );
            }
        }
    }

    #[tokio::test]
    async fn resolution_skips_yanked_versions() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            for (v, bytes) in [("1.0.0", b"a"), ("1.1.0", b"b"), ("2.0.0", b"c")] {
                store
                    .publish_version(&acme, bytes, &manifest("acme/tool", v), "0.1.0")
                    .await
                    .unwrap();
            }
            assert_eq!(
                store
                    .resolve("acme/tool", "^1")
                    .await
                    .unwrap()
                    .version
                    .to_string(),
                "1.1.0"
            );
            store
                .set_yanked(&acme, "acme/tool", &"1.1.0".parse().unwrap(), true)
                .await
                .unwrap();
            assert_eq!(
                store
                    .resolve("acme/tool", "^1")
                    .await
                    .unwrap()
                    .version
                    .to_string(),
                "1.0.0"
            );
            assert!(store.versions("acme/tool").await.unwrap()[1].yanked);
            assert!(matches!(
                store.resolve("acme/tool", "^3").await,
                Err(RegistryError::Resolve { .. })
            ));
            assert!(matches!(
                store.resolve("acme/none", "*").await,
                Err(RegistryError::UnknownPackage(_))
            ));
            let catalog = store.catalog(Some("TOOL")).await.unwrap();
            assert_eq!(catalog[0].latest.as_deref(), Some("2.0.0"));
            assert!(
                store
                    .catalog(Some("nothing-like-it"))
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn an_altered_blob_is_detected() {
        for (store, _guard) in testing::all().await {
            let acme = store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            let PublishOutcome::Published(v) = store
                .publish_version(&acme, b"good", &manifest("acme/tool", "1.0.0"), "0.1.0")
                .await
                .unwrap()
            else {
                panic!("published");
            };
            assert_eq!(store.blob(&v.digest).await.unwrap(), b"good");
            sqlx::query("UPDATE blobs SET bytes = $1")
                .bind(b"evil".to_vec())
                .execute(store.pool())
                .await
                .unwrap();
            assert!(matches!(
                store.blob(&v.digest).await,
                Err(RegistryError::Integrity(_))
            ));
        }
    }
}
