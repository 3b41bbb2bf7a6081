//! The database as the sandbox's storage capability: the runtime's
//! synchronous [`KeyValueStore`] over the store's async key-value rows.

use spleis_runtime::capabilities::storage::{self, KeyValueStore, Scope};
use spleis_store::{Store, StoreError};

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
        self.wait(self.store.kv_get(&scope.tenant, &scope.plugin, key))
    }

    fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), storage::StoreError> {
        self.wait(
            self.store
                .kv_set(&scope.tenant, &scope.plugin, key, value, quota),
        )?
        .map_err(|q| storage::StoreError::QuotaExceeded {
            used: q.used,
            quota: q.quota,
            needed: q.needed,
        })
    }

    fn delete(&self, scope: &Scope, key: &str) -> Result<bool, storage::StoreError> {
        self.wait(self.store.kv_delete(&scope.tenant, &scope.plugin, key))
    }

    fn list_keys(
        &self,
        scope: &Scope,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, storage::StoreError> {
        self.wait(
            self.store
                .kv_list(&scope.tenant, &scope.plugin, prefix, start_after, limit),
        )
    }

    fn used_bytes(&self, scope: &Scope) -> Result<u64, storage::StoreError> {
        self.wait(self.store.kv_used(&scope.tenant, &scope.plugin))
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
            assert_eq!(
                rt.block_on(store.kv_purge(&a.tenant, &a.plugin)).unwrap(),
                2
            );
        }
    }
}
