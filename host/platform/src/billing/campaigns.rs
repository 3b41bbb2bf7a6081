//! Co-funding campaigns: tenants pledge toward a feature of a plugin; when
//! the goal is reached by the deadline the pledges become investments.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::accounts::Role;
use spleis_domain::billing::{BillingError, CampaignRecord};
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
    pub async fn campaigns(&self, actor: &Actor) -> Result<Vec<CampaignRecord>, Error> {
        let mut visible = Vec::new();
        for campaign in self.store.campaigns().await? {
            visible.push(self.as_seen_by(actor, campaign).await);
        }
        Ok(visible)
    }

    /// One campaign, its total and count of pledges; who pledged what only
    /// as [`Platform::as_seen_by`] allows.
    pub async fn campaign(&self, actor: &Actor, id: &str) -> Result<CampaignRecord, Error> {
        let campaign = self.store.campaign(id).await?;
        Ok(self.as_seen_by(actor, campaign).await)
    }

    /// Pledges are private: every account sees a campaign's total and count;
    /// who pledged what is for the operator and the plugin's owners, and a
    /// tenant sees its own pledge only.
    pub(crate) async fn as_seen_by(
        &self,
        actor: &Actor,
        mut campaign: CampaignRecord,
    ) -> CampaignRecord {
        let sees_all = match &campaign.package {
            // A request's funding: the operator's to see whole.
            _ if campaign.request.is_some() => actor.is_operator(),
            Some(package) => self.require_owner_or_operator(actor, package).await.is_ok(),
            None => actor.is_operator(),
        };
        if !sees_all {
            campaign.pledges.retain(|p| p.tenant == actor.id());
        }
        campaign
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
        if self.store.campaign(id).await?.request.is_some() {
            return self.pledge_toward_request(actor, id, amount_minor).await;
        }
        let campaign = self
            .store
            .pledge(id, &tenant.id, amount_minor, now_ms())
            .await?;
        Ok(self.as_seen_by(actor, campaign).await)
    }

    /// An owner of the campaign's plugin, or the operator, closes it after
    /// its deadline: funded pledges become investments, otherwise they lapse.
    pub async fn close_campaign(&self, actor: &Actor, id: &str) -> Result<CampaignRecord, Error> {
        let campaign = self.store.campaign(id).await?;
        if campaign.request.is_some() {
            // A request's funding lapses by itself after its deadline;
            // closing it by hand after the deadline does not wait for the
            // sweep.
            actor.require(&[Role::Operator])?;
            if campaign.status == "open" && now_ms() <= campaign.deadline {
                return Err(BillingError::CampaignRunning {
                    id: id.to_owned(),
                    deadline: campaign.deadline,
                }
                .into());
            }
            self.lapse_fundings().await?;
            let campaign = self.store.campaign(id).await?;
            return Ok(self.as_seen_by(actor, campaign).await);
        }
        let package = campaign.package.clone().unwrap_or_default();
        self.require_owner_or_operator(actor, &package).await?;
        let closed = self.store.close_campaign(id, now_ms()).await?;
        Ok(self.as_seen_by(actor, closed).await)
    }
}
