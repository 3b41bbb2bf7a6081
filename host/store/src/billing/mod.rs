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
pub mod funding;
pub mod investments;
pub mod ledger;
pub mod plans;
pub mod reports;
pub mod settings;
pub mod terms;
pub mod tx;

pub use tx::BillingTx;

use super::Db;
use spleis_domain::accounts::Role;
pub(crate) use spleis_domain::billing::{BillingError, Corrupt};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::fmt::Display;
use std::str::FromStr;

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
        Ok(self.row.try_get(column).db()?)
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
        .await
        .db()?
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
        .await
        .db()?
        .map(|r| r.try_get("role"))
        .transpose()
        .db()?;
    match found {
        Some(r) if r == role.as_str() => Ok(()),
        _ => Err(BillingError::UnknownAccount {
            id: id.to_owned(),
            role: role.as_str(),
        }),
    }
}
