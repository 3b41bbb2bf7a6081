//! Energy tariff calculator: prices a supply contract exactly.
//!
//! Operation `quote` takes a contract (id, consumption in kWh, months, and a
//! tariff with a monthly base fee, consumption tiers and a VAT rate) and
//! returns the price breakdown. Every amount is a decimal string; each line
//! is rounded once to cents, half away from zero, and VAT is computed on the
//! sum of the rounded lines. It reports one `active-contract` unit keyed by
//! the contract id, so the tenant pays once per contract per month however
//! often it is quoted.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use spleis_sdk::{Error, Plugin, Request, Response, log, metering};

struct EnergyTariff;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    contract_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    consumption_kwh: Decimal,
    /// Billing months covered by the quote; the base fee is per month.
    #[serde(default = "one")]
    months: u32,
    tariff: Tariff,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tariff {
    currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    base_fee_per_month: Decimal,
    tiers: Vec<Tier>,
    #[serde(with = "rust_decimal::serde::str")]
    vat_rate: Decimal,
}

/// Consumption up to `up_to_kwh` (cumulative) costs `price_per_kwh`; the last
/// tier has no bound.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tier {
    #[serde(default, with = "rust_decimal::serde::str_option")]
    up_to_kwh: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    price_per_kwh: Decimal,
}

#[derive(Serialize)]
struct Quote {
    contract_id: String,
    currency: String,
    lines: Vec<Line>,
    net: String,
    vat_rate: String,
    vat: String,
    total: String,
}

#[derive(Serialize)]
struct Line {
    description: String,
    quantity: String,
    unit: &'static str,
    unit_price: String,
    amount: String,
}

/// The one rounding rule: to cents, half away from zero.
fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn money(amount: Decimal) -> String {
    format!("{:.2}", cents(amount))
}

fn validate(contract: &Contract) -> Result<(), Error> {
    if contract.contract_id.trim().is_empty() {
        return Err(Error::invalid_input("`contract_id` must not be empty"));
    }
    if contract.consumption_kwh.is_sign_negative() {
        return Err(Error::invalid_input(
            "`consumption_kwh` must not be negative",
        ));
    }
    if !(1..=120).contains(&contract.months) {
        return Err(Error::invalid_input("`months` must be between 1 and 120"));
    }
    let tariff = &contract.tariff;
    if tariff.currency.len() != 3 || !tariff.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::invalid_input(
            "`tariff.currency` must be an ISO 4217 code such as EUR",
        ));
    }
    if tariff.base_fee_per_month.is_sign_negative() {
        return Err(Error::invalid_input(
            "`tariff.base_fee_per_month` must not be negative",
        ));
    }
    if tariff.vat_rate.is_sign_negative() || tariff.vat_rate > Decimal::ONE {
        return Err(Error::invalid_input(
            "`tariff.vat_rate` must be between 0 and 1",
        ));
    }
    if tariff.tiers.is_empty() {
        return Err(Error::invalid_input(
            "`tariff.tiers` must have at least one tier",
        ));
    }
    let mut previous = Decimal::ZERO;
    for (i, tier) in tariff.tiers.iter().enumerate() {
        let last = i + 1 == tariff.tiers.len();
        if tier.price_per_kwh.is_sign_negative() {
            return Err(Error::invalid_input(format!(
                "tier {i}: `price_per_kwh` must not be negative"
            )));
        }
        match tier.up_to_kwh {
            None if !last => {
                return Err(Error::invalid_input(format!(
                    "tier {i}: only the last tier may leave `up_to_kwh` open"
                )));
            }
            Some(_) if last => {
                return Err(Error::invalid_input(
                    "the last tier must leave `up_to_kwh` open so every kWh has a price",
                ));
            }
            Some(bound) if bound <= previous => {
                return Err(Error::invalid_input(format!(
                    "tier {i}: `up_to_kwh` must be above the previous tier's bound"
                )));
            }
            Some(bound) => previous = bound,
            None => {}
        }
    }
    Ok(())
}

fn quote(contract: Contract) -> Result<Quote, Error> {
    validate(&contract)?;
    let tariff = &contract.tariff;
    let mut lines = Vec::new();
    let mut net = Decimal::ZERO;

    let months = Decimal::from(contract.months);
    let base = cents(tariff.base_fee_per_month * months);
    net += base;
    lines.push(Line {
        description: "Base fee".into(),
        quantity: months.to_string(),
        unit: "month",
        unit_price: tariff.base_fee_per_month.to_string(),
        amount: money(base),
    });

    let mut lower = Decimal::ZERO;
    for tier in &tariff.tiers {
        if contract.consumption_kwh <= lower {
            break;
        }
        let upper = tier.up_to_kwh.map_or(contract.consumption_kwh, |b| {
            b.min(contract.consumption_kwh)
        });
        let quantity = upper - lower;
        let amount = cents(quantity * tier.price_per_kwh);
        net += amount;
        let description = match tier.up_to_kwh {
            Some(bound) => format!("Energy {} to {} kWh", lower.normalize(), bound.normalize()),
            None => format!("Energy above {} kWh", lower.normalize()),
        };
        lines.push(Line {
            description,
            quantity: quantity.normalize().to_string(),
            unit: "kWh",
            unit_price: tier.price_per_kwh.to_string(),
            amount: money(amount),
        });
        lower = upper;
    }

    let vat = cents(net * tariff.vat_rate);
    Ok(Quote {
        contract_id: contract.contract_id,
        currency: tariff.currency.clone(),
        lines,
        net: money(net),
        vat_rate: tariff.vat_rate.normalize().to_string(),
        vat: money(vat),
        total: money(net + vat),
    })
}

impl Plugin for EnergyTariff {
    fn handle(request: Request) -> Result<Response, Error> {
        match request.operation() {
            "quote" => {
                let quote = quote(request.json()?)?;
                metering::report_unique("active-contract", &quote.contract_id)?;
                log::info(&format!(
                    "quoted contract {}: {} {}",
                    quote.contract_id, quote.total, quote.currency
                ));
                Response::json(&quote)
            }
            other => Err(Error::unknown_operation(other)),
        }
    }
}

spleis_sdk::export_plugin!(EnergyTariff);
