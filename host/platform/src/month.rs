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
    /// The same invoices as they would close at the month's end at the
    /// pace so far: usage projected by the days elapsed, fixed monthly
    /// amounts (monthly fees, minimums, fixed discounts, funded pledges)
    /// once. A minimum tops up the projected usage; it is never multiplied.
    pub projected_invoices: Vec<Invoice>,
    /// Draft statements: the party's own, or all for the operator.
    pub statements: Vec<Statement>,
    /// Plugins' settlements: an author's plugins' (without the investors'
    /// names), all for the operator, none for a tenant.
    pub settlements: Vec<Settlement>,
}

impl MonthSoFar {
    /// `tenant`'s invoice total so far and projected to the month's end
    /// (0 for a tenant with no invoice).
    pub fn invoice_totals(&self, tenant: &str) -> (i64, i64) {
        let total = |invoices: &[Invoice]| {
            invoices
                .iter()
                .find(|i| i.tenant == tenant)
                .map_or(0, |i| i.total)
        };
        (total(&self.invoices), total(&self.projected_invoices))
    }

    /// `so_far` projected to the month's end at the pace of the days
    /// elapsed (the same rule as the investor's projection). For usage
    /// alone: an invoice's projection is [`MonthSoFar::projected_invoices`],
    /// which counts fixed amounts once.
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
        self.month_so_far_at(actor, now_ms()).await
    }

    /// [`Platform::month_so_far`] on the platform's clock at `now` (unix
    /// ms), which picks the open period and the days elapsed.
    pub(crate) async fn month_so_far_at(
        &self,
        actor: &Actor,
        now: i64,
    ) -> Result<MonthSoFar, Error> {
        let settings = self.store.billing_settings().await?;
        let period = settings.open_period(now);
        self.usage.flush().await;
        let (draft, projected) = self.books().preview_with_projection(period, now).await?;
        let PeriodClose {
            invoices,
            statements,
            settlements,
            ..
        } = draft;
        let mut projected_invoices = projected.invoices;
        match actor.role() {
            Role::Operator => {}
            Role::Tenant => projected_invoices.retain(|i| i.tenant == actor.id()),
            Role::Author => projected_invoices.clear(),
        }
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
            projected_invoices,
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

    #[tokio::test]
    async fn on_day_one_a_five_euro_minimum_is_projected_as_five_euros() {
        // The report: on day 1, a tenant with a EUR 5.00 monthly minimum
        // saw "Projected EUR 155.00"; the minimum was multiplied by the
        // month's pace like usage.
        let (platform, _guard) = bare_platform().await;
        let (op, a) = operator_and_two_tenants(&platform).await;
        platform.set_minimum(&op, "a", 500).await.unwrap();
        let now = now_ms();
        let period = platform.open_period().await.unwrap();
        let day_one = period.start_ms() + 3_600_000;
        for at in [day_one, now] {
            let month = platform.month_so_far_at(&a, at).await.unwrap();
            assert_eq!(month.period, period);
            assert_eq!(month.invoice_totals("a"), (500, 500), "at {at}");
        }
        let month = platform.month_so_far_at(&a, day_one).await.unwrap();
        assert_eq!(month.days_elapsed, 1);
        // The pace rule on the invoice's total, which the overview used.
        assert_eq!(month.project(500), 500 * i64::from(month.days_in_period));
        // A tenant sees its own projection only; the operator every one.
        assert_eq!(month.projected_invoices.len(), 1);
        let all = platform.month_so_far_at(&op, day_one).await.unwrap();
        assert_eq!(all.invoice_totals("a"), (500, 500));
        assert_eq!(all.invoice_totals("b"), (0, 0));
    }

    #[test]
    fn the_month_so_far_projects_by_the_days_elapsed() {
        let month = MonthSoFar {
            period: "2026-11".parse().unwrap(),
            currency: Currency::new("EUR").unwrap(),
            days_elapsed: 10,
            days_in_period: 30,
            invoices: Vec::new(),
            projected_invoices: Vec::new(),
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
