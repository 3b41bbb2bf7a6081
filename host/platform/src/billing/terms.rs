//! A tenant's terms: a minimum monthly commitment, discounts, prepaid
//! credit. The operator sets them all.

use crate::{Actor, Error, Platform};
use spleis_billing::discounts::Discount;
use spleis_store::accounts::Role;
use spleis_store::now_ms;

impl Platform {
    /// Operator: the tenant's minimum monthly commitment, minor units (0
    /// removes it).
    pub async fn set_minimum(
        &self,
        actor: &Actor,
        tenant: &str,
        minimum_minor: i64,
    ) -> Result<(), Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.store.set_minimum(tenant, minimum_minor).await?)
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
