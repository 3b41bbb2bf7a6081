//! The operator's per-tenant overrides of the server's default limits.

use super::{Store, StoreError, now_ms};
use spleis_domain::limits::LimitOverrides;
use sqlx::Row;

const COLUMNS: &str = "concurrency, rate_per_second, burst, storage_quota_bytes, fan_out";

impl Store {
    /// The overrides set for `tenant` (all `None` if none were).
    pub async fn limit_overrides(&self, tenant: &str) -> Result<LimitOverrides, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tenant_limits WHERE tenant = $1"
        ))
        .bind(tenant)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(LimitOverrides::default());
        };
        let column = |name: &str| -> Result<Option<u64>, StoreError> {
            let value: Option<i64> = row.try_get(name)?;
            value
                .map(|v| {
                    u64::try_from(v).map_err(|e| {
                        StoreError::corrupt(format!(
                            "tenant_limits row `{tenant}`, column `{name}`: {e}"
                        ))
                    })
                })
                .transpose()
        };
        let small = |name: &str| -> Result<Option<u32>, StoreError> {
            column(name)?
                .map(|v| {
                    u32::try_from(v).map_err(|e| {
                        StoreError::corrupt(format!(
                            "tenant_limits row `{tenant}`, column `{name}`: {e}"
                        ))
                    })
                })
                .transpose()
        };
        Ok(LimitOverrides {
            concurrency: small("concurrency")?,
            rate_per_second: small("rate_per_second")?,
            burst: small("burst")?,
            storage_quota_bytes: column("storage_quota_bytes")?,
            fan_out: small("fan_out")?,
        })
    }

    /// Replaces the overrides of `tenant` (validated by the caller).
    pub async fn set_limit_overrides(
        &self,
        tenant: &str,
        overrides: &LimitOverrides,
    ) -> Result<(), StoreError> {
        let big = |v: Option<u64>| v.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        sqlx::query(&format!(
            "INSERT INTO tenant_limits (tenant, {COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant) DO UPDATE SET concurrency = excluded.concurrency, \
             rate_per_second = excluded.rate_per_second, burst = excluded.burst, \
             storage_quota_bytes = excluded.storage_quota_bytes, fan_out = excluded.fan_out, \
             updated_at = excluded.updated_at"
        ))
        .bind(tenant)
        .bind(overrides.concurrency.map(i64::from))
        .bind(overrides.rate_per_second.map(i64::from))
        .bind(overrides.burst.map(i64::from))
        .bind(big(overrides.storage_quota_bytes))
        .bind(overrides.fan_out.map(i64::from))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[tokio::test]
    async fn overrides_round_trip_and_default_to_none() {
        for (store, _guard) in testing::all().await {
            assert_eq!(
                store.limit_overrides("t").await.unwrap(),
                LimitOverrides::default()
            );
            let set = LimitOverrides {
                concurrency: Some(3),
                storage_quota_bytes: Some(1 << 40),
                ..LimitOverrides::default()
            };
            store.set_limit_overrides("t", &set).await.unwrap();
            assert_eq!(store.limit_overrides("t").await.unwrap(), set);
            store
                .set_limit_overrides("t", &LimitOverrides::default())
                .await
                .unwrap();
            assert_eq!(
                store.limit_overrides("t").await.unwrap(),
                LimitOverrides::default()
            );
        }
    }
}
