//! # spleis-host
//!
//! The spleis platform host. Today: the sandboxed runtime that loads plugin
//! components and runs each call under limits ([`runtime`]), the host side
//! of the contract's capabilities ([`capabilities`]), and the `spleis`
//! command line (`src/main.rs`).

pub mod api;
pub mod bindings;
pub mod capabilities;
pub mod platform;
pub mod runtime;
pub mod store;

pub use capabilities::Install;
pub use runtime::{
    Call, Invocation, Limits, LoadError, LoadedPlugin, OutcomeKind, Runtime, RuntimeConfig, Usage,
};
