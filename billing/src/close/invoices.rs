//! The close's first steps: rate every install (with any shortfall against
//! a commitment in units), then build each tenant's invoice (usage → money
//! top-up → discounts → credit) with the transactions that book the top-up,
//! the discounts and the credit used.

use super::{CloseError, FundingCharge, Invoice, Line, PeriodInput, TenantTerms, funding};
use crate::commitments::{Commitment, committed_plugins, money_minimum, unit_minimums};
use crate::discounts::{apply_credit, discount_lines};
use crate::money::{Currency, Money};
use crate::period::Period;
use crate::rating::{InvoiceLine, PeriodUsage, minimum_top_up, rate_charges, units_top_up};
use crate::split::{LedgerAccount, Transaction};
use std::collections::{BTreeMap, BTreeSet};

/// What rating gave: lines per tenant, and what each plugin charged each
/// tenant (minor units) for the split.
pub(super) struct Rated<'a> {
    /// Usage lines by tenant; every tenant with terms appears, if only
    /// with no lines (a minimum commitment still applies).
    pub lines: BTreeMap<&'a str, Vec<Line>>,
    /// Charges by plugin, then tenant.
    pub charges: BTreeMap<&'a str, BTreeMap<String, u64>>,
}

/// Rates every install under its plugin's plan, with the shortfall against
/// any commitment in units; a commitment to a plugin the tenant has no
/// install of in the period is rated on no usage.
pub(super) fn rate_installs(input: &PeriodInput) -> Result<Rated<'_>, CloseError> {
    let mut rated = Rated {
        lines: BTreeMap::new(),
        charges: BTreeMap::new(),
    };
    let none = TenantTerms::default();
    let mut installed: BTreeSet<(&str, &str)> = BTreeSet::new();
    for install in &input.installs {
        installed.insert((&install.tenant, &install.plugin));
        if input.voided(&install.tenant, &install.plugin) {
            continue;
        }
        let commitments = &input
            .tenants
            .get(&install.tenant)
            .unwrap_or(&none)
            .commitments;
        rated.install(
            input,
            &install.tenant,
            &install.plugin,
            &install.versions,
            &install.usage,
            commitments,
        )?;
    }
    // Usage of nothing: no calls, no days installed, the period's days.
    let idle = PeriodUsage {
        days_in_period: input.period.days(),
        ..PeriodUsage::default()
    };
    for charge in &input.fundings {
        rated.lines.entry(&charge.tenant).or_default();
    }
    for (tenant, terms) in &input.tenants {
        rated.lines.entry(tenant).or_default();
        for plugin in committed_plugins(&terms.commitments, input.period) {
            if !installed.contains(&(tenant.as_str(), plugin)) && !input.voided(tenant, plugin) {
                rated.install(input, tenant, plugin, &[], &idle, &terms.commitments)?;
            }
        }
    }
    Ok(rated)
}

impl<'a> Rated<'a> {
    /// Rates one tenant's use of one plugin: its usage lines, then its
    /// shortfall against each commitment in units of the plugin's metrics.
    fn install(
        &mut self,
        input: &'a PeriodInput,
        tenant: &'a str,
        plugin: &'a str,
        versions: &[String],
        usage: &PeriodUsage,
        commitments: &[Commitment],
    ) -> Result<(), CloseError> {
        let terms = input
            .plugins
            .get(plugin)
            .ok_or_else(|| CloseError::NoTerms(plugin.to_owned()))?;
        let tenant_lines = self.lines.entry(tenant).or_default();
        let Some(plan) = &terms.plan else {
            return Ok(());
        };
        let failed = |charge: String, source| CloseError::Rating {
            tenant: tenant.to_owned(),
            plugin: plugin.to_owned(),
            charge,
            source,
        };
        let mut rated = rate_charges(&plan.plan, usage)
            .map_err(|(charge, source)| failed(format!("charge {charge}"), source))?;
        for (metric, units) in unit_minimums(commitments, plugin, input.period) {
            let shortfall = units_top_up(&plan.plan, usage, metric, units).map_err(|source| {
                failed(
                    format!("the commitment to {units} units of `{metric}`"),
                    source,
                )
            })?;
            rated.extend(shortfall);
        }
        for line in rated {
            let amount =
                u64::try_from(line.amount.minor).map_err(|_| CloseError::NegativeLine {
                    tenant: tenant.to_owned(),
                    plugin: plugin.to_owned(),
                    minor: line.amount.minor,
                })?;
            let charged = self
                .charges
                .entry(plugin)
                .or_default()
                .entry(tenant.to_owned())
                .or_default();
            *charged = charged
                .checked_add(amount)
                .ok_or_else(|| CloseError::InvoiceOverflow {
                    tenant: tenant.to_owned(),
                    plugins: vec![plugin.to_owned()],
                    what: "the plugin's charges",
                })?;
            tenant_lines.push(Line {
                plugin: Some(plugin.to_owned()),
                versions: versions.to_vec(),
                plan: Some(plan.id.clone()),
                line,
            });
        }
        Ok(())
    }
}

/// Every tenant's invoice, by tenant; a tenant with no line at all gets none.
pub(super) fn invoice_tenants(
    input: &PeriodInput,
    lines: BTreeMap<&str, Vec<Line>>,
    transactions: &mut Vec<Transaction>,
) -> Result<Vec<Invoice>, CloseError> {
    let none = TenantTerms::default();
    let mut invoices = Vec::new();
    for (tenant, tenant_lines) in lines {
        let terms = input.tenants.get(tenant).unwrap_or(&none);
        let book = Books {
            tenant,
            period: input.period,
            currency: input.currency,
        };
        let fundings: Vec<&FundingCharge> = input
            .fundings
            .iter()
            .filter(|f| f.tenant == tenant)
            .collect();
        if let Some(invoice) = book.invoice(tenant_lines, terms, &fundings, transactions)? {
            invoices.push(invoice);
        }
    }
    Ok(invoices)
}

/// One tenant's invoice in one period, in one currency.
struct Books<'a> {
    tenant: &'a str,
    period: Period,
    currency: Currency,
}

impl Books<'_> {
    /// The tenant's invoice overflows: say whose, and of which plugins.
    fn overflow(&self, lines: &[Line], what: &'static str) -> CloseError {
        let mut plugins: Vec<String> = lines.iter().filter_map(|l| l.plugin.clone()).collect();
        plugins.sort();
        plugins.dedup();
        CloseError::InvoiceOverflow {
            tenant: self.tenant.to_owned(),
            plugins,
            what,
        }
    }

    /// Usage → subtotal → top-up → discounts → funding → total → credit →
    /// due.
    fn invoice(
        &self,
        mut lines: Vec<Line>,
        terms: &TenantTerms,
        fundings: &[&FundingCharge],
        transactions: &mut Vec<Transaction>,
    ) -> Result<Option<Invoice>, CloseError> {
        let subtotal = lines
            .iter()
            .try_fold(Money::zero(self.currency), |sum, l| {
                sum.checked_add(l.line.amount)
            })
            .map_err(|_| self.overflow(&lines, "the subtotal"))?;
        let mut total = subtotal;
        if let Some(top_up) = minimum_top_up(
            subtotal,
            Money::new(
                money_minimum(&terms.commitments, self.period),
                self.currency,
            ),
        )? {
            total = total.checked_add(top_up.amount)?;
            transactions.push(self.top_up(&top_up)?);
            lines.push(adjustment(top_up));
        }
        for discount in discount_lines(total, &terms.discounts, self.period)? {
            total = total.checked_add(discount.amount)?;
            transactions.push(self.discount(&discount)?);
            lines.push(adjustment(discount));
        }
        let (funding_lines, funding) = funding::charge(
            self.tenant,
            self.period,
            self.currency,
            fundings,
            transactions,
        )?;
        total = total
            .checked_add(funding)
            .map_err(|_| self.overflow(&lines, "the total with funding"))?;
        lines.extend(funding_lines);
        let (used, due) = apply_credit(total, Money::new(terms.credit, self.currency))?;
        if used.minor > 0 {
            transactions.push(self.credit(used)?);
        }
        if lines.is_empty() {
            return Ok(None);
        }
        Ok(Some(Invoice {
            tenant: self.tenant.to_owned(),
            lines,
            subtotal: subtotal.minor,
            funding: funding.minor,
            total: total.minor,
            credit_used: used.minor,
            amount_due: due.minor,
        }))
    }

    fn receivable(&self) -> LedgerAccount {
        LedgerAccount::TenantReceivable(self.tenant.to_owned())
    }

    /// The platform earns the top-up.
    fn top_up(&self, line: &InvoiceLine) -> Result<Transaction, CloseError> {
        Ok(Transaction::new(
            format!("{} {}: minimum commitment top-up", self.tenant, self.period),
            vec![
                (self.receivable(), line.amount.minor),
                (LedgerAccount::PlatformRevenue, -line.amount.minor),
            ],
        )?)
    }

    /// The platform bears a discount (its line is negative).
    fn discount(&self, line: &InvoiceLine) -> Result<Transaction, CloseError> {
        Ok(Transaction::new(
            format!("{} {}: {}", self.tenant, self.period, line.description),
            vec![
                (LedgerAccount::PlatformRevenue, -line.amount.minor),
                (self.receivable(), line.amount.minor),
            ],
        )?)
    }

    /// Prepaid credit pays part of the receivable.
    fn credit(&self, used: Money) -> Result<Transaction, CloseError> {
        Ok(Transaction::new(
            format!("{} {}: prepaid credit applied", self.tenant, self.period),
            vec![
                (LedgerAccount::Credit(self.tenant.to_owned()), used.minor),
                (self.receivable(), -used.minor),
            ],
        )?)
    }
}

/// A line that belongs to no plugin: a top-up or a discount.
fn adjustment(line: InvoiceLine) -> Line {
    Line {
        plugin: None,
        versions: Vec::new(),
        plan: None,
        line,
    }
}
