//! The limits in force for a tenant and the server's defaults they are
//! resolved from: values only. A leaf, so admission ([`crate::shares`])
//! reads them without importing the operator's operations
//! ([`crate::limits`]), which show a tenant its share's current use.

use serde::{Deserialize, Serialize};
use spleis_domain::limits::LimitOverrides;
use std::time::Duration;
use utoipa::ToSchema;

/// The server's defaults for every tenant (the operator's configuration).
#[derive(Clone, Debug)]
pub struct LimitDefaults {
    /// Calls of one tenant running at once.
    pub concurrency: u32,
    /// Calls per second one tenant may make, sustained.
    pub rate_per_second: u32,
    /// Calls one tenant may make at once above the rate.
    pub burst: u32,
    /// Bytes of storage each install may keep.
    pub storage_quota_bytes: u64,
    /// Event deliveries one call or platform event may cause in all.
    pub fan_out: u32,
    /// How long a call over its tenant's concurrency waits for a slot
    /// before it is refused with 429.
    pub queue_wait: Duration,
}

impl LimitDefaults {
    /// Defaults for a sandbox of `instances` slots: a tenant may hold a
    /// quarter of them, so one tenant never holds every slot.
    pub fn for_instances(instances: u32) -> Self {
        Self {
            concurrency: (instances / 4).max(1),
            rate_per_second: 1000,
            burst: 2000,
            storage_quota_bytes: 10 << 20,
            fan_out: 100,
            queue_wait: Duration::from_millis(100),
        }
    }
}

/// One tenant's limits in force: the defaults with the operator's
/// overrides applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantLimits {
    /// Calls running at once.
    pub concurrency: u32,
    /// Calls per second, sustained.
    pub rate_per_second: u32,
    /// Calls at once above the rate.
    pub burst: u32,
    /// Bytes of storage each install may keep.
    pub storage_quota_bytes: u64,
    /// Event deliveries one call or platform event may cause in all.
    pub fan_out: u32,
}

impl TenantLimits {
    /// `defaults` with `overrides` applied.
    pub fn resolve(defaults: &LimitDefaults, overrides: &LimitOverrides) -> Self {
        Self {
            concurrency: overrides.concurrency.unwrap_or(defaults.concurrency),
            rate_per_second: overrides
                .rate_per_second
                .unwrap_or(defaults.rate_per_second),
            burst: overrides.burst.unwrap_or(defaults.burst),
            storage_quota_bytes: overrides
                .storage_quota_bytes
                .unwrap_or(defaults.storage_quota_bytes),
            fan_out: overrides.fan_out.unwrap_or(defaults.fan_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_defaults_field_by_field() {
        let defaults = LimitDefaults::for_instances(64);
        assert_eq!(defaults.concurrency, 16);
        let limits = TenantLimits::resolve(
            &defaults,
            &LimitOverrides {
                burst: Some(5),
                ..LimitOverrides::default()
            },
        );
        assert_eq!(limits.burst, 5);
        assert_eq!(limits.rate_per_second, defaults.rate_per_second);
        assert_eq!(LimitDefaults::for_instances(2).concurrency, 1);
    }
}
