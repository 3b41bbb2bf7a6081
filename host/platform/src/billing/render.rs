//! Invoices and statements as CSV. The JSON form is the stored document
//! itself; this renders it, adding nothing. The printable HTML is a face's
//! (the web console's documents, which the API serves too).

use spleis_billing::close::quantity_text;
use spleis_domain::billing::{InvoiceDocument, StatementDocument};

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

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_billing::close::{Invoice, Line};
    use spleis_billing::rating::InvoiceLine;
    use spleis_billing::{Currency, Money};

    fn doc() -> InvoiceDocument {
        let eur = Currency::new("EUR").unwrap();
        InvoiceDocument {
            number: "INV-202611-0001".into(),
            period: "2026-11".into(),
            currency: eur,
            issued_at: 0,
            invoice: Invoice {
                tenant: "<b>tenant</b>".into(),
                funding: 0,
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
    fn csv_quotes_and_totals() {
        let csv = invoice_csv(&doc());
        assert!(
            csv.contains("\"calls, \"\"all\"\"\",12345,0.0004,494,EUR"),
            "{csv}"
        );
        assert!(csv.contains("amount due,,,400,EUR"), "{csv}");
    }
}
