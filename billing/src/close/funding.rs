//! Requests' funding in a close: each funded pledge is a line of its
//! pledger's invoice whose money the ledger holds as the request's funding
//! (`funding-held`), and a delivered request's held funding is released to
//! its builder (`builder-payable`), on a builder's statement.

use super::{CloseError, FundingCharge, Line, Party, PeriodInput, Statement, StatementLine};
use crate::money::{Currency, Money, MoneyError};
use crate::period::Period;
use crate::rating::InvoiceLine;
use crate::split::{LedgerAccount, Transaction};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The funding lines of one tenant's invoice, with the transactions that
/// hold their money; answers the lines and their sum.
pub(super) fn charge(
    tenant: &str,
    period: Period,
    currency: Currency,
    charges: &[&FundingCharge],
    transactions: &mut Vec<Transaction>,
) -> Result<(Vec<Line>, Money), CloseError> {
    let mut lines = Vec::with_capacity(charges.len());
    let mut sum = Money::zero(currency);
    for charge in charges {
        let amount = Money::new(positive(charge.amount)?, currency);
        sum = sum.checked_add(amount)?;
        transactions.push(Transaction::new(
            format!("{tenant} {period}: {}", charge.description),
            vec![
                (
                    LedgerAccount::TenantReceivable(tenant.to_owned()),
                    amount.minor,
                ),
                (
                    LedgerAccount::FundingHeld(charge.request.clone()),
                    -amount.minor,
                ),
            ],
        )?);
        lines.push(Line {
            plugin: None,
            versions: Vec::new(),
            plan: None,
            line: InvoiceLine {
                description: charge.description.clone(),
                quantity: Decimal::ONE,
                unit_price: Some(amount.to_decimal()),
                amount,
            },
        });
    }
    Ok((lines, sum))
}

/// Releases every delivered request's held funding to its builder: one
/// transaction each, one statement per builder.
pub(super) fn release(
    input: &PeriodInput,
    transactions: &mut Vec<Transaction>,
) -> Result<Vec<Statement>, CloseError> {
    let mut by_builder: BTreeMap<&str, Vec<StatementLine>> = BTreeMap::new();
    for release in &input.releases {
        let amount = positive(release.amount)?;
        transactions.push(Transaction::new(
            format!("{}: {}", input.period, release.description),
            vec![
                (LedgerAccount::FundingHeld(release.request.clone()), amount),
                (
                    LedgerAccount::BuilderPayable(release.builder.clone()),
                    -amount,
                ),
            ],
        )?);
        by_builder
            .entry(&release.builder)
            .or_default()
            .push(StatementLine {
                plugin: release.plugin.clone(),
                investment: None,
                description: release.description.clone(),
                amount,
            });
    }
    by_builder
        .into_iter()
        .map(|(builder, lines)| {
            let total = lines
                .iter()
                .try_fold(0_i64, |sum, l| sum.checked_add(l.amount))
                .ok_or(MoneyError::Overflow)?;
            Ok(Statement {
                party: builder.to_owned(),
                kind: Party::Builder,
                lines,
                total,
            })
        })
        .collect()
}

/// An amount of funding: above zero (the store reads only such pledges).
fn positive(amount: i64) -> Result<i64, CloseError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(CloseError::Money(MoneyError::Overflow))
    }
}
