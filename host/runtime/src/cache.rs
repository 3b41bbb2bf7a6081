//! Compiled components on disk, keyed by digest and engine fingerprint.
//!
//! `<dir>/<engine fingerprint>/<digest hex>.cwasm` holds what
//! `Engine::precompile_component` produced for those bytes. The fingerprint
//! is a hash of the engine's compatibility hash (wasmtime version, target,
//! settings), so an upgraded or differently configured host never loads an
//! artifact it cannot run. Files are written to a temporary name and renamed,
//! so a crash never leaves a half-written artifact under the final name.
//!
//! Loading an artifact runs native code produced by the compiler: the cache
//! directory must be writable only by the host, like its binary.

use spleis_registry::Digest;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Counters of where components came from, for tests and `/metrics`.
#[derive(Debug, Default)]
pub struct CacheCounters {
    compiled: AtomicU64,
    disk_loads: AtomicU64,
    memory_hits: AtomicU64,
}

/// A snapshot of [`CacheCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Components compiled by cranelift.
    pub compiled: u64,
    /// Components loaded from the disk cache without compiling.
    pub disk_loads: u64,
    /// Loads answered from memory (an `InstancePre` already built).
    pub memory_hits: u64,
}

impl CacheCounters {
    pub(crate) fn compiled(&self) {
        self.compiled.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn disk_load(&self) {
        self.disk_loads.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn memory_hit(&self) {
        self.memory_hits.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            disk_loads: self.disk_loads.load(Ordering::Relaxed),
            memory_hits: self.memory_hits.load(Ordering::Relaxed),
        }
    }
}

/// The on-disk cache of one engine.
#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

/// A stable name for the engine's compatibility hash.
fn fingerprint(engine: &Engine) -> String {
    // DefaultHasher::new() uses fixed keys: the same engine settings give
    // the same name in every process of this binary, which is what matters.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

impl DiskCache {
    pub(crate) fn open(root: &Path, engine: &Engine) -> std::io::Result<Self> {
        let dir = root.join(fingerprint(engine));
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(format!("{}.cwasm", digest.hex()))
    }

    /// The cached component for `digest`, if a usable artifact exists.
    pub(crate) fn load(&self, engine: &Engine, digest: &Digest) -> Option<Component> {
        let path = self.path(digest);
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `store` below from
        // `precompile_component` output of an engine with this fingerprint,
        // in a directory only the host writes (see the module docs).
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(%digest, path = %path.display(), %error, "unusable cached artifact; recompiling");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes the artifact for `digest` atomically (temp file + rename).
    pub(crate) fn store(&self, digest: &Digest, artifact: &[u8]) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(artifact)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path(digest)).map_err(|e| e.error)?;
        Ok(())
    }
}
