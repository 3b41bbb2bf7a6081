//! The OpenAPI schemas of the types whose serde form is text (a currency is
//! `"EUR"`, a period `"2026-11"`), not the struct behind it. The other
//! types derive `utoipa::ToSchema` where they are defined.

use crate::Currency;
use crate::discounts::Period;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// A string schema with a description, a pattern and an example.
fn text(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

impl utoipa::PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        text("An ISO 4217 currency code", "^[A-Z]{3}$", "EUR")
    }
}

impl utoipa::ToSchema for Currency {}

impl utoipa::PartialSchema for Period {
    fn schema() -> RefOr<Schema> {
        text(
            "A billing period: a calendar month, YYYY-MM",
            "^[0-9]{4}-(0[1-9]|1[0-2])$",
            "2026-11",
        )
    }
}

impl utoipa::ToSchema for Period {}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn currencies_and_periods_are_text_in_the_api() {
        for schema in [Currency::schema(), Period::schema()] {
            let json = serde_json::to_value(schema).unwrap();
            assert_eq!(json["type"], "string", "{json}");
        }
    }
}
