//! Calling an install: resolve it (cached), load its component, run the
//! call as a future on this worker, record its usage. With an idempotency key the
//! key is claimed before the plugin runs (a concurrent request with it gets
//! `KeyInProgress`), and the answer is stored with the usage record in the
//! transaction that completes the claim, so a retry with the same key and
//! request gets the stored answer, the plugin runs once and is billed once.
//! The events a call emits are delivered after it returns.
//!
//! One name per thing along the way:
//! - [`CallRequest`]: what a face asks (package, operation, body, the
//!   idempotency key as sent); the tenant is the [`Actor`]'s.
//! - `CallContext` (internal): the platform's side of an admitted call —
//!   the tenant, its limits in force and the key once checked.
//! - [`Invocation`]: what the sandbox returns of one run (result, usage,
//!   log, emitted events).
//! - [`Answer`]: what the platform answers, the one result a face gets
//!   (and what a retry with the key gets again).
//! - [`UsageRow`]: what is stored of the call and billed: the sandbox's
//!   [`Usage`](spleis_domain::Usage) with its id, version and key.

use crate::failures::{CallFailure, MAX_IDEMPOTENCY_KEY_BYTES};
use crate::kv::DbKeyValue;
use crate::shares::Admission;
use crate::tenant_limits::TenantLimits;
use crate::{Actor, Error, Platform};
use spleis_domain::UsageRow;
use spleis_domain::accounts::Role;
use spleis_domain::installs::InstallRecord;
use spleis_domain::registry::VersionRecord;
use spleis_registry::Manifest;
use spleis_runtime::capabilities::Install;
use spleis_runtime::capabilities::events::EmittedEvent;
use spleis_runtime::{Call, CallError, Invocation, LoadError, LoadedPlugin, OutcomeKind};
use spleis_store::usage::KeyState;
use spleis_store::{StoreError, now_ms};
use std::sync::Arc;

/// How long a pending idempotency claim is honoured: far past any call's
/// deadline, so only a claim whose node died mid-call is taken over.
const CLAIM_STALE_AFTER_MS: i64 = 10 * 60 * 1000;

/// The key as stored, if `raw` (the header's bytes) is 1 to
/// [`MAX_IDEMPOTENCY_KEY_BYTES`] bytes of visible ASCII; otherwise why not.
pub fn idempotency_key(raw: &[u8]) -> Result<String, CallFailure> {
    let why = if raw.is_empty() {
        "this one is empty".to_owned()
    } else if raw.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        format!("this one is {} bytes long", raw.len())
    } else if let Some(at) = raw.iter().position(|b| !b.is_ascii_graphic()) {
        format!("byte {at} of this one is {:#04x}", raw[at])
    } else {
        // All visible ASCII: valid UTF-8.
        return Ok(raw.iter().map(|&b| char::from(b)).collect());
    };
    Err(CallFailure::InvalidKey(why))
}

/// What a face asks of one call: an operation of the caller's install of
/// `package`, with its input. The tenant is never named here: it is the
/// [`Actor`]'s that [`Platform::call`] is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRequest {
    /// The installed package, `namespace/name`.
    pub package: String,
    /// The operation to call.
    pub operation: String,
    /// The plugin's input.
    pub body: Vec<u8>,
    /// The `Idempotency-Key` as sent, its raw bytes: the platform decides
    /// what a valid key is ([`idempotency_key`]).
    pub idempotency_key: Option<Vec<u8>>,
}

impl CallRequest {
    /// A call of `operation` of `package` with `body`, without a key.
    pub fn new(package: impl Into<String>, operation: impl Into<String>, body: Vec<u8>) -> Self {
        Self {
            package: package.into(),
            operation: operation.into(),
            body,
            idempotency_key: None,
        }
    }

    /// The same request under the idempotency key `key` (its raw bytes).
    pub fn with_idempotency_key(self, key: impl Into<Vec<u8>>) -> Self {
        Self {
            idempotency_key: Some(key.into()),
            ..self
        }
    }
}

/// The platform's side of one admitted call, carried down with its
/// [`CallRequest`]: who calls, under which limits, under which key.
#[derive(Clone)]
struct CallContext {
    /// The calling tenant: the actor's account.
    tenant: String,
    /// The tenant's limits in force (its storage quota bounds the install's).
    limits: TenantLimits,
    /// The request's idempotency key, checked.
    key: Option<String>,
}

/// The platform's result of one call, the one a face gets: the plugin's
/// output or error, how the call ended, the version that ran and the id of
/// the call's [`UsageRow`]. Made from the sandbox's [`Invocation`]; stored
/// under the idempotency key, so a retry gets it again (`replayed`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The plugin's output when the call succeeded; stored (for retries)
    /// in base64 under `output_base64`.
    #[serde(rename = "output_base64", with = "base64_bytes", default)]
    pub output: Option<Vec<u8>>,
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
    /// The output bytes, if the call succeeded.
    pub fn output(&self) -> Option<&[u8]> {
        self.output.as_deref()
    }
}

/// Bytes as base64 text in a stored answer.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_some(&STANDARD.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| STANDARD.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl Platform {
    /// The tenant (the `actor`) calls an operation of its install, as
    /// `request` says. The answer carries the plugin's output or error and
    /// the usage; the events the call emitted are delivered to the tenant's
    /// subscribing installs after it returns (see [`Platform::deliver`]).
    ///
    /// With an idempotency key, a retry with the same key and the same
    /// request gets the stored answer (`replayed`) and is billed once; the
    /// same key with another request is refused ([`CallFailure::KeyReused`]);
    /// while the key's first request runs, another is refused
    /// ([`CallFailure::KeyInProgress`]) and the plugin runs once per key.
    pub async fn call(
        self: &Arc<Self>,
        actor: &Actor,
        request: CallRequest,
    ) -> Result<Answer, Error> {
        let tenant = actor.require(&[Role::Tenant])?.id.clone();
        let key = request
            .idempotency_key
            .as_deref()
            .map(self::idempotency_key)
            .transpose()?;
        let limits = self.limits_of(&tenant).await?;
        // Admitted by the tenant's rate and cap and the shared pool; held
        // until the answer is stored (by the task that runs a claimed call,
        // which outlives a client that goes away).
        let admission = self
            .shares
            .admit(&tenant, &limits)
            .await
            .map_err(CallFailure::from)?;
        let context = CallContext {
            tenant,
            limits,
            key,
        };
        let (answer, events) = self.call_install(&context, request, admission).await?;
        if !events.is_empty() {
            match self
                .shares
                .pending_delivery(&context.tenant, &context.limits)
            {
                Some(place) => {
                    self.deliver_later(actor.clone(), events, answer.usage_id.clone(), place)
                }
                // Too many of this tenant's deliveries wait already: this
                // call delivers its own before it answers.
                None => self.deliver_and_note(actor, events, &answer.usage_id).await,
            }
        }
        Ok(answer)
    }

    /// One call of the tenant's install, holding its `admission` until
    /// done. With an idempotency key, the key is claimed before the plugin
    /// runs (see `call_claimed`).
    async fn call_install(
        self: &Arc<Self>,
        context: &CallContext,
        request: CallRequest,
        admission: Admission,
    ) -> Result<(Answer, Vec<EmittedEvent>), CallFailure> {
        let Some(key) = &context.key else {
            let (answer, events, row) = self.run_installed(context, request).await?;
            self.usage.record(row).await?;
            return Ok((answer, events));
        };
        let fingerprint = fingerprint(&request);
        let claim = spleis_store::accounts::new_id()?;
        let stale_before = now_ms().saturating_sub(CLAIM_STALE_AFTER_MS);
        match self
            .store
            .claim_idempotency(&context.tenant, key, &fingerprint, &claim, stale_before)
            .await?
        {
            KeyState::Claimed => {}
            KeyState::InProgress {
                fingerprint: stored,
            } => {
                return Err(if stored == fingerprint {
                    CallFailure::KeyInProgress(key.clone())
                } else {
                    CallFailure::KeyReused(key.clone())
                });
            }
            KeyState::Done {
                fingerprint: stored,
                answer,
            } => return Ok((replay(key, &fingerprint, (stored, answer))?, Vec::new())),
        }
        // The claimed call runs in its own task: a client that goes away
        // does not cancel it half way, so the claim is always completed or
        // released, and a retry gets the answer instead of a stuck key.
        let platform = self.clone();
        let (context, key) = (context.clone(), key.clone());
        tokio::spawn(async move {
            let _admission = admission;
            let ran = platform.call_claimed(&context, request, &key, &claim).await;
            if ran.is_err()
                && let Err(error) = platform
                    .store
                    .release_idempotency(&context.tenant, &key, &claim)
                    .await
            {
                // The claim then expires after CLAIM_STALE_AFTER_MS.
                tracing::warn!(%error, %key, "cannot release an idempotency claim");
            }
            ran
        })
        .await
        .map_err(|e| CallFailure::Join(e.to_string()))?
    }

    /// Runs the call whose `key` this request claimed (`claim`) and
    /// completes the claim with its answer and usage record in one
    /// transaction.
    async fn call_claimed(
        &self,
        context: &CallContext,
        request: CallRequest,
        key: &str,
        claim: &str,
    ) -> Result<(Answer, Vec<EmittedEvent>), CallFailure> {
        let (answer, events, row) = self.run_installed(context, request).await?;
        let text = serde_json::to_string(&answer)
            .map_err(|e| StoreError::corrupt(format!("cannot encode the answer: {e}")))?;
        if !self
            .store
            .complete_idempotency(key, claim, &text, &row)
            .await?
        {
            // The claim went stale and another request took the key: that
            // request's answer is the key's, and this run is not billed.
            return Err(CallFailure::KeyInProgress(key.to_owned()));
        }
        Ok((answer, events))
    }

    /// Finds the tenant's install of the requested package (cached) and
    /// runs one call.
    async fn run_installed(
        &self,
        context: &CallContext,
        request: CallRequest,
    ) -> Result<(Answer, Vec<EmittedEvent>, UsageRow), CallFailure> {
        let CallRequest {
            package,
            operation,
            body,
            ..
        } = request;
        let Some(found) = self.installed(&context.tenant, &package).await? else {
            return Err(CallFailure::NotInstalled(package));
        };
        let (install, version) = &*found;
        let call = Call::Handle { operation, body };
        self.run(
            install,
            version,
            call,
            context.key.clone(),
            context.limits.storage_quota_bytes,
        )
        .await
    }

    /// Runs one call of an install and measures it: the sandbox's
    /// [`Invocation`] becomes the call's [`Answer`], the events it emitted
    /// and its [`UsageRow`] (returned, not yet recorded). `quota` is the
    /// tenant's storage limit: the install's own quota applies only below
    /// it.
    pub(crate) async fn run(
        &self,
        install: &InstallRecord,
        version: &VersionRecord,
        call: Call,
        idempotency_key: Option<String>,
        quota: u64,
    ) -> Result<(Answer, Vec<EmittedEvent>, UsageRow), CallFailure> {
        let plugin = self.component(version).await?;
        let context = Arc::new(install_context(install, &version.manifest, quota));
        let storage = Arc::new(DbKeyValue::new(self.store.clone()));
        // The call is a future on this worker: it yields every epoch tick
        // while the guest computes, suspends while it waits, and ends at its
        // deadline. No blocking-pool thread per call.
        let Invocation {
            result,
            usage,
            events,
            ..
        } = self
            .runtime
            .invoke(&plugin, context, storage, call, None)
            .await?;
        self.metrics
            .call(usage.outcome, usage.fuel_consumed, usage.wall_time_us);
        let usage_id = spleis_store::accounts::new_time_id();
        let (output, error) = match result {
            Ok(output) => (Some(output), None),
            Err(error) => (None, Some(error)),
        };
        let answer = Answer {
            output,
            error,
            outcome: usage.outcome,
            version: install.version.clone(),
            usage_id: usage_id.clone(),
            fuel: usage.fuel_consumed,
            replayed: false,
        };
        let row = UsageRow {
            id: usage_id,
            version: install.version.clone(),
            usage,
            idempotency_key,
            recorded_at: now_ms(),
        };
        Ok((answer, events, row))
    }

    /// Runs a call and hands its usage record to the pipeline.
    pub(crate) async fn run_and_record(
        &self,
        install: &InstallRecord,
        version: &VersionRecord,
        call: Call,
        quota: u64,
    ) -> Result<(Answer, Vec<EmittedEvent>), CallFailure> {
        let (answer, events, row) = self.run(install, version, call, None, quota).await?;
        self.usage.record(row).await?;
        Ok((answer, events))
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

    /// Loads a component: compiling on the blocking pool (it takes a while
    /// and must not hold an async worker), the trial instantiation here.
    /// One load per digest at a time on this node: a concurrent load of the
    /// same bytes waits and then finds the component in memory.
    pub(crate) async fn load(
        &self,
        bytes: Vec<u8>,
    ) -> Result<Result<Arc<LoadedPlugin>, LoadError>, tokio::task::JoinError> {
        let digest = spleis_registry::Digest::of(&bytes);
        let _turn = self.compiles.turn(&digest).await;
        if let Some(plugin) = self.runtime.loaded(&digest) {
            return Ok(Ok(plugin));
        }
        // The slot goes with the compile: a client that goes away does not
        // free it while the compile runs on.
        let slot = self.compiles.slot().await;
        let runtime = self.runtime.clone();
        let compiled = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            runtime.compile(&bytes)
        })
        .await?;
        // Trials take their own few slots: a flood of publishes waits here
        // and never takes a call's slot.
        let _slot = self.shares.trial_slot().await;
        Ok(match compiled {
            Ok(compiled) => self.runtime.admit(compiled).await,
            Err(error) => Err(error),
        })
    }
}

/// What identifies a request under an idempotency key: a hash of the
/// package, the operation and the body.
fn fingerprint(request: &CallRequest) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [
        request.package.as_bytes(),
        b"\0",
        request.operation.as_bytes(),
        b"\0",
        &request.body,
    ] {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// The stored answer for `key`, if it was stored for the same request.
fn replay(
    key: &str,
    fingerprint: &str,
    (stored_fingerprint, text): (String, String),
) -> Result<Answer, CallFailure> {
    if stored_fingerprint != fingerprint {
        return Err(CallFailure::KeyReused(key.to_owned()));
    }
    let mut answer: Answer = serde_json::from_str(&text)
        .map_err(|e| StoreError::corrupt(format!("stored answer for key `{key}`: {e}")))?;
    answer.replayed = true;
    Ok(answer)
}

/// What the runtime needs to know about an install.
fn install_context(install: &InstallRecord, manifest: &Manifest, quota: u64) -> Install {
    Install {
        tenant: install.tenant.clone(),
        plugin: install.package.clone(),
        grants: install.grants.clone(),
        config: install.config.clone(),
        metrics: manifest.metrics.clone(),
        storage_quota_bytes: crate::installs::quota_that_applies(install, quota),
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_1_to_255_bytes() {
        assert_eq!(idempotency_key(b"order-42_!~").unwrap(), "order-42_!~");
        assert!(idempotency_key(&[b'k'; MAX_IDEMPOTENCY_KEY_BYTES]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; MAX_IDEMPOTENCY_KEY_BYTES + 1],
            "clé".as_bytes(),
            b"two words",
            b"tab\t",
        ] {
            assert!(
                matches!(idempotency_key(bad), Err(CallFailure::InvalidKey(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            idempotency_key("clé".as_bytes()).unwrap_err().to_string(),
            "the Idempotency-Key must be 1 to 255 bytes of visible ASCII (`!` to `~`): byte 2 of this one is 0xc3"
        );
    }
}
