//! The registry's words: published versions, the catalog, and why a
//! publish or a lookup was refused.

use crate::DatabaseError;
use serde::{Deserialize, Serialize};
use spleis_registry::Digest;
use spleis_registry::Manifest;
use spleis_registry::resolve::ResolveError;

/// One published version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VersionRecord {
    /// `namespace/name`.
    pub package: String,
    /// The version.
    #[schema(value_type = String)]
    pub version: semver::Version,
    /// The digest of its component, `sha256:<hex>`.
    #[schema(value_type = String)]
    pub digest: Digest,
    /// Its manifest.
    pub manifest: Manifest,
    /// The contract version it targets.
    pub contract: String,
    /// Whether it was yanked.
    pub yanked: bool,
    /// Who published it.
    pub published_by: String,
    /// When, in unix milliseconds.
    pub published_at: i64,
}

/// What publishing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A new version.
    Published(VersionRecord),
    /// The same bytes were already published under this version: nothing
    /// changed.
    Unchanged(VersionRecord),
}

/// A package in the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PackageSummary {
    /// `namespace/name`.
    pub name: String,
    /// One line.
    pub description: String,
    /// The highest non-yanked release, if any.
    pub latest: Option<String>,
}

/// Why a registry operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The account does not own the namespace.
    #[error("`{account}` is not an owner of the namespace `{namespace}`")]
    NotOwner {
        /// The namespace.
        namespace: String,
        /// Who tried.
        account: String,
    },
    /// The version exists with other bytes.
    #[error(
        "{package}@{version} is already published with other contents ({existing}); versions are immutable: publish a new version"
    )]
    VersionExists {
        /// The package.
        package: String,
        /// The version.
        version: String,
        /// The digest already published.
        existing: Digest,
    },
    /// No such package.
    #[error("no package `{0}`")]
    UnknownPackage(String),
    /// No such version.
    #[error("no version {version} of `{package}`")]
    UnknownVersion {
        /// The package.
        package: String,
        /// The version.
        version: String,
    },
    /// No such namespace.
    #[error("no namespace `{0}`")]
    UnknownNamespace(String),
    /// No such account.
    #[error("no account `{0}`")]
    UnknownAccount(String),
    /// The requirement resolves to nothing.
    #[error("{package}: {source}")]
    Resolve {
        /// The package.
        package: String,
        /// Why.
        source: ResolveError,
    },
    /// A stored blob no longer hashes to its digest.
    #[error(
        "integrity failure: the stored blob {0} does not hash to its digest; it will not be run"
    )]
    Integrity(Digest),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The namespace of a package named `namespace/name` (the whole name if it
/// has no slash).
pub fn namespace_of(package: &str) -> &str {
    package
        .split_once('/')
        .map_or(package, |(namespace, _)| namespace)
}
