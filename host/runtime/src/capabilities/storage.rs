//! `storage`: key-value data scoped to (tenant, plugin), with a byte quota.
//!
//! [`KeyValueStore`] is what the platform backs with its database; the
//! [`MemoryStore`] here is a complete in-memory implementation (used by
//! `spleis run` and the tests), quotas included.

use super::CallCapabilities;
use crate::bindings::HostError;
use crate::bindings::latest::spleis::plugin::storage;
use crate::limits::LimitBreach;
use spleis_registry::Capability;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Largest page of [`KeyValueStore::list_keys`].
pub const MAX_LIST: u32 = 1000;

/// Whose data: one tenant's install of one plugin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The tenant.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
}

/// Why an operation of the sandbox's storage capability failed; a backend
/// maps its own errors to these.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The write would pass the quota; nothing was written.
    #[error("storage quota exceeded: {used} of {quota} bytes used, the write needs {needed} more")]
    QuotaExceeded {
        /// Bytes stored before the write.
        used: u64,
        /// The quota.
        quota: u64,
        /// Bytes the write would add.
        needed: u64,
    },
    /// The backend failed; the operation may be retried.
    #[error("storage backend unavailable: {0}")]
    Unavailable(String),
}

/// Key-value storage partitioned by [`Scope`]. The size of an entry is its
/// key's length plus its value's length.
///
/// Async because a call waits on it: the database answers on the async
/// runtime while the call's fiber is suspended, so no thread blocks and the
/// call's deadline covers the wait.
#[async_trait::async_trait]
pub trait KeyValueStore: Send + Sync {
    /// The value under `key`.
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Sets `key` to `value` unless the scope would then hold more than
    /// `quota` bytes.
    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), StorageError>;
    /// Deletes `key`; whether it existed.
    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, StorageError>;
    /// Keys with `prefix`, ascending, after `start_after`, at most `limit`.
    async fn list_keys(
        &self,
        scope: &Scope,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StorageError>;
    /// Bytes the scope holds.
    async fn used_bytes(&self, scope: &Scope) -> Result<u64, StorageError>;
}

#[derive(Default)]
struct Partition {
    entries: BTreeMap<String, Vec<u8>>,
    bytes: u64,
}

/// An in-memory [`KeyValueStore`].
#[derive(Default)]
pub struct MemoryStore {
    partitions: Mutex<HashMap<Scope, Partition>>,
}

/// One entry of a [`MemoryStore`] snapshot; the value is hex so any bytes
/// survive a JSON file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotEntry {
    /// The tenant.
    pub tenant: String,
    /// The plugin.
    pub plugin: String,
    /// The key.
    pub key: String,
    /// The value, hex-encoded.
    pub value_hex: String,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry, sorted by scope and key (for saving to a file).
    pub fn snapshot(&self) -> Result<Vec<SnapshotEntry>, StorageError> {
        self.with(|p| {
            let mut entries: Vec<SnapshotEntry> = p
                .iter()
                .flat_map(|(scope, part)| {
                    part.entries.iter().map(move |(k, v)| SnapshotEntry {
                        tenant: scope.tenant.clone(),
                        plugin: scope.plugin.clone(),
                        key: k.clone(),
                        value_hex: hex::encode(v),
                    })
                })
                .collect();
            entries.sort_by(|a, b| {
                (&a.tenant, &a.plugin, &a.key).cmp(&(&b.tenant, &b.plugin, &b.key))
            });
            entries
        })
    }

    /// A store holding `entries` (quotas are not checked on restore).
    pub fn from_snapshot(entries: Vec<SnapshotEntry>) -> Result<Self, String> {
        let store = Self::new();
        store
            .with(|p| {
                for e in entries {
                    let value = hex::decode(&e.value_hex)
                        .map_err(|err| format!("the value of `{}` is not hex: {err}", e.key))?;
                    let part = p
                        .entry(Scope {
                            tenant: e.tenant,
                            plugin: e.plugin,
                        })
                        .or_default();
                    part.bytes += entry_size(&e.key, &value);
                    if let Some(old) = part.entries.insert(e.key.clone(), value) {
                        part.bytes -= entry_size(&e.key, &old);
                    }
                }
                Ok::<(), String>(())
            })
            .map_err(|e| e.to_string())??;
        Ok(store)
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut HashMap<Scope, Partition>) -> R,
    ) -> Result<R, StorageError> {
        // A poisoned lock means a panic mid-update elsewhere: report it
        // rather than serve possibly inconsistent data.
        let mut guard = self
            .partitions
            .lock()
            .map_err(|_| StorageError::Unavailable("the in-memory store is poisoned".into()))?;
        Ok(f(&mut guard))
    }
}

fn entry_size(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

#[async_trait::async_trait]
impl KeyValueStore for MemoryStore {
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.with(|p| p.get(scope).and_then(|part| part.entries.get(key).cloned()))
    }

    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), StorageError> {
        self.with(|p| {
            let part = p.entry(scope.clone()).or_default();
            let old = part.entries.get(key).map_or(0, |v| entry_size(key, v));
            let new = entry_size(key, value);
            let after = part.bytes - old + new;
            if new > old && after > quota {
                return Err(StorageError::QuotaExceeded {
                    used: part.bytes,
                    quota,
                    needed: new - old,
                });
            }
            part.entries.insert(key.to_owned(), value.to_vec());
            part.bytes = after;
            Ok(())
        })?
    }

    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, StorageError> {
        self.with(|p| {
            let Some(part) = p.get_mut(scope) else {
                return false;
            };
            match part.entries.remove(key) {
                Some(v) => {
                    part.bytes -= entry_size(key, &v);
                    true
                }
                None => false,
            }
        })
    }

    async fn list_keys(
        &self,
        scope: &Scope,
        prefix: &str,
        start_after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StorageError> {
        self.with(|p| {
            let Some(part) = p.get(scope) else {
                return Vec::new();
            };
            let start = match start_after {
                Some(after) if after >= prefix => std::ops::Bound::Excluded(after.to_owned()),
                _ => std::ops::Bound::Included(prefix.to_owned()),
            };
            part.entries
                .range((start, std::ops::Bound::Unbounded))
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(prefix))
                .take(limit.min(MAX_LIST) as usize)
                .cloned()
                .collect()
        })
    }

    async fn used_bytes(&self, scope: &Scope) -> Result<u64, StorageError> {
        self.with(|p| p.get(scope).map_or(0, |part| part.bytes))
    }
}

fn check_key(key: &str) -> Result<(), HostError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        Err(HostError::InvalidArgument(format!(
            "a storage key is 1 to {MAX_KEY_BYTES} bytes, this one has {}",
            key.len()
        )))
    } else {
        Ok(())
    }
}

/// Backend failures reach the guest as `unavailable`; a quota breach ends
/// the call.
fn backend<T>(result: Result<T, StorageError>) -> wasmtime::Result<Result<T, HostError>> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(StorageError::QuotaExceeded {
            used,
            quota,
            needed,
        }) => Err(wasmtime::Error::new(LimitBreach::StorageQuota {
            used,
            quota,
            needed,
        })),
        Err(StorageError::Unavailable(message)) => {
            tracing::warn!(%message, "storage backend unavailable");
            Ok(Err(HostError::Unavailable(message)))
        }
    }
}

impl CallCapabilities {
    /// Runs a storage operation on the runtime the call was made on (see
    /// [`crate::lanes::at_home`]): a long call on a lane thread waits on the
    /// database from there.
    async fn stored<T, F>(
        &self,
        operation: impl FnOnce(Arc<dyn KeyValueStore>, Scope) -> F,
    ) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        let work = operation(self.storage.clone(), self.scope.clone());
        crate::lanes::at_home(work).await.unwrap_or_else(|| {
            Err(StorageError::Unavailable(
                "the server is shutting down".to_owned(),
            ))
        })
    }
}

impl storage::Host for CallCapabilities {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, HostError>> {
        if let Err(e) = self
            .granted(Capability::Storage)
            .and_then(|()| check_key(&key))
        {
            return Ok(Err(e));
        }
        let found = self
            .stored(|storage, scope| async move { storage.get(&scope, &key).await })
            .await;
        backend(found)
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), HostError>> {
        if let Err(e) = self
            .granted(Capability::Storage)
            .and_then(|()| check_key(&key))
        {
            return Ok(Err(e));
        }
        let quota = self.install.storage_quota_bytes;
        let set = self
            .stored(|storage, scope| async move { storage.set(&scope, &key, &value, quota).await })
            .await;
        backend(set)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, HostError>> {
        if let Err(e) = self
            .granted(Capability::Storage)
            .and_then(|()| check_key(&key))
        {
            return Ok(Err(e));
        }
        let deleted = self
            .stored(|storage, scope| async move { storage.delete(&scope, &key).await })
            .await;
        backend(deleted)
    }

    async fn list_keys(
        &mut self,
        prefix: String,
        start_after: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, HostError>> {
        if let Err(e) = self.granted(Capability::Storage) {
            return Ok(Err(e));
        }
        let keys = self
            .stored(|storage, scope| async move {
                storage
                    .list_keys(&scope, &prefix, start_after.as_deref(), limit)
                    .await
            })
            .await;
        backend(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(t: &str, p: &str) -> Scope {
        Scope {
            tenant: t.into(),
            plugin: p.into(),
        }
    }

    #[tokio::test]
    async fn scopes_are_separate() {
        let store = MemoryStore::new();
        store.set(&scope("a", "p"), "k", b"1", 100).await.unwrap();
        assert_eq!(
            store.get(&scope("a", "p"), "k").await.unwrap(),
            Some(b"1".to_vec())
        );
        assert_eq!(store.get(&scope("b", "p"), "k").await.unwrap(), None);
        assert_eq!(store.get(&scope("a", "q"), "k").await.unwrap(), None);
        assert!(
            store
                .list_keys(&scope("b", "p"), "", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn quota_counts_keys_and_values_and_refuses_without_writing() {
        let store = MemoryStore::new();
        let s = scope("a", "p");
        store.set(&s, "k1", &[0; 8], 20).await.unwrap(); // 10 bytes
        store.set(&s, "k1", &[0; 4], 20).await.unwrap(); // shrinks to 6
        assert_eq!(store.used_bytes(&s).await.unwrap(), 6);
        store.set(&s, "k2", &[0; 12], 20).await.unwrap(); // 14 more: 20
        let err = store.set(&s, "k3", &[0; 1], 20).await.unwrap_err();
        assert!(matches!(
            err,
            StorageError::QuotaExceeded {
                used: 20,
                quota: 20,
                needed: 3
            }
        ));
        assert_eq!(store.get(&s, "k3").await.unwrap(), None);
        // Shrinking or deleting is always allowed, even at the quota.
        store.set(&s, "k2", &[0; 2], 20).await.unwrap();
        assert!(store.delete(&s, "k2").await.unwrap());
        assert!(!store.delete(&s, "k2").await.unwrap());
        assert_eq!(store.used_bytes(&s).await.unwrap(), 6);
    }

    #[tokio::test]
    async fn snapshot_round_trips() {
        let store = MemoryStore::new();
        store
            .set(&scope("a", "p"), "k", &[0, 255], 100)
            .await
            .unwrap();
        store.set(&scope("b", "p"), "k", b"x", 100).await.unwrap();
        let snap = store.snapshot().unwrap();
        let back = MemoryStore::from_snapshot(snap.clone()).unwrap();
        assert_eq!(back.snapshot().unwrap(), snap);
        assert_eq!(back.used_bytes(&scope("a", "p")).await.unwrap(), 3);
        let bad = vec![SnapshotEntry {
            value_hex: "zz".into(),
            ..snap[0].clone()
        }];
        assert!(MemoryStore::from_snapshot(bad).is_err());
    }

    #[tokio::test]
    async fn lists_by_prefix_in_pages() {
        let store = MemoryStore::new();
        let s = scope("a", "p");
        for k in ["a/1", "a/2", "a/3", "b/1", "a"] {
            store.set(&s, k, b"", 1000).await.unwrap();
        }
        assert_eq!(
            store.list_keys(&s, "a/", None, 2).await.unwrap(),
            ["a/1", "a/2"]
        );
        assert_eq!(
            store.list_keys(&s, "a/", Some("a/2"), 2).await.unwrap(),
            ["a/3"]
        );
        assert_eq!(store.list_keys(&s, "", None, 10).await.unwrap().len(), 5);
        assert!(store.list_keys(&s, "c", None, 10).await.unwrap().is_empty());
    }
}
