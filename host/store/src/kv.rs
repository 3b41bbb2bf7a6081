//! Plugin storage: one key-value space per (tenant, plugin), under a byte
//! quota. The platform bridges it to the sandbox's storage capability.

use super::{Store, StoreError};
use spleis_domain::DatabaseError;
use sqlx::Row;

/// The most keys one listing returns.
pub const MAX_LIST: u32 = 1000;

/// A write that would pass the scope's quota; nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("storage quota exceeded: {used} of {quota} bytes used, the write needs {needed} more")]
pub struct QuotaExceeded {
    /// Bytes stored before the write.
    pub used: u64,
    /// The quota.
    pub quota: u64,
    /// Bytes the write would add.
    pub needed: u64,
}

impl Store {
    /// The value under `key` in the scope.
    pub async fn kv_get(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
                .bind(tenant)
                .bind(plugin)
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Sets `key` unless the scope would then hold more than `quota` bytes;
    /// `Ok(Err(..))` carries the refusal. The check reads the scope's
    /// running total: its cost does not grow with what the scope holds.
    pub async fn kv_set(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<Result<(), QuotaExceeded>, StoreError> {
        let size = i64::try_from(key.len() + value.len()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        self.lock_scope(&mut tx, tenant, plugin).await?;
        // A node whose cache still has the install (for up to its TTL) must
        // not write into a scope another node uninstalled and purged: the
        // write would survive the purge and reappear on a reinstall. The
        // purge holds the scope's lock, so this sees it once it committed.
        let uninstalled: Option<Option<i64>> =
            sqlx::query("SELECT uninstalled_at FROM installs WHERE tenant = $1 AND package = $2")
                .bind(tenant)
                .bind(plugin)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("uninstalled_at"))
                .transpose()?;
        if let Some(Some(_)) = uninstalled {
            return Err(DatabaseError::Uninstalled(format!("{tenant}/{plugin}")).into());
        }
        let used = scope_bytes(&mut *tx, tenant, plugin).await?;
        let old: i64 =
            sqlx::query("SELECT size FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
                .bind(tenant)
                .bind(plugin)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("size"))
                .transpose()?
                .unwrap_or(0);
        let after = used.saturating_sub(old).saturating_add(size);
        if size > old && u64::try_from(after).unwrap_or(u64::MAX) > quota {
            return Ok(Err(QuotaExceeded {
                used: u64::try_from(used).unwrap_or(0),
                quota,
                needed: u64::try_from(size - old).unwrap_or(0),
            }));
        }
        sqlx::query(
            "INSERT INTO kv (tenant, plugin, key, value, size) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value, size = excluded.size",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(key)
        .bind(value.to_vec())
        .bind(size)
        .execute(&mut *tx)
        .await?;
        add_scope_bytes(&mut tx, tenant, plugin, size - old).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes `key`; whether it existed.
    pub async fn kv_delete(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        self.lock_scope(&mut tx, tenant, plugin).await?;
        let removed = sqlx::query(
            "DELETE FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3 RETURNING size",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = removed else {
            return Ok(false);
        };
        let size: i64 = row.try_get("size")?;
        add_scope_bytes(&mut tx, tenant, plugin, -size).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Keys with `prefix`, ascending, after `start_after`, at most `limit`.
    pub async fn kv_list(
        &self,
        tenant: &str,
        plugin: &str,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        // Prefix match without LIKE, so `%` and `_` in keys are plain text:
        // keys >= prefix, and the first `prefix.len()` bytes equal prefix.
        let rows = sqlx::query(
            "SELECT key FROM kv WHERE tenant = $1 AND plugin = $2 AND key >= $3 AND key > $4 \
             AND SUBSTR(key, 1, CAST($5 AS INTEGER)) = $6 ORDER BY key LIMIT $7",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(prefix)
        .bind(start_after.unwrap_or(""))
        .bind(prefix.chars().count() as i64)
        .bind(prefix)
        .bind(i64::from(limit.min(MAX_LIST)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("key").map_err(StoreError::from))
            .collect()
    }

    /// Bytes the scope holds.
    pub async fn kv_used(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        Ok(u64::try_from(scope_bytes(self.pool(), tenant, plugin).await?).unwrap_or(0))
    }

    /// Deletes everything the scope holds (an explicit purge); rows deleted.
    pub async fn kv_purge(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = self.purge_scope(&mut tx, tenant, plugin).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

impl Store {
    /// One writer per scope at a time, so the running total stays the sum
    /// of the entries: read committed would let two writers each see room
    /// for themselves, or a delete and a write each count the same old
    /// entry. (SQLite's IMMEDIATE transaction is already the one writer.)
    async fn lock_scope(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        tenant: &str,
        plugin: &str,
    ) -> Result<(), StoreError> {
        if self.backend() == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("kv {tenant}/{plugin}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Deletes a scope's entries and its running total, in `tx`; rows
    /// deleted.
    pub(crate) async fn purge_scope(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        tenant: &str,
        plugin: &str,
    ) -> Result<u64, StoreError> {
        self.lock_scope(tx, tenant, plugin).await?;
        purge_rows(tx, tenant, plugin).await
    }
}

/// Deletes a scope's entries and its running total, in `tx`.
async fn purge_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &str,
    plugin: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM kv WHERE tenant = $1 AND plugin = $2")
        .bind(tenant)
        .bind(plugin)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM kv_scopes WHERE tenant = $1 AND plugin = $2")
        .bind(tenant)
        .bind(plugin)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// The scope's running total, read through `executor` (the pool, or the
/// transaction a write checks its quota in): one row, whatever the scope
/// holds.
async fn scope_bytes<'e, E>(executor: E, tenant: &str, plugin: &str) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT bytes FROM kv_scopes WHERE tenant = $1 AND plugin = $2")
        .bind(tenant)
        .bind(plugin)
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|r| r.try_get("bytes")).transpose()?.unwrap_or(0))
}

/// Moves the scope's running total by `delta` bytes, in the write's
/// transaction.
async fn add_scope_bytes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &str,
    plugin: &str,
    delta: i64,
) -> Result<(), StoreError> {
    if delta == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO kv_scopes (tenant, plugin, bytes) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant, plugin) DO UPDATE SET bytes = kv_scopes.bytes + excluded.bytes",
    )
    .bind(tenant)
    .bind(plugin)
    .bind(delta)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing;

    /// Concurrent writes to one scope never take it past its quota, on
    /// either backend (PostgreSQL's read committed would let two writers
    /// each see room for themselves).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_respect_the_quota() {
        for (store, _guard) in testing::all().await {
            let writes: Vec<_> = (0..24)
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .kv_set("a", "acme/p", &format!("key-{i:02}"), &[7; 95], 500)
                            .await
                            .unwrap()
                            .is_ok()
                    })
                })
                .collect();
            let mut stored = 0;
            for write in writes {
                stored += usize::from(write.await.unwrap());
            }
            // Each entry is 6 + 95 = 101 bytes: 4 fit in 500.
            assert_eq!(stored, 4);
            assert_eq!(store.kv_used("a", "acme/p").await.unwrap(), 404);
        }
    }

    /// The running total is what the entries hold, after any mix of
    /// writes, overwrites, deletes and purges, on either backend.
    #[tokio::test]
    async fn the_running_total_is_the_sum_of_the_entries() {
        for (store, _guard) in testing::all().await {
            let mut model = std::collections::BTreeMap::<String, usize>::new();
            // A fixed pseudo-random walk over few keys: overwrites that grow
            // and shrink, deletes of present and absent keys.
            let mut x: u32 = 7;
            for _ in 0..120 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let key = format!("k{}", (x >> 8) % 6);
                if (x >> 4).is_multiple_of(4) {
                    let existed = store.kv_delete("t", "acme/p", &key).await.unwrap();
                    assert_eq!(existed, model.remove(&key).is_some());
                } else {
                    let len = ((x >> 12) % 50) as usize;
                    store
                        .kv_set("t", "acme/p", &key, &vec![1; len], 1 << 20)
                        .await
                        .unwrap()
                        .unwrap();
                    model.insert(key.clone(), key.len() + len);
                }
                let expected: usize = model.values().sum();
                assert_eq!(store.kv_used("t", "acme/p").await.unwrap(), expected as u64);
            }
            store
                .kv_set("t", "acme/q", "other", b"x", 100)
                .await
                .unwrap()
                .unwrap();
            store.kv_purge("t", "acme/p").await.unwrap();
            assert_eq!(store.kv_used("t", "acme/p").await.unwrap(), 0);
            assert_eq!(store.kv_used("t", "acme/q").await.unwrap(), 6);
        }
    }
}
