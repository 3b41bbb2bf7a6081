//! Co-funding campaigns: tenants pledge toward a feature of a plugin; when
//! the goal is reached by the deadline the pledges become investments.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_store::accounts::Role;
use spleis_store::billing::CampaignRecord;
use spleis_store::now_ms;

/// A campaign to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// The plugin, `namespace/name`.
    pub package: String,
    /// What it funds.
    pub title: String,
    /// The goal, minor units.
    pub goal_minor: i64,
    /// When pledging ends, Unix milliseconds.
    pub deadline_ms: i64,
    /// The investors' return, basis points.
    #[serde(default)]
    pub return_bps: u32,
}

impl Platform {
    /// An owner of the package's namespace, or the operator, opens a
    /// campaign.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        campaign: &NewCampaign,
    ) -> Result<CampaignRecord, Error> {
        self.require_owner_or_operator(actor, &campaign.package)
            .await?;
        Ok(self
            .store
            .create_campaign(
                &campaign.package,
                &campaign.title,
                campaign.goal_minor,
                campaign.deadline_ms,
                campaign.return_bps,
                actor.id(),
                now_ms(),
            )
            .await?)
    }

    /// Every campaign with its pledges, newest first; open to every account
    /// (tenants decide whether to pledge).
    pub async fn campaigns(&self, _actor: &Actor) -> Result<Vec<CampaignRecord>, Error> {
        Ok(self.store.campaigns().await?)
    }

    /// One campaign with its pledges; open to every account.
    pub async fn campaign(&self, _actor: &Actor, id: &str) -> Result<CampaignRecord, Error> {
        Ok(self.store.campaign(id).await?)
    }

    /// A tenant pledges `amount_minor` (or changes its pledge to it) before
    /// the deadline.
    pub async fn pledge(
        &self,
        actor: &Actor,
        id: &str,
        amount_minor: i64,
    ) -> Result<CampaignRecord, Error> {
        let tenant = actor.require(&[Role::Tenant])?;
        Ok(self
            .store
            .pledge(id, &tenant.id, amount_minor, now_ms())
            .await?)
    }

    /// An owner of the campaign's plugin, or the operator, closes it after
    /// its deadline: funded pledges become investments, otherwise they lapse.
    pub async fn close_campaign(&self, actor: &Actor, id: &str) -> Result<CampaignRecord, Error> {
        let campaign = self.store.campaign(id).await?;
        self.require_owner_or_operator(actor, &campaign.package)
            .await?;
        Ok(self.store.close_campaign(id, now_ms()).await?)
    }
}
