//! The platform's billing settings, its periods, the lines voided in them,
//! and the ledger.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::close::Void;
use spleis_billing::discounts::Period;
use spleis_domain::accounts::Role;
use spleis_domain::billing::{Balance, BillingSettings, CloseSummary, VoidRecord};
use spleis_store::now_ms;

/// The open period and the closed ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Periods {
    /// The first period still open: usage recorded now lands here.
    pub open: Period,
    /// The closed periods' summaries, newest first.
    pub closed: Vec<CloseSummary>,
}

/// Every ledger account's balance, and their sum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ledger {
    /// Per account, minor units.
    pub balances: Vec<Balance>,
    /// Their sum: always zero, as every transaction balances.
    pub sum: i64,
}

impl Platform {
    /// The currency, default platform fee and last closed period; any
    /// account may read them (clients need the currency to show amounts).
    pub async fn billing_settings(&self, _actor: &Actor) -> Result<BillingSettings, Error> {
        Ok(self.store.billing_settings().await?)
    }

    /// Operator: changes the default platform fee, or the currency before
    /// any plan or ledger entry exists; `None` keeps a value.
    pub async fn set_billing_settings(
        &self,
        actor: &Actor,
        currency: Option<Currency>,
        platform_fee_bps: Option<u32>,
    ) -> Result<BillingSettings, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .store
            .set_billing_settings(currency, platform_fee_bps)
            .await?)
    }

    /// Operator: the open period and the closed ones.
    pub async fn billing_periods(&self, actor: &Actor) -> Result<Periods, Error> {
        actor.require(&[Role::Operator])?;
        let settings = self.store.billing_settings().await?;
        Ok(Periods {
            open: settings.open_period(now_ms()),
            closed: self.store.closed_periods().await?,
        })
    }

    /// Operator: voids a tenant's use of a plugin for a period not yet
    /// closed, with a reason the close records in the ledger. It resolves a
    /// close one install's charges would wedge, for that tenant only.
    pub async fn void_line(
        &self,
        actor: &Actor,
        period: Period,
        void: &Void,
    ) -> Result<VoidRecord, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .books()
            .void_line(period, void, actor.id(), now_ms())
            .await?)
    }

    /// Operator: withdraws a void of a period not yet closed.
    pub async fn remove_void(
        &self,
        actor: &Actor,
        period: Period,
        tenant: &str,
        plugin: &str,
    ) -> Result<(), Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .books()
            .remove_void(period, tenant, plugin, now_ms())
            .await?)
    }

    /// Operator: the lines voided for `period`.
    pub async fn voids(&self, actor: &Actor, period: Period) -> Result<Vec<VoidRecord>, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.store.voids(period).await?)
    }

    /// Operator: ledger balances per account, over all periods or one.
    pub async fn ledger(&self, actor: &Actor, period: Option<Period>) -> Result<Ledger, Error> {
        actor.require(&[Role::Operator])?;
        let balances = self.store.balances(period).await?;
        // Saturating: the sum is a check shown to people (zero when the
        // ledger balances), not an amount anyone is charged.
        let sum = balances
            .iter()
            .fold(0_i64, |sum, b| sum.saturating_add(b.balance));
        Ok(Ledger { balances, sum })
    }
}
