//! Events: a tenant's platform event and the events plugins emit, delivered
//! to every install of the tenant that subscribes to the topic, breadth
//! first, up to [`MAX_EVENT_DEPTH`] and within the tenant's fan-out budget
//! (deliveries per originating call or event, at every depth together).
//! Every delivery is metered like a call, admitted under the tenant's share
//! and recorded; one past a limit is recorded and not run.

use crate::{Actor, Error, Platform};
use spleis_domain::accounts::Role;
use spleis_domain::events::Delivery;
use spleis_runtime::Call;
use spleis_runtime::capabilities::events::EmittedEvent;
use spleis_store::accounts::new_id;
use std::collections::VecDeque;
use std::sync::Arc;

/// The outcome of a delivery the fan-out budget dropped.
pub const FAN_OUT_LIMIT: &str = "fan-out-limit";

/// The deepest chain of plugin-emitted events that is still delivered: a
/// platform event is depth 0, what its handlers emit depth 1, and so on.
pub const MAX_EVENT_DEPTH: u32 = 4;

impl Platform {
    /// The tenant emits a platform event of `topic`: it is delivered now to
    /// the tenant's subscribing installs, and onward for what they emit.
    pub async fn emit(
        &self,
        actor: &Actor,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<Vec<Delivery>, Error> {
        spleis_registry::manifest::validate_topic(topic).map_err(Error::Invalid)?;
        let event = EmittedEvent {
            topic: topic.to_owned(),
            payload,
        };
        self.deliver(actor, vec![event], 0).await
    }

    /// Delivers `events` to every install of the tenant that subscribes to
    /// their topics, and the events those deliveries emit in turn, breadth
    /// first, up to [`MAX_EVENT_DEPTH`]. `depth` is 0 for a platform event
    /// and 1 for events a direct call emitted. Every delivery is recorded;
    /// one past the depth limit is recorded as `depth-limit` and not run.
    pub async fn deliver(
        &self,
        actor: &Actor,
        events: Vec<EmittedEvent>,
        depth: u32,
    ) -> Result<Vec<Delivery>, Error> {
        let tenant = &actor.require(&[Role::Tenant])?.id;
        let limits = self.limits_of(tenant).await?;
        // One budget of runs for everything this delivery causes, at every
        // depth: the depth limit bounds depth, this bounds breadth.
        let mut budget = limits.fan_out;
        let mut queue: VecDeque<(String, EmittedEvent, u32)> = VecDeque::new();
        for event in events {
            queue.push_back((new_id()?, event, depth));
        }
        let mut installs = Vec::new();
        for install in self.store.installs_of(tenant).await? {
            let version = self
                .store
                .version(&install.package, &install.version)
                .await?;
            installs.push((install, version));
        }
        let mut deliveries = Vec::new();
        while let Some((id, event, depth)) = queue.pop_front() {
            for (install, version) in installs
                .iter()
                .filter(|(_, v)| v.manifest.subscribes.contains(&event.topic))
            {
                let mut delivery = Delivery {
                    event_id: id.clone(),
                    topic: event.topic.clone(),
                    package: install.package.clone(),
                    depth,
                    outcome: "depth-limit".into(),
                    message: format!("not delivered: events nest at most {MAX_EVENT_DEPTH} deep"),
                };
                if depth <= MAX_EVENT_DEPTH && budget == 0 {
                    delivery.outcome = FAN_OUT_LIMIT.into();
                    delivery.message = format!(
                        "not delivered: one call or platform event may cause at most {} deliveries",
                        limits.fan_out
                    );
                } else if depth <= MAX_EVENT_DEPTH {
                    budget -= 1;
                    let call = Call::Event {
                        id: id.clone(),
                        topic: event.topic.clone(),
                        payload: event.payload.clone(),
                    };
                    // Deliveries run under the tenant's share, waiting for
                    // their turn (nobody is there to retry them).
                    let _admission = self.shares.admit_waiting(tenant, &limits).await;
                    let (answer, events) = self
                        .run_and_record(install, version, call, limits.storage_quota_bytes)
                        .await?;
                    delivery.outcome = answer.outcome.as_str().to_owned();
                    delivery.message = answer.error.map(|e| e.message).unwrap_or_default();
                    for emitted in events {
                        queue.push_back((new_id()?, emitted, depth + 1));
                    }
                }
                self.store.record_delivery(tenant, &delivery).await?;
                self.metrics.delivery();
                deliveries.push(delivery);
            }
        }
        Ok(deliveries)
    }

    /// Delivers the events a call emitted off the call's path: the caller
    /// has its answer already, so a failure is logged.
    /// The deliveries the fan-out budget dropped are noted on the record of
    /// the call that emitted the events (`usage_id`).
    /// `place` is the tenant's place among its pending deliveries, held
    /// until they ran.
    pub(crate) fn deliver_later(
        self: &Arc<Self>,
        actor: Actor,
        events: Vec<EmittedEvent>,
        usage_id: String,
        place: tokio::sync::OwnedSemaphorePermit,
    ) {
        let platform = self.clone();
        // Held while it runs, so a stop waits for it (none is refused: a
        // stop begins after the last request).
        let running = self.background.clone().try_acquire_owned().ok();
        tokio::spawn(async move {
            let (_place, _running) = (place, running);
            platform.deliver_and_note(&actor, events, &usage_id).await;
        });
    }

    /// Delivers the events a call emitted and notes on its usage record how
    /// many the fan-out budget dropped; a failure is logged (the caller has
    /// its answer).
    pub(crate) async fn deliver_and_note(
        &self,
        actor: &Actor,
        events: Vec<EmittedEvent>,
        usage_id: &str,
    ) {
        match self.deliver(actor, events, 1).await {
            Ok(deliveries) => {
                let dropped = deliveries
                    .iter()
                    .filter(|d| d.outcome == FAN_OUT_LIMIT)
                    .count() as u64;
                if dropped > 0 {
                    self.note_dropped(actor.id(), usage_id, dropped).await;
                }
            }
            Err(error) => {
                tracing::error!(tenant = %actor.id(), %error, "delivering emitted events failed");
            }
        }
    }

    /// Notes `dropped` deliveries on the call's usage record, written first
    /// if it still waits in the pipeline's queue.
    async fn note_dropped(&self, tenant: &str, usage_id: &str, dropped: u64) {
        self.usage.flush().await;
        match self
            .store
            .set_deliveries_dropped(tenant, usage_id, dropped)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(%tenant, %usage_id, "no usage record to note dropped deliveries on")
            }
            Err(error) => {
                tracing::warn!(%tenant, %usage_id, %error, "cannot note dropped deliveries")
            }
        }
    }
}
