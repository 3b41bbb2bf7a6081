//! Emitting events to the tenant's other plugins.

use crate::Error;
use crate::bindings::spleis::plugin::events as raw;
use serde::Serialize;

/// Emits a raw payload on `topic`.
pub fn emit(topic: &str, payload: &[u8]) -> Result<(), Error> {
    Ok(raw::emit(topic, payload)?)
}

/// Emits `payload` as JSON on `topic`.
pub fn emit_json<T: Serialize + ?Sized>(topic: &str, payload: &T) -> Result<(), Error> {
    let bytes = serde_json::to_vec(payload)
        .map_err(|e| Error::new("internal", format!("cannot encode the event: {e}")))?;
    emit(topic, &bytes)
}
