//! The figures a close reports: what tenants were charged and where it
//! went, summed from the close's invoices and transactions, checked.

use super::PeriodClose;
use crate::money::MoneyError;
use crate::split::LedgerAccount;

/// A close's totals, minor units. Charged equals platform plus authors plus
/// investors plus funding invoiced, to the cent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// What tenants were charged (invoice totals).
    pub charged: i64,
    /// Net to the platform (fees, top-ups, capped payback, after discounts).
    pub platform: i64,
    /// To authors.
    pub authors: i64,
    /// To investors.
    pub investors: i64,
    /// Requests' funding invoiced (held until delivery).
    pub funding: i64,
    /// Held funding released to builders of delivered requests.
    pub builders: i64,
}

fn credit(sum: &mut i64, amount: i64) -> Result<(), MoneyError> {
    // Credits are negative entries: what an account received is minus them.
    *sum = sum.checked_sub(amount).ok_or(MoneyError::Overflow)?;
    Ok(())
}

/// Sums `closed` into its totals.
pub fn totals(closed: &PeriodClose) -> Result<Totals, MoneyError> {
    let mut totals = Totals::default();
    for invoice in &closed.invoices {
        totals.charged = totals
            .charged
            .checked_add(invoice.total)
            .ok_or(MoneyError::Overflow)?;
        totals.funding = totals
            .funding
            .checked_add(invoice.funding)
            .ok_or(MoneyError::Overflow)?;
    }
    for transaction in &closed.transactions {
        for (account, amount) in &transaction.entries {
            match account {
                LedgerAccount::PlatformRevenue => credit(&mut totals.platform, *amount)?,
                LedgerAccount::AuthorPayable(_) => credit(&mut totals.authors, *amount)?,
                LedgerAccount::InvestorPayable(_) => credit(&mut totals.investors, *amount)?,
                LedgerAccount::BuilderPayable(_) => credit(&mut totals.builders, *amount)?,
                LedgerAccount::TenantReceivable(_)
                | LedgerAccount::Credit(_)
                | LedgerAccount::FundingHeld(_) => {}
            }
        }
    }
    Ok(totals)
}
