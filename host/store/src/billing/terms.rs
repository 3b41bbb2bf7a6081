//! A tenant's terms: its minimum commitments and its discounts over ranges
//! of periods, and its prepaid credit (booked in the ledger); and the lines
//! the operator voided for a period not yet closed.

use super::close::first_unclosed;
use super::ledger::{new_transaction_id, write_transaction};
use super::plans::declared;
use super::{BillingError, Cells, Result, account_with_role, package_exists, to_json};
use crate::Db;
use crate::Store;
use crate::accounts::new_id;
use spleis_billing::bounds::period_in;
use spleis_billing::bounds::{non_negative, not_closed, positive};
use spleis_billing::close::{TenantTerms, Void, validate_void};
use spleis_billing::commitments::{self, Commitment, Minimum};
use spleis_billing::discounts::{self, Discount};
use spleis_billing::period::Period;
use spleis_billing::split::{LedgerAccount, Transaction};
use spleis_domain::accounts::Role;
use spleis_domain::billing::{BillingSettings, CommitmentRecord, VoidRecord};
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
async fn all_commitments(
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
    /// Gives a tenant a minimum commitment from a period not yet closed;
    /// answers its id. One commitment to the same thing (money, or one
    /// plugin's metric) per period: an overlap is refused with the one in
    /// the way.
    pub async fn add_commitment(
        &self,
        tenant: &str,
        commitment: &Commitment,
        now: i64,
    ) -> Result<String> {
        commitments::validate(commitment)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        account_with_role(&mut tx, tenant, Role::Tenant).await?;
        let first = first_unclosed(&mut tx, &settings, now).await?;
        not_closed("the commitment", commitment.from, first)?;
        if let Minimum::Units { plugin, metric, .. } = &commitment.minimum {
            package_exists(&mut tx, plugin).await?;
            let declared = declared(&mut tx, plugin).await?;
            if !declared.metrics.contains(metric) {
                return Err(BillingError::UndeclaredMetric {
                    package: plugin.clone(),
                    metric: metric.clone(),
                    declared: declared.metrics.into_iter().collect::<Vec<_>>().join(", "),
                });
            }
        }
        for existing in all_commitments(&mut tx, Some(tenant)).await? {
            if existing.commitment.overlaps(commitment) {
                return Err(overlap(&existing));
            }
        }
        let id = insert_commitment(&mut tx, tenant, commitment, now).await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    /// A tenant's commitments, oldest first.
    pub async fn commitments(&self, tenant: &str) -> Result<Vec<CommitmentRecord>> {
        let mut conn = self.pool().acquire().await.db()?;
        account_with_role(&mut conn, tenant, Role::Tenant).await?;
        all_commitments(&mut conn, Some(tenant)).await
    }

    /// Ends a tenant's commitment: it no longer applies to any period not
    /// yet closed (a month a failed close left closing included, so ending
    /// one resolves that close). One that never applied to a closed period
    /// is removed; one that did ends with the last closed period, which
    /// keeps what was invoiced under it. Answers it as it now stands
    /// (`None`: removed).
    pub async fn end_commitment(
        &self,
        tenant: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<CommitmentRecord>> {
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        let record = all_commitments(&mut tx, Some(tenant))
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| BillingError::NotFound {
                what: "commitment",
                id: id.to_owned(),
            })?;
        let from = first_unclosed(&mut tx, &settings, now).await?;
        let ended = end_in(&mut tx, record, from).await?;
        tx.commit().await.db()?;
        Ok(ended)
    }

    /// Sets a tenant's standing money minimum from the open period on (0
    /// removes it): every money commitment reaching into the open period or
    /// later ends, and an open-ended one of `minimum` starts. Commitments in
    /// units are untouched.
    pub async fn set_minimum(&self, tenant: &str, minimum: i64, now: i64) -> Result<()> {
        non_negative("the minimum commitment", minimum)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        account_with_role(&mut tx, tenant, Role::Tenant).await?;
        let open = settings.open_period(now);
        for record in all_commitments(&mut tx, Some(tenant)).await? {
            let money = matches!(record.commitment.minimum, Minimum::Money { .. });
            if money && record.commitment.to.is_none_or(|to| to >= open) {
                end_in(&mut tx, record, open).await?;
            }
        }
        if minimum > 0 {
            let commitment = Commitment {
                minimum: Minimum::Money { minor: minimum },
                from: open,
                to: None,
            };
            insert_commitment(&mut tx, tenant, &commitment, now).await?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    /// Voids a tenant's use of a plugin for a period not yet closed (the
    /// first unclosed to the open one): the close does not rate it and
    /// records the reason in the ledger. Voiding again replaces the reason.
    pub async fn void_line(
        &self,
        period: Period,
        void: &Void,
        by: &str,
        now: i64,
    ) -> Result<VoidRecord> {
        validate_void(void)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        voidable(&mut tx, &settings, now, period).await?;
        account_with_role(&mut tx, &void.tenant, Role::Tenant).await?;
        package_exists(&mut tx, &void.plugin).await?;
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
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        Ok(VoidRecord {
            period,
            void: void.clone(),
            created_by: by.to_owned(),
            created_at: now,
        })
    }

    /// Withdraws a void of a period not yet closed: the close rates the
    /// line again.
    pub async fn remove_void(
        &self,
        period: Period,
        tenant: &str,
        plugin: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        voidable(&mut tx, &settings, now, period).await?;
        let removed =
            sqlx::query("DELETE FROM voids WHERE period = $1 AND tenant = $2 AND plugin = $3")
                .bind(period.to_string())
                .bind(tenant)
                .bind(plugin)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        if removed == 0 {
            return Err(BillingError::NotFound {
                what: "void",
                id: format!("{period}/{tenant}/{plugin}"),
            });
        }
        tx.commit().await.db()?;
        Ok(())
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

/// The refusal for a commitment that overlaps `existing`.
fn overlap(existing: &CommitmentRecord) -> BillingError {
    BillingError::CommitmentOverlap {
        existing: existing.id.clone(),
        what: existing.commitment.minimum.subject(),
        from: existing.commitment.from,
        to: existing
            .commitment
            .to
            .map_or("open".to_owned(), |to| to.to_string()),
    }
}

/// Refuses a void of `period` unless it is from the first period not closed
/// to the open one.
async fn voidable(
    conn: &mut AnyConnection,
    settings: &BillingSettings,
    now: i64,
    period: Period,
) -> Result<()> {
    let first = first_unclosed(conn, settings, now).await?;
    period_in(
        "the voided period",
        period,
        first,
        settings.open_period(now),
    )?;
    Ok(())
}

/// Stores a commitment; answers its new id.
async fn insert_commitment(
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

/// Ends `record` before `from`: removed if it starts there or later, else
/// cut to the period before.
async fn end_in(
    conn: &mut AnyConnection,
    mut record: CommitmentRecord,
    from: Period,
) -> Result<Option<CommitmentRecord>> {
    if let Some(to) = record.commitment.to
        && to < from
    {
        return Err(BillingError::CommitmentEnded {
            id: record.id,
            to,
            from,
        });
    }
    if record.commitment.from >= from {
        sqlx::query("DELETE FROM commitments WHERE id = $1")
            .bind(&record.id)
            .execute(&mut *conn)
            .await
            .db()?;
        return Ok(None);
    }
    let last = from.previous();
    sqlx::query("UPDATE commitments SET to_period = $1 WHERE id = $2")
        .bind(last.to_string())
        .bind(&record.id)
        .execute(&mut *conn)
        .await
        .db()?;
    record.commitment.to = Some(last);
    Ok(Some(record))
}
