//! The wishlist over HTTP: requests, votes, comments, subscriptions, the
//! operator's assessment, funding to go first and the delivery. Who may do
//! what, and who sees whom, is the platform's: these translate.

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, Body, Params};
use super::types::Errors;
use super::types::wishlist::{NewComment, Requests};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use spleis_domain::billing::CampaignRecord;
use spleis_domain::wishlist::{
    Assessment, MAX_LIST, NewDelivery, NewFunding, NewRequest, RequestDetail, RequestSort,
    RequestStatus,
};
use utoipa::IntoParams;

type Result<T> = std::result::Result<T, ApiError>;

/// `GET /v1/requests` parameters.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Words that must all occur in the title, problem or details.
    #[param(max_length = 1000)]
    pub q: Option<String>,
    /// Only requests with this status.
    pub status: Option<RequestStatus>,
    /// `votes` (default) or `newest`.
    pub sort: Option<RequestSort>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// `GET /v1/requests/similar` parameters.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// The request being typed (its title so far).
    #[param(max_length = 1000)]
    pub q: String,
}

fn query_text(field: &str, text: Option<&str>) -> Result<String> {
    let text = text.unwrap_or("");
    if text.chars().count() > 1000 {
        return Err(ApiError::bad_request(format!(
            "{field} is {} characters long; it must be at most 1000",
            text.chars().count()
        )));
    }
    Ok(text.to_owned())
}

/// A tenant posts a request; answered with it (its poster votes for it
/// and is subscribed).
#[utoipa::path(post, path = "/v1/requests", tag = "wishlist",
    request_body = NewRequest,
    responses((status = 201, description = "the request", body = RequestDetail), Errors))]
pub async fn post_request(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<NewRequest>,
) -> Result<(StatusCode, Json<RequestDetail>)> {
    let detail = state.platform.post_request(&caller.0, &request).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Every request matching the words, of a status, by votes or newest.
/// Who posted and voted is not shown (but to the operator, and one's own).
#[utoipa::path(get, path = "/v1/requests", tag = "wishlist",
    params(RequestsQuery),
    responses((status = 200, description = "the requests", body = Requests), Errors))]
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<RequestsQuery>,
) -> Result<Json<Requests>> {
    let q = query_text("q", query.q.as_deref())?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit is {limit}; it must be 1 to {MAX_LIST}"
        )));
    }
    let requests = state
        .platform
        .requests(
            &caller.0,
            &q,
            query.status,
            query.sort.unwrap_or_default(),
            limit,
        )
        .await?;
    Ok(Json(Requests { requests }))
}

/// Requests like the one being typed, best match first (the database's
/// full-text search), so a tenant can vote instead of posting a duplicate.
#[utoipa::path(get, path = "/v1/requests/similar", tag = "wishlist",
    params(SimilarQuery),
    responses((status = 200, description = "similar requests", body = Requests), Errors))]
pub async fn similar(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<SimilarQuery>,
) -> Result<Json<Requests>> {
    let q = query_text("q", Some(&query.q))?;
    let requests = state.platform.similar_requests(&caller.0, &q).await?;
    Ok(Json(Requests { requests }))
}

/// One request: its status, votes, comments, history, funding and
/// delivery.
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(state.platform.request(&caller.0, id).await?))
}

/// A tenant votes for a request (one vote, however often).
#[utoipa::path(put, path = "/v1/requests/{id}/vote", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn vote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(state.platform.vote(&caller.0, id, true).await?))
}

/// A tenant withdraws its vote.
#[utoipa::path(delete, path = "/v1/requests/{id}/vote", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn unvote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(state.platform.vote(&caller.0, id, false).await?))
}

/// Comments on a request; its subscribers are told.
#[utoipa::path(post, path = "/v1/requests/{id}/comments", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    request_body = NewComment,
    responses((status = 201, description = "the request with the comment", body = RequestDetail), Errors))]
pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(comment): Body<NewComment>,
) -> Result<(StatusCode, Json<RequestDetail>)> {
    let detail = state.platform.comment(&caller.0, id, &comment.body).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Subscribes the caller to a request's changes.
#[utoipa::path(put, path = "/v1/requests/{id}/subscription", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(state.platform.subscribe(&caller.0, id, true).await?))
}

/// Unsubscribes the caller.
#[utoipa::path(delete, path = "/v1/requests/{id}/subscription", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(state.platform.subscribe(&caller.0, id, false).await?))
}

/// The operator assesses a request: `under-review`, `accepted`,
/// `declined` (with the reason shown to everyone), `duplicate` (of
/// `duplicate_of`: votes and subscribers move there), `planned`,
/// `in-progress`; optionally naming the builder's namespace.
#[utoipa::path(post, path = "/v1/requests/{id}/status", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    request_body = Assessment,
    responses((status = 200, description = "the request", body = RequestDetail), Errors))]
pub async fn assess(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(assessment): Body<Assessment>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(
        state.platform.assess(&caller.0, id, &assessment).await?,
    ))
}

/// The operator opens funding to go first on an accepted request; tenants
/// pledge through `POST /v1/campaigns/{id}/pledges`. The pledge that
/// reaches the goal funds it.
#[utoipa::path(post, path = "/v1/requests/{id}/funding", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    request_body = NewFunding,
    responses((status = 201, description = "the campaign opened", body = CampaignRecord), Errors))]
pub async fn fund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(funding): Body<NewFunding>,
) -> Result<(StatusCode, Json<CampaignRecord>)> {
    let campaign = state
        .platform
        .open_request_funding(&caller.0, id, &funding)
        .await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// The operator or an owner of the builder's namespace delivers the
/// request with a published version of a plugin in that namespace.
#[utoipa::path(post, path = "/v1/requests/{id}/delivery", tag = "wishlist",
    params(("id" = i64, Path, description = "the request's number")),
    request_body = NewDelivery,
    responses((status = 200, description = "the request, delivered", body = RequestDetail), Errors))]
pub async fn deliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(delivery): Body<NewDelivery>,
) -> Result<Json<RequestDetail>> {
    Ok(Json(
        state
            .platform
            .deliver_request(&caller.0, id, &delivery)
            .await?,
    ))
}
