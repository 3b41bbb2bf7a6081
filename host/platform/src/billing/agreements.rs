//! A plugin's revenue agreement: who receives the author's part, the
//! platform fee, the investors' share and what happens after payback.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::split::AfterPayback;
use spleis_domain::accounts::Role;
use spleis_domain::billing::AgreementRecord;
use spleis_store::now_ms;

/// A change of an agreement; fields left out keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementChange {
    /// Who receives the author's part (an account id).
    pub author: Option<String>,
    /// The platform fee, basis points of what tenants are charged.
    pub platform_fee_bps: Option<u32>,
    /// The investors' pool, basis points of the plugin's revenue.
    pub investor_share_bps: Option<u32>,
    /// What happens once every investor is paid back.
    pub after_payback: Option<AfterPayback>,
}

impl Platform {
    /// An owner of the package's namespace, or the operator: the plugin's
    /// agreement (the defaults until the operator sets one).
    pub async fn agreement(&self, actor: &Actor, package: &str) -> Result<AgreementRecord, Error> {
        self.require_owner_or_operator(actor, package).await?;
        Ok(self.store.agreement(package).await?)
    }

    /// Operator: changes the plugin's agreement; it applies from the next
    /// close. Authors may not: the agreement is what they are paid by.
    pub async fn set_agreement(
        &self,
        actor: &Actor,
        package: &str,
        change: AgreementChange,
    ) -> Result<AgreementRecord, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .store
            .set_agreement(
                package,
                change.author.as_deref(),
                change.platform_fee_bps,
                change.investor_share_bps,
                change.after_payback,
                now_ms(),
            )
            .await?)
    }
}
