//! Events delivered to a tenant's installs.

use serde::{Deserialize, Serialize};

/// One delivery of an event to one install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The event.
    pub event_id: String,
    /// Its topic.
    pub topic: String,
    /// The install's package.
    pub package: String,
    /// 0 for a platform event, n for an event emitted n plugin calls deep.
    pub depth: u32,
    /// The call's outcome kind, or `depth-limit` when it was not delivered.
    pub outcome: String,
    /// The error message, empty on success.
    pub message: String,
}
