//! The operations the web console added to the platform, on the API too:
//! the legal details printed on invoices (the issuer's, `@platform`, and
//! each account's), and calls by day.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body};
use super::types::Errors;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use spleis_domain::billing::DayCalls;
use spleis_domain::parties::PartyDetails;
use utoipa::{IntoParams, ToSchema};

type Result<T> = std::result::Result<T, ApiError>;

/// The legal details of a party: the operator reads any, an account its
/// own, everyone the issuer's (`@platform`).
#[utoipa::path(get, path = "/v1/parties/{party}", tag = "billing",
    params(("party" = String, Path, description = "an account id, or `@platform` (the issuer)")),
    responses((status = 200, description = "the legal details", body = PartyDetails), Errors))]
pub async fn party(
    State(state): State<AppState>,
    caller: Caller,
    Path(party): Path<String>,
) -> Result<Json<PartyDetails>> {
    Ok(Json(state.platform.party_details(&caller.0, &party).await?))
}

/// Sets the legal details of a party: the operator any (and `@platform`),
/// an account its own.
#[utoipa::path(put, path = "/v1/parties/{party}", tag = "billing",
    params(("party" = String, Path, description = "an account id, or `@platform` (the issuer)")),
    request_body = PartyDetails,
    responses((status = 200, description = "the legal details as set", body = PartyDetails), Errors))]
pub async fn set_party(
    State(state): State<AppState>,
    caller: Caller,
    Path(party): Path<String>,
    Body(details): Body<PartyDetails>,
) -> Result<Json<PartyDetails>> {
    state
        .platform
        .set_party_details(&caller.0, &party, &details)
        .await?;
    Ok(Json(details))
}

/// `?period=` of calls by day.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// `YYYY-MM`; default: the open period.
    pub period: Option<String>,
}

/// Calls by day, tenant and plugin in one period.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DailyCalls {
    /// The period, `YYYY-MM`.
    pub period: String,
    /// By day, tenant and plugin; days without calls are absent.
    pub days: Vec<DayCalls>,
}

/// Calls by day in `?period=` (default: the open one): a tenant's own, an
/// author's plugins', all for the operator.
#[utoipa::path(get, path = "/v1/reports/daily", tag = "billing", params(DailyQuery),
    responses((status = 200, description = "calls by day", body = DailyCalls), Errors))]
pub async fn daily(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DailyQuery>,
) -> Result<Json<DailyCalls>> {
    let period = match query.period.as_deref() {
        Some(text) => Some(text.parse().map_err(
            |e: spleis_billing::discounts::ParsePeriodError| ApiError::bad_request(e.to_string()),
        )?),
        None => None,
    };
    let daily = state.platform.daily_usage(&caller.0, period).await?;
    Ok(Json(DailyCalls {
        period: daily.period.to_string(),
        days: daily.rows,
    }))
}
