//! Documents: invoices and statements (credit notes) as stored, and the
//! summary a close keeps with its period.

use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::close::{Invoice, Statement};

/// A stored invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceDocument {
    /// `INV-202611-0001`.
    pub number: String,
    /// The period.
    pub period: String,
    /// The currency.
    pub currency: Currency,
    /// When it was issued (unix ms).
    pub issued_at: i64,
    /// The invoice.
    #[serde(flatten)]
    pub invoice: Invoice,
}

/// A stored statement (credit note).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementDocument {
    /// `ST-202611-0001`.
    pub number: String,
    /// The period.
    pub period: String,
    /// The currency.
    pub currency: Currency,
    /// When it was issued (unix ms).
    pub issued_at: i64,
    /// The statement.
    #[serde(flatten)]
    pub statement: Statement,
}

/// What a close wrote, kept with the closed period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CloseSummary {
    /// The period.
    pub period: String,
    /// When it was closed (unix ms).
    pub closed_at: i64,
    /// By whom.
    pub closed_by: String,
    /// The currency.
    pub currency: String,
    /// Usage records billed.
    pub records: i64,
    /// Invoices written.
    pub invoices: usize,
    /// Statements written.
    pub statements: usize,
    /// Ledger transactions written.
    pub transactions: usize,
    /// What tenants were charged (invoice totals).
    pub charged: i64,
    /// Net to the platform (fees, top-ups, after discounts).
    pub platform: i64,
    /// To authors.
    pub authors: i64,
    /// To investors.
    pub investors: i64,
    /// Requests' funding invoiced (held until delivery).
    #[serde(default)]
    pub funding: i64,
    /// Held funding released to builders of delivered requests.
    #[serde(default)]
    pub builders: i64,
}
