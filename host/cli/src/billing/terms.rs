//! `billing minimum`, `discount`, `credit`: a tenant's terms (operator).

use super::amounts::Amounts;
use crate::client::Client;
use anyhow::{Context, bail};
use clap::Args;
use rust_decimal::Decimal;
use spleis_server::types::billing::{
    CreditGranted, DiscountAdded, MinimumSet, NewCredit, NewDiscount, NewMinimum,
};
use std::str::FromStr;

/// Sets a tenant's minimum monthly commitment.
pub(super) fn minimum(client: &Client, tenant: &str, amount: &str) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let body = NewMinimum {
        minimum_minor: money.minor(amount)?,
    };
    let path = format!("/v1/tenants/{tenant}/minimum");
    let answer = client.send::<MinimumSet>("PUT", &path, &body)?;
    answer.print(client, |m| {
        format!(
            "{} commits to at least {} a month",
            m.tenant,
            money.show(m.minimum_minor)
        )
    })
}

/// `billing discount`: a tenant, why, how much and for which periods.
#[derive(Args)]
pub struct DiscountArgs {
    /// The tenant.
    tenant: String,
    /// Why, for the invoice.
    #[arg(long)]
    reason: String,
    /// A percentage (15 or 12.5).
    #[arg(long, conflicts_with = "fixed")]
    percent: Option<String>,
    /// A fixed amount, major units.
    #[arg(long)]
    fixed: Option<String>,
    /// The first period.
    #[arg(long)]
    from: String,
    /// The last period.
    #[arg(long)]
    to: String,
}

/// Gives a tenant a discount over a range of periods.
pub(super) fn discount(client: &Client, args: DiscountArgs) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let (percent_bps, fixed_minor) = match (args.percent, args.fixed) {
        (Some(p), None) => (Some(basis_points(&p)?), None),
        (None, Some(f)) => (None, Some(money.minor(&f)?)),
        _ => bail!("give --percent or --fixed"),
    };
    let body = NewDiscount {
        reason: args.reason,
        percent_bps,
        fixed_minor,
        from: args.from,
        to: args.to,
    };
    let path = format!("/v1/tenants/{}/discounts", args.tenant);
    let answer = client.send::<DiscountAdded>("POST", &path, &body)?;
    answer.print(client, |d| {
        format!(
            "discount {} for {} from {} to {}",
            d.id, d.tenant, d.discount.from, d.discount.to
        )
    })
}

/// `12.5` (percent) → 1250 basis points; finer than a basis point is an error.
fn basis_points(percent: &str) -> anyhow::Result<u32> {
    Decimal::from_str(percent)
        .ok()
        .and_then(|p| p.checked_mul(Decimal::from(100)))
        .filter(|b| b.fract().is_zero())
        .and_then(|b| u32::try_from(b).ok())
        .with_context(|| format!("`{percent}` is not a percentage like 15 or 12.5"))
}

/// Books prepaid credit for a tenant.
pub(super) fn credit(client: &Client, tenant: &str, amount: &str) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let body = NewCredit {
        amount_minor: money.minor(amount)?,
    };
    let path = format!("/v1/tenants/{tenant}/credit");
    let answer = client.send::<CreditGranted>("POST", &path, &body)?;
    answer.print(client, |c| {
        format!(
            "{} has {} of prepaid credit",
            c.tenant,
            money.show(c.credit_minor)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_whole_basis_points() {
        assert_eq!(basis_points("15").unwrap(), 1500);
        assert_eq!(basis_points("12.5").unwrap(), 1250);
        assert!(basis_points("12.345").is_err());
        assert!(basis_points("-1").is_err());
        assert!(basis_points("lots").is_err());
    }
}
