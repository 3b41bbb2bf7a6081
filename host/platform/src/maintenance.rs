//! Starting and keeping a platform: opening it on its database and sandbox,
//! the bootstrap operator, the retention purge and the drain at shutdown.

use crate::Platform;
use crate::shares::Shares;
use crate::tenant_limits::LimitDefaults;
use crate::usage::{Durability, UsagePipeline};
use crate::webhooks::{WebhookConfig, Webhooks};
use spleis_domain::accounts::{AccountError, Role};
use spleis_runtime::{Runtime, RuntimeConfig, RuntimeError};
use spleis_store::accounts::token_hash;
use spleis_store::{Store, StoreError, now_ms};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the platform keeps its data.
#[derive(Clone, Debug)]
pub enum Database {
    /// The embedded SQLite database in this directory.
    DataDir(PathBuf),
    /// A database URL (`postgres://…` or `sqlite://…`).
    Url(String),
}

/// How a platform is set up.
#[derive(Clone, Debug)]
pub struct PlatformConfig {
    /// The database.
    pub database: Database,
    /// The sandbox.
    pub runtime: RuntimeConfig,
    /// When a call's usage record is durable.
    pub durability: Durability,
    /// The limits every tenant gets unless the operator overrides them.
    pub limits: LimitDefaults,
    /// How webhooks are delivered.
    pub webhooks: WebhookConfig,
    /// Live (neither revoked nor expired) API tokens one account may hold.
    pub tokens_per_account: u32,
}

/// Why the platform could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sandbox could not be built.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// What the bootstrap did about the operator account.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// The operator was created; its token is shown once (`None`: the token
    /// is the one the caller supplied).
    Created {
        /// The new token, when the platform drew it.
        token: Option<String>,
    },
    /// The operator existed already.
    Existing,
}

/// Runs the platform's clock `offset_ms` from the wall clock: for tests
/// and demos that live through months in minutes. Set before the platform
/// opens; every date it writes is on this clock.
pub fn set_clock_offset_ms(offset_ms: i64) {
    spleis_store::set_clock_offset_ms(offset_ms);
}

/// How often expired storage is purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Permits of the background work's semaphore: more than can ever run.
pub(crate) const BACKGROUND: u32 = 1 << 30;

/// How long `drain` waits for background work: a stop must not hang on a
/// database that is down (the usage queue's flush is bounded too).
const DRAIN_WAIT: Duration = Duration::from_secs(30);

impl Platform {
    /// Opens the database (migrating it), builds the sandbox and starts the
    /// usage writer, on the current tokio runtime.
    pub async fn open(config: PlatformConfig) -> Result<Arc<Platform>, OpenError> {
        let store = match &config.database {
            Database::Url(url) => Store::connect(url).await?,
            Database::DataDir(dir) => Store::open_data_dir(dir).await?,
        };
        let runtime = Arc::new(Runtime::new(config.runtime)?);
        Ok(Arc::new(
            Platform::new(store, runtime, config.durability)
                .with_limits(config.limits)
                .with_webhooks(config.webhooks)
                .with_tokens_per_account(config.tokens_per_account),
        ))
    }

    /// Builds a platform on an open store and sandbox, with the default
    /// limits for the sandbox's size.
    pub fn new(store: Store, runtime: Arc<Runtime>, durability: Durability) -> Platform {
        let defaults = LimitDefaults::for_instances(runtime.config().max_instances);
        Platform {
            usage: UsagePipeline::start(store.clone(), durability),
            shares: Shares::new(runtime.config().max_instances, defaults.queue_wait),
            limit_defaults: defaults,
            compiles: Default::default(),
            background: Arc::new(tokio::sync::Semaphore::new(BACKGROUND as usize)),
            webhooks: Webhooks::new(WebhookConfig::default()),
            store,
            runtime,
            metrics: Default::default(),
            caches: Default::default(),
            tokens_per_account: crate::accounts::DEFAULT_TOKENS_PER_ACCOUNT,
        }
    }

    /// The same platform with at most `limit` live tokens per account.
    pub fn with_tokens_per_account(mut self, limit: u32) -> Platform {
        self.tokens_per_account = limit;
        self
    }

    /// The same platform with `defaults` as every tenant's limits.
    pub fn with_limits(mut self, defaults: LimitDefaults) -> Platform {
        self.shares = Shares::new(self.runtime.config().max_instances, defaults.queue_wait);
        self.limit_defaults = defaults;
        self
    }

    /// Makes sure an operator exists. The first start creates it, with
    /// `token` as its token when given (the `SPLEIS_BOOTSTRAP_TOKEN` of the
    /// binary), else a new one returned once; a given token is also
    /// accepted on later starts.
    ///
    /// Several nodes may start at once on one database: the operator is
    /// created by one statement that tolerates a concurrent creator, the
    /// given token is inserted idempotently, and only the node that created
    /// the operator draws a token.
    pub async fn bootstrap_operator(&self, token: Option<&str>) -> Result<Bootstrap, AccountError> {
        let store = &self.store;
        let created = !store.has_operator().await?
            && store
                .ensure_account("operator", Role::Operator, "Operator")
                .await?;
        // Not created: a concurrent node did, unless `operator` is an
        // account of another role, which must not receive the token.
        if !created && !store.has_operator().await? {
            return Err(AccountError::Exists("operator".to_owned()));
        }
        if let Some(token) = token {
            store
                .insert_token_hash("operator", "bootstrap", &token_hash(token))
                .await?;
        }
        Ok(match (created, token) {
            (false, _) => Bootstrap::Existing,
            (true, Some(_)) => Bootstrap::Created { token: None },
            (true, None) => Bootstrap::Created {
                token: Some(store.issue_token("operator", "bootstrap").await?),
            },
        })
    }

    /// Deletes the storage of installs uninstalled longer than `retention`
    /// ago; how many installs were purged.
    pub async fn purge_expired_storage(&self, retention: Duration) -> Result<usize, crate::Error> {
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms().saturating_sub(retention_ms);
        let purged = self.store.purge_expired(cutoff).await?;
        for (tenant, package) in &purged {
            self.forget_install(tenant, package);
        }
        Ok(purged.len())
    }

    /// Purges expired storage and finished webhook deliveries older than
    /// [`DELIVERY_LOG_DAYS`](crate::webhooks::DELIVERY_LOG_DAYS) every
    /// hour, for as long as the platform runs.
    pub fn spawn_retention_purge(self: &Arc<Self>, retention: Duration) {
        let platform = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            loop {
                tick.tick().await;
                match platform.purge_expired_storage(retention).await {
                    Ok(0) => {}
                    Ok(count) => {
                        tracing::info!(count, "purged the storage of uninstalled plugins")
                    }
                    Err(error) => tracing::warn!(%error, "cannot purge expired storage"),
                }
                match platform.purge_delivery_log().await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "purged old webhook deliveries"),
                    Err(error) => tracing::warn!(%error, "cannot purge old webhook deliveries"),
                }
            }
        });
    }

    /// Runs the background work to its end (event deliveries of calls
    /// that answered, webhook tries under way) and writes every queued usage record: call after the
    /// last request. Both waits are bounded; what is still running or
    /// queued then is logged, not waited for.
    pub async fn drain(&self) {
        // Webhook tries not yet claimed stay in the database for the next start.
        self.webhooks.stop();
        let all = self.background.acquire_many(BACKGROUND);
        if tokio::time::timeout(DRAIN_WAIT, all).await.is_err() {
            let running = BACKGROUND as usize - self.background.available_permits();
            tracing::error!(
                running,
                "background deliveries still running at shutdown; stopping without them"
            );
        }
        // Bounded too (`usage::FLUSH_WAIT`).
        self.usage.flush().await;
    }
}
