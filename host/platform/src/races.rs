//! Operations run at once, on one platform and on two platforms sharing one
//! database (two nodes): each race is repeated, on SQLite and PostgreSQL,
//! and its outcome is asserted, never its timing.

use crate::Platform;
use crate::maintenance::Bootstrap;
use crate::tests::runtime;
use crate::usage::Durability;
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
