//! The platform's error: every way an operation can be refused or fail,
//! each a typed variant that a face (HTTP, CLI, console) maps on its own.

use crate::access::AccessError;
use crate::failures::{CallFailure, PublishError};
use spleis_domain::DatabaseError;
use spleis_domain::accounts::AccountError;
use spleis_domain::billing::BillingError;
use spleis_domain::installs::InstallError;
use spleis_domain::notifications::WebhookError;
use spleis_domain::registry::RegistryError;
use spleis_domain::wishlist::WishlistError;
use spleis_store::StoreError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The actor may not do this.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The request named something wrongly (a field out of range, a
    /// malformed value); the message says what.
    #[error("{0}")]
    Invalid(String),
    /// What the request names does not exist (or is not the actor's to see).
    #[error("{0}")]
    NotFound(String),
    /// The actor has no install (active or uninstalled) of the package.
    #[error("`{0}` is not installed")]
    NotInstalled(String),
    /// Accounts.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The registry.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Installs.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// Publishing.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Calling a plugin.
    #[error(transparent)]
    Call(#[from] CallFailure),
    /// Billing.
    #[error(transparent)]
    Billing(#[from] BillingError),
    /// Webhooks.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The wishlist.
    #[error(transparent)]
    Wishlist(#[from] WishlistError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The store's own error reaches the faces as the domain's
/// [`DatabaseError`]: no face sees sqlx.
impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Database(error.into())
    }
}
