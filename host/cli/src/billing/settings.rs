//! `billing close`, `periods`, `void`, `unvoid`, `voids`, `ledger`,
//! `settings`.

use super::amounts::Amounts;
use super::query;
use crate::client::Client;
use spleis_billing::close::Void;
use spleis_server::types::billing::BillingSettings;
use spleis_server::types::billing::{
    CloseRequest, Closed, Ledger, NewSettings, Periods, VoidRecord, Voids,
};

/// Closes a period (or shows the summary of its earlier close).
pub(super) fn close(client: &Client, period: String, early: bool) -> anyhow::Result<()> {
    let body = CloseRequest { period, early };
    let answer = client.send::<Closed>("POST", "/v1/billing/close", &body)?;
    let money = Amounts::of(client)?;
    answer.print(client, |closed| {
        let s = &closed.summary;
        let state = if closed.closed_now {
            "closed"
        } else {
            "was already closed"
        };
        format!(
            "{} {state}: {} usage records, {} invoices, {} statements, {} ledger transactions\n  charged {}\n  platform {}\n  authors {}\n  investors {}",
            s.period,
            s.records,
            s.invoices,
            s.statements,
            s.transactions,
            money.show(s.charged),
            money.show(s.platform),
            money.show(s.authors),
            money.show(s.investors),
        )
    })
}

/// Voids a tenant's use of a plugin for a period not yet closed.
pub(super) fn void(
    client: &Client,
    period: &str,
    tenant: String,
    plugin: String,
    reason: String,
) -> anyhow::Result<()> {
    let body = Void {
        tenant,
        plugin,
        reason,
    };
    let path = format!("/v1/billing/periods/{period}/voids");
    let answer = client.send::<VoidRecord>("POST", &path, &body)?;
    answer.print(client, |v| {
        format!(
            "{} of {} is voided for {}: {}",
            v.void.plugin, v.void.tenant, v.period, v.void.reason
        )
    })
}

/// Withdraws a void of a period not yet closed.
pub(super) fn unvoid(
    client: &Client,
    period: &str,
    tenant: &str,
    plugin: &str,
) -> anyhow::Result<()> {
    client.send_empty(
        "DELETE",
        &format!("/v1/billing/periods/{period}/voids/{tenant}/{plugin}"),
    )?;
    client.print(
        &serde_json::json!({"period": period, "tenant": tenant, "plugin": plugin, "voided": false}),
        |_| format!("{plugin} of {tenant} is billed again for {period}"),
    )
}

/// The lines voided for a period.
pub(super) fn voids(client: &Client, period: &str) -> anyhow::Result<()> {
    let answer = client.get::<Voids>(&format!("/v1/billing/periods/{period}/voids"))?;
    answer.print(client, |list| {
        if list.voids.is_empty() {
            return format!("no lines voided for {period}");
        }
        list.voids
            .iter()
            .map(|v| {
                format!(
                    "{} {}: {} (by {})",
                    v.void.tenant, v.void.plugin, v.void.reason, v.created_by
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The open period and the closed ones.
pub(super) fn periods(client: &Client) -> anyhow::Result<()> {
    let answer = client.get::<Periods>("/v1/billing/periods")?;
    answer.print(client, |periods| {
        let mut out = format!("open: {}", periods.open);
        for s in &periods.closed {
            out.push_str(&format!(
                "\nclosed: {} by {} ({} invoices)",
                s.period, s.closed_by, s.invoices
            ));
        }
        out
    })
}

/// Ledger balances per account.
pub(super) fn ledger(client: &Client, period: Option<String>) -> anyhow::Result<()> {
    let path = format!("/v1/billing/ledger{}", query(&[("period", &period)]));
    let answer = client.get::<Ledger>(&path)?;
    let money = Amounts::of(client)?;
    answer.print(client, |ledger| {
        let mut out: Vec<String> = ledger
            .balances
            .iter()
            .map(|b| {
                let (kind, id) = b.account.parts();
                format!("{kind:<20} {id:<16} {:>16}", money.show(b.balance))
            })
            .collect();
        out.push(format!("sum (always zero): {}", money.show(ledger.sum)));
        out.join("\n")
    })
}

/// Shows the settings, or changes them when a value is given.
pub(super) fn settings(
    client: &Client,
    currency: Option<String>,
    platform_fee_bps: Option<u32>,
) -> anyhow::Result<()> {
    let path = "/v1/billing/settings";
    let answer = if currency.is_none() && platform_fee_bps.is_none() {
        client.get::<BillingSettings>(path)?
    } else {
        let body = NewSettings {
            currency,
            platform_fee_bps,
        };
        client.send::<BillingSettings>("PUT", path, &body)?
    };
    answer.print(client, |s| {
        let last_closed = s
            .last_closed
            .map_or_else(|| "none".to_owned(), |p| p.to_string());
        format!(
            "currency {}, default platform fee {} bps, last closed {last_closed}",
            s.currency, s.platform_fee_bps
        )
    })
}
