//! The open month before it closes, written nowhere: the month so far as
//! the close would rate it now (draft invoices, statements and
//! settlements, scoped to the actor) and its projection to the month's
//! end, a close's totals previewed, each tenant's terms in force, and a
//! plan rated on a sample month.

use crate::{AccessError, Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::close::{Invoice, PeriodClose, Settlement, Statement, TenantTerms, totals};
use spleis_billing::commitments::money_minimum;
use spleis_billing::discounts::Period;
use spleis_billing::projection::{days_elapsed, extrapolate};
use spleis_billing::rating::{InvoiceLine, PeriodUsage, PricePlan, rate, validate_plan};
use spleis_domain::accounts::{Account, Role};
use spleis_store::now_ms;

/// The open month as the close would see it now, scoped to the actor:
/// draft invoices and statements, and the plugins' settlements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSoFar {
    /// The open period.
    pub period: Period,
    /// The platform currency.
    pub currency: Currency,
    /// Days of the period elapsed, counting today.
    pub days_elapsed: u32,
    /// Days in the period.
    pub days_in_period: u32,
    /// Draft invoices: the tenant's own, or all for the operator.
    pub invoices: Vec<Invoice>,
    /// Draft statements: the party's own, or all for the operator.
    pub statements: Vec<Statement>,
    /// Plugins' settlements: an author's plugins' (without the investors'
    /// names), all for the operator, none for a tenant.
    pub settlements: Vec<Settlement>,
}

impl MonthSoFar {
    /// `so_far` projected to the month's end at the pace of the days
    /// elapsed (the same rule as the investor's projection).
    pub fn project(&self, so_far: i64) -> i64 {
        let Ok(so_far_u) = u64::try_from(so_far) else {
            return so_far;
        };
        // A month's charges that cannot be projected are shown as they are.
        let now = self.period.start_ms()
            + i64::from(self.days_elapsed.saturating_sub(1)) * spleis_billing::period::DAY_MS;
        extrapolate(so_far_u, self.period, now)
            .ok()
            .and_then(|p| i64::try_from(p).ok())
            .unwrap_or(so_far)
    }
}

/// What closing a period now would produce, written nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosePreview {
    /// The period.
    pub period: Period,
    /// The platform currency.
    pub currency: Currency,
    /// What tenants would be charged.
    pub charged: i64,
    /// Net to the platform.
    pub platform: i64,
    /// To authors.
    pub authors: i64,
    /// To investors.
    pub investors: i64,
    /// Invoices it would write.
    pub invoices: usize,
    /// Statements it would write.
    pub statements: usize,
}

/// A tenant and its terms (commitments, discounts, prepaid credit) as they
/// stand for the open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantWithTerms {
    /// The account.
    pub account: Account,
    /// Its terms; the defaults (none) when it has none.
    pub terms: TenantTerms,
    /// The open period, which the terms are read for.
    pub period: Period,
}

impl TenantWithTerms {
    /// The money minimum in force in the open period, minor units.
    pub fn minimum(&self) -> i64 {
        money_minimum(&self.terms.commitments, self.period)
    }
}

impl Platform {
    /// The open period.
    pub(crate) async fn open_period(&self) -> Result<Period, Error> {
        Ok(self.store.billing_settings().await?.open_period(now_ms()))
    }

    /// The open month so far, as the close would rate it now (usage
    /// flushed first), scoped to the actor.
    pub async fn month_so_far(&self, actor: &Actor) -> Result<MonthSoFar, Error> {
        let settings = self.store.billing_settings().await?;
        let now = now_ms();
        let period = settings.open_period(now);
        self.usage.flush().await;
        let draft = self.books().preview_period(period).await?;
        let PeriodClose {
            invoices,
            statements,
            settlements,
            ..
        } = draft;
        let (invoices, statements, settlements) = match actor.role() {
            Role::Operator => (invoices, statements, settlements),
            Role::Tenant => (
                invoices
                    .into_iter()
                    .filter(|i| i.tenant == actor.id())
                    .collect(),
                statements
                    .into_iter()
                    .filter(|s| s.party == actor.id())
                    .collect(),
                Vec::new(),
            ),
            Role::Author => {
                let owned = self
                    .namespaces_owned(actor, settlements.iter().map(|s| s.plugin.as_str()))
                    .await?;
                let settlements = settlements
                    .into_iter()
                    .filter(|s| {
                        owned
                            .get(spleis_domain::registry::namespace_of(&s.plugin))
                            .copied()
                            .unwrap_or(false)
                    })
                    .map(|mut s| {
                        // The author reads its agreement, not who invested.
                        s.investors.clear();
                        s
                    })
                    .collect();
                (
                    Vec::new(),
                    statements
                        .into_iter()
                        .filter(|s| s.party == actor.id())
                        .collect(),
                    settlements,
                )
            }
        };
        Ok(MonthSoFar {
            period,
            currency: settings.currency,
            days_elapsed: days_elapsed(period, now),
            days_in_period: period.days(),
            invoices,
            statements,
            settlements,
        })
    }

    /// Operator: what closing `period` now would produce (its totals),
    /// written nowhere. A closed period is refused: its figures are final.
    pub async fn close_preview(
        &self,
        actor: &Actor,
        period: Period,
    ) -> Result<ClosePreview, Error> {
        actor.require(&[Role::Operator])?;
        let settings = self.store.billing_settings().await?;
        if settings.last_closed.is_some_and(|last| period <= last) {
            return Err(Error::Invalid(format!(
                "{period} is closed; its figures are final"
            )));
        }
        self.usage.flush().await;
        let draft = self.books().preview_period(period).await?;
        let sums =
            totals(&draft).map_err(|e| Error::Invalid(format!("the preview of {period}: {e}")))?;
        Ok(ClosePreview {
            period,
            currency: settings.currency,
            charged: sums.charged,
            platform: sums.platform,
            authors: sums.authors,
            investors: sums.investors,
            invoices: draft.invoices.len(),
            statements: draft.statements.len(),
        })
    }

    /// Tenants with their terms: the operator sees every tenant, a tenant
    /// its own; authors have none.
    pub async fn tenant_terms(&self, actor: &Actor) -> Result<Vec<TenantWithTerms>, Error> {
        let tenants = match actor.role() {
            Role::Operator => self.store.accounts(Some(Role::Tenant)).await?,
            Role::Tenant => vec![actor.account().clone()],
            Role::Author => {
                return Err(AccessError::Forbidden(
                    "terms are seen by their tenants and the operator".into(),
                )
                .into());
            }
        };
        let period = self.open_period().await?;
        let input = self.store.period_input(period).await?;
        Ok(tenants
            .into_iter()
            .map(|account| TenantWithTerms {
                terms: input.tenants.get(&account.id).cloned().unwrap_or_default(),
                account,
                period,
            })
            .collect())
    }

    /// What `plan` would charge for `usage`: any account may ask (a tenant
    /// weighing a plugin, an author trying a plan before setting it). The
    /// plan is validated as setting it would.
    pub fn price_example(
        &self,
        _actor: &Actor,
        plan: &PricePlan,
        usage: &PeriodUsage,
    ) -> Result<Vec<InvoiceLine>, Error> {
        validate_plan(plan).map_err(|e| Error::Invalid(e.to_string()))?;
        rate(plan, usage).map_err(|e| Error::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{bare_platform, operator_and_two_tenants};

    #[tokio::test]
    async fn a_tenant_reads_its_own_terms() {
        let (platform, _guard) = bare_platform().await;
        let (op, a) = operator_and_two_tenants(&platform).await;
        let terms = platform.tenant_terms(&a).await.unwrap();
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].account.id, "a");
        // The operator sees every tenant's.
        assert_eq!(platform.tenant_terms(&op).await.unwrap().len(), 2);
    }

    #[test]
    fn the_month_so_far_projects_by_the_days_elapsed() {
        let month = MonthSoFar {
            period: "2026-11".parse().unwrap(),
            currency: Currency::new("EUR").unwrap(),
            days_elapsed: 10,
            days_in_period: 30,
            invoices: Vec::new(),
            statements: Vec::new(),
            settlements: Vec::new(),
        };
        assert_eq!(month.project(100), 300);
        assert_eq!(month.project(0), 0);
        let last_day = MonthSoFar {
            days_elapsed: 30,
            ..month
        };
        assert_eq!(last_day.project(457), 457);
    }
}
