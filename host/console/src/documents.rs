//! The printable invoice and statement, each one document rendered once,
//! here. The console shows it in its frame (a way back, a Print button);
//! the API's `?format=html` serves the same document as a page of its own.
//! Both read it through the same platform operations as the same actor, so
//! both show what that account may see (another tenant's invoice is not
//! found).

use crate::CSS;
use crate::locale::Locale;
use crate::page::{head, money, plain};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use spleis_billing::close::{Line, Party};
use spleis_domain::billing::{InvoiceDocument, StatementDocument};
use spleis_domain::parties::PartyDetails;
use spleis_platform::parties::InvoiceParties;
use spleis_platform::{Actor, Error, Platform};
use std::sync::LazyLock;

/// A printable document: its title and its content, to be framed.
#[derive(Clone, Debug)]
pub struct Document {
    /// `Invoice INV-202611-0001`.
    pub title: String,
    /// The document itself, without a frame.
    pub body: Markup,
}

/// The policy of a standalone document: its one inline stylesheet (allowed
/// by its hash, so a tenant's text can never add style) and nothing else.
static STANDALONE_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; \
         form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
});

/// The Content-Security-Policy of a standalone document: nothing loads but
/// the console's stylesheet inlined (by its hash), no script, no form, no
/// frame. The API gives it to every HTML answer that sets none of its own.
pub fn standalone_csp() -> &'static str {
    STANDALONE_CSP.as_str()
}

impl Document {
    /// The document in the console's frame: `nav` above it (hidden in
    /// print), the stylesheet and the script linked, as every console page.
    pub fn in_console(self, locale: Locale, nav: Markup) -> Markup {
        html! {
            (DOCTYPE)
            html lang=(locale.tag()) {
                head { (head(&self.title)) }
                body.document { (nav) (self.body) }
            }
        }
    }

    /// The document as a page of its own (the API's `?format=html`): the
    /// stylesheet inlined so a saved copy prints the same, no script, and a
    /// Content-Security-Policy that allows only that stylesheet.
    pub fn standalone(self, locale: Locale) -> Response {
        let page = html! {
            (DOCTYPE)
            html lang=(locale.tag()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · spleis" }
                    // Ours and embedded: inserted as is, so its hash is the policy's.
                    style { (PreEscaped(CSS)) }
                }
                body.document { (self.body) }
            }
        };
        (
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CONTENT_SECURITY_POLICY, STANDALONE_CSP.as_str()),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            page.into_string(),
        )
            .into_response()
    }
}

/// Invoice `number` as `actor` reads it (the tenant its own, the operator
/// any; another's is not found), with its parties and due date.
pub async fn invoice(
    platform: &Platform,
    actor: &Actor,
    number: &str,
    locale: Locale,
) -> Result<Document, Error> {
    let doc = platform.invoice(actor, number).await?;
    let parties = platform.invoice_parties(actor, number).await?;
    Ok(invoice_document(&doc, &parties, locale))
}

/// Statement `number` as `actor` reads it (the party its own, the operator
/// any; another's is not found).
pub async fn statement(
    platform: &Platform,
    actor: &Actor,
    number: &str,
    locale: Locale,
) -> Result<Document, Error> {
    let doc = platform.statement(actor, number).await?;
    Ok(statement_document(&doc, locale))
}

/// An invoice line in words: its plugin, then what was counted, without
/// the Markdown quoting of the stored description.
pub fn line_words(line: &Line) -> String {
    match &line.plugin {
        Some(plugin) => format!("{plugin}: {}", plain(&line.line.description)),
        None => plain(&line.line.description),
    }
}

/// The lines of an address.
fn address(details: &PartyDetails) -> Markup {
    html! {
        @for line in details.address.lines() { (line) br; }
        @if !details.tax_id.is_empty() { "Tax id " (details.tax_id) }
    }
}

/// A stored `YYYY-MM` in words, or as stored if it does not parse.
fn period_words(period: &str, locale: Locale) -> String {
    period
        .parse()
        .map(|p| locale.period(p))
        .unwrap_or_else(|_| period.to_owned())
}

/// The invoice as a document a business can send: issuer and recipient,
/// issue and due dates, plain lines, the amount due.
pub fn invoice_document(
    doc: &InvoiceDocument,
    parties: &InvoiceParties,
    locale: Locale,
) -> Document {
    let c = &doc.currency;
    let inv = &doc.invoice;
    let issuer = if parties.issuer.legal_name.is_empty() {
        "spleis (the operator has not set its legal name)".to_owned()
    } else {
        parties.issuer.legal_name.clone()
    };
    let body = html! {
        article.invoice {
            header.parties {
                div.issuer { h2 { (issuer) } p { (address(&parties.issuer)) } }
                div.meta {
                    h1 { "Invoice " (doc.number) }
                    dl {
                        dt { "Issued" } dd #issued { (locale.date(parties.issued_at)) }
                        dt { "Due" } dd #due { (locale.date(parties.due_at)) }
                        dt { "Period" } dd { (period_words(&doc.period, locale)) }
                    }
                }
            }
            section.recipient { h2 { "Bill to" } p { strong { (parties.recipient.legal_name) } br; (address(&parties.recipient)) } }
            table.figures.lines {
                thead { tr { th scope="col" { "Description" } th.num scope="col" { "Quantity" } th.num scope="col" { "Unit price" } th.num scope="col" { "Amount" } } }
                tbody {
                    @for line in &inv.lines {
                        tr {
                            td { (line_words(line)) }
                            td.num { (locale.decimal(line.line.quantity)) }
                            td.num { @if let Some(p) = line.line.unit_price { span.amount { (locale.price(p, c.exponent())) } } }
                            td.num { (money(locale, line.line.amount.minor, c)) }
                        }
                    }
                }
                tfoot {
                    tr { th scope="row" colspan="3" { "Subtotal (usage)" } td.num { (money(locale, inv.subtotal, c)) } }
                    tr { th scope="row" colspan="3" { "Total" } td.num #invoice-total { (money(locale, inv.total, c)) } }
                    @if inv.credit_used != 0 {
                        tr { th scope="row" colspan="3" { "Prepaid credit applied" } td.num { (money(locale, -inv.credit_used, c)) } }
                    }
                    tr.due { th scope="row" colspan="3" { "Amount due" } td.num #amount-due { (money(locale, inv.amount_due, c)) } }
                }
            }
            footer {
                p { "Please pay " (locale.money(inv.amount_due, c)) " by " (locale.date(parties.due_at)) ", quoting " (doc.number) "." }
                p.meta { "Amounts are rounded once per line, half away from zero." }
            }
        }
    };
    Document {
        title: format!("Invoice {}", doc.number),
        body,
    }
}

/// The statement (credit note) as a document: to whom, in what role, what
/// each plugin paid them, the total credited.
pub fn statement_document(doc: &StatementDocument, locale: Locale) -> Document {
    let c = &doc.currency;
    let s = &doc.statement;
    let role = match s.kind {
        Party::Author => "author",
        Party::Investor => "investor",
        Party::Builder => "builder",
    };
    let body = html! {
        article.invoice {
            h1 { "Statement " (doc.number) }
            dl {
                dt { "To" } dd #party { strong { (s.party) } " (" (role) ")" }
                dt { "Issued" } dd { (locale.date(doc.issued_at)) }
                dt { "Period" } dd { (period_words(&doc.period, locale)) }
            }
            table.figures.lines {
                thead { tr { th scope="col" { "Description" } th.num scope="col" { "Amount" } } }
                tbody { @for l in &s.lines { tr { td { (plain(&l.description)) } td.num { (money(locale, l.amount, c)) } } } }
                tfoot { tr { th scope="row" { "Total credited" } td.num #statement-total { (money(locale, s.total, c)) } } }
            }
        }
    };
    Document {
        title: format!("Statement {}", doc.number),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_billing::close::{Invoice, Statement, StatementLine};
    use spleis_billing::rating::InvoiceLine;
    use spleis_billing::{Currency, Money};

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    fn invoice_doc() -> (InvoiceDocument, InvoiceParties) {
        let doc = InvoiceDocument {
            number: "INV-202611-0001".into(),
            period: "2026-11".into(),
            currency: eur(),
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
                        amount: Money::new(494, eur()),
                    },
                }],
                subtotal: 494,
                funding: 0,
                total: 494,
                credit_used: 94,
                amount_due: 400,
            },
        };
        let parties = InvoiceParties {
            issuer: PartyDetails {
                legal_name: "Spleis AS".into(),
                address: "Gate 1\n0150 Oslo".into(),
                tax_id: "NO123".into(),
                payment_terms_days: 14,
            },
            recipient: PartyDetails {
                legal_name: "<b>tenant</b>".into(),
                ..PartyDetails::default()
            },
            issued_at: 0,
            due_at: 14 * spleis_billing::period::DAY_MS,
        };
        (doc, parties)
    }

    #[test]
    fn an_invoice_escapes_its_texts_and_shows_every_amount() {
        let (doc, parties) = invoice_doc();
        let html = invoice_document(&doc, &parties, Locale::En)
            .body
            .into_string();
        assert!(html.contains("&lt;b&gt;tenant&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>tenant"), "{html}");
        assert!(html.contains("calls, &quot;all&quot;"), "{html}");
        assert!(html.contains("<h1>Invoice INV-202611-0001</h1>"), "{html}");
        for amount in ["EUR\u{a0}4.94", "EUR\u{a0}-0.94", "EUR\u{a0}4.00"] {
            assert!(html.contains(amount), "{amount} in {html}");
        }
        assert!(html.contains("Spleis AS") && html.contains("0150 Oslo"));
        assert!(
            html.contains("15 Jan 1970"),
            "due 14 days after issue: {html}"
        );
        let de = invoice_document(&doc, &parties, Locale::De)
            .body
            .into_string();
        assert!(de.contains("4,00\u{a0}EUR"), "{de}");
    }

    #[test]
    fn a_statement_escapes_its_party_and_totals() {
        let doc = StatementDocument {
            number: "ST-202611-0001".into(),
            period: "2026-11".into(),
            currency: eur(),
            issued_at: 0,
            statement: Statement {
                party: "<i>investor</i>".into(),
                kind: Party::Investor,
                lines: vec![StatementLine {
                    plugin: "acme/tariff".into(),
                    investment: Some("inv-1".into()),
                    description: "payback of investment inv-1 in `acme/tariff`".into(),
                    amount: 108,
                }],
                total: 108,
            },
        };
        let html = statement_document(&doc, Locale::En).body.into_string();
        assert!(
            html.contains("<strong>&lt;i&gt;investor&lt;/i&gt;</strong> (investor)"),
            "{html}"
        );
        assert!(html.contains("in acme/tariff<"), "no backticks: {html}");
        assert!(html.contains("EUR\u{a0}1.08"), "{html}");
    }

    #[tokio::test]
    async fn standing_alone_it_inlines_the_stylesheet_its_policy_allows_and_has_no_script() {
        let (doc, parties) = invoice_doc();
        let response = invoice_document(&doc, &parties, Locale::En).standalone(Locale::En);
        let header = |name| {
            response.headers()[name]
                .to_str()
                .map(str::to_owned)
                .unwrap_or_default()
        };
        assert_eq!(header(CONTENT_TYPE), "text/html; charset=utf-8");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
        let csp = header(CONTENT_SECURITY_POLICY);
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"));
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8_lossy(&bytes);
        assert!(html.contains(&format!("<style>{CSS}</style>")));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<title>Invoice INV-202611-0001 · spleis</title>"));
    }

    #[test]
    fn in_the_console_it_links_the_stylesheet_and_script_and_shows_the_nav() {
        let (doc, parties) = invoice_doc();
        let nav = html! { nav.no-print { button #print type="button" { "Print" } } };
        let html = invoice_document(&doc, &parties, Locale::En)
            .in_console(Locale::En, nav)
            .into_string();
        assert!(html.contains("href=\"/assets/console.css\""));
        assert!(html.contains("src=\"/assets/console.js\""));
        assert!(html.contains("<body class=\"document\"><nav class=\"no-print\">"));
        assert!(!html.contains("<style"));
    }
}
