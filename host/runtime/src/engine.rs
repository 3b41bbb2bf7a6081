//! The engines (one per kind of memory image) and the epoch ticker that
//! drives deadlines.

use super::RuntimeConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// Core instances a Rust component brings (its module, the WASI adapter,
/// shims and fix-ups), with room to spare.
const CORE_INSTANCES_PER_COMPONENT: u32 = 32;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;
/// Linear memory a pool slot keeps mapped between calls, reset by memset
/// instead of `madvise`: a Rust component's first 2 MiB (stack and data)
/// are touched by every call, and re-faulting them costs page faults and,
/// on a multi-core host, TLB-shootdown IPIs. Measured: instantiation from
/// 24 µs to 13 µs, HTTP calls from 10k to 20k per second. With `PAGEMAP_SCAN`
/// (Linux 6.7+) only the pages a call wrote are reset, not all of them.
const KEEP_RESIDENT: usize = 2 << 20;

/// The default data segments from which a component's memory image is
/// mapped copy-on-write instead of copied at every instantiation (measured
/// in the invoke bench, both ways, for a 15 MiB image): below it a copy
/// is cheaper (every call writes those pages, and each CoW break is a fault
/// plus a TLB flush across cores); above it the copy dominates the call (a
/// 15 MiB image: 11–15 ms per call).
pub const LARGE_IMAGE_BYTES: u64 = 1 << 20;

/// Builds an engine: cranelift, component model, fuel, epoch interruption
/// and a pooling allocator sized for `config.max_instances` concurrent calls;
/// with `cow`, memory images are mapped copy-on-write (for large images).
pub(crate) fn build(config: &RuntimeConfig, cow: bool) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let n = config.max_instances;
    pool.total_component_instances(n)
        .total_core_instances(n * CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_memories(n * MEMORIES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_memories_per_module(1)
        .total_tables(n * TABLES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .table_elements(config.limits.table_elements.max(20_000) as usize)
        .max_memory_size(config.max_memory_bytes as usize)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10)
        // A Rust component's memory starts with a 1 MiB stack of which a
        // call writes a few pages; resetting all 1.1 MiB by memset was the
        // largest cost of a call under load (HTTP calls: 20k → 28k/s).
        .pagemap_scan(wasmtime::Enabled::Auto);

    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .cranelift_opt_level(OptLevel::Speed)
        .consume_fuel(true)
        .epoch_interruption(true)
        // Small images are copied at instantiation (see LARGE_IMAGE_BYTES);
        // large ones are mapped copy-on-write by their own engine.
        .memory_init_cow(cow)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&wasm)
}

/// Increments the engines' epoch every `tick` on its own thread: the tick
/// at which a computing call yields and its deadline is checked.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engines: Vec<Engine>, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("spleis-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    for engine in &engines {
                        engine.increment_epoch();
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
