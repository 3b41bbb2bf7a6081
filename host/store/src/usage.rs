//! Usage records: one row per call, written in batches.

use super::{Store, StoreError, now_ms};
use spleis_billing::calendar::Date;
use spleis_billing::discounts::Period;
use spleis_billing::period::{DAY_MS, billing_period};
use spleis_domain::UsageRow;
use spleis_domain::billing::DayCalls;
use spleis_domain::{MAX_REPORT_QUANTITY, MeterReport};
use spleis_domain::{OutcomeKind, Usage};
use sqlx::Row;

/// Where an Idempotency-Key stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// This request claimed it: run the call, then complete or release.
    Claimed,
    /// Another request holds it and is running.
    InProgress {
        /// The fingerprint of that request.
        fingerprint: String,
    },
    /// Its call finished; the stored answer.
    Done {
        /// The fingerprint of that request.
        fingerprint: String,
        /// The stored answer (JSON).
        answer: String,
    },
}

impl Store {
    /// Writes `rows` in one transaction; a row whose (tenant, id) exists is
    /// skipped, so writing a batch twice stores it once. Returns rows added.
    pub async fn insert_usage(&self, rows: &[UsageRow]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let last_closed = self.lock_periods_shared(&mut tx).await?;
        let added = insert_rows(self, &mut tx, rows, last_closed).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Claims `key` for the tenant's call before it runs: a new key (or a
    /// pending claim older than `stale_before_ms`, whose runner died) is
    /// claimed under `claim`; otherwise the key's state is returned. One
    /// statement decides, so of requests racing with one key exactly one
    /// claims it, on one node or many.
    pub async fn claim_idempotency(
        &self,
        tenant: &str,
        key: &str,
        fingerprint: &str,
        claim: &str,
        stale_before_ms: i64,
    ) -> Result<KeyState, StoreError> {
        // A claim released between the insert and the read is claimed again.
        for _ in 0..3 {
            let claimed = sqlx::query(
                "INSERT INTO idempotent_calls (tenant, key, fingerprint, answer, created_at, state, claim) \
                 VALUES ($1, $2, $3, '', $4, 'pending', $5) \
                 ON CONFLICT (tenant, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 created_at = excluded.created_at, claim = excluded.claim \
                 WHERE idempotent_calls.state = 'pending' AND idempotent_calls.created_at < $6",
            )
            .bind(tenant)
            .bind(key)
            .bind(fingerprint)
            .bind(now_ms())
            .bind(claim)
            .bind(stale_before_ms)
            .execute(self.pool())
            .await?;
            if claimed.rows_affected() == 1 {
                return Ok(KeyState::Claimed);
            }
            if let Some(state) = self.key_state(tenant, key).await? {
                return Ok(state);
            }
        }
        Err(StoreError::corrupt(format!(
            "the Idempotency-Key `{key}` was claimed and released three times in a row"
        )))
    }

    /// Releases a claim whose call did not complete (a host error): the
    /// key may be used again. Only the claim's own pending row goes.
    pub async fn release_idempotency(
        &self,
        tenant: &str,
        key: &str,
        claim: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotent_calls WHERE tenant = $1 AND key = $2 AND claim = $3 AND state = 'pending'",
        )
        .bind(tenant)
        .bind(key)
        .bind(claim)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Completes the claim of a keyed call: its answer and usage record in
    /// one transaction. `false` (nothing written) when the claim is no
    /// longer this one's (it went stale and another request took it).
    pub async fn complete_idempotency(
        &self,
        key: &str,
        claim: &str,
        answer: &str,
        row: &UsageRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let last_closed = self.lock_periods_shared(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE idempotent_calls SET answer = $1, state = 'done' \
             WHERE tenant = $2 AND key = $3 AND claim = $4 AND state = 'pending'",
        )
        .bind(answer)
        .bind(&row.usage.tenant)
        .bind(key)
        .bind(claim)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        insert_rows(self, &mut tx, std::slice::from_ref(row), last_closed).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The state of the tenant's `key`, if it was ever claimed.
    pub async fn key_state(&self, tenant: &str, key: &str) -> Result<Option<KeyState>, StoreError> {
        let row = sqlx::query(
            "SELECT fingerprint, answer, state FROM idempotent_calls WHERE tenant = $1 AND key = $2",
        )
        .bind(tenant)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let fingerprint: String = row.try_get("fingerprint")?;
        let state: String = row.try_get("state")?;
        Ok(Some(match state.as_str() {
            "pending" => KeyState::InProgress { fingerprint },
            "done" => KeyState::Done {
                fingerprint,
                answer: row.try_get("answer")?,
            },
            other => {
                return Err(StoreError::corrupt(format!(
                    "idempotent_calls ({tenant}, {key}): state `{other}`"
                )));
            }
        }))
    }

    /// Notes on a call's record how many of the deliveries it set off were
    /// dropped by the fan-out budget; whether the record was there.
    pub async fn set_deliveries_dropped(
        &self,
        tenant: &str,
        id: &str,
        dropped: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE usage_records SET deliveries_dropped = $1 WHERE tenant = $2 AND id = $3",
        )
        .bind(saturating(dropped))
        .bind(tenant)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The tenant's usage records, newest first, at most `limit`.
    pub async fn usage_of_tenant(
        &self,
        tenant: &str,
        limit: u32,
    ) -> Result<Vec<UsageRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, id, plugin, version, digest, operation, fuel, wall_time_us, host_time_us, peak_memory, outcome, \
             units, idempotency_key, recorded_at, deliveries_dropped FROM usage_records WHERE tenant = $1 ORDER BY recorded_at DESC, id LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(usage_from_row).collect()
    }

    /// Calls billed in `period`, by the UTC day they were recorded, tenant
    /// and plugin; of `tenant` only when named.
    pub async fn calls_by_day(
        &self,
        period: Period,
        tenant: Option<&str>,
    ) -> Result<Vec<DayCalls>, StoreError> {
        let tenant = tenant.unwrap_or("");
        let rows = sqlx::query(
            "SELECT CAST(recorded_at / $1 AS BIGINT) AS day, tenant, plugin, \
             CAST(COUNT(*) AS BIGINT) AS calls, \
             CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS failed \
             FROM usage_records WHERE period = $2 AND ($3 = '' OR tenant = $4) \
             GROUP BY CAST(recorded_at / $5 AS BIGINT), tenant, plugin ORDER BY day, tenant, plugin",
        )
        .bind(DAY_MS)
        .bind(period.to_string())
        .bind(tenant)
        .bind(tenant)
        .bind(DAY_MS)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DayCalls {
                    day: Date::from_days(row.try_get("day")?).to_string(),
                    tenant: row.try_get("tenant")?,
                    plugin: row.try_get("plugin")?,
                    calls: row.try_get("calls")?,
                    failed: row.try_get("failed")?,
                })
            })
            .collect()
    }
}

/// Rows per INSERT statement: one round trip for many records, well under
/// both backends' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 50;
const COLUMNS: usize = 15;

async fn insert_rows(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[UsageRow],
    last_closed: Option<Period>,
) -> Result<u64, StoreError> {
    let now = now_ms();
    let recorded_at = |row: &UsageRow| {
        if row.recorded_at > 0 {
            row.recorded_at
        } else {
            now
        }
    };
    let mut added = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO usage_records (tenant, id, plugin, version, digest, operation, fuel, wall_time_us, \
             host_time_us, peak_memory, outcome, units, idempotency_key, recorded_at, period) VALUES {} ON CONFLICT (tenant, id) DO NOTHING",
            store.values_list(chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            let units = serde_json::to_string(&row.usage.units)
                .map_err(|e| StoreError::corrupt(format!("cannot encode units: {e}")))?;
            query = query
                .bind(row.usage.tenant.clone())
                .bind(row.id.clone())
                .bind(row.usage.plugin.clone())
                .bind(row.version.clone())
                .bind(row.usage.digest.clone())
                .bind(row.usage.operation.clone())
                .bind(saturating(row.usage.fuel_consumed))
                .bind(saturating(row.usage.wall_time_us))
                .bind(saturating(row.usage.host_time_us))
                .bind(saturating(row.usage.peak_memory_bytes))
                .bind(row.usage.outcome.as_str())
                .bind(units)
                .bind(row.idempotency_key.clone())
                .bind(recorded_at(row))
                .bind(billing_period(recorded_at(row), last_closed).to_string());
        }
        added += query.execute(&mut **tx).await?.rows_affected();
    }
    insert_units(store, tx, rows, |row| {
        billing_period(recorded_at(row), last_closed)
    })
    .await?;
    Ok(added)
}

/// A measurement as stored: the columns are signed, and a figure past
/// `i64::MAX` (none is, in practice) keeps its magnitude instead of wrapping.
fn saturating(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A report's quantity as stored: at most [`MAX_REPORT_QUANTITY`], never
/// saturated (units saturated to `i64::MAX` made the close's `SUM`
/// overflow). The runtime refuses larger reports, so one here is a bug.
fn stored_quantity(unit: &MeterReport) -> Result<i64, StoreError> {
    i64::try_from(unit.quantity)
        .ok()
        .filter(|_| unit.quantity <= MAX_REPORT_QUANTITY)
        .ok_or_else(|| {
            StoreError::corrupt(format!(
                "a report of {} units of `{}` is above the most a call may report ({MAX_REPORT_QUANTITY})",
                unit.quantity, unit.metric
            ))
        })
}

/// The billable metric units of the successful calls among `rows`, one row
/// per report; a report already stored is skipped, like its record.
async fn insert_units(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[UsageRow],
    period: impl Fn(&UsageRow) -> Period,
) -> Result<(), StoreError> {
    const UNIT_COLUMNS: usize = 7;
    let units: Vec<(&UsageRow, &MeterReport)> = rows
        .iter()
        .filter(|row| row.usage.outcome == OutcomeKind::Ok)
        .flat_map(|row| row.usage.units.iter().map(move |unit| (row, unit)))
        .collect();
    for chunk in units.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO usage_units (tenant, id, period, plugin, metric, unit_key, quantity) VALUES {} \
             ON CONFLICT (tenant, id, metric, unit_key) DO NOTHING",
            store.values_list(chunk.len(), UNIT_COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for (row, unit) in chunk {
            query = query
                .bind(row.usage.tenant.clone())
                .bind(row.id.clone())
                .bind(period(row).to_string())
                .bind(row.usage.plugin.clone())
                .bind(unit.metric.clone())
                .bind(unit.key.clone().unwrap_or_default())
                .bind(stored_quantity(unit)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn usage_from_row(row: &sqlx::any::AnyRow) -> Result<UsageRow, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::corrupt(format!("usage_records row `{id}`, column `{what}`: {e}"))
    };
    let count = |column: &str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column)?;
        u64::try_from(value).map_err(|e| corrupt(column, &e))
    };
    let outcome: String = row.try_get("outcome")?;
    let units: String = row.try_get("units")?;
    Ok(UsageRow {
        version: row.try_get("version")?,
        usage: Usage {
            tenant: row.try_get("tenant")?,
            plugin: row.try_get("plugin")?,
            digest: row.try_get("digest")?,
            operation: row.try_get("operation")?,
            fuel_consumed: count("fuel")?,
            wall_time_us: count("wall_time_us")?,
            host_time_us: count("host_time_us")?,
            deliveries_dropped: count("deliveries_dropped")?,
            peak_memory_bytes: count("peak_memory")?,
            outcome: outcome
                .parse::<OutcomeKind>()
                .map_err(|e| corrupt("outcome", &e))?,
            units: serde_json::from_str(&units).map_err(|e| corrupt("units", &e))?,
        },
        id,
        idempotency_key: row.try_get("idempotency_key")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn row(tenant: &str, id: &str, at: i64) -> UsageRow {
        UsageRow {
            id: id.into(),
            version: "1.0.0".into(),
            usage: Usage {
                tenant: tenant.into(),
                plugin: "acme/p".into(),
                digest: "sha256:00".into(),
                operation: "quote".into(),
                fuel_consumed: 1234,
                wall_time_us: 56,
                host_time_us: 0,
                peak_memory_bytes: 1 << 20,
                outcome: OutcomeKind::OutOfFuel,
                deliveries_dropped: 0,
                units: vec![MeterReport {
                    metric: "active-contract".into(),
                    quantity: 1,
                    key: Some("C-1".into()),
                }],
            },
            idempotency_key: Some("k".into()),
            recorded_at: at,
        }
    }

    #[tokio::test]
    async fn a_batch_written_twice_is_stored_once_and_reads_back_exactly() {
        for (store, _guard) in testing::all().await {
            let batch = [row("a", "t1", 10), row("a", "t2", 20), row("b", "t1", 30)];
            assert_eq!(store.insert_usage(&batch).await.unwrap(), 3);
            assert_eq!(store.insert_usage(&batch).await.unwrap(), 0);
            let a = store.usage_of_tenant("a", 10).await.unwrap();
            assert_eq!(a, vec![batch[1].clone(), batch[0].clone()]);
            assert_eq!(store.usage_of_tenant("b", 10).await.unwrap().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_tampered_record_is_corrupt_naming_its_row_and_column() {
        for (store, _guard) in testing::all().await {
            store.insert_usage(&[row("a", "t1", 10)]).await.unwrap();
            for (column, value) in [("outcome", "'exploded'"), ("fuel", "-1")] {
                sqlx::query(&format!(
                    "UPDATE usage_records SET {column} = {value} WHERE id = 't1'"
                ))
                .execute(store.pool())
                .await
                .unwrap();
                let error = store.usage_of_tenant("a", 10).await.unwrap_err();
                assert!(
                    error
                        .to_string()
                        .contains(&format!("row `t1`, column `{column}`")),
                    "{error}"
                );
                sqlx::query(
                    "UPDATE usage_records SET outcome = 'out-of-fuel', fuel = 1 WHERE id = 't1'",
                )
                .execute(store.pool())
                .await
                .unwrap();
            }
        }
    }
}
