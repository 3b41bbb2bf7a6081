//! The record of event deliveries.

use super::{Store, StoreError, now_ms};
use spleis_domain::events::Delivery;
use sqlx::Row;

impl Store {
    /// Records a delivery; a repeated (event, package) pair is kept once.
    pub async fn record_delivery(
        &self,
        tenant: &str,
        delivery: &Delivery,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO event_deliveries (tenant, event_id, topic, package, depth, outcome, message, delivered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant, event_id, package) DO NOTHING",
        )
        .bind(tenant)
        .bind(&delivery.event_id)
        .bind(&delivery.topic)
        .bind(&delivery.package)
        .bind(i64::from(delivery.depth))
        .bind(&delivery.outcome)
        .bind(&delivery.message)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The tenant's deliveries of `event_id`.
    pub async fn deliveries(
        &self,
        tenant: &str,
        event_id: &str,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, topic, package, depth, outcome, message FROM event_deliveries \
             WHERE tenant = $1 AND event_id = $2 ORDER BY package",
        )
        .bind(tenant)
        .bind(event_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    event_id: r.try_get("event_id")?,
                    topic: r.try_get("topic")?,
                    package: r.try_get("package")?,
                    depth: r.try_get::<i64, _>("depth")? as u32,
                    outcome: r.try_get("outcome")?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }
}
