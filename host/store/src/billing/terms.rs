//! A tenant's terms: its minimum monthly commitment, its discounts over
//! ranges of periods, and its prepaid credit (booked in the ledger).

use super::ledger::{new_transaction_id, write_transaction};
use super::{BillingError, Cells, Result, account_with_role, to_json};
use crate::Store;
use crate::accounts::{Role, new_id};
use spleis_billing::bounds::{non_negative, positive};
use spleis_billing::close::TenantTerms;
use spleis_billing::discounts::{self, Discount};
use spleis_billing::split::{LedgerAccount, Transaction};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// Every tenant's terms as the close reads them: minimum, discounts in the
/// order they were given, and the credit balance.
pub(crate) async fn tenant_terms(
    conn: &mut AnyConnection,
) -> Result<BTreeMap<String, TenantTerms>> {
    let mut tenants: BTreeMap<String, TenantTerms> = BTreeMap::new();
    for row in sqlx::query("SELECT tenant, minimum FROM tenant_terms")
        .fetch_all(&mut *conn)
        .await?
    {
        let cells = Cells::new(&row, "tenant_terms", &["tenant"]);
        let _: u64 = cells.int("minimum")?;
        tenants.entry(cells.get("tenant")?).or_default().minimum = cells.get("minimum")?;
    }
    for row in sqlx::query(
        "SELECT id, tenant, reason, amount, from_period, to_period FROM discounts ORDER BY created_at, id",
    )
    .fetch_all(&mut *conn)
    .await?
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
    .await?
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
    /// Sets a tenant's minimum monthly commitment (0 removes it).
    pub async fn set_minimum(&self, tenant: &str, minimum: i64) -> Result<()> {
        non_negative("the minimum commitment", minimum)?;
        let mut conn = self.pool().acquire().await?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        sqlx::query(
            "INSERT INTO tenant_terms (tenant, minimum) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET minimum = excluded.minimum",
        )
        .bind(tenant)
        .bind(minimum)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Gives a tenant a discount over a range of periods.
    pub async fn add_discount(
        &self,
        tenant: &str,
        discount: &Discount,
        now: i64,
    ) -> Result<String> {
        discounts::validate(discount)?;
        let mut conn = self.pool().acquire().await?;
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
        .await?;
        Ok(id)
    }

    /// Books prepaid credit for a tenant in the open period; returns the
    /// tenant's credit balance.
    pub async fn grant_credit(&self, tenant: &str, amount: i64, now: i64) -> Result<i64> {
        positive("credit", amount)?;
        let mut tx = self.begin_write().await?;
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
        tx.commit().await?;
        self.balance(&LedgerAccount::Credit(tenant.to_owned()))
            .await?
            .checked_neg()
            .ok_or(BillingError::Overflow("a credit balance"))
    }
}
