//! Investments in plugins: recorded with the money they move (the
//! investor's receivable debited, the author's payable credited), read for
//! the investor and for the close's payback.

use super::agreements::agreement_in;
use super::ledger::{new_transaction_id, write_transaction};
use super::{BillingError, Cells, Result, account_with_role, package_exists};
use crate::Db;
use crate::Store;
use crate::accounts::new_id;
use spleis_billing::bounds::{bps, positive};
use spleis_billing::payback::{Investor, caps};
use spleis_billing::period::Period;
use spleis_billing::split::{LedgerAccount, Transaction};
use spleis_domain::accounts::Role;
use spleis_domain::billing::{AgreementRecord, BillingSettings, InvestmentRecord};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// The cap of `principal` at `return_bps` on its own, refused when it does
/// not fit. Among several investors of one plugin the pool's floor is
/// split by largest remainder, so the cap paid may be one unit above.
pub(crate) fn cap(principal: u64, return_bps: u32) -> Option<i64> {
    let investor = Investor {
        id: String::new(),
        principal,
        return_bps,
    };
    let caps = caps(std::slice::from_ref(&investor)).ok()?;
    i64::try_from(caps.first().copied()?).ok()
}

pub(crate) const COLUMNS: &str =
    "id, package, investor, principal, return_bps, paid, campaign, funded_at";

pub(crate) fn investment_from(row: &AnyRow) -> Result<InvestmentRecord> {
    let cells = Cells::new(row, "investments", &["id"]);
    // Read as unsigned first: a negative principal or payout is corrupt.
    let principal: u64 = cells.int("principal")?;
    let return_bps: u32 = cells.int("return_bps")?;
    let _: u64 = cells.int("paid")?;
    Ok(InvestmentRecord {
        id: cells.get("id")?,
        package: cells.get("package")?,
        investor: cells.get("investor")?,
        principal: cells.get("principal")?,
        return_bps,
        cap: cap(principal, return_bps)
            .ok_or_else(|| cells.corrupt("principal", "its cap does not fit"))?,
        paid: cells.get("paid")?,
        campaign: cells.get("campaign")?,
        funded_at: cells.get("funded_at")?,
    })
}

/// Every investment, by package, in funding order (the payback tie-break).
/// An investment paid back only from a later period (one born of a
/// request's funding, from the period after the delivery) is left out
/// before it.
pub(crate) async fn investments_by_package(
    conn: &mut AnyConnection,
    period: Period,
) -> Result<BTreeMap<String, Vec<InvestmentRecord>>> {
    let mut by_package: BTreeMap<String, Vec<InvestmentRecord>> = BTreeMap::new();
    for row in sqlx::query(&format!(
        "SELECT {COLUMNS} FROM investments WHERE pays_from IS NULL OR pays_from <= $1 \
         ORDER BY package, funded_at, id"
    ))
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await
    .db()?
    {
        let investment = investment_from(&row)?;
        by_package
            .entry(investment.package.clone())
            .or_default()
            .push(investment);
    }
    Ok(by_package)
}

/// An investment about to be recorded.
pub(crate) struct NewInvestment<'a> {
    /// The investing tenant.
    pub investor: &'a str,
    /// Minor units, above zero.
    pub principal: i64,
    /// The return, basis points.
    pub return_bps: u32,
    /// The campaign it comes from.
    pub campaign: Option<&'a str>,
    /// When it was funded (unix ms).
    pub at: i64,
}

/// Records an investment in the plugin of `agreement` and books its money
/// in the open period: the investor's receivable is debited, the author's
/// payable credited (the author builds with it).
pub(crate) async fn insert_investment(
    store: &Store,
    conn: &mut AnyConnection,
    settings: &BillingSettings,
    agreement: &AgreementRecord,
    new: NewInvestment<'_>,
    now: i64,
) -> Result<InvestmentRecord> {
    let package = agreement.package.as_str();
    let principal = positive("the principal", new.principal)?;
    let unsigned = u64::try_from(principal).map_err(|_| BillingError::Overflow("the principal"))?;
    cap(unsigned, new.return_bps).ok_or(BillingError::Overflow("the investment's cap"))?;
    let id = format!("inv-{}", &new_id()?[..12]);
    sqlx::query(&format!(
        "INSERT INTO investments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, 0, $6, $7)"
    ))
    .bind(&id)
    .bind(package)
    .bind(new.investor)
    .bind(principal)
    .bind(i64::from(new.return_bps))
    .bind(new.campaign)
    .bind(new.at)
    .execute(&mut *conn)
    .await
    .db()?;
    let tx = Transaction::new(
        format!("investment {id} by {} in {package}", new.investor),
        vec![
            (
                LedgerAccount::TenantReceivable(new.investor.to_owned()),
                principal,
            ),
            (
                LedgerAccount::AuthorPayable(agreement.author.clone()),
                -principal,
            ),
        ],
    )?;
    let period = settings.open_period(now);
    write_transaction(store, conn, &new_transaction_id()?, period, &tx, now).await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM investments WHERE id = $1"))
        .bind(&id)
        .fetch_one(&mut *conn)
        .await
        .db()?;
    investment_from(&row)
}

impl Store {
    /// Records a tenant's investment in a plugin whose agreement gives
    /// investors a share.
    pub async fn invest(
        &self,
        package: &str,
        investor: &str,
        principal: i64,
        return_bps: u32,
        now: i64,
    ) -> Result<InvestmentRecord> {
        positive("the principal", principal)?;
        bps("the return", return_bps)?;
        let mut tx = self.begin_write().await.db()?;
        let settings = self.lock_periods_exclusive(&mut tx).await?;
        package_exists(&mut tx, package).await?;
        account_with_role(&mut tx, investor, Role::Tenant).await?;
        let agreement = agreement_in(&mut tx, package, &settings).await?;
        if agreement.investor_share_bps == 0 {
            return Err(BillingError::NoInvestorShare {
                package: package.to_owned(),
                campaign: None,
            });
        }
        let new = NewInvestment {
            investor,
            principal,
            return_bps,
            campaign: None,
            at: now,
        };
        let record = insert_investment(self, &mut tx, &settings, &agreement, new, now).await?;
        tx.commit().await.db()?;
        Ok(record)
    }

    /// Investments, of one investor or in one package, or all.
    pub async fn investments(
        &self,
        investor: Option<&str>,
        package: Option<&str>,
    ) -> Result<Vec<InvestmentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM investments WHERE ($1 = '' OR investor = $2) AND ($3 = '' OR package = $4) \
             ORDER BY package, funded_at, id"
        ))
        .bind(investor.unwrap_or(""))
        .bind(investor.unwrap_or(""))
        .bind(package.unwrap_or(""))
        .bind(package.unwrap_or(""))
        .fetch_all(self.pool())
        .await.db()?;
        rows.iter().map(investment_from).collect()
    }
}
