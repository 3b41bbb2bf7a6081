//! Fair shares: every call of a tenant is admitted by the tenant's rate (a
//! token bucket) and concurrency cap, then to the instance pool all tenants
//! share. Over its share a tenant waits a bounded time, then is refused with
//! [`Throttled`] (429 with `Retry-After`); a full pool is refused as busy
//! (503), never as a fault.
//!
//! The pool keeps a reserve (a quarter of its slots, at least two) for
//! quiet tenants: a call may take a reserve slot only if no other call of
//! its tenant holds a pool slot. So a tenant holds at most
//! the general part and one reserve slot, whatever its cap, and a quiet
//! tenant's call finds a slot at once unless as many other tenants as the
//! reserve has slots each hold one.

use crate::tenant_limits::TenantLimits;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use utoipa::ToSchema;

/// Event deliveries one tenant may have waiting in the background; past
/// it, the tenant's next call delivers its events before it answers, so a
/// tenant that emits faster than its deliveries run slows only itself.
pub const MAX_PENDING_DELIVERIES: usize = 1000;

/// Instance slots kept for the load-time trials of new components, so
/// publishes never take a call's slot and calls never starve a publish.
pub const TRIAL_SLOTS: u32 = 4;

/// Why a call was not admitted. Each says when to retry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Throttled {
    /// The tenant called faster than its rate.
    #[error(
        "too many calls: the tenant's rate is {rate} per second with bursts of {burst}; retry after {} s",
        retry_secs(.retry_after)
    )]
    Rate {
        /// The tenant's rate.
        rate: u32,
        /// The tenant's burst.
        burst: u32,
        /// When a call will be admitted again.
        retry_after: Duration,
    },
    /// The tenant had its cap of calls running for the whole wait.
    #[error(
        "too many calls at once: the tenant may run {concurrency} at a time and all are busy; retry after {} s",
        retry_secs(.retry_after)
    )]
    Concurrency {
        /// The tenant's cap.
        concurrency: u32,
        /// A suggestion: the queue wait.
        retry_after: Duration,
    },
    /// Every slot of the shared pool was busy for the whole wait.
    #[error("the platform is at capacity ({slots} calls running); retry after {} s", retry_secs(.retry_after))]
    Busy {
        /// The pool's size.
        slots: u32,
        /// A suggestion.
        retry_after: Duration,
    },
}

fn retry_secs(d: &Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Throttled {
    /// Whole seconds to wait before retrying (at least 1): the value of a
    /// `Retry-After` header.
    pub fn retry_after_secs(&self) -> u64 {
        let d = match self {
            Throttled::Rate { retry_after, .. }
            | Throttled::Concurrency { retry_after, .. }
            | Throttled::Busy { retry_after, .. } => retry_after,
        };
        retry_secs(d).max(1)
    }
}

/// A tenant's current use of its share, on this node.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ShareUse {
    /// Calls running now.
    pub running: u32,
    /// Calls that could start at once before the rate refuses (whole
    /// tokens in the bucket).
    pub calls_available: u32,
    /// Calls refused over the rate since the node started.
    pub throttled_rate: u64,
    /// Calls refused over the concurrency cap since the node started.
    pub throttled_concurrency: u64,
}

/// A call's admission: holds its tenant's slot and its pool slot until it
/// is dropped.
pub struct Admission {
    _pool: PoolSlot,
    _tenant: TenantSlot,
}

/// One of a tenant's slots, from the moment it is taken: a lowered cap is
/// owed permits that were in use when it changed, and they are forgotten
/// as their calls end (or are refused, or go away) instead of returning.
struct TenantSlot {
    permit: Option<OwnedSemaphorePermit>,
    share: Arc<TenantShare>,
}

impl Drop for TenantSlot {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take()
            && self.share.pay_debt()
        {
            permit.forget();
        }
    }
}

/// A slot of the pool; one of the reserve also marks its tenant as holding
/// one until it is dropped.
struct PoolSlot {
    _permit: OwnedSemaphorePermit,
    _reserve: Option<ReserveHold>,
    share: Arc<TenantShare>,
}

impl PoolSlot {
    fn new(
        permit: OwnedSemaphorePermit,
        share: &Arc<TenantShare>,
        reserve: Option<ReserveHold>,
    ) -> Self {
        share.pooled.fetch_add(1, Ordering::AcqRel);
        Self {
            _permit: permit,
            _reserve: reserve,
            share: share.clone(),
        }
    }
}

impl Drop for PoolSlot {
    fn drop(&mut self) {
        self.share.pooled.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A tenant's claim on a reserve slot (at most one at a time).
struct ReserveHold(Arc<TenantShare>);

impl Drop for ReserveHold {
    fn drop(&mut self) {
        self.0.in_reserve.store(false, Ordering::Release);
    }
}

/// The token bucket of one tenant's rate.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            at: Instant::now(),
        }
    }

    fn refill(&mut self, rate: u32, burst: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        self.at = now;
    }

    /// Takes a token even if there is none (a delivery, which waits rather
    /// than being refused): the bucket goes into debt, which direct calls
    /// then wait out too, so deliveries are not starved by a tenant calling
    /// at its full rate. How long until the debt is paid.
    fn borrow(&mut self, rate: u32, burst: u32, now: Instant) -> Duration {
        self.refill(rate, burst, now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / f64::from(rate.max(1)))
        }
    }

    /// Returns a token taken for a call that was then refused.
    fn give_back(&mut self, burst: u32) {
        self.tokens = (self.tokens + 1.0).min(f64::from(burst));
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self, rate: u32, burst: u32, now: Instant) -> Result<(), Duration> {
        self.refill(rate, burst, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / f64::from(rate.max(1)),
            ))
        }
    }
}

/// One tenant's share on this node. It lives as long as the node: a change
/// of limits adjusts it in place, so the throttling counters only grow and
/// calls already running count against the new cap.
struct TenantShare {
    limits: Mutex<TenantLimits>,
    running: Arc<Semaphore>,
    /// Permits a lowered cap still has to take back from running calls.
    debt: AtomicU64,
    /// Whether one of its calls holds a reserve slot of the pool.
    in_reserve: AtomicBool,
    /// Pool slots its calls hold (calls waiting for one are not counted).
    pooled: AtomicU32,
    /// Taken while one of its calls tries the pool and judges itself
    /// quiet, so a slot just taken is always counted in `pooled`.
    pool_turn: Mutex<()>,
    bucket: Mutex<Bucket>,
    pending: Arc<Semaphore>,
    throttled_rate: AtomicU64,
    throttled_concurrency: AtomicU64,
}

impl TenantShare {
    fn new(limits: &TenantLimits) -> Self {
        Self {
            limits: Mutex::new(limits.clone()),
            running: Arc::new(Semaphore::new(limits.concurrency as usize)),
            debt: AtomicU64::new(0),
            in_reserve: AtomicBool::new(false),
            pooled: AtomicU32::new(0),
            pool_turn: Mutex::new(()),
            bucket: Mutex::new(Bucket::full(limits.burst)),
            pending: Arc::new(Semaphore::new(MAX_PENDING_DELIVERIES)),
            throttled_rate: AtomicU64::new(0),
            throttled_concurrency: AtomicU64::new(0),
        }
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, TenantLimits> {
        self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the share to `new` limits if they changed: the cap grows by
    /// adding permits (first paying any debt) and shrinks by forgetting
    /// free ones, the rest as running calls end.
    fn update(&self, new: &TenantLimits) {
        let mut limits = self.limits();
        if *limits == *new {
            return;
        }
        let (old_cap, new_cap) = (u64::from(limits.concurrency), u64::from(new.concurrency));
        if new_cap > old_cap {
            let grow = new_cap - old_cap;
            // Calls that end meanwhile pay the debt too: one atomic step.
            let debt = self
                .debt
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                    Some(d - d.min(grow))
                })
                .unwrap_or_else(|d| d);
            self.running.add_permits((grow - debt.min(grow)) as usize);
        } else if new_cap < old_cap {
            let shrink = old_cap - new_cap;
            let forgotten = self.running.forget_permits(shrink as usize) as u64;
            self.debt.fetch_add(shrink - forgotten, Ordering::AcqRel);
            // A call that ended between the two steps returned its permit:
            // take it back now rather than at the next call's end.
            while self.debt.load(Ordering::Acquire) > 0 && self.running.forget_permits(1) == 1 {
                if !self.pay_debt() {
                    self.running.add_permits(1);
                    break;
                }
            }
        }
        let mut bucket = self.bucket();
        bucket.tokens = bucket.tokens.min(f64::from(new.burst));
        *limits = new.clone();
    }

    /// Takes one permit off the debt, if there is any.
    fn pay_debt(&self) -> bool {
        self.debt
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
            .is_ok()
    }

    /// Calls running now under this share (read under the limits' lock,
    /// which every change of the cap holds).
    fn running(&self) -> u32 {
        let limits = self.limits();
        let debt = u32::try_from(self.debt.load(Ordering::Acquire)).unwrap_or(u32::MAX);
        let free = u32::try_from(self.running.available_permits()).unwrap_or(u32::MAX);
        limits.concurrency.saturating_add(debt).saturating_sub(free)
    }

    /// Takes one of the tenant's slots, waiting for it.
    async fn slot(self: &Arc<Self>) -> TenantSlot {
        // The semaphore is never closed: acquiring only waits.
        loop {
            if let Ok(permit) = self.running.clone().acquire_owned().await {
                return TenantSlot {
                    permit: Some(permit),
                    share: self.clone(),
                };
            }
        }
    }
}

/// Every tenant's share and the pool they share.
pub struct Shares {
    /// The slots any call may take.
    pool: Arc<Semaphore>,
    /// The slots only a quiet tenant's call may take (see `pool_slot`).
    reserve: Arc<Semaphore>,
    pool_size: u32,
    trials: Arc<Semaphore>,
    queue_wait: Duration,
    tenants: Mutex<HashMap<String, Arc<TenantShare>>>,
    busy: AtomicU64,
}

impl Shares {
    /// Shares of a sandbox with `instances` slots, of which [`TRIAL_SLOTS`]
    /// are kept for load-time trials; a call over its tenant's cap waits
    /// `queue_wait` for a slot.
    pub fn new(instances: u32, queue_wait: Duration) -> Self {
        let trials = TRIAL_SLOTS.min(instances / 2);
        let pool_size = instances - trials;
        // At least two: with one, a tenant holding it could fill the rest
        // as others' calls end, and hold every slot. (A pool of under four
        // call slots, under eight instances, has half of it as its reserve,
        // and that guarantee only from four slots on.)
        let reserve = if pool_size >= 4 {
            (pool_size / 4).max(2)
        } else {
            pool_size / 2
        };
        Self {
            pool: Arc::new(Semaphore::new((pool_size - reserve) as usize)),
            reserve: Arc::new(Semaphore::new(reserve as usize)),
            pool_size,
            trials: Arc::new(Semaphore::new(trials.max(1) as usize)),
            queue_wait,
            tenants: Mutex::new(HashMap::new()),
            busy: AtomicU64::new(0),
        }
    }

    /// The share of `tenant` (made with `limits` if it has none yet).
    fn share(&self, tenant: &str, limits: &TenantLimits) -> Arc<TenantShare> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        match tenants.get(tenant) {
            Some(share) => share.clone(),
            None => {
                let share = Arc::new(TenantShare::new(limits));
                tenants.insert(tenant.to_owned(), share.clone());
                share
            }
        }
    }

    /// Admits one direct call of `tenant`: its rate, then its cap (waiting
    /// up to the queue wait), then the pool (likewise).
    pub async fn admit(&self, tenant: &str, limits: &TenantLimits) -> Result<Admission, Throttled> {
        let share = self.share(tenant, limits);
        // A direct call brings the limits just read: the share follows them.
        share.update(limits);
        if let Err(retry_after) =
            share
                .bucket()
                .take(limits.rate_per_second, limits.burst, Instant::now())
        {
            share.throttled_rate.fetch_add(1, Ordering::Relaxed);
            return Err(Throttled::Rate {
                rate: limits.rate_per_second,
                burst: limits.burst,
                retry_after,
            });
        }
        let tenant_slot = match tokio::time::timeout(self.queue_wait, share.slot()).await {
            Ok(slot) => slot,
            Err(_) => {
                // A refused call does not spend the rate.
                share.bucket().give_back(limits.burst);
                share.throttled_concurrency.fetch_add(1, Ordering::Relaxed);
                return Err(Throttled::Concurrency {
                    concurrency: limits.concurrency,
                    retry_after: Duration::from_secs(1),
                });
            }
        };
        let pool_slot = match tokio::time::timeout(self.queue_wait, self.pool_slot(&share)).await {
            Ok(Some(slot)) => slot,
            _ => {
                share.bucket().give_back(limits.burst);
                self.busy.fetch_add(1, Ordering::Relaxed);
                return Err(Throttled::Busy {
                    slots: self.pool_size,
                    retry_after: Duration::from_secs(1),
                });
            }
        };
        Ok(Admission {
            _pool: pool_slot,
            _tenant: tenant_slot,
        })
    }

    /// A slot of the pool, waiting for one. A call may also take one of the
    /// reserve if no other call of its tenant holds a pool slot or claims
    /// the reserve. `None` only if the semaphores closed (they never are).
    async fn pool_slot(&self, share: &Arc<TenantShare>) -> Option<PoolSlot> {
        let general = |permit| PoolSlot::new(permit, share, None);
        let quiet = {
            let _turn = share.pool_turn.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(permit) = self.pool.clone().try_acquire_owned() {
                return Some(general(permit));
            }
            // Quiet: none of its calls holds a pool slot (calls that
            // arrived together and wait are not running yet), and it
            // claims the one reserve slot the tenant may hold.
            share.pooled.load(Ordering::Acquire) == 0
                && share
                    .in_reserve
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
        };
        if !quiet {
            return self.pool.clone().acquire_owned().await.ok().map(general);
        }
        // Dropped (the claim given up) unless a reserve slot is taken.
        let hold = ReserveHold(share.clone());
        tokio::select! {
            permit = self.pool.clone().acquire_owned() => permit.ok().map(general),
            permit = self.reserve.clone().acquire_owned() => {
                permit.ok().map(|permit| PoolSlot::new(permit, share, Some(hold)))
            }
        }
    }

    /// Admits one event delivery of `tenant`: under the same rate, cap and
    /// pool as its calls, but waiting for its turn instead of being refused
    /// (nobody is there to retry a delivery).
    pub async fn admit_waiting(&self, tenant: &str, limits: &TenantLimits) -> Admission {
        // Deliveries may wait long with the limits read when they were
        // queued: they follow the share's limits, never set them.
        let share = self.share(tenant, limits);
        let (rate, burst) = {
            let limits = share.limits();
            (limits.rate_per_second, limits.burst)
        };
        let wait = share.bucket().borrow(rate, burst, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let tenant_slot = share.slot().await;
        let pool_slot = loop {
            if let Some(slot) = self.pool_slot(&share).await {
                break slot;
            }
        };
        Admission {
            _pool: pool_slot,
            _tenant: tenant_slot,
        }
    }

    /// A place for one more of `tenant`'s deliveries in the background, if
    /// it has fewer than [`MAX_PENDING_DELIVERIES`] waiting.
    pub fn pending_delivery(
        &self,
        tenant: &str,
        limits: &TenantLimits,
    ) -> Option<OwnedSemaphorePermit> {
        self.share(tenant, limits)
            .pending
            .clone()
            .try_acquire_owned()
            .ok()
    }

    /// A slot for a load-time trial (waiting for one): trials have their own
    /// few slots, so a flood of publishes never takes a call's.
    pub async fn trial_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.trials.clone().acquire_owned().await.ok()
    }

    /// The current use of `tenant`'s share on this node.
    pub fn usage_of(&self, tenant: &str) -> ShareUse {
        let share = {
            let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            match tenants.get(tenant) {
                Some(share) => share.clone(),
                None => return ShareUse::default(),
            }
        };
        // Locks one at a time: a change of limits takes the limits', then
        // the bucket's.
        let running = share.running();
        let limits = share.limits().clone();
        let mut bucket = share.bucket();
        bucket.refill(limits.rate_per_second, limits.burst, Instant::now());
        ShareUse {
            running,
            calls_available: bucket.tokens.floor() as u32,
            throttled_rate: share.throttled_rate.load(Ordering::Relaxed),
            throttled_concurrency: share.throttled_concurrency.load(Ordering::Relaxed),
        }
    }

    /// Per-tenant use and throttling, for `/metrics`: (tenant, use), sorted.
    pub fn all_usage(&self) -> Vec<(String, ShareUse)> {
        let names: Vec<String> = {
            let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            tenants.keys().cloned().collect()
        };
        let mut all: Vec<(String, ShareUse)> = names
            .into_iter()
            .map(|t| {
                let u = self.usage_of(&t);
                (t, u)
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Calls refused because the pool was full, since the node started.
    pub fn busy_refusals(&self) -> u64 {
        self.busy.load(Ordering::Relaxed)
    }

    /// The pool's size (call slots).
    pub fn pool_size(&self) -> u32 {
        self.pool_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `tenant`'s next call finds the pool full.
    async fn busy(shares: &Shares, tenant: &str, limits: &TenantLimits) {
        let refused = shares.admit(tenant, limits).await;
        assert!(
            matches!(refused, Err(Throttled::Busy { .. })),
            "{tenant} was admitted"
        );
    }

    fn limits(concurrency: u32, rate: u32, burst: u32) -> TenantLimits {
        TenantLimits {
            concurrency,
            rate_per_second: rate,
            burst,
            storage_quota_bytes: 0,
            fan_out: 0,
        }
    }

    #[test]
    fn the_bucket_refills_at_the_rate_up_to_the_burst() {
        let start = Instant::now();
        let mut bucket = Bucket {
            tokens: 2.0,
            at: start,
        };
        assert!(bucket.take(10, 2, start).is_ok());
        assert!(bucket.take(10, 2, start).is_ok());
        let wait = bucket.take(10, 2, start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert!(
            bucket
                .take(10, 2, start + Duration::from_millis(100))
                .is_ok()
        );
        // Long idle: no more than the burst.
        bucket.refill(10, 2, start + Duration::from_secs(3600));
        assert_eq!(bucket.tokens, 2.0);
    }

    #[test]
    fn a_delivery_borrows_and_direct_calls_wait_out_the_debt() {
        let start = Instant::now();
        let mut bucket = Bucket {
            tokens: 0.0,
            at: start,
        };
        assert_eq!(bucket.borrow(10, 2, start), Duration::from_millis(100));
        assert_eq!(bucket.borrow(10, 2, start), Duration::from_millis(200));
        // A direct call is refused until the debt is paid and a token is
        // there: 300 ms at 10 per second.
        assert_eq!(bucket.take(10, 2, start), Err(Duration::from_millis(300)));
        assert!(
            bucket
                .take(10, 2, start + Duration::from_millis(300))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_tenant_over_its_cap_is_throttled_and_another_is_admitted() {
        let shares = Shares::new(16, Duration::from_millis(20));
        let a = limits(2, 1000, 1000);
        let first = shares.admit("a", &a).await.unwrap();
        let _second = shares.admit("a", &a).await.unwrap();
        let refused = shares.admit("a", &a).await.err().unwrap();
        assert!(matches!(
            refused,
            Throttled::Concurrency { concurrency: 2, .. }
        ));
        assert_eq!(refused.retry_after_secs(), 1);
        // Another tenant is not held back by a's cap.
        let _b = shares.admit("b", &a).await.unwrap();
        assert_eq!(shares.usage_of("a").running, 2);
        assert_eq!(shares.usage_of("a").throttled_concurrency, 1);
        drop(first);
        assert!(shares.admit("a", &a).await.is_ok());
    }

    #[tokio::test]
    async fn a_call_refused_over_the_cap_does_not_spend_the_rate() {
        let shares = Shares::new(16, Duration::from_millis(5));
        // One call a second, bursts of 10: the waits refill a small part of
        // one.
        let slow = limits(2, 1, 10);
        let _one = shares.admit("a", &slow).await.unwrap();
        let _two = shares.admit("a", &slow).await.unwrap();
        for _ in 0..3 {
            assert!(matches!(
                shares.admit("a", &slow).await,
                Err(Throttled::Concurrency { .. })
            ));
        }
        // 8 and what the waits refilled; spent, it would be 5.
        assert!(shares.usage_of("a").calls_available >= 8);
    }

    #[tokio::test]
    async fn a_tenant_over_its_rate_is_told_when_to_retry() {
        let shares = Shares::new(16, Duration::from_millis(20));
        let slow = limits(10, 1, 1);
        let _one = shares.admit("a", &slow).await.unwrap();
        let refused = shares.admit("a", &slow).await.err().unwrap();
        assert!(
            matches!(refused, Throttled::Rate { rate: 1, .. }),
            "{refused}"
        );
        assert_eq!(refused.retry_after_secs(), 1);
        assert!(refused.to_string().contains("rate is 1 per second"));
    }

    #[tokio::test]
    async fn busy_tenants_cannot_take_the_reserve_a_quiet_tenant_gets_a_slot_at_once() {
        // 20 instances: 4 for trials, 16 for calls, of which 4 are the reserve.
        let shares = Shares::new(20, Duration::from_millis(20));
        assert_eq!(shares.pool_size(), 16);
        let unbounded = limits(1000, 1_000_000, 1_000_000);
        let mut a = Vec::new();
        let mut b = Vec::new();
        // Two busy tenants with caps far above the pool fill what they may.
        for _ in 0..6 {
            a.push(shares.admit("a", &unbounded).await.unwrap());
            b.push(shares.admit("b", &unbounded).await.unwrap());
        }
        busy(&shares, "a", &unbounded).await;
        busy(&shares, "b", &unbounded).await;
        // A quiet tenant is admitted (no slot was freed: it took the
        // reserve); its second call is not quiet and waits in vain.
        let c = shares.admit("c", &unbounded).await.unwrap();
        busy(&shares, "c", &unbounded).await;
        let _d = shares.admit("d", &unbounded).await.unwrap();
        let e = shares.admit("e", &unbounded).await.unwrap();
        // a's calls end; e, holding a reserve slot, fills the general part
        // but cannot take a second reserve slot.
        a.clear();
        let mut e_more = Vec::new();
        for _ in 0..6 {
            e_more.push(shares.admit("e", &unbounded).await.unwrap());
        }
        busy(&shares, "e", &unbounded).await;
        // One reserve slot is left for the next quiet tenant, then none.
        let _f = shares.admit("f", &unbounded).await.unwrap();
        busy(&shares, "g", &unbounded).await;
        // A reserve slot given back is the next quiet tenant's.
        drop(c);
        assert!(shares.admit("g", &unbounded).await.is_ok());
        drop((e, e_more, b));
    }

    #[tokio::test]
    async fn a_changed_cap_counts_running_calls_and_keeps_the_counters() {
        let shares = Shares::new(64, Duration::from_millis(10));
        let four = limits(4, 1000, 1000);
        let mut running: Vec<Admission> = Vec::new();
        for _ in 0..4 {
            running.push(shares.admit("a", &four).await.unwrap());
        }
        assert!(shares.admit("a", &four).await.is_err());
        assert_eq!(shares.usage_of("a").throttled_concurrency, 1);
        // Lowered to 1 with four running: nothing more until three end.
        let one = limits(1, 1000, 1000);
        assert!(shares.admit("a", &one).await.is_err());
        assert_eq!(shares.usage_of("a").running, 4);
        running.truncate(1);
        assert_eq!(shares.usage_of("a").running, 1);
        assert!(shares.admit("a", &one).await.is_err());
        running.clear();
        let again = shares.admit("a", &one).await.unwrap();
        assert!(shares.admit("a", &one).await.is_err());
        // The counter only grew across the changes.
        assert_eq!(shares.usage_of("a").throttled_concurrency, 4);
        // Raised to 3 with one running: two more.
        let three = limits(3, 1000, 1000);
        let _b = shares.admit("a", &three).await.unwrap();
        let _c = shares.admit("a", &three).await.unwrap();
        assert!(shares.admit("a", &three).await.is_err());
        drop(again);
        assert_eq!(shares.usage_of("a").running, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_refused_while_the_cap_is_lowered_pays_the_cap_back() {
        // 8 instances: 4 for calls, 2 of them the reserve.
        let shares = Arc::new(Shares::new(8, Duration::from_millis(200)));
        let three = limits(3, 1000, 1000);
        let _one = shares.admit("a", &three).await.unwrap();
        let two = shares.admit("a", &three).await.unwrap();
        // A third call holds a's slot while it waits for the full pool ...
        let third = {
            let shares = shares.clone();
            tokio::spawn(async move { shares.admit("a", &limits(3, 1000, 1000)).await.err() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // ... when the operator lowers a's cap to 1.
        let one = limits(1, 1000, 1000);
        assert!(shares.admit("a", &one).await.is_err());
        assert!(matches!(third.await.unwrap(), Some(Throttled::Busy { .. })));
        // One call ends: a still runs one, its whole new cap.
        drop(two);
        assert_eq!(shares.usage_of("a").running, 1);
        assert!(matches!(
            shares.admit("a", &one).await,
            Err(Throttled::Concurrency { .. })
        ));
    }

    #[tokio::test]
    async fn a_delivery_follows_the_cap_and_never_sets_it() {
        let shares = Shares::new(64, Duration::from_millis(20));
        let (four, one) = (limits(4, 1000, 1000), limits(1, 1000, 1000));
        drop(shares.admit("a", &four).await.unwrap());
        // The operator lowers the cap to 1; a call brings the new limits.
        let first = shares.admit("a", &one).await.unwrap();
        // A delivery queued under the old limits waits for the one slot.
        let waiting =
            tokio::time::timeout(Duration::from_millis(100), shares.admit_waiting("a", &four))
                .await;
        assert!(waiting.is_err(), "the delivery ran over the lowered cap");
        drop(first);
        let _delivery = shares.admit_waiting("a", &four).await;
        assert!(matches!(
            shares.admit("a", &one).await,
            Err(Throttled::Concurrency { concurrency: 1, .. })
        ));
    }

    #[tokio::test]
    async fn a_full_pool_is_busy_not_a_fault() {
        let shares = Shares::new(4, Duration::from_millis(20));
        assert_eq!(shares.pool_size(), 2);
        let wide = limits(10, 1000, 1000);
        let _x = shares.admit("a", &wide).await.unwrap();
        let _y = shares.admit("b", &wide).await.unwrap();
        let refused = shares.admit("c", &wide).await.err().unwrap();
        assert!(matches!(refused, Throttled::Busy { slots: 2, .. }));
        assert_eq!(shares.busy_refusals(), 1);
    }
}
