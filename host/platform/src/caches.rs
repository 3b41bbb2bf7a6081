//! Short-lived caches of what every call looks up: the caller's account
//! (by token hash) and the install with its version.
//!
//! Entries live for [`TTL`]; every operation that changes an install
//! forgets the entries it makes stale on this node at once. Another node
//! sharing the database sees a change (a revoked token, an upgrade) within
//! the TTL.

use crate::Platform;
use crate::failures::CallFailure;
use spleis_domain::accounts::Account;
use spleis_domain::installs::InstallRecord;
use spleis_domain::registry::VersionRecord;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(2);

/// Entries kept at most; past it the cache is cleared (simple and bounded).
const MAX_ENTRIES: usize = 100_000;

/// An active install and the version it runs.
pub(crate) type Installed = Arc<(InstallRecord, VersionRecord)>;

/// The lookups every call makes, cached for [`TTL`].
#[derive(Default)]
pub struct Caches {
    /// Accounts by token hash.
    pub(crate) accounts: TtlCache<String, Option<(Account, Option<i64>)>>,
    /// Active installs by (tenant, package).
    installs: TtlCache<(String, String), Option<Installed>>,
    /// The operator's limit overrides by tenant.
    pub(crate) limits: TtlCache<String, spleis_domain::limits::LimitOverrides>,
}

impl Platform {
    /// The tenant's active install of `package` and its version (cached).
    pub(crate) async fn installed(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<Option<Installed>, CallFailure> {
        let key = (tenant.to_owned(), package.to_owned());
        let load = async {
            Ok(match self.store.install_of(tenant, package).await? {
                Some(install) if install.active => {
                    let version = self.store.version(package, &install.version).await?;
                    Some(Arc::new((install, version)))
                }
                _ => None,
            })
        };
        self.caches.installs.get_or_load(key, load).await
    }

    /// Forgets the cached install of `package` for `tenant`, after it changed.
    pub(crate) fn forget_install(&self, tenant: &str, package: &str) {
        self.caches
            .installs
            .forget(|(t, p)| t == tenant && p == package);
    }

    /// Forgets every cached install of `package`, after a publish or a yank.
    pub(crate) fn forget_package(&self, package: &str) {
        self.caches.installs.forget(|(_, p)| p == package);
    }
}

/// A map whose entries expire.
///
/// A value is read from the database before it is put, and a change may
/// forget its key in between: the put would then bring the stale value
/// back for a whole TTL (a token revoked while another request of it was
/// being authenticated). So a put carries the generation seen before the
/// read, and is dropped if anything was forgotten since.
pub struct TtlCache<K, V> {
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    map: HashMap<K, (Instant, V)>,
    /// Bumped by every `forget`.
    generation: u64,
}

/// What a cache had seen when a value was read: see [`TtlCache::put`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Generation(u64);

impl<K: Hash + Eq, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
        }
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fresh value of `key`, or the generation to read it under.
    fn get(&self, key: &K) -> Result<V, Generation> {
        let entries = self.lock();
        entries
            .map
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
            .ok_or(Generation(entries.generation))
    }

    /// Remembers `value` for `key`, read under `seen`, unless something was
    /// forgotten since.
    fn put(&self, seen: Generation, key: K, value: V) {
        let mut entries = self.lock();
        if entries.generation != seen.0 {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(key, (Instant::now(), value));
    }

    /// The fresh value of `key`, else the one `load` reads, remembered
    /// unless something was forgotten while it read.
    pub async fn get_or_load<E>(
        &self,
        key: K,
        load: impl std::future::Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        let seen = match self.get(&key) {
            Ok(found) => return Ok(found),
            Err(seen) => seen,
        };
        let value = load.await?;
        self.put(seen, key, value.clone());
        Ok(value)
    }

    /// Forgets every entry for which `stale` is true, and any value being
    /// read meanwhile.
    pub fn forget(&self, stale: impl Fn(&K) -> bool) {
        let mut entries = self.lock();
        entries.generation = entries.generation.wrapping_add(1);
        entries.map.retain(|k, _| !stale(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_served_until_forgotten() {
        let cache: TtlCache<(String, u8), u32> = TtlCache::default();
        let seen = cache.get(&("a".into(), 1)).unwrap_err();
        cache.put(seen, ("a".into(), 1), 10);
        cache.put(seen, ("b".into(), 1), 20);
        assert_eq!(cache.get(&("a".into(), 1)), Ok(10));
        cache.forget(|(tenant, _)| tenant == "a");
        assert!(cache.get(&("a".into(), 1)).is_err());
        assert_eq!(cache.get(&("b".into(), 1)), Ok(20));
    }

    #[test]
    fn a_value_read_before_a_forget_is_not_put_after_it() {
        let cache: TtlCache<String, &str> = TtlCache::default();
        // A lookup misses and reads the database ...
        let seen = cache.get(&"token".into()).unwrap_err();
        // ... while the token is revoked and forgotten ...
        cache.forget(|k| k == "token");
        // ... so what it read is not cached.
        cache.put(seen, "token".into(), "valid");
        assert!(cache.get(&"token".into()).is_err());
        // A lookup after the forget is cached as usual.
        let seen = cache.get(&"token".into()).unwrap_err();
        cache.put(seen, "token".into(), "revoked");
        assert_eq!(cache.get(&"token".into()), Ok("revoked"));
    }
}
