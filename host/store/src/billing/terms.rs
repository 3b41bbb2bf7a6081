//! A tenant's terms: its minimum commitments and its discounts over ranges
//! of periods, and its prepaid credit (booked in the ledger); and the lines
//! the operator voided for a period not yet closed.

use super::ledger::{new_transaction_id, write_transaction};
use super::{BillingError, Cells, Result, account_with_role, to_json};
use crate::Db;
use crate::Store;
use crate::accounts::new_id;
use spleis_billing::bounds::positive;
use spleis_billing::close::{TenantTerms, Void};
use spleis_billing::commitments::Commitment;
use spleis_billing::discounts::{self, Discount};
use spleis_billing::period::Period;
use spleis_billing::split::{LedgerAccount, Transaction};
use spleis_domain::accounts::Role;
use spleis_domain::billing::{CommitmentRecord, VoidRecord};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// The voids of `period`, by tenant and plugin.
pub(crate) async fn voids_in(conn: &mut AnyConnection, period: Period) -> Result<Vec<VoidRecord>> {
    let rows = sqlx::query(
        "SELECT period, tenant, plugin, reason, created_by, created_at FROM voids \
         WHERE period = $1 ORDER BY tenant, plugin",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await
    .db()?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let cells = Cells::new(&row, "voids", &["period", "tenant", "plugin"]);
        found.push(VoidRecord {
            period: cells.parse("period")?,
            void: Void {
                tenant: cells.get("tenant")?,
                plugin: cells.get("plugin")?,
                reason: cells.get("reason")?,
            },
            created_by: cells.get("created_by")?,
            created_at: cells.get("created_at")?,
        });
    }
    Ok(found)
}

/// Every tenant's commitments, oldest first.
pub(crate) async fn all_commitments(
    conn: &mut AnyConnection,
    tenant: Option<&str>,
) -> Result<Vec<CommitmentRecord>> {
    let rows = sqlx::query(
        "SELECT id, tenant, minimum, from_period, to_period FROM commitments \
         WHERE $1 IS NULL OR tenant = $1 ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await
    .db()?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let cells = Cells::new(&row, "commitments", &["id"]);
        let to: Option<String> = cells.get("to_period")?;
        found.push(CommitmentRecord {
            id: cells.get("id")?,
            tenant: cells.get("tenant")?,
            commitment: Commitment {
                minimum: cells.json("minimum")?,
                from: cells.parse("from_period")?,
                to: to
                    .map(|to| to.parse().map_err(|e| cells.corrupt("to_period", e)))
                    .transpose()?,
            },
        });
    }
    Ok(found)
}

/// Every tenant's terms as the close reads them: commitments and discounts
/// in the order they were given, and the credit balance.
pub(crate) async fn tenant_terms(
    conn: &mut AnyConnection,
) -> Result<BTreeMap<String, TenantTerms>> {
    let mut tenants: BTreeMap<String, TenantTerms> = BTreeMap::new();
    for record in all_commitments(conn, None).await? {
        tenants
            .entry(record.tenant)
            .or_default()
            .commitments
            .push(record.commitment);
    }
    for row in sqlx::query(
        "SELECT id, tenant, reason, amount, from_period, to_period FROM discounts ORDER BY created_at, id",
    )
    .fetch_all(&mut *conn)
    .await.db()?
    {
        let cells = Cells::new(&row, "discounts", &["id"]);
        let discount = Discount {
            reason: cells.get("reason")?,
            amount: cells.json("amount")?,
            from: cells.parse("from_period")?,
            to: cells.parse("to_period")?,
        };
        tenants
            .entry(cells.get("tenant")?)
            .or_default()
            .discounts
            .push(discount);
    }
    for row in sqlx::query(
        "SELECT account_kind, account_id, CAST(SUM(amount) AS BIGINT) AS balance FROM ledger_entries \
         WHERE account_kind = 'credit' GROUP BY account_kind, account_id",
    )
    .fetch_all(&mut *conn)
    .await.db()?
    {
        let cells = Cells::new(&row, "ledger_entries", &["account_kind", "account_id"]);
        let balance: i64 = cells.get("balance")?;
        // Credit is a liability: credited (negative) in the ledger.
        let credit = balance
            .checked_neg()
            .ok_or(BillingError::Overflow("a credit balance"))?;
        tenants.entry(cells.get("account_id")?).or_default().credit = credit;
    }
    Ok(tenants)
}

impl Store {
    /// A tenant's commitments, oldest first.
    pub async fn commitments(&self, tenant: &str) -> Result<Vec<CommitmentRecord>> {
        let mut conn = self.pool().acquire().await.db()?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        all_commitments(&mut conn, Some(tenant)).await
    }

    /// The lines voided for `period`.
    pub async fn voids(&self, period: Period) -> Result<Vec<VoidRecord>> {
        let mut conn = self.pool().acquire().await.db()?;
        voids_in(&mut conn, period).await
    }

    /// Gives a tenant a discount over a range of periods.
    pub async fn add_discount(
        &self,
        tenant: &str,
        discount: &Discount,
        now: i64,
    ) -> Result<String> {
        discounts::validate(discount)?;
        let mut conn = self.pool().acquire().await.db()?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        let id = format!("dis-{}", &new_id()?[..12]);
        sqlx::query(
            "INSERT INTO discounts (id, tenant, reason, amount, from_period, to_period, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(tenant)
        .bind(&discount.reason)
        .bind(to_json("the discount amount", &discount.amount)?)
        .bind(discount.from.to_string())
        .bind(discount.to.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await.db()?;
        Ok(id)
    }

    /// Books prepaid credit for a tenant in the open period; returns the
    /// tenant's credit balance.
    pub async fn grant_credit(&self, tenant: &str, amount: i64, now: i64) -> Result<i64> {
        positive("credit", amount)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        account_with_role(&mut tx, tenant, Role::Tenant).await?;
        let transaction = Transaction::new(
            format!("prepaid credit for {tenant}"),
            vec![
                (LedgerAccount::TenantReceivable(tenant.to_owned()), amount),
                (LedgerAccount::Credit(tenant.to_owned()), -amount),
            ],
        )?;
        let period = settings.open_period(now);
        write_transaction(
            self,
            &mut tx,
            &new_transaction_id()?,
            period,
            &transaction,
            now,
        )
        .await?;
        tx.commit().await.db()?;
        self.balance(&LedgerAccount::Credit(tenant.to_owned()))
            .await?
            .checked_neg()
            .ok_or(BillingError::Overflow("a credit balance"))
    }
}

/// Stores a commitment; answers its new id.
pub(crate) async fn insert_commitment(
    conn: &mut AnyConnection,
    tenant: &str,
    commitment: &Commitment,
    now: i64,
) -> Result<String> {
    let id = format!("com-{}", &new_id()?[..12]);
    sqlx::query(
        "INSERT INTO commitments (id, tenant, minimum, from_period, to_period, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(tenant)
    .bind(to_json("the commitment", &commitment.minimum)?)
    .bind(commitment.from.to_string())
    .bind(commitment.to.map(|to| to.to_string()))
    .bind(now)
    .execute(&mut *conn)
    .await.db()?;
    Ok(id)
}
