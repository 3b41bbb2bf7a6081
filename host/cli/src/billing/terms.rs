//! `billing minimum`, `commitment`, `discount`, `credit`: a tenant's terms
//! (operator; a tenant may list its own commitments).

use super::amounts::Amounts;
use crate::client::Client;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rust_decimal::Decimal;
use spleis_billing::commitments::{Commitment, Minimum};
use spleis_billing::discounts::Period;
use spleis_server::types::billing::{
    CommitmentEnded, CommitmentRecord, Commitments, CreditGranted, DiscountAdded, MinimumSet,
    NewCredit, NewDiscount, NewMinimum,
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

/// `billing commitment …`.
#[derive(Subcommand)]
pub enum CommitmentCommand {
    /// Commit a tenant to a minimum from a period on: money (`--amount`)
    /// or units of a plugin's metric (`--units --plugin --metric`).
    Add {
        /// The tenant.
        tenant: String,
        /// At least this much a month, major units.
        #[arg(long, conflicts_with_all = ["units", "plugin", "metric"], required_unless_present = "units")]
        amount: Option<String>,
        /// At least this many units a month.
        #[arg(long, requires_all = ["plugin", "metric"])]
        units: Option<u64>,
        /// The plugin, `namespace/name`.
        #[arg(long)]
        plugin: Option<String>,
        /// The metric, as the plugin declares it.
        #[arg(long)]
        metric: Option<String>,
        /// The first period, `YYYY-MM` (the open one or later).
        #[arg(long)]
        from: Period,
        /// The last period; left out, it runs until ended.
        #[arg(long)]
        to: Option<Period>,
    },
    /// List a tenant's commitments.
    List {
        /// The tenant.
        tenant: String,
    },
    /// End a commitment: it no longer applies to periods not yet closed.
    End {
        /// The tenant.
        tenant: String,
        /// The commitment, `com-…`.
        id: String,
    },
}

/// Runs a `billing commitment` command.
pub(super) fn commitment(client: &Client, command: CommitmentCommand) -> anyhow::Result<()> {
    let money = Amounts::of(client)?;
    let words = |c: &CommitmentRecord| {
        let said = c.commitment.words(
            |minor| money.show(minor),
            |units| units.to_string(),
            |period| period.to_string(),
        );
        format!("{} {}: {said}", c.id, c.tenant)
    };
    match command {
        CommitmentCommand::Add {
            tenant,
            amount,
            units,
            plugin,
            metric,
            from,
            to,
        } => {
            let minimum = match (amount, units, plugin, metric) {
                (Some(amount), None, None, None) => Minimum::Money {
                    minor: money.minor(&amount)?,
                },
                (None, Some(units), Some(plugin), Some(metric)) => Minimum::Units {
                    plugin,
                    metric,
                    units,
                },
                _ => bail!("give --amount, or --units with --plugin and --metric"),
            };
            let body = Commitment { minimum, from, to };
            let path = format!("/v1/tenants/{tenant}/commitments");
            let answer = client.send::<CommitmentRecord>("POST", &path, &body)?;
            answer.print(client, |c| words(c))
        }
        CommitmentCommand::List { tenant } => {
            let answer = client.get::<Commitments>(&format!("/v1/tenants/{tenant}/commitments"))?;
            answer.print(client, |list| {
                if list.commitments.is_empty() {
                    return format!("{tenant} has no commitments");
                }
                list.commitments
                    .iter()
                    .map(words)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        CommitmentCommand::End { tenant, id } => {
            let path = format!("/v1/tenants/{tenant}/commitments/{id}");
            let answer = client.request::<CommitmentEnded>("DELETE", &path, None::<&()>)?;
            answer.print(client, |e| match e.to {
                Some(to) => format!("{} now ends with {to}, the last closed period", e.id),
                None => format!("{} removed; it had not applied to a closed period", e.id),
            })
        }
    }
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
