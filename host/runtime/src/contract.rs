//! What the host accepts: contract versions, exports and imports.
//!
//! A component is checked before anything of it runs. It must be a
//! component (not a core module), export the `spleis:plugin` handler and
//! subscriber at a contract version this host accepts, and import nothing
//! but the contract's capabilities and the WASI interfaces Rust's std needs.

use super::LoadError;
use spleis_registry::Capability;
use std::collections::BTreeSet;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The contract versions this host runs.
pub const ACCEPTED_CONTRACTS: &[&str] = &["0.1.0"];

/// The contract's package.
pub const CONTRACT_PACKAGE: &str = "spleis:plugin";

/// The interfaces a plugin must export.
const REQUIRED_EXPORTS: [&str; 2] = ["handler", "subscriber"];

/// WASI interfaces (any 0.2.x) that Rust's std may import. They are served
/// with no preopened directories, no environment, no arguments and no
/// network: they exist so std links, not to reach anything.
pub const WASI_ALLOWED: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/preopens",
    "wasi:filesystem/types",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:random/random",
];

/// What the checks learned about a component.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The contract version it targets, e.g. `0.1.0`.
    pub contract_version: String,
    /// Every import, by name.
    pub imports: Vec<String>,
    /// Every export, by name.
    pub exports: Vec<String>,
    /// The contract capabilities it imports.
    pub capabilities: BTreeSet<Capability>,
}

/// Refuses what is not a component before compiling it.
pub fn check_format(bytes: &[u8]) -> Result<(), LoadError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(LoadError::NotWasm);
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(LoadError::CoreModule);
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(LoadError::Invalid(
            "unknown WebAssembly encoding version".into(),
        ));
    }
    Ok(())
}

fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((iface, version)) => (iface, Some(version)),
        None => (name, None),
    }
}

/// Checks a compiled component's exports and imports against the contract.
pub fn check_shape(engine: &Engine, component: &Component) -> Result<Shape, LoadError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
    let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();

    let mut contract_version = None;
    for required in REQUIRED_EXPORTS {
        let wanted = format!("{CONTRACT_PACKAGE}/{required}");
        let found = exports
            .iter()
            .find(|e| split_version(e).0 == wanted)
            .ok_or_else(|| LoadError::NotAPlugin {
                missing: wanted.clone(),
                exports: exports.clone(),
            })?;
        let version = split_version(found).1.unwrap_or("").to_owned();
        if !ACCEPTED_CONTRACTS.contains(&version.as_str()) {
            return Err(LoadError::UnsupportedContract { found: version });
        }
        contract_version.get_or_insert(version);
    }
    let contract_version = contract_version.unwrap_or_default();

    let mut capabilities = BTreeSet::new();
    for import in &imports {
        let (iface, version) = split_version(import);
        if let Some(name) = iface.strip_prefix(&format!("{CONTRACT_PACKAGE}/")) {
            if version != Some(contract_version.as_str()) {
                return Err(LoadError::MixedContract {
                    import: import.clone(),
                    contract: contract_version.clone(),
                });
            }
            if name == "types" {
                continue;
            }
            match name.parse::<Capability>() {
                Ok(capability) => {
                    capabilities.insert(capability);
                }
                Err(_) => return Err(LoadError::ForeignImport(import.clone())),
            }
        } else if !(WASI_ALLOWED.contains(&iface) && version.is_some_and(|v| v.starts_with("0.2.")))
        {
            return Err(LoadError::ForeignImport(import.clone()));
        }
    }
    Ok(Shape {
        contract_version,
        imports,
        exports,
        capabilities,
    })
}
