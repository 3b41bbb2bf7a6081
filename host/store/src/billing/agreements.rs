//! Revenue agreements: who receives a plugin's author part, the platform's
//! fee, the investors' share, what happens after payback, and the payback
//! accrued so far. A plugin without one has the defaults.

use super::{BillingError, Cells, Result, account_with_role, package_exists};
use crate::Db;
use crate::Store;
use spleis_billing::bounds::bps;
use spleis_billing::split::AfterPayback;
use spleis_domain::accounts::Role;
use spleis_domain::billing::{AgreementRecord, BillingSettings};
use sqlx::{AnyConnection, Row};

/// The first publisher of `package`: its author by default.
async fn author_of(conn: &mut AnyConnection, package: &str) -> Result<String> {
    let row = sqlx::query(
        "SELECT published_by FROM versions WHERE package = $1 ORDER BY published_at, version LIMIT 1",
    )
    .bind(package)
    .fetch_optional(&mut *conn)
    .await.db()?
    .ok_or_else(|| BillingError::UnknownPackage(package.to_owned()))?;
    Ok(row.try_get("published_by").db()?)
}

/// `package`'s agreement, or the defaults under `settings`.
pub(crate) async fn agreement_in(
    conn: &mut AnyConnection,
    package: &str,
    settings: &BillingSettings,
) -> Result<AgreementRecord> {
    let row = sqlx::query(
        "SELECT package, author, platform_fee_bps, investor_share_bps, after_payback, accrued FROM agreements WHERE package = $1",
    )
    .bind(package)
    .fetch_optional(&mut *conn)
    .await.db()?;
    match row {
        Some(row) => {
            let cells = Cells::new(&row, "agreements", &["package"]);
            Ok(AgreementRecord {
                package: package.to_owned(),
                author: cells.get("author")?,
                platform_fee_bps: cells.int("platform_fee_bps")?,
                investor_share_bps: cells.int("investor_share_bps")?,
                after_payback: cells.parse("after_payback")?,
                accrued: cells.parse("accrued")?,
                explicit: true,
            })
        }
        None => Ok(AgreementRecord {
            package: package.to_owned(),
            author: author_of(conn, package).await?,
            platform_fee_bps: settings.platform_fee_bps,
            investor_share_bps: 0,
            after_payback: AfterPayback::AuthorKeeps,
            accrued: 0,
            explicit: false,
        }),
    }
}

impl Store {
    /// A package's agreement (the defaults when none was set).
    pub async fn agreement(&self, package: &str) -> Result<AgreementRecord> {
        let settings = self.billing_settings().await?;
        let mut conn = self.pool().acquire().await.db()?;
        package_exists(&mut conn, package).await?;
        agreement_in(&mut conn, package, &settings).await
    }

    /// Sets a package's agreement; fields left `None` keep their value.
    /// It applies from the next close.
    pub async fn set_agreement(
        &self,
        package: &str,
        author: Option<&str>,
        platform_fee_bps: Option<u32>,
        investor_share_bps: Option<u32>,
        after_payback: Option<AfterPayback>,
        now: i64,
    ) -> Result<AgreementRecord> {
        let fee = platform_fee_bps
            .map(|fee| bps("the platform fee", fee))
            .transpose()?;
        let share = investor_share_bps
            .map(|share| bps("the investor share", share))
            .transpose()?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        let current = agreement_in(&mut tx, package, &settings).await?;
        if let Some(author) = author {
            account_with_role(&mut tx, author, Role::Author).await?;
        }
        let next = AgreementRecord {
            author: author.map_or(current.author.clone(), str::to_owned),
            platform_fee_bps: fee.unwrap_or(current.platform_fee_bps),
            investor_share_bps: share.unwrap_or(current.investor_share_bps),
            after_payback: after_payback.unwrap_or(current.after_payback),
            explicit: true,
            ..current
        };
        sqlx::query(
            "INSERT INTO agreements (package, author, platform_fee_bps, investor_share_bps, after_payback, accrued, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (package) DO UPDATE SET author = excluded.author, \
             platform_fee_bps = excluded.platform_fee_bps, investor_share_bps = excluded.investor_share_bps, \
             after_payback = excluded.after_payback, updated_at = excluded.updated_at",
        )
        .bind(package)
        .bind(&next.author)
        .bind(i64::from(next.platform_fee_bps))
        .bind(i64::from(next.investor_share_bps))
        .bind(next.after_payback.as_str())
        .bind(next.accrued.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        Ok(next)
    }
}
