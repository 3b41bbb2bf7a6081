//! The parties to an invoice and the legal details printed on it.

use crate::DatabaseError;
use serde::{Deserialize, Serialize};
use spleis_billing::bounds::{InputError, MAX_TEXT_CHARS, text};

/// The party key of the platform itself, the issuer of every invoice.
pub const PLATFORM_PARTY: &str = "@platform";

/// The longest address kept: a few lines of a postal address.
pub const MAX_ADDRESS_CHARS: usize = 500;

/// Legal details of a party to an invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartyDetails {
    /// The registered legal name.
    pub legal_name: String,
    /// The postal address, lines separated by newlines.
    pub address: String,
    /// A VAT or company number, may be empty.
    pub tax_id: String,
    /// Days from issue to due (meaningful for the issuer).
    pub payment_terms_days: u32,
}

impl PartyDetails {
    /// Checks every field's range; the message names the field.
    pub fn check(&self) -> Result<(), InputError> {
        text("the legal name", &self.legal_name, MAX_TEXT_CHARS)?;
        text("the address", &self.address, MAX_ADDRESS_CHARS)?;
        text("the tax id", &self.tax_id, 64)?;
        if self.payment_terms_days > 365 {
            return Err(InputError::OutOfRange {
                field: "the payment terms",
                value: i64::from(self.payment_terms_days),
                unit: "days",
                range: "0 to 365".into(),
            });
        }
        Ok(())
    }
}

/// Why legal details were refused.
#[derive(Debug, thiserror::Error)]
pub enum PartyError {
    /// A field is out of its range.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}
