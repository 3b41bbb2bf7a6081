//! The bodies of the notification and webhook routes.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use spleis_domain::notifications::{
    DeliveryAttempt, DeliveryStatus, NewWebhook, Notification, NotificationKind, NotificationList,
    Webhook, WebhookCreated, WebhookDelivery,
};

/// How many notifications or deliveries a page has unless asked.
pub const DEFAULT_LIMIT: u32 = 50;

/// `GET /v1/notifications?unread=&limit=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// Only the unread ones; default: all.
    #[serde(default)]
    pub unread: Option<bool>,
    /// How many, newest first: 1 to 1000, default 50.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `POST /v1/notifications/read`: which to mark read.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// The notifications' ids (at most 1000); missing: every one.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}

/// The answer to `POST /v1/notifications/read`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Marked {
    /// How many were unread and are read now.
    pub marked: u64,
}

/// `GET /v1/webhooks`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhooks {
    /// The caller's webhooks, oldest first, without their secrets.
    pub webhooks: Vec<Webhook>,
}

/// `GET /v1/webhooks/{id}/deliveries?limit=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// How many deliveries, newest first: 1 to 1000, default 50.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The answer to `GET /v1/webhooks/{id}/deliveries`: the delivery log.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Deliveries {
    /// Newest first, each with every try.
    pub deliveries: Vec<WebhookDelivery>,
}
