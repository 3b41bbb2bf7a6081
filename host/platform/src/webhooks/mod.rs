//! Webhooks: each account registers URLs that its notifications are
//! POSTed to, signed with a secret shown once. An account sees, removes
//! and reads the delivery log of its own webhooks only (the operator
//! too: a webhook is its account's, whatever the role).
//!
//! | module | what |
//! |---|---|
//! | [`address`] | the URL rules and which addresses are public |
//! | [`signature`] | the `Spleis-Signature` header |
//! | [`schedule`] | when a failed try is tried again, when it is given up |
//! | `send` | one try over HTTP |
//! | `worker` | the background worker that claims due tries and records them |

pub mod address;
pub mod schedule;
mod send;
pub mod signature;
mod worker;

use crate::{Actor, Error, Platform};
use schedule::Schedule;
use spleis_domain::notifications::{
    MAX_PAGE, MAX_WEBHOOKS, NewWebhook, Webhook, WebhookCreated, WebhookDelivery, WebhookError,
};
use spleis_store::accounts::{new_id, new_key};
use spleis_store::now_ms;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use send::{CONNECT_TIMEOUT, TRY_TIMEOUT};

/// The prefix of a webhook's secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Tries that run at once on a node, all webhooks together: a slow
/// receiver holds one for at most [`TRY_TIMEOUT`].
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Days a finished delivery (delivered or given up) stays in its webhook's
/// log; the hourly retention purge deletes older ones.
pub const DELIVERY_LOG_DAYS: i64 = 30;

/// How webhooks are delivered on this node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WebhookConfig {
    /// Accept webhooks to private, loopback and other non-public addresses,
    /// and plain `http://` (`--webhook-allow-private`: tests and closed
    /// networks). Off: no account can make the server call into its own
    /// network.
    pub allow_private: bool,
    /// The retry schedule (`--webhook-retry-scale` shrinks it for tests).
    pub schedule: Schedule,
    /// Tries at once on this node.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            schedule: Schedule::default(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// A node's webhook state: its configuration, the worker's wake-up, and
/// the tries running.
pub(crate) struct Webhooks {
    /// How deliveries are made here.
    pub(crate) config: WebhookConfig,
    /// Wakes the worker: a new delivery, a try that finished, a stop.
    pub(crate) wake: tokio::sync::Notify,
    /// Set by `drain`: claim nothing more.
    pub(crate) stopping: AtomicBool,
    /// One permit per try running.
    pub(crate) tries: Arc<tokio::sync::Semaphore>,
}

impl Webhooks {
    /// The state for `config`.
    pub(crate) fn new(config: WebhookConfig) -> Self {
        Self {
            tries: Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1))),
            config,
            wake: tokio::sync::Notify::new(),
            stopping: AtomicBool::new(false),
        }
    }

    /// Tells the worker there is work (or a stop).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops claiming tries; those running finish (`drain` waits for them).
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake();
    }
}

impl Platform {
    /// The same platform delivering webhooks as `config` says.
    pub fn with_webhooks(mut self, config: WebhookConfig) -> Platform {
        self.webhooks = Webhooks::new(config);
        self
    }

    /// Registers a webhook for the actor's account (any role): its URL must
    /// be `https://` with a host whose every address is public (unless the
    /// operator allows private targets); at most [`MAX_WEBHOOKS`] per
    /// account. The answer carries the signing secret, shown this once.
    pub async fn add_webhook(
        &self,
        actor: &Actor,
        new: NewWebhook,
    ) -> Result<WebhookCreated, Error> {
        let allow_private = self.webhooks.config.allow_private;
        let url = address::check_url(new.url.trim(), allow_private)?;
        if !allow_private {
            address::check_resolves(&url).await?;
        }
        let mut events = new.events;
        events.sort();
        events.dedup();
        let webhook = Webhook {
            id: new_id()?,
            url: url.url,
            events,
            created_at: now_ms(),
        };
        let secret = format!("{SECRET_PREFIX}{}", new_key()?);
        if !self
            .store
            .add_webhook(actor.id(), &webhook, &secret, MAX_WEBHOOKS)
            .await?
        {
            return Err(WebhookError::TooMany { max: MAX_WEBHOOKS }.into());
        }
        tracing::info!(account = %actor.id(), webhook = %webhook.id, "webhook registered");
        Ok(WebhookCreated { webhook, secret })
    }

    /// The actor's webhooks, oldest first, without their secrets.
    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>, Error> {
        Ok(self.store.webhooks(actor.id()).await?)
    }

    /// Removes one of the actor's webhooks, with its deliveries and their
    /// log; another account's is not found.
    pub async fn remove_webhook(&self, actor: &Actor, id: &str) -> Result<(), Error> {
        if !self.store.remove_webhook(actor.id(), id).await? {
            return Err(WebhookError::NotFound(id.to_owned()).into());
        }
        Ok(())
    }

    /// Deletes finished deliveries older than [`DELIVERY_LOG_DAYS`]; how
    /// many.
    pub async fn purge_delivery_log(&self) -> Result<u64, Error> {
        let cutoff = now_ms().saturating_sub(DELIVERY_LOG_DAYS * 24 * 60 * 60 * 1000);
        Ok(self.store.purge_deliveries(cutoff).await?)
    }

    /// The newest `limit` (1 to [`MAX_PAGE`]) deliveries of one of the
    /// actor's webhooks, each with every try; another account's webhook is
    /// not found.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: &str,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, Error> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::Invalid(format!(
                "limit {limit} is out of range: 1 to {MAX_PAGE}"
            )));
        }
        self.store
            .webhook_deliveries(actor.id(), id, limit)
            .await?
            .ok_or_else(|| WebhookError::NotFound(id.to_owned()).into())
    }
}
