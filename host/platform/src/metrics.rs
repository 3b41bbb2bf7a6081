//! Counters for `/metrics` (Prometheus text format).

use crate::Platform;
use spleis_runtime::OutcomeKind;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

impl Platform {
    /// The counters in Prometheus' text format, with the sandbox's cache
    /// counters.
    pub fn render_metrics(&self) -> String {
        self.metrics.render(self.runtime.cache_stats())
    }
}

/// The platform's counters.
#[derive(Default)]
pub struct Metrics {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    fuel: AtomicU64,
    wall_time_us: AtomicU64,
    deliveries: AtomicU64,
    publishes: AtomicU64,
}

impl Metrics {
    /// Counts one finished call.
    pub fn call(&self, outcome: OutcomeKind, fuel: u64, wall_time_us: u64) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        *calls.entry(outcome.as_str()).or_default() += 1;
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
        self.wall_time_us.fetch_add(wall_time_us, Ordering::Relaxed);
    }

    /// Counts one event delivery.
    pub fn delivery(&self) {
        self.deliveries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one new published version.
    pub fn publish(&self) {
        self.publishes.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with the runtime's cache counters.
    pub fn render(&self, cache: spleis_runtime::CacheStats) -> String {
        let mut out = String::new();
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP spleis_calls_total Plugin calls by outcome kind.\n# TYPE spleis_calls_total counter"
        );
        for (outcome, n) in calls.iter() {
            let _ = writeln!(out, "spleis_calls_total{{outcome=\"{outcome}\"}} {n}");
        }
        for (name, help, value) in [
            (
                "spleis_fuel_consumed_total",
                "Fuel consumed by all calls.",
                self.fuel.load(Ordering::Relaxed),
            ),
            (
                "spleis_call_wall_time_microseconds_total",
                "Wall time of all calls.",
                self.wall_time_us.load(Ordering::Relaxed),
            ),
            (
                "spleis_event_deliveries_total",
                "Event deliveries.",
                self.deliveries.load(Ordering::Relaxed),
            ),
            (
                "spleis_versions_published_total",
                "New plugin versions published.",
                self.publishes.load(Ordering::Relaxed),
            ),
            (
                "spleis_components_compiled_total",
                "Components compiled by cranelift.",
                cache.compiled,
            ),
            (
                "spleis_components_disk_loads_total",
                "Components loaded from the disk cache.",
                cache.disk_loads,
            ),
            (
                "spleis_components_memory_hits_total",
                "Component loads answered from memory.",
                cache.memory_hits,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}
