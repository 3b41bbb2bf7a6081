//! The operator's per-tenant overrides of the server's default limits.

use serde::{Deserialize, Serialize};

/// What the operator set for one tenant; `None` takes the server's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Calls of the tenant running at once.
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Calls per second, sustained.
    #[serde(default)]
    pub rate_per_second: Option<u32>,
    /// Calls that may come at once above the rate (the bucket's size).
    #[serde(default)]
    pub burst: Option<u32>,
    /// Bytes of storage each install may keep.
    #[serde(default)]
    pub storage_quota_bytes: Option<u64>,
    /// Event deliveries one call or one platform event may cause, at every
    /// depth together.
    #[serde(default)]
    pub fan_out: Option<u32>,
}
