//! The revenue split of one plugin in one period: the platform fee first,
//! then the investors' payback from the plugin's revenue, the rest to the
//! author — and the ledger transaction that books it, balanced to the cent.

use crate::payback::{
    BPS, Investor, PaybackError, PaybackState, Settlement, caps, is_paid_back, settle,
};
use serde::{Deserialize, Serialize};

/// What happens to the plugin's revenue once every investor is paid back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AfterPayback {
    /// The author keeps the plugin's revenue.
    AuthorKeeps,
    /// The plugin passes to the platform: its revenue goes to the platform.
    ToPlatform,
}

impl AfterPayback {
    /// Its name, as in JSON and the database: `author-keeps`, `to-platform`.
    pub fn as_str(self) -> &'static str {
        match self {
            AfterPayback::AuthorKeeps => "author-keeps",
            AfterPayback::ToPlatform => "to-platform",
        }
    }
}

impl std::fmt::Display for AfterPayback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not the name of an [`AfterPayback`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither author-keeps nor to-platform")]
pub struct UnknownAfterPayback(pub String);

impl std::str::FromStr for AfterPayback {
    type Err = UnknownAfterPayback;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [AfterPayback::AuthorKeeps, AfterPayback::ToPlatform]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAfterPayback(s.to_owned()))
    }
}

/// The agreement behind a plugin's revenue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// The platform's fee, basis points of what tenants were charged.
    pub platform_fee_bps: u32,
    /// The investors, ordered by funding time, then id (the tie-break).
    pub investors: Vec<Investor>,
    /// The investors' pool share, basis points of the plugin's revenue.
    pub investor_share_bps: u32,
    /// What happens after payback.
    pub after_payback: AfterPayback,
}

/// Who receives what, minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The platform fee plus whatever the pool could not pay (caps) and, after
    /// payback under [`AfterPayback::ToPlatform`], the plugin's revenue.
    pub platform: u64,
    /// The author's part.
    pub author: u64,
    /// Each investor's payout, in the agreement's order.
    pub investors: Vec<u64>,
    /// Whether every investor is paid back after this period.
    pub paid_back: bool,
}

/// The platform's fee on `charged`: `floor(charged × fee_bps / 10000)`;
/// a fee above 100% is refused.
pub fn platform_fee(charged: u64, fee_bps: u32) -> Result<u64, PaybackError> {
    if u64::from(fee_bps) > BPS {
        return Err(PaybackError::Share(fee_bps));
    }
    // ≤ charged, as fee_bps ≤ 10000.
    u64::try_from(u128::from(charged) * u128::from(fee_bps) / u128::from(BPS))
        .map_err(|_| PaybackError::Overflow("platform fee"))
}

/// Splits `charged` (what tenants were charged for the plugin this period).
/// The platform fee is `floor(charged × fee_bps / 10000)`; discounts the
/// platform grants are applied before, to `charged`'s tenants, and borne by
/// the platform, so `charged` here is the undiscounted amount.
pub fn split(
    charged: u64,
    agreement: &Agreement,
    state: &mut PaybackState,
) -> Result<Split, PaybackError> {
    let fee = platform_fee(charged, agreement.platform_fee_bps)?;
    let revenue = charged
        .checked_sub(fee)
        .ok_or(PaybackError::Overflow("platform fee"))?;
    let already_paid_back =
        !agreement.investors.is_empty() && is_paid_back(&state.paid, &caps(&agreement.investors)?);
    if already_paid_back && agreement.after_payback == AfterPayback::ToPlatform {
        return Ok(Split {
            platform: charged,
            author: 0,
            investors: vec![0; agreement.investors.len()],
            paid_back: true,
        });
    }
    let Settlement {
        payouts,
        to_platform,
        to_author,
        paid_back,
    } = settle(
        &agreement.investors,
        agreement.investor_share_bps,
        state,
        revenue,
    )?;
    Ok(Split {
        platform: fee
            .checked_add(to_platform)
            .ok_or(PaybackError::Overflow("platform's part"))?,
        author: to_author,
        investors: payouts,
        paid_back,
    })
}

/// An account of the ledger.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "id")]
pub enum LedgerAccount {
    /// What a tenant owes.
    TenantReceivable(String),
    /// A tenant's prepaid credit.
    Credit(String),
    /// The platform's revenue.
    PlatformRevenue,
    /// What is owed to an author.
    AuthorPayable(String),
    /// What is owed to an investor.
    InvestorPayable(String),
    /// A request's funding: invoiced to its funders, held until the
    /// request is delivered (keyed by the request's number).
    FundingHeld(String),
    /// What is owed to the builder of a delivered request.
    BuilderPayable(String),
}

impl LedgerAccount {
    /// Its kind and id as stored and as the server's JSON names them
    /// (`tenant-receivable`, `tenant-a`); the platform's revenue has no id.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            LedgerAccount::TenantReceivable(id) => ("tenant-receivable", id),
            LedgerAccount::Credit(id) => ("credit", id),
            LedgerAccount::PlatformRevenue => ("platform-revenue", ""),
            LedgerAccount::AuthorPayable(id) => ("author-payable", id),
            LedgerAccount::InvestorPayable(id) => ("investor-payable", id),
            LedgerAccount::FundingHeld(id) => ("funding-held", id),
            LedgerAccount::BuilderPayable(id) => ("builder-payable", id),
        }
    }

    /// The account of a kind and an id, as [`LedgerAccount::parts`] names
    /// them; `None` for a kind that is no ledger account.
    pub fn from_parts(kind: &str, id: String) -> Option<Self> {
        Some(match kind {
            "tenant-receivable" => LedgerAccount::TenantReceivable(id),
            "credit" => LedgerAccount::Credit(id),
            "platform-revenue" => LedgerAccount::PlatformRevenue,
            "author-payable" => LedgerAccount::AuthorPayable(id),
            "investor-payable" => LedgerAccount::InvestorPayable(id),
            "funding-held" => LedgerAccount::FundingHeld(id),
            "builder-payable" => LedgerAccount::BuilderPayable(id),
            _ => return None,
        })
    }
}

/// A balanced movement of money: entries sum to zero (debits positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// What it is for.
    pub memo: String,
    /// (account, signed minor units).
    pub entries: Vec<(LedgerAccount, i64)>,
}

/// Why a transaction was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The entries do not sum to zero.
    #[error("the transaction `{memo}` does not balance: it is off by {off} minor units")]
    Unbalanced {
        /// The memo.
        memo: String,
        /// The sum of its entries.
        off: i64,
    },
    /// An amount does not fit i64.
    #[error("an amount overflows")]
    Overflow,
}

impl Transaction {
    /// A transaction, refused unless it balances.
    pub fn new(
        memo: impl Into<String>,
        entries: Vec<(LedgerAccount, i64)>,
    ) -> Result<Self, LedgerError> {
        let memo = memo.into();
        let off = entries
            .iter()
            .try_fold(0_i64, |sum, (_, amount)| sum.checked_add(*amount))
            .ok_or(LedgerError::Overflow)?;
        if off != 0 {
            return Err(LedgerError::Unbalanced { memo, off });
        }
        Ok(Self { memo, entries })
    }
}

fn signed(amount: u64) -> Result<i64, LedgerError> {
    i64::try_from(amount).map_err(|_| LedgerError::Overflow)
}

/// Books one plugin's period: each paying tenant's receivable is debited
/// with what it was charged, and the platform, the author and the investors
/// are credited with their split. `charges` must sum to the split's total.
pub fn book(
    memo: &str,
    charges: &[(String, u64)],
    author: &str,
    investors: &[Investor],
    split: &Split,
) -> Result<Transaction, LedgerError> {
    let mut entries = Vec::new();
    for (tenant, amount) in charges {
        entries.push((
            LedgerAccount::TenantReceivable(tenant.clone()),
            signed(*amount)?,
        ));
    }
    entries.push((LedgerAccount::PlatformRevenue, -signed(split.platform)?));
    entries.push((
        LedgerAccount::AuthorPayable(author.to_owned()),
        -signed(split.author)?,
    ));
    for (investor, payout) in investors.iter().zip(&split.investors) {
        if *payout > 0 {
            entries.push((
                LedgerAccount::InvestorPayable(investor.id.clone()),
                -signed(*payout)?,
            ));
        }
    }
    entries.retain(|(_, amount)| *amount != 0);
    Transaction::new(memo, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_account_reads_back_from_its_parts() {
        for account in [
            LedgerAccount::TenantReceivable("t".into()),
            LedgerAccount::Credit("t".into()),
            LedgerAccount::PlatformRevenue,
            LedgerAccount::AuthorPayable("a".into()),
            LedgerAccount::InvestorPayable("i".into()),
        ] {
            let (kind, id) = account.parts();
            assert_eq!(
                LedgerAccount::from_parts(kind, id.to_owned()),
                Some(account)
            );
        }
        assert_eq!(LedgerAccount::from_parts("cash", "x".into()), None);
    }
    use proptest::prelude::*;

    #[test]
    fn after_payback_names_match_its_json() {
        for after in [AfterPayback::AuthorKeeps, AfterPayback::ToPlatform] {
            assert_eq!(after.as_str().parse(), Ok(after));
            assert_eq!(
                serde_json::to_value(after).unwrap(),
                serde_json::Value::String(after.to_string())
            );
        }
        assert!("keep".parse::<AfterPayback>().is_err());
    }

    fn agreement(after: AfterPayback) -> Agreement {
        Agreement {
            platform_fee_bps: 2000,
            investors: vec![Investor {
                id: "tenant-a".into(),
                principal: 1_000_000,
                return_bps: 1000,
            }],
            investor_share_bps: 3000,
            after_payback: after,
        }
    }

    #[test]
    fn fee_first_then_payback_then_author_and_the_ledger_balances() {
        // Tenants were charged EUR 5,000; the platform takes 20% (1,000);
        // the plugin's revenue is 4,000, of which 30% (1,200) pays back.
        let a = agreement(AfterPayback::ToPlatform);
        let mut state = PaybackState::default();
        let s = split(500_000, &a, &mut state).unwrap();
        assert_eq!(
            (s.platform, s.author, s.investors.clone()),
            (100_000, 280_000, vec![120_000])
        );
        let charges = vec![
            ("tenant-b".to_owned(), 300_000),
            ("tenant-c".to_owned(), 200_000),
        ];
        let tx = book(
            "examples/energy-tariff 2026-11",
            &charges,
            "examples",
            &a.investors,
            &s,
        )
        .unwrap();
        assert_eq!(tx.entries.iter().map(|(_, v)| v).sum::<i64>(), 0);
        // Months later, past payback, the plugin belongs to the platform.
        for _ in 0..10 {
            split(500_000, &a, &mut state).unwrap();
        }
        let after = split(500_000, &a, &mut state).unwrap();
        assert_eq!(
            (after.platform, after.author, after.paid_back),
            (500_000, 0, true)
        );
        let mut keeps = PaybackState {
            paid: state.paid.clone(),
            accrued: state.accrued,
        };
        let after = split(500_000, &agreement(AfterPayback::AuthorKeeps), &mut keeps).unwrap();
        assert_eq!((after.platform, after.author), (100_000, 400_000));
    }

    #[test]
    fn an_unbalanced_transaction_is_refused() {
        let err = Transaction::new(
            "x",
            vec![
                (LedgerAccount::PlatformRevenue, -5),
                (LedgerAccount::Credit("t".into()), 4),
            ],
        );
        assert_eq!(
            err,
            Err(LedgerError::Unbalanced {
                memo: "x".into(),
                off: -1
            })
        );
    }

    proptest! {
        #[test]
        fn what_tenants_are_charged_is_what_everyone_receives(
            months in proptest::collection::vec(0u64..50_000_000, 1..30),
            fee in 0u32..10_000,
            share in 0u32..10_000,
            principals in proptest::collection::vec(1u64..20_000_000, 0..4),
        ) {
            let a = Agreement {
                platform_fee_bps: fee,
                investors: principals.iter().enumerate().map(|(i, p)| Investor { id: format!("i{i}"), principal: *p, return_bps: 1000 }).collect(),
                investor_share_bps: share,
                after_payback: AfterPayback::ToPlatform,
            };
            let mut state = PaybackState::default();
            for charged in months {
                let s = split(charged, &a, &mut state).unwrap();
                prop_assert_eq!(s.platform + s.author + s.investors.iter().sum::<u64>(), charged);
                let tx = book("m", &[("t".to_owned(), charged)], "author", &a.investors, &s);
                prop_assert!(tx.is_ok());
            }
        }
    }
}
