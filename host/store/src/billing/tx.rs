//! One write transaction on billing, for the platform to sequence an
//! operation in: the close's two steps, a plan, a void, a commitment. It
//! holds the money lock (and, for changes, the billing row exclusively), so
//! what it reads cannot change under it; each method reads or writes rows
//! and decides no rule. Dropped without [`BillingTx::commit`], nothing it
//! wrote stays.

use super::close::{closed_summary, earliest_usage_before, first_month, gather, write_close};
use super::plans::declared;
use super::settings::settings_in;
use super::terms::{all_commitments, insert_commitment};
use super::{Result, account_with_role, package_exists, to_json};
use crate::{Db, Store};
use spleis_billing::Currency;
use spleis_billing::close::{PeriodClose, PeriodInput, Void};
use spleis_billing::commitments::Commitment;
use spleis_billing::period::Period;
use spleis_billing::rating::Declared;
use spleis_domain::accounts::Role;
use spleis_domain::billing::{BillingSettings, CloseSummary, CommitmentRecord, PlanRecord};
use sqlx::Row;

/// A billing transaction under way.
pub struct BillingTx<'s> {
    pub(super) store: &'s Store,
    pub(super) tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl Store {
    /// Begins a change to billing: the money lock, then the billing row
    /// exclusively (usage writers wait for it), and the settings as they
    /// stand. The close's first step and every change of terms begin here.
    pub async fn begin_billing(&self) -> Result<(BillingTx<'_>, BillingSettings)> {
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        Ok((BillingTx { store: self, tx }, settings))
    }

    /// Begins the close's long step: the money lock only, so usage writers
    /// (which never take it) go on while the period is gathered and rated;
    /// only the last statement of [`BillingTx::write_close`] touches the row
    /// they share.
    pub async fn begin_close(&self) -> Result<(BillingTx<'_>, BillingSettings)> {
        let mut tx = self.begin_write().await.db()?;
        self.lock_money(&mut tx).await?;
        let settings = settings_in(&mut tx, "").await?;
        Ok((BillingTx { store: self, tx }, settings))
    }
}

impl BillingTx<'_> {
    /// Makes everything written in the transaction stay.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.db()?;
        Ok(())
    }

    /// The stored summary of `period`, if it is closed.
    pub async fn closed_summary(&mut self, period: Period) -> Result<Option<CloseSummary>> {
        closed_summary(&mut self.tx, period).await
    }

    /// The platform's first month: of its first account or its first usage
    /// record, whichever is earlier; the month of `now` without either.
    pub async fn first_month(&mut self, now: i64) -> Result<Period> {
        first_month(&mut self.tx, now).await
    }

    /// The earliest period before `period` holding usage.
    pub async fn earliest_usage_before(&mut self, period: Period) -> Result<Option<Period>> {
        earliest_usage_before(&mut self.tx, period).await
    }

    /// Fixes the close's boundary: from the commit on, usage writers put
    /// records of `period` into the next open one.
    pub async fn mark_closing(&mut self, period: Period) -> Result<()> {
        sqlx::query("UPDATE billing_state SET closing = $1 WHERE id = 1")
            .bind(period.to_string())
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(())
    }

    /// Everything the close of `period` needs, and the usage records it
    /// bills.
    pub async fn gather(
        &mut self,
        period: Period,
        settings: &BillingSettings,
    ) -> Result<(PeriodInput, i64)> {
        gather(&mut self.tx, period, settings).await
    }

    /// Writes a close's invoices, statements, transactions and payback
    /// state, keeps `summary` with the period and marks it closed.
    pub async fn write_close(
        &mut self,
        closed: &PeriodClose,
        summary: &CloseSummary,
        currency: Currency,
    ) -> Result<()> {
        write_close(self.store, &mut self.tx, closed, summary, currency).await
    }

    /// What `package` declares across its versions (metrics, operations);
    /// an unknown package is refused.
    pub async fn declared(&mut self, package: &str) -> Result<Declared> {
        package_exists(&mut self.tx, package).await?;
        declared(&mut self.tx, package).await
    }

    /// The number of `package`'s latest plan, if it has one.
    pub async fn last_plan(&mut self, package: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MAX(seq) AS seq FROM price_plans WHERE package = $1")
            .bind(package)
            .fetch_one(&mut *self.tx)
            .await
            .db()?;
        Ok(row.try_get("seq").db()?)
    }

    /// Stores a plan.
    pub async fn insert_plan(&mut self, plan: &PlanRecord, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO price_plans (package, seq, effective_from, plan, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&plan.package)
        .bind(plan.seq)
        .bind(plan.effective_from.to_string())
        .bind(to_json("the plan", &plan.plan)?)
        .bind(&plan.created_by)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    /// Refuses unless `tenant` is a tenant's account.
    pub async fn tenant_exists(&mut self, tenant: &str) -> Result<()> {
        account_with_role(&mut self.tx, tenant, Role::Tenant).await
    }

    /// Refuses unless `package` exists.
    pub async fn package_exists(&mut self, package: &str) -> Result<()> {
        package_exists(&mut self.tx, package).await
    }

    /// Stores a void of `period` (replacing the reason of one already
    /// there).
    pub async fn upsert_void(
        &mut self,
        period: Period,
        void: &Void,
        by: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO voids (period, tenant, plugin, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (period, tenant, plugin) DO UPDATE SET reason = excluded.reason, created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(period.to_string())
        .bind(&void.tenant)
        .bind(&void.plugin)
        .bind(&void.reason)
        .bind(by)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    /// Deletes a void; whether there was one.
    pub async fn delete_void(
        &mut self,
        period: Period,
        tenant: &str,
        plugin: &str,
    ) -> Result<bool> {
        let removed =
            sqlx::query("DELETE FROM voids WHERE period = $1 AND tenant = $2 AND plugin = $3")
                .bind(period.to_string())
                .bind(tenant)
                .bind(plugin)
                .execute(&mut *self.tx)
                .await
                .db()?
                .rows_affected();
        Ok(removed > 0)
    }

    /// A tenant's commitments, oldest first.
    pub async fn commitments(&mut self, tenant: &str) -> Result<Vec<CommitmentRecord>> {
        all_commitments(&mut self.tx, Some(tenant)).await
    }

    /// Stores a commitment; answers its new id.
    pub async fn insert_commitment(
        &mut self,
        tenant: &str,
        commitment: &Commitment,
        now: i64,
    ) -> Result<String> {
        insert_commitment(&mut self.tx, tenant, commitment, now).await
    }

    /// Deletes a commitment.
    pub async fn delete_commitment(&mut self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM commitments WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(())
    }

    /// Sets the last period a commitment applies to.
    pub async fn end_commitment_at(&mut self, id: &str, last: Period) -> Result<()> {
        sqlx::query("UPDATE commitments SET to_period = $1 WHERE id = $2")
            .bind(last.to_string())
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(())
    }
}
