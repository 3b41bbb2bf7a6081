//! A tenant's terms: minimum commitments, discounts, prepaid credit. The
//! operator sets them all; a tenant reads its own commitments.

use crate::{AccessError, Actor, Error, Platform};
use spleis_billing::commitments::Commitment;
use spleis_billing::discounts::Discount;
use spleis_domain::accounts::Role;
use spleis_domain::billing::CommitmentRecord;
use spleis_store::now_ms;

impl Platform {
    /// Operator: the tenant's standing money minimum from the open period
    /// on, minor units (0 removes it).
    pub async fn set_minimum(
        &self,
        actor: &Actor,
        tenant: &str,
        minimum_minor: i64,
    ) -> Result<(), Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .books()
            .set_minimum(tenant, minimum_minor, now_ms())
            .await?)
    }

    /// Operator: gives the tenant a minimum commitment, in money or in
    /// units of a plugin's metric, from a period not yet closed; answers
    /// its id.
    pub async fn add_commitment(
        &self,
        actor: &Actor,
        tenant: &str,
        commitment: &Commitment,
    ) -> Result<String, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .books()
            .add_commitment(tenant, commitment, now_ms())
            .await?)
    }

    /// The tenant's commitments, oldest first: the operator any tenant's, a
    /// tenant its own.
    pub async fn commitments(
        &self,
        actor: &Actor,
        tenant: &str,
    ) -> Result<Vec<CommitmentRecord>, Error> {
        let own = actor.role() == Role::Tenant && tenant == actor.id();
        if !(actor.is_operator() || own) {
            return Err(AccessError::Forbidden(
                "commitments are seen by their tenant and the operator".into(),
            )
            .into());
        }
        Ok(self.store.commitments(tenant).await?)
    }

    /// Operator: ends a commitment; it no longer applies to any period not
    /// yet closed. Answers it as it stands, or `None` if it never applied
    /// and was removed.
    pub async fn end_commitment(
        &self,
        actor: &Actor,
        tenant: &str,
        id: &str,
    ) -> Result<Option<CommitmentRecord>, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.books().end_commitment(tenant, id, now_ms()).await?)
    }

    /// Operator: gives the tenant a discount over a range of periods;
    /// answers its id.
    pub async fn add_discount(
        &self,
        actor: &Actor,
        tenant: &str,
        discount: &Discount,
    ) -> Result<String, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.store.add_discount(tenant, discount, now_ms()).await?)
    }

    /// Operator: books prepaid credit for the tenant, consumed before
    /// invoicing; answers its credit balance, minor units.
    pub async fn grant_credit(
        &self,
        actor: &Actor,
        tenant: &str,
        amount_minor: i64,
    ) -> Result<i64, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .store
            .grant_credit(tenant, amount_minor, now_ms())
            .await?)
    }
}
