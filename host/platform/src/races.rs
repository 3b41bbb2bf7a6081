//! Operations run at once, on one platform and on two platforms sharing one
//! database (two nodes): each race is repeated, on SQLite and PostgreSQL,
//! and its outcome is asserted, never its timing.

use crate::maintenance::Bootstrap;
use crate::tests::{hostile_install, runtime, world_on};
use crate::usage::Durability;
use crate::{CallFailure, CallRequest, Error, Platform};
use spleis_domain::installs::InstallError;
use std::sync::Arc;

/// Rounds per race: the races failed in 3 to 7 of 10 trials before.
const ROUNDS: usize = 10;

#[tokio::test]
async fn nodes_bootstrapping_at_once_create_one_operator() {
    let runtime = runtime();
    for round in 0..ROUNDS {
        // Fresh databases every round: the race is on the first start.
        for (store, _guard) in spleis_store::testing::all().await {
            let nodes: Vec<Arc<Platform>> = (0..4)
                .map(|_| {
                    Arc::new(Platform::new(
                        store.clone(),
                        runtime.clone(),
                        Durability::Sync,
                    ))
                })
                .collect();
            let tasks: Vec<_> = nodes
                .iter()
                .enumerate()
                .map(|(i, node)| {
                    let node = node.clone();
                    // Half with the environment's token, half drawing one.
                    let token = (i % 2 == 0).then_some("spl_bootstrap_race");
                    tokio::spawn(async move { node.bootstrap_operator(token).await })
                })
                .collect();
            let mut created = 0;
            for task in tasks {
                match task.await.expect("joins").expect("every node starts") {
                    Bootstrap::Created { .. } => created += 1,
                    Bootstrap::Existing => {}
                }
            }
            assert_eq!(created, 1, "round {round}: one node creates the operator");
            let operator = nodes[1]
                .authenticate("spl_bootstrap_race")
                .await
                .expect("authenticates");
            assert!(operator.is_some(), "round {round}: the given token works");
        }
    }
}

/// Successful calls this platform ran (its `/metrics` counter).
fn ok_runs(platform: &Platform) -> u64 {
    platform
        .render_metrics(None)
        .lines()
        .find_map(|l| l.strip_prefix("spleis_calls_total{outcome=\"ok\"} "))
        .map_or(0, |n| n.parse().expect("a count"))
}

#[tokio::test]
async fn the_same_bytes_published_at_once_are_published_once() {
    for round in 0..ROUNDS {
        for (store, guard) in spleis_store::testing::all().await {
            let w = world_on(store, guard).await;
            let bytes = spleis_tests::plugin("hostile");
            // As many as the test sandbox has instance slots: publishing
            // instantiates once to check the component.
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (platform, author, bytes) =
                        (w.platform.clone(), w.author.clone(), bytes.clone());
                    tokio::spawn(async move { platform.publish(&author, bytes, None).await })
                })
                .collect();
            let mut created = 0;
            for task in tasks {
                let published = task.await.expect("joins").expect("no publish fails");
                created += usize::from(published.created);
            }
            assert_eq!(
                created, 1,
                "round {round}: one is new, the others unchanged"
            );
        }
    }
}

#[tokio::test]
async fn concurrent_idempotent_calls_with_one_key_run_the_plugin_once() {
    for (store, guard) in spleis_store::testing::all().await {
        let w = world_on(store, guard).await;
        w.installed().await;
        for round in 0..ROUNDS {
            let key = format!("race-{round}");
            let runs_before = ok_runs(&w.platform);
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let (platform, tenant, key) =
                        (w.platform.clone(), w.tenant.clone(), key.clone());
                    tokio::spawn(async move {
                        platform
                            .call(
                                &tenant,
                                CallRequest::new("fixtures/hostile", "echo", b"{}".to_vec())
                                    .with_idempotency_key(key.as_bytes()),
                            )
                            .await
                    })
                })
                .collect();
            let (mut fresh, mut usage_ids) = (0, std::collections::BTreeSet::new());
            for task in tasks {
                match task.await.expect("joins") {
                    Ok(answer) => {
                        fresh += usize::from(!answer.replayed);
                        usage_ids.insert(answer.usage_id);
                    }
                    Err(Error::Call(CallFailure::KeyInProgress(_))) => {}
                    Err(other) => panic!("round {round}: {other}"),
                }
            }
            let replay = w.echo("{}", Some(&key)).await.expect("replays");
            assert!(replay.replayed, "round {round}");
            usage_ids.insert(replay.usage_id);
            assert!(fresh <= 1, "round {round}: {fresh} fresh answers");
            assert_eq!(usage_ids.len(), 1, "round {round}: one answer per key");
            assert_eq!(
                ok_runs(&w.platform) - runs_before,
                1,
                "round {round}: one run"
            );
            assert_eq!(
                w.usage_count().await,
                round + 1,
                "round {round}: billed once"
            );
        }
    }
}

#[tokio::test]
async fn the_same_install_made_at_once_installs_once() {
    for (store, guard) in spleis_store::testing::all().await {
        let w = world_on(store, guard).await;
        w.platform
            .publish(&w.author, spleis_tests::plugin("hostile"), None)
            .await
            .expect("publishes");
        for round in 0..ROUNDS {
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let (platform, tenant) = (w.platform.clone(), w.tenant.clone());
                    tokio::spawn(async move { platform.install(&tenant, &hostile_install()).await })
                })
                .collect();
            let mut installed = 0;
            for task in tasks {
                match task.await.expect("joins") {
                    Ok(_) => installed += 1,
                    Err(Error::Install(InstallError::AlreadyInstalled(_))) => {}
                    Err(other) => panic!("round {round}: {other}"),
                }
            }
            assert_eq!(installed, 1, "round {round}");
            w.platform
                .uninstall(&w.tenant, "fixtures/hostile", false)
                .await
                .expect("uninstalls");
        }
    }
}
