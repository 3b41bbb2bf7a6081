//! The billing operations, each taking the [`Actor`] first and deciding
//! itself who may do what: the operator sets the terms and closes periods;
//! an owner of a plugin's namespace prices it and opens campaigns for it;
//! tenants pledge and read their own invoices and investments; authors read
//! their own statements. Reads are scoped to the caller, and what belongs to
//! another account is not found rather than forbidden.
//!
//! One module per aggregate, as the store's billing is split:
//!
//! | module | operations | who |
//! |---|---|---|
//! | `settings` | settings, periods, ledger | anyone reads the settings; the rest the operator |
//! | `close` | close a period (usage flushed first) | operator |
//! | `plans` | read, set a price plan | anyone reads; an owner or the operator sets |
//! | `agreements` | read, set a revenue agreement | an owner or the operator reads; the operator sets |
//! | `investments` | record one, the investor's view | operator records; a tenant its own, the operator any |
//! | `campaigns` | open, read, pledge, close | an owner or the operator opens and closes; a tenant pledges |
//! | `terms` | minimum, discount, credit | operator |
//! | `documents` | invoices, statements (the stored document; `render`: its CSV) | a tenant its invoices, a party its statements, the operator all |
//! | `reports` | usage by tenant, plugin and metric | a tenant its own, an author its plugins', the operator all |
//!
//! What books money or changes terms (the close, plans and corrections,
//! voids, commitments) runs as steps in [`books`]: store calls and pure
//! billing functions, with every rule decided there.

use spleis_domain::registry::namespace_of;

mod agreements;
mod books;
mod campaigns;
mod close;
mod documents;
mod investments;
mod plans;
pub mod render;
mod reports;
mod settings;
mod terms;
#[cfg(test)]
mod tests;

pub use agreements::AgreementChange;
pub use books::Books;
pub use campaigns::NewCampaign;
pub use close::Closed;
pub use investments::{InvestorView, NewInvestment};
pub use settings::{Ledger, Periods};

impl crate::Platform {
    /// The billing operations over this platform's store.
    pub(crate) fn books(&self) -> books::Books<'_> {
        books::Books(&self.store)
    }
}

use crate::{AccessError, Actor, Error, Platform};
use spleis_domain::accounts::Role;

impl Platform {
    /// Refuses unless `actor` is the operator or an author owning the
    /// namespace of `package`. An unknown namespace is not found, as a
    /// plan or campaign for a package that does not exist would be.
    async fn require_owner_or_operator(&self, actor: &Actor, package: &str) -> Result<(), Error> {
        if actor.is_operator() {
            return Ok(());
        }
        let namespace = namespace_of(package);
        if actor.role() == Role::Author
            && self
                .store
                .owners(namespace)
                .await?
                .iter()
                .any(|owner| owner == actor.id())
        {
            return Ok(());
        }
        Err(AccessError::Forbidden(format!(
            "only an owner of the namespace `{namespace}` or the operator may do this"
        ))
        .into())
    }
}
