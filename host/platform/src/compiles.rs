//! Compiles on a node: one per digest at a time (a concurrent load of the
//! same bytes waits for it and then finds it in memory), and at most
//! [`MAX_CONCURRENT_COMPILES`] at once, so a burst of publishes cannot take
//! every core and the memory of several large compiles at once.

use spleis_registry::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// Compiles that may run at once on a node.
pub const MAX_CONCURRENT_COMPILES: usize = 2;

/// The node's compile gates.
pub struct Compiles {
    gates: Mutex<HashMap<Digest, Weak<AsyncMutex<()>>>>,
    slots: Arc<Semaphore>,
}

impl Default for Compiles {
    fn default() -> Self {
        Self {
            gates: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_COMPILES)),
        }
    }
}

/// The right to compile one digest: held until the component is loaded.
pub struct CompileTurn {
    _digest: OwnedMutexGuard<()>,
}

impl Compiles {
    /// Waits for the turn to load `digest`: after another load of the same
    /// digest finished.
    pub async fn turn(&self, digest: &Digest) -> CompileTurn {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            gates.retain(|_, gate| gate.strong_count() > 0);
            match gates.get(digest).and_then(Weak::upgrade) {
                Some(gate) => gate,
                None => {
                    let gate = Arc::new(AsyncMutex::new(()));
                    gates.insert(*digest, Arc::downgrade(&gate));
                    gate
                }
            }
        };
        CompileTurn {
            _digest: gate.lock_owned().await,
        }
    }

    /// Waits for one of the node's compile slots.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_turn_per_digest_at_a_time() {
        let compiles = Arc::new(Compiles::default());
        let digest = Digest::of(b"component");
        let first = compiles.turn(&digest).await;
        let waiting = {
            let compiles = compiles.clone();
            tokio::spawn(async move { compiles.turn(&digest).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the second load waits");
        // Another digest does not wait.
        let _other = compiles.turn(&Digest::of(b"other")).await;
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
    }
}
