//! A plugin's price plans.

use crate::{Actor, Error, Platform};
use spleis_billing::rating::PricePlan;
use spleis_domain::accounts::Role;
use spleis_domain::billing::PlanRecord;
use spleis_store::now_ms;

impl Platform {
    /// A plugin's price plans, each with the period it applies from; any
    /// account may read them (tenants see what a plugin costs).
    pub async fn plans(&self, _actor: &Actor, package: &str) -> Result<Vec<PlanRecord>, Error> {
        Ok(self.store.plans(package).await?)
    }

    /// An owner of the package's namespace, or the operator, sets a new
    /// plan: the first applies from the open period, a change from the next.
    pub async fn set_plan(
        &self,
        actor: &Actor,
        package: &str,
        plan: &PricePlan,
    ) -> Result<PlanRecord, Error> {
        self.require_owner_or_operator(actor, package).await?;
        Ok(self
            .books()
            .set_plan(package, plan, actor.id(), now_ms())
            .await?)
    }

    /// The operator puts `plan` in force from `from`, a period not closed
    /// yet: how a close that the plugin's plan cannot rate is resolved.
    pub async fn correct_plan(
        &self,
        actor: &Actor,
        package: &str,
        plan: &PricePlan,
        from: spleis_billing::discounts::Period,
    ) -> Result<PlanRecord, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .books()
            .correct_plan(package, plan, actor.id(), now_ms(), from)
            .await?)
    }
}
