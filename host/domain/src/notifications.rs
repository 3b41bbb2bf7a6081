//! Notifications: what an account is told (its inbox), the webhooks it
//! registers to be told by HTTP, and the log of every try to deliver.
//!
//! The words only: the platform decides who is told what and sends the
//! deliveries; the store keeps the rows.

use crate::DatabaseError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The most notifications kept per account: older ones are dropped when a
/// new one arrives, so an inbox never grows without bound.
pub const MAX_INBOX: u32 = 1_000;

/// The most webhooks one account may register.
pub const MAX_WEBHOOKS: usize = 10;

/// The longest webhook URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2_000;

/// The most notifications one read or one mark-read names.
pub const MAX_PAGE: u32 = 1_000;

/// What a notification is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    /// A request's status changed.
    RequestStatus,
    /// A comment on a request the account subscribes to.
    RequestComment,
    /// A request's funding reached its goal.
    FundingReached,
    /// A request's funding passed its deadline short of its goal.
    FundingLapsed,
    /// A request was delivered by a plugin.
    RequestDelivered,
    /// An invoice to the account was issued.
    InvoiceIssued,
    /// A statement to the account was issued.
    StatementIssued,
    /// A new version of an installed plugin waits for the tenant's approval.
    UpgradePending,
}

impl NotificationKind {
    /// Every kind, in a fixed order.
    pub const ALL: [NotificationKind; 8] = [
        NotificationKind::RequestStatus,
        NotificationKind::RequestComment,
        NotificationKind::FundingReached,
        NotificationKind::FundingLapsed,
        NotificationKind::RequestDelivered,
        NotificationKind::InvoiceIssued,
        NotificationKind::StatementIssued,
        NotificationKind::UpgradePending,
    ];

    /// Its name on the wire and in rows (`invoice-issued`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::RequestStatus => "request-status",
            NotificationKind::RequestComment => "request-comment",
            NotificationKind::FundingReached => "funding-reached",
            NotificationKind::FundingLapsed => "funding-lapsed",
            NotificationKind::RequestDelivered => "request-delivered",
            NotificationKind::InvoiceIssued => "invoice-issued",
            NotificationKind::StatementIssued => "statement-issued",
            NotificationKind::UpgradePending => "upgrade-pending",
        }
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a notification kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a notification kind (kinds: {kinds})", kinds = kind_names())]
pub struct UnknownKind(pub String);

fn kind_names() -> String {
    NotificationKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for NotificationKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// One notification in an account's inbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    /// Its id (sorts by creation time).
    pub id: String,
    /// What it is about.
    pub kind: NotificationKind,
    /// The thing it is about: a request id, an invoice number, a package.
    pub subject: String,
    /// One sentence for people.
    pub text: String,
    /// Details for programs (the kind says which fields).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it was made (unix ms).
    pub created_at: i64,
    /// Whether the account has marked it read.
    pub read: bool,
}

/// A page of an inbox, newest first, and how many are unread in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationList {
    /// The notifications asked for, newest first.
    pub items: Vec<Notification>,
    /// Unread notifications in the whole inbox.
    pub unread: u64,
}

/// A webhook as its account sees it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The kinds delivered; empty: every kind.
    pub events: Vec<NotificationKind>,
    /// When it was registered (unix ms).
    pub created_at: i64,
}

impl Webhook {
    /// Whether a notification of `kind` goes to this webhook.
    pub fn wants(&self, kind: NotificationKind) -> bool {
        self.events.is_empty() || self.events.contains(&kind)
    }
}

/// A webhook to register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An `https://` URL whose host resolves only to public addresses.
    pub url: String,
    /// The kinds to deliver; missing or empty: every kind.
    #[serde(default)]
    pub events: Vec<NotificationKind>,
}

/// A registered webhook and its signing secret, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookCreated {
    /// The webhook.
    pub webhook: Webhook,
    /// The key of its `Spleis-Signature` HMAC (`whsec_` and 64 hex
    /// digits): shown once, never listed again.
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// Waiting for its next try.
    Pending,
    /// A try was answered with a 2xx.
    Delivered,
    /// Given up: no try succeeded within a day of the first.
    Failed,
}

impl DeliveryStatus {
    /// Its name in rows.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!("`{other}` is not a delivery status")),
        }
    }
}

/// One try to deliver: a row of the webhook's delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first try.
    pub attempt: u32,
    /// When it was sent (unix ms).
    pub tried_at: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed without an answer (connect, timeout, refused address),
    /// at most a few hundred characters.
    pub error: Option<String>,
    /// How long it took, in ms.
    pub duration_ms: u64,
    /// What followed: the delivery `delivered`, `failed` (given up), or
    /// `pending` with the next try at `next_try_at`.
    pub outcome: DeliveryStatus,
    /// When the next try is due, after a failed try that is retried.
    pub next_try_at: Option<i64>,
}

/// One notification's delivery to one webhook, with every try.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookDelivery {
    /// Its id (the `Spleis-Delivery` header).
    pub id: String,
    /// The notification delivered (the body's `id`).
    pub event_id: String,
    /// Its kind (the `Spleis-Event` header).
    pub kind: NotificationKind,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// When it was made (unix ms).
    pub created_at: i64,
    /// When the next try is due, while pending.
    pub next_try_at: Option<i64>,
    /// Every try so far, first first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// Why a webhook operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL breaks a rule (scheme, userinfo, length, form).
    #[error("the webhook URL is refused: {0}")]
    InvalidUrl(String),
    /// The URL's host resolves to an address that is not public.
    #[error(
        "the webhook URL's host `{host}` resolves to {address}, {reason}: webhooks go only to public addresses"
    )]
    PrivateAddress {
        /// The host in the URL.
        host: String,
        /// The address it resolved to.
        address: String,
        /// What kind of address it is (`a loopback address`).
        reason: &'static str,
    },
    /// The URL's host does not resolve.
    #[error("the webhook URL's host `{host}` does not resolve: {reason}")]
    Unresolvable {
        /// The host in the URL.
        host: String,
        /// Why.
        reason: String,
    },
    /// The account has as many webhooks as it may.
    #[error("an account may register at most {max} webhooks; remove one first")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// No webhook of the account has this id.
    #[error("no webhook `{0}`")]
    NotFound(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_kebab_case_on_the_wire_and_in_rows() {
        for kind in NotificationKind::ALL {
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, kind.as_str());
            assert_eq!(kind.as_str().parse::<NotificationKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        let unknown = "invoice_issued".parse::<NotificationKind>().unwrap_err();
        assert!(unknown.to_string().contains("invoice-issued"), "{unknown}");
    }

    #[test]
    fn a_webhook_without_events_wants_every_kind() {
        let mut hook = Webhook {
            id: "w".into(),
            url: "https://example.com/".into(),
            events: vec![],
            created_at: 0,
        };
        assert!(NotificationKind::ALL.iter().all(|k| hook.wants(*k)));
        hook.events = vec![NotificationKind::InvoiceIssued];
        assert!(hook.wants(NotificationKind::InvoiceIssued));
        assert!(!hook.wants(NotificationKind::UpgradePending));
    }

    #[test]
    fn a_new_webhook_may_leave_out_its_events_but_names_no_unknown_field() {
        let hook: NewWebhook = serde_json::from_str(r#"{"url": "https://x.example/"}"#).unwrap();
        assert!(hook.events.is_empty());
        assert!(serde_json::from_str::<NewWebhook>(r#"{"url": "u", "secret": "s"}"#).is_err());
        assert!(serde_json::from_str::<NewWebhook>(r#"{"url": "u", "events": ["nope"]}"#).is_err());
    }
}
