//! The close's settlement step: each plugin's charges are split between the
//! platform, its author and its investors, booked as one transaction, and
//! written on the parties' statements.

use super::{CloseError, Party, PeriodInput, PluginTerms, Settlement, Statement, StatementLine};
use crate::money::{Currency, Money, MoneyError};
use crate::payback::{Investor, PaybackState, caps};
use crate::split::{Split, Transaction, book, split};
use std::collections::BTreeMap;

/// What settling every plugin gave.
pub(super) struct Settled {
    /// One per plugin with charges.
    pub settlements: Vec<Settlement>,
    /// One per (party, role), by party.
    pub statements: Vec<Statement>,
    /// Every plugin's payback state after the period.
    pub payback: BTreeMap<String, PaybackState>,
}

fn signed(amount: u64) -> Result<i64, MoneyError> {
    i64::try_from(amount).map_err(|_| MoneyError::Overflow)
}

/// Statement lines gathered per (party, role).
type Lines = BTreeMap<(String, Party), Vec<StatementLine>>;

/// Splits each plugin's `charges` (by tenant), books the split and writes
/// the statement lines; a plugin without charges keeps its payback state.
pub(super) fn settle_plugins(
    input: &PeriodInput,
    charges: &BTreeMap<&str, BTreeMap<String, u64>>,
    transactions: &mut Vec<Transaction>,
) -> Result<Settled, CloseError> {
    let mut settlements = Vec::new();
    let mut payback = BTreeMap::new();
    let mut lines = Lines::new();
    for (plugin, terms) in &input.plugins {
        let mut state = terms.payback.clone();
        let by_tenant: Vec<(String, u64)> = charges
            .get(plugin.as_str())
            .map(|c| c.iter().map(|(t, a)| (t.clone(), *a)).collect())
            .unwrap_or_default();
        let charged = by_tenant
            .iter()
            .try_fold(0_u64, |sum, (_, a)| sum.checked_add(*a))
            .ok_or(MoneyError::Overflow)?;
        if charged > 0 {
            let parts = split(charged, &terms.agreement, &mut state)?;
            transactions.push(book(
                &format!("{plugin} {}: revenue", input.period),
                &by_tenant,
                &terms.author,
                &payees(terms),
                &parts,
            )?);
            let plugin_books = PluginBooks {
                plugin,
                terms,
                currency: input.currency,
            };
            plugin_books.statement_lines(charged, &parts, &state, &mut lines)?;
            settlements.push(plugin_books.settlement(charged, &parts)?);
        }
        payback.insert(plugin.clone(), state);
    }
    Ok(Settled {
        settlements,
        statements: statements(lines)?,
        payback,
    })
}

/// The investors as the ledger pays them: by account, not by investment.
fn payees(terms: &PluginTerms) -> Vec<Investor> {
    terms
        .agreement
        .investors
        .iter()
        .zip(&terms.investor_accounts)
        .map(|(i, account)| Investor {
            id: account.clone(),
            ..i.clone()
        })
        .collect()
}

/// One plugin's books in one currency.
struct PluginBooks<'a> {
    plugin: &'a str,
    terms: &'a PluginTerms,
    currency: Currency,
}

impl PluginBooks<'_> {
    fn money(&self, minor: u64) -> Result<Money, MoneyError> {
        Ok(Money::new(signed(minor)?, self.currency))
    }

    /// The author's line, and one per investment paid this period.
    fn statement_lines(
        &self,
        charged: u64,
        parts: &Split,
        state: &PaybackState,
        lines: &mut Lines,
    ) -> Result<(), CloseError> {
        let plugin = self.plugin;
        if parts.author > 0 {
            lines
                .entry((self.terms.author.clone(), Party::Author))
                .or_default()
                .push(StatementLine {
                    plugin: plugin.to_owned(),
                    investment: None,
                    description: format!(
                        "author's share of {} charged for {plugin}",
                        self.money(charged)?
                    ),
                    amount: signed(parts.author)?,
                });
        }
        let caps = caps(&self.terms.agreement.investors)?;
        let investments = self.terms.agreement.investors.iter();
        for (i, (investment, account)) in investments.zip(&self.terms.investor_accounts).enumerate()
        {
            let payout = parts.investors.get(i).copied().unwrap_or(0);
            if payout == 0 {
                continue;
            }
            let paid = state.paid.get(i).copied().unwrap_or(0);
            lines
                .entry((account.clone(), Party::Investor))
                .or_default()
                .push(StatementLine {
                    plugin: plugin.to_owned(),
                    investment: Some(investment.id.clone()),
                    description: format!(
                        "payback of investment {} in {plugin}: {} of {} paid so far",
                        investment.id,
                        self.money(paid)?,
                        self.money(caps.get(i).copied().unwrap_or(0))?
                    ),
                    amount: signed(payout)?,
                });
        }
        Ok(())
    }

    /// The settlement: who received what of `charged`.
    fn settlement(&self, charged: u64, parts: &Split) -> Result<Settlement, CloseError> {
        let investors = self
            .terms
            .agreement
            .investors
            .iter()
            .zip(&self.terms.investor_accounts)
            .zip(&parts.investors)
            .map(|((investment, account), payout)| {
                Ok((investment.id.clone(), account.clone(), signed(*payout)?))
            })
            .collect::<Result<Vec<_>, MoneyError>>()?;
        Ok(Settlement {
            plugin: self.plugin.to_owned(),
            charged: signed(charged)?,
            platform: signed(parts.platform)?,
            author: signed(parts.author)?,
            investors,
            paid_back: parts.paid_back,
        })
    }
}

/// The statements, one per (party, role), each with its checked total.
fn statements(lines: Lines) -> Result<Vec<Statement>, CloseError> {
    lines
        .into_iter()
        .map(|((party, kind), lines)| {
            let total = lines
                .iter()
                .try_fold(0_i64, |sum, l| sum.checked_add(l.amount))
                .ok_or(MoneyError::Overflow)?;
            Ok(Statement {
                party,
                kind,
                lines,
                total,
            })
        })
        .collect()
}
