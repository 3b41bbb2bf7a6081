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
        imports: { default: trappable },
    });
}

pub use v0_1_0 as latest;

pub use latest::spleis::plugin::types::{Error as GuestError, Event, HostError, Request, Response};
