//! # spleis-registry
//!
//! The package format of spleis plugins: the manifest a plugin declares in
//! `[package.metadata.spleis]`, the content digest that names a component's
//! bytes, and the metadata read out of a component without running it.
//!
//! This crate knows nothing of wasmtime, HTTP or SQL; the host uses it.

pub mod digest;
pub mod embedded;
pub mod manifest;
pub mod resolve;

pub use digest::Digest;
pub use manifest::{Aggregation, Capability, Manifest, ManifestError, Metric};
