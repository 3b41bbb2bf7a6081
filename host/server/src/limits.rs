//! Limits: a tenant reads its own; the operator reads and sets anyone's.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Body};
use crate::types::Errors;
use axum::Json;
use axum::extract::{Path, State};
use spleis_platform::limits::{LimitOverrides, LimitsView};

type Result<T> = std::result::Result<T, ApiError>;

/// The caller's limits (rate, concurrency, storage, fan-out) and what it
/// uses of them now on the node that answers.
#[utoipa::path(get, path = "/v1/limits", tag = "limits",
    responses((status = 200, description = "the tenant's limits and current use", body = LimitsView), Errors))]
pub async fn my_limits(State(state): State<AppState>, caller: Caller) -> Result<Json<LimitsView>> {
    Ok(Json(state.platform.my_limits(&caller.0).await?))
}

/// Operator: a tenant's limits and current use.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/limits", tag = "limits",
    params(("tenant" = String, Path, description = "the tenant")),
    responses((status = 200, description = "the tenant's limits and current use", body = LimitsView), Errors))]
pub async fn tenant_limits(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<LimitsView>> {
    Ok(Json(
        state.platform.tenant_limits(&caller.0, &tenant).await?,
    ))
}

/// Operator: replaces a tenant's overrides of the server's default limits
/// (a field left out takes the default).
#[utoipa::path(put, path = "/v1/tenants/{tenant}/limits", tag = "limits",
    params(("tenant" = String, Path, description = "the tenant")),
    request_body = LimitOverrides,
    responses((status = 200, description = "the tenant's limits as set", body = LimitsView), Errors))]
pub async fn set_tenant_limits(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<LimitOverrides>,
) -> Result<Json<LimitsView>> {
    Ok(Json(
        state
            .platform
            .set_tenant_limits(&caller.0, &tenant, &body)
            .await?,
    ))
}
