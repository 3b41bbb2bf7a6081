//! The background worker of a node: it claims due deliveries from the
//! database (so nothing is lost across a restart, and of two nodes on one
//! PostgreSQL only one sends a try), sends each on the blocking pool, a
//! few at once so one slow receiver cannot stall the rest, and records
//! every try with what follows it (delivered, the next try, or given up).
//! Delivery is at least once: a node that dies between sending and
//! recording leaves a claim that lapses, and the try is made again.

use super::send::{self, Outgoing, Sent};
use crate::{Error, Platform};
use spleis_domain::notifications::{DeliveryAttempt, DeliveryStatus};
use spleis_store::accounts::new_id;
use spleis_store::notifications::ClaimedDelivery;
use spleis_store::now_ms;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the worker looks without being woken: for deliveries other
/// nodes made and claims that lapsed.
const POLL: Duration = Duration::from_secs(5);
/// How long a claim holds a delivery: longer than a try can take.
const CLAIM_FOR: Duration = Duration::from_secs(60);
/// The pause after the database failed.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// The shortest wait between two rounds.
const MIN_WAIT: Duration = Duration::from_millis(5);

impl Platform {
    /// Starts this node's webhook worker, for as long as the platform runs
    /// (until `drain`).
    pub fn spawn_webhook_worker(self: &Arc<Self>) {
        let platform = self.clone();
        tokio::spawn(async move { platform.webhook_worker().await });
    }

    async fn webhook_worker(self: Arc<Self>) {
        let agent = Arc::new(send::agent(self.webhooks.config.allow_private));
        while !self.webhooks.stopping.load(Ordering::SeqCst) {
            let wait = match self.start_due_tries(&agent).await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::warn!(%error, "webhook worker: cannot read due deliveries");
                    ERROR_PAUSE
                }
            };
            tokio::select! {
                () = self.webhooks.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Claims the tries due now, as many as there are free slots, and
    /// starts each; how long until the next one is due (at most [`POLL`]).
    async fn start_due_tries(
        self: &Arc<Self>,
        agent: &Arc<ureq::Agent>,
    ) -> Result<Duration, Error> {
        let webhooks = &self.webhooks;
        let free = webhooks.tries.available_permits();
        let now = now_ms();
        if free > 0 {
            let due = self
                .store
                .due_deliveries(now, u32::try_from(free).unwrap_or(u32::MAX))
                .await?;
            for id in due {
                if webhooks.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(slot) = webhooks.tries.clone().try_acquire_owned() else {
                    break;
                };
                // `drain` waits for the tries running, as for every
                // background work.
                let Ok(background) = self.background.clone().try_acquire_owned() else {
                    break;
                };
                let until = now.saturating_add(CLAIM_FOR.as_millis() as i64);
                let Some(delivery) = self
                    .store
                    .claim_delivery(&id, &new_id()?, now, until)
                    .await?
                else {
                    // Another node took it.
                    continue;
                };
                let platform = self.clone();
                let agent = agent.clone();
                tokio::spawn(async move {
                    platform.try_delivery(agent, delivery).await;
                    drop((slot, background));
                    platform.webhooks.wake();
                });
            }
        }
        if webhooks.tries.available_permits() == 0 {
            // A try that ends wakes the worker.
            return Ok(POLL);
        }
        let now = now_ms();
        Ok(match self.store.next_delivery_due(now).await? {
            Some(due) => {
                let ms = due.saturating_sub(now).clamp(0, POLL.as_millis() as i64);
                Duration::from_millis(ms as u64).max(MIN_WAIT)
            }
            None => POLL,
        })
    }

    /// Makes one try of a claimed delivery and records it.
    async fn try_delivery(&self, agent: Arc<ureq::Agent>, delivery: ClaimedDelivery) {
        let started = now_ms();
        let first_try_at = delivery.first_try_at.unwrap_or(started);
        let attempt = delivery.attempts.saturating_add(1);
        let allow_private = self.webhooks.config.allow_private;
        let sending = delivery.clone();
        let sent = tokio::task::spawn_blocking(move || {
            let out = Outgoing {
                url: &sending.url,
                secret: &sending.secret,
                delivery: &sending.id,
                kind: sending.kind.as_str(),
                body: &sending.body,
                timestamp: started.div_euclid(1000),
            };
            send::send(&agent, &out, allow_private)
        })
        .await
        .unwrap_or_else(|e| Sent {
            status_code: None,
            error: Some(format!("the sender failed: {e}")),
            duration: Duration::ZERO,
        });
        let finished = now_ms();
        let (outcome, next_try_at) = if sent.delivered() {
            (DeliveryStatus::Delivered, None)
        } else {
            match self.webhooks.config.schedule.next_try(
                &delivery.id,
                attempt,
                first_try_at,
                finished,
            ) {
                Some(at) => (DeliveryStatus::Pending, Some(at)),
                None => (DeliveryStatus::Failed, None),
            }
        };
        let record = DeliveryAttempt {
            attempt,
            tried_at: started,
            status_code: sent.status_code,
            error: sent.error,
            duration_ms: u64::try_from(sent.duration.as_millis()).unwrap_or(u64::MAX),
            outcome,
            next_try_at,
        };
        match self
            .store
            .record_try(&delivery.id, &delivery.claim, &record, first_try_at)
            .await
        {
            Ok(true) => tracing::debug!(
                delivery = %delivery.id, attempt, status = ?record.status_code,
                outcome = record.outcome.as_str(), "webhook try"
            ),
            Ok(false) => tracing::warn!(
                delivery = %delivery.id, attempt,
                "webhook try not recorded: its claim lapsed and another node took it"
            ),
            // The claim lapses and the try is made again: at least once.
            Err(error) => {
                tracing::warn!(delivery = %delivery.id, %error, "cannot record a webhook try")
            }
        }
        if record.outcome == DeliveryStatus::Failed {
            tracing::warn!(delivery = %delivery.id, attempt, "webhook delivery given up after a day of tries");
        }
    }
}
