//! Host bindings of the contract, one module per accepted contract version.
//!
//! Today the host accepts one version, `0.1.0`; when `0.2.0` ships, its
//! bindings get their own module, this one stays frozen, and `latest` moves.

/// Bindings of `spleis:plugin@0.1.0` (`wit/plugin.wit`).
pub mod v0_1_0 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "plugin",
        // Every import may trap: that is how a limit breach ends the call.
        // Storage waits on the database, so it is async: the call's fiber
        // suspends while the query runs and the deadline covers the wait.
        imports: {
            "spleis:plugin/storage": async | trappable,
            default: trappable,
        },
        // Calls are futures: a timer can end them whatever the guest waits on.
        exports: { default: async },
    });
}

pub use v0_1_0 as latest;

pub use latest::spleis::plugin::types::{Error as GuestError, Event, HostError, Request, Response};
