//! Invoice/VAT calculator with exact decimal arithmetic.
//!
//! VAT rates come from the install's config, one setting per country and
//! category: `rate.DE.standard = "0.19"`, `rate.DE.reduced = "0.07"`.
//!
//! Operation `calculate` takes `{"country", "currency", "lines": [{"description",
//! "quantity", "unit_price", "category"?}]}` (category defaults to
//! `standard`). Each line's net amount is rounded once to cents, half away
//! from zero; VAT is computed per rate on the sum of its lines' net amounts
//! and rounded the same way, as EU invoices state it. It reports one
//! `invoice-line` unit per line. Operation `rates` `{"country"}` lists the
//! configured rates.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use spleis_sdk::{Error, Plugin, Request, Response, config, metering};
use std::collections::BTreeMap;

struct VatInvoice;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invoice {
    country: String,
    currency: String,
    lines: Vec<InputLine>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputLine {
    description: String,
    #[serde(with = "rust_decimal::serde::str")]
    quantity: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    unit_price: Decimal,
    #[serde(default = "standard")]
    category: String,
}

fn standard() -> String {
    "standard".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Country {
    country: String,
}

#[derive(Serialize)]
struct Calculated {
    country: String,
    currency: String,
    lines: Vec<OutputLine>,
    vat: Vec<VatGroup>,
    net_total: String,
    vat_total: String,
    gross_total: String,
}

#[derive(Serialize)]
struct OutputLine {
    description: String,
    quantity: String,
    unit_price: String,
    category: String,
    vat_rate: String,
    net: String,
}

#[derive(Serialize)]
struct VatGroup {
    category: String,
    rate: String,
    net: String,
    vat: String,
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn money(amount: Decimal) -> String {
    format!("{:.2}", cents(amount))
}

fn country_code(country: &str) -> Result<&str, Error> {
    if country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(country)
    } else {
        Err(Error::invalid_input(format!(
            "`country` must be an ISO 3166 alpha-2 code such as DE, not `{country}`"
        )))
    }
}

fn rate(country: &str, category: &str) -> Result<Decimal, Error> {
    let key = format!("rate.{country}.{category}");
    let rate = config::parse::<Decimal>(&key)?.ok_or_else(|| {
        Error::config(format!(
            "no VAT rate configured for {country}/{category} (setting `{key}`)"
        ))
    })?;
    if rate.is_sign_negative() || rate > Decimal::ONE {
        return Err(Error::config(format!(
            "the setting `{key}` must be between 0 and 1"
        )));
    }
    Ok(rate)
}

fn calculate(invoice: Invoice) -> Result<Calculated, Error> {
    let country = country_code(&invoice.country)?.to_owned();
    if invoice.currency.len() != 3 || !invoice.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::invalid_input(
            "`currency` must be an ISO 4217 code such as EUR",
        ));
    }
    if invoice.lines.is_empty() {
        return Err(Error::invalid_input("an invoice needs at least one line"));
    }
    let mut lines = Vec::with_capacity(invoice.lines.len());
    // category -> (rate, net sum)
    let mut groups: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for (i, line) in invoice.lines.into_iter().enumerate() {
        if line.quantity.is_sign_negative() || line.unit_price.is_sign_negative() {
            return Err(Error::invalid_input(format!(
                "line {i}: quantity and unit price must not be negative"
            )));
        }
        let rate = rate(&country, &line.category)?;
        let net = cents(line.quantity * line.unit_price);
        let group = groups
            .entry(line.category.clone())
            .or_insert((rate, Decimal::ZERO));
        group.1 += net;
        lines.push(OutputLine {
            description: line.description,
            quantity: line.quantity.normalize().to_string(),
            unit_price: line.unit_price.to_string(),
            category: line.category,
            vat_rate: rate.normalize().to_string(),
            net: money(net),
        });
    }
    let mut net_total = Decimal::ZERO;
    let mut vat_total = Decimal::ZERO;
    let vat = groups
        .into_iter()
        .map(|(category, (rate, net))| {
            let vat = cents(net * rate);
            net_total += net;
            vat_total += vat;
            VatGroup {
                category,
                rate: rate.normalize().to_string(),
                net: money(net),
                vat: money(vat),
            }
        })
        .collect();
    metering::report("invoice-line", lines.len() as u64)?;
    Ok(Calculated {
        country,
        currency: invoice.currency,
        lines,
        vat,
        net_total: money(net_total),
        vat_total: money(vat_total),
        gross_total: money(net_total + vat_total),
    })
}

fn rates(country: &str) -> Result<BTreeMap<String, String>, Error> {
    let prefix = format!("rate.{}.", country_code(country)?);
    Ok(config::all()?
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|c| (c.to_owned(), v)))
        .collect())
}

impl Plugin for VatInvoice {
    fn handle(request: Request) -> Result<Response, Error> {
        match request.operation() {
            "calculate" => Response::json(&calculate(request.json()?)?),
            "rates" => Response::json(&rates(&request.json::<Country>()?.country)?),
            other => Err(Error::unknown_operation(other)),
        }
    }
}

spleis_sdk::export_plugin!(VatInvoice);
