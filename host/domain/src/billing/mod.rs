//! Billing's records, documents and refusals: what the store keeps of
//! money and what an operation on it may answer. Every rule that decides a
//! figure is [`spleis_billing`]'s; every sequence is the platform's.

pub mod documents;
pub mod funding;
pub mod reports;
pub mod terms;

pub use documents::{CloseSummary, InvoiceDocument, StatementDocument};
pub use funding::{CampaignRecord, InvestmentRecord, PledgeRecord};
pub use reports::{Balance, CallsRow, DayCalls, MetricRow, UsageReport};
pub use terms::{AgreementRecord, BillingSettings, CommitmentRecord, PlanRecord, VoidRecord};

use crate::DatabaseError;
use spleis_billing::MoneyError;
use spleis_billing::bounds::InputError;
use spleis_billing::close::CloseError;
use spleis_billing::discounts::ParsePeriodError;
use spleis_billing::period::{CloseOrderError, Period};
use spleis_billing::rating::PlanError;
use spleis_billing::split::LedgerError;
use spleis_billing::usage::UsageOverflow;
use std::fmt::Display;

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
    Close(Box<CloseError>),
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
    Database(#[from] DatabaseError),
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

// A close's refusal is large (it names tenants, plugins and charges);
// boxed, every `Result` of billing stays small.
impl From<CloseError> for BillingError {
    fn from(error: CloseError) -> Self {
        BillingError::Close(Box::new(error))
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
    pub fn at(
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
