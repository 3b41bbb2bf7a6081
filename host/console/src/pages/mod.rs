//! The pages, by whom they are for: [`store`] (the app store, every role),
//! [`tenant`] (installs, usage and cost, invoices, account), [`investor`]
//! (investments, statements, campaigns), [`author`] (plugins, price plans,
//! earnings), [`operator`] (the month, the close, tenants, agreements,
//! the ledger, settings), [`wishlist`] (requests, votes, comments,
//! funding to go first; the operator's assessment, every role) and
//! [`inbox`] (every role's notifications). Each handler calls platform operations with the
//! viewer's actor and renders what they answer.

mod author;
mod inbox;
mod investor;
mod operator;
mod store;
mod tenant;
mod wishlist;

use crate::ConsoleState;
use crate::locale::Locale;
use crate::page::PageError;
use crate::viewer::Viewer;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rust_decimal::Decimal;
use spleis_billing::Currency;
use spleis_billing::rating::{Charge, Meter, PricePlan, Pricing};
use spleis_billing::tiers::TierMode;
use spleis_domain::accounts::Role;

/// Every page's route.
pub fn routes() -> Router<ConsoleState> {
    Router::new()
        .route("/", get(overview))
        .route("/inbox", get(inbox::inbox))
        .route("/inbox/read", post(inbox::mark_all_read))
        .route("/store", get(store::catalog))
        .route("/store/{namespace}/{name}", get(store::plugin))
        .route("/store/{namespace}/{name}/install", post(store::install))
        .route("/installs", get(tenant::installs))
        .route("/installs/{namespace}/{name}", get(tenant::install))
        .route(
            "/installs/{namespace}/{name}/config",
            post(tenant::set_config),
        )
        .route(
            "/upgrades/{namespace}/{name}/{version}/{decision}",
            post(tenant::decide_upgrade),
        )
        .route("/usage", get(tenant::usage))
        .route("/invoices", get(tenant::invoices))
        .route("/invoices/{number}", get(tenant::invoice))
        .route("/invoices/{number}/csv", get(tenant::invoice_csv))
        .route("/account", get(tenant::account))
        .route("/account/details", post(tenant::set_details))
        .route("/account/tokens/{id}/revoke", post(tenant::revoke_token))
        .route("/investments", get(investor::investments))
        .route("/statements/{number}", get(investor::statement))
        .route(
            "/campaigns",
            get(investor::campaigns).post(investor::create_campaign),
        )
        .route("/campaigns/{id}/pledge", post(investor::pledge))
        .route("/campaigns/{id}/close", post(investor::close_campaign))
        .route("/wishlist", get(wishlist::wishlist).post(wishlist::post))
        .route("/wishlist/similar", get(wishlist::similar))
        .route("/wishlist/{id}", get(wishlist::request))
        .route("/wishlist/{id}/vote", post(wishlist::vote))
        .route("/wishlist/{id}/subscription", post(wishlist::subscribe))
        .route("/wishlist/{id}/comments", post(wishlist::comment))
        .route("/wishlist/{id}/pledge", post(wishlist::pledge))
        .route("/wishlist/{id}/status", post(wishlist::assess))
        .route("/wishlist/{id}/funding", post(wishlist::open_funding))
        .route("/wishlist/{id}/delivery", post(wishlist::deliver))
        .route("/plugins", get(author::plugins))
        .route("/plugins/{namespace}/{name}", get(author::plugin))
        .route("/plugins/{namespace}/{name}/plan", post(author::plan))
        .route("/earnings", get(author::earnings))
        .route(
            "/operator/close",
            get(operator::close_page).post(operator::close),
        )
        .route("/operator/tenants", get(operator::tenants))
        .route("/operator/tenants/{id}/terms", post(operator::set_terms))
        .route("/operator/agreements", get(operator::agreements))
        .route(
            "/operator/agreements/{namespace}/{name}",
            post(operator::set_agreement),
        )
        .route("/operator/ledger", get(operator::ledger))
        .route(
            "/operator/settings",
            get(operator::settings).post(operator::set_settings),
        )
}

/// `/`: each role's overview.
async fn overview(state: State<ConsoleState>, viewer: Viewer) -> Result<Response, PageError> {
    Ok(match viewer.actor.role() {
        Role::Tenant => tenant::overview(state, viewer).await?.into_response(),
        Role::Author => author::overview(state, viewer).await?.into_response(),
        Role::Operator => operator::month(state, viewer).await?.into_response(),
    })
}

/// The platform currency, as every account may read it.
async fn currency(state: &ConsoleState, viewer: &Viewer) -> Result<Currency, PageError> {
    Ok(state
        .platform
        .billing_settings(&viewer.actor)
        .await?
        .currency)
}

/// A price plan in plain words, one sentence per charge.
pub fn plan_in_words(plan: &PricePlan, locale: Locale) -> Vec<String> {
    let mut words: Vec<String> = plan
        .charges
        .iter()
        .map(|charge| charge_in_words(charge, plan.currency, locale))
        .collect();
    words.push(if plan.charge_failed_calls {
        "Failed calls are charged like successful ones (a platform fault never is).".into()
    } else {
        "Failed calls are not charged.".into()
    });
    words
}

fn charge_in_words(charge: &Charge, currency: Currency, locale: Locale) -> String {
    let code = currency.code();
    let what = match &charge.meter {
        Meter::Calls { operation: None } => "each call".to_owned(),
        Meter::Calls {
            operation: Some(op),
        } => format!("each call of {op}"),
        Meter::Metric { metric } => format!("each {metric}"),
        Meter::Fuel { per } => format!(
            "each {} units of compute (fuel)",
            locale.count(i64::try_from(*per).unwrap_or(i64::MAX))
        ),
        Meter::HostTime { per_ms } => format!(
            "each {} ms its calls wait on the platform (host time)",
            locale.count(i64::try_from(*per_ms).unwrap_or(i64::MAX))
        ),
        Meter::Monthly {} => {
            "the monthly fee per install (prorated by the days installed)".to_owned()
        }
    };
    let price = match &charge.pricing {
        Pricing::Unit { price } => {
            format!("{code}\u{a0}{}", locale.price(*price, currency.exponent()))
        }
        Pricing::Tiered { tiers, mode } => {
            let mut from = Decimal::ZERO;
            let parts: Vec<String> = tiers
                .iter()
                .map(|t| {
                    let range = match t.up_to {
                        Some(up_to) => {
                            let r = format!(
                                "{} to {}",
                                locale.decimal(from + Decimal::ONE),
                                locale.decimal(up_to)
                            );
                            from = up_to;
                            r
                        }
                        None => format!("above {}", locale.decimal(from)),
                    };
                    let flat = if t.flat_fee.is_zero() {
                        String::new()
                    } else {
                        format!(
                            " plus {code}\u{a0}{}",
                            locale.price(t.flat_fee, currency.exponent())
                        )
                    };
                    format!(
                        "{range}: {code}\u{a0}{} each{flat}",
                        locale.price(t.unit_price, currency.exponent())
                    )
                })
                .collect();
            let how = match mode {
                TierMode::Graduated => "in tiers, each unit at its tier's price",
                TierMode::Volume => {
                    "by volume, every unit at the price of the tier the total reaches"
                }
            };
            format!("{how} ({})", parts.join("; "))
        }
    };
    let free = if charge.free_units.is_zero() {
        String::new()
    } else {
        format!(
            ", the first {} each month free",
            locale.decimal(charge.free_units)
        )
    };
    let mut sentence = match charge.meter {
        Meter::Monthly {} => format!("{what}: {price}{free}."),
        _ => format!("{what} costs {price}{free}."),
    };
    // Sentence case.
    if let Some(first) = sentence.get(..1) {
        sentence = first.to_uppercase() + &sentence[1..];
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_as_sentences() {
        let plan: PricePlan = serde_json::from_value(serde_json::json!({
            "currency": "EUR",
            "charges": [
                {"meter": {"on": "calls"}, "pricing": {"kind": "unit", "price": "0.004"}},
                {"meter": {"on": "metric", "metric": "invoice-line"}, "pricing": {"kind": "tiered", "mode": "graduated",
                  "tiers": [{"up_to": "3", "unit_price": "0.05"}, {"up_to": null, "unit_price": "0.02"}]}},
                {"meter": {"on": "calls"}, "pricing": {"kind": "unit", "price": "0.05"}, "free_units": "2"}
            ]
        }))
        .unwrap();
        let words = plan_in_words(&plan, Locale::En);
        assert_eq!(words[0], "Each call costs EUR\u{a0}0.004.");
        assert_eq!(
            words[1],
            "Each invoice-line costs in tiers, each unit at its tier's price (1 to 3: EUR\u{a0}0.05 each; above 3: EUR\u{a0}0.02 each)."
        );
        assert_eq!(
            words[2],
            "Each call costs EUR\u{a0}0.05, the first 2 each month free."
        );
        assert_eq!(words[3], "Failed calls are not charged.");
        assert_eq!(
            plan_in_words(&plan, Locale::De)[0],
            "Each call costs EUR\u{a0}0,004."
        );
    }
}
