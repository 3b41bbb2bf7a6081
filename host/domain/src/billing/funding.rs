//! Funding: co-funding campaigns and their pledges, and investments.

use super::{BillingError, Corrupt};
use serde::{Deserialize, Serialize};
use spleis_billing::Money;
use spleis_billing::cofunding::{self, Pledge};
use spleis_billing::payback::Investor;

type Result<T> = std::result::Result<T, BillingError>;

/// A co-funding campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignRecord {
    /// Its id.
    pub id: String,
    /// The plugin the feature is for; for a request's funding, the plugin
    /// that delivered it (none until then).
    pub package: Option<String>,
    /// The request it funds, if it funds one.
    #[serde(default)]
    pub request: Option<i64>,
    /// What is funded.
    pub title: String,
    /// The goal, minor units of the platform currency.
    pub goal: i64,
    /// Unix ms; pledges after it do not count.
    pub deadline: i64,
    /// Return for investors, basis points.
    pub return_bps: u32,
    /// `open`, `funded` or `lapsed`.
    pub status: String,
    /// When its goal was reached (a request's funding), Unix ms.
    #[serde(default)]
    pub funded_at: Option<i64>,
    /// Pledged so far.
    pub pledged: i64,
    /// How many tenants pledged.
    #[serde(default)]
    pub pledge_count: u32,
    /// The pledges, by time: all of them for the operator and the plugin's
    /// owners, a tenant's own for a tenant.
    pub pledges: Vec<PledgeRecord>,
}

/// A pledge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PledgeRecord {
    /// Who.
    pub tenant: String,
    /// Minor units.
    pub amount: i64,
    /// When (unix ms).
    pub at: i64,
}

impl CampaignRecord {
    /// What it funds, in words: its plugin, or the request it funds (and
    /// the plugin that delivered it).
    pub fn funds(&self) -> String {
        match (&self.package, self.request) {
            (Some(package), Some(request)) => format!("request #{request} ({package})"),
            (None, Some(request)) => format!("request #{request}"),
            (Some(package), None) => package.clone(),
            (None, None) => String::new(),
        }
    }

    /// The campaign as co-funding sees it, in the platform's currency.
    pub fn pure(&self, currency: spleis_billing::Currency) -> Result<cofunding::Campaign> {
        let pledges = self
            .pledges
            .iter()
            .map(|p| {
                // Amounts were checked positive when read.
                let amount =
                    u64::try_from(p.amount).map_err(|_| BillingError::Overflow("a pledge"))?;
                Ok(Pledge {
                    tenant: p.tenant.clone(),
                    amount,
                    at: p.at,
                })
            })
            .collect::<Result<_>>()?;
        Ok(cofunding::Campaign {
            goal: Money::new(self.goal, currency),
            deadline: self.deadline,
            return_bps: self.return_bps,
            pledges,
        })
    }
}

/// An investment in a plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvestmentRecord {
    /// Its id.
    pub id: String,
    /// The plugin.
    pub package: String,
    /// The investing tenant.
    pub investor: String,
    /// Minor units invested.
    pub principal: i64,
    /// The return on top, basis points.
    pub return_bps: u32,
    /// Principal plus return: what it receives in all.
    pub cap: i64,
    /// Received so far (closed periods).
    pub paid: i64,
    /// The campaign it came from.
    pub campaign: Option<String>,
    /// When it was funded (unix ms): the payback tie-break.
    pub funded_at: i64,
}

impl InvestmentRecord {
    /// The investment as payback sees it, and what it was paid so far.
    pub fn payback(&self) -> Result<(Investor, u64)> {
        let unsigned = |column, value: i64| {
            u64::try_from(value)
                .map_err(|_| Corrupt::at("investments", &self.id, column, format!("{value} < 0")))
        };
        Ok((
            Investor {
                id: self.id.clone(),
                principal: unsigned("principal", self.principal)?,
                return_bps: self.return_bps,
            },
            unsigned("paid", self.paid)?,
        ))
    }
}
