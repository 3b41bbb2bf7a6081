//! The ledger: balanced transactions of entries, each entry an account and
//! a signed amount (debits positive). Writing only; the balances are read
//! in [`super::reports`].

use super::{BillingError, Cells, Result};
use crate::Db;
use crate::Store;
use crate::accounts::new_id;
use spleis_billing::discounts::Period;
use spleis_billing::split::{LedgerAccount, Transaction};
use sqlx::AnyConnection;

/// The account a row's `account_kind` and `account_id` name.
pub(crate) fn account_from(cells: &Cells<'_>) -> Result<LedgerAccount> {
    let kind: String = cells.get("account_kind")?;
    let id: String = cells.get("account_id")?;
    LedgerAccount::from_parts(&kind, id).ok_or_else(|| {
        cells.corrupt(
            "account_kind",
            format!("`{kind}` is no ledger account kind"),
        )
    })
}

/// A fresh id for a transaction booked outside a close.
pub(crate) fn new_transaction_id() -> Result<String> {
    Ok(format!("tx-{}", new_id()?))
}

/// Writes `tx` under `id` in `period`.
pub(crate) async fn write_transaction(
    store: &Store,
    conn: &mut AnyConnection,
    id: &str,
    period: Period,
    tx: &Transaction,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_transactions (id, period, memo, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(period.to_string())
    .bind(&tx.memo)
    .bind(now)
    .execute(&mut *conn)
    .await
    .db()?;
    // A plugin's revenue transaction has an entry per paying tenant: many
    // rows a statement, one round trip each.
    const COLUMNS: usize = 5;
    const ROWS: usize = 200;
    for (chunk_no, chunk) in tx.entries.chunks(ROWS).enumerate() {
        let sql = format!(
            "INSERT INTO ledger_entries (txn, seq, account_kind, account_id, amount) VALUES {}",
            store.values_list(chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for (i, (account, amount)) in chunk.iter().enumerate() {
            let (kind, account_id) = account.parts();
            let seq = i64::try_from(chunk_no * ROWS + i)
                .map_err(|_| BillingError::Overflow("the entry number"))?;
            query = query
                .bind(id)
                .bind(seq)
                .bind(kind)
                .bind(account_id)
                .bind(*amount);
        }
        query.execute(&mut *conn).await.db()?;
    }
    Ok(())
}
