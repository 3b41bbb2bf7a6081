//! The usage pipeline: every call's record, written in batches off the
//! request path.
//!
//! In `batched` mode (the default) `record` queues the record and returns;
//! a writer task flushes the queue at least every [`FLUSH_INTERVAL`] (and
//! whenever [`MAX_BATCH`] records are waiting), and once more when the
//! pipeline shuts down (SIGTERM drains it). A `kill -9` loses at most the
//! records queued since the last flush: one flush window, 100 ms of calls.
//! A failed write is retried with the same records (their transaction ids
//! make the retry idempotent), so nothing queued is dropped while the
//! process lives. In `sync` mode `record` writes the record before it
//! returns, so the response is sent only once the record is durable.
//!
//! Reading usage is here too: a tenant's records, and calls by day.

use crate::{AccessError, Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::discounts::Period;
use spleis_domain::UsageRow;
use spleis_domain::accounts::Role;
use spleis_domain::billing::DayCalls;
use spleis_store::{Store, StoreError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

/// The longest a queued record waits before it is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// The longest a flush waits for the queue to be written.
pub const FLUSH_WAIT: Duration = Duration::from_secs(30);
/// Records written in one transaction at most.
pub const MAX_BATCH: usize = 1000;
/// Usage records read at once when the reader names no limit.
pub const DEFAULT_READ_LIMIT: u32 = 100;
/// Usage records read at once at most.
pub const MAX_READ_LIMIT: u32 = 10_000;
/// Records that may wait in the queue before `record` waits for room.
const QUEUE: usize = 16_384;

/// When a usage record is durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Queued and written within the flush window.
    Batched,
    /// Written before the response is sent.
    Sync,
}

enum Message {
    Record(Box<UsageRow>),
    Flush(oneshot::Sender<()>),
}

/// The pipeline's handle.
pub struct UsagePipeline {
    store: Store,
    durability: Durability,
    sender: Option<mpsc::Sender<Message>>,
    writer: Option<JoinHandle<()>>,
}

impl UsagePipeline {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Store, durability: Durability) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_loop(store.clone(), receiver));
        Self {
            store,
            durability,
            sender: Some(sender),
            writer: Some(writer),
        }
    }

    /// Records one call's usage.
    pub async fn record(&self, row: UsageRow) -> Result<(), StoreError> {
        match (self.durability, &self.sender) {
            (Durability::Sync, _) | (_, None) => self.store.insert_usage(&[row]).await.map(drop),
            (Durability::Batched, Some(sender)) => {
                match sender.send(Message::Record(Box::new(row))).await {
                    Ok(()) => Ok(()),
                    // The writer is gone (shutting down): write directly.
                    Err(mpsc::error::SendError(Message::Record(row))) => {
                        self.store.insert_usage(&[*row]).await.map(drop)
                    }
                    Err(_) => Ok(()),
                }
            }
        }
    }

    /// Waits until everything queued so far is written, or [`FLUSH_WAIT`]
    /// has passed (the database is failing; the records stay queued and
    /// are written when it is back, into the period open then).
    pub async fn flush(&self) {
        let Some(sender) = &self.sender else {
            return;
        };
        let flushed = async {
            let (done, wait) = oneshot::channel();
            if sender.send(Message::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        };
        if tokio::time::timeout(FLUSH_WAIT, flushed).await.is_err() {
            tracing::error!(
                "usage records could not be written within {FLUSH_WAIT:?}; they stay queued"
            );
        }
    }

    /// Writes what is queued and stops the writer.
    pub async fn shutdown(&mut self) {
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
    }
}

/// A tenant's usage records, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantUsage {
    /// The tenant.
    pub tenant: String,
    /// Its records, newest first.
    pub records: Vec<UsageRow>,
}

/// Calls by day in one period, scoped to the actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyUsage {
    /// The period.
    pub period: Period,
    /// Rows by day, tenant and plugin (days without calls are absent).
    pub rows: Vec<DayCalls>,
}

impl Platform {
    /// Usage records, newest first, at most `limit` (default
    /// [`DEFAULT_READ_LIMIT`], capped at [`MAX_READ_LIMIT`]): a tenant reads
    /// its own, the operator names the tenant; authors read the usage of
    /// their plugins in billing reports instead. Queued records are written
    /// first, so a call that has answered is in the list.
    pub async fn usage_records(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        limit: Option<u32>,
    ) -> Result<TenantUsage, Error> {
        let tenant = match (actor.role(), tenant) {
            (Role::Operator, Some(tenant)) => tenant.to_owned(),
            (Role::Operator, None) => {
                return Err(Error::Invalid("name the tenant: ?tenant=ID".into()));
            }
            (Role::Tenant, None) => actor.id().to_owned(),
            (Role::Tenant, Some(other)) if other == actor.id() => other.to_owned(),
            (Role::Tenant, Some(_)) => {
                return Err(
                    AccessError::Forbidden("a tenant reads only its own usage".into()).into(),
                );
            }
            (Role::Author, _) => {
                return Err(AccessError::Forbidden(
                    "authors read usage of their plugins in reports (billing)".into(),
                )
                .into());
            }
        };
        let limit = limit.unwrap_or(DEFAULT_READ_LIMIT).min(MAX_READ_LIMIT);
        self.usage.flush().await;
        let records = self.store.usage_of_tenant(&tenant, limit).await?;
        Ok(TenantUsage { tenant, records })
    }

    /// Calls by day in `period` (default: the open one): a tenant's own, an
    /// author's plugins' (namespaces it owns), all for the operator.
    pub async fn daily_usage(
        &self,
        actor: &Actor,
        period: Option<Period>,
    ) -> Result<DailyUsage, Error> {
        let period = match period {
            Some(period) => period,
            None => self.open_period().await?,
        };
        self.usage.flush().await;
        let tenant = (actor.role() == Role::Tenant).then(|| actor.id());
        let mut rows = self.store.calls_by_day(period, tenant).await?;
        if actor.role() == Role::Author {
            let owned = self
                .namespaces_owned(actor, rows.iter().map(|r| r.plugin.as_str()))
                .await?;
            rows.retain(|r| {
                owned
                    .get(spleis_domain::registry::namespace_of(&r.plugin))
                    .copied()
                    .unwrap_or(false)
            });
        }
        Ok(DailyUsage { period, rows })
    }
}

async fn write_loop(store: Store, mut receiver: mpsc::Receiver<Message>) {
    let mut batch: Vec<UsageRow> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    // Everything queued is taken at once: under load the task wakes once
    // per many records instead of once per record.
    let mut received: Vec<Message> = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // While writes fail the batch stops taking records, so the
            // bounded queue pushes back on callers instead of growing here.
            count = receiver.recv_many(&mut received, MAX_BATCH), if batch.len() < QUEUE => {
                if count == 0 {
                    // The pipeline is shutting down: drain everything.
                    while !batch.is_empty() {
                        write(&store, &mut batch).await;
                    }
                    return;
                }
                let mut flush = false;
                for message in received.drain(..) {
                    match message {
                        Message::Record(row) => batch.push(*row),
                        Message::Flush(done) => {
                            waiting.push(done);
                            flush = true;
                        }
                    }
                }
                // Full batches go at once; a flush writes everything, so
                // its waiters are not held behind a busy queue.
                while batch.len() >= MAX_BATCH || (flush && !batch.is_empty()) {
                    if !write(&store, &mut batch).await {
                        break;
                    }
                }
            },
            _ = tick.tick() => {
                write(&store, &mut batch).await;
            }
        }
        if batch.is_empty() {
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// Writes up to [`MAX_BATCH`] of `batch`; on failure keeps them for the
/// next attempt and answers `false`.
async fn write(store: &Store, batch: &mut Vec<UsageRow>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let take = batch.len().min(MAX_BATCH);
    match store.insert_usage(&batch[..take]).await {
        Ok(_) => {
            batch.drain(..take);
            true
        }
        Err(error) => {
            tracing::error!(%error, queued = batch.len(), "cannot write usage records; retrying");
            tokio::time::sleep(FLUSH_INTERVAL).await;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spleis_runtime::{OutcomeKind, Usage};
    use spleis_store::testing;

    fn row(i: usize) -> UsageRow {
        UsageRow {
            id: format!("t{i}"),
            version: "1.0.0".into(),
            usage: Usage {
                tenant: "a".into(),
                plugin: "acme/p".into(),
                digest: "sha256:00".into(),
                operation: "op".into(),
                fuel_consumed: i as u64,
                wall_time_us: 1,
                host_time_us: 0,
                peak_memory_bytes: 1,
                outcome: OutcomeKind::Ok,
                deliveries_dropped: 0,
                units: vec![],
            },
            idempotency_key: None,
            recorded_at: 1 + i as i64,
        }
    }

    #[tokio::test]
    async fn batched_records_are_written_within_the_window_and_on_shutdown() {
        for (store, _guard) in testing::all().await {
            let mut pipeline = UsagePipeline::start(store.clone(), Durability::Batched);
            // More than two batches: a flush waits for all of them.
            for i in 0..2500 {
                pipeline.record(row(i)).await.unwrap();
            }
            pipeline.flush().await;
            assert_eq!(store.usage_of_tenant("a", 5000).await.unwrap().len(), 2500);
            pipeline.record(row(3000)).await.unwrap();
            pipeline.shutdown().await;
            assert_eq!(store.usage_of_tenant("a", 5000).await.unwrap().len(), 2501);
        }
    }

    #[tokio::test]
    async fn a_flush_gives_up_while_the_database_fails() {
        let (store, _guard) = testing::sqlite().await;
        let pipeline = UsagePipeline::start(store.clone(), Durability::Batched);
        testing::take_down(&store).await;
        // From here the clock moves only when every task waits.
        tokio::time::pause();
        pipeline.record(row(1)).await.unwrap();
        // Returns (after FLUSH_WAIT on the paused clock) instead of waiting
        // for a database that does not come back.
        let flushed = tokio::time::timeout(2 * FLUSH_WAIT, pipeline.flush()).await;
        assert!(flushed.is_ok(), "the flush waited past FLUSH_WAIT");
    }

    #[tokio::test]
    async fn sync_records_are_written_before_record_returns() {
        for (store, _guard) in testing::all().await {
            let pipeline = UsagePipeline::start(store.clone(), Durability::Sync);
            pipeline.record(row(1)).await.unwrap();
            assert_eq!(store.usage_of_tenant("a", 10).await.unwrap().len(), 1);
        }
    }
}
