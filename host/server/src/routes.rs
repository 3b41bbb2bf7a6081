//! The handlers.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body};
use super::types::{AccountCreated, Errors, NewAccount};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use spleis_platform::Published;
use spleis_registry::Capability;
use spleis_runtime::OutcomeKind;
use spleis_store::accounts::{Account, Role};
use spleis_store::installs::InstallRecord;
use std::collections::{BTreeMap, BTreeSet};

type Result<T> = std::result::Result<T, ApiError>;

/// Whether the server is up.
#[utoipa::path(get, path = "/healthz", tag = "platform", security(()),
    responses((status = 200, description = "the server is up", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Counters in Prometheus' text format.
#[utoipa::path(get, path = "/metrics", tag = "platform", security(()),
    responses((status = 200, description = "the counters", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state
        .platform
        .metrics
        .render(state.platform.runtime.cache_stats());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such route; see /v1/openapi.json",
    )
}

/// Operator only: creates an account and its first token (shown once).
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, description = "the account and its token, shown once", body = AccountCreated), Errors))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewAccount>,
) -> Result<(StatusCode, Json<AccountCreated>)> {
    caller.require(&[Role::Operator])?;
    let store = &state.platform.store;
    let name = body.name.unwrap_or_else(|| body.id.clone());
    let account = store.create_account(&body.id, body.role, &name).await?;
    let token = store
        .issue_token(&account.id, "created by the operator")
        .await?;
    Ok((StatusCode::CREATED, Json(AccountCreated { account, token })))
}

/// The caller's own account.
#[utoipa::path(get, path = "/v1/whoami", tag = "accounts",
    responses((status = 200, description = "the caller's account", body = Account), Errors))]
pub async fn whoami(caller: Caller) -> Json<Account> {
    Json(caller.0.account().clone())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The component, base64.
    component: String,
    /// The manifest (Cargo.toml or spleis.toml text); default: embedded.
    #[serde(default)]
    manifest: Option<String>,
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Publish>,
) -> Result<(StatusCode, Json<Published>)> {
    let publisher = caller.require(&[Role::Author, Role::Operator])?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.component.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("`component` is not base64: {e}")))?;
    let published = state
        .platform
        .publish(publisher, bytes, body.manifest.as_deref())
        .await?;
    let status = if published.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(published)))
}

#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
}

pub async fn catalog(
    State(state): State<AppState>,
    _caller: Caller,
    Query(search): Query<Search>,
) -> Result<Json<Value>> {
    let packages = state.platform.store.catalog(search.q.as_deref()).await?;
    Ok(Json(json!({"packages": packages})))
}

/// `namespace/name` from a route's two path segments.
pub(super) fn package_name(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

pub async fn package(
    State(state): State<AppState>,
    _caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let store = &state.platform.store;
    let package = package_name(&namespace, &name);
    let versions = store.versions(&package).await?;
    let owners = store.owners(&namespace).await?;
    Ok(Json(
        json!({"name": package, "owners": owners, "versions": versions}),
    ))
}

async fn set_yank(
    state: AppState,
    caller: Caller,
    namespace: String,
    name: String,
    version: String,
    yanked: bool,
) -> Result<StatusCode> {
    let by = caller.require(&[Role::Author, Role::Operator])?;
    let version: semver::Version = version
        .parse()
        .map_err(|e| ApiError::bad_request(format!("`{version}` is not a version: {e}")))?;
    state
        .platform
        .store
        .set_yanked(by, &package_name(&namespace, &name), &version, yanked)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn yank(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    set_yank(state, caller, namespace, name, version, true).await
}

pub async fn unyank(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    set_yank(state, caller, namespace, name, version, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    account: String,
}

pub async fn add_owner(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
    Body(body): Body<NewOwner>,
) -> Result<StatusCode> {
    let by = caller.require(&[Role::Author, Role::Operator])?;
    state
        .platform
        .store
        .add_owner(by, &namespace, &body.account)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInstall {
    package: String,
    #[serde(default = "any_version")]
    requirement: String,
    #[serde(default)]
    grants: BTreeSet<Capability>,
    #[serde(default)]
    config: BTreeMap<String, String>,
    #[serde(default)]
    storage_quota_bytes: Option<u64>,
}

fn any_version() -> String {
    "*".into()
}

pub async fn install(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewInstall>,
) -> Result<(StatusCode, Json<InstallRecord>)> {
    let tenant = caller.require(&[Role::Tenant])?;
    let quota = body
        .storage_quota_bytes
        .unwrap_or(spleis_runtime::capabilities::Install::DEFAULT_STORAGE_QUOTA);
    let record = state
        .platform
        .store
        .install(
            tenant,
            &body.package,
            &body.requirement,
            &body.grants,
            &body.config,
            quota,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

pub async fn installs(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    let tenant = caller.require(&[Role::Tenant])?;
    Ok(Json(
        json!({"installs": state.platform.store.installs_of(&tenant.id).await?}),
    ))
}

pub async fn install_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let tenant = caller.require(&[Role::Tenant])?;
    let package = package_name(&namespace, &name);
    let store = &state.platform.store;
    let install = store
        .install_of(&tenant.id, &package)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-installed",
                format!("`{package}` is not installed"),
            )
        })?;
    let history = store.history(&tenant.id, &package).await?;
    Ok(Json(json!({"install": install, "history": history})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default)]
    grants: BTreeSet<Capability>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Body(body): Body<Upgrade>,
) -> Result<Json<InstallRecord>> {
    let tenant = caller.require(&[Role::Tenant])?;
    let package = package_name(&namespace, &name);
    Ok(Json(
        state
            .platform
            .store
            .upgrade(
                &tenant.id,
                &package,
                body.requirement.as_deref(),
                &body.grants,
            )
            .await?,
    ))
}

pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<InstallRecord>> {
    let tenant = caller.require(&[Role::Tenant])?;
    Ok(Json(
        state
            .platform
            .store
            .rollback(&tenant.id, &package_name(&namespace, &name))
            .await?,
    ))
}

pub async fn set_config(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Body(config): Body<BTreeMap<String, String>>,
) -> Result<Json<InstallRecord>> {
    let tenant = caller.require(&[Role::Tenant])?;
    Ok(Json(
        state
            .platform
            .store
            .set_config(&tenant.id, &package_name(&namespace, &name), &config)
            .await?,
    ))
}

#[derive(Deserialize)]
pub struct Purge {
    #[serde(default)]
    purge: bool,
}

pub async fn uninstall(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    Query(purge): Query<Purge>,
) -> Result<StatusCode> {
    let tenant = caller.require(&[Role::Tenant])?;
    state
        .platform
        .store
        .uninstall(&tenant.id, &package_name(&namespace, &name), purge.purge)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pending_upgrades(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>> {
    let tenant = caller.require(&[Role::Tenant])?;
    Ok(Json(
        json!({"pending": state.platform.store.pending_upgrades(&tenant.id).await?}),
    ))
}

pub async fn approve_upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<Json<InstallRecord>> {
    let tenant = caller.require(&[Role::Tenant])?;
    Ok(Json(
        state
            .platform
            .store
            .approve_pending(&tenant.id, &package_name(&namespace, &name), &version)
            .await?,
    ))
}

pub async fn decline_upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name, version)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let tenant = caller.require(&[Role::Tenant])?;
    state
        .platform
        .store
        .decline_pending(&tenant.id, &package_name(&namespace, &name), &version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Calls an operation of the caller's install. The plugin's answer is the
/// body; `Spleis-Outcome`, `Spleis-Version` and `Spleis-Fuel` headers carry
/// the usage. A failed call answers 422 (the plugin's fault) or 500.
pub async fn call(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name, operation)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let tenant = caller.require(&[Role::Tenant])?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (answer, events) = state
        .platform
        .call(
            &tenant.id,
            &package_name(&namespace, &name),
            &operation,
            body.to_vec(),
            idempotency_key,
        )
        .await?;
    if !events.is_empty() {
        // Events the call emitted fan out after the response, off its path.
        let platform = state.platform.clone();
        let tenant = tenant.id.clone();
        tokio::spawn(async move {
            if let Err(error) = platform.deliver(&tenant, events, 1).await {
                tracing::error!(%tenant, %error, "delivering emitted events failed");
            }
        });
    }
    let mut response = match (answer.output(), &answer.error) {
        (Some(output), _) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            output,
        )
            .into_response(),
        (None, error) => {
            let status = if answer.outcome == OutcomeKind::HostError {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let (code, message) = error
                .as_ref()
                .map_or(("internal", ""), |e| (e.code.as_str(), e.message.as_str()));
            let body = json!({"error": {"code": code, "message": message, "kind": answer.outcome}});
            (status, Json(body)).into_response()
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("spleis-outcome", answer.outcome.as_str().to_owned()),
        ("spleis-version", answer.version.clone()),
        ("spleis-fuel", answer.fuel.to_string()),
        ("spleis-usage-id", answer.usage_id.clone()),
        ("spleis-replayed", answer.replayed.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct UsageQuery {
    tenant: Option<String>,
    limit: Option<u32>,
}

/// A tenant's own usage; the operator may name any tenant.
pub async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UsageQuery>,
) -> Result<Json<Value>> {
    let tenant = match (&caller.0.role, query.tenant) {
        (Role::Operator, Some(tenant)) => tenant,
        (Role::Tenant, None) => caller.0.id.clone(),
        (Role::Tenant, Some(other)) if other == caller.0.id => other,
        (Role::Tenant, Some(_)) => {
            return Err(ApiError::forbidden("a tenant reads only its own usage"));
        }
        (Role::Operator, None) => return Err(ApiError::bad_request("name the tenant: ?tenant=ID")),
        (Role::Author, _) => {
            return Err(ApiError::forbidden(
                "authors read usage of their plugins in reports (billing)",
            ));
        }
    };
    let limit = query.limit.unwrap_or(100).min(10_000);
    state.platform.usage.flush().await;
    Ok(Json(
        json!({"tenant": tenant, "records": state.platform.store.usage_of_tenant(&tenant, limit).await?}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    topic: String,
    #[serde(default)]
    payload: Value,
}

/// A tenant's platform event: delivered now to every install of the tenant
/// that subscribes to the topic (and onward, for what they emit).
pub async fn emit(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewEvent>,
) -> Result<Json<Value>> {
    let tenant = caller.require(&[Role::Tenant])?;
    spleis_registry::manifest::validate_topic(&body.topic).map_err(ApiError::bad_request)?;
    let payload =
        serde_json::to_vec(&body.payload).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let event = spleis_runtime::capabilities::events::EmittedEvent {
        topic: body.topic,
        payload,
    };
    let deliveries = state.platform.deliver(&tenant.id, vec![event], 0).await?;
    Ok(Json(json!({"deliveries": deliveries})))
}
