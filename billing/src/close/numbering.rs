//! Document numbers: invoices, statements and the close's ledger
//! transactions are numbered per period, in the close's order, so the same
//! close always gives the same numbers.

use crate::period::Period;

/// The period without its dash: `202611`.
pub fn compact(period: Period) -> String {
    format!("{:04}{:02}", period.year, period.month)
}

/// The `seq`-th invoice (from 1) of `period`: `INV-202611-0001`.
pub fn invoice_number(period: Period, seq: usize) -> String {
    format!("INV-{}-{seq:04}", compact(period))
}

/// The `seq`-th statement (from 1) of `period`: `ST-202611-0001`.
pub fn statement_number(period: Period, seq: usize) -> String {
    format!("ST-{}-{seq:04}", compact(period))
}

/// The id of the `seq`-th ledger transaction (from 1) of the close of
/// `period`: `close-2026-11-00001`.
pub fn transaction_id(period: Period, seq: usize) -> String {
    format!("close-{period}-{seq:05}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_name_the_period_and_the_place() {
        let nov: Period = "2026-11".parse().unwrap();
        assert_eq!(invoice_number(nov, 1), "INV-202611-0001");
        assert_eq!(statement_number(nov, 12), "ST-202611-0012");
        assert_eq!(transaction_id(nov, 3), "close-2026-11-00003");
        assert_eq!(invoice_number(nov, 12_345), "INV-202611-12345");
    }

    proptest! {
        #[test]
        fn numbers_are_unique_and_sort_in_close_order(
            (y1, m1, y2, m2) in (2000u16..2100, 1u8..=12, 2000u16..2100, 1u8..=12),
            a in 1usize..10_000,
            b in 1usize..10_000,
        ) {
            let (p, q) = (Period { year: y1, month: m1 }, Period { year: y2, month: m2 });
            prop_assert_eq!(invoice_number(p, a) == invoice_number(q, b), p == q && a == b);
            prop_assert_eq!(statement_number(p, a) == statement_number(q, b), p == q && a == b);
            prop_assert_eq!(transaction_id(p, a) == transaction_id(q, b), p == q && a == b);
            prop_assert_eq!(invoice_number(p, a).cmp(&invoice_number(q, b)), (p, a).cmp(&(q, b)));
        }
    }
}
