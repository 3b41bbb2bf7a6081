//! A request's funding as steps: open it, pledge toward it (reaching the
//! goal funds it at once: its pledges are invoiced at the close of the open
//! period and the request is planned), lapse it past its deadline, and
//! deliver the request (the held funding is released to the builder at the
//! close of the open period, and each pledge becomes an investment in the
//! delivering plugin, paid back from the next period on). Each runs in one
//! [`spleis_store::billing::BillingTx`], so a close never sees half of it.

use super::Books;
use spleis_domain::billing::{BillingError, CampaignRecord};
use spleis_domain::registry::namespace_of;
use spleis_domain::wishlist::{
    NewDelivery, NewFunding, RequestStatus, WishlistError, may_open_funding, pledge_toward,
};
use spleis_store::billing::funding::FundedInvestment;

type Result<T> = std::result::Result<T, WishlistError>;

/// What a pledge toward a request did.
#[derive(Debug)]
pub struct Pledged {
    /// The campaign after the pledge.
    pub campaign: CampaignRecord,
    /// Whether this pledge reached the goal.
    pub reached: bool,
}

/// What a delivery did.
#[derive(Debug)]
pub struct Delivered {
    /// The funding released to the builder, if the request was funded.
    pub funding: Option<CampaignRecord>,
    /// The builder's account paid the funding.
    pub builder: Option<String>,
}

impl Books<'_> {
    /// Opens funding on an accepted request without funding.
    pub async fn open_funding(
        self,
        request: i64,
        funding: &NewFunding,
        by: &str,
        now: i64,
    ) -> Result<CampaignRecord> {
        funding.check(now)?;
        let (mut tx, _) = self.0.begin_billing().await?;
        let row = tx.request(request).await?;
        let live = tx.live_funding(request).await?;
        may_open_funding(request, row.status, live.as_ref())?;
        if !tx.namespace_exists(&funding.builder).await? {
            return Err(WishlistError::NoNamespace(funding.builder.clone()));
        }
        let campaign = tx.open_funding(&row, funding, by, now).await?;
        tx.commit().await?;
        Ok(campaign)
    }

    /// `tenant` pledges `amount` toward the request's open funding: within
    /// what is left of the goal, before the deadline. The pledge that
    /// reaches the goal funds it: invoiced at the open period's close, the
    /// request planned.
    pub async fn pledge_toward_request(
        self,
        campaign: &str,
        tenant: &str,
        amount: i64,
        now: i64,
    ) -> Result<Pledged> {
        let (mut tx, settings) = self.0.begin_billing().await?;
        let current = tx.campaign(campaign).await?;
        let Some(request) = current.request else {
            return Err(WishlistError::Refused(format!(
                "campaign {campaign} funds a plugin, not a request"
            )));
        };
        if current.status != "open" || now > current.deadline {
            return Err(BillingError::CampaignClosed {
                id: campaign.to_owned(),
                status: current.status,
                deadline: current.deadline,
            }
            .into());
        }
        let others = current
            .pledges
            .iter()
            .filter(|p| p.tenant != tenant)
            .try_fold(0_i64, |sum, p| sum.checked_add(p.amount))
            .ok_or(BillingError::Overflow("the sum of the pledges"))?;
        let reached = pledge_toward(current.goal, others, amount)?;
        tx.put_pledge(campaign, tenant, amount, now).await?;
        if reached {
            let period = settings.open_period(now);
            tx.mark_funded(campaign, now, period).await?;
            let row = tx.request(request).await?;
            let note = format!(
                "funding reached its goal: the funders are invoiced at the close of {period}"
            );
            if row.status == RequestStatus::Accepted {
                tx.change_request_status(&row, RequestStatus::Planned, tenant, &note, now)
                    .await?;
            }
        }
        let campaign = tx.campaign(campaign).await?;
        tx.commit().await?;
        Ok(Pledged { campaign, reached })
    }

    /// Lapses a request's funding whose deadline passed short of its goal:
    /// nothing is invoiced. Answers the campaign if it lapsed now.
    pub async fn lapse_funding(self, campaign: &str, now: i64) -> Result<Option<CampaignRecord>> {
        let (mut tx, _) = self.0.begin_billing().await?;
        let current = tx.campaign(campaign).await?;
        if current.request.is_none() || current.status != "open" || now <= current.deadline {
            return Ok(None);
        }
        tx.mark_lapsed(campaign).await?;
        let lapsed = tx.campaign(campaign).await?;
        tx.commit().await?;
        Ok(Some(lapsed))
    }

    /// Delivers the request with a published version of a plugin in its
    /// builder's namespace. A funded request's held funding goes to the
    /// plugin's author (its agreement's, who receives its revenue) at the
    /// open period's close, and each pledge becomes an investment in the
    /// plugin, paid back from the next period by the plugin's agreement,
    /// which must give investors a share.
    ///
    /// `owner`: the delivering author, who must own the builder's
    /// namespace (checked on the locked row, so a builder changed meanwhile
    /// is the one checked); `None` for the operator.
    pub async fn deliver_request(
        self,
        request: i64,
        delivery: &NewDelivery,
        owner: Option<&str>,
        by: &str,
        now: i64,
    ) -> Result<Delivered> {
        let (mut tx, settings) = self.0.begin_billing().await?;
        let row = tx.request(request).await?;
        if let Some(account) = owner {
            let owns = match &row.builder {
                Some(builder) => tx.owns_namespace(builder, account).await?,
                None => false,
            };
            if !owns {
                return Err(WishlistError::NotBuilder(format!(
                    "only the operator or an owner of the builder's namespace may deliver request #{request}"
                )));
            }
        }
        if !row.status.may_deliver() {
            return Err(WishlistError::Transition {
                id: request,
                from: row.status,
                to: RequestStatus::Delivered,
                hint: "; it must be accepted, planned or in progress".into(),
            });
        }
        let namespace = namespace_of(&delivery.package);
        if let Some(builder) = &row.builder
            && builder != namespace
        {
            return Err(WishlistError::Refused(format!(
                "`{}` is not in the builder's namespace `{builder}`",
                delivery.package
            )));
        }
        if !tx
            .version_exists(&delivery.package, &delivery.version)
            .await?
        {
            return Err(WishlistError::Refused(format!(
                "`{}` has no published version {}",
                delivery.package, delivery.version
            )));
        }
        let funding = tx.live_funding(request).await?;
        let mut delivered = Delivered {
            funding: None,
            builder: None,
        };
        if let Some(funding) = funding {
            if funding.status == "open" {
                return Err(WishlistError::Refused(format!(
                    "request #{request} has funding open ({}): it is reached or lapses first",
                    funding.id
                )));
            }
            // Payback shares one pool among a plugin's investors from its
            // first revenue on: funders joining a pool that has paid out
            // would be owed part of revenue from before they joined.
            if tx.investments_in(&delivery.package).await? > 0 {
                return Err(WishlistError::Refused(format!(
                    "`{}` already pays back investors: a request's funders are paid back by a plugin they are the only investors of; deliver it with a plugin of its own",
                    delivery.package
                )));
            }
            let agreement = tx.agreement(&delivery.package, &settings).await?;
            if agreement.investor_share_bps == 0 {
                return Err(BillingError::NoInvestorShare {
                    package: delivery.package.clone(),
                    campaign: Some(funding.id.clone()),
                }
                .into());
            }
            let period = settings.open_period(now);
            tx.release_funding(&funding.id, &delivery.package, &agreement.author, period)
                .await?;
            for pledge in &funding.pledges {
                tx.add_funded_investment(FundedInvestment {
                    package: &delivery.package,
                    investor: &pledge.tenant,
                    principal: pledge.amount,
                    return_bps: funding.return_bps,
                    campaign: &funding.id,
                    pays_from: period.next(),
                    at: pledge.at,
                })
                .await?;
            }
            delivered.builder = Some(agreement.author);
            delivered.funding = Some(funding);
        }
        tx.record_delivery(request, &delivery.package, &delivery.version, now)
            .await?;
        let note = format!("delivered by {} {}", delivery.package, delivery.version);
        tx.change_request_status(&row, RequestStatus::Delivered, by, &note, now)
            .await?;
        tx.commit().await?;
        Ok(delivered)
    }
}
