//! The billing part of the HTTP contract: request bodies, query parameters
//! and the answers that wrap domain types. The domain types themselves
//! (plans, agreements, invoices, statements, the usage report) derive their
//! schemas where they are defined; the operations' own inputs and results
//! (an agreement change, a new investment or campaign, a close, the ledger,
//! the investor's view) are the platform's and re-exported here.
//!
//! Periods travel as `YYYY-MM` text and are parsed by the handlers, so a
//! malformed one is a `bad-request` like any other malformed field.

use serde::{Deserialize, Serialize};
use spleis_billing::discounts::{Discount, Period};
pub use spleis_domain::billing::{CommitmentRecord, VoidRecord};
use utoipa::{IntoParams, ToSchema};

pub use spleis_domain::billing::{
    AgreementRecord, BillingSettings, CampaignRecord, InvestmentRecord, InvoiceDocument,
    PlanRecord, StatementDocument, UsageReport,
};

pub use spleis_platform::billing::{
    AgreementChange, Closed, InvestorView, Ledger, NewCampaign, NewInvestment, Periods,
};

/// `PUT /v1/billing/settings`: fields left out keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSettings {
    /// The billing currency, an ISO 4217 code; only before any plan or
    /// ledger entry exists.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// The platform fee for plugins without an agreement, basis points.
    pub platform_fee_bps: Option<u32>,
}

/// `POST /v1/billing/close`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The period, `YYYY-MM`.
    #[schema(example = "2026-11")]
    pub period: String,
    /// Close the month still under way (its later usage goes into the next).
    #[serde(default)]
    pub early: bool,
}

/// A plugin's price plans, each with the period it applies from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Plans {
    /// The plugin, `namespace/name`.
    pub package: String,
    /// Its plans, oldest first.
    pub plans: Vec<PlanRecord>,
}

/// The investor's view of investments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Investments {
    /// One per investment.
    pub investments: Vec<InvestorView>,
}

/// Co-funding campaigns with their pledges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Campaigns {
    /// Newest first.
    pub campaigns: Vec<CampaignRecord>,
}

/// `POST /v1/campaigns/{id}/pledges`: the tenant's pledge (replacing any
/// earlier one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    /// Minor units.
    pub amount_minor: i64,
}

/// `PUT /v1/tenants/{tenant}/minimum`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMinimum {
    /// The minimum monthly commitment, minor units (0 removes it).
    pub minimum_minor: i64,
}

/// A tenant's minimum monthly commitment, as set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MinimumSet {
    /// The tenant.
    pub tenant: String,
    /// Minor units.
    pub minimum_minor: i64,
}

/// The lines voided for a period, by tenant and plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Voids {
    /// Each with who voided it, when and why.
    pub voids: Vec<VoidRecord>,
}

/// A tenant's commitments, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Commitments {
    /// Each with its id.
    pub commitments: Vec<CommitmentRecord>,
}

/// `DELETE /v1/tenants/{tenant}/commitments/{id}`: what ending it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommitmentEnded {
    /// The commitment.
    pub id: String,
    /// Whether it was removed (it had not applied to a closed period).
    pub removed: bool,
    /// Otherwise its last period now, the last closed one.
    pub to: Option<Period>,
}

/// `POST /v1/tenants/{tenant}/discounts`: exactly one of `percent_bps` and
/// `fixed_minor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDiscount {
    /// Why, for the invoice.
    pub reason: String,
    /// A share of the subtotal, basis points (1000 = 10%).
    pub percent_bps: Option<u32>,
    /// A fixed amount, minor units.
    pub fixed_minor: Option<i64>,
    /// The first period it applies to, `YYYY-MM`.
    #[schema(example = "2026-11")]
    pub from: String,
    /// The last period it applies to, `YYYY-MM`.
    #[schema(example = "2026-12")]
    pub to: String,
}

/// A discount as granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiscountAdded {
    /// Its id.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The discount.
    pub discount: Discount,
}

/// `POST /v1/tenants/{tenant}/credit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredit {
    /// Prepaid credit to book, minor units.
    pub amount_minor: i64,
}

/// A tenant's prepaid credit after a booking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreditGranted {
    /// The tenant.
    pub tenant: String,
    /// Its credit balance, minor units.
    pub credit_minor: i64,
}

/// Invoices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Invoices {
    /// By period, then number.
    pub invoices: Vec<InvoiceDocument>,
}

/// Statements (credit notes) of authors and investors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Statements {
    /// By period, then number.
    pub statements: Vec<StatementDocument>,
}

/// `?from=` of a plan: the operator's correction from a period not closed
/// yet (how a close the plan cannot rate is resolved).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// `YYYY-MM` (operator only); default: the open period for a first
    /// plan, the next one for a change.
    pub from: Option<String>,
}

/// `?period=`: one period's transactions only.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `YYYY-MM`; default: all periods.
    pub period: Option<String>,
}

/// `?period=&tenant=` of the invoice list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoicesQuery {
    /// `YYYY-MM`; default: all periods.
    pub period: Option<String>,
    /// The operator: one tenant's (others see their own whatever they name).
    pub tenant: Option<String>,
}

/// `?period=&party=` of the statement list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// `YYYY-MM`; default: all periods.
    pub period: Option<String>,
    /// The operator: one party's (others see their own whatever they name).
    pub party: Option<String>,
}

/// `?period=&tenant=` of the usage report.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// `YYYY-MM`; default: the open period.
    pub period: Option<String>,
    /// The operator: one tenant's.
    pub tenant: Option<String>,
}

/// `?investor=` of the investor's view.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvestmentsQuery {
    /// The operator: one investor's (a tenant sees its own).
    pub investor: Option<String>,
}

/// A requested rendering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The stored document.
    #[default]
    Json,
    /// One row per line.
    Csv,
    /// A printable page.
    Html,
}

/// `?format=` of one invoice or statement.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default), `csv` or `html` (printable).
    #[param(inline)]
    pub format: Option<Format>,
}
