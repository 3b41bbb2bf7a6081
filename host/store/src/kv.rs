//! Plugin storage: one key-value space per (tenant, plugin), under a byte
//! quota. The platform bridges it to the sandbox's storage capability.

use super::{Store, StoreError};
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
    /// `Ok(Err(..))` carries the refusal.
    pub async fn kv_set(
        &self,
        tenant: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<Result<(), QuotaExceeded>, StoreError> {
        let size = (key.len() + value.len()) as i64;
        let mut tx = self.begin_write().await?;
        if self.backend() == super::Backend::Postgres {
            // Read committed would let two writers each see room for
            // themselves; one writer per scope at a time keeps the quota.
            // (SQLite's IMMEDIATE transaction is already the one writer.)
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("kv {tenant}/{plugin}"))
                .execute(&mut *tx)
                .await?;
        }
        let used = used_bytes(&mut *tx, tenant, plugin).await?;
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
        if size > old && (used - old + size) as u64 > quota {
            return Ok(Err(QuotaExceeded {
                used: used as u64,
                quota,
                needed: (size - old) as u64,
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
        let done = sqlx::query("DELETE FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
            .bind(tenant)
            .bind(plugin)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
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
        Ok(used_bytes(self.pool(), tenant, plugin).await? as u64)
    }

    /// Deletes everything the scope holds (an explicit purge); rows deleted.
    pub async fn kv_purge(&self, tenant: &str, plugin: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM kv WHERE tenant = $1 AND plugin = $2")
            .bind(tenant)
            .bind(plugin)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Bytes the scope holds, read through `executor` (the pool, or the
/// transaction a write checks its quota in).
async fn used_bytes<'e, E>(executor: E, tenant: &str, plugin: &str) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    // The cast: PostgreSQL sums BIGINT as NUMERIC, which `Any` cannot decode.
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM kv WHERE tenant = $1 AND plugin = $2",
    )
    .bind(tenant)
    .bind(plugin)
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("used")?)
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
}
