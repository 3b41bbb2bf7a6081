//! `events`: what a call emits, collected for the platform to deliver.

use super::CallCapabilities;
use crate::bindings::HostError;
use crate::bindings::latest::spleis::plugin::events;
use crate::limits::{LimitBreach, Limits};
use serde::{Deserialize, Serialize};
use spleis_registry::Capability;
use spleis_registry::manifest::validate_topic;

/// An event a plugin emitted during a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmittedEvent {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// The events of one call, bounded in number and payload size.
pub(crate) struct Outbox {
    events: Vec<EmittedEvent>,
    max_events: u32,
    max_payload: u64,
}

impl Outbox {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            events: Vec::new(),
            max_events: limits.events,
            max_payload: limits.event_payload_bytes,
        }
    }

    pub(crate) fn into_events(self) -> Vec<EmittedEvent> {
        self.events
    }
}

impl events::Host for CallCapabilities {
    fn emit(&mut self, topic: String, payload: Vec<u8>) -> wasmtime::Result<Result<(), HostError>> {
        if let Err(e) = self.granted(Capability::Events) {
            return Ok(Err(e));
        }
        if let Err(problem) = validate_topic(&topic) {
            return Ok(Err(HostError::InvalidArgument(problem)));
        }
        let outbox = &mut self.events;
        if payload.len() as u64 > outbox.max_payload {
            return Ok(Err(HostError::InvalidArgument(format!(
                "an event payload is at most {} bytes, this one has {}",
                outbox.max_payload,
                payload.len()
            ))));
        }
        if outbox.events.len() as u64 >= u64::from(outbox.max_events) {
            return Err(wasmtime::Error::new(LimitBreach::Events {
                limit: outbox.max_events,
            }));
        }
        outbox.events.push(EmittedEvent { topic, payload });
        Ok(Ok(()))
    }
}
