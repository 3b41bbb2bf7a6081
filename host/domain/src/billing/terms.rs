//! The terms money follows: the platform's settings, a plugin's plans and
//! agreement, a tenant's commitments, and the lines voided for a period.

use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::close::Void;
use spleis_billing::commitments::Commitment;
use spleis_billing::period::{Period, billing_period};
use spleis_billing::rating::PricePlan;
use spleis_billing::split::AfterPayback;

/// A plugin's revenue agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementRecord {
    /// The package.
    pub package: String,
    /// Who receives the author's part.
    pub author: String,
    /// The platform's fee, basis points of what tenants are charged.
    pub platform_fee_bps: u32,
    /// The investors' pool, basis points of the plugin's revenue.
    pub investor_share_bps: u32,
    /// What happens after payback.
    pub after_payback: AfterPayback,
    /// Payback accrual so far (1/10000 minor units).
    #[serde(skip)]
    pub accrued: u128,
    /// Whether an operator set it (otherwise the defaults apply).
    pub explicit: bool,
}

/// A plan as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanRecord {
    /// The package.
    pub package: String,
    /// 1, 2, … per package.
    pub seq: i64,
    /// The first period it applies to.
    pub effective_from: Period,
    /// The plan.
    pub plan: PricePlan,
    /// Who set it.
    pub created_by: String,
}

impl PlanRecord {
    /// The name invoices show.
    pub fn id(&self) -> String {
        plan_id(&self.package, self.seq)
    }
}

/// The name a plan has on invoices: `acme/tariff plan 2`.
pub fn plan_id(package: &str, seq: i64) -> String {
    format!("{package} plan {seq}")
}

/// The platform's billing settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BillingSettings {
    /// What every plan and invoice is in.
    pub currency: Currency,
    /// The platform fee for plugins without an agreement, basis points.
    pub platform_fee_bps: u32,
    /// The last closed period.
    pub last_closed: Option<Period>,
    /// The period a close is under way for (or failed midway and awaits
    /// closing again): no usage, credit or plan enters it any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<Period>,
}

impl BillingSettings {
    /// The first period still open at `now_ms`: usage recorded now lands here.
    pub fn open_period(&self, now_ms: i64) -> Period {
        billing_period(now_ms, self.last_closed.max(self.closing))
    }

    /// The first period not closed: one a failed close left `closing`, else
    /// the one after the last closed (`None` before any close). Corrections
    /// and voids may reach back to it, never further.
    pub fn first_unclosed(&self) -> Option<Period> {
        match (self.closing, self.last_closed) {
            (Some(closing), _) => Some(closing),
            (None, Some(closed)) => Some(closed.next()),
            (None, None) => None,
        }
    }
}

/// A tenant's commitment as stored, with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitmentRecord {
    /// Its id, `com-…`.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// What, from when, until when.
    #[serde(flatten)]
    pub commitment: Commitment,
}

/// A void as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VoidRecord {
    /// The period it applies to.
    pub period: Period,
    /// Whose line, of which plugin, and why.
    #[serde(flatten)]
    pub void: Void,
    /// The operator who voided it.
    pub created_by: String,
    /// When (unix ms).
    pub created_at: i64,
}
