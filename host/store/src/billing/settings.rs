//! The platform's billing settings (currency, default fee, last closed
//! period) in the one `billing_state` row, and the lock on it that orders
//! usage writers and the close.

use super::{BillingError, Cells, Result};
use crate::{Backend, Store, StoreError};
use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::bounds::bps;
use spleis_billing::discounts::Period;
use spleis_billing::period::billing_period;
use sqlx::AnyConnection;

/// The platform's billing settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillingSettings {
    /// What every plan and invoice is in.
    pub currency: Currency,
    /// The platform fee for plugins without an agreement, basis points.
    pub platform_fee_bps: u32,
    /// The last closed period.
    pub last_closed: Option<Period>,
}

impl BillingSettings {
    /// The first period still open at `now_ms`: usage recorded now lands here.
    pub fn open_period(&self, now_ms: i64) -> Period {
        billing_period(now_ms, self.last_closed)
    }
}

/// Reads the settings row; `lock` is the row lock clause (or nothing).
pub(crate) async fn settings_in(conn: &mut AnyConnection, lock: &str) -> Result<BillingSettings> {
    let row = sqlx::query(&format!(
        "SELECT id, currency, platform_fee_bps, last_closed FROM billing_state WHERE id = 1{lock}"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let cells = Cells::new(&row, "billing_state", &["id"]);
    let currency: String = cells.get("currency")?;
    let last_closed: Option<String> = cells.get("last_closed")?;
    Ok(BillingSettings {
        currency: Currency::new(&currency).map_err(|e| cells.corrupt("currency", e))?,
        platform_fee_bps: cells.int("platform_fee_bps")?,
        last_closed: last_closed
            .map(|text| text.parse().map_err(|e| cells.corrupt("last_closed", e)))
            .transpose()?,
    })
}

impl Store {
    /// Takes the billing lock shared (usage writers) and returns the last
    /// closed period. On SQLite the transaction already is the one writer
    /// ([`Store::begin_write`]); PostgreSQL locks the row.
    pub(crate) async fn lock_periods_shared(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> std::result::Result<Option<Period>, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        };
        match settings_in(tx, lock).await {
            Ok(settings) => Ok(settings.last_closed),
            Err(BillingError::Store(e)) => Err(e),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        }
    }

    /// Takes the billing lock exclusively (the close, and every change that
    /// books money or must not race a close) and returns the settings.
    pub(crate) async fn lock_periods_exclusive(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<BillingSettings> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        settings_in(tx, lock).await
    }

    /// The billing settings.
    pub async fn billing_settings(&self) -> Result<BillingSettings> {
        let mut conn = self.pool().acquire().await?;
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
        let mut tx = self.begin_write().await?;
        let current = self.lock_periods_exclusive(&mut tx).await?;
        if let Some(currency) = currency
            && currency != current.currency
        {
            let used = sqlx::query(
                "SELECT 1 AS used FROM price_plans UNION ALL SELECT 1 AS used FROM ledger_entries LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            if used.is_some() {
                return Err(BillingError::CurrencyLocked {
                    currency: current.currency.to_string(),
                });
            }
            sqlx::query("UPDATE billing_state SET currency = $1 WHERE id = 1")
                .bind(currency.code())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(fee) = fee {
            sqlx::query("UPDATE billing_state SET platform_fee_bps = $1 WHERE id = 1")
                .bind(i64::from(fee))
                .execute(&mut *tx)
                .await?;
        }
        let settings = settings_in(&mut tx, "").await?;
        tx.commit().await?;
        Ok(settings)
    }
}
