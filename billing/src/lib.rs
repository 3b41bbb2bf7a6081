//! # spleis-billing
//!
//! The money rules of spleis, pure: no I/O, no clock. Amounts are integers
//! in minor units with an ISO 4217 currency; unit prices are exact decimals
//! finer than a cent; every product is rounded once, by one rule
//! ([`money::round_to_minor`]); splits among parties use largest-remainder
//! allocation so the parts add up exactly; investor payback accrues exactly
//! and pays by cumulative flooring.
//!
//! Started with issue 4; rating, plans, the ledger and co-funding build on
//! these pieces.

pub mod allocate;
pub mod close;
pub mod cofunding;
pub mod discounts;
pub mod money;
pub mod payback;
pub mod rating;
mod schema;
pub mod split;
pub mod tiers;

pub use money::{Currency, Money, MoneyError};
