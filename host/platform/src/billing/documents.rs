//! Invoices and statements: listed for their owner (the operator sees
//! all), one at a time as the stored document. Its CSV is
//! [`super::render`]'s; its printable HTML is the web console's.

use crate::{AccessError, Actor, Error, Platform};
use spleis_billing::discounts::Period;
use spleis_domain::accounts::Role;
use spleis_domain::billing::{InvoiceDocument, StatementDocument};

/// Whose documents `actor` may list: its own, or (the operator) those of
/// the account `named`, or all.
fn scope<'a>(actor: &'a Actor, named: Option<&'a str>) -> Option<&'a str> {
    if actor.is_operator() {
        named
    } else {
        Some(actor.id())
    }
}

/// Refuses another account's document as not found: a "forbidden" would
/// confirm that the number exists. The operator sees all.
fn visible(actor: &Actor, owner: &str, what: &str, number: &str) -> Result<(), Error> {
    if actor.is_operator() || owner == actor.id() {
        Ok(())
    } else {
        Err(Error::NotFound(format!("no {what} `{number}`")))
    }
}

impl Platform {
    /// Invoices of one period or all: a tenant its own, the operator those
    /// of `tenant` or all. Authors have none; they read statements.
    pub async fn invoices(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<InvoiceDocument>, Error> {
        if actor.role() == Role::Author {
            return Err(AccessError::Forbidden(
                "invoices are seen by their tenants and the operator; authors read statements"
                    .into(),
            )
            .into());
        }
        let tenant = scope(actor, tenant);
        Ok(self.store.invoices(tenant, period).await?)
    }

    /// One invoice: the tenant's own, or any for the operator; another
    /// tenant's is not found.
    pub async fn invoice(&self, actor: &Actor, number: &str) -> Result<InvoiceDocument, Error> {
        let doc = self.store.invoice(number).await?;
        visible(actor, &doc.invoice.tenant, "invoice", number)?;
        Ok(doc)
    }

    /// Statements (credit notes) of one period or all: an author's or
    /// investor's own, the operator those of `party` or all.
    pub async fn statements(
        &self,
        actor: &Actor,
        party: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<StatementDocument>, Error> {
        let party = scope(actor, party);
        Ok(self.store.statements(party, period).await?)
    }

    /// One statement: the party's own, or any for the operator; another
    /// party's is not found.
    pub async fn statement(&self, actor: &Actor, number: &str) -> Result<StatementDocument, Error> {
        let doc = self.store.statement(number).await?;
        visible(actor, &doc.statement.party, "statement", number)?;
        Ok(doc)
    }
}
