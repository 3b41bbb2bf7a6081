//! # spleis-billing
//!
//! The money rules of spleis, pure: no I/O, no clock. Amounts are integers
//! in minor units with an ISO 4217 currency; unit prices are exact decimals
//! finer than a cent; every product is rounded once, by one rule
//! ([`money::round_to_minor`]); splits among parties use largest-remainder
//! allocation so the parts add up exactly; investor payback accrues exactly
//! and pays by cumulative flooring.
//!
//! Every rule that decides a figure lives here as a pure function: the
//! civil date of a day or an instant ([`calendar`]), the billing period of a
//! record and the order periods close in ([`period`]),
//! who bears the cost of a call ([`usage`]), what a plan may say
//! ([`rating`]), the ranges of values where they enter ([`bounds`]), the
//! close in steps with its totals and document numbers ([`close`]), and the
//! investor's projection of the open month ([`projection`]). The host reads
//! and writes rows around them.

pub mod allocate;
pub mod bounds;
pub mod calendar;
pub mod close;
pub mod cofunding;
pub mod commitments;
pub mod discounts;
pub mod money;
pub mod payback;
pub mod period;
pub mod projection;
pub mod rating;
mod schema;
pub mod split;
pub mod tiers;
pub mod usage;

pub use money::{Currency, Money, MoneyError};
