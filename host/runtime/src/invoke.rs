//! One call: a fresh store and instance, limits, classification, usage.

use super::lanes::{Lane, run_in_lanes};
use super::limits::CallLimiter;
use super::{CallError, LimitBreach, Limits, LoadError, LoadedPlugin, OutcomeKind, Runtime, Usage};
use crate::bindings::latest::{Plugin, PluginPre};
use crate::bindings::{Event, Request};
use crate::capabilities::events::EmittedEvent;
use crate::capabilities::log::{LogLine, LogSink, Source};
use crate::capabilities::storage::{KeyValueStore, MemoryStore};
use crate::capabilities::{CallCapabilities, Install};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{CallHook, Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The longest error code and message a plugin may return; longer ones are
/// cut (they end up in logs and HTTP responses).
const MAX_ERROR_CODE: usize = 64;
const MAX_ERROR_MESSAGE: usize = 4096;

/// What to run.
#[derive(Clone, Debug)]
pub enum Call {
    /// A direct call of an operation.
    Handle {
        /// The operation.
        operation: String,
        /// The request body.
        body: Vec<u8>,
    },
    /// An event delivery.
    Event {
        /// The event's unique id.
        id: String,
        /// The topic.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
    },
}

impl Call {
    /// The operation name used in usage records; events are `event:<topic>`.
    pub fn operation(&self) -> String {
        match self {
            Call::Handle { operation, .. } => operation.clone(),
            Call::Event { topic, .. } => format!("event:{topic}"),
        }
    }
}

/// What the sandbox returns of one call: its result, what it used, its
/// log and the events it emitted (the platform makes of it the caller's
/// answer and the stored usage record).
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The response body, or why there is none.
    pub result: Result<Vec<u8>, CallError>,
    /// The usage record.
    pub usage: Usage,
    /// The log lines (log import, stdout, stderr).
    pub log: Vec<LogLine>,
    /// Events emitted; empty unless the call succeeded, so a failed call
    /// has no effects beyond storage writes it already made.
    pub events: Vec<EmittedEvent>,
}

/// The store's data: one struct per call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    caps: CallCapabilities,
    host: HostClock,
    lane: Lane,
}

/// Wall time the call spent inside host functions (WASI and the contract's
/// imports): fuel does not see it, so it is measured and recorded beside
/// fuel. Fed by the store's call hook; only the outermost host call counts
/// (the guest's `cabi_realloc` may run inside one, and call the host again).
#[derive(Default)]
struct HostClock {
    depth: u32,
    entered: Option<Instant>,
    total: Duration,
}

impl HostClock {
    fn hook(&mut self, hook: CallHook) {
        match hook {
            CallHook::CallingHost => {
                if self.depth == 0 {
                    self.entered = Some(Instant::now());
                }
                self.depth += 1;
            }
            CallHook::ReturningFromHost => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0
                    && let Some(entered) = self.entered.take()
                {
                    self.total += entered.elapsed();
                }
            }
            CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
        }
    }

    /// The host call under way is wasmtime's epoch check, not a plugin's
    /// import: its yield and its wait for a lane are not host time.
    fn not_an_import(&mut self) {
        if self.depth == 1 {
            self.entered = None;
        }
    }

    /// The total, counting a host call still under way (the deadline may
    /// end the call while it waits in one).
    fn total(&self) -> Duration {
        self.total + self.entered.map_or(Duration::ZERO, |e| e.elapsed())
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The linker every component is instantiated with: WASI (checked against
/// the allow-list in `contract` before linking) and the contract's imports.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    // Async WASI: a sleep or a pollable suspends the call's fiber instead
    // of blocking a thread, so the deadline can end it.
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Plugin::add_to_linker::<CallState, HasSelf<CallCapabilities>>(&mut linker, |s| &mut s.caps)?;
    Ok(linker)
}

/// How many epoch ticks a call computes before it yields to the executor,
/// so a long call gives way to others on the same worker thread.
const YIELD_TICKS: u64 = 1;

/// A store for one call: WASI with nothing to reach, the limiter, fuel, the
/// host clock and the deadline.
fn new_store(
    runtime: &Runtime,
    engine: &Engine,
    install: Arc<Install>,
    storage: Arc<dyn KeyValueStore>,
    limits: &Limits,
    log: &LogSink,
    deadline: Instant,
) -> wasmtime::Result<Store<CallState>> {
    // No preopens, no environment, no arguments, no network: WASI is there
    // so std links. stdout and stderr go to the call's log.
    let wasi = WasiCtxBuilder::new()
        .stdout(log.stream(Source::Stdout))
        .stderr(log.stream(Source::Stderr))
        .build();
    let state = CallState {
        wasi,
        table: ResourceTable::new(),
        limiter: CallLimiter::new(limits),
        caps: CallCapabilities::new(install, storage, limits, log.clone()),
        host: HostClock::default(),
        lane: Lane::default(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(limits.fuel)?;
    let lanes = runtime.lanes().clone();
    let free_lanes = lanes.clone();
    store.call_hook(move |mut cx, hook| {
        let data = cx.data_mut();
        data.host.hook(hook);
        match hook {
            // No lane while in the host: a call that waits holds none.
            CallHook::CallingHost => data.lane.release(),
            // Back without a lane, a long call takes a free one at once, or
            // queues for one before it computes further (the next epoch
            // check asks for it).
            CallHook::ReturningFromHost if data.lane.long && !data.lane.holds() => {
                match free_lanes.clone().try_acquire_owned() {
                    Ok(permit) => data.lane.hold(permit),
                    Err(_) => cx.set_epoch_deadline(0),
                }
            }
            _ => {}
        }
        Ok(())
    });
    // Every tick the guest computes, it yields and, once it has computed a
    // whole tick, queues for a lane; past the deadline it traps. Waits inside host
    // calls (and for a lane) are ended by the timer around the call.
    store.set_epoch_deadline(YIELD_TICKS);
    let (started, tick) = (Instant::now(), runtime.config().epoch_tick);
    store.epoch_deadline_callback(move |mut cx| {
        let data = cx.data_mut();
        data.host.not_an_import();
        let now = Instant::now();
        if now >= deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        // Ticks are global: a short call the first one falls in had not
        // computed a whole tick. It goes on where it is, never queueing
        // behind long calls or moving to the lanes for its last
        // microseconds. Its time in the host (a query, a sleep) is not
        // computing.
        let computed = now
            .duration_since(started)
            .saturating_sub(data.host.total());
        if !data.lane.long && computed < tick {
            return Ok(UpdateDeadline::Continue(YIELD_TICKS));
        }
        Ok(UpdateDeadline::YieldCustom(
            YIELD_TICKS,
            Box::pin(data.lane.tick(&lanes)),
        ))
    });
    Ok(store)
}

/// Instantiates `pre` once, granting nothing, under the runtime's trial
/// limits, so that exports whose types do not match the contract, and start
/// functions that wait or loop, are refused at load rather than met at the
/// first call. The trial has its own short deadline and fuel.
pub(crate) async fn trial(
    runtime: &Runtime,
    engine: &Engine,
    pre: &PluginPre<CallState>,
) -> Result<(), LoadError> {
    let install = Arc::new(Install {
        tenant: String::new(),
        plugin: String::new(),
        grants: Default::default(),
        config: Default::default(),
        metrics: Default::default(),
        storage_quota_bytes: 0,
    });
    let limits = &runtime.config().trial;
    let log = LogSink::new(limits.log_bytes);
    let deadline = Instant::now() + limits.timeout;
    let mut store = new_store(
        runtime,
        engine,
        install,
        Arc::new(MemoryStore::new()),
        limits,
        &log,
        deadline,
    )
    .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    // A start that computes long moves to the lanes like a call.
    let moving = store.data().lane.moving();
    let pre = pre.clone();
    let work = async move {
        let result =
            match tokio::time::timeout_at(deadline.into(), pre.instantiate_async(&mut store)).await
            {
                Ok(result) => result.map(drop),
                Err(_) => Err(Trap::Interrupt.into()),
            };
        store.data().lane.release();
        result
    };
    let result = run_in_lanes(runtime.lane_pool(), moving, Box::pin(work))
        .await
        .unwrap_or_else(|| {
            Err(wasmtime::Error::msg(
                "the compute lanes shut down during the trial",
            ))
        });
    result.map_err(|error| match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => LoadError::StartTooSlow {
            limit: limits.timeout,
        },
        Some(Trap::OutOfFuel) => LoadError::StartOutOfFuel { fuel: limits.fuel },
        _ => LoadError::Link(format!("{error:#}")),
    })
}

/// Runs one call to its end, or to its deadline, whatever it waits on.
pub(crate) async fn run(
    runtime: &Runtime,
    plugin: &LoadedPlugin,
    install: Arc<Install>,
    storage: Arc<dyn KeyValueStore>,
    call: Call,
    limits: &Limits,
) -> Invocation {
    let started = Instant::now();
    let deadline = started + limits.timeout;
    let log = LogSink::new(limits.log_bytes);
    let tenant = install.tenant.clone();
    let plugin_name = install.plugin.clone();
    let store = new_store(
        runtime,
        &plugin.engine,
        install,
        storage,
        limits,
        &log,
        deadline,
    );
    let operation = call.operation();
    // The timer ends a call that waits (a sleep, a pollable, a slow query):
    // dropping the future unwinds the guest's fiber and frees its slot. The
    // call owns its store, so it can move to the lane pool at its first
    // tick and hand the store back at its end.
    let ran = match store {
        Ok(mut store) => {
            let moving = store.data().lane.moving();
            let pre = plugin.pre.clone();
            let work = async move {
                let running = call_plugin(&mut store, &pre, call);
                let raw = match tokio::time::timeout_at(deadline.into(), running).await {
                    Ok(raw) => raw,
                    Err(_) => Err(Failure::Ran(Trap::Interrupt.into())),
                };
                // Its lane, if a host call's return took one, is another's.
                store.data().lane.release();
                (raw, store)
            };
            run_in_lanes(runtime.lane_pool(), moving, Box::pin(work))
                .await
                .ok_or_else(|| wasmtime::Error::msg("the compute lanes shut down during the call"))
        }
        Err(error) => Err(error),
    };
    let (raw, store) = match ran {
        Ok(ran) => ran,
        Err(error) => {
            return host_failure(
                &plugin.digest,
                tenant,
                plugin_name,
                operation,
                started,
                error,
            );
        }
    };
    let fuel_consumed = limits.fuel - store.get_fuel().unwrap_or(0).min(limits.fuel);
    let host_time = store.data().host.total();
    let lines = log.lines();
    let result = match raw {
        Ok(Ok(body)) if body.len() as u64 > limits.output_bytes => Err(CallError::new(
            OutcomeKind::OutputTooLarge,
            format!(
                "the response has {} bytes, over the limit of {} bytes",
                body.len(),
                limits.output_bytes
            ),
        )),
        Ok(Ok(body)) => Ok(body),
        Ok(Err(error)) => Err(CallError {
            kind: OutcomeKind::PluginError,
            code: truncate(error.code, MAX_ERROR_CODE),
            message: truncate(error.message, MAX_ERROR_MESSAGE),
        }),
        Err(failure) => Err(classify(failure, &lines)),
    };
    let state = store.into_data();
    let peak_memory_bytes = state.limiter.peak_memory;
    let (units, events) = state.caps.finish();
    let outcome = result.as_ref().err().map_or(OutcomeKind::Ok, |e| e.kind);
    if outcome.blame() == super::Blame::Host {
        tracing::error!(plugin = %plugin_name, %tenant, error = ?result.as_ref().err(), "host fault during a call");
    }
    Invocation {
        usage: Usage {
            tenant,
            plugin: plugin_name,
            digest: plugin.digest_text.clone(),
            operation,
            fuel_consumed,
            wall_time_us: micros(started.elapsed()),
            host_time_us: micros(host_time),
            peak_memory_bytes,
            outcome,
            deliveries_dropped: 0,
            // Units of a failed call are not billed: the record keeps none,
            // so a call that fails cannot leave a large one.
            units: if result.is_ok() { units } else { Vec::new() },
        },
        events: if result.is_ok() { events } else { Vec::new() },
        result,
        log: lines,
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The invocation of a call whose store could not even be set up.
fn host_failure(
    digest: &spleis_registry::Digest,
    tenant: String,
    plugin: String,
    operation: String,
    started: Instant,
    error: wasmtime::Error,
) -> Invocation {
    tracing::error!(%plugin, %tenant, error = %format!("{error:#}"), "cannot set up a store");
    Invocation {
        result: Err(CallError::new(OutcomeKind::HostError, format!("{error:#}"))),
        usage: Usage {
            tenant,
            plugin,
            digest: digest.to_string(),
            operation,
            fuel_consumed: 0,
            wall_time_us: micros(started.elapsed()),
            host_time_us: 0,
            peak_memory_bytes: 0,
            outcome: OutcomeKind::HostError,
            deliveries_dropped: 0,
            units: Vec::new(),
        },
        log: Vec::new(),
        events: Vec::new(),
    }
}

/// Why a call ended without the plugin's answer: while it was being
/// instantiated (the host's side: the pool, the start function's traps are
/// still traps), or while its code ran (the guest's side: whatever it did
/// to end there, a malformed value it returned included, is its own).
enum Failure {
    Instantiating(wasmtime::Error),
    Ran(wasmtime::Error),
}

/// The plugin's own answer: body or plugin error; `Err` is how it failed.
type Raw = Result<Result<Vec<u8>, crate::bindings::GuestError>, Failure>;

async fn call_plugin(store: &mut Store<CallState>, pre: &PluginPre<CallState>, call: Call) -> Raw {
    let instance = pre
        .instantiate_async(&mut *store)
        .await
        .map_err(Failure::Instantiating)?;
    let tenant = store.data().caps.tenant().to_owned();
    match call {
        Call::Handle { operation, body } => {
            let request = Request {
                operation,
                body,
                tenant,
            };
            Ok(instance
                .spleis_plugin_handler()
                .call_handle(&mut *store, &request)
                .await
                .map_err(Failure::Ran)?
                .map(|response| response.body))
        }
        Call::Event { id, topic, payload } => {
            let event = Event {
                id,
                topic,
                payload,
                tenant,
            };
            Ok(instance
                .spleis_plugin_subscriber()
                .call_on_event(&mut *store, &event)
                .await
                .map_err(Failure::Ran)?
                .map(|()| Vec::new()))
        }
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Turns a failure into the outcome kind it stands for, and says whose it
/// is: only what fails outside the guest's code is the host's.
fn classify(failure: Failure, log: &[LogLine]) -> CallError {
    let (error, ran) = match &failure {
        Failure::Instantiating(error) => (error, false),
        Failure::Ran(error) => (error, true),
    };
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return CallError::new(
            OutcomeKind::Exit,
            format!("the plugin exited with code {}", exit.0),
        );
    }
    if let Some(breach) = error.downcast_ref::<LimitBreach>() {
        let kind = match breach {
            LimitBreach::Memory { .. } => OutcomeKind::MemoryLimit,
            LimitBreach::Table { .. } => OutcomeKind::TableLimit,
            LimitBreach::Log { .. } => OutcomeKind::LogLimit,
            LimitBreach::Events { .. } => OutcomeKind::EventLimit,
            LimitBreach::MeterKeys { .. } => OutcomeKind::MeterLimit,
            LimitBreach::StorageQuota { .. } => OutcomeKind::StorageQuota,
        };
        return CallError::new(kind, breach.to_string());
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::OutOfFuel => CallError::new(OutcomeKind::OutOfFuel, "the call used up its fuel"),
            Trap::Interrupt => {
                CallError::new(OutcomeKind::Timeout, "the call ran past its deadline")
            }
            Trap::StackOverflow => CallError::new(
                OutcomeKind::StackOverflow,
                "the call exhausted the wasm call stack",
            ),
            Trap::UnreachableCodeReached => match panic_message(log) {
                Some(message) => CallError::new(OutcomeKind::Panic, message),
                None => CallError::new(OutcomeKind::Trap, trap.to_string()),
            },
            other => CallError::new(OutcomeKind::Trap, other.to_string()),
        };
    }
    if ran {
        // The guest broke the contract while it ran: a malformed value it
        // returned (a bad pointer, discriminant or string), a forged
        // handle, a bad argument to an import. Its fault, billed like a trap.
        return CallError::new(
            OutcomeKind::Trap,
            format!("the plugin broke the canonical ABI or an import's contract: {error:#}"),
        );
    }
    // Instantiation failed outside the guest's code: the pool, a bug.
    CallError::new(OutcomeKind::HostError, format!("{error:#}"))
}

/// The message of a Rust panic, which std writes to stderr before aborting.
fn panic_message(log: &[LogLine]) -> Option<String> {
    let stderr: Vec<&str> = log
        .iter()
        .filter(|l| l.source == Source::Stderr)
        .map(|l| l.message.as_str())
        .collect();
    let start = stderr.iter().rposition(|l| l.contains("panicked at"))?;
    let message: Vec<&str> = stderr[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("note: "))
        .copied()
        .collect();
    let location = stderr[start]
        .split_once("panicked at ")
        .map_or("", |(_, at)| at.trim_end_matches(':'));
    Some(format!("panicked at {location}: {}", message.join("\n")))
}
