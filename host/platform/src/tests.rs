//! The platform's operations without HTTP: a real component (the hostile
//! fixture from `example-plugins/`), a fresh SQLite store per test, and
//! actors made the way a server makes them (bootstrap, accounts, tokens).

use crate::installs::InstallRequest;
use crate::usage::Durability;
use crate::{
    AccessError, Actor, CallFailure, CallRequest, Error, MAX_EVENT_DEPTH, Platform, PublishError,
};
use spleis_domain::accounts::{AccountError, Role};
use spleis_domain::registry::RegistryError;
use spleis_runtime::{Runtime, RuntimeConfig};
use spleis_store::testing::Guard;
use std::collections::BTreeMap;
use std::sync::Arc;

const OPERATOR_TOKEN: &str = "spl_test_operator";
const HOSTILE: &str = "fixtures/hostile";

/// A platform with an operator, an author (`fixtures`) and two tenants.
pub(crate) struct World {
    pub(crate) platform: Arc<Platform>,
    operator: Actor,
    pub(crate) author: Actor,
    pub(crate) tenant: Actor,
    other_tenant: Actor,
    _guard: Guard,
}

/// A sandbox for a test platform.
pub(crate) fn runtime() -> Arc<Runtime> {
    // Compiled components are shared between tests (and runs): compiling the
    // fixture is the slow part of a test.
    let cache_dir = std::env::temp_dir().join("spleis-platform-tests-cache");
    Arc::new(
        Runtime::new(RuntimeConfig {
            max_instances: 4,
            cache_dir: Some(cache_dir),
            ..Default::default()
        })
        .expect("runtime"),
    )
}

/// A platform on a fresh SQLite store with no account, for operations
/// that run no plugin.
pub(crate) async fn bare_platform() -> (Platform, Guard) {
    let (store, guard) = spleis_store::testing::sqlite().await;
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 2,
        ..Default::default()
    })
    .expect("runtime");
    (
        Platform::new(store, Arc::new(runtime), Durability::Sync),
        guard,
    )
}

/// The actor of the existing account `id`, through a new token.
pub(crate) async fn actor_of(platform: &Platform, id: &str) -> Actor {
    let token = platform.store.issue_token(id, "t").await.unwrap();
    platform.authenticate(&token).await.unwrap().unwrap()
}

/// An operator `op` and two tenants, `a` and `b`, on `platform`: the
/// actors of `op` and `a`.
pub(crate) async fn operator_and_two_tenants(platform: &Platform) -> (Actor, Actor) {
    for (id, role) in [
        ("op", Role::Operator),
        ("a", Role::Tenant),
        ("b", Role::Tenant),
    ] {
        platform.store.create_account(id, role, id).await.unwrap();
    }
    (
        actor_of(platform, "op").await,
        actor_of(platform, "a").await,
    )
}

async fn world() -> World {
    let (store, guard) = spleis_store::testing::sqlite().await;
    world_on(store, guard).await
}

/// A world on the given store (the races run on both backends).
pub(crate) async fn world_on(store: spleis_store::Store, guard: Guard) -> World {
    // The operations under test, not the shares: a tenant may use the pool
    // and wait for its turn (the shares have their own tests).
    let platform = Arc::new(
        Platform::new(store, runtime(), Durability::Sync).with_limits(
            crate::limits::LimitDefaults {
                concurrency: 32,
                queue_wait: std::time::Duration::from_secs(30),
                ..crate::limits::LimitDefaults::for_instances(64)
            },
        ),
    );
    platform
        .bootstrap_operator(Some(OPERATOR_TOKEN))
        .await
        .expect("bootstrap");
    let operator = platform
        .authenticate(OPERATOR_TOKEN)
        .await
        .expect("authenticates")
        .expect("the operator's token");
    let author = account(&platform, &operator, "fixtures", Role::Author).await;
    let tenant = account(&platform, &operator, "tenant-a", Role::Tenant).await;
    let other_tenant = account(&platform, &operator, "tenant-b", Role::Tenant).await;
    World {
        platform,
        operator,
        author,
        tenant,
        other_tenant,
        _guard: guard,
    }
}

async fn account(platform: &Platform, operator: &Actor, id: &str, role: Role) -> Actor {
    let created = platform
        .create_account(operator, id, role, None)
        .await
        .expect("the operator creates accounts");
    platform
        .authenticate(&created.token)
        .await
        .expect("authenticates")
        .expect("the new token")
}

pub(crate) fn hostile_install() -> InstallRequest {
    InstallRequest {
        package: HOSTILE.into(),
        grants: ["storage", "events", "log", "metering"]
            .iter()
            .map(|c| c.parse().expect("capability"))
            .collect(),
        ..Default::default()
    }
}

impl World {
    /// Publishes the hostile fixture and installs it for the tenant.
    pub(crate) async fn installed(&self) -> crate::Published {
        let bytes = spleis_tests::plugin("hostile");
        let published = self
            .platform
            .publish(&self.author, bytes, None)
            .await
            .expect("publishes");
        assert!(published.created);
        self.platform
            .install(&self.tenant, &hostile_install())
            .await
            .expect("installs");
        published
    }

    pub(crate) async fn echo(&self, body: &str, key: Option<&str>) -> Result<crate::Answer, Error> {
        self.platform
            .call(
                &self.tenant,
                CallRequest {
                    idempotency_key: key.map(|k| k.as_bytes().to_vec()),
                    ..CallRequest::new(HOSTILE, "echo", body.as_bytes().to_vec())
                },
            )
            .await
    }

    pub(crate) async fn usage_count(&self) -> usize {
        self.platform
            .usage_records(&self.tenant, None, None)
            .await
            .expect("reads usage")
            .records
            .len()
    }
}

fn is_role_refusal(result: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Access(AccessError::Role { .. })))
}

#[tokio::test]
async fn publishing_checks_the_component_and_twice_the_same_bytes_changes_nothing() {
    let w = world().await;
    let bytes = spleis_tests::plugin("hostile");
    let first = w
        .platform
        .publish(&w.author, bytes.clone(), None)
        .await
        .expect("publishes");
    assert!(first.created);
    assert_eq!(first.version.package, HOSTILE);
    assert!(first.version.manifest.operations.contains("echo"));
    let again = w
        .platform
        .publish(&w.author, bytes, None)
        .await
        .expect("publishes again");
    assert!(!again.created);
    assert_eq!(again.version.digest, first.version.digest);

    let refused = w
        .platform
        .publish(&w.author, b"not wasm".to_vec(), None)
        .await;
    assert!(
        matches!(refused, Err(Error::Publish(PublishError::Component(_)))),
        "{refused:?}"
    );
    let catalog = w.platform.catalog(&w.tenant, None).await.expect("catalog");
    assert_eq!(catalog.len(), 1);
    let detail = w
        .platform
        .package(&w.tenant, HOSTILE)
        .await
        .expect("package");
    assert_eq!(
        (detail.owners, detail.versions.len()),
        (vec!["fixtures".to_owned()], 1)
    );
}

#[tokio::test]
async fn only_owners_yank_and_only_publishers_publish() {
    let w = world().await;
    let version = w.installed().await.version.version.to_string();
    let version = version.as_str();
    // Another author owns no namespace `fixtures`.
    let stranger = account(&w.platform, &w.operator, "stranger", Role::Author).await;
    let refused = w
        .platform
        .set_yanked(&stranger, HOSTILE, version, true)
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Registry(RegistryError::NotOwner { .. }))
        ),
        "{refused:?}"
    );
    w.platform
        .set_yanked(&w.author, HOSTILE, version, true)
        .await
        .expect("the owner yanks");
    let bad = w.platform.set_yanked(&w.author, HOSTILE, "one", true).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    assert!(is_role_refusal(
        w.platform
            .publish(&w.tenant, spleis_tests::plugin("hostile"), None)
            .await
    ));
    assert!(is_role_refusal(
        w.platform
            .add_owner(&w.tenant, "fixtures", "tenant-a")
            .await
    ));
}

#[tokio::test]
async fn roles_decide_who_may_do_what() {
    let w = world().await;
    // Only the operator creates accounts.
    for actor in [&w.author, &w.tenant] {
        assert!(is_role_refusal(
            w.platform
                .create_account(actor, "someone", Role::Tenant, None)
                .await
        ));
    }
    let exists = w
        .platform
        .create_account(&w.operator, "tenant-a", Role::Tenant, None)
        .await;
    assert!(
        matches!(exists, Err(Error::Account(AccountError::Exists(_)))),
        "{exists:?}"
    );
    // Authors and the operator do not install, call or emit.
    for actor in [&w.author, &w.operator] {
        assert!(is_role_refusal(
            w.platform.install(actor, &hostile_install()).await
        ));
        assert!(is_role_refusal(w.platform.installs(actor).await));
        assert!(is_role_refusal(
            w.platform
                .call(actor, CallRequest::new(HOSTILE, "echo", Vec::new()))
                .await
        ));
        assert!(is_role_refusal(
            w.platform.emit(actor, "loop.ping", b"1".to_vec()).await
        ));
    }
    // Usage: a tenant its own, the operator any named tenant, authors none.
    let own = w
        .platform
        .usage_records(&w.tenant, Some("tenant-a"), None)
        .await
        .expect("its own");
    assert_eq!(own.tenant, "tenant-a");
    let other = w
        .platform
        .usage_records(&w.tenant, Some("tenant-b"), None)
        .await;
    assert!(
        matches!(other, Err(Error::Access(AccessError::Forbidden(_)))),
        "{other:?}"
    );
    let author = w.platform.usage_records(&w.author, None, None).await;
    assert!(
        matches!(author, Err(Error::Access(AccessError::Forbidden(_)))),
        "{author:?}"
    );
    let unnamed = w.platform.usage_records(&w.operator, None, None).await;
    assert!(matches!(unnamed, Err(Error::Invalid(_))), "{unnamed:?}");
    let named = w
        .platform
        .usage_records(&w.operator, Some("tenant-b"), Some(5))
        .await
        .expect("the operator names a tenant");
    assert_eq!(named.tenant, "tenant-b");
}

#[tokio::test]
async fn a_tenant_sees_and_calls_only_its_own_installs() {
    let w = world().await;
    w.installed().await;
    let answer = w.echo("{\"hi\":1}", None).await.expect("calls");
    assert_eq!(answer.output(), Some(&b"{\"hi\":1}"[..]));
    let installs = w.platform.installs(&w.other_tenant).await.expect("lists");
    assert!(installs.is_empty());
    let call = w
        .platform
        .call(
            &w.other_tenant,
            CallRequest::new(HOSTILE, "echo", Vec::new()),
        )
        .await;
    assert!(
        matches!(call, Err(Error::Call(CallFailure::NotInstalled(_)))),
        "{call:?}"
    );
    let detail = w.platform.install_detail(&w.other_tenant, HOSTILE).await;
    assert!(matches!(detail, Err(Error::NotInstalled(_))), "{detail:?}");
    let detail = w
        .platform
        .install_detail(&w.tenant, HOSTILE)
        .await
        .expect("its own");
    assert_eq!(detail.history[0].action, "install");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_answer_and_bills_once() {
    let w = world().await;
    w.installed().await;
    let first = w.echo("{\"n\":1}", Some("req-1")).await.expect("calls");
    assert!(!first.replayed);
    let retry = w.echo("{\"n\":1}", Some("req-1")).await.expect("replays");
    assert!(retry.replayed);
    assert_eq!(
        (retry.usage_id.as_str(), retry.output()),
        (first.usage_id.as_str(), first.output())
    );
    assert_eq!(w.usage_count().await, 1, "billed once");

    let reused = w.echo("{\"n\":2}", Some("req-1")).await;
    assert!(
        matches!(reused, Err(Error::Call(CallFailure::KeyReused(_)))),
        "{reused:?}"
    );
    assert_eq!(w.usage_count().await, 1, "a refused retry is not billed");
    // Without a key every call is a call.
    w.echo("{}", None).await.expect("calls");
    w.echo("{}", None).await.expect("calls");
    assert_eq!(w.usage_count().await, 3);
}

#[tokio::test]
async fn events_reach_subscribers_until_the_depth_limit() {
    let w = world().await;
    w.installed().await;
    let deliveries = w
        .platform
        .emit(&w.tenant, "loop.ping", b"1".to_vec())
        .await
        .expect("delivers");
    let depths: Vec<u32> = deliveries.iter().map(|d| d.depth).collect();
    let expected: Vec<u32> = (0..=MAX_EVENT_DEPTH + 1).collect();
    assert_eq!(depths, expected);
    assert!(deliveries.iter().all(|d| d.package == HOSTILE));
    let (delivered, cut) = deliveries.split_at(deliveries.len() - 1);
    assert!(delivered.iter().all(|d| d.outcome == "ok"), "{delivered:?}");
    assert_eq!(cut[0].outcome, "depth-limit");
    // Every delivery that ran is metered; the one cut off is not.
    assert_eq!(w.usage_count().await, delivered.len());

    // No subscriber: nothing delivered. A malformed topic is refused.
    let none = w
        .platform
        .emit(&w.tenant, "nobody.listens", Vec::new())
        .await
        .expect("delivers");
    assert!(none.is_empty());
    let bad = w.platform.emit(&w.tenant, "Not A Topic", Vec::new()).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    // The other tenant's installs hear nothing of it.
    let other = w
        .platform
        .emit(&w.other_tenant, "loop.ping", b"1".to_vec())
        .await
        .expect("delivers");
    assert!(other.is_empty());
}

/// A world whose tenant made a call that emitted `loop.ping`: the call
/// answered, and its deliveries run in the background.
async fn after_an_emitting_call() -> World {
    let w = world().await;
    w.installed().await;
    w.platform
        .call(&w.tenant, CallRequest::new(HOSTILE, "emit", b"1".to_vec()))
        .await
        .expect("calls");
    w
}

#[tokio::test]
async fn events_a_call_emits_are_delivered_after_it_returns() {
    let w = after_an_emitting_call().await;
    // The call, then the chain from depth 1 to the limit, delivered off the
    // call's path.
    let expected = 1 + MAX_EVENT_DEPTH as usize;
    for _ in 0..200 {
        if w.usage_count().await >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(w.usage_count().await, expected);
}

#[tokio::test]
async fn a_stop_waits_for_the_deliveries_of_calls_that_answered() {
    let w = after_an_emitting_call().await;
    // A stop (after the last request) waits for the deliveries and writes
    // their usage.
    w.platform.drain().await;
    assert_eq!(w.usage_count().await, 1 + MAX_EVENT_DEPTH as usize);
}

#[tokio::test]
async fn a_change_forgets_the_cached_install() {
    let w = world().await;
    w.installed().await;
    // The first call caches the install; the changes below must not wait
    // for the cache to expire.
    w.echo("{}", None).await.expect("calls");
    let mut config = BTreeMap::new();
    config.insert("k".to_owned(), "v".to_owned());
    w.platform
        .set_config(&w.tenant, HOSTILE, &config)
        .await
        .expect("configures");
    let cached = w.platform.installed("tenant-a", HOSTILE).await;
    let cached = cached.expect("looks up").expect("installed");
    assert_eq!(cached.0.config, config, "the new settings, not the cached");

    w.platform
        .uninstall(&w.tenant, HOSTILE, true)
        .await
        .expect("uninstalls");
    let call = w.echo("{}", None).await;
    assert!(
        matches!(call, Err(Error::Call(CallFailure::NotInstalled(_)))),
        "{call:?}"
    );
    w.platform
        .install(&w.tenant, &hostile_install())
        .await
        .expect("installs again");
    w.echo("{}", None).await.expect("calls the new install");
}

/// A node that still caches an install (for the caches' TTL) cannot write
/// into its storage after another node uninstalled and purged it: the write
/// would survive the purge and reappear on a reinstall.
#[tokio::test]
async fn a_purged_scope_takes_no_write_from_a_node_that_still_caches_the_install() {
    use spleis_runtime::capabilities::storage::{self, KeyValueStore, Scope};
    let w = world().await;
    w.installed().await;
    let kv = crate::kv::DbKeyValue::new(w.platform.store.clone());
    let scope = Scope {
        tenant: "tenant-a".into(),
        plugin: HOSTILE.into(),
    };
    kv.set(&scope, "k", b"v", 1 << 20)
        .await
        .expect("writes while installed");
    w.platform
        .uninstall(&w.tenant, HOSTILE, true)
        .await
        .expect("uninstalls");
    // What the node with the stale cache does next.
    let refused = kv.set(&scope, "late", b"v", 1 << 20).await;
    assert!(
        matches!(&refused, Err(storage::StorageError::Unavailable(m)) if m.contains("uninstalled")),
        "{refused:?}"
    );
    assert_eq!(kv.used_bytes(&scope).await.unwrap(), 0);
    w.platform
        .install(&w.tenant, &hostile_install())
        .await
        .expect("installs again");
    assert_eq!(kv.get(&scope, "late").await.unwrap(), None);
    kv.set(&scope, "again", b"v", 1 << 20)
        .await
        .expect("writes after the reinstall");
}

impl World {
    /// The operator sets the tenant's fan-out budget (`None`: the default).
    async fn fan_out(&self, fan_out: Option<u32>) {
        let limits = crate::limits::LimitOverrides {
            fan_out,
            ..Default::default()
        };
        self.platform
            .set_tenant_limits(&self.operator, "tenant-a", &limits)
            .await
            .expect("the operator sets the tenant's fan-out");
    }
}

/// Events one platform event causes share one budget of deliveries across
/// all depths (the tenant's fan-out limit, the operator's): past it the
/// rest are recorded as `fan-out-limit` and not run.
#[tokio::test]
async fn a_fan_out_past_the_budget_is_recorded_and_not_run() {
    let w = world().await;
    w.installed().await;
    w.fan_out(Some(2)).await;
    // The fixture answers every `loop.ping` with another: a chain.
    let deliveries = w
        .platform
        .emit(&w.tenant, "loop.ping", b"{}".to_vec())
        .await
        .expect("emits");
    let outcomes: Vec<&str> = deliveries.iter().map(|d| d.outcome.as_str()).collect();
    assert_eq!(outcomes, ["ok", "ok", "fan-out-limit"], "{deliveries:?}");
    assert!(deliveries[2].message.contains("at most 2 deliveries"));
    // Without the override, the chain runs to the depth limit.
    w.fan_out(None).await;
    let deliveries = w
        .platform
        .emit(&w.tenant, "loop.ping", b"{}".to_vec())
        .await
        .expect("emits");
    assert_eq!(
        deliveries.last().map(|d| d.outcome.as_str()),
        Some("depth-limit"),
        "{deliveries:?}"
    );
}

/// A call whose events the fan-out budget cut short says so on its own
/// usage record.
#[tokio::test]
async fn the_calls_record_says_how_many_deliveries_were_dropped() {
    let w = world().await;
    w.installed().await;
    w.fan_out(Some(2)).await;
    // `emit` sends one `loop.ping`; each delivery answers with another.
    let answer = w
        .platform
        .call(&w.tenant, CallRequest::new(HOSTILE, "emit", b"{}".to_vec()))
        .await
        .expect("calls");
    let mut dropped = 0;
    for _ in 0..100 {
        let usage = w
            .platform
            .usage_records(&w.tenant, None, Some(100))
            .await
            .expect("reads usage");
        dropped = usage
            .records
            .iter()
            .find(|r| r.id == answer.usage_id)
            .map_or(0, |r| r.usage.deliveries_dropped);
        if dropped > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(dropped, 1, "two deliveries ran, the third was dropped");
}

#[tokio::test]
async fn a_cached_token_stops_working_when_it_expires() {
    let world = world().await;
    let expires_at = spleis_store::now_ms() + 1_000;
    let created = world
        .platform
        .create_token(&world.tenant, None, "short", Some(expires_at))
        .await
        .expect("a token that expires");
    let platform = &world.platform;
    // Cached now (unless the machine took a second to get here).
    let cached = platform.authenticate(&created.token).await.unwrap();
    assert!(cached.is_some() || spleis_store::now_ms() >= expires_at);
    // Within the cache's 2 s, but past the expiry.
    let left = u64::try_from(expires_at - spleis_store::now_ms()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(left + 100)).await;
    assert!(
        platform
            .authenticate(&created.token)
            .await
            .unwrap()
            .is_none()
    );
}
