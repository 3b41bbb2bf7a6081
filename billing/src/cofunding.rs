//! Co-funding: tenants pledge toward a feature; if the goal is met by the
//! deadline the pledges become investments, each paid back in proportion to
//! what it put in; otherwise they lapse and nothing is charged.

use crate::money::{Currency, Money, MoneyError};
use crate::payback::Investor;
use serde::{Deserialize, Serialize};

/// A pledge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    /// The pledging tenant.
    pub tenant: String,
    /// Minor units.
    pub amount: u64,
    /// When it was made (unix ms): the payback tie-break.
    pub at: i64,
}

/// A campaign for a feature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    /// The goal, in the campaign's currency.
    pub goal: Money,
    /// The deadline (unix ms); pledges after it do not count.
    pub deadline: i64,
    /// The return investors get on top, basis points.
    pub return_bps: u32,
    /// The pledges.
    pub pledges: Vec<Pledge>,
}

/// How a campaign ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The goal was met: these investments, ordered by pledge time then tenant.
    Funded(Vec<Investor>),
    /// It was not: every pledge lapses, nothing is charged.
    Lapsed {
        /// What was pledged in time.
        pledged: Money,
    },
}

/// Closes `campaign` at its deadline.
pub fn close(campaign: &Campaign) -> Result<Outcome, MoneyError> {
    let currency: Currency = campaign.goal.currency;
    let mut valid: Vec<&Pledge> = campaign
        .pledges
        .iter()
        .filter(|p| p.at <= campaign.deadline && p.amount > 0)
        .collect();
    let total = valid.iter().try_fold(Money::zero(currency), |sum, p| {
        sum.checked_add(Money::new(
            i64::try_from(p.amount).map_err(|_| MoneyError::Overflow)?,
            currency,
        ))
    })?;
    if total.minor < campaign.goal.minor {
        return Ok(Outcome::Lapsed { pledged: total });
    }
    valid.sort_by(|a, b| a.at.cmp(&b.at).then(a.tenant.cmp(&b.tenant)));
    Ok(Outcome::Funded(
        valid
            .into_iter()
            .map(|p| Investor {
                id: p.tenant.clone(),
                principal: p.amount,
                return_bps: campaign.return_bps,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payback::{PaybackState, settle};

    fn campaign(pledges: &[(&str, u64, i64)]) -> Campaign {
        Campaign {
            goal: Money::new(1_000_000, Currency::new("EUR").unwrap()),
            deadline: 100,
            return_bps: 1000,
            pledges: pledges
                .iter()
                .map(|(t, a, at)| Pledge {
                    tenant: (*t).into(),
                    amount: *a,
                    at: *at,
                })
                .collect(),
        }
    }

    #[test]
    fn three_uneven_pledges_are_paid_back_in_parts_that_sum_exactly() {
        let Outcome::Funded(investors) = close(&campaign(&[
            ("b", 333_333, 2),
            ("a", 500_000, 1),
            ("c", 166_667, 3),
        ]))
        .unwrap() else {
            panic!("funded");
        };
        assert_eq!(
            investors.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        let mut state = PaybackState::default();
        let mut total = 0;
        for _ in 0..200 {
            let s = settle(&investors, 2500, &mut state, 123_457).unwrap();
            let paid: u64 = s.payouts.iter().sum();
            assert_eq!(paid + s.to_platform + s.to_author, 123_457);
            total += paid;
        }
        // Everyone is paid back exactly: principal plus 10%, floored for the
        // pool (366,666.3 + 183,333.7 = 550,000; the unit goes to the larger
        // remainder), so the EUR 10,000 pool is owed EUR 11,000.
        assert_eq!(state.paid, [550_000, 366_666, 183_334]);
        assert_eq!(total, 1_100_000);
    }

    #[test]
    fn a_campaign_short_of_its_goal_lapses_and_late_pledges_do_not_count() {
        let outcome = close(&campaign(&[("a", 600_000, 1), ("b", 500_000, 101)])).unwrap();
        assert_eq!(
            outcome,
            Outcome::Lapsed {
                pledged: Money::new(600_000, Currency::new("EUR").unwrap())
            }
        );
    }
}
