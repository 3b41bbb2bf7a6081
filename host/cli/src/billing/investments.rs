//! `billing invest` and `report investments`.

use super::amounts::Amounts;
use super::query;
use crate::client::Client;
use crate::client::list;
use spleis_server::types::billing::InvestmentRecord;
use spleis_server::types::billing::{Investments, NewInvestment};

/// Records a tenant's investment in a plugin (operator).
pub(super) fn invest(
    client: &Client,
    package: String,
    investor: String,
    principal: &str,
    return_bps: u32,
) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let body = NewInvestment {
        package,
        investor,
        principal_minor: money.minor(principal)?,
        return_bps,
    };
    let answer = client.send::<InvestmentRecord>("POST", "/v1/investments", &body)?;
    answer.print(client, |i| {
        format!(
            "investment {} by {} in {}: {}, paid back up to {}",
            i.id,
            i.investor,
            i.package,
            money.show(i.principal),
            money.show(i.cap)
        )
    })
}

/// The investor's view: paid, remaining, this month so far and projected.
pub(super) fn report(
    client: &Client,
    money: &Amounts,
    investor: &Option<String>,
) -> anyhow::Result<()> {
    let path = format!("/v1/investments{}", query(&[("investor", investor)]));
    let answer = client.get::<Investments>(&path)?;
    answer.print(client, |a| {
        list(&a.investments, "no investments", |view| {
            let i = &view.investment;
            format!(
                "{} in {} by {}\n  invested {}, paid back in all {}\n  paid so far {}, remaining {}\n  {} so far: plugin revenue {} (projected {}), projected payout {}",
                i.id,
                i.package,
                i.investor,
                money.show(i.principal),
                money.show(i.cap),
                money.show(i.paid),
                money.show(view.remaining),
                view.period,
                money.show(view.revenue_so_far),
                money.show(view.projected_revenue),
                money.show(view.projected_payout)
            )
        })
    })
}
