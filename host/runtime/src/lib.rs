//! The sandboxed runtime: load a component once, run each call in a fresh
//! instance under limits, and return its output with a usage record.
//!
//! The runtime knows nothing of HTTP, SQL or money: the platform gives it
//! bytes, an [`Install`] and a storage backend, and gets back an
//! [`Invocation`].

pub mod bindings;
pub mod budget;
mod cache;
pub mod capabilities;
pub mod contract;
mod engine;
mod invoke;
mod lanes;
mod limits;
mod outcome;

pub use cache::CacheStats;
pub use capabilities::Install;
pub use contract::{ACCEPTED_CONTRACTS, Shape};
pub use invoke::{Call, Invocation};
pub use limits::{LimitBreach, Limits};
pub use outcome::CallError;
pub use spleis_domain::{Blame, MeterReport, OutcomeKind, Usage};

use crate::bindings::latest::PluginPre;
use crate::capabilities::storage::KeyValueStore;
use cache::{CacheCounters, DiskCache};
use invoke::CallState;
use spleis_registry::embedded::{self, EmbeddedError};
use spleis_registry::{Capability, Digest, Manifest};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// How the runtime is set up; one per process.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Calls that may run at once (pooling allocator slots).
    pub max_instances: u32,
    /// The most linear memory any call may be given, in bytes: the size of
    /// a pool slot. Per-call limits may not exceed it.
    pub max_memory_bytes: u64,
    /// Where compiled components are cached; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// How often the epoch advances: the granularity of timeouts.
    pub epoch_tick: Duration,
    /// The limits calls get unless the caller passes others.
    pub limits: Limits,
    /// The limits of the trial instantiation at load: a start function
    /// that does not finish within them refuses the component.
    pub trial: Limits,
    /// What a component may ask the compiler for; more is refused before
    /// compiling.
    pub compile_budget: budget::CompileBudget,
    /// Data segments from which a component's memory image is mapped
    /// copy-on-write rather than copied at each call.
    pub large_image_bytes: u64,
    /// Calls that may compute past their first epoch tick at once, all
    /// tenants together: long calls take turns in these lanes, so the other
    /// cores stay free for short calls and the server. Default: the cores
    /// less one (at least one).
    pub compute_lanes: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_instances: 64,
            max_memory_bytes: 256 << 20,
            cache_dir: None,
            // A computing call yields every tick: a short call waits at most
            // this long behind a long one on the same worker. (250 µs
            // measured no better in the noisy-neighbour bench: the rest is
            // the OS sharing two cores.)
            epoch_tick: Duration::from_millis(1),
            limits: Limits::default(),
            trial: Limits::trial(),
            compile_budget: budget::CompileBudget::default(),
            large_image_bytes: engine::LARGE_IMAGE_BYTES,
            compute_lanes: std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
                .saturating_sub(1)
                .max(1),
        }
    }
}

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the configuration.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    /// The cache directory or the epoch thread could not be set up.
    #[error("cannot set up the runtime: {0}")]
    Io(std::io::Error),
    /// The default limits exceed what the engine was sized for.
    #[error("the default memory limit ({limit} bytes) exceeds the engine's maximum ({max} bytes)")]
    MemoryAboveMaximum {
        /// The configured per-call limit.
        limit: u64,
        /// The engine's slot size.
        max: u64,
    },
}

/// Why a component was refused. Nothing of a refused component runs.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly file (no `\\0asm` header)")]
    NotWasm,
    /// A core module where a component was expected.
    #[error(
        "this is a core WebAssembly module, not a component: build the plugin with `cargo build --target wasm32-wasip2` (or `cargo component build`)"
    )]
    CoreModule,
    /// Malformed or invalid WebAssembly.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// A component of another world: the contract's exports are missing.
    #[error("not a spleis plugin: it does not export `{missing}` (it exports: {})", list(.exports))]
    NotAPlugin {
        /// The interface that is missing.
        missing: String,
        /// What it exports instead.
        exports: Vec<String>,
    },
    /// A contract version this host does not run.
    #[error("the plugin targets contract spleis:plugin@{found}, but this host accepts only {}", ACCEPTED_CONTRACTS.join(", "))]
    UnsupportedContract {
        /// The version the component targets.
        found: String,
    },
    /// Imports of one contract version, exports of another.
    #[error("the import `{import}` does not match the plugin's contract version {contract}")]
    MixedContract {
        /// The offending import.
        import: String,
        /// The version of its exports.
        contract: String,
    },
    /// An import outside the contract.
    #[error(
        "the plugin imports `{0}`, which is outside the spleis contract: a plugin may import spleis:plugin/{{storage,config,metering,events,log}} and the WASI 0.2 interfaces Rust's std uses (cli, clocks, filesystem without directories, io, random)"
    )]
    ForeignImport(String),
    /// A capability imported but not declared in the manifest.
    #[error("the plugin imports the `{capability}` capability but its manifest does not declare it (declared: {})", list(.declared))]
    UndeclaredCapability {
        /// The capability.
        capability: Capability,
        /// What the manifest declares.
        declared: Vec<String>,
    },
    /// The embedded manifest is broken.
    #[error(transparent)]
    Manifest(EmbeddedError),
    /// The exports' types do not match the contract.
    #[error("the plugin does not fit the contract: {0}")]
    Link(String),
    /// Compiling the component would take more than the compile budget.
    #[error("the component is too large to compile: {0}")]
    OverBudget(String),
    /// Instantiating the component did not finish in time: its start
    /// function waits or loops.
    #[error(
        "the component's start did not finish within {} ms: a plugin may not wait or loop while it is instantiated",
        .limit.as_millis()
    )]
    StartTooSlow {
        /// The trial's deadline.
        limit: Duration,
    },
    /// Instantiating the component used up the trial's fuel.
    #[error(
        "the component's start used more than {fuel} fuel: a plugin may not compute while it is instantiated"
    )]
    StartOutOfFuel {
        /// The trial's fuel.
        fuel: u64,
    },
}

fn list(items: &[impl AsRef<str>]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A call that was refused before anything ran.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The manifest does not list the operation.
    #[error("the plugin has no operation `{operation}` (it has: {})", list(.known))]
    UnknownOperation {
        /// What was asked for.
        operation: String,
        /// What the manifest lists.
        known: Vec<String>,
    },
    /// The per-call memory limit exceeds the engine's slot size.
    #[error("a memory limit of {limit} bytes exceeds this runtime's maximum of {max} bytes")]
    MemoryAboveMaximum {
        /// The requested limit.
        limit: u64,
        /// The engine's maximum.
        max: u64,
    },
}

/// A component that passed the checks, compiled and ready to instantiate.
pub struct LoadedPlugin {
    /// The digest of its bytes.
    pub digest: Digest,
    /// Its contract version, imports, exports and capabilities.
    pub shape: Shape,
    /// The manifest embedded by the SDK, if any.
    pub manifest: Option<Manifest>,
    /// `digest` as text, for every usage record (formatted once, not per call).
    digest_text: String,
    /// The engine it was compiled for (by the size of its memory image).
    engine: Engine,
    pre: PluginPre<CallState>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("digest", &self.digest)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

/// A component that [`Runtime::compile`] checked and compiled, to be
/// admitted by [`Runtime::admit`].
pub struct Compiled(Stage);

enum Stage {
    /// Already loaded: nothing to admit.
    Loaded(Arc<LoadedPlugin>),
    /// Compiled or read from the disk cache, not yet tried.
    Fresh(Box<Fresh>),
}

struct Fresh {
    plugin: LoadedPlugin,
    component: Component,
    from_disk: bool,
    /// Whether it runs on the engine of large images.
    large: bool,
}

impl Compiled {
    /// The digest of the component's bytes.
    pub fn digest(&self) -> &Digest {
        match &self.0 {
            Stage::Loaded(plugin) => &plugin.digest,
            Stage::Fresh(fresh) => &fresh.plugin.digest,
        }
    }
}

/// An engine with its linker and disk cache: one for components with a
/// small memory image (copied per call), one for large ones (mapped
/// copy-on-write).
struct Flavor {
    engine: Engine,
    linker: Linker<CallState>,
    disk: Option<DiskCache>,
}

impl Flavor {
    fn new(config: &RuntimeConfig, cow: bool) -> Result<Self, RuntimeError> {
        let engine =
            engine::build(config, cow).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let linker = invoke::linker(&engine).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let disk = match &config.cache_dir {
            Some(dir) => Some(DiskCache::open(dir, &engine).map_err(RuntimeError::Io)?),
            None => None,
        };
        Ok(Self {
            engine,
            linker,
            disk,
        })
    }
}

/// The runtime: the engines, their linkers, the compiled components.
pub struct Runtime {
    small: Flavor,
    large: Flavor,
    loaded: RwLock<HashMap<Digest, Arc<LoadedPlugin>>>,
    counters: CacheCounters,
    config: RuntimeConfig,
    /// The compute lanes of long calls.
    lanes: Arc<tokio::sync::Semaphore>,
    /// The threads they compute on.
    lane_pool: lanes::LanePool,
    _ticker: engine::EpochTicker,
}

impl Runtime {
    /// Builds the engine, the linker and the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        if config.limits.memory_bytes > config.max_memory_bytes {
            return Err(RuntimeError::MemoryAboveMaximum {
                limit: config.limits.memory_bytes,
                max: config.max_memory_bytes,
            });
        }
        let small = Flavor::new(&config, false)?;
        let large = Flavor::new(&config, true)?;
        let ticker = engine::EpochTicker::start(
            vec![small.engine.clone(), large.engine.clone()],
            config.epoch_tick,
        )
        .map_err(RuntimeError::Io)?;
        Ok(Self {
            small,
            large,
            loaded: RwLock::new(HashMap::new()),
            counters: CacheCounters::default(),
            lanes: Arc::new(tokio::sync::Semaphore::new(
                config.compute_lanes.max(1) as usize
            )),
            lane_pool: lanes::LanePool::start(config.compute_lanes.max(1) as usize)
                .map_err(RuntimeError::Io)?,
            config,
            _ticker: ticker,
        })
    }

    /// The engine of components with a small memory image, which is most
    /// (for benchmarks and tools).
    pub fn engine(&self) -> &Engine {
        &self.small.engine
    }

    /// The compute lanes long calls take turns in.
    pub(crate) fn lanes(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.lanes
    }

    /// The threads long calls compute on.
    pub(crate) fn lane_pool(&self) -> &lanes::LanePool {
        &self.lane_pool
    }

    /// The configuration the runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Where loaded components came from so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.counters.snapshot()
    }

    /// Checks, compiles and admits `bytes` (or takes them from the memory
    /// or disk cache), once per digest. Compiling runs on the calling
    /// thread: a server calls [`Runtime::compile`] on a blocking thread and
    /// then [`Runtime::admit`].
    pub async fn load(&self, bytes: &[u8]) -> Result<Arc<LoadedPlugin>, LoadError> {
        let compiled = self.compile(bytes)?;
        self.admit(compiled).await
    }

    /// The CPU-bound half of [`Runtime::load`]: checks the format, the
    /// manifest, the shape and the links, compiling unless a cache has the
    /// component. Nothing of the component runs.
    pub fn compile(&self, bytes: &[u8]) -> Result<Compiled, LoadError> {
        let digest = Digest::of(bytes);
        if let Some(plugin) = self.cached(&digest) {
            self.counters.memory_hit();
            return Ok(Compiled(Stage::Loaded(plugin)));
        }
        contract::check_format(bytes)?;
        let manifest = embedded::manifest(bytes).map_err(LoadError::Manifest)?;
        let flavor = if budget::image_bytes(bytes) >= self.config.large_image_bytes {
            &self.large
        } else {
            &self.small
        };

        let (component, from_disk) = match flavor
            .disk
            .as_ref()
            .and_then(|d| d.load(&flavor.engine, &digest))
        {
            Some(component) => {
                self.counters.disk_load();
                (component, true)
            }
            None => {
                budget::check(bytes, &self.config.compile_budget)?;
                let component = Component::new(&flavor.engine, bytes)
                    .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
                self.counters.compiled();
                (component, false)
            }
        };

        let shape = contract::check_shape(&flavor.engine, &component)?;
        if let Some(manifest) = &manifest
            && let Some(capability) = shape
                .capabilities
                .iter()
                .find(|c| !manifest.capabilities.contains(c))
        {
            return Err(LoadError::UndeclaredCapability {
                capability: *capability,
                declared: manifest
                    .capabilities
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            });
        }
        let instance_pre = flavor
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        Ok(Compiled(Stage::Fresh(Box::new(Fresh {
            plugin: LoadedPlugin {
                engine: flavor.engine.clone(),
                digest,
                digest_text: digest.to_string(),
                shape,
                manifest,
                pre,
            },
            component,
            from_disk,
            large: std::ptr::eq(flavor, &self.large),
        }))))
    }

    /// The async half of [`Runtime::load`]: instantiates the compiled
    /// component once under the trial limits, writes the disk cache and
    /// keeps the component for calls.
    pub async fn admit(&self, compiled: Compiled) -> Result<Arc<LoadedPlugin>, LoadError> {
        let fresh = match compiled.0 {
            Stage::Loaded(plugin) => return Ok(plugin),
            Stage::Fresh(fresh) => fresh,
        };
        invoke::trial(self, &fresh.plugin.engine, &fresh.plugin.pre).await?;
        let flavor = if fresh.large {
            &self.large
        } else {
            &self.small
        };
        if !fresh.from_disk
            && let Some(disk) = &flavor.disk
        {
            // A cache that cannot be written costs a compile on the next
            // start, nothing more.
            let digest = &fresh.plugin.digest;
            match fresh.component.serialize() {
                Ok(artifact) => {
                    if let Err(error) = disk.store(digest, &artifact) {
                        tracing::warn!(%digest, %error, "cannot write the compiled component to the disk cache");
                    }
                }
                Err(error) => {
                    tracing::warn!(%digest, %error, "cannot serialize the compiled component")
                }
            }
        }
        let digest = fresh.plugin.digest;
        let plugin = Arc::new(fresh.plugin);
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        Ok(loaded.entry(digest).or_insert(plugin).clone())
    }

    /// Drops the compiled component of `digest` from memory (its disk
    /// artifact stays); whether it was loaded. Calls already holding it
    /// finish normally.
    pub fn evict(&self, digest: &Digest) -> bool {
        self.loaded
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest)
            .is_some()
    }

    /// The already loaded component of `digest`, if any (no disk access).
    pub fn loaded(&self, digest: &Digest) -> Option<Arc<LoadedPlugin>> {
        self.cached(digest)
    }

    fn cached(&self, digest: &Digest) -> Option<Arc<LoadedPlugin>> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
            .cloned()
    }

    /// Runs one call of `plugin` for `install` in a fresh instance under
    /// `limits` (the runtime's defaults if `None`). The call is a future:
    /// it yields while the guest computes or waits, and ends at its deadline
    /// whatever the guest waits on.
    pub async fn invoke(
        &self,
        plugin: &LoadedPlugin,
        install: Arc<Install>,
        storage: Arc<dyn KeyValueStore>,
        call: Call,
        limits: Option<&Limits>,
    ) -> Result<Invocation, InvokeError> {
        let limits = limits.unwrap_or(&self.config.limits);
        if limits.memory_bytes > self.config.max_memory_bytes {
            return Err(InvokeError::MemoryAboveMaximum {
                limit: limits.memory_bytes,
                max: self.config.max_memory_bytes,
            });
        }
        if let (Call::Handle { operation, .. }, Some(manifest)) = (&call, &plugin.manifest)
            && !manifest.operations.contains(operation)
        {
            return Err(InvokeError::UnknownOperation {
                operation: operation.clone(),
                known: manifest.operations.iter().cloned().collect(),
            });
        }
        Ok(invoke::run(self, plugin, install, storage, call, limits).await)
    }
}
