//! # spleis-sdk
//!
//! The one crate a spleis plugin author depends on. Implement [`Plugin`] for a
//! type, call [`export_plugin!`] on it, and build with
//! `cargo build --target wasm32-wasip2 --release`: the result is a component
//! of the `spleis:plugin` world that the spleis host runs.
//!
//! ```ignore
//! use spleis_sdk::{Error, Plugin, Request, Response};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn handle(request: Request) -> Result<Response, Error> {
//!         match request.operation() {
//!             "greet" => Response::json(&format!("hello, {}", request.tenant())),
//!             other => Err(Error::unknown_operation(other)),
//!         }
//!     }
//! }
//!
//! spleis_sdk::export_plugin!(Hello);
//! ```
//!
//! Every capability (storage, config, metering, events, log) is a module here
//! with typed helpers; each returns [`Error`] so `?` works inside `handle`.

// Lets the generated bindings and the export macro name this crate the same
// way from inside it and from a plugin crate.
extern crate self as spleis_sdk;

pub mod config;
mod error;
pub mod events;
pub mod log;
mod message;
pub mod metering;
pub mod storage;

pub use error::Error;
pub use message::{Event, Request, Response};
pub use serde_json::{Value, json};

/// The contract version this SDK targets (`spleis:plugin@CONTRACT_VERSION`).
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The bindings generated from `wit/plugin.wit`. Use the typed helpers of this
/// crate instead; the raw bindings stay reachable for what they do not cover.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "spleis_sdk::bindings",
        runtime_path: "spleis_sdk::__private::wit_bindgen::rt",
    });
}

/// What a plugin implements. Each call runs in a fresh instance, so a plugin
/// keeps nothing between calls except what it writes to [`storage`].
pub trait Plugin {
    /// Handles one call of an operation; `request.operation()` names it.
    fn handle(request: Request) -> Result<Response, Error>;

    /// Handles an event of a topic the plugin subscribes to. The default
    /// ignores every event.
    fn on_event(event: Event) -> Result<(), Error> {
        let _ = event;
        Ok(())
    }
}

/// Exports a type implementing [`Plugin`] as the component's `handler` and
/// `subscriber`, and embeds the crate's `Cargo.toml` (whose
/// `[package.metadata.spleis]` table is the plugin's manifest) in a custom
/// section named `spleis-manifest`, so the component describes itself.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            struct __SpleisExport;

            impl $crate::bindings::exports::spleis::plugin::handler::Guest for __SpleisExport {
                fn handle(
                    request: $crate::bindings::spleis::plugin::types::Request,
                ) -> ::core::result::Result<
                    $crate::bindings::spleis::plugin::types::Response,
                    $crate::bindings::spleis::plugin::types::Error,
                > {
                    $crate::__private::handle::<$plugin>(request)
                }
            }

            impl $crate::bindings::exports::spleis::plugin::subscriber::Guest for __SpleisExport {
                fn on_event(
                    event: $crate::bindings::spleis::plugin::types::Event,
                ) -> ::core::result::Result<(), $crate::bindings::spleis::plugin::types::Error>
                {
                    $crate::__private::on_event::<$plugin>(event)
                }
            }

    $crate::bindings::__export_plugin_world!(__SpleisExport with_types_in $crate::bindings);

            #[cfg(target_family = "wasm")]
            #[unsafe(link_section = "spleis-manifest")]
            #[used]
            static __SPLEIS_MANIFEST: [u8; include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/Cargo.toml"
            ))
            .len()] = *include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));

            // The version apart: `Cargo.toml` may inherit it from a workspace.
            #[cfg(target_family = "wasm")]
            #[unsafe(link_section = "spleis-package-version")]
            #[used]
            static __SPLEIS_VERSION: [u8; env!("CARGO_PKG_VERSION").len()] =
                $crate::__private::bytes(env!("CARGO_PKG_VERSION"));
        };
    };
}

/// Glue used by [`export_plugin!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    /// `text` as a byte array, for a custom section built in a `static`.
    pub const fn bytes<const N: usize>(text: &str) -> [u8; N] {
        let src = text.as_bytes();
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = src[i];
            i += 1;
        }
        out
    }

    use crate::bindings::spleis::plugin::types;
    use crate::{Event, Plugin, Request};

    pub fn handle<P: Plugin>(request: types::Request) -> Result<types::Response, types::Error> {
        P::handle(Request::from(request))
            .map(Into::into)
            .map_err(Into::into)
    }

    pub fn on_event<P: Plugin>(event: types::Event) -> Result<(), types::Error> {
        P::on_event(Event::from(event)).map_err(Into::into)
    }
}
