//! The failures of the two operations that have their own: a call that
//! could not run, and a publish that was refused. A leaf, so the platform's
//! [`Error`](crate::Error) wraps them without importing the operations.

use crate::shares::Throttled;
use spleis_domain::DatabaseError;
use spleis_domain::registry::RegistryError;
use spleis_runtime::{InvokeError, LoadError};
use spleis_store::StoreError;

/// The longest `Idempotency-Key`, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;

/// Why a call could not run.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// The tenant has no active install of the package.
    #[error("`{0}` is not installed for this tenant")]
    NotInstalled(String),
    /// Refused before running (unknown operation, …).
    #[error(transparent)]
    Refused(#[from] InvokeError),
    /// The stored component is unusable (integrity failure, refused).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The stored component no longer loads.
    #[error("the installed component cannot be loaded: {0}")]
    Load(#[from] LoadError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// An idempotency key outside [`MAX_IDEMPOTENCY_KEY_BYTES`] bytes of
    /// visible ASCII: refused, never ignored (an ignored key bills a retry
    /// twice).
    #[error(
        "the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes of visible ASCII (`!` to `~`): {0}"
    )]
    InvalidKey(String),
    /// An idempotency key sent again with a different request.
    #[error("the Idempotency-Key `{0}` was already used for a different request")]
    KeyReused(String),
    /// An idempotency key whose first request is still running.
    #[error("a request with the Idempotency-Key `{0}` is in progress; retry after it finishes")]
    KeyInProgress(String),
    /// A task the call ran in died or a compile panicked (a host bug).
    #[error("the call could not complete: {0}")]
    Join(String),
    /// The tenant is over its share, or the pool is full: retry later.
    #[error(transparent)]
    Throttled(#[from] Throttled),
}

impl From<StoreError> for CallFailure {
    fn from(error: StoreError) -> Self {
        CallFailure::Database(error.into())
    }
}

/// The largest component the registry accepts: 20 MiB.
pub const MAX_COMPONENT_BYTES: usize = 20 << 20;

/// Why publishing was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Too large.
    #[error("the component has {size} bytes; the registry accepts at most {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// No manifest sent and none embedded.
    #[error("no manifest: send one with the component, or build with spleis-sdk, which embeds it")]
    NoManifest,
    /// The manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] spleis_registry::ManifestError),
    /// The manifest sent differs from the one embedded.
    #[error(
        "the manifest sent ({sent}) differs from the one embedded in the component ({embedded}); rebuild the component"
    )]
    ManifestMismatch {
        /// name@version sent.
        sent: String,
        /// name@version embedded.
        embedded: String,
    },
    /// The runtime refused the component.
    #[error(transparent)]
    Component(#[from] LoadError),
    /// The component imports capabilities the sent manifest does not declare.
    #[error("the component imports `{0}`, which its manifest does not declare")]
    UndeclaredCapability(String),
    /// The registry refused it.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Rolling out to installs failed (the version is published).
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

impl From<StoreError> for PublishError {
    fn from(error: StoreError) -> Self {
        PublishError::Database(error.into())
    }
}
