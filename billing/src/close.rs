//! Closing a period, pure: every install's aggregated usage is rated into
//! its tenant's invoice; each plugin's charges are split between the
//! platform, its author and its investors; every movement becomes a balanced
//! ledger transaction. The host gathers the inputs from its database and
//! stores the result in one database transaction.
//!
//! Order of an invoice: usage lines (rounded once each) → subtotal → the
//! minimum-commitment top-up → discounts (borne by the platform) → total →
//! prepaid credit consumed → amount due.

use crate::discounts::{Discount, Period, apply_credit, discount_lines};
use crate::money::{Currency, Money, MoneyError};
use crate::payback::{Investor, PaybackState};
use crate::rating::{InvoiceLine, PeriodUsage, PricePlan, RatingError, minimum_top_up, rate};
use crate::split::{Agreement, LedgerAccount, LedgerError, Transaction, book, split};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The minimum monthly commitment, minor units (0: none).
    pub minimum: i64,
    /// Its discounts (only those covering the period apply).
    pub discounts: Vec<Discount>,
    /// Prepaid credit available, minor units.
    pub credit: i64,
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
    /// Rating failed.
    #[error("rating `{plugin}` for `{tenant}`: {source}")]
    Rating {
        /// The tenant.
        tenant: String,
        /// The plugin.
        plugin: String,
        /// Why.
        source: RatingError,
    },
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A transaction did not balance (a bug: never written).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn unsigned(amount: i64) -> u64 {
    u64::try_from(amount).unwrap_or(0)
}

fn signed(amount: u64) -> Result<i64, MoneyError> {
    i64::try_from(amount).map_err(|_| MoneyError::Overflow)
}

fn entry(account: LedgerAccount, amount: i64) -> (LedgerAccount, i64) {
    (account, amount)
}

/// Closes `input.period`. Deterministic: the same input gives the same
/// result, so the host can recompute and compare.
pub fn close(input: &PeriodInput) -> Result<PeriodClose, CloseError> {
    let currency = input.currency;
    for (name, terms) in &input.plugins {
        if let Some(plan) = &terms.plan
            && plan.plan.currency != currency
        {
            return Err(CloseError::Currency {
                plan: plan.id.clone(),
                found: plan.plan.currency.to_string(),
                expected: currency.to_string(),
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

    // Rate every install: lines per tenant, charges per plugin per tenant.
    let mut lines: BTreeMap<&str, Vec<Line>> = BTreeMap::new();
    let mut charges: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for install in &input.installs {
        let terms = input
            .plugins
            .get(&install.plugin)
            .ok_or_else(|| CloseError::NoTerms(install.plugin.clone()))?;
        let tenant_lines = lines.entry(&install.tenant).or_default();
        let Some(plan) = &terms.plan else { continue };
        let rated = rate(&plan.plan, &install.usage).map_err(|source| CloseError::Rating {
            tenant: install.tenant.clone(),
            plugin: install.plugin.clone(),
            source,
        })?;
        for line in rated {
            *charges
                .entry(&install.plugin)
                .or_default()
                .entry(install.tenant.clone())
                .or_default() += unsigned(line.amount.minor);
            tenant_lines.push(Line {
                plugin: Some(install.plugin.clone()),
                versions: install.versions.clone(),
                plan: Some(plan.id.clone()),
                line,
            });
        }
    }
    for tenant in input.tenants.keys() {
        lines.entry(tenant).or_default();
    }

    let mut transactions = Vec::new();
    let mut invoices = Vec::new();
    let none = TenantTerms::default();
    for (tenant, mut tenant_lines) in lines {
        let terms = input.tenants.get(tenant).unwrap_or(&none);
        let subtotal = tenant_lines
            .iter()
            .try_fold(Money::zero(currency), |sum, l| {
                sum.checked_add(l.line.amount)
            })?;
        let mut total = subtotal;
        if let Some(top_up) = minimum_top_up(subtotal, Money::new(terms.minimum, currency))? {
            total = total.checked_add(top_up.amount)?;
            transactions.push(Transaction::new(
                format!("{tenant} {}: minimum commitment top-up", input.period),
                vec![
                    entry(
                        LedgerAccount::TenantReceivable(tenant.to_owned()),
                        top_up.amount.minor,
                    ),
                    entry(LedgerAccount::PlatformRevenue, -top_up.amount.minor),
                ],
            )?);
            tenant_lines.push(Line {
                plugin: None,
                versions: Vec::new(),
                plan: None,
                line: top_up,
            });
        }
        for discount in discount_lines(total, &terms.discounts, input.period)? {
            total = total.checked_add(discount.amount)?;
            transactions.push(Transaction::new(
                format!("{tenant} {}: {}", input.period, discount.description),
                vec![
                    entry(LedgerAccount::PlatformRevenue, -discount.amount.minor),
                    entry(
                        LedgerAccount::TenantReceivable(tenant.to_owned()),
                        discount.amount.minor,
                    ),
                ],
            )?);
            tenant_lines.push(Line {
                plugin: None,
                versions: Vec::new(),
                plan: None,
                line: discount,
            });
        }
        let (used, due) = apply_credit(total, Money::new(terms.credit, currency))?;
        if used.minor > 0 {
            transactions.push(Transaction::new(
                format!("{tenant} {}: prepaid credit applied", input.period),
                vec![
                    entry(LedgerAccount::Credit(tenant.to_owned()), used.minor),
                    entry(
                        LedgerAccount::TenantReceivable(tenant.to_owned()),
                        -used.minor,
                    ),
                ],
            )?);
        }
        if tenant_lines.is_empty() {
            continue;
        }
        invoices.push(Invoice {
            tenant: tenant.to_owned(),
            lines: tenant_lines,
            subtotal: subtotal.minor,
            total: total.minor,
            credit_used: used.minor,
            amount_due: due.minor,
        });
    }

    // Split each plugin's charges; statements per party.
    let mut settlements = Vec::new();
    let mut payback = BTreeMap::new();
    let mut statements: BTreeMap<(String, Party), Vec<StatementLine>> = BTreeMap::new();
    for (plugin, terms) in &input.plugins {
        let mut state = terms.payback.clone();
        let by_tenant = charges.get(plugin.as_str());
        let charged: u64 = by_tenant.map_or(0, |c| c.values().sum());
        if charged == 0 {
            payback.insert(plugin.clone(), state);
            continue;
        }
        let parts = split(charged, &terms.agreement, &mut state);
        let payees: Vec<Investor> = terms
            .agreement
            .investors
            .iter()
            .zip(&terms.investor_accounts)
            .map(|(i, account)| Investor {
                id: account.clone(),
                ..i.clone()
            })
            .collect();
        let tenant_charges: Vec<(String, u64)> = by_tenant
            .map(|c| c.iter().map(|(t, a)| (t.clone(), *a)).collect())
            .unwrap_or_default();
        transactions.push(book(
            &format!("{plugin} {}: revenue", input.period),
            &tenant_charges,
            &terms.author,
            &payees,
            &parts,
        )?);
        if parts.author > 0 {
            statements
                .entry((terms.author.clone(), Party::Author))
                .or_default()
                .push(StatementLine {
                    plugin: plugin.clone(),
                    investment: None,
                    description: format!(
                        "author's share of {} charged for {plugin}",
                        Money::new(signed(charged)?, currency)
                    ),
                    amount: signed(parts.author)?,
                });
        }
        let mut investors = Vec::new();
        for (i, payout) in parts.investors.iter().enumerate() {
            let investment = &terms.agreement.investors[i];
            let account = &terms.investor_accounts[i];
            investors.push((investment.id.clone(), account.clone(), signed(*payout)?));
            if *payout == 0 {
                continue;
            }
            let paid = state.paid.get(i).copied().unwrap_or(0);
            statements
                .entry((account.clone(), Party::Investor))
                .or_default()
                .push(StatementLine {
                    plugin: plugin.clone(),
                    investment: Some(investment.id.clone()),
                    description: format!(
                        "payback of investment {} in {plugin}: {} of {} paid so far",
                        investment.id,
                        Money::new(signed(paid)?, currency),
                        Money::new(signed(investment.cap())?, currency)
                    ),
                    amount: signed(*payout)?,
                });
        }
        settlements.push(Settlement {
            plugin: plugin.clone(),
            charged: signed(charged)?,
            platform: signed(parts.platform)?,
            author: signed(parts.author)?,
            investors,
            paid_back: parts.paid_back,
        });
        payback.insert(plugin.clone(), state);
    }
    let statements = statements
        .into_iter()
        .map(|((party, kind), lines)| {
            let total = lines.iter().map(|l| l.amount).sum();
            Statement {
                party,
                kind,
                lines,
                total,
            }
        })
        .collect();
    Ok(PeriodClose {
        period: input.period,
        invoices,
        statements,
        settlements,
        transactions,
        payback,
    })
}

/// The quantity of an invoice line as people read it: no trailing zeros.
pub fn quantity_text(quantity: Decimal) -> String {
    quantity.normalize().to_string()
}

#[cfg(test)]
mod tests;
