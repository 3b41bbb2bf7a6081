//! Co-funding campaigns: tenants pledge toward a feature until the
//! deadline; then [`spleis_billing::cofunding::close`] decides whether the
//! pledges become investments or lapse.

use super::agreements::agreement_in;
use super::investments::{NewInvestment, insert_investment};
use super::{BillingError, Cells, Result, package_exists};
use crate::Db;
use crate::Store;
use crate::accounts::new_id;
use spleis_billing::bounds::{MAX_TEXT_CHARS, after, bps, not_empty, positive, text};
use spleis_billing::cofunding::{self, Outcome};
use spleis_billing::payback::Investor;
use spleis_domain::billing::{CampaignRecord, PledgeRecord};
use sqlx::{AnyConnection, Row};

/// A campaign still taking pledges.
const OPEN: &str = "open";
/// A campaign that met its goal: its pledges became investments.
const FUNDED: &str = "funded";
/// A campaign that fell short: nothing was charged.
const LAPSED: &str = "lapsed";

impl Store {
    /// Opens a co-funding campaign for a feature of `package`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_campaign(
        &self,
        package: &str,
        title: &str,
        goal: i64,
        deadline: i64,
        return_bps: u32,
        by: &str,
        now: i64,
    ) -> Result<CampaignRecord> {
        positive("the goal", goal)?;
        bps("the return", return_bps)?;
        after("the deadline", deadline, now)?;
        let title = not_empty("the title", title, "name what the campaign funds")?;
        let title = text("the title", title, MAX_TEXT_CHARS)?;
        let mut conn = self.pool().acquire().await.db()?;
        package_exists(&mut conn, package).await?;
        let id = format!("cf-{}", &new_id()?[..12]);
        sqlx::query(
            "INSERT INTO campaigns (id, package, title, goal, deadline, return_bps, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(package)
        .bind(title)
        .bind(goal)
        .bind(deadline)
        .bind(i64::from(return_bps))
        .bind(OPEN)
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await.db()?;
        drop(conn);
        self.campaign(&id).await
    }

    /// A campaign with its pledges.
    pub async fn campaign(&self, id: &str) -> Result<CampaignRecord> {
        let mut conn = self.pool().acquire().await.db()?;
        campaign_in(&mut conn, id, "").await
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let ids: Vec<String> = sqlx::query("SELECT id FROM campaigns ORDER BY created_at DESC, id")
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()
            .db()?;
        let mut campaigns = Vec::new();
        for id in ids {
            campaigns.push(self.campaign(&id).await?);
        }
        Ok(campaigns)
    }

    /// A tenant pledges `amount` (replacing its earlier pledge) before the
    /// deadline of an open campaign.
    pub async fn pledge(
        &self,
        campaign: &str,
        tenant: &str,
        amount: i64,
        now: i64,
    ) -> Result<CampaignRecord> {
        positive("a pledge", amount)?;
        let current = self.campaign(campaign).await?;
        if current.status != OPEN || now > current.deadline {
            return Err(BillingError::CampaignClosed {
                id: campaign.to_owned(),
                status: current.status,
                deadline: current.deadline,
            });
        }
        let mut conn = self.pool().acquire().await.db()?;
        upsert_pledge(&mut conn, campaign, tenant, amount, now).await?;
        drop(conn);
        self.campaign(campaign).await
    }

    /// Closes a campaign after its deadline: met, its pledges become
    /// investments (booked now); short, they lapse and nothing is charged.
    pub async fn close_campaign(&self, id: &str, now: i64) -> Result<CampaignRecord> {
        let campaign = self.campaign(id).await?;
        if campaign.status != OPEN {
            return Ok(campaign);
        }
        if now <= campaign.deadline {
            return Err(BillingError::CampaignRunning {
                id: id.to_owned(),
                deadline: campaign.deadline,
            });
        }
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        let status = match cofunding::close(&campaign.pure(settings.currency)?)? {
            Outcome::Funded(investors) => {
                // A request's funding is funded when its goal is reached,
                // never here: only a plugin's campaign has its plugin.
                let package = campaign
                    .package
                    .clone()
                    .ok_or_else(|| BillingError::NotFound {
                        what: "campaign's plugin",
                        id: id.to_owned(),
                    })?;
                let agreement = agreement_in(&mut tx, &package, &settings).await?;
                if agreement.investor_share_bps == 0 {
                    return Err(BillingError::NoInvestorShare {
                        package,
                        campaign: Some(id.to_owned()),
                    });
                }
                for investor in &investors {
                    let new = new_investment(&campaign, investor, now)?;
                    insert_investment(self, &mut tx, &settings, &agreement, new, now).await?;
                }
                FUNDED
            }
            Outcome::Lapsed { .. } => LAPSED,
        };
        sqlx::query("UPDATE campaigns SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        self.campaign(id).await
    }
}

/// The investment a funded pledge becomes, funded when it was pledged.
fn new_investment<'a>(
    campaign: &'a CampaignRecord,
    investor: &'a Investor,
    now: i64,
) -> Result<NewInvestment<'a>> {
    let at = campaign
        .pledges
        .iter()
        .find(|p| p.tenant == investor.id)
        .map_or(now, |p| p.at);
    Ok(NewInvestment {
        investor: &investor.id,
        principal: i64::try_from(investor.principal)
            .map_err(|_| BillingError::Overflow("a pledge"))?,
        return_bps: investor.return_bps,
        campaign: Some(&campaign.id),
        at,
    })
}

/// The campaign `id` with its pledges, read through `conn` (locked with
/// `lock` inside a writing transaction).
pub(crate) async fn campaign_in(
    conn: &mut AnyConnection,
    id: &str,
    lock: &str,
) -> Result<CampaignRecord> {
    let row = sqlx::query(&format!(
        "SELECT id, package, request, title, goal, deadline, return_bps, status, funded_at \
         FROM campaigns WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .db()?
    .ok_or_else(|| BillingError::NotFound {
        what: "campaign",
        id: id.to_owned(),
    })?;
    let pledges = sqlx::query(
        "SELECT campaign, tenant, amount, at FROM pledges WHERE campaign = $1 ORDER BY at, tenant",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .db()?
    .iter()
    .map(|row| {
        let cells = Cells::new(row, "pledges", &["campaign", "tenant"]);
        // Pledges are above zero when made.
        let _: u64 = cells.int("amount")?;
        Ok(PledgeRecord {
            tenant: cells.get("tenant")?,
            amount: cells.get("amount")?,
            at: cells.get("at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let pledged = pledges
        .iter()
        .try_fold(0_i64, |sum, p| sum.checked_add(p.amount))
        .ok_or(BillingError::Overflow("the sum of the pledges"))?;
    let cells = Cells::new(&row, "campaigns", &["id"]);
    Ok(CampaignRecord {
        id: cells.get("id")?,
        package: cells.get("package")?,
        request: cells.get("request")?,
        title: cells.get("title")?,
        goal: cells.get("goal")?,
        deadline: cells.get("deadline")?,
        return_bps: cells.int("return_bps")?,
        status: cells.get("status")?,
        funded_at: cells.get("funded_at")?,
        pledged,
        pledge_count: u32::try_from(pledges.len()).unwrap_or(u32::MAX),
        pledges,
    })
}

/// Sets `tenant`'s pledge to `campaign` (replacing its earlier one).
pub(crate) async fn upsert_pledge(
    conn: &mut AnyConnection,
    campaign: &str,
    tenant: &str,
    amount: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pledges (campaign, tenant, amount, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (campaign, tenant) DO UPDATE SET amount = excluded.amount, at = excluded.at",
    )
    .bind(campaign)
    .bind(tenant)
    .bind(amount)
    .bind(now)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}
