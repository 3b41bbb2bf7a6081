//! Counters for `/metrics` (Prometheus text format).

use crate::{Actor, Platform};
use spleis_runtime::OutcomeKind;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

impl Platform {
    /// The counters in Prometheus' text format, with the sandbox's cache
    /// counters. The per-tenant series (which name tenants) are added only
    /// for the operator (`viewer`); anyone else gets the node's totals.
    pub fn render_metrics(&self, viewer: Option<&Actor>) -> String {
        let mut out = self.metrics.render(self.runtime.cache_stats());
        render_shares(
            &mut out,
            &self.shares,
            viewer.is_some_and(Actor::is_operator),
        );
        out
    }
}

/// Throttling and running calls, in all and (`per_tenant`) by tenant, and
/// refusals of a full pool.
fn render_shares(out: &mut String, shares: &crate::shares::Shares, per_tenant: bool) {
    let usage = shares.all_usage();
    let (rate, concurrency, running) =
        usage.iter().fold((0u64, 0u64, 0u64), |(r, c, n), (_, u)| {
            (
                r.saturating_add(u.throttled_rate),
                c.saturating_add(u.throttled_concurrency),
                n.saturating_add(u64::from(u.running)),
            )
        });
    let _ = writeln!(
        out,
        "# HELP spleis_throttled_total Calls refused over their tenant's share, by reason.\n# TYPE spleis_throttled_total counter\n\
         spleis_throttled_total{{reason=\"rate\"}} {rate}\nspleis_throttled_total{{reason=\"concurrency\"}} {concurrency}\n\
         # HELP spleis_running_calls Calls running now.\n# TYPE spleis_running_calls gauge\nspleis_running_calls {running}"
    );
    if per_tenant {
        let _ = writeln!(
            out,
            "# HELP spleis_tenant_throttled_total Calls refused over the tenant's share, by tenant and reason.\n# TYPE spleis_tenant_throttled_total counter"
        );
        for (tenant, u) in &usage {
            let tenant = label(tenant);
            let _ = writeln!(
                out,
                "spleis_tenant_throttled_total{{tenant=\"{tenant}\",reason=\"rate\"}} {}\nspleis_tenant_throttled_total{{tenant=\"{tenant}\",reason=\"concurrency\"}} {}",
                u.throttled_rate, u.throttled_concurrency
            );
        }
        let _ = writeln!(
            out,
            "# HELP spleis_tenant_running_calls Calls running now, by tenant.\n# TYPE spleis_tenant_running_calls gauge"
        );
        for (tenant, u) in &usage {
            let _ = writeln!(
                out,
                "spleis_tenant_running_calls{{tenant=\"{}\"}} {}",
                label(tenant),
                u.running
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP spleis_at_capacity_total Calls refused because every slot of the pool was busy.\n# TYPE spleis_at_capacity_total counter\nspleis_at_capacity_total {}",
        shares.busy_refusals()
    );
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
