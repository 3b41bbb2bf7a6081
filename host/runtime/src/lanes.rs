//! Compute lanes: where long calls compute, so they cannot crowd out short
//! ones.
//!
//! A call computes its first epoch tick wherever it was called (short calls,
//! nearly all of them, never notice lanes). Past that tick it is a long
//! call: it moves to the lane pool, a few threads at a lower OS priority
//! than the server's, and computes only while it holds a lane (a semaphore
//! permit, one per lane thread), taken one tick at a time in turn with the
//! other long calls and given back whenever it enters the host. A short
//! call that needs a core takes it from a long one at once: the kernel
//! preempts the lower priority on wake-up, without any cooperation from the
//! guest.
//!
//! What a long call waits on in the host (storage: database connections
//! and their sockets) still runs on the server's runtime: a connection
//! opened from a lane thread would run its worker at the lanes' priority
//! for its whole life, and serve every tenant from there.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The nice value of the lane threads: well below the server's (0), so the
/// kernel runs them on what short calls and the server leave, and still
/// above the lowest, so they are not starved on a busy machine (the
/// deadline ends a long call either way).
const LANE_NICE: i32 = 19;

/// A call's turn in a compute lane.
#[derive(Default)]
pub(crate) struct Lane {
    shared: Arc<Shared>,
    /// Past its first tick: it computes only with a lane.
    pub(crate) long: bool,
}

#[derive(Default)]
struct Shared {
    /// The lane, left here by the yield that waited for it.
    held: Mutex<Option<OwnedSemaphorePermit>>,
    /// Set at the call's first tick: the call moves to the lane pool.
    moving: AtomicBool,
}

impl Lane {
    fn slot(&self) -> MutexGuard<'_, Option<OwnedSemaphorePermit>> {
        self.shared.slot()
    }

    /// Gives the lane back (a short call never had one: no lock taken).
    pub(crate) fn release(&self) {
        if self.long {
            self.slot().take();
        }
    }

    /// Whether it holds a lane now.
    pub(crate) fn holds(&self) -> bool {
        self.slot().is_some()
    }

    /// Keeps `permit` until the call next enters the host.
    pub(crate) fn hold(&self, permit: OwnedSemaphorePermit) {
        *self.slot() = Some(permit);
    }

    /// At an epoch tick: the call is long from now on (the first time, it
    /// is to move to the lane pool); it gives its lane back and answers the
    /// wait for the next one, which the call yields on.
    pub(crate) fn tick(
        &mut self,
        lanes: &Arc<Semaphore>,
    ) -> impl Future<Output = ()> + Send + 'static {
        if !self.long {
            self.long = true;
            self.shared.moving.store(true, Ordering::Release);
        }
        self.release();
        let (lanes, shared) = (lanes.clone(), self.shared.clone());
        async move {
            // tokio's own yield, to the back of the run queue (a plain
            // self-wake would take the worker's LIFO slot and run first).
            tokio::task::yield_now().await;
            // The semaphore is never closed; a dropped call drops this.
            if let Ok(permit) = lanes.acquire_owned().await {
                *shared.slot() = Some(permit);
            }
        }
    }

    /// The signal [`run_in_lanes`] watches.
    pub(crate) fn moving(&self) -> Moving {
        Moving(self.shared.clone())
    }
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Option<OwnedSemaphorePermit>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a call has become long and should move to the lane pool.
pub(crate) struct Moving(Arc<Shared>);

impl Moving {
    fn now(&self) -> bool {
        self.0.moving.load(Ordering::Acquire)
    }
}

tokio::task_local! {
    /// In a call moved to a lane: the runtime the call was made on, where
    /// its host I/O runs (not the one the pool was started from, which may
    /// have ended: one sandbox serves many runtimes in tests).
    static HOME: tokio::runtime::Handle;
}

/// The threads long calls compute on, at [`LANE_NICE`].
pub(crate) struct LanePool {
    runtime: Option<tokio::runtime::Runtime>,
}

impl LanePool {
    /// Starts `threads` lane threads; host I/O of the calls on them runs on
    /// the runtime each call was made on.
    pub(crate) fn start(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("spleis-lane")
            .enable_all()
            .on_thread_start(lower_priority)
            .build()?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref().map(tokio::runtime::Runtime::handle)
    }
}

impl Drop for LanePool {
    fn drop(&mut self) {
        // A runtime may not be dropped where blocking is not allowed (inside
        // another runtime, as in tests): its threads are let go instead.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Lowers the calling thread's priority (on Linux, a nice value is per
/// thread). Best effort: a platform without it computes long calls at the
/// server's priority, in lanes all the same.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(None, LANE_NICE) {
        tracing::warn!(%error, "cannot lower the priority of a compute-lane thread");
    }
}

/// The call's future, run where it was called until its first epoch tick,
/// then on the lane pool (the future is boxed, so it moves without being
/// unpinned). `None` if the lane pool dropped it (the pool shut down).
pub(crate) async fn run_in_lanes<T: Send + 'static>(
    pool: &LanePool,
    moving: Moving,
    work: Pin<Box<dyn Future<Output = T> + Send>>,
) -> Option<T> {
    let mut work = Some(work);
    let done = std::future::poll_fn(|cx| {
        let Some(future) = work.as_mut() else {
            return Poll::Ready(None);
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(value) => Poll::Ready(Some(value)),
            // It yielded at its first tick: move it now, between polls.
            Poll::Pending if moving.now() && pool.handle().is_some() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    if let Some(value) = done {
        return Some(value);
    }
    let (work, pool) = (work.take()?, pool.handle()?);
    let home = tokio::runtime::Handle::try_current().ok();
    let work = async move {
        match home {
            Some(home) => HOME.scope(home, work).await,
            None => work.await,
        }
    };
    // Dropping the caller's future (the client went away) ends the call on
    // the lane pool too.
    let handle = AbortOnDrop(pool.spawn(work));
    handle.wait().await
}

/// Runs `work` on the runtime the call was made on when the call moved to
/// a lane (host I/O belongs to the server's threads and reactor), else
/// right here. `None` if that runtime dropped it (it shut down).
pub(crate) async fn at_home<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    match HOME.try_with(tokio::runtime::Handle::clone) {
        Ok(home) => AbortOnDrop(home.spawn(work)).wait().await,
        Err(_) => Some(work.await),
    }
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    /// The task's output; `None` if it was cancelled. A panic in it goes
    /// on here, as if it had not moved.
    async fn wait(mut self) -> Option<T> {
        match (&mut self.0).await {
            Ok(value) => Some(value),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => None,
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_moves_to_the_lane_pool_at_its_first_tick_and_ends_there() {
        let pool = LanePool::start(1).unwrap();
        let lanes = Arc::new(Semaphore::new(1));
        let mut lane = Lane::default();
        let moving = lane.moving();
        let wait = lane.tick(&lanes);
        assert!(lane.long);
        let work = Box::pin(async move {
            wait.await;
            std::thread::current().name().map(str::to_owned)
        });
        let thread = run_in_lanes(&pool, moving, work).await.flatten();
        assert_eq!(thread.as_deref(), Some("spleis-lane"));
        // A call that ends before any tick stays where it was called.
        let lane = Lane::default();
        let here = std::thread::current().name().map(str::to_owned);
        let work = Box::pin(async { std::thread::current().name().map(str::to_owned) });
        assert_eq!(run_in_lanes(&pool, lane.moving(), work).await, Some(here));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn host_io_of_a_moved_call_runs_on_the_server_runtime() {
        let pool = LanePool::start(1).unwrap();
        let here = std::thread::current().name().map(str::to_owned);
        let (lane, home) = moved(&pool, async {
            let lane = std::thread::current().name().map(str::to_owned);
            let home = at_home(async { std::thread::current().name().map(str::to_owned) })
                .await
                .flatten();
            (lane, home)
        })
        .await;
        assert_eq!(lane.as_deref(), Some("spleis-lane"));
        assert_ne!(home, lane);
        // Not in a moved call: right here.
        assert_eq!(
            at_home(async { std::thread::current().name().map(str::to_owned) }).await,
            Some(here)
        );
    }

    #[test]
    fn host_io_runs_on_the_calls_runtime_after_the_pools_first_runtime_ended() {
        // The pool outlives the runtime it was started from (one sandbox
        // serves test after test, each on its own runtime).
        let first = tokio::runtime::Runtime::new().unwrap();
        let pool = first.block_on(async { LanePool::start(1).unwrap() });
        drop(first);
        let second = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("second")
            .enable_all()
            .build()
            .unwrap();
        let home = second.block_on(moved(&pool, async {
            at_home(async { std::thread::current().name().map(str::to_owned) }).await
        }));
        assert_eq!(home.flatten().as_deref(), Some("second"));
    }

    /// Runs `work` as a call that moved to `pool` at its first tick.
    async fn moved<T: Send + 'static>(
        pool: &LanePool,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let lanes = Arc::new(Semaphore::new(1));
        let mut lane = Lane::default();
        let moving = lane.moving();
        let wait = lane.tick(&lanes);
        let work = Box::pin(async move {
            wait.await;
            work.await
        });
        run_in_lanes(pool, moving, work)
            .await
            .expect("the pool runs it")
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn lane_threads_run_at_a_lower_priority() {
        let pool = LanePool::start(1).unwrap();
        let nice = pool
            .handle()
            .unwrap()
            .spawn(async { rustix::process::getpriority_process(None) })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(nice, LANE_NICE);
    }
}
