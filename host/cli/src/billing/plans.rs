//! `billing plan` and `billing agreement`.

use super::wire_name;
use crate::client::{Client, read_json};
use anyhow::Context;
use clap::Args;
use spleis_billing::split::AfterPayback;
use spleis_server::types::billing::{AgreementChange, Plans};
use spleis_server::types::billing::{AgreementRecord, PlanRecord};

/// Shows a plugin's plans, or sets a new one from JSON (inline or @FILE).
pub(super) fn plan(
    client: &Client,
    package: &str,
    set: Option<String>,
    from: Option<&str>,
) -> anyhow::Result<()> {
    let path = format!("/v1/packages/{package}/plan");
    match set {
        Some(plan) => {
            let path = match from {
                Some(from) => format!("{path}?from={from}"),
                None => path,
            };
            // Sent as written: the server says what is wrong with a plan.
            let answer = client.send::<PlanRecord>("PUT", &path, &read_json(&plan)?)?;
            answer.print(client, |p| {
                format!(
                    "{} plan {} applies from {}",
                    p.package, p.seq, p.effective_from
                )
            })
        }
        None => {
            let answer = client.get::<Plans>(&path)?;
            answer.print(client, |plans| {
                plans
                    .plans
                    .iter()
                    .map(|p| {
                        // A decoded plan always encodes again.
                        let plan = serde_json::to_string(&p.plan).unwrap_or_default();
                        format!("plan {} from {}: {plan}", p.seq, p.effective_from)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// `billing agreement`: a package, and what to change (nothing: show it).
#[derive(Args)]
pub struct AgreementArgs {
    /// `namespace/name`.
    package: String,
    /// Who receives the author's part.
    #[arg(long)]
    author: Option<String>,
    /// The platform fee, basis points.
    #[arg(long)]
    platform_fee_bps: Option<u32>,
    /// The investors' pool, basis points of the plugin's revenue.
    #[arg(long)]
    investor_share_bps: Option<u32>,
    /// After payback: `author-keeps` or `to-platform`.
    #[arg(long)]
    after_payback: Option<String>,
}

/// Shows a plugin's agreement, or changes it when a value is given.
pub(super) fn agreement(client: &Client, args: AgreementArgs) -> anyhow::Result<()> {
    let path = format!("/v1/packages/{}/agreement", args.package);
    let after_payback = args
        .after_payback
        .as_deref()
        .map(after_payback)
        .transpose()?;
    let change = AgreementChange {
        author: args.author,
        platform_fee_bps: args.platform_fee_bps,
        investor_share_bps: args.investor_share_bps,
        after_payback,
    };
    let answer = if change == AgreementChange::default() {
        client.get::<AgreementRecord>(&path)?
    } else {
        client.send::<AgreementRecord>("PUT", &path, &change)?
    };
    answer.print(client, |a| {
        format!(
            "{}: author {}, platform fee {} bps, investors {} bps, after payback {}",
            a.package,
            a.author,
            a.platform_fee_bps,
            a.investor_share_bps,
            wire_name(&a.after_payback)
        )
    })
}

/// `author-keeps` or `to-platform`, as the server spells them.
fn after_payback(text: &str) -> anyhow::Result<AfterPayback> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).with_context(|| {
        format!("--after-payback `{text}` is neither `author-keeps` nor `to-platform`")
    })
}
