//! Plugin storage in the database, and its bridge to the runtime's
//! synchronous [`KeyValueStore`].

use super::{Store, StoreError};
use crate::capabilities::storage::{self, KeyValueStore, MAX_LIST, Scope};
use sqlx::Row;

impl Store {
    /// The value under `key` in `scope`.
    pub async fn kv_get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row =
            sqlx::query("SELECT value FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
                .bind(&scope.tenant)
                .bind(&scope.plugin)
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Sets `key` unless the scope would then hold more than `quota` bytes;
    /// `Ok(Err(..))` carries the refusal.
    pub async fn kv_set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<Result<(), storage::StoreError>, StoreError> {
        let size = (key.len() + value.len()) as i64;
        let mut tx = self.begin_write().await?;
        if self.backend() == super::Backend::Postgres {
            // Read committed would let two writers each see room for
            // themselves; one writer per scope at a time keeps the quota.
            // (SQLite's IMMEDIATE transaction is already the one writer.)
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("kv {}/{}", scope.tenant, scope.plugin))
                .execute(&mut *tx)
                .await?;
        }
        let used = used_bytes(&mut *tx, scope).await?;
        let old: i64 =
            sqlx::query("SELECT size FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
                .bind(&scope.tenant)
                .bind(&scope.plugin)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("size"))
                .transpose()?
                .unwrap_or(0);
        if size > old && (used - old + size) as u64 > quota {
            return Ok(Err(storage::StoreError::QuotaExceeded {
                used: used as u64,
                quota,
                needed: (size - old) as u64,
            }));
        }
        sqlx::query(
            "INSERT INTO kv (tenant, plugin, key, value, size) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, plugin, key) DO UPDATE SET value = excluded.value, size = excluded.size",
        )
        .bind(&scope.tenant)
        .bind(&scope.plugin)
        .bind(key)
        .bind(value.to_vec())
        .bind(size)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes `key`; whether it existed.
    pub async fn kv_delete(&self, scope: &Scope, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM kv WHERE tenant = $1 AND plugin = $2 AND key = $3")
            .bind(&scope.tenant)
            .bind(&scope.plugin)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Keys with `prefix`, ascending, after `start_after`, at most `limit`.
    pub async fn kv_list(
        &self,
        scope: &Scope,
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
        .bind(&scope.tenant)
        .bind(&scope.plugin)
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

    /// Bytes `scope` holds.
    pub async fn kv_used(&self, scope: &Scope) -> Result<u64, StoreError> {
        Ok(used_bytes(self.pool(), scope).await? as u64)
    }

    /// Deletes everything `scope` holds (an explicit purge); rows deleted.
    pub async fn kv_purge(&self, scope: &Scope) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM kv WHERE tenant = $1 AND plugin = $2")
            .bind(&scope.tenant)
            .bind(&scope.plugin)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

/// Bytes `scope` holds, read through `executor` (the pool, or the
/// transaction a write checks its quota in).
async fn used_bytes<'e, E>(executor: E, scope: &Scope) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    // The cast: PostgreSQL sums BIGINT as NUMERIC, which `Any` cannot decode.
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM kv WHERE tenant = $1 AND plugin = $2",
    )
    .bind(&scope.tenant)
    .bind(&scope.plugin)
    .fetch_one(executor)
    .await?;
    Ok(row.try_get("used")?)
}

/// The database as the runtime's [`KeyValueStore`]. Plugin calls run on
/// blocking threads (`spawn_blocking`), where waiting on the async database
/// through the runtime handle is allowed.
pub struct DbKeyValue {
    store: Store,
    handle: tokio::runtime::Handle,
}

impl DbKeyValue {
    /// Bridges `store` through the tokio runtime `handle`.
    pub fn new(store: Store, handle: tokio::runtime::Handle) -> Self {
        Self { store, handle }
    }

    fn wait<T>(
        &self,
        f: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, storage::StoreError> {
        self.handle.block_on(f).map_err(|e| {
            tracing::warn!(error = %e, "plugin storage failed");
            storage::StoreError::Unavailable(e.to_string())
        })
    }
}

impl KeyValueStore for DbKeyValue {
    fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, storage::StoreError> {
        self.wait(self.store.kv_get(scope, key))
    }

    fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), storage::StoreError> {
        self.wait(self.store.kv_set(scope, key, value, quota))?
    }

    fn delete(&self, scope: &Scope, key: &str) -> Result<bool, storage::StoreError> {
        self.wait(self.store.kv_delete(scope, key))
    }

    fn list_keys(
        &self,
        scope: &Scope,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, storage::StoreError> {
        self.wait(self.store.kv_list(scope, prefix, start_after, limit))
    }

    fn used_bytes(&self, scope: &Scope) -> Result<u64, storage::StoreError> {
        self.wait(self.store.kv_used(scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    fn scope(t: &str) -> Scope {
        Scope {
            tenant: t.into(),
            plugin: "acme/p".into(),
        }
    }

    #[test]
    fn the_database_behaves_like_the_memory_store() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let stores = rt.block_on(testing::all());
        for (store, _guard) in &stores {
            let kv = DbKeyValue::new(store.clone(), rt.handle().clone());
            let (a, b) = (scope("a"), scope("b"));
            // Run as a plugin call would: on a thread outside the runtime.
            std::thread::scope(|s| {
                s.spawn(|| {
                    kv.set(&a, "k1", &[0; 8], 20).unwrap();
                    kv.set(&a, "k1", &[0; 4], 20).unwrap();
                    assert_eq!(kv.used_bytes(&a).unwrap(), 6);
                    kv.set(&a, "k2", &[0; 12], 20).unwrap();
                    assert!(matches!(
                        kv.set(&a, "k3", &[1], 20),
                        Err(storage::StoreError::QuotaExceeded {
                            used: 20,
                            quota: 20,
                            needed: 3
                        })
                    ));
                    assert_eq!(kv.get(&a, "k3").unwrap(), None);
                    assert_eq!(kv.get(&a, "k1").unwrap(), Some(vec![0; 4]));
                    assert_eq!(kv.get(&b, "k1").unwrap(), None);
                    for k in ["p%/1", "p%/2", "p_/3", "q"] {
                        kv.set(&b, k, b"", 1000).unwrap();
                    }
                    assert_eq!(kv.list_keys(&b, "p%/", None, 10).unwrap(), ["p%/1", "p%/2"]);
                    assert_eq!(kv.list_keys(&b, "p%/", Some("p%/1"), 10).unwrap(), ["p%/2"]);
                    assert_eq!(kv.list_keys(&b, "", None, 2).unwrap(), ["p%/1", "p%/2"]);
                    assert!(kv.delete(&b, "q").unwrap());
                    assert!(!kv.delete(&b, "q").unwrap());
                });
            });
            assert_eq!(rt.block_on(store.kv_purge(&a)).unwrap(), 2);
        }
    }

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
                            .kv_set(&scope("a"), &format!("key-{i:02}"), &[7; 95], 500)
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
            assert_eq!(store.kv_used(&scope("a")).await.unwrap(), 404);
        }
    }
}
