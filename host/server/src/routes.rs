//! The handlers outside billing: each translates a request into one of the
//! platform's operations and its result into an answer. The rules (who may,
//! what is scoped to whom, what a change forgets) are the platform's.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body};
use super::types::{
    AccountCreated, Catalog, CatalogQuery, Deliveries, ErrorBody, ErrorDetail, Errors,
    InstallDetail, Installs, NamespacePath, NewAccount, NewEvent, NewInstall, NewOwner,
    OperationPath, PackageDetail, PackagePath, PendingUpgrades, Publish, PurgeQuery, TenantUsage,
    Upgrade, UsageQuery, VersionPath,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use spleis_domain::accounts::Account;
use spleis_domain::installs::InstallRecord;
use spleis_platform::installs::InstallRequest;
use spleis_platform::{Answer, CallRequest, Published};
use spleis_runtime::OutcomeKind;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ApiError>;

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "platform", security(()),
    responses((status = 200, description = "the server is up", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Prometheus counters: the node's totals to anyone; with the operator's
/// token, also the series by tenant (which name the tenants).
#[utoipa::path(get, path = "/metrics", tag = "platform", security((), ("bearer" = [])),
    responses((status = 200, description = "the counters", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let token = crate::auth::bearer(&headers)
        .flatten()
        .filter(|t| !t.is_empty());
    // Any token but the operator's (none, unknown, a tenant's) sees totals.
    let viewer = match token {
        Some(token) => state.platform.authenticate(token).await?,
        None => None,
    };
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.platform.render_metrics(viewer.as_ref()),
    )
        .into_response())
}

/// This document: the API's routes and the schemas of what they take and
/// answer, generated from the handlers.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "platform", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi.get().cloned().unwrap_or_default(),
    )
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such route; see /v1/openapi.json",
    )
}

/// Create an account and its first token (operator).
///
/// The token is shown once.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, description = "the account and its token, shown once", body = AccountCreated), Errors))]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewAccount>,
) -> Result<(StatusCode, Json<AccountCreated>)> {
    let created = state
        .platform
        .create_account(&caller.0, &body.id, body.role, body.name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/whoami", tag = "accounts",
    responses((status = 200, description = "the caller's account", body = Account), Errors))]
pub async fn whoami(caller: Caller) -> Json<Account> {
    Json(caller.0.account().clone())
}

/// Publish a component (author); 201 new, 200 same bytes again.
///
/// Authors publish into namespaces they own; the first publisher of a
/// namespace owns it. Installs whose requirement accepts the new version move
/// to it; those that would need new capabilities get a pending upgrade.
#[utoipa::path(post, path = "/v1/packages", tag = "registry", request_body = Publish,
    responses(
        (status = 201, description = "a new version", body = Published),
        (status = 200, description = "the same bytes were published already; nothing changed", body = Published),
        (status = 413, description = "the component is larger than 20 MiB", body = ErrorBody),
        Errors))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<Publish>,
) -> Result<(StatusCode, Json<Published>)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.component.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("`component` is not base64: {e}")))?;
    let published = state
        .platform
        .publish(&caller.0, bytes, body.manifest.as_deref())
        .await?;
    let status = if published.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(published)))
}

/// Catalog: packages, optionally filtered by `?q=`.
///
/// Every package, or those whose name or description contains `q`.
#[utoipa::path(get, path = "/v1/packages", tag = "registry", params(CatalogQuery),
    responses((status = 200, description = "the packages, by name", body = Catalog), Errors))]
pub async fn catalog(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<CatalogQuery>,
) -> Result<Json<Catalog>> {
    let packages = state
        .platform
        .catalog(&caller.0, search.q.as_deref())
        .await?;
    Ok(Json(Catalog { packages }))
}

/// `namespace/name` from a route's two path segments.
pub(super) fn package_name(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// A package: owners and versions.
///
/// The owners of its namespace and every version, yanked ones too.
#[utoipa::path(get, path = "/v1/packages/{namespace}/{name}", tag = "registry", params(PackagePath),
    responses((status = 200, description = "the package", body = PackageDetail), Errors))]
pub async fn package(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
) -> Result<Json<PackageDetail>> {
    Ok(Json(
        state.platform.package(&caller.0, &path.package()).await?,
    ))
}

/// Yank a version (owner).
///
/// Requirements no longer resolve to it; installs running it keep it.
#[utoipa::path(post, path = "/v1/packages/{namespace}/{name}/versions/{version}/yank", tag = "registry",
    params(VersionPath),
    responses((status = 204, description = "yanked"), Errors))]
pub async fn yank(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
) -> Result<StatusCode> {
    state
        .platform
        .set_yanked(&caller.0, &path.package(), &path.version, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Un-yank a version (owner).
#[utoipa::path(delete, path = "/v1/packages/{namespace}/{name}/versions/{version}/yank", tag = "registry",
    params(VersionPath),
    responses((status = 204, description = "no longer yanked"), Errors))]
pub async fn unyank(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
) -> Result<StatusCode> {
    state
        .platform
        .set_yanked(&caller.0, &path.package(), &path.version, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add an owner (owner).
///
/// An owner of the namespace makes another account an owner.
#[utoipa::path(post, path = "/v1/namespaces/{namespace}/owners", tag = "registry",
    params(NamespacePath), request_body = NewOwner,
    responses((status = 204, description = "the account owns the namespace"), Errors))]
pub async fn add_owner(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<NamespacePath>,
    Body(body): Body<NewOwner>,
) -> Result<StatusCode> {
    state
        .platform
        .add_owner(&caller.0, &path.namespace, &body.account)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Install a package (tenant), granting its capabilities.
///
/// The highest version matching the requirement (default `*`); the grants
/// must cover the capabilities it declares.
#[utoipa::path(post, path = "/v1/installs", tag = "installs", request_body = NewInstall,
    responses((status = 201, description = "the install", body = InstallRecord), Errors))]
pub async fn install(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewInstall>,
) -> Result<(StatusCode, Json<InstallRecord>)> {
    let request = InstallRequest {
        package: body.package,
        requirement: body.requirement,
        grants: body.grants,
        config: body.config,
        storage_quota_bytes: body.storage_quota_bytes,
    };
    let record = state.platform.install(&caller.0, &request).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// The tenant's installs.
#[utoipa::path(get, path = "/v1/installs", tag = "installs",
    responses((status = 200, description = "the installs, by package", body = Installs), Errors))]
pub async fn installs(State(state): State<AppState>, caller: Caller) -> Result<Json<Installs>> {
    let installs = state.platform.installs(&caller.0).await?;
    Ok(Json(Installs { installs }))
}

/// An install and its history.
#[utoipa::path(get, path = "/v1/installs/{namespace}/{name}", tag = "installs", params(PackagePath),
    responses((status = 200, description = "the install and its history", body = InstallDetail), Errors))]
pub async fn install_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
) -> Result<Json<InstallDetail>> {
    Ok(Json(
        state
            .platform
            .install_detail(&caller.0, &path.package())
            .await?,
    ))
}

/// Upgrade or pin (requirement `=x.y.z`), optionally granting more.
#[utoipa::path(post, path = "/v1/installs/{namespace}/{name}/upgrade", tag = "installs",
    params(PackagePath), request_body = Upgrade,
    responses((status = 200, description = "the install after the upgrade", body = InstallRecord), Errors))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
    Body(body): Body<Upgrade>,
) -> Result<Json<InstallRecord>> {
    let record = state
        .platform
        .upgrade(
            &caller.0,
            &path.package(),
            body.requirement.as_deref(),
            &body.grants,
        )
        .await?;
    Ok(Json(record))
}

/// Roll back to the previous version, pinned.
#[utoipa::path(post, path = "/v1/installs/{namespace}/{name}/rollback", tag = "installs",
    params(PackagePath),
    responses((status = 200, description = "the install after the rollback", body = InstallRecord), Errors))]
pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
) -> Result<Json<InstallRecord>> {
    Ok(Json(
        state.platform.rollback(&caller.0, &path.package()).await?,
    ))
}

/// Replace the install's settings.
#[utoipa::path(put, path = "/v1/installs/{namespace}/{name}/config", tag = "installs",
    params(PackagePath), request_body(content = BTreeMap<String, String>, description = "every setting, KEY: VALUE"),
    responses((status = 200, description = "the install with its new settings", body = InstallRecord), Errors))]
pub async fn set_config(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
    Body(config): Body<BTreeMap<String, String>>,
) -> Result<Json<InstallRecord>> {
    let record = state
        .platform
        .set_config(&caller.0, &path.package(), &config)
        .await?;
    Ok(Json(record))
}

/// Uninstall; `?purge=true` deletes its storage now.
///
/// Without `purge`, the install's stored data is kept for the retention
/// period.
#[utoipa::path(delete, path = "/v1/installs/{namespace}/{name}", tag = "installs",
    params(PackagePath, PurgeQuery),
    responses((status = 204, description = "uninstalled"), Errors))]
pub async fn uninstall(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PackagePath>,
    Query(query): Query<PurgeQuery>,
) -> Result<StatusCode> {
    state
        .platform
        .uninstall(&caller.0, &path.package(), query.purge)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pending upgrades that need new capabilities.
#[utoipa::path(get, path = "/v1/upgrades", tag = "installs",
    responses((status = 200, description = "the pending upgrades", body = PendingUpgrades), Errors))]
pub async fn pending_upgrades(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PendingUpgrades>> {
    let pending = state.platform.pending_upgrades(&caller.0).await?;
    Ok(Json(PendingUpgrades { pending }))
}

/// Approve a pending upgrade (grants its capabilities).
#[utoipa::path(post, path = "/v1/upgrades/{namespace}/{name}/{version}", tag = "installs",
    params(VersionPath),
    responses((status = 200, description = "the install after the upgrade", body = InstallRecord), Errors))]
pub async fn approve_upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
) -> Result<Json<InstallRecord>> {
    let record = state
        .platform
        .approve_upgrade(&caller.0, &path.package(), &path.version)
        .await?;
    Ok(Json(record))
}

/// Decline a pending upgrade.
///
/// The install stays on its version.
#[utoipa::path(delete, path = "/v1/upgrades/{namespace}/{name}/{version}", tag = "installs",
    params(VersionPath),
    responses((status = 204, description = "declined"), Errors))]
pub async fn decline_upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<VersionPath>,
) -> Result<StatusCode> {
    state
        .platform
        .decline_upgrade(&caller.0, &path.package(), &path.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Call an operation of the tenant's install.
///
/// The body is the plugin's input; the answer is its output as the plugin
/// wrote it. The `Spleis-*` headers carry the usage. A failed call answers
/// 422 (the plugin failed or hit a limit) or 500 (the host failed), with the
/// outcome kind in the error's `kind`. An `Idempotency-Key` makes a retry
/// with the same request answer as the first time and be billed once.
#[utoipa::path(post, path = "/v1/plugins/{namespace}/{name}/{operation}", tag = "calls",
    params(
        OperationPath,
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 255 bytes of visible ASCII, else 400 invalid-idempotency-key; a retry with the same key and request gets the stored answer and is billed once; the same key with another request is refused (422 idempotency-key-reused); while the key's first request runs, another is refused (409 idempotency-key-in-progress) and the plugin runs once per key"),
    ),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "the plugin's input"),
    responses(
        (status = 200, description = "the plugin's output", body = serde_json::Value, content_type = "application/json",
            headers(
                ("Spleis-Outcome" = String, description = "the outcome kind: `ok`, or how the call failed"),
                ("Spleis-Version" = String, description = "the version that ran"),
                ("Spleis-Fuel" = u64, description = "fuel (instructions) consumed"),
                ("Spleis-Usage-Id" = String, description = "the usage record's id"),
                ("Spleis-Replayed" = bool, description = "whether this is a stored answer replayed for an Idempotency-Key"),
            )),
        Errors))]
pub async fn call(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<OperationPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    // The raw bytes: the platform decides what a valid key is.
    let request = CallRequest {
        package: path.package(),
        operation: path.operation,
        body: body.to_vec(),
        idempotency_key: headers
            .get("idempotency-key")
            .map(|v| v.as_bytes().to_vec()),
    };
    let mut answer = state.platform.call(&caller.0, request).await?;
    let mut response = call_response(&mut answer);
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

/// The plugin's output as it wrote it, or the error with its outcome kind.
fn call_response(answer: &mut Answer) -> Response {
    if let Some(output) = answer.output.take() {
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            output,
        )
            .into_response();
    }
    let status = if answer.outcome == OutcomeKind::HostError {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (code, message) = answer
        .error
        .as_ref()
        .map_or(("internal", ""), |e| (e.code.as_str(), e.message.as_str()));
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
            kind: Some(answer.outcome.as_str().to_owned()),
        },
    };
    (status, Json(body)).into_response()
}

/// Usage records: a tenant its own; the operator `?tenant=`.
///
/// Newest first; records of calls that have answered are included.
#[utoipa::path(get, path = "/v1/usage", tag = "usage", params(UsageQuery),
    responses((status = 200, description = "the tenant's usage records", body = TenantUsage), Errors))]
pub async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UsageQuery>,
) -> Result<Json<TenantUsage>> {
    let usage = state
        .platform
        .usage_records(&caller.0, query.tenant.as_deref(), query.limit)
        .await?;
    Ok(Json(usage))
}

/// A platform event of the tenant, delivered to subscribing installs.
///
/// Delivered now to every install of the tenant that subscribes to the
/// topic, and onward for the events they emit, breadth first, up to a
/// nesting depth of four.
#[utoipa::path(post, path = "/v1/events", tag = "events", request_body = NewEvent,
    responses((status = 200, description = "every delivery, breadth first", body = Deliveries), Errors))]
pub async fn emit(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewEvent>,
) -> Result<Json<Deliveries>> {
    let payload =
        serde_json::to_vec(&body.payload).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let deliveries = state.platform.emit(&caller.0, &body.topic, payload).await?;
    Ok(Json(Deliveries { deliveries }))
}
