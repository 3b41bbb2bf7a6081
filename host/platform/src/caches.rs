//! Short-lived caches of what every call looks up: the caller's account
//! (by token hash) and the install with its version.
//!
//! Entries live for [`TTL`]; every operation that changes an install
//! forgets the entries it makes stale on this node at once. Another node
//! sharing the database sees a change (a revoked token, an upgrade) within
//! the TTL.

use crate::Platform;
use crate::call::CallFailure;
use spleis_store::accounts::Account;
use spleis_store::installs::InstallRecord;
use spleis_store::registry::VersionRecord;
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
    pub(crate) limits: TtlCache<String, spleis_store::limits::LimitOverrides>,
}

impl Platform {
    /// The tenant's active install of `package` and its version (cached).
    pub(crate) async fn installed(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<Option<Installed>, CallFailure> {
        let key = (tenant.to_owned(), package.to_owned());
        if let Some(found) = self.caches.installs.get(&key) {
            return Ok(found);
        }
        let found = match self.store.install_of(tenant, package).await? {
            Some(install) if install.active => {
                let version = self.store.version(package, &install.version).await?;
                Some(Arc::new((install, version)))
            }
            _ => None,
        };
        self.caches.installs.put(key, found.clone());
        Ok(found)
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
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Hash + Eq, V: Clone> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    /// The fresh value of `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    /// Remembers `value` for `key`.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }

    /// Forgets every entry for which `stale` is true.
    pub fn forget(&self, stale: impl Fn(&K) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|k, _| !stale(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_served_until_forgotten() {
        let cache: TtlCache<(String, u8), u32> = TtlCache::default();
        cache.put(("a".into(), 1), 10);
        cache.put(("b".into(), 1), 20);
        assert_eq!(cache.get(&("a".into(), 1)), Some(10));
        cache.forget(|(tenant, _)| tenant == "a");
        assert_eq!(cache.get(&("a".into(), 1)), None);
        assert_eq!(cache.get(&("b".into(), 1)), Some(20));
    }
}
