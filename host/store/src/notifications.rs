//! Notifications: each account's inbox, its webhooks, and the deliveries to
//! them with every try. Who is told what, the URL rules and the retry
//! schedule are the platform's; the store keeps the rows, trims an inbox to
//! the bound it is given, and claims a due delivery in one conditional
//! statement, so two nodes never send the same try.

use super::{Store, StoreError};
use crate::accounts::new_id;
use spleis_domain::notifications::{
    DeliveryAttempt, DeliveryStatus, Notification, NotificationKind, Webhook, WebhookDelivery,
};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A delivery a node claimed: what it needs to send one try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery's id (the `Spleis-Delivery` header).
    pub id: String,
    /// The claim that lets this node record the try.
    pub claim: String,
    /// The webhook's URL.
    pub url: String,
    /// The webhook's signing secret.
    pub secret: String,
    /// The notification's kind (the `Spleis-Event` header).
    pub kind: NotificationKind,
    /// The JSON body, the same bytes on every try.
    pub body: String,
    /// Tries made before this one.
    pub attempts: u32,
    /// When the first try was made (unix ms), if one was.
    pub first_try_at: Option<i64>,
}

/// `$first, $first+1, …`: `n` numbered parameters for an `IN` list.
fn parameters(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(text: &str, what: &str) -> Result<NotificationKind, StoreError> {
    text.parse()
        .map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

fn status_of(text: &str, what: &str) -> Result<DeliveryStatus, StoreError> {
    text.parse()
        .map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

fn notification_from_row(row: &AnyRow) -> Result<Notification, StoreError> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let data: String = row.try_get("data")?;
    Ok(Notification {
        kind: kind_of(&kind, &format!("notifications.kind of {id}"))?,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::corrupt(format!("notifications.data of {id}: {e}")))?,
        subject: row.try_get("subject")?,
        text: row.try_get("text")?,
        created_at: row.try_get("created_at")?,
        read: row.try_get::<Option<i64>, _>("read_at")?.is_some(),
        id,
    })
}

fn webhook_from_row(row: &AnyRow) -> Result<Webhook, StoreError> {
    let id: String = row.try_get("id")?;
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::corrupt(format!("webhooks.events of {id}: {e}")))?,
        url: row.try_get("url")?,
        created_at: row.try_get("created_at")?,
        id,
    })
}

fn attempt_from_row(row: &AnyRow) -> Result<DeliveryAttempt, StoreError> {
    let outcome: String = row.try_get("outcome")?;
    Ok(DeliveryAttempt {
        attempt: u32::try_from(row.try_get::<i64, _>("attempt")?)
            .map_err(|_| StoreError::corrupt("webhook_attempts.attempt out of range"))?,
        tried_at: row.try_get("tried_at")?,
        status_code: row
            .try_get::<Option<i64>, _>("status_code")?
            .map(|c| u16::try_from(c).unwrap_or(u16::MAX)),
        error: row.try_get("error")?,
        duration_ms: u64::try_from(row.try_get::<i64, _>("duration_ms")?).unwrap_or(0),
        outcome: status_of(&outcome, "webhook_attempts.outcome")?,
        next_try_at: row.try_get("next_try_at")?,
    })
}

impl Store {
    /// Puts `notification` in `account`'s inbox, keeps its newest `keep`,
    /// and makes a pending delivery of `body` to each of the account's
    /// webhooks that wants the kind, due now; all in one transaction. How
    /// many deliveries, or `None` when there is no such account.
    pub async fn notify(
        &self,
        account: &str,
        notification: &Notification,
        body: &str,
        keep: u32,
    ) -> Result<Option<usize>, StoreError> {
        let mut tx = self.begin_write().await?;
        let known = sqlx::query("SELECT id FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Ok(None);
        }
        let data = serde_json::to_string(&notification.data)
            .map_err(|e| StoreError::corrupt(format!("cannot encode a notification: {e}")))?;
        sqlx::query(
            "INSERT INTO notifications (id, account, kind, subject, text, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&notification.id)
        .bind(account)
        .bind(notification.kind.as_str())
        .bind(&notification.subject)
        .bind(&notification.text)
        .bind(data)
        .bind(notification.created_at)
        .execute(&mut *tx)
        .await?;
        // Ids sort by time: everything older than the `keep`-th newest goes.
        sqlx::query(
            "DELETE FROM notifications WHERE account = $1 AND id < \
             (SELECT id FROM notifications WHERE account = $2 ORDER BY id DESC LIMIT 1 OFFSET $3)",
        )
        .bind(account)
        .bind(account)
        .bind(i64::from(keep.saturating_sub(1)))
        .execute(&mut *tx)
        .await?;
        let hooks = sqlx::query(
            "SELECT id, url, events, created_at FROM webhooks WHERE account = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
        let mut deliveries = 0;
        for row in &hooks {
            let hook = webhook_from_row(row)?;
            if !hook.wants(notification.kind) {
                continue;
            }
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook, account, event_id, kind, body, status, attempts, created_at, next_try_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8)",
            )
            .bind(new_id()?)
            .bind(&hook.id)
            .bind(account)
            .bind(&notification.id)
            .bind(notification.kind.as_str())
            .bind(body)
            .bind(notification.created_at)
            .bind(notification.created_at)
            .execute(&mut *tx)
            .await?;
            deliveries += 1;
        }
        tx.commit().await?;
        Ok(Some(deliveries))
    }

    /// `account`'s notifications, newest first: the unread only, or all.
    pub async fn notifications(
        &self,
        account: &str,
        unread_only: bool,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, subject, text, data, created_at, read_at FROM notifications \
             WHERE account = $1 AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $3",
        )
        .bind(account)
        .bind(i64::from(unread_only))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(notification_from_row).collect()
    }

    /// How many of `account`'s notifications are unread.
    pub async fn unread_count(&self, account: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM notifications WHERE account = $1 AND read_at IS NULL",
        )
        .bind(account)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Marks `account`'s notifications `ids` read (`None`: all of them) at
    /// `now`; how many were unread. Ids of other accounts are left alone.
    pub async fn mark_read(
        &self,
        account: &str,
        ids: Option<&[String]>,
        now: i64,
    ) -> Result<u64, StoreError> {
        let done = match ids {
            None => {
                sqlx::query(
                    "UPDATE notifications SET read_at = $1 WHERE account = $2 AND read_at IS NULL",
                )
                .bind(now)
                .bind(account)
                .execute(self.pool())
                .await?
            }
            Some([]) => return Ok(0),
            Some(ids) => {
                let sql = format!(
                    "UPDATE notifications SET read_at = $1 WHERE account = $2 AND read_at IS NULL AND id IN ({})",
                    parameters(3, ids.len())
                );
                let mut query = sqlx::query(&sql).bind(now).bind(account);
                for id in ids {
                    query = query.bind(id);
                }
                query.execute(self.pool()).await?
            }
        };
        Ok(done.rows_affected())
    }

    /// Registers `hook` for `account` with its signing `secret`, unless the
    /// account has `max` webhooks already (then `false`). The account's row
    /// is locked while counting, so two registrations at once cannot both
    /// pass the bound.
    pub async fn add_webhook(
        &self,
        account: &str,
        hook: &Webhook,
        secret: &str,
        max: usize,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "SELECT id FROM accounts WHERE id = $1{}",
            self.for_update()
        ))
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let count: i64 =
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM webhooks WHERE account = $1")
                .bind(account)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max {
            return Ok(false);
        }
        let events = serde_json::to_string(&hook.events)
            .map_err(|e| StoreError::corrupt(format!("cannot encode webhook events: {e}")))?;
        sqlx::query(
            "INSERT INTO webhooks (id, account, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&hook.id)
        .bind(account)
        .bind(&hook.url)
        .bind(events)
        .bind(secret)
        .bind(hook.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `account`'s webhooks, oldest first, without their secrets.
    pub async fn webhooks(&self, account: &str) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, url, events, created_at FROM webhooks WHERE account = $1 ORDER BY created_at, id",
        )
        .bind(account)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// Removes `account`'s webhook `id` with its deliveries and their log;
    /// whether it had one.
    pub async fn remove_webhook(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM webhooks WHERE account = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The newest `limit` deliveries of `account`'s webhook `id`, each with
    /// its tries; `None` when the account has no such webhook.
    pub async fn webhook_deliveries(
        &self,
        account: &str,
        id: &str,
        limit: u32,
    ) -> Result<Option<Vec<WebhookDelivery>>, StoreError> {
        let owned = sqlx::query("SELECT id FROM webhooks WHERE account = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        if owned.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT id, event_id, kind, status, created_at, next_try_at FROM webhook_deliveries \
             WHERE webhook = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let status: String = row.try_get("status")?;
            let status = status_of(&status, "webhook_deliveries.status")?;
            deliveries.push(WebhookDelivery {
                event_id: row.try_get("event_id")?,
                kind: kind_of(&kind, "webhook_deliveries.kind")?,
                created_at: row.try_get("created_at")?,
                next_try_at: match status {
                    DeliveryStatus::Pending => row.try_get("next_try_at")?,
                    _ => None,
                },
                status,
                attempts: Vec::new(),
                id,
            });
        }
        if deliveries.is_empty() {
            return Ok(Some(deliveries));
        }
        let sql = format!(
            "SELECT delivery, attempt, tried_at, status_code, error, duration_ms, outcome, next_try_at \
             FROM webhook_attempts WHERE delivery IN ({}) ORDER BY delivery, attempt",
            parameters(1, deliveries.len())
        );
        let mut query = sqlx::query(&sql);
        for delivery in &deliveries {
            query = query.bind(&delivery.id);
        }
        for row in query.fetch_all(self.pool()).await? {
            let of: String = row.try_get("delivery")?;
            if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == of) {
                delivery.attempts.push(attempt_from_row(&row)?);
            }
        }
        Ok(Some(deliveries))
    }

    /// Up to `limit` deliveries due at `now` that no node holds, soonest
    /// first: candidates for [`Store::claim_delivery`].
    pub async fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_try_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY next_try_at, id LIMIT $3",
        )
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(StoreError::from))
            .collect()
    }

    /// Claims delivery `id` for one try until `until`, if it is still due
    /// at `now` and no node holds it: one conditional UPDATE, so of two
    /// nodes asking at once exactly one gets it. What to send, or `None`.
    pub async fn claim_delivery(
        &self,
        id: &str,
        claim: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET claim = $1, claimed_until = $2 \
             WHERE id = $3 AND status = 'pending' AND next_try_at <= $4 \
             AND (claimed_until IS NULL OR claimed_until < $5)",
        )
        .bind(claim)
        .bind(until)
        .bind(id)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT d.id, d.kind, d.body, d.attempts, d.first_try_at, w.url, w.secret \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook WHERE d.id = $1 AND d.claim = $2",
        )
        .bind(id)
        .bind(claim)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind")?;
        Ok(Some(ClaimedDelivery {
            id: row.try_get("id")?,
            claim: claim.to_owned(),
            url: row.try_get("url")?,
            secret: row.try_get("secret")?,
            kind: kind_of(&kind, "webhook_deliveries.kind")?,
            body: row.try_get("body")?,
            attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            first_try_at: row.try_get("first_try_at")?,
        }))
    }

    /// Records a try of delivery `id` made under `claim`: its row in the
    /// log, and the delivery's new state (its outcome, next try, first try
    /// time), releasing the claim. `false` when the claim was lost (it
    /// lapsed and another node took the delivery): nothing is written.
    pub async fn record_try(
        &self,
        id: &str,
        claim: &str,
        attempt: &DeliveryAttempt,
        first_try_at: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, first_try_at = $3, next_try_at = $4, \
             claim = NULL, claimed_until = NULL WHERE id = $5 AND claim = $6",
        )
        .bind(attempt.outcome.as_str())
        .bind(i64::from(attempt.attempt))
        .bind(first_try_at)
        .bind(attempt.next_try_at)
        .bind(id)
        .bind(claim)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery, attempt, tried_at, status_code, error, duration_ms, outcome, next_try_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(i64::from(attempt.attempt))
        .bind(attempt.tried_at)
        .bind(attempt.status_code.map(i64::from))
        .bind(attempt.error.as_deref())
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .bind(attempt.outcome.as_str())
        .bind(attempt.next_try_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// When the soonest pending delivery that no node holds at `now` is
    /// due (unix ms), if there is one.
    pub async fn next_delivery_due(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_try_at) AS due FROM webhook_deliveries WHERE status = 'pending' \
             AND (claimed_until IS NULL OR claimed_until < $1)",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("due")?)
    }

    /// Deletes finished (delivered or failed) deliveries made before
    /// `before` (unix ms), with their log; how many.
    pub async fn purge_deliveries(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1",
        )
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use spleis_domain::accounts::Role;

    fn note(id: &str, kind: NotificationKind, at: i64) -> Notification {
        Notification {
            id: id.to_owned(),
            kind,
            subject: "INV-1".into(),
            text: "An invoice.".into(),
            data: serde_json::json!({"n": 1}),
            created_at: at,
            read: false,
        }
    }

    fn hook(id: &str, events: Vec<NotificationKind>) -> Webhook {
        Webhook {
            id: id.to_owned(),
            url: "https://hooks.example/in".into(),
            events,
            created_at: 1,
        }
    }

    #[tokio::test]
    async fn an_inbox_keeps_its_newest_and_marks_only_its_own_read() {
        for (store, _guard) in testing::all().await {
            for id in ["a", "b"] {
                store.create_account(id, Role::Tenant, id).await.unwrap();
            }
            for n in 0..5 {
                let id = format!("n{n}");
                let told = store
                    .notify("a", &note(&id, NotificationKind::InvoiceIssued, n), "{}", 3)
                    .await
                    .unwrap();
                assert_eq!(told, Some(0), "no webhooks: no deliveries");
            }
            assert_eq!(
                store
                    .notify(
                        "ghost",
                        &note("g", NotificationKind::InvoiceIssued, 9),
                        "{}",
                        3
                    )
                    .await
                    .unwrap(),
                None
            );
            let all = store.notifications("a", false, 10).await.unwrap();
            let ids: Vec<_> = all.iter().map(|n| n.id.as_str()).collect();
            assert_eq!(ids, ["n4", "n3", "n2"], "the newest three, newest first");
            assert_eq!(all[0].data, serde_json::json!({"n": 1}));
            assert_eq!(store.unread_count("a").await.unwrap(), 3);
            assert_eq!(
                store
                    .mark_read("b", Some(&["n4".to_owned()]), 10)
                    .await
                    .unwrap(),
                0,
                "another account's id changes nothing"
            );
            assert_eq!(
                store
                    .mark_read("a", Some(&["n4".to_owned(), "n0".to_owned()]), 10)
                    .await
                    .unwrap(),
                1
            );
            let unread = store.notifications("a", true, 10).await.unwrap();
            assert_eq!(unread.len(), 2);
            assert!(store.notifications("a", false, 1).await.unwrap()[0].read);
            assert_eq!(store.mark_read("a", None, 11).await.unwrap(), 2);
            assert_eq!(store.unread_count("a").await.unwrap(), 0);
        }
    }

    #[tokio::test]
    async fn a_delivery_is_claimed_by_one_node_and_every_try_is_logged() {
        for (store, _guard) in testing::all().await {
            store.create_account("a", Role::Tenant, "A").await.unwrap();
            assert!(
                store
                    .add_webhook("a", &hook("w1", vec![]), "whsec_1", 2)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .add_webhook(
                        "a",
                        &hook("w2", vec![NotificationKind::UpgradePending]),
                        "whsec_2",
                        2
                    )
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .add_webhook("a", &hook("w3", vec![]), "whsec_3", 2)
                    .await
                    .unwrap(),
                "at most two"
            );
            assert_eq!(store.webhooks("a").await.unwrap().len(), 2);

            let told = store
                .notify(
                    "a",
                    &note("n1", NotificationKind::InvoiceIssued, 100),
                    "{\"id\":\"n1\"}",
                    10,
                )
                .await
                .unwrap();
            assert_eq!(told, Some(1), "only w1 wants invoices");
            assert!(store.due_deliveries(99, 10).await.unwrap().is_empty());
            let due = store.due_deliveries(100, 10).await.unwrap();
            assert_eq!(due.len(), 1);
            assert_eq!(store.next_delivery_due(100).await.unwrap(), Some(100));

            let claimed = store
                .claim_delivery(&due[0], "c1", 100, 200)
                .await
                .unwrap()
                .expect("claimed");
            assert_eq!(
                (claimed.secret.as_str(), claimed.kind, claimed.attempts),
                ("whsec_1", NotificationKind::InvoiceIssued, 0)
            );
            assert!(
                store
                    .claim_delivery(&due[0], "c2", 150, 250)
                    .await
                    .unwrap()
                    .is_none(),
                "held by the first node"
            );
            assert!(store.due_deliveries(150, 10).await.unwrap().is_empty());
            let failed = DeliveryAttempt {
                attempt: 1,
                tried_at: 100,
                status_code: Some(500),
                error: None,
                duration_ms: 3,
                outcome: DeliveryStatus::Pending,
                next_try_at: Some(300),
            };
            assert!(
                !store.record_try(&due[0], "c2", &failed, 100).await.unwrap(),
                "not the claim"
            );
            assert!(store.record_try(&due[0], "c1", &failed, 100).await.unwrap());

            // A claim that lapses (its node died) may be taken over.
            let again = store
                .claim_delivery(&due[0], "c3", 300, 400)
                .await
                .unwrap()
                .expect("due again");
            assert_eq!(again.attempts, 1);
            assert!(
                store
                    .claim_delivery(&due[0], "c4", 401, 500)
                    .await
                    .unwrap()
                    .is_some()
            );
            let delivered = DeliveryAttempt {
                attempt: 2,
                tried_at: 401,
                status_code: Some(204),
                outcome: DeliveryStatus::Delivered,
                next_try_at: None,
                ..failed.clone()
            };
            assert!(
                !store
                    .record_try(&due[0], "c3", &delivered, 100)
                    .await
                    .unwrap(),
                "the lapsed claim records nothing"
            );
            assert!(
                store
                    .record_try(&due[0], "c4", &delivered, 100)
                    .await
                    .unwrap()
            );
            assert_eq!(store.next_delivery_due(1000).await.unwrap(), None);

            let log = store
                .webhook_deliveries("a", "w1", 10)
                .await
                .unwrap()
                .expect("a's webhook");
            assert_eq!(log.len(), 1);
            assert_eq!(log[0].status, DeliveryStatus::Delivered);
            assert_eq!(log[0].attempts, vec![failed, delivered]);
            assert_eq!(
                store.webhook_deliveries("b", "w1", 10).await.unwrap(),
                None,
                "another account's webhook is not found"
            );

            // The retention purge takes finished deliveries made before its cutoff.
            assert_eq!(store.purge_deliveries(100).await.unwrap(), 0);
            assert_eq!(store.purge_deliveries(101).await.unwrap(), 1);
            assert_eq!(
                store.webhook_deliveries("a", "w1", 10).await.unwrap(),
                Some(vec![])
            );

            assert!(!store.remove_webhook("b", "w1").await.unwrap());
            assert!(store.remove_webhook("a", "w1").await.unwrap());
            assert_eq!(store.webhooks("a").await.unwrap().len(), 1);
            let pending = store
                .notify(
                    "a",
                    &note("n2", NotificationKind::UpgradePending, 500),
                    "{}",
                    10,
                )
                .await
                .unwrap();
            assert_eq!(pending, Some(1), "w2 wants upgrades");
            assert_eq!(
                store.purge_deliveries(i64::MAX).await.unwrap(),
                0,
                "pending stays"
            );
            assert!(store.remove_webhook("a", "w2").await.unwrap());
            assert!(
                store.due_deliveries(i64::MAX, 10).await.unwrap().is_empty(),
                "gone with its webhook"
            );
        }
    }
}
