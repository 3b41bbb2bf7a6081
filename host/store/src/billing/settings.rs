//! The platform's billing settings (currency, default fee, last closed
//! period) in the one `billing_state` row, and the lock on it that orders
//! usage writers and the close.

use super::{BillingError, Cells, Result};
use crate::Db;
use crate::{Backend, Store, StoreError};
use spleis_billing::Currency;
use spleis_billing::bounds::bps;
use spleis_billing::discounts::Period;
use spleis_domain::billing::BillingSettings;
use sqlx::AnyConnection;

/// Reads the settings row; `lock` is the row lock clause (or nothing).
pub(crate) async fn settings_in(conn: &mut AnyConnection, lock: &str) -> Result<BillingSettings> {
    let row = sqlx::query(&format!(
        "SELECT id, currency, platform_fee_bps, last_closed, closing FROM billing_state WHERE id = 1{lock}"
    ))
    .fetch_one(&mut *conn)
    .await.db()?;
    let cells = Cells::new(&row, "billing_state", &["id"]);
    let currency: String = cells.get("currency")?;
    let last_closed: Option<String> = cells.get("last_closed")?;
    let closing: Option<String> = cells.get("closing")?;
    Ok(BillingSettings {
        currency: Currency::new(&currency).map_err(|e| cells.corrupt("currency", e))?,
        platform_fee_bps: cells.int("platform_fee_bps")?,
        last_closed: last_closed
            .map(|text| text.parse().map_err(|e| cells.corrupt("last_closed", e)))
            .transpose()?,
        closing: closing
            .map(|text| text.parse().map_err(|e| cells.corrupt("closing", e)))
            .transpose()?,
    })
}

/// The PostgreSQL advisory lock of money: held by a close while it
/// computes and by every change that books money.
pub(crate) const MONEY_LOCK: i64 = 0x5350_4c45_4953_0001;

impl Store {
    /// Takes the billing row shared (usage writers) and returns the last
    /// period no record may enter any more: the last closed one, or the one
    /// a close is under way for. On SQLite the transaction already is the
    /// one writer ([`Store::begin_write`]); PostgreSQL locks the row, which a
    /// close holds only to fix its boundary and to finish, never while it
    /// computes.
    pub(crate) async fn lock_periods_shared(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> std::result::Result<Option<Period>, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        };
        match settings_in(tx, lock).await {
            Ok(settings) => Ok(settings.last_closed.max(settings.closing)),
            Err(BillingError::Database(e)) => Err(e.into()),
            Err(e) => Err(StoreError::corrupt(e.to_string())),
        }
    }

    /// Takes the money lock: the close while it computes, and every change
    /// that books money or must not race a close. Usage writers never take
    /// it. (On SQLite the write transaction already is the one writer.)
    pub(crate) async fn lock_money(&self, conn: &mut AnyConnection) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MONEY_LOCK)
                .execute(&mut *conn)
                .await
                .db()?;
        }
        Ok(())
    }

    /// Takes the billing lock exclusively (the close, and every change that
    /// books money or must not race a close) and returns the settings.
    pub(crate) async fn lock_periods_exclusive(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<BillingSettings> {
        // The money lock first, then the row: the order the close takes
        // them in too, so the two never wait on each other in a circle.
        self.lock_money(tx).await?;
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        settings_in(tx, lock).await
    }

    /// The billing settings.
    pub async fn billing_settings(&self) -> Result<BillingSettings> {
        let mut conn = self.pool().acquire().await.db()?;
        settings_in(&mut conn, "").await
    }

    /// Changes the currency (only before any plan or ledger entry exists)
    /// or the default platform fee.
    pub async fn set_billing_settings(
        &self,
        currency: Option<Currency>,
        platform_fee_bps: Option<u32>,
    ) -> Result<BillingSettings> {
        let fee = platform_fee_bps
            .map(|fee| bps("the platform fee", fee))
            .transpose()?;
        let mut tx = self.begin_write().await.db()?;
        let current = self.lock_periods_exclusive(&mut tx).await?;
        if let Some(currency) = currency
            && currency != current.currency
        {
            let used = sqlx::query(
                "SELECT 1 AS used FROM price_plans UNION ALL SELECT 1 AS used FROM ledger_entries LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await.db()?;
            if used.is_some() {
                return Err(BillingError::CurrencyLocked {
                    currency: current.currency.to_string(),
                });
            }
            sqlx::query("UPDATE billing_state SET currency = $1 WHERE id = 1")
                .bind(currency.code())
                .execute(&mut *tx)
                .await
                .db()?;
        }
        if let Some(fee) = fee {
            sqlx::query("UPDATE billing_state SET platform_fee_bps = $1 WHERE id = 1")
                .bind(i64::from(fee))
                .execute(&mut *tx)
                .await
                .db()?;
        }
        let settings = settings_in(&mut tx, "").await?;
        tx.commit().await.db()?;
        Ok(settings)
    }
}
