//! A test fixture, not a plugin to install: each operation misbehaves in
//! one way the host must survive and classify. `echo` is the well-behaved
//! control (and the benchmark's trivial call).

use spleis_sdk::{Error, Event, Plugin, Request, Response, events, log, metering, storage};
use std::hint::black_box;

struct Hostile;

/// State a call leaves behind, for `remember`: a counter in data and a
/// buffer on the heap. A fresh instance per call must never see either.
static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static HEAP: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// Recursion that only the wasm call stack can stop: no shadow-stack
/// frame, so the host's stack limit is what ends it.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if black_box(depth) == u64::MAX {
        return depth;
    }
    recurse(depth + 1).wrapping_add(black_box(1))
}

impl Plugin for Hostile {
    fn handle(request: Request) -> Result<Response, Error> {
        match request.operation() {
            "echo" => Ok(Response::bytes(request.body().to_vec())),
            "remember" => {
                let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let mut heap = HEAP.lock().map_err(|_| {
                    Error::new("poisoned", "a previous call panicked holding the heap")
                })?;
                let leftovers = heap.len();
                heap.push(vec![0xAB; 64 << 10]);
                Ok(Response::bytes(format!(
                    "{{\"calls\":{calls},\"leftovers\":{leftovers}}}"
                )))
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "recursion" => Ok(Response::bytes(recurse(0).to_string())),
            "panic" => panic!("the hostile plugin panics on purpose"),
            "trap" => {
                #[cfg(target_family = "wasm")]
                core::arch::wasm32::unreachable();
                #[cfg(not(target_family = "wasm"))]
                unreachable!()
            }
            "huge-output" => Ok(Response::bytes(vec![b'x'; 16 << 20])),
            "storage-flood" => {
                let value = vec![7u8; 64 << 10];
                for i in 0u64.. {
                    storage::set(&format!("flood/{i}"), &value)?;
                }
                unreachable!()
            }
            "event-flood" => {
                for i in 0u64.. {
                    events::emit("flood.event", i.to_string().as_bytes())?;
                }
                unreachable!()
            }
            "log-flood" => loop {
                log::info("all work and no play makes jack a dull boy");
            },
            "stdout-flood" => loop {
                println!("all work and no play makes jack a dull boy");
            },
            "undeclared-metric" => {
                metering::report("not-declared", 1)?;
                Ok(Response::empty())
            }
            // Waits the guest's deadline must end: a 40 s sleep, a sleep
            // that never ends (a pollable that never fires), and a loop of
            // host calls that burns almost no fuel.
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(40));
                Ok(Response::empty())
            }
            "sleep-forever" => {
                std::thread::sleep(std::time::Duration::MAX);
                Ok(Response::empty())
            }
            "host-loop" => loop {
                black_box(storage::get("missing")?);
            },
            "exit" => std::process::exit(3),
            "meter-flood" => {
                for i in 0..10_000 {
                    metering::report_unique("things", &format!("thing-{i}"))?;
                }
                Ok(Response::empty())
            }
            "emit" => {
                events::emit("loop.ping", request.body())?;
                Ok(Response::empty())
            }
            other => Err(Error::unknown_operation(other)),
        }
    }

    /// Answers every `loop.ping` with another: an endless chain the
    /// platform's event depth limit must cut.
    fn on_event(event: Event) -> Result<(), Error> {
        events::emit("loop.ping", event.payload())
    }
}

spleis_sdk::export_plugin!(Hostile);
