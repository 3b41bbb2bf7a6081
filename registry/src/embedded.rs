//! Metadata a component carries inside itself.
//!
//! The SDK's `export_plugin!` embeds the plugin crate's `Cargo.toml` in a
//! custom section named [`MANIFEST_SECTION`] of the core module, so a built
//! component describes itself and `spleis run` needs no side files.

use crate::manifest::{Manifest, ManifestError};

/// The custom section the SDK writes the manifest into.
pub const MANIFEST_SECTION: &str = "spleis-manifest";

/// Why the embedded manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The bytes are not a well-formed WebAssembly binary.
    #[error("not a WebAssembly binary: {0}")]
    Parse(wasmparser::BinaryReaderError),
    /// The section is not UTF-8.
    #[error("a spleis custom section is not UTF-8")]
    NotUtf8,
    /// The section holds no valid manifest.
    #[error("the embedded manifest is not valid: {0}")]
    Manifest(ManifestError),
}

/// The custom section the SDK writes the crate's version into
/// (`CARGO_PKG_VERSION`), since a `Cargo.toml` may inherit its version from
/// a workspace.
pub const VERSION_SECTION: &str = "spleis-package-version";

/// The manifest embedded in `component`, if it has one.
pub fn manifest(component: &[u8]) -> Result<Option<Manifest>, EmbeddedError> {
    let mut text = None;
    let mut version = None;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        if let wasmparser::Payload::CustomSection(section) =
            payload.map_err(EmbeddedError::Parse)?
        {
            let utf8 = || std::str::from_utf8(section.data()).map_err(|_| EmbeddedError::NotUtf8);
            match section.name() {
                MANIFEST_SECTION => text = Some(utf8()?),
                VERSION_SECTION => version = Some(utf8()?),
                _ => {}
            }
        }
    }
    text.map(|text| Manifest::parse_with_version(text, version))
        .transpose()
        .map_err(EmbeddedError::Manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_without_section_and_error_on_garbage() {
        let module = wat::parse_str("(module)").unwrap();
        assert!(manifest(&module).unwrap().is_none());
        assert!(matches!(
            manifest(b"not wasm"),
            Err(EmbeddedError::Parse(_))
        ));
    }

    #[test]
    fn reads_a_nested_section() {
        let text = "name = \"a/b\"\nversion = \"1.0.0\"\noperations = [\"run\"]";
        let wat = format!(
            "(component (core module (@custom \"spleis-manifest\" \"{}\")))",
            text.replace('"', "\\\"").replace('\n', "\\n")
        );
        let bytes = wat::parse_str(&wat).unwrap();
        let m = manifest(&bytes).unwrap().unwrap();
        assert_eq!(m.name, "a/b");
    }
}
