//! # spleis-platform
//!
//! Every operation of the platform, independent of HTTP: publishing (checked
//! by the runtime, stored by the registry, rolled out to installs) and calling
//! an install (resolve, load, run on a blocking thread, record usage). The
//! only crate that joins the sandbox (`spleis-runtime`) and the database
//! (`spleis-store`).

pub mod access;
pub mod billing;
pub mod cache;
pub mod documents;
mod error;
pub mod kv;
pub mod maintenance;
pub mod metrics;
pub mod usage;

use crate::kv::DbKeyValue;
use spleis_registry::Manifest;
use spleis_runtime::capabilities::Install;
use spleis_runtime::capabilities::events::EmittedEvent;
use spleis_runtime::{
    Call, CallError, Invocation, InvokeError, LoadError, LoadedPlugin, OutcomeKind, Runtime,
};
use spleis_store::accounts::Account;
use spleis_store::events::Delivery;
use spleis_store::installs::{InstallRecord, UpgradeReport};
use spleis_store::registry::{PublishOutcome, RegistryError, VersionRecord};
use spleis_store::usage::UsageRow;
use spleis_store::{Store, StoreError, now_ms};
use std::collections::VecDeque;
use std::sync::Arc;
use usage::UsagePipeline;

pub use access::{AccessError, Actor};
pub use error::Error;

/// The largest component the registry accepts: 20 MiB.
pub const MAX_COMPONENT_BYTES: usize = 20 << 20;

/// Why publishing was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Too large.
    #[error("the component has {size} bytes; the registry accepts at most {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// No manifest sent and none embedded.
    #[error("no manifest: send one with the component, or build with spleis-sdk, which embeds it")]
    NoManifest,
    /// The manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] spleis_registry::ManifestError),
    /// The manifest sent differs from the one embedded.
    #[error(
        "the manifest sent ({sent}) differs from the one embedded in the component ({embedded}); rebuild the component"
    )]
    ManifestMismatch {
        /// name@version sent.
        sent: String,
        /// name@version embedded.
        embedded: String,
    },
    /// The runtime refused the component.
    #[error(transparent)]
    Component(#[from] LoadError),
    /// The component imports capabilities the sent manifest does not declare.
    #[error("the component imports `{0}`, which its manifest does not declare")]
    UndeclaredCapability(String),
    /// The registry refused it.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Rolling out to installs failed (the version is published).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a publish did.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    /// The version.
    pub version: VersionRecord,
    /// Whether it was new (false: the same bytes were already published).
    pub created: bool,
    /// Installs moved or left pending.
    pub upgrades: UpgradeReport,
}

/// Why a call could not run.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// The tenant has no active install of the package.
    #[error("`{0}` is not installed for this tenant")]
    NotInstalled(String),
    /// Refused before running (unknown operation, …).
    #[error(transparent)]
    Refused(#[from] InvokeError),
    /// The stored component is unusable (integrity failure, refused).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The stored component no longer loads.
    #[error("the installed component cannot be loaded: {0}")]
    Load(#[from] LoadError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An idempotency key sent again with a different request.
    #[error("the Idempotency-Key `{0}` was already used for a different request")]
    KeyReused(String),
    /// The blocking call task died (a host bug).
    #[error("the call could not complete: {0}")]
    Join(String),
}

/// A finished call with its install's version.
pub struct Called {
    /// What the runtime returned.
    pub invocation: Invocation,
    /// The version that ran.
    pub version: String,
    /// The usage record's transaction id.
    pub usage_id: String,
}

/// Shared state of a running platform.
pub struct Platform {
    /// The database.
    pub store: Store,
    /// The sandbox.
    pub runtime: Arc<Runtime>,
    /// The usage writer.
    pub usage: UsagePipeline,
    /// Counters for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Caches of what every request looks up.
    pub caches: Caches,
}

/// An active install and the version it runs.
type Installed = Arc<(InstallRecord, VersionRecord)>;

/// The lookups every call makes, cached for [`cache::TTL`].
#[derive(Default)]
pub struct Caches {
    accounts: cache::TtlCache<String, Option<Account>>,
    installs: cache::TtlCache<(String, String), Option<Installed>>,
}

impl Platform {
    /// Checks and publishes `bytes` for `publisher`, then moves installs.
    pub async fn publish(
        &self,
        publisher: &Account,
        bytes: Vec<u8>,
        manifest_text: Option<&str>,
    ) -> Result<Published, PublishError> {
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(PublishError::TooLarge {
                size: bytes.len(),
                max: MAX_COMPONENT_BYTES,
            });
        }
        let loaded = self.load(bytes.clone()).await.map_err(|e| {
            PublishError::Store(StoreError::Corrupt(format!("the compile task died: {e}")))
        })??;
        let manifest = choose_manifest(&loaded, manifest_text)?;
        if let Some(cap) = loaded
            .shape
            .capabilities
            .iter()
            .find(|c| !manifest.capabilities.contains(c))
        {
            return Err(PublishError::UndeclaredCapability(cap.to_string()));
        }
        let outcome = self
            .store
            .publish_version(publisher, &bytes, &manifest, &loaded.shape.contract_version)
            .await?;
        let (version, created) = match outcome {
            PublishOutcome::Published(v) => (v, true),
            PublishOutcome::Unchanged(v) => (v, false),
        };
        if created {
            self.metrics.publish();
        }
        let upgrades = if created {
            let report = self.store.apply_published(&version).await?;
            self.caches
                .installs
                .forget(|(_, package)| *package == version.package);
            report
        } else {
            UpgradeReport::default()
        };
        tracing::info!(package = %version.package, version = %version.version, created, upgraded = upgrades.upgraded.len(), pending = upgrades.pending.len(), "published");
        Ok(Published {
            version,
            created,
            upgrades,
        })
    }

    /// The loaded component of a stored version: from memory, else the
    /// blob re-hashed from the database and loaded (disk cache or compile).
    async fn component(&self, version: &VersionRecord) -> Result<Arc<LoadedPlugin>, CallFailure> {
        if let Some(plugin) = self.runtime.loaded(&version.digest) {
            return Ok(plugin);
        }
        let bytes = self.store.blob(&version.digest).await?;
        Ok(self
            .load(bytes)
            .await
            .map_err(|e| CallFailure::Join(e.to_string()))??)
    }

    /// Loads a component on the blocking pool: compiling takes a while and
    /// must not hold an async worker.
    async fn load(
        &self,
        bytes: Vec<u8>,
    ) -> Result<Result<Arc<LoadedPlugin>, LoadError>, tokio::task::JoinError> {
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || runtime.load(&bytes)).await
    }

    /// Runs `operation` on `tenant`'s install of `package` and records its
    /// usage. With an idempotency key, the answer is stored with the usage
    /// record in one transaction, and a retry with the same key and request
    /// gets the stored answer, billed once.
    pub async fn call(
        &self,
        tenant: &str,
        package: &str,
        operation: &str,
        body: Vec<u8>,
        idempotency_key: Option<String>,
    ) -> Result<(Answer, Vec<EmittedEvent>), CallFailure> {
        let fingerprint = idempotency_key
            .as_ref()
            .map(|_| fingerprint(package, operation, &body));
        if let (Some(key), Some(fingerprint)) = (&idempotency_key, &fingerprint)
            && let Some(stored) = self.store.idempotent_answer(tenant, key).await?
        {
            return Ok((replay(key, fingerprint, stored)?, Vec::new()));
        }
        let Some(found) = self.installed(tenant, package).await? else {
            return Err(CallFailure::NotInstalled(package.to_owned()));
        };
        let (install, version) = &*found;
        let call = Call::Handle {
            operation: operation.to_owned(),
            body,
        };
        let (called, row) = self
            .run(install, version, call, idempotency_key.clone())
            .await?;
        let answer = Answer::of(&called);
        match (idempotency_key, fingerprint) {
            (Some(key), Some(fingerprint)) => {
                let text = serde_json::to_string(&answer)
                    .map_err(|e| StoreError::Corrupt(format!("cannot encode the answer: {e}")))?;
                if let Some(stored) = self
                    .store
                    .record_idempotent(&key, &fingerprint, &text, &row)
                    .await?
                {
                    // A concurrent retry won: answer as it did, bill once.
                    return Ok((replay(&key, &fingerprint, stored)?, Vec::new()));
                }
            }
            _ => self.usage.record(row).await?,
        }
        Ok((answer, called.invocation.events))
    }

    /// The caller's account for a bearer token (cached).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let key = spleis_store::accounts::token_hash(token);
        let account = match self.caches.accounts.get(&key) {
            Some(account) => account,
            None => {
                let account = self.store.authenticate(token).await?;
                self.caches.accounts.put(key, account.clone());
                account
            }
        };
        Ok(account.map(Actor::new))
    }

    /// The tenant's active install of `package` and its version (cached).
    async fn installed(
        &self,
        tenant: &str,
        package: &str,
    ) -> Result<Option<Installed>, CallFailure> {
        let key = (tenant.to_owned(), package.to_owned());
        if let Some(found) = self.caches.installs.get(&key) {
            return Ok(found);
        }
        let found = match self.store.install_of(tenant, package).await? {
            Some(install) if install.active => {
                let version = self.store.version(package, &install.version).await?;
                Some(Arc::new((install, version)))
            }
            _ => None,
        };
        self.caches.installs.put(key, found.clone());
        Ok(found)
    }

    /// Forgets cached installs of `tenant` after it changed one.
    pub fn forget_installs(&self, tenant: &str) {
        self.caches.installs.forget(|(t, _)| t == tenant);
    }

    async fn run(
        &self,
        install: &InstallRecord,
        version: &VersionRecord,
        call: Call,
        idempotency_key: Option<String>,
    ) -> Result<(Called, UsageRow), CallFailure> {
        let plugin = self.component(version).await?;
        let context = Arc::new(install_context(install, &version.manifest));
        let storage = Arc::new(DbKeyValue::new(
            self.store.clone(),
            tokio::runtime::Handle::current(),
        ));
        let runtime = self.runtime.clone();
        // A call may run for seconds: it runs on the blocking pool, never on
        // an async worker. (`block_in_place` saves the thread hop, but panics
        // on a current-thread runtime and measured no faster under load.)
        let invocation = tokio::task::spawn_blocking(move || {
            runtime.invoke(&plugin, context, storage, call, None)
        })
        .await
        .map_err(|e| CallFailure::Join(e.to_string()))??;
        self.metrics.call(
            invocation.usage.outcome,
            invocation.usage.fuel_consumed,
            invocation.usage.wall_time_us,
        );
        let usage_id = spleis_store::accounts::new_time_id()?;
        let row = UsageRow {
            id: usage_id.clone(),
            version: install.version.clone(),
            usage: invocation.usage.clone(),
            idempotency_key,
            recorded_at: now_ms(),
        };
        Ok((
            Called {
                invocation,
                version: install.version.clone(),
                usage_id,
            },
            row,
        ))
    }

    /// Runs a call and hands its usage record to the pipeline.
    async fn run_and_record(
        &self,
        install: &InstallRecord,
        version: &VersionRecord,
        call: Call,
    ) -> Result<Called, CallFailure> {
        let (called, row) = self.run(install, version, call, None).await?;
        self.usage.record(row).await?;
        Ok(called)
    }

    /// Delivers events to every install of `tenant` that subscribes to
    /// their topics, and the events those deliveries emit in turn, breadth
    /// first, up to [`MAX_EVENT_DEPTH`]. `depth` is 0 for a platform event
    /// and 1 for events a direct call emitted. Every delivery is recorded.
    pub async fn deliver(
        &self,
        tenant: &str,
        events: Vec<EmittedEvent>,
        depth: u32,
    ) -> Result<Vec<Delivery>, CallFailure> {
        let mut queue: VecDeque<(String, EmittedEvent, u32)> = VecDeque::new();
        for event in events {
            queue.push_back((spleis_store::accounts::new_id()?, event, depth));
        }
        let mut installs = Vec::new();
        for install in self.store.installs_of(tenant).await? {
            let version = self
                .store
                .version(&install.package, &install.version)
                .await?;
            installs.push((install, version));
        }
        let mut deliveries = Vec::new();
        while let Some((id, event, depth)) = queue.pop_front() {
            for (install, version) in installs
                .iter()
                .filter(|(_, v)| v.manifest.subscribes.contains(&event.topic))
            {
                let mut delivery = Delivery {
                    event_id: id.clone(),
                    topic: event.topic.clone(),
                    package: install.package.clone(),
                    depth,
                    outcome: "depth-limit".into(),
                    message: format!("not delivered: events nest at most {MAX_EVENT_DEPTH} deep"),
                };
                if depth <= MAX_EVENT_DEPTH {
                    let call = Call::Event {
                        id: id.clone(),
                        topic: event.topic.clone(),
                        payload: event.payload.clone(),
                    };
                    let called = self.run_and_record(install, version, call).await?;
                    delivery.outcome = called.invocation.usage.outcome.as_str().to_owned();
                    delivery.message = called
                        .invocation
                        .result
                        .err()
                        .map(|e| e.message)
                        .unwrap_or_default();
                    for emitted in called.invocation.events {
                        queue.push_back((spleis_store::accounts::new_id()?, emitted, depth + 1));
                    }
                }
                self.store.record_delivery(tenant, &delivery).await?;
                self.metrics.delivery();
                deliveries.push(delivery);
            }
        }
        Ok(deliveries)
    }
}

/// What a call answered, as stored for idempotent retries.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The plugin's output, base64, when the call succeeded.
    pub output_base64: Option<String>,
    /// Why it failed, otherwise.
    pub error: Option<CallError>,
    /// The outcome kind.
    pub outcome: OutcomeKind,
    /// The version that ran.
    pub version: String,
    /// The usage record's id.
    pub usage_id: String,
    /// Fuel consumed.
    pub fuel: u64,
    /// Whether this answer is a stored one, replayed for a retry.
    #[serde(default)]
    pub replayed: bool,
}

impl Answer {
    fn of(called: &Called) -> Self {
        use base64::Engine;
        let result = &called.invocation.result;
        Self {
            output_base64: result
                .as_ref()
                .ok()
                .map(|o| base64::engine::general_purpose::STANDARD.encode(o)),
            error: result.as_ref().err().cloned(),
            outcome: called.invocation.usage.outcome,
            version: called.version.clone(),
            usage_id: called.usage_id.clone(),
            fuel: called.invocation.usage.fuel_consumed,
            replayed: false,
        }
    }

    /// The output bytes, if the call succeeded.
    pub fn output(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        self.output_base64
            .as_ref()
            .and_then(|o| base64::engine::general_purpose::STANDARD.decode(o).ok())
    }
}

fn fingerprint(package: &str, operation: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [package.as_bytes(), b"\0", operation.as_bytes(), b"\0", body] {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

fn replay(
    key: &str,
    fingerprint: &str,
    (stored_fingerprint, text): (String, String),
) -> Result<Answer, CallFailure> {
    if stored_fingerprint != fingerprint {
        return Err(CallFailure::KeyReused(key.to_owned()));
    }
    let mut answer: Answer = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("stored answer for key `{key}`: {e}")))?;
    answer.replayed = true;
    Ok(answer)
}

/// The deepest chain of plugin-emitted events that is still delivered: a
/// platform event is depth 0, what its handlers emit depth 1, and so on.
pub const MAX_EVENT_DEPTH: u32 = 4;

fn choose_manifest(loaded: &LoadedPlugin, sent: Option<&str>) -> Result<Manifest, PublishError> {
    match (sent, &loaded.manifest) {
        (None, None) => Err(PublishError::NoManifest),
        (None, Some(embedded)) => Ok(embedded.clone()),
        (Some(text), embedded) => {
            // A crate's Cargo.toml may inherit its version from a workspace;
            // the SDK embedded the resolved one.
            let version = embedded.as_ref().map(|m| m.version.to_string());
            let manifest = Manifest::parse_with_version(text, version.as_deref())?;
            if let Some(embedded) = embedded
                && (embedded.name != manifest.name || embedded.version != manifest.version)
            {
                return Err(PublishError::ManifestMismatch {
                    sent: format!("{}@{}", manifest.name, manifest.version),
                    embedded: format!("{}@{}", embedded.name, embedded.version),
                });
            }
            Ok(manifest)
        }
    }
}

/// What the runtime needs to know about an install.
pub fn install_context(install: &InstallRecord, manifest: &Manifest) -> Install {
    Install {
        tenant: install.tenant.clone(),
        plugin: install.package.clone(),
        grants: install.grants.clone(),
        config: install.config.clone(),
        metrics: manifest.metrics.clone(),
        storage_quota_bytes: install.storage_quota,
    }
}
