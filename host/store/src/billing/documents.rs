//! Invoices and statements (credit notes): written by the close, numbered
//! by [`spleis_billing::close::numbering`], read back whole as JSON.

use super::{BillingError, Cells, Result, to_json};
use crate::Db;
use crate::Store;
use spleis_billing::Currency;
use spleis_billing::close::{Party, PeriodClose, invoice_number, statement_number};
use spleis_billing::discounts::Period;
use spleis_domain::billing::{InvoiceDocument, StatementDocument};
use sqlx::AnyConnection;

/// Writes a close's invoices, numbered in order.
pub(crate) async fn write_invoices(
    conn: &mut AnyConnection,
    closed: &PeriodClose,
    currency: Currency,
    now: i64,
) -> Result<()> {
    let period = closed.period;
    for (n, invoice) in closed.invoices.iter().enumerate() {
        let doc = InvoiceDocument {
            number: invoice_number(period, n + 1),
            period: period.to_string(),
            currency,
            issued_at: now,
            invoice: invoice.clone(),
        };
        sqlx::query(
            "INSERT INTO invoices (number, period, tenant, currency, total, amount_due, document, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&doc.number)
        .bind(&doc.period)
        .bind(&invoice.tenant)
        .bind(currency.code())
        .bind(invoice.total)
        .bind(invoice.amount_due)
        .bind(to_json("an invoice", &doc)?)
        .bind(now)
        .execute(&mut *conn)
        .await.db()?;
    }
    Ok(())
}

/// Writes a close's statements, numbered in order.
pub(crate) async fn write_statements(
    conn: &mut AnyConnection,
    closed: &PeriodClose,
    currency: Currency,
    now: i64,
) -> Result<()> {
    let period = closed.period;
    for (n, statement) in closed.statements.iter().enumerate() {
        let doc = StatementDocument {
            number: statement_number(period, n + 1),
            period: period.to_string(),
            currency,
            issued_at: now,
            statement: statement.clone(),
        };
        let kind = match statement.kind {
            Party::Author => "author",
            Party::Investor => "investor",
            Party::Builder => "builder",
        };
        sqlx::query(
            "INSERT INTO statements (number, period, party, kind, currency, total, document, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&doc.number)
        .bind(&doc.period)
        .bind(&statement.party)
        .bind(kind)
        .bind(currency.code())
        .bind(statement.total)
        .bind(to_json("a statement", &doc)?)
        .bind(now)
        .execute(&mut *conn)
        .await.db()?;
    }
    Ok(())
}

/// The documents of `table` (`invoices` or `statements`), of one owner
/// and/or period, newest period first.
async fn documents<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: &'static str,
    owner_column: &str,
    owner: Option<&str>,
    period: Option<Period>,
) -> Result<Vec<T>> {
    let owner = owner.unwrap_or("");
    let period = period.map(|p| p.to_string()).unwrap_or_default();
    let rows = sqlx::query(&format!(
        "SELECT number, document FROM {table} WHERE ($1 = '' OR {owner_column} = $2) AND ($3 = '' OR period = $4) ORDER BY period DESC, number"
    ))
    .bind(owner)
    .bind(owner)
    .bind(&period)
    .bind(&period)
    .fetch_all(store.pool())
    .await.db()?;
    rows.iter()
        .map(|row| Cells::new(row, table, &["number"]).json("document"))
        .collect()
}

/// One document of `table` by its number.
async fn document<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: &'static str,
    what: &'static str,
    number: &str,
) -> Result<T> {
    let row = sqlx::query(&format!(
        "SELECT number, document FROM {table} WHERE number = $1"
    ))
    .bind(number)
    .fetch_optional(store.pool())
    .await
    .db()?
    .ok_or_else(|| BillingError::NotFound {
        what,
        id: number.to_owned(),
    })?;
    Cells::new(&row, table, &["number"]).json("document")
}

impl Store {
    /// Invoices, of one tenant and/or period.
    pub async fn invoices(
        &self,
        tenant: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<InvoiceDocument>> {
        documents(self, "invoices", "tenant", tenant, period).await
    }

    /// One invoice.
    pub async fn invoice(&self, number: &str) -> Result<InvoiceDocument> {
        document(self, "invoices", "invoice", number).await
    }

    /// Statements, of one party and/or period.
    pub async fn statements(
        &self,
        party: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<StatementDocument>> {
        documents(self, "statements", "party", party, period).await
    }

    /// One statement.
    pub async fn statement(&self, number: &str) -> Result<StatementDocument> {
        document(self, "statements", "statement", number).await
    }
}
