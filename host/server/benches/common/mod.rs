//! What the HTTP benches share: accounts made as `spleis serve` makes them.

use spleis_platform::{Actor, Platform};
use spleis_server::types::Role;

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
