//! Invoices and statements as CSV and as printable HTML. The JSON form is
//! the stored document itself; these render it, adding nothing.

use spleis_billing::close::quantity_text;
use spleis_billing::{Currency, Money};
use spleis_domain::billing::{InvoiceDocument, StatementDocument};
use std::fmt::Write;

/// A requested rendering.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The stored document.
    #[default]
    Json,
    /// One row per line.
    Csv,
    /// A printable page.
    Html,
}

fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).to_string()
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn csv_text(rows: Vec<Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail but for a bug; keep what was written.
        if writer.write_record(&row).is_err() {
            break;
        }
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// An invoice as CSV: one row per line, then the totals, amounts in minor units.
pub fn invoice_csv(doc: &InvoiceDocument) -> String {
    let mut rows = vec![vec![
        "invoice".into(),
        "period".into(),
        "tenant".into(),
        "plugin".into(),
        "versions".into(),
        "plan".into(),
        "description".into(),
        "quantity".into(),
        "unit_price".into(),
        "amount_minor".into(),
        "currency".into(),
    ]];
    let row = |plugin: &str,
               versions: &str,
               plan: &str,
               what: &str,
               qty: &str,
               price: &str,
               amount: i64| {
        vec![
            doc.number.clone(),
            doc.period.clone(),
            doc.invoice.tenant.clone(),
            plugin.to_owned(),
            versions.to_owned(),
            plan.to_owned(),
            what.to_owned(),
            qty.to_owned(),
            price.to_owned(),
            amount.to_string(),
            doc.currency.to_string(),
        ]
    };
    for line in &doc.invoice.lines {
        rows.push(row(
            line.plugin.as_deref().unwrap_or(""),
            &line.versions.join(" "),
            line.plan.as_deref().unwrap_or(""),
            &line.line.description,
            &quantity_text(line.line.quantity),
            &line
                .line
                .unit_price
                .map(|p| p.normalize().to_string())
                .unwrap_or_default(),
            line.line.amount.minor,
        ));
    }
    let i = &doc.invoice;
    rows.push(row("", "", "", "subtotal", "", "", i.subtotal));
    rows.push(row("", "", "", "total", "", "", i.total));
    rows.push(row(
        "",
        "",
        "",
        "prepaid credit applied",
        "",
        "",
        -i.credit_used,
    ));
    rows.push(row("", "", "", "amount due", "", "", i.amount_due));
    csv_text(rows)
}

/// A statement as CSV: one row per line, then the total.
pub fn statement_csv(doc: &StatementDocument) -> String {
    let mut rows = vec![vec![
        "statement".into(),
        "period".into(),
        "party".into(),
        "plugin".into(),
        "investment".into(),
        "description".into(),
        "amount_minor".into(),
        "currency".into(),
    ]];
    let s = &doc.statement;
    for line in &s.lines {
        rows.push(vec![
            doc.number.clone(),
            doc.period.clone(),
            s.party.clone(),
            line.plugin.clone(),
            line.investment.clone().unwrap_or_default(),
            line.description.clone(),
            line.amount.to_string(),
            doc.currency.to_string(),
        ]);
    }
    rows.push(vec![
        doc.number.clone(),
        doc.period.clone(),
        s.party.clone(),
        String::new(),
        String::new(),
        "total".into(),
        s.total.to_string(),
        doc.currency.to_string(),
    ]);
    csv_text(rows)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#222}\
table{width:100%;border-collapse:collapse}th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tfoot td{font-weight:600}\
.meta{color:#555}@media print{body{margin:0}}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// A printable HTML invoice.
pub fn invoice_html(doc: &InvoiceDocument) -> String {
    let i = &doc.invoice;
    let c = doc.currency;
    let mut body = format!(
        "<h1>Invoice {}</h1>\n<p class=\"meta\">Period {} · Tenant <strong>{}</strong> · Currency {}</p>\n\
         <table>\n<thead><tr><th>Description</th><th>Plugin</th><th>Plan</th><th class=\"n\">Quantity</th>\
         <th class=\"n\">Unit price</th><th class=\"n\">Amount</th></tr></thead>\n<tbody>\n",
        escape(&doc.number),
        escape(&doc.period),
        escape(&i.tenant),
        c
    );
    for line in &i.lines {
        let plugin = match &line.plugin {
            Some(p) if !line.versions.is_empty() => {
                format!("{} ({})", escape(p), escape(&line.versions.join(", ")))
            }
            Some(p) => escape(p),
            None => String::new(),
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{plugin}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&line.line.description),
            escape(line.plan.as_deref().unwrap_or("")),
            quantity_text(line.line.quantity),
            line.line
                .unit_price
                .map(|p| p.normalize().to_string())
                .unwrap_or_default(),
            money(line.line.amount.minor, c),
        );
    }
    body.push_str("</tbody>\n<tfoot>\n");
    for (label, minor) in [
        ("Subtotal (usage)", i.subtotal),
        ("Total", i.total),
        ("Prepaid credit applied", -i.credit_used),
        ("Amount due", i.amount_due),
    ] {
        let _ = writeln!(
            body,
            "<tr><td colspan=\"5\">{label}</td><td class=\"n\">{}</td></tr>",
            money(minor, c)
        );
    }
    body.push_str("</tfoot>\n</table>\n<p class=\"meta\">Amounts are rounded once per line, half away from zero.</p>\n");
    page(&format!("Invoice {}", doc.number), &body)
}

/// A printable HTML statement (credit note).
pub fn statement_html(doc: &StatementDocument) -> String {
    let s = &doc.statement;
    let c = doc.currency;
    let role = match s.kind {
        spleis_billing::close::Party::Author => "author",
        spleis_billing::close::Party::Investor => "investor",
    };
    let mut body = format!(
        "<h1>Statement {}</h1>\n<p class=\"meta\">Period {} · {} <strong>{}</strong> · Currency {}</p>\n\
         <table>\n<thead><tr><th>Plugin</th><th>Description</th><th class=\"n\">Credited</th></tr></thead>\n<tbody>\n",
        escape(&doc.number),
        escape(&doc.period),
        role,
        escape(&s.party),
        c
    );
    for line in &s.lines {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&line.plugin),
            escape(&line.description),
            money(line.amount, c)
        );
    }
    let _ = writeln!(
        body,
        "</tbody>\n<tfoot><tr><td colspan=\"2\">Total credited</td><td class=\"n\">{}</td></tr></tfoot>\n</table>",
        money(s.total, c)
    );
    page(&format!("Statement {}", doc.number), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_billing::close::{Invoice, Line};
    use spleis_billing::rating::InvoiceLine;

    fn doc() -> InvoiceDocument {
        let eur = Currency::new("EUR").unwrap();
        InvoiceDocument {
            number: "INV-202611-0001".into(),
            period: "2026-11".into(),
            currency: eur,
            issued_at: 0,
            invoice: Invoice {
                tenant: "<b>tenant</b>".into(),
                lines: vec![Line {
                    plugin: Some("acme/tariff".into()),
                    versions: vec!["1.0.0".into()],
                    plan: Some("acme/tariff plan 1".into()),
                    line: InvoiceLine {
                        description: "calls, \"all\"".into(),
                        quantity: rust_decimal::Decimal::new(12345, 0),
                        unit_price: Some(rust_decimal::Decimal::new(4, 4)),
                        amount: Money::new(494, eur),
                    },
                }],
                subtotal: 494,
                total: 494,
                credit_used: 94,
                amount_due: 400,
            },
        }
    }

    #[test]
    fn csv_quotes_and_html_escapes() {
        let csv = invoice_csv(&doc());
        assert!(
            csv.contains("\"calls, \"\"all\"\"\",12345,0.0004,494,EUR"),
            "{csv}"
        );
        assert!(csv.contains("amount due,,,400,EUR"), "{csv}");
        let html = invoice_html(&doc());
        assert!(html.contains("&lt;b&gt;tenant&lt;/b&gt;"));
        assert!(!html.contains("<b>tenant"));
        assert!(
            html.contains("4.94 EUR") && html.contains("-0.94 EUR") && html.contains("4.00 EUR")
        );
    }
}
