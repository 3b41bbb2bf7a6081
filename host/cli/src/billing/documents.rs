//! `report invoices`, `invoice`, `statements`, `statement`.

use super::amounts::Amounts;
use super::{query, wire_name};
use crate::client::Client;
use crate::client::list;
use anyhow::Context;
use serde::de::DeserializeOwned;
use spleis_server::types::billing::{InvoiceDocument, StatementDocument};
use spleis_server::types::billing::{Invoices, Statements};
use std::path::PathBuf;

/// Lists invoices (the caller's; the operator's: all or one tenant's).
pub(super) fn invoices(
    client: &Client,
    money: &Amounts,
    period: &Option<String>,
    tenant: &Option<String>,
) -> anyhow::Result<()> {
    let path = format!(
        "/v1/invoices{}",
        query(&[("period", period), ("tenant", tenant)])
    );
    let answer = client.get::<Invoices>(&path)?;
    answer.print(client, |a| {
        list(&a.invoices, "no invoices", |i| {
            format!(
                "{:<18} {} {:<16} total {:>14}  due {:>14}",
                i.number,
                i.period,
                i.invoice.tenant,
                money.show(i.invoice.total),
                money.show(i.invoice.amount_due)
            )
        })
    })
}

/// One invoice as text, JSON, CSV or HTML.
pub(super) fn invoice(
    client: &Client,
    money: &Amounts,
    number: &str,
    format: Option<String>,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let path = format!("/v1/invoices/{number}");
    document(client, &path, format, output, |doc: &InvoiceDocument| {
        invoice_text(doc, money)
    })
}

/// Lists statements (the caller's; the operator's: all or one party's).
pub(super) fn statements(
    client: &Client,
    money: &Amounts,
    period: &Option<String>,
    party: &Option<String>,
) -> anyhow::Result<()> {
    let path = format!(
        "/v1/statements{}",
        query(&[("period", period), ("party", party)])
    );
    let answer = client.get::<Statements>(&path)?;
    answer.print(client, |a| {
        list(&a.statements, "no statements", |s| {
            format!(
                "{:<17} {} {:<9} {:<16} {:>14}",
                s.number,
                s.period,
                wire_name(&s.statement.kind),
                s.statement.party,
                money.show(s.statement.total)
            )
        })
    })
}

/// One statement as text, JSON, CSV or HTML.
pub(super) fn statement(
    client: &Client,
    money: &Amounts,
    number: &str,
    format: Option<String>,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let path = format!("/v1/statements/{number}");
    document(client, &path, format, output, |doc: &StatementDocument| {
        statement_text(doc, money)
    })
}

/// One invoice or statement: as the server renders it (`csv`, `html`), as
/// JSON with `--json`, else as `text` makes it; to `output` or stdout.
fn document<T: DeserializeOwned>(
    client: &Client,
    path: &str,
    format: Option<String>,
    output: Option<PathBuf>,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    let rendered = match format {
        Some(format) => client.send_text("GET", &format!("{path}?format={format}"), None)?,
        None => {
            let answer = client.get::<T>(path)?;
            format!("{}\n", answer.render(client, text)?)
        }
    };
    match output {
        Some(path) => {
            std::fs::write(&path, rendered)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{rendered}"),
    }
    Ok(())
}

fn invoice_text(doc: &InvoiceDocument, money: &Amounts) -> String {
    let i = &doc.invoice;
    let mut out = format!("Invoice {} · {} · {}\n", doc.number, doc.period, i.tenant);
    for l in &i.lines {
        let what = match &l.plugin {
            Some(p) => format!("{p}: {}", l.line.description),
            None => l.line.description.clone(),
        };
        let quantity = l.line.quantity.to_string();
        let price = l
            .line
            .unit_price
            .map(|p| format!(" × {p}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<56} {:>12}{:<10} {:>14}\n",
            what,
            quantity,
            price,
            money.show(l.line.amount.minor)
        ));
    }
    for (label, amount) in [
        ("subtotal (usage)", i.subtotal),
        ("total", i.total),
        ("prepaid credit applied", i.credit_used.saturating_neg()),
        ("amount due", i.amount_due),
    ] {
        out.push_str(&format!("  {:<79} {:>14}\n", label, money.show(amount)));
    }
    out.trim_end().to_owned()
}

fn statement_text(doc: &StatementDocument, money: &Amounts) -> String {
    let s = &doc.statement;
    let mut out = format!(
        "Statement {} · {} · {} {}\n",
        doc.number,
        doc.period,
        wire_name(&s.kind),
        s.party
    );
    for l in &s.lines {
        out.push_str(&format!(
            "  {:<60} {:>14}\n",
            l.description,
            money.show(l.amount)
        ));
    }
    out.push_str(&format!("  {:<60} {:>14}", "total", money.show(s.total)));
    out
}
