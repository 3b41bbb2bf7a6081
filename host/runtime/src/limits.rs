//! Per-call limits and the resource limiter that enforces memory and tables.

use std::time::Duration;

/// What one call may use. Every breach ends that call with its own
/// [`OutcomeKind`](super::OutcomeKind); the host goes on serving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Instruction budget (wasmtime fuel). Deterministic: the same work
    /// costs the same fuel on every machine.
    pub fuel: u64,
    /// Wall-clock deadline, enforced by epoch interruption.
    pub timeout: Duration,
    /// Linear memory, all memories of the instance together, in bytes.
    pub memory_bytes: u64,
    /// Table elements, all tables of the instance together.
    pub table_elements: u64,
    /// Size of the response body (or event result) in bytes.
    pub output_bytes: u64,
    /// Log volume in bytes: the `log` import, stdout and stderr together.
    pub log_bytes: u64,
    /// Events the call may emit.
    pub events: u32,
    /// Size of one emitted event's payload in bytes.
    pub event_payload_bytes: u64,
    /// Distinct keys of unique metrics one call may report, all metrics
    /// together: bounds the usage record.
    pub meter_keys: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 500_000_000,
            timeout: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            table_elements: 10_000,
            output_bytes: 1 << 20,
            log_bytes: 64 << 10,
            events: 100,
            event_payload_bytes: 64 << 10,
            meter_keys: 1000,
        }
    }
}

impl Limits {
    /// The limits of the trial instantiation at load: a component's start
    /// does nothing a Rust component needs seconds or billions of
    /// instructions for.
    pub fn trial() -> Self {
        Self {
            fuel: 100_000_000,
            timeout: Duration::from_secs(1),
            ..Self::default()
        }
    }
}

/// A limit the plugin hit. Raised as a trap from inside the call, then
/// recognised when the call's error is classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitBreach {
    /// Linear memory would grow past the limit.
    #[error("linear memory would grow to {desired} bytes, over the limit of {limit} bytes")]
    Memory {
        /// Bytes the instance asked for in all.
        desired: u64,
        /// The limit.
        limit: u64,
    },
    /// Tables would grow past the limit.
    #[error("tables would grow to {desired} elements, over the limit of {limit}")]
    Table {
        /// Elements asked for in all.
        desired: u64,
        /// The limit.
        limit: u64,
    },
    /// The log volume was used up.
    #[error("the call wrote more than {limit} bytes of log (log, stdout and stderr together)")]
    Log {
        /// The limit.
        limit: u64,
    },
    /// Too many events were emitted.
    #[error("the call emitted more than {limit} events")]
    Events {
        /// The limit.
        limit: u32,
    },
    /// Too many distinct keys of unique metrics were reported.
    #[error("the call reported more than {limit} distinct keys of unique metrics")]
    MeterKeys {
        /// The limit.
        limit: u32,
    },
    /// A storage write would pass the install's quota.
    #[error("storage quota exceeded: {used} of {quota} bytes used, the write needs {needed} more")]
    StorageQuota {
        /// Bytes already stored.
        used: u64,
        /// The quota.
        quota: u64,
        /// What the write would add.
        needed: u64,
    },
}

/// Enforces [`Limits::memory_bytes`] and [`Limits::table_elements`] and
/// records the peak memory for the usage record.
#[derive(Debug)]
pub(crate) struct CallLimiter {
    memory_limit: u64,
    table_limit: u64,
    memory_now: u64,
    tables_now: u64,
    /// Highest total linear memory seen during the call.
    pub(crate) peak_memory: u64,
}

impl CallLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            memory_limit: limits.memory_bytes,
            table_limit: limits.table_elements,
            memory_now: 0,
            tables_now: 0,
            peak_memory: 0,
        }
    }
}

/// The total after one memory or table of the instance grows from
/// `current` to `desired`, if it stays within `limit`; else the total it
/// would have reached.
fn grow(now: &mut u64, limit: u64, current: usize, desired: usize) -> Result<u64, u64> {
    let total = (*now - (current as u64).min(*now)).saturating_add(desired as u64);
    if total > limit {
        return Err(total);
    }
    *now = total;
    Ok(total)
}

// Refusals are errors, not `Ok(false)`: an error traps at once with a kind
// we can recognise, while `Ok(false)` makes Rust guests abort with an
// anonymous `unreachable`.
impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.memory_limit;
        let total = grow(&mut self.memory_now, limit, current, desired)
            .map_err(|desired| wasmtime::Error::new(LimitBreach::Memory { desired, limit }))?;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.table_limit;
        grow(&mut self.tables_now, limit, current, desired)
            .map_err(|desired| wasmtime::Error::new(LimitBreach::Table { desired, limit }))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn memory_is_counted_across_memories_and_refused_past_the_limit() {
        let mut limiter = CallLimiter::new(&Limits {
            memory_bytes: 100,
            ..Limits::default()
        });
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 30, None).unwrap());
        assert_eq!(limiter.peak_memory, 90);
        let err = limiter.memory_growing(30, 50, None).unwrap_err();
        assert!(matches!(
            err.downcast_ref::<LimitBreach>(),
            Some(LimitBreach::Memory {
                desired: 110,
                limit: 100
            })
        ));
        assert_eq!(limiter.peak_memory, 90);
    }

    #[test]
    fn tables_are_limited() {
        let mut limiter = CallLimiter::new(&Limits {
            table_elements: 10,
            ..Limits::default()
        });
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert!(limiter.table_growing(10, 11, None).is_err());
    }
}
