//! What the HTTP benches share: a platform on SQLite with the hostile
//! fixture installed for some tenants, accounts made as `spleis serve`
//! makes them.

use spleis_platform::installs::InstallRequest;
use spleis_platform::limits::LimitDefaults;
use spleis_platform::maintenance::{Database, PlatformConfig};
use spleis_platform::usage::Durability;
use spleis_platform::{Actor, Platform};
use spleis_runtime::RuntimeConfig;
use spleis_server::types::Role;
use std::sync::Arc;

/// A platform on SQLite in `data` with the hostile fixture published and
/// installed for each of `tenants` (their actors and tokens, in order).
pub async fn hostile_platform(
    data: &std::path::Path,
    runtime: RuntimeConfig,
    limits: LimitDefaults,
    tenants: &[&str],
) -> (Arc<Platform>, Vec<(Actor, String)>) {
    let platform = Platform::open(PlatformConfig {
        database: Database::DataDir(data.to_path_buf()),
        runtime,
        durability: Durability::Batched,
        limits,
        webhooks: Default::default(),
        tokens_per_account: spleis_platform::accounts::DEFAULT_TOKENS_PER_ACCOUNT,
    })
    .await
    .expect("platform");
    let operator = operator(&platform).await;
    let (author, _) = account(&platform, &operator, "fixtures", Role::Author).await;
    platform
        .publish(&author, spleis_tests::plugin("hostile"), None)
        .await
        .expect("publishes");
    let mut accounts = Vec::new();
    for id in tenants {
        let (tenant, token) = account(&platform, &operator, id, Role::Tenant).await;
        let install = InstallRequest {
            package: "fixtures/hostile".into(),
            grants: ["storage", "events", "log", "metering"]
                .iter()
                .map(|c| c.parse().expect("capability"))
                .collect(),
            storage_quota_bytes: Some(1 << 20),
            ..Default::default()
        };
        platform.install(&tenant, &install).await.expect("installs");
        accounts.push((tenant, token));
    }
    (platform, accounts)
}

/// The bootstrap operator, as `spleis serve` makes it.
pub async fn operator(platform: &Platform) -> Actor {
    const OPERATOR_TOKEN: &str = "spl_bench_operator";
    platform
        .bootstrap_operator(Some(OPERATOR_TOKEN))
        .await
        .expect("bootstrap");
    platform
        .authenticate(OPERATOR_TOKEN)
        .await
        .expect("authenticates")
        .expect("the operator")
}

/// An account the operator creates, and its token.
pub async fn account(
    platform: &Platform,
    operator: &Actor,
    id: &str,
    role: Role,
) -> (Actor, String) {
    let created = platform
        .create_account(operator, id, role, None)
        .await
        .expect("creates the account");
    let actor = platform
        .authenticate(&created.token)
        .await
        .expect("authenticates")
        .expect("the new account");
    (actor, created.token)
}
