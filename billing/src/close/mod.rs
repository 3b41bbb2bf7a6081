//! Closing a period, pure: every install's aggregated usage is rated into
//! its tenant's invoice; each plugin's charges are split between the
//! platform, its author and its investors; every movement becomes a balanced
//! ledger transaction. The host gathers the inputs from its database and
//! stores the result in one database transaction.
//!
//! Order of an invoice: usage lines (rounded once each; a shortfall against
//! a commitment in units is a usage line of its plugin) → subtotal → the
//! money-minimum top-up → discounts (borne by the platform) → total →
//! prepaid credit consumed → amount due.
//!
//! The steps live in their own modules: `invoices` (rating and each
//! tenant's invoice), `settlement` (each plugin's split and the statements),
//! [`summary`] (the totals a close reports) and [`numbering`] (document
//! numbers).

mod funding;
mod invoices;
pub mod numbering;
mod settlement;
pub mod summary;

use crate::commitments::Commitment;
use crate::discounts::Discount;
use crate::money::{Currency, MoneyError};
use crate::payback::PaybackState;
use crate::period::Period;
use crate::rating::{InvoiceLine, PeriodUsage, PricePlan, RatingError};
use crate::split::{Agreement, LedgerError, Transaction};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use numbering::{invoice_number, statement_number, transaction_id};
pub use summary::{Totals, totals};

/// One install's usage in the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallUsage {
    /// The tenant.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
    /// The plugin versions that served the calls, oldest first.
    pub versions: Vec<String>,
    /// What was used.
    pub usage: PeriodUsage,
}

/// A plan in force, with the name it is known by on invoices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInForce {
    /// E.g. `acme/energy-tariff plan 2`.
    pub id: String,
    /// The plan.
    pub plan: PricePlan,
}

/// What governs one plugin's money this period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginTerms {
    /// Its plan; without one the plugin is free.
    pub plan: Option<PlanInForce>,
    /// The author's account, who receives the author's part.
    pub author: String,
    /// The split. Investor ids are investment ids.
    pub agreement: Agreement,
    /// The account behind each investment, in the agreement's order.
    pub investor_accounts: Vec<String>,
    /// Payback so far, before this period.
    pub payback: PaybackState,
}

/// What governs one tenant's invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantTerms {
    /// Its minimum commitments, in money or units (only those covering
    /// the period apply).
    #[serde(default)]
    pub commitments: Vec<Commitment>,
    /// Its discounts (only those covering the period apply).
    pub discounts: Vec<Discount>,
    /// Prepaid credit available, minor units.
    pub credit: i64,
}

/// A tenant's use of a plugin that the operator voided for the period: it
/// is not rated (no usage line, no shortfall against a commitment), and the
/// close records why in the ledger. It resolves a close that one install's
/// charges would wedge, without changing the plan for every tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Void {
    /// The tenant.
    pub tenant: String,
    /// The plugin, `namespace/name`.
    pub plugin: String,
    /// Why, for the ledger.
    pub reason: String,
}

/// Checks a void where it enters: its names and its reason say something,
/// within bounds.
pub fn validate_void(void: &Void) -> Result<(), crate::bounds::InputError> {
    use crate::bounds::{MAX_TEXT_CHARS, not_empty, text};
    not_empty(
        "the tenant",
        &void.tenant,
        "name the tenant whose line is voided",
    )?;
    not_empty("the plugin", &void.plugin, "name it as namespace/name")?;
    not_empty("the reason", &void.reason, "say why the line is voided")?;
    text("the reason", &void.reason, MAX_TEXT_CHARS)?;
    Ok(())
}

/// A funded pledge toward a request, invoiced in the period its goal was
/// reached: its own line on the pledger's invoice, the money held in the
/// ledger as the request's funding until the request is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingCharge {
    /// The pledging tenant.
    pub tenant: String,
    /// The request's number, the key of its held funding.
    pub request: String,
    /// The line's words, naming the request.
    pub description: String,
    /// Minor units, above zero.
    pub amount: i64,
}

/// A delivered request's held funding, released to its builder in the
/// period of the delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingRelease {
    /// The request's number.
    pub request: String,
    /// The builder's account (the delivering plugin's author).
    pub builder: String,
    /// The delivering plugin, `namespace/name`.
    pub plugin: String,
    /// The statement line's words.
    pub description: String,
    /// Minor units, above zero: the funding invoiced.
    pub amount: i64,
}

/// Everything a close needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodInput {
    /// The period.
    pub period: Period,
    /// The platform's billing currency; every plan must be in it.
    pub currency: Currency,
    /// Every install active in the period, with its usage.
    pub installs: Vec<InstallUsage>,
    /// Terms per plugin; a plugin with usage must be here.
    pub plugins: BTreeMap<String, PluginTerms>,
    /// Terms per tenant; a tenant missing here has none.
    pub tenants: BTreeMap<String, TenantTerms>,
    /// Lines the operator voided for the period.
    #[serde(default)]
    pub voids: Vec<Void>,
    /// Funded pledges to invoice this period.
    #[serde(default)]
    pub fundings: Vec<FundingCharge>,
    /// Held funding to release to builders this period.
    #[serde(default)]
    pub releases: Vec<FundingRelease>,
}

impl PeriodInput {
    /// Whether the close would rate `tenant`'s use of `plugin` but for a
    /// void: an install, or a commitment in units of it in the period. A
    /// void of anything else voids nothing, and the ledger does not say it
    /// did.
    fn would_rate(&self, tenant: &str, plugin: &str) -> bool {
        self.installs
            .iter()
            .any(|i| i.tenant == tenant && i.plugin == plugin)
            || self.tenants.get(tenant).is_some_and(|terms| {
                crate::commitments::committed_plugins(&terms.commitments, self.period)
                    .contains(&plugin)
            })
    }

    /// Whether `tenant`'s use of `plugin` was voided for the period.
    fn voided(&self, tenant: &str, plugin: &str) -> bool {
        self.voids
            .iter()
            .any(|v| v.tenant == tenant && v.plugin == plugin)
    }
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Line {
    /// The plugin it is for; none for top-ups and discounts.
    pub plugin: Option<String>,
    /// The plugin versions that served the usage.
    #[serde(default)]
    pub versions: Vec<String>,
    /// The plan it came from.
    pub plan: Option<String>,
    /// What, how many, at what price, how much.
    #[serde(flatten)]
    pub line: InvoiceLine,
}

/// A tenant's invoice for the period. Amounts are minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invoice {
    /// The tenant.
    pub tenant: String,
    /// The lines: usage, then any top-up, then discounts.
    pub lines: Vec<Line>,
    /// Usage lines summed.
    pub subtotal: i64,
    /// Funding of requests on it (its own lines, after discounts: a
    /// discount or a minimum is about usage, not funding).
    #[serde(default)]
    pub funding: i64,
    /// After top-up and discounts: what the tenant is charged.
    pub total: i64,
    /// Prepaid credit consumed.
    pub credit_used: i64,
    /// What is left to pay.
    pub amount_due: i64,
}

/// Who a statement is for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// A plugin's author.
    Author,
    /// An investor (a tenant that funded a plugin).
    Investor,
    /// The builder of a delivered request, paid its funding.
    Builder,
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementLine {
    /// The plugin.
    pub plugin: String,
    /// The investment, for investors.
    pub investment: Option<String>,
    /// Words for people.
    pub description: String,
    /// Minor units credited.
    pub amount: i64,
}

/// A statement (credit note) of what a party receives for the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Statement {
    /// The account.
    pub party: String,
    /// In what role.
    pub kind: Party,
    /// Per plugin (and investment).
    pub lines: Vec<StatementLine>,
    /// The sum, as booked to the party's payable account.
    pub total: i64,
}

/// How one plugin's charges were split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The plugin.
    pub plugin: String,
    /// What tenants were charged for it (before discounts).
    pub charged: i64,
    /// The platform's part (fee, capped leftovers, post-payback revenue).
    pub platform: i64,
    /// The author's part.
    pub author: i64,
    /// (investment, account, payout) in the agreement's order.
    pub investors: Vec<(String, String, i64)>,
    /// Whether every investor is paid back after this period.
    pub paid_back: bool,
}

/// The result of a close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodClose {
    /// The period.
    pub period: Period,
    /// One per tenant with anything to invoice, by tenant.
    pub invoices: Vec<Invoice>,
    /// One per (party, role) receiving anything, by party.
    pub statements: Vec<Statement>,
    /// One per plugin with charges.
    pub settlements: Vec<Settlement>,
    /// Every movement, balanced.
    pub transactions: Vec<Transaction>,
    /// Each plugin's payback state after the period.
    pub payback: BTreeMap<String, PaybackState>,
}

/// Why a close failed; nothing is written.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    /// A plan is in another currency than the platform bills in.
    #[error("the plan `{plan}` is in {found}, but the platform bills in {expected}")]
    Currency {
        /// The plan.
        plan: String,
        /// Its currency.
        found: String,
        /// The platform's.
        expected: String,
    },
    /// An install uses a plugin the input has no terms for.
    #[error("no terms for the plugin `{0}`")]
    NoTerms(String),
    /// The agreement and its investor accounts disagree.
    #[error("the plugin `{0}` has {1} investments but {2} investor accounts")]
    Investors(String, usize, usize),
    /// Rating gave a line below zero (a plan the checks should have refused).
    #[error("rating `{plugin}` for `{tenant}` gave a negative line of {minor} minor units")]
    NegativeLine {
        /// The tenant.
        tenant: String,
        /// The plugin.
        plugin: String,
        /// The line's amount.
        minor: i64,
    },
    /// A tenant's amounts are out of range: its invoice cannot be made. The
    /// operator corrects the plans of the plugins named (for the period).
    #[error(
        "the invoice of `{tenant}` overflows ({what}); its lines are of {}: correct their plans for the period, or void the line",
        plugins.join(", ")
    )]
    InvoiceOverflow {
        /// The tenant.
        tenant: String,
        /// The plugins on its invoice.
        plugins: Vec<String>,
        /// What overflowed.
        what: &'static str,
    },
    /// Rating failed.
    #[error(
        "rating {charge} of `{plugin}` for `{tenant}`: {source}; correct the plan for the period, or void the line"
    )]
    Rating {
        /// The tenant.
        tenant: String,
        /// The plugin.
        plugin: String,
        /// Which charge of the plan (`charge 2`), or the commitment, in words.
        charge: String,
        /// Why.
        source: RatingError,
    },
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A transaction did not balance (a bug: never written).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The payback could not be computed.
    #[error(transparent)]
    Payback(#[from] crate::payback::PaybackError),
}

/// Closes `input.period`. Deterministic: the same input gives the same
/// result, so the host can recompute and compare. The steps: check the
/// terms, rate every install, invoice every tenant, settle every plugin.
pub fn close(input: &PeriodInput) -> Result<PeriodClose, CloseError> {
    check_terms(input)?;
    let rated = invoices::rate_installs(input)?;
    // A void moves no money; its transaction has no entries and keeps the
    // reason in the ledger.
    let mut transactions = input
        .voids
        .iter()
        .filter(|v| input.would_rate(&v.tenant, &v.plugin))
        .map(|v| {
            Transaction::new(
                format!(
                    "{} {}: {} voided by the operator: {}",
                    v.tenant, input.period, v.plugin, v.reason
                ),
                Vec::new(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let invoices = invoices::invoice_tenants(input, rated.lines, &mut transactions)?;
    let mut settled = settlement::settle_plugins(input, &rated.charges, &mut transactions)?;
    settled
        .statements
        .extend(funding::release(input, &mut transactions)?);
    settled
        .statements
        .sort_by(|a, b| (&a.party, a.kind).cmp(&(&b.party, b.kind)));
    let closed = PeriodClose {
        period: input.period,
        invoices,
        statements: settled.statements,
        settlements: settled.settlements,
        transactions,
        payback: settled.payback,
    };
    // Each invoice may fit while their sum does not (two tenants with huge
    // minimums): a close whose totals the host could not sum is refused
    // here, not left to overflow in the ledger's queries afterwards.
    totals(&closed)?;
    Ok(closed)
}

/// Every plan in the platform's currency; every investment with its account.
fn check_terms(input: &PeriodInput) -> Result<(), CloseError> {
    for (name, terms) in &input.plugins {
        if let Some(plan) = &terms.plan
            && plan.plan.currency != input.currency
        {
            return Err(CloseError::Currency {
                plan: plan.id.clone(),
                found: plan.plan.currency.to_string(),
                expected: input.currency.to_string(),
            });
        }
        if terms.agreement.investors.len() != terms.investor_accounts.len() {
            return Err(CloseError::Investors(
                name.clone(),
                terms.agreement.investors.len(),
                terms.investor_accounts.len(),
            ));
        }
    }
    Ok(())
}

/// The quantity of an invoice line as people read it: no trailing zeros.
pub fn quantity_text(quantity: Decimal) -> String {
    quantity.normalize().to_string()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
