//! The database as the sandbox's storage capability: the runtime's
//! [`KeyValueStore`] over the store's key-value rows.

use spleis_runtime::capabilities::storage::{KeyValueStore, Scope, StorageError};
use spleis_store::{Store, StoreError};

/// The database as the runtime's [`KeyValueStore`]. A call awaits its
/// queries on the async runtime: the call's fiber is suspended meanwhile
/// and its deadline covers the wait.
pub struct DbKeyValue {
    store: Store,
}

impl DbKeyValue {
    /// Plugin storage in `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn unavailable(error: StoreError) -> StorageError {
    tracing::warn!(%error, "plugin storage failed");
    StorageError::Unavailable(error.to_string())
}

#[async_trait::async_trait]
impl KeyValueStore for DbKeyValue {
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.store
            .kv_get(&scope.tenant, &scope.plugin, key)
            .await
            .map_err(unavailable)
    }

    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), StorageError> {
        self.store
            .kv_set(&scope.tenant, &scope.plugin, key, value, quota)
            .await
            .map_err(unavailable)?
            .map_err(|q| StorageError::QuotaExceeded {
                used: q.used,
                quota: q.quota,
                needed: q.needed,
            })
    }

    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, StorageError> {
        self.store
            .kv_delete(&scope.tenant, &scope.plugin, key)
            .await
            .map_err(unavailable)
    }

    async fn list_keys(
        &self,
        scope: &Scope,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StorageError> {
        self.store
            .kv_list(&scope.tenant, &scope.plugin, prefix, start_after, limit)
            .await
            .map_err(unavailable)
    }

    async fn used_bytes(&self, scope: &Scope) -> Result<u64, StorageError> {
        self.store
            .kv_used(&scope.tenant, &scope.plugin)
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_store::testing;

    fn scope(t: &str) -> Scope {
        Scope {
            tenant: t.into(),
            plugin: "acme/p".into(),
        }
    }

    #[tokio::test]
    async fn the_database_behaves_like_the_memory_store() {
        let stores = testing::all().await;
        for (store, _guard) in &stores {
            let kv = DbKeyValue::new(store.clone());
            let (a, b) = (scope("a"), scope("b"));
            {
                {
                    kv.set(&a, "k1", &[0; 8], 20).await.unwrap();
                    kv.set(&a, "k1", &[0; 4], 20).await.unwrap();
                    assert_eq!(kv.used_bytes(&a).await.unwrap(), 6);
                    kv.set(&a, "k2", &[0; 12], 20).await.unwrap();
                    assert!(matches!(
                        kv.set(&a, "k3", &[1], 20).await,
                        Err(StorageError::QuotaExceeded {
                            used: 20,
                            quota: 20,
                            needed: 3
                        })
                    ));
                    assert_eq!(kv.get(&a, "k3").await.unwrap(), None);
                    assert_eq!(kv.get(&a, "k1").await.unwrap(), Some(vec![0; 4]));
                    assert_eq!(kv.get(&b, "k1").await.unwrap(), None);
                    for k in ["p%/1", "p%/2", "p_/3", "q"] {
                        kv.set(&b, k, b"", 1000).await.unwrap();
                    }
                    assert_eq!(
                        kv.list_keys(&b, "p%/", None, 10).await.unwrap(),
                        ["p%/1", "p%/2"]
                    );
                    assert_eq!(
                        kv.list_keys(&b, "p%/", Some("p%/1"), 10).await.unwrap(),
                        ["p%/2"]
                    );
                    assert_eq!(
                        kv.list_keys(&b, "", None, 2).await.unwrap(),
                        ["p%/1", "p%/2"]
                    );
                    assert!(kv.delete(&b, "q").await.unwrap());
                    assert!(!kv.delete(&b, "q").await.unwrap());
                }
            }
            assert_eq!(store.kv_purge(&a.tenant, &a.plugin).await.unwrap(), 2);
        }
    }
}
