//! # spleis-server
//!
//! The HTTP API under `/v1` (axum, JSON), `/healthz`. Handlers translate
//! HTTP to the platform's operations and back; they hold no rules.
//!
//! Errors are `{"error": {"code", "message"}}`. Every `/v1` route needs a
//! bearer token; what it may do follows from the caller's role and what it
//! owns: authors publish into namespaces they own, tenants see and call
//! only their own installs and usage, the operator manages accounts.

mod auth;
mod billing;
mod error;
mod routes;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use spleis_platform::Platform;
use std::sync::Arc;

/// The largest request body: a 20 MiB component in base64, with room.
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// The largest call body.
pub const MAX_CALL_BODY_BYTES: usize = 1 << 20;

async fn forget_installs_after_change(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: auth::Caller,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let changes = request.method() != axum::http::Method::GET;
    let response = next.run(request).await;
    if changes && response.status().is_success() {
        state.platform.forget_installs(&caller.0.id);
    }
    response
}

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The platform.
    pub platform: Arc<Platform>,
}

/// Serves the API on `listener` until `shutdown` completes, then drains
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    platform: Arc<Platform>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(platform))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The API's routes.
pub fn router(platform: Arc<Platform>) -> Router {
    let state = AppState { platform };
    // Routes that change installs: after one succeeds, this node forgets
    // the caller's cached installs so its next call sees the change.
    let installs = Router::new()
        .route("/v1/installs", post(routes::install).get(routes::installs))
        .route(
            "/v1/installs/{namespace}/{name}",
            get(routes::install_detail).delete(routes::uninstall),
        )
        .route(
            "/v1/installs/{namespace}/{name}/upgrade",
            post(routes::upgrade),
        )
        .route(
            "/v1/installs/{namespace}/{name}/rollback",
            post(routes::rollback),
        )
        .route(
            "/v1/installs/{namespace}/{name}/config",
            put(routes::set_config),
        )
        .route("/v1/upgrades", get(routes::pending_upgrades))
        .route(
            "/v1/upgrades/{namespace}/{name}/{version}",
            post(routes::approve_upgrade).merge(delete(routes::decline_upgrade)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            forget_installs_after_change,
        ));
    Router::new()
        .merge(installs)
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics))
        .route("/v1/openapi.json", get(routes::openapi))
        .route("/v1/accounts", post(routes::create_account))
        .route("/v1/whoami", get(routes::whoami))
        .route("/v1/packages", post(routes::publish).get(routes::catalog))
        .route("/v1/packages/{namespace}/{name}", get(routes::package))
        .route(
            "/v1/packages/{namespace}/{name}/versions/{version}/yank",
            post(routes::yank).delete(routes::unyank),
        )
        .route("/v1/namespaces/{namespace}/owners", post(routes::add_owner))
        .route(
            "/v1/plugins/{namespace}/{name}/{operation}",
            post(routes::call).layer(DefaultBodyLimit::max(MAX_CALL_BODY_BYTES)),
        )
        .route("/v1/usage", get(routes::usage))
        .route(
            "/v1/billing/settings",
            get(billing::settings).put(billing::set_settings),
        )
        .route("/v1/billing/close", post(billing::close))
        .route("/v1/billing/periods", get(billing::periods))
        .route("/v1/billing/ledger", get(billing::ledger))
        .route(
            "/v1/packages/{namespace}/{name}/plan",
            get(billing::plans).put(billing::set_plan),
        )
        .route(
            "/v1/packages/{namespace}/{name}/agreement",
            get(billing::agreement).put(billing::set_agreement),
        )
        .route(
            "/v1/investments",
            post(billing::invest).get(billing::investments),
        )
        .route(
            "/v1/campaigns",
            post(billing::create_campaign).get(billing::campaigns),
        )
        .route("/v1/campaigns/{id}", get(billing::campaign))
        .route("/v1/campaigns/{id}/pledges", post(billing::pledge))
        .route("/v1/campaigns/{id}/close", post(billing::close_campaign))
        .route("/v1/tenants/{tenant}/minimum", put(billing::set_minimum))
        .route(
            "/v1/tenants/{tenant}/discounts",
            post(billing::add_discount),
        )
        .route("/v1/tenants/{tenant}/credit", post(billing::grant_credit))
        .route("/v1/invoices", get(billing::invoices))
        .route("/v1/invoices/{number}", get(billing::invoice))
        .route("/v1/statements", get(billing::statements))
        .route("/v1/statements/{number}", get(billing::statement))
        .route("/v1/reports/usage", get(billing::usage_report))
        .route(
            "/v1/events",
            post(routes::emit).layer(DefaultBodyLimit::max(MAX_CALL_BODY_BYTES)),
        )
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Every route the router serves is described in the OpenAPI document.
    #[test]
    fn the_openapi_document_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("valid JSON");
        let source = include_str!("lib.rs");
        let router = source.split("mod tests").next().unwrap_or(source);
        let routes: Vec<&str> = router
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
            .collect();
        assert!(routes.len() > 15, "{routes:?}");
        for route in routes {
            assert!(
                doc["paths"].get(route).is_some(),
                "{route} is not in openapi.json"
            );
        }
    }
}
