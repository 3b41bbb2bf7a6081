//! A request's funding, in a [`BillingTx`]: the campaign tied to the
//! request, its pledges, the moment its goal is reached (invoiced at the
//! close of the open period), a lapse, and the delivery that releases the
//! held funding to the builder and turns each pledge into an investment in
//! the delivering plugin. The rules are the platform's
//! (`spleis_domain::wishlist`); these read and write rows.

use super::agreements::agreement_in;
use super::campaigns::{campaign_in, upsert_pledge};
use super::investments::{COLUMNS, cap, investment_from};
use super::{BillingTx, Result};
use crate::accounts::new_id;
use crate::wishlist::{RequestRow, change_status, namespace_exists, request_row};
use crate::{Db, Store};
use spleis_billing::bounds::MAX_TEXT_CHARS;
use spleis_billing::period::Period;
use spleis_domain::billing::{
    AgreementRecord, BillingError, BillingSettings, CampaignRecord, InvestmentRecord,
};
use spleis_domain::wishlist::{NewFunding, RequestStatus, WishlistError};
use sqlx::Row;

/// An investment born of a funded pledge toward a request.
#[derive(Clone, Copy, Debug)]
pub struct FundedInvestment<'a> {
    /// The delivering plugin.
    pub package: &'a str,
    /// The pledger.
    pub investor: &'a str,
    /// Its pledge, minor units.
    pub principal: i64,
    /// The funding's return, basis points.
    pub return_bps: u32,
    /// The funding's campaign.
    pub campaign: &'a str,
    /// The first period it is paid back in (after the delivery's).
    pub pays_from: Period,
    /// When it was pledged (the payback tie-break).
    pub at: i64,
}

impl BillingTx<'_> {
    /// The request's row, locked.
    pub async fn request(&mut self, id: i64) -> std::result::Result<RequestRow, WishlistError> {
        let lock = self.store.for_update();
        request_row(&mut self.tx, id, lock).await
    }

    /// The request's funding that is open or reached (not lapsed).
    pub async fn live_funding(&mut self, request: i64) -> Result<Option<CampaignRecord>> {
        let id: Option<String> =
            sqlx::query("SELECT id FROM campaigns WHERE request = $1 AND status <> 'lapsed'")
                .bind(request)
                .fetch_optional(&mut *self.tx)
                .await
                .db()?
                .map(|r| r.try_get("id"))
                .transpose()
                .db()?;
        match id {
            Some(id) => Ok(Some(self.campaign(&id).await?)),
            None => Ok(None),
        }
    }

    /// The campaign with its pledges, locked.
    pub async fn campaign(&mut self, id: &str) -> Result<CampaignRecord> {
        let lock = self.store.for_update();
        campaign_in(&mut self.tx, id, lock).await
    }

    /// Opens funding on the request (checked by the platform) and sets its
    /// builder.
    pub async fn open_funding(
        &mut self,
        request: &RequestRow,
        funding: &NewFunding,
        by: &str,
        now: i64,
    ) -> std::result::Result<CampaignRecord, WishlistError> {
        let id = format!("cf-{}", &new_id().map_err(BillingError::from)?[..12]);
        let title: String = format!("request #{}: {}", request.id, request.title)
            .chars()
            .take(MAX_TEXT_CHARS)
            .collect();
        sqlx::query(
            "INSERT INTO campaigns (id, request, title, goal, deadline, return_bps, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
        )
        .bind(&id)
        .bind(request.id)
        .bind(&title)
        .bind(funding.goal_minor)
        .bind(funding.deadline_ms)
        .bind(i64::from(funding.return_bps))
        .bind(by)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .db()?;
        sqlx::query("UPDATE feature_requests SET builder = $1, updated_at = $2 WHERE id = $3")
            .bind(&funding.builder)
            .bind(now)
            .bind(request.id)
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(self.campaign(&id).await?)
    }

    /// Sets `tenant`'s pledge (replacing its earlier one).
    pub async fn put_pledge(
        &mut self,
        campaign: &str,
        tenant: &str,
        amount: i64,
        now: i64,
    ) -> Result<()> {
        upsert_pledge(&mut self.tx, campaign, tenant, amount, now).await
    }

    /// The goal is reached: the pledges are invoiced at the close of
    /// `invoice_period`.
    pub async fn mark_funded(
        &mut self,
        campaign: &str,
        now: i64,
        invoice_period: Period,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE campaigns SET status = 'funded', funded_at = $1, invoice_period = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(invoice_period.to_string())
        .bind(campaign)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    /// The deadline passed short of the goal: nothing is invoiced.
    pub async fn mark_lapsed(&mut self, campaign: &str) -> Result<()> {
        sqlx::query("UPDATE campaigns SET status = 'lapsed' WHERE id = $1 AND status = 'open'")
            .bind(campaign)
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(())
    }

    /// A status change of the request, with its history entry.
    pub async fn change_request_status(
        &mut self,
        row: &RequestRow,
        to: RequestStatus,
        by: &str,
        note: &str,
        now: i64,
    ) -> std::result::Result<(), WishlistError> {
        change_status(&mut self.tx, row, to, by, note, now).await
    }

    /// Whether `namespace` exists.
    pub async fn namespace_exists(
        &mut self,
        namespace: &str,
    ) -> std::result::Result<bool, WishlistError> {
        namespace_exists(&mut self.tx, namespace).await
    }

    /// Whether `account` owns `namespace`.
    pub async fn owns_namespace(&mut self, namespace: &str, account: &str) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT account_id FROM namespace_owners WHERE namespace = $1 AND account_id = $2",
        )
        .bind(namespace)
        .bind(account)
        .fetch_optional(&mut *self.tx)
        .await
        .db()?
        .is_some())
    }

    /// How many investments `package` has.
    pub async fn investments_in(&mut self, package: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM investments WHERE package = $1")
                .bind(package)
                .fetch_one(&mut *self.tx)
                .await
                .db()?
                .try_get("n")
                .db()?,
        )
    }

    /// Whether `package` has the published `version`.
    pub async fn version_exists(&mut self, package: &str, version: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT version FROM versions WHERE package = $1 AND version = $2")
                .bind(package)
                .bind(version)
                .fetch_optional(&mut *self.tx)
                .await
                .db()?
                .is_some(),
        )
    }

    /// The agreement governing `package`'s revenue.
    pub async fn agreement(
        &mut self,
        package: &str,
        settings: &BillingSettings,
    ) -> Result<AgreementRecord> {
        agreement_in(&mut self.tx, package, settings).await
    }

    /// Records the delivery on the request.
    pub async fn record_delivery(
        &mut self,
        request: i64,
        package: &str,
        version: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE feature_requests SET delivered_package = $1, delivered_version = $2, delivered_at = $3, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(package)
        .bind(version)
        .bind(now)
        .bind(request)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    /// Ties a funded campaign to the delivering plugin: its held funding is
    /// released to `builder` at the close of `release_period`.
    pub async fn release_funding(
        &mut self,
        campaign: &str,
        package: &str,
        builder: &str,
        release_period: Period,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE campaigns SET package = $1, builder_account = $2, release_period = $3 WHERE id = $4",
        )
        .bind(package)
        .bind(builder)
        .bind(release_period.to_string())
        .bind(campaign)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    /// An investment born of a funded pledge: its money moved through the
    /// pledger's invoice and the held funding, so nothing is booked here;
    /// it is paid back from its `pays_from` period on.
    pub async fn add_funded_investment(
        &mut self,
        new: FundedInvestment<'_>,
    ) -> Result<InvestmentRecord> {
        let FundedInvestment {
            package,
            investor,
            principal,
            return_bps,
            campaign,
            pays_from,
            at,
        } = new;
        let unsigned = u64::try_from(principal).map_err(|_| BillingError::Overflow("a pledge"))?;
        cap(unsigned, return_bps).ok_or(BillingError::Overflow("the investment's cap"))?;
        let id = format!("inv-{}", &new_id()?[..12]);
        sqlx::query(
            "INSERT INTO investments (id, package, investor, principal, return_bps, paid, campaign, funded_at, pays_from) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)",
        )
        .bind(&id)
        .bind(package)
        .bind(investor)
        .bind(principal)
        .bind(i64::from(return_bps))
        .bind(campaign)
        .bind(at)
        .bind(pays_from.to_string())
        .execute(&mut *self.tx)
        .await
        .db()?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM investments WHERE id = $1"))
            .bind(&id)
            .fetch_one(&mut *self.tx)
            .await
            .db()?;
        investment_from(&row)
    }
}

impl Store {
    /// Requests' campaigns still open whose deadline passed before `now`.
    pub async fn lapsing_fundings(&self, now: i64) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT id FROM campaigns WHERE request IS NOT NULL AND status = 'open' AND deadline < $1 \
             ORDER BY deadline, id",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await
        .db()?
        .iter()
        .map(|r| r.try_get("id").db().map_err(Into::into))
        .collect()
    }

    /// The live or last funding of a request.
    pub async fn request_funding(&self, request: i64) -> Result<Option<CampaignRecord>> {
        let id: Option<String> = sqlx::query(
            "SELECT id FROM campaigns WHERE request = $1 \
             ORDER BY CASE WHEN status = 'lapsed' THEN 1 ELSE 0 END, created_at DESC, id LIMIT 1",
        )
        .bind(request)
        .fetch_optional(self.pool())
        .await
        .db()?
        .map(|r| r.try_get("id"))
        .transpose()
        .db()?;
        match id {
            Some(id) => Ok(Some(self.campaign(&id).await?)),
            None => Ok(None),
        }
    }
}
