//! Reports: a period's usage aggregated like the close aggregates it, and
//! ledger balances.

use super::ledger::account_from;
use super::{Cells, Result};
use crate::Db;
use crate::Store;
use spleis_billing::discounts::Period;
use spleis_billing::split::LedgerAccount;
use spleis_domain::billing::{Balance, CallsRow, MetricRow, UsageReport};
use sqlx::{AnyConnection, Row};

/// Aggregates one period's calls.
pub(crate) async fn aggregate_calls(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<Vec<CallsRow>> {
    let rows = sqlx::query(
        "SELECT tenant, plugin, operation, outcome, version, COUNT(*) AS calls, CAST(SUM(fuel) AS BIGINT) AS fuel, \
         CAST(SUM(host_time_us) AS BIGINT) AS host_time_us FROM usage_records WHERE period = $1 GROUP BY tenant, plugin, operation, outcome, version",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await.db()?;
    rows.iter()
        .map(|r| {
            Ok(CallsRow {
                tenant: r.try_get("tenant").db()?,
                plugin: r.try_get("plugin").db()?,
                operation: r.try_get("operation").db()?,
                outcome: r.try_get("outcome").db()?,
                version: r.try_get("version").db()?,
                calls: r.try_get("calls").db()?,
                fuel: r.try_get("fuel").db()?,
                host_time_us: r.try_get("host_time_us").db()?,
            })
        })
        .collect()
}

/// Aggregates one period's metric units: sums, or distinct keys.
pub(crate) async fn aggregate_metrics(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<Vec<MetricRow>> {
    let rows = sqlx::query(
        "SELECT tenant, plugin, metric, CASE WHEN unit_key = '' THEN 0 ELSE 1 END AS keyed, \
         COUNT(DISTINCT unit_key) AS keys, CAST(SUM(quantity) AS BIGINT) AS total \
         FROM usage_units WHERE period = $1 \
         GROUP BY tenant, plugin, metric, CASE WHEN unit_key = '' THEN 0 ELSE 1 END",
    )
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let unique = r.try_get::<i64, _>("keyed").db()? == 1;
            Ok(MetricRow {
                tenant: r.try_get("tenant").db()?,
                plugin: r.try_get("plugin").db()?,
                metric: r.try_get("metric").db()?,
                units: if unique {
                    r.try_get("keys").db()?
                } else {
                    r.try_get("total").db()?
                },
                unique,
            })
        })
        .collect()
}

impl Store {
    /// A period's usage, aggregated like the close aggregates it.
    pub async fn usage_report(&self, period: Period) -> Result<UsageReport> {
        let mut conn = self.pool().acquire().await.db()?;
        Ok(UsageReport {
            period: period.to_string(),
            calls: aggregate_calls(&mut conn, period).await?,
            metrics: aggregate_metrics(&mut conn, period).await?,
        })
    }

    /// An account's ledger balance (debits positive).
    pub async fn balance(&self, account: &LedgerAccount) -> Result<i64> {
        let (kind, id) = account.parts();
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM ledger_entries WHERE account_kind = $1 AND account_id = $2",
        )
        .bind(kind)
        .bind(id)
        .fetch_one(self.pool())
        .await.db()?;
        Ok(row.try_get("balance").db()?)
    }

    /// Every account's balance, over all periods or one.
    pub async fn balances(&self, period: Option<Period>) -> Result<Vec<Balance>> {
        let p = period.map(|p| p.to_string()).unwrap_or_default();
        let rows = sqlx::query(
            "SELECT e.account_kind, e.account_id, CAST(SUM(e.amount) AS BIGINT) AS balance \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn \
             WHERE $1 = '' OR t.period = $2 GROUP BY e.account_kind, e.account_id ORDER BY e.account_kind, e.account_id",
        )
        .bind(&p)
        .bind(&p)
        .fetch_all(self.pool())
        .await.db()?;
        rows.iter()
            .map(|row| {
                let cells = Cells::new(row, "ledger_entries", &["account_kind", "account_id"]);
                Ok(Balance {
                    account: account_from(&cells)?,
                    balance: cells.get("balance")?,
                })
            })
            .collect()
    }
}
