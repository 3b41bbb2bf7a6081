//! # spleis-server
//!
//! The HTTP API under `/v1` (axum, JSON), `/healthz`, and the web console
//! (`spleis-console`) mounted at `/`. Handlers translate
//! HTTP to the platform's operations and back; they hold no rules.
//!
//! Errors are `{"error": {"code", "message"}}`. Every `/v1` route needs a
//! bearer token; what it may do follows from the caller's role and what it
//! owns: authors publish into namespaces they own, tenants see and call
//! only their own installs and usage, the operator manages accounts.

mod auth;
mod billing;
mod error;
mod headers;
mod limits;
mod notifications;
mod parties;
mod routes;
mod tokens;
pub mod types;
mod wishlist;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use spleis_platform::Platform;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest request body: a 20 MiB component in base64, with room.
pub const MAX_BODY_BYTES: usize = 32 << 20;
/// The largest call body.
pub const MAX_CALL_BODY_BYTES: usize = 1 << 20;

/// The top of the OpenAPI document; the paths and schemas come from the
/// handlers' `#[utoipa::path]` annotations and the types they take and
/// return, through [`api`].
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "spleis",
        description = "Run, meter and bill sandboxed WebAssembly plugins. Every `/v1` route needs `Authorization: Bearer <token>`; errors are `{\"error\": {\"code\", \"message\"}}`. Amounts are integer minor units (`*_minor`).",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(types::ErrorBody, types::ErrorDetail))
)]
struct ApiDoc;

/// The bearer-token security scheme every `/v1` route uses.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The platform.
    pub platform: Arc<Platform>,
    /// The OpenAPI document as JSON, set once the router that it describes
    /// is built.
    openapi: Arc<std::sync::OnceLock<String>>,
}

impl AppState {
    /// The state of a router over `platform`.
    pub fn new(platform: Arc<Platform>) -> Self {
        Self {
            platform,
            openapi: Arc::default(),
        }
    }
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

/// The API's routes, with `/v1/openapi.json` serving the document
/// generated from them.
pub fn router(platform: Arc<Platform>) -> Router {
    let state = AppState::new(platform);
    let (router, doc) = api(state.clone());
    // Generated once: the document is the router's, and the router is fixed.
    let _ = state.openapi.set(doc.to_pretty_json().unwrap_or_default());
    // The web console is another face of the same platform, at `/`; the API
    // keeps `/v1` (and answers JSON for paths neither knows).
    router
        .merge(spleis_console::router(state.platform.clone()))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// The routes and the OpenAPI document generated from the same handlers
/// (their `#[utoipa::path]` annotations and the types they take and return):
/// one source, so the two cannot drift.
pub fn api(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    // Calls and events carry a plugin's input: a smaller body limit.
    let calls = OpenApiRouter::new()
        .routes(routes!(routes::call))
        .routes(routes!(routes::emit))
        .layer(DefaultBodyLimit::max(MAX_CALL_BODY_BYTES));
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::healthz))
        .routes(routes!(routes::openapi))
        .routes(routes!(routes::metrics))
        .routes(routes!(routes::create_account))
        .routes(routes!(routes::whoami))
        .routes(routes!(tokens::tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(routes::publish, routes::catalog))
        .routes(routes!(routes::package))
        .routes(routes!(routes::yank, routes::unyank))
        .routes(routes!(routes::add_owner))
        .routes(routes!(routes::install, routes::installs))
        .routes(routes!(routes::install_detail, routes::uninstall))
        .routes(routes!(routes::upgrade))
        .routes(routes!(routes::rollback))
        .routes(routes!(routes::set_config))
        .routes(routes!(routes::pending_upgrades))
        .routes(routes!(routes::approve_upgrade, routes::decline_upgrade))
        .routes(routes!(routes::usage))
        .routes(routes!(limits::my_limits))
        .routes(routes!(limits::tenant_limits, limits::set_tenant_limits))
        .merge(calls)
        .routes(routes!(billing::settings, billing::set_settings))
        .routes(routes!(billing::close))
        .routes(routes!(billing::periods))
        .routes(routes!(billing::ledger))
        .routes(routes!(billing::plans, billing::set_plan))
        .routes(routes!(billing::agreement, billing::set_agreement))
        .routes(routes!(billing::invest, billing::investments))
        .routes(routes!(billing::create_campaign, billing::campaigns))
        .routes(routes!(billing::campaign))
        .routes(routes!(billing::pledge))
        .routes(routes!(billing::close_campaign))
        .routes(routes!(billing::void_line, billing::voids))
        .routes(routes!(billing::remove_void))
        .routes(routes!(billing::set_minimum))
        .routes(routes!(billing::add_commitment, billing::commitments))
        .routes(routes!(billing::end_commitment))
        .routes(routes!(billing::add_discount))
        .routes(routes!(billing::grant_credit))
        .routes(routes!(billing::invoices))
        .routes(routes!(billing::invoice))
        .routes(routes!(billing::statements))
        .routes(routes!(billing::statement))
        .routes(routes!(billing::usage_report))
        .routes(routes!(parties::party, parties::set_party))
        .routes(routes!(parties::daily))
        .routes(routes!(notifications::notifications))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::add_webhook, notifications::webhooks))
        .routes(routes!(notifications::remove_webhook))
        .routes(routes!(notifications::deliveries))
        .routes(routes!(wishlist::post_request, wishlist::requests))
        .routes(routes!(wishlist::similar))
        .routes(routes!(wishlist::request))
        .routes(routes!(wishlist::vote, wishlist::unvote))
        .routes(routes!(wishlist::comment))
        .routes(routes!(wishlist::subscribe, wishlist::unsubscribe))
        .routes(routes!(wishlist::assess))
        .routes(routes!(wishlist::fund))
        .routes(routes!(wishlist::deliver))
        .with_state(state)
        .split_for_parts();
    (
        router.layer(axum::middleware::from_fn(headers::html_headers)),
        doc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;

    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

    async fn platform() -> (Arc<Platform>, spleis_store::testing::Guard) {
        let (store, guard) = spleis_store::testing::sqlite().await;
        let runtime = spleis_runtime::Runtime::new(spleis_runtime::RuntimeConfig {
            max_instances: 2,
            ..Default::default()
        })
        .expect("runtime");
        let platform = Platform::new(
            store,
            Arc::new(runtime),
            spleis_platform::usage::Durability::Sync,
        );
        (Arc::new(platform), guard)
    }

    fn document() -> Value {
        // The document needs no platform: it is the handlers' annotations.
        let doc = ApiDoc::openapi();
        serde_json::to_value(doc).expect("serializes")
    }

    fn generated() -> Value {
        let rt = tokio::runtime::Runtime::new().expect("tokio");
        rt.block_on(async {
            let (platform, _guard) = platform().await;
            let (_, doc) = api(AppState::new(platform));
            serde_json::to_value(doc).expect("serializes")
        })
    }

    /// Every route is registered with its annotation (`routes!`), so the
    /// router and the document come from one source; a plain `.route(`
    /// would serve a path the document does not describe.
    #[test]
    fn every_route_is_registered_with_its_annotation() {
        let source = include_str!("lib.rs");
        let body = source
            .split("pub fn api(")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("api() is in lib.rs");
        assert!(
            !body.contains(".route("),
            "api() registers a route without its OpenAPI annotation"
        );
        assert!(document()["info"]["title"] == "spleis");
    }

    /// Every operation in the document says what it takes and what it
    /// answers: a schema for each request body and each success answer
    /// with content, and the error answers.
    #[test]
    fn every_operation_has_its_schemas() {
        let doc = generated();
        let paths = doc["paths"].as_object().expect("paths");
        // As many as the hand-written document had before it was generated.
        assert!(paths.len() >= 38, "only {} paths", paths.len());
        let mut operations = 0;
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                operations += 1;
                let name = format!("{} {path}", method.to_uppercase());
                let responses = op["responses"].as_object().expect("responses");
                let success: Vec<_> = responses
                    .iter()
                    .filter(|(status, _)| status.starts_with('2'))
                    .collect();
                assert!(!success.is_empty(), "{name} has no success answer");
                for (status, answer) in success {
                    if status != "204" {
                        assert!(
                            answer["content"].as_object().is_some_and(|c| c
                                .values()
                                .all(|media| media.get("schema").is_some())),
                            "{name} answers {status} without a schema"
                        );
                    }
                }
                if path.starts_with("/v1/") && path != "/v1/openapi.json" {
                    assert!(
                        responses.contains_key("401") && responses.contains_key("500"),
                        "{name} does not list its error answers"
                    );
                }
                if let Some(body) = op.get("requestBody") {
                    assert!(
                        body["content"]
                            .as_object()
                            .is_some_and(|c| c.values().all(|media| media.get("schema").is_some())),
                        "{name}'s request body has no schema"
                    );
                }
            }
        }
        assert!(operations >= 48, "only {operations} operations");
    }

    /// Every operation the API had when its document was written by hand is
    /// still served and documented: generating the document lost none.
    #[test]
    fn every_operation_of_the_first_document_is_still_there() {
        let doc = generated();
        for operation in [
            "GET /healthz",
            "GET /metrics",
            "GET /v1/openapi.json",
            "GET /v1/whoami",
            "POST /v1/accounts",
            "GET /v1/packages",
            "POST /v1/packages",
            "GET /v1/packages/{namespace}/{name}",
            "POST /v1/packages/{namespace}/{name}/versions/{version}/yank",
            "DELETE /v1/packages/{namespace}/{name}/versions/{version}/yank",
            "POST /v1/namespaces/{namespace}/owners",
            "GET /v1/installs",
            "POST /v1/installs",
            "GET /v1/installs/{namespace}/{name}",
            "DELETE /v1/installs/{namespace}/{name}",
            "POST /v1/installs/{namespace}/{name}/upgrade",
            "POST /v1/installs/{namespace}/{name}/rollback",
            "PUT /v1/installs/{namespace}/{name}/config",
            "GET /v1/upgrades",
            "POST /v1/upgrades/{namespace}/{name}/{version}",
            "DELETE /v1/upgrades/{namespace}/{name}/{version}",
            "POST /v1/plugins/{namespace}/{name}/{operation}",
            "POST /v1/events",
            "GET /v1/usage",
            "GET /v1/billing/settings",
            "PUT /v1/billing/settings",
            "POST /v1/billing/close",
            "GET /v1/billing/periods",
            "GET /v1/billing/ledger",
            "GET /v1/packages/{namespace}/{name}/plan",
            "PUT /v1/packages/{namespace}/{name}/plan",
            "GET /v1/packages/{namespace}/{name}/agreement",
            "PUT /v1/packages/{namespace}/{name}/agreement",
            "POST /v1/investments",
            "GET /v1/investments",
            "POST /v1/campaigns",
            "GET /v1/campaigns",
            "GET /v1/campaigns/{id}",
            "POST /v1/campaigns/{id}/pledges",
            "POST /v1/campaigns/{id}/close",
            "POST /v1/billing/periods/{period}/voids",
            "GET /v1/billing/periods/{period}/voids",
            "DELETE /v1/billing/periods/{period}/voids/{tenant}/{namespace}/{name}",
            "PUT /v1/tenants/{tenant}/minimum",
            "POST /v1/tenants/{tenant}/commitments",
            "GET /v1/tenants/{tenant}/commitments",
            "DELETE /v1/tenants/{tenant}/commitments/{id}",
            "POST /v1/tenants/{tenant}/discounts",
            "POST /v1/tenants/{tenant}/credit",
            "GET /v1/invoices",
            "GET /v1/invoices/{number}",
            "GET /v1/statements",
            "GET /v1/statements/{number}",
            "GET /v1/reports/usage",
            "POST /v1/requests",
            "GET /v1/requests",
            "GET /v1/requests/similar",
            "GET /v1/requests/{id}",
            "PUT /v1/requests/{id}/vote",
            "DELETE /v1/requests/{id}/vote",
            "POST /v1/requests/{id}/comments",
            "PUT /v1/requests/{id}/subscription",
            "DELETE /v1/requests/{id}/subscription",
            "POST /v1/requests/{id}/status",
            "POST /v1/requests/{id}/funding",
            "POST /v1/requests/{id}/delivery",
        ] {
            let (method, path) = operation.split_once(' ').expect("METHOD /path");
            assert!(
                doc["paths"][path].get(method.to_lowercase()).is_some(),
                "{operation} is not in the generated document"
            );
        }
    }

    /// Every documented path and method reaches a handler: without a token
    /// a `/v1` route answers 401, not the fallback's 404 or a 405.
    #[tokio::test]
    async fn every_documented_operation_is_routed() {
        let (platform, _guard) = platform().await;
        let app = router(platform);
        let doc: Value = serde_json::from_str(&api_document_json(&app).await)
            .expect("the served document is JSON");
        let paths = doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "x"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for method in METHODS {
                let documented = item.get(method).is_some();
                let request = Request::builder()
                    .method(Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"))
                    .uri(&concrete)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .expect("request");
                let status = app
                    .clone()
                    .oneshot(request)
                    .await
                    .expect("answers")
                    .status();
                if documented && path.starts_with("/v1/") && path != "/v1/openapi.json" {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
                } else if !documented {
                    assert!(
                        status == StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path} answers {status} but is not documented"
                    );
                }
            }
        }
    }

    async fn api_document_json(app: &Router) -> String {
        let request = Request::builder()
            .uri("/v1/openapi.json")
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("answers");
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }
}
