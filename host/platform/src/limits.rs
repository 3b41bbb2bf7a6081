//! Limits belong to the operator: the server's defaults, per-tenant
//! overrides the operator sets, and what a tenant sees of its own (its
//! limits and its current use). A tenant never raises its own.

use crate::access::Actor;
use crate::shares::ShareUse;
pub use crate::tenant_limits::{LimitDefaults, TenantLimits};
use crate::{Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::accounts::Role;
pub use spleis_domain::limits::LimitOverrides;
use utoipa::ToSchema;

/// The largest concurrency, rate or burst the operator may set: far above
/// what one node serves, low enough that no arithmetic on it overflows.
pub const MAX_CALL_LIMIT: u32 = 1_000_000;
/// The largest per-install storage quota the operator may set: 1 TiB.
pub const MAX_STORAGE_QUOTA: u64 = 1 << 40;
/// The largest fan-out the operator may set.
pub const MAX_FAN_OUT: u32 = 100_000;

/// A tenant's limits and what it uses of them now (on this node).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LimitsView {
    /// The tenant.
    pub tenant: String,
    /// The limits in force.
    pub limits: TenantLimits,
    /// What the operator set; the rest are the server's defaults.
    pub overrides: LimitOverrides,
    /// Current use on the node that answered.
    pub current: ShareUse,
}

/// Refuses overrides outside their ranges, naming the field.
fn validate(overrides: &LimitOverrides) -> Result<(), Error> {
    for (field, value) in [
        ("concurrency", overrides.concurrency),
        ("rate_per_second", overrides.rate_per_second),
        ("burst", overrides.burst),
    ] {
        if let Some(v) = value
            && !(1..=MAX_CALL_LIMIT).contains(&v)
        {
            return Err(Error::Invalid(format!(
                "`{field}` must be 1 to {MAX_CALL_LIMIT}, not {v}"
            )));
        }
    }
    if let Some(v) = overrides.fan_out
        && v > MAX_FAN_OUT
    {
        return Err(Error::Invalid(format!(
            "`fan_out` must be 0 to {MAX_FAN_OUT}, not {v}"
        )));
    }
    if let Some(v) = overrides.storage_quota_bytes
        && v > MAX_STORAGE_QUOTA
    {
        return Err(Error::Invalid(format!(
            "`storage_quota_bytes` must be 0 to {MAX_STORAGE_QUOTA} (1 TiB), not {v}"
        )));
    }
    Ok(())
}

impl Platform {
    /// The limits in force for `tenant` (overrides cached for the caches'
    /// TTL, forgotten on this node when the operator changes them).
    pub(crate) async fn limits_of(&self, tenant: &str) -> Result<TenantLimits, Error> {
        let overrides = self.overrides_of(tenant).await?;
        Ok(TenantLimits::resolve(&self.limit_defaults, &overrides))
    }

    async fn overrides_of(&self, tenant: &str) -> Result<LimitOverrides, Error> {
        let load = async { Ok::<_, Error>(self.store.limit_overrides(tenant).await?) };
        self.caches
            .limits
            .get_or_load(tenant.to_owned(), load)
            .await
    }

    /// The caller's own limits and current use (a tenant).
    pub async fn my_limits(&self, actor: &Actor) -> Result<LimitsView, Error> {
        let tenant = &actor.require(&[Role::Tenant])?.id;
        self.limits_view(tenant).await
    }

    /// A tenant's limits and current use (the operator).
    pub async fn tenant_limits(&self, actor: &Actor, tenant: &str) -> Result<LimitsView, Error> {
        actor.require(&[Role::Operator])?;
        self.tenant_account(tenant).await?;
        self.limits_view(tenant).await
    }

    /// The operator replaces a tenant's overrides (`None` fields take the
    /// server's defaults); the new limits apply on this node at once and on
    /// others within the caches' TTL.
    pub async fn set_tenant_limits(
        &self,
        actor: &Actor,
        tenant: &str,
        overrides: &LimitOverrides,
    ) -> Result<LimitsView, Error> {
        actor.require(&[Role::Operator])?;
        validate(overrides)?;
        self.tenant_account(tenant).await?;
        self.store.set_limit_overrides(tenant, overrides).await?;
        self.caches.limits.forget(|t| t == tenant);
        self.limits_view(tenant).await
    }

    async fn limits_view(&self, tenant: &str) -> Result<LimitsView, Error> {
        let overrides = self.overrides_of(tenant).await?;
        Ok(LimitsView {
            tenant: tenant.to_owned(),
            limits: TenantLimits::resolve(&self.limit_defaults, &overrides),
            overrides,
            current: self.shares.usage_of(tenant),
        })
    }

    /// The tenant account `id`, or not found.
    async fn tenant_account(&self, id: &str) -> Result<(), Error> {
        match self.store.account(id).await? {
            Some(account) if account.role == Role::Tenant => Ok(()),
            _ => Err(Error::NotFound(format!("no tenant `{id}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_overrides_are_refused_naming_the_field() {
        let zero = LimitOverrides {
            concurrency: Some(0),
            ..LimitOverrides::default()
        };
        assert!(
            validate(&zero)
                .unwrap_err()
                .to_string()
                .contains("`concurrency`")
        );
        let huge = LimitOverrides {
            storage_quota_bytes: Some(u64::MAX),
            ..LimitOverrides::default()
        };
        assert!(
            validate(&huge)
                .unwrap_err()
                .to_string()
                .contains("`storage_quota_bytes` must be 0 to 1099511627776")
        );
        assert!(validate(&LimitOverrides::default()).is_ok());
    }
}
