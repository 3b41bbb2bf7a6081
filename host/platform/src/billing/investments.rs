//! Investments in plugins: recording one, and the investor's view of what
//! it was paid and what this month is on course to pay.

use crate::{AccessError, Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::close::close;
use spleis_billing::projection::{Projection, project};
use spleis_domain::accounts::Role;
use spleis_domain::billing::{BillingError, InvestmentRecord};
use spleis_store::Store;
use spleis_store::now_ms;

/// A tenant's investment in a plugin, as the operator records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvestment {
    /// The plugin, `namespace/name`.
    pub package: String,
    /// The investing tenant.
    pub investor: String,
    /// What it invested, minor units.
    pub principal_minor: i64,
    /// The return on top, basis points (1000 = 10%).
    #[serde(default)]
    pub return_bps: u32,
}

/// One investment as its investor sees it. Amounts are minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvestorView {
    /// The investment.
    #[serde(flatten)]
    pub investment: InvestmentRecord,
    /// The platform currency.
    pub currency: String,
    /// What remains until payback: cap − paid.
    pub remaining: i64,
    /// The open period.
    pub period: String,
    /// What tenants were charged for the plugin so far this period.
    pub charged_so_far: i64,
    /// The plugin's revenue so far this period (after the platform fee).
    pub revenue_so_far: i64,
    /// The period's revenue projected from the days elapsed.
    pub projected_revenue: i64,
    /// What this investment would be paid at the close, on the projection.
    pub projected_payout: i64,
}

impl Platform {
    /// Operator: records a tenant's investment in a plugin.
    pub async fn invest(
        &self,
        actor: &Actor,
        investment: &NewInvestment,
    ) -> Result<InvestmentRecord, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self
            .store
            .invest(
                &investment.package,
                &investment.investor,
                investment.principal_minor,
                investment.return_bps,
                now_ms(),
            )
            .await?)
    }

    /// The investor's view of investments, with the open period so far: a
    /// tenant sees its own (whatever it names), the operator those of
    /// `investor` or all; authors see none.
    pub async fn investments(
        &self,
        actor: &Actor,
        investor: Option<&str>,
    ) -> Result<Vec<InvestorView>, Error> {
        let investor = match actor.role() {
            Role::Tenant => Some(actor.id()),
            Role::Operator => investor,
            Role::Author => {
                return Err(AccessError::Forbidden(
                    "investments are seen by their investors and the operator".into(),
                )
                .into());
            }
        };
        // The month so far includes the calls still queued.
        self.usage.flush().await;
        Ok(investor_view(&self.store, investor, now_ms()).await?)
    }
}

fn minor(value: u64) -> Result<i64, BillingError> {
    i64::try_from(value).map_err(|_| BillingError::Overflow("an investor view amount"))
}

/// The investments of `investor` (all, for `None`), each with the open
/// period so far and its projection (`spleis_billing::projection`).
async fn investor_view(
    store: &Store,
    investor: Option<&str>,
    now_ms: i64,
) -> Result<Vec<InvestorView>, BillingError> {
    let settings = store.billing_settings().await?;
    let period = settings.open_period(now_ms);
    let investments = store.investments(investor, None).await?;
    if investments.is_empty() {
        return Ok(Vec::new());
    }
    let input = store.period_input(period).await?;
    let so_far = close(&input)?;
    let mut views = Vec::new();
    for investment in investments {
        let charged = match so_far
            .settlements
            .iter()
            .find(|s| s.plugin == investment.package)
        {
            Some(settled) => u64::try_from(settled.charged)
                .map_err(|_| BillingError::Overflow("a plugin's charges so far"))?,
            None => 0,
        };
        let projection = match input.plugins.get(&investment.package) {
            Some(terms) => project(charged, terms, &investment.id, period, now_ms)?,
            None => Projection {
                charged_so_far: charged,
                ..Projection::default()
            },
        };
        views.push(InvestorView {
            currency: settings.currency.to_string(),
            remaining: investment.cap - investment.paid,
            period: period.to_string(),
            charged_so_far: minor(projection.charged_so_far)?,
            revenue_so_far: minor(projection.revenue_so_far)?,
            projected_revenue: minor(projection.projected_revenue)?,
            projected_payout: minor(projection.projected_payout)?,
            investment,
        });
    }
    Ok(views)
}
