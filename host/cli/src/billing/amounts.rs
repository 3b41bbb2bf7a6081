//! Amounts typed in major units and shown from minor units, in the
//! platform's currency.

use crate::client::Client;
use anyhow::{Context, bail};
use rust_decimal::Decimal;
use spleis_billing::{Currency, Money};
use spleis_server::types::billing::BillingSettings;
use std::str::FromStr;

/// The platform's currency, to read amounts typed in major units and to
/// show the server's minor units.
pub(crate) struct Amounts(Currency);

impl Amounts {
    /// The currency the server bills in.
    pub(crate) fn of(client: &Client) -> anyhow::Result<Self> {
        let settings = client.get::<BillingSettings>("/v1/billing/settings")?;
        Ok(Self(settings.body.currency))
    }

    /// `12.50` → 1250 (for EUR); more decimals than the currency has is an error.
    pub(crate) fn minor(&self, text: &str) -> anyhow::Result<i64> {
        let exponent = u32::from(self.0.exponent());
        let amount = Decimal::from_str(text.trim())
            .with_context(|| format!("`{text}` is not an amount like 12.50"))?;
        let scaled = amount
            .checked_mul(Decimal::from(10_i64.pow(exponent)))
            .with_context(|| format!("`{text}` is too large"))?;
        if !scaled.fract().is_zero() {
            bail!(
                "`{text}` has more decimals than {} allows ({exponent})",
                self.0
            );
        }
        i64::try_from(scaled).with_context(|| format!("`{text}` is too large"))
    }

    /// Minor units as `12.50 EUR`.
    pub(crate) fn show(&self, minor: i64) -> String {
        Money::new(minor, self.0).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_become_minor_units_without_rounding() {
        let eur = Amounts(Currency::new("EUR").unwrap());
        assert_eq!(eur.minor("12.5").unwrap(), 1250);
        assert_eq!(eur.minor(" 0.01 ").unwrap(), 1);
        let error = eur.minor("1.005").unwrap_err();
        assert!(error.to_string().contains("more decimals than EUR allows"));
        assert!(eur.minor("twelve").is_err());
        assert_eq!(eur.show(-94), "-0.94 EUR");
    }
}
