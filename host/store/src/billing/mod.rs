//! Billing in the database, one module per aggregate: [`settings`],
//! [`plans`], [`agreements`], [`investments`], [`campaigns`], [`terms`]
//! (minimum, discounts, credit), [`ledger`], [`close`] (the period close),
//! [`documents`] (invoices, statements) and [`reports`] (usage, balances).
//!
//! Every rule that decides a figure lives in [`spleis_billing`]; these
//! modules read rows, call it, and write rows. A stored value that does not
//! parse is a [`Corrupt`] error naming its table, row and column, never a
//! default.
//!
//! Periods close in order, each once: the close takes the `billing_state`
//! row exclusively, usage writers take it shared (on SQLite every writing
//! transaction is the one writer anyway), so a usage record is either in the
//! period being closed or lands in the next open one.

pub mod agreements;
pub mod campaigns;
pub mod close;
pub mod documents;
pub mod investments;
pub mod ledger;
pub mod plans;
pub mod reports;
pub mod settings;
pub mod terms;

pub use agreements::AgreementRecord;
pub use campaigns::{CampaignRecord, PledgeRecord};
pub use close::CloseSummary;
pub use documents::{InvoiceDocument, StatementDocument};
pub use investments::InvestmentRecord;
pub use plans::PlanRecord;
pub use reports::{Balance, CallsRow, MetricRow, UsageReport};
pub use settings::BillingSettings;
pub use spleis_billing::period::billing_period;
pub use terms::{CommitmentRecord, VoidRecord};

use super::StoreError;
use super::accounts::Role;
use spleis_billing::MoneyError;
use spleis_billing::bounds::InputError;
use spleis_billing::close::CloseError;
use spleis_billing::discounts::ParsePeriodError;
use spleis_billing::period::{CloseOrderError, Period};
use spleis_billing::rating::PlanError;
use spleis_billing::split::LedgerError;
use spleis_billing::usage::UsageOverflow;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::fmt::Display;
use std::str::FromStr;

/// Why a billing operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// No such package.
    #[error("no package `{0}`")]
    UnknownPackage(String),
    /// No such account, or not of the role needed.
    #[error("no {role} account `{id}`")]
    UnknownAccount {
        /// The id.
        id: String,
        /// The role it needs.
        role: &'static str,
    },
    /// No such campaign, invoice or statement.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A value outside its range, an empty name, a reversed range of
    /// periods: the message names the field and its range.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A price plan that cannot be set.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A period that is not `YYYY-MM` (for callers that parse one from a
    /// request).
    #[error(transparent)]
    InvalidPeriod(#[from] ParsePeriodError),
    /// An amount or a currency refused: an unknown currency, two currencies
    /// mixed, an overflow.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The platform's currency cannot change once plans or ledger entries
    /// exist.
    #[error(
        "the platform bills in {currency} and already has plans or ledger entries; its currency cannot change"
    )]
    CurrencyLocked {
        /// The platform's currency.
        currency: String,
    },
    /// The plugin's agreement gives investors no share, so it takes no
    /// investment.
    #[error("{}", no_share(.package, .campaign.as_deref()))]
    NoInvestorShare {
        /// The plugin.
        package: String,
        /// The campaign that met its goal, when the investment came from one.
        campaign: Option<String>,
    },
    /// A campaign that takes no more pledges.
    #[error(
        "the campaign {id} no longer takes pledges (it is {status}; its deadline was {deadline})"
    )]
    CampaignClosed {
        /// The campaign.
        id: String,
        /// Its status.
        status: String,
        /// Its deadline (unix ms).
        deadline: i64,
    },
    /// A campaign closed before its deadline.
    #[error("the campaign {id} runs until its deadline ({deadline}); close it after")]
    CampaignRunning {
        /// The campaign.
        id: String,
        /// Its deadline (unix ms).
        deadline: i64,
    },
    /// A commitment to the same thing (money, or one plugin's metric) as
    /// one already in force in some of its periods.
    #[error(
        "the tenant already has commitment {existing} to {what} from {from} to {to}; end it first (spleis billing commitment end) or choose periods outside it"
    )]
    CommitmentOverlap {
        /// The commitment in the way.
        existing: String,
        /// What both commit to, in words.
        what: String,
        /// Its first period.
        from: Period,
        /// Its last period, or `open` for none.
        to: String,
    },
    /// A commitment that ended before the period it would be ended from:
    /// nothing to end.
    #[error("the commitment {id} ended in {to}, before {from}; there is nothing left to end")]
    CommitmentEnded {
        /// The commitment.
        id: String,
        /// Its last period.
        to: Period,
        /// The first period it would no longer apply to.
        from: Period,
    },
    /// A commitment in units of a metric the plugin does not declare.
    #[error("{package} declares no metric `{metric}` (declared: {declared})")]
    UndeclaredMetric {
        /// The plugin.
        package: String,
        /// The metric named.
        metric: String,
        /// The metrics it declares, comma-separated.
        declared: String,
    },
    /// A period that may not close now: not started, under way, passed, or
    /// out of order.
    #[error(transparent)]
    CloseOrder(#[from] CloseOrderError),
    /// The close computation refused its input.
    #[error(transparent)]
    Close(#[from] CloseError),
    /// A period's usage does not fit its counters.
    #[error(transparent)]
    Usage(#[from] UsageOverflow),
    /// A sum of stored amounts does not fit.
    #[error("{0} overflows")]
    Overflow(&'static str),
    /// A ledger transaction did not balance (a bug: nothing is written).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A value could not be encoded for storage (a bug).
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was encoded.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A stored value does not parse.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn no_share(package: &str, campaign: Option<&str>) -> String {
    match campaign {
        None => format!(
            "the agreement of {package} gives investors no share; set one first (spleis billing agreement {package} --investor-share-bps N)"
        ),
        Some(_) => format!(
            "the campaign met its goal, but the agreement of {package} gives investors no share; set one, then close again"
        ),
    }
}

impl From<sqlx::Error> for BillingError {
    fn from(error: sqlx::Error) -> Self {
        BillingError::Store(StoreError::Database(error))
    }
}

/// A stored value that does not parse: where it sits and why. It means a
/// bug or tampering; the operation stops rather than read it as zero.
#[derive(Debug, thiserror::Error)]
#[error("corrupt data in the database: table `{table}`, row {key}, column `{column}`: {reason}")]
pub struct Corrupt {
    /// The table (or, for an aggregate, the table summed).
    pub table: &'static str,
    /// The row's key (or the aggregate's group), its parts joined by `/`.
    pub key: String,
    /// The column.
    pub column: &'static str,
    /// Why it does not parse.
    pub reason: String,
}

impl Corrupt {
    /// `column` of the row `key` of `table` does not parse, for `reason`.
    pub(crate) fn at(
        table: &'static str,
        key: impl Into<String>,
        column: &'static str,
        reason: impl Display,
    ) -> BillingError {
        BillingError::Corrupt(Corrupt {
            table,
            key: key.into(),
            column,
            reason: reason.to_string(),
        })
    }
}

pub(crate) type Result<T> = std::result::Result<T, BillingError>;

/// A row being read, with what names it in a [`Corrupt`] error: its table
/// and the columns of its key.
pub(crate) struct Cells<'r> {
    row: &'r AnyRow,
    table: &'static str,
    key: &'static [&'static str],
}

impl<'r> Cells<'r> {
    /// `row` of `table`, keyed by the columns `key`.
    pub(crate) fn new(row: &'r AnyRow, table: &'static str, key: &'static [&'static str]) -> Self {
        Self { row, table, key }
    }

    /// The row's key, read only when an error needs it.
    fn key(&self) -> String {
        self.key
            .iter()
            .map(|column| {
                self.row
                    .try_get::<String, _>(*column)
                    .or_else(|_| self.row.try_get::<i64, _>(*column).map(|n| n.to_string()))
                    .unwrap_or_else(|_| format!("<{column} unreadable>"))
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The error for `column` not parsing.
    pub(crate) fn corrupt(&self, column: &'static str, reason: impl Display) -> BillingError {
        Corrupt::at(self.table, self.key(), column, reason)
    }

    /// A column as the database types it.
    pub(crate) fn get<T>(&self, column: &'static str) -> Result<T>
    where
        T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        Ok(self.row.try_get(column)?)
    }

    /// A text column parsed (a period, a currency, a decimal, an enum).
    pub(crate) fn parse<T>(&self, column: &'static str) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        let text: String = self.get(column)?;
        text.parse().map_err(|e| self.corrupt(column, e))
    }

    /// A text column holding JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, column: &'static str) -> Result<T> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(column, e))
    }

    /// An integer column that must fit `T`: a count, an amount that cannot
    /// be negative, basis points.
    pub(crate) fn int<T>(&self, column: &'static str) -> Result<T>
    where
        T: TryFrom<i64>,
        T::Error: Display,
    {
        let value: i64 = self.get(column)?;
        T::try_from(value).map_err(|e| self.corrupt(column, format!("{value}: {e}")))
    }
}

/// A value encoded as JSON text for storage.
pub(crate) fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| BillingError::Encode { what, source })
}

/// Refuses unless `package` exists.
pub(crate) async fn package_exists(conn: &mut AnyConnection, package: &str) -> Result<()> {
    sqlx::query("SELECT name FROM packages WHERE name = $1")
        .bind(package)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| BillingError::UnknownPackage(package.to_owned()))?;
    Ok(())
}

/// Refuses unless `id` is an account of `role`.
pub(crate) async fn account_with_role(
    conn: &mut AnyConnection,
    id: &str,
    role: Role,
) -> Result<()> {
    let found: Option<String> = sqlx::query("SELECT role FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("role"))
        .transpose()?;
    match found {
        Some(r) if r == role.as_str() => Ok(()),
        _ => Err(BillingError::UnknownAccount {
            id: id.to_owned(),
            role: role.as_str(),
        }),
    }
}

#[cfg(test)]
mod tests;
