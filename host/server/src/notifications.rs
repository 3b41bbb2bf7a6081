//! Notifications and webhooks: every account (any role) reads and marks
//! its own inbox, and registers, lists, removes and reads the delivery log
//! of its own webhooks; another account's webhook is not found.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Body, Params};
use crate::types::Errors;
use crate::types::notifications::{
    DEFAULT_LIMIT, Deliveries, DeliveriesQuery, MarkRead, Marked, NewWebhook, NotificationList,
    NotificationsQuery, WebhookCreated, Webhooks,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

type Result<T> = std::result::Result<T, ApiError>;

/// The caller's notifications, newest first, with its unread count.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(NotificationsQuery),
    responses((status = 200, description = "the inbox, newest first", body = NotificationList), Errors))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<NotificationsQuery>,
) -> Result<Json<NotificationList>> {
    let list = state
        .platform
        .notifications(
            &caller.0,
            query.unread.unwrap_or(false),
            query.limit.unwrap_or(DEFAULT_LIMIT),
        )
        .await?;
    Ok(Json(list))
}

/// Marks the caller's notifications read: those named, or every one.
#[utoipa::path(post, path = "/v1/notifications/read", tag = "notifications", request_body = MarkRead,
    responses((status = 200, description = "how many were marked", body = Marked), Errors))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<MarkRead>,
) -> Result<Json<Marked>> {
    let marked = state.platform.mark_read(&caller.0, body.ids).await?;
    Ok(Json(Marked { marked }))
}

/// Registers a webhook: an `https://` URL whose host resolves only to
/// public addresses, and the kinds to deliver (none: all). The answer
/// shows the signing secret once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "notifications", request_body = NewWebhook,
    responses((status = 201, description = "the webhook and its secret, shown once", body = WebhookCreated), Errors))]
pub async fn add_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookCreated>)> {
    let created = state.platform.add_webhook(&caller.0, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's webhooks, without their secrets.
#[utoipa::path(get, path = "/v1/webhooks", tag = "notifications",
    responses((status = 200, description = "the webhooks, oldest first", body = Webhooks), Errors))]
pub async fn webhooks(State(state): State<AppState>, caller: Caller) -> Result<Json<Webhooks>> {
    let webhooks = state.platform.webhooks(&caller.0).await?;
    Ok(Json(Webhooks { webhooks }))
}

/// Removes one of the caller's webhooks, with its delivery log.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "notifications",
    params(("id" = String, Path, description = "the webhook's id")),
    responses((status = 204, description = "removed"), Errors))]
pub async fn remove_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.platform.remove_webhook(&caller.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log of one of the caller's webhooks: the newest
/// deliveries, each with every try (time, status or error, duration, next
/// try or the end).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "notifications",
    params(("id" = String, Path, description = "the webhook's id"), DeliveriesQuery),
    responses((status = 200, description = "the deliveries, newest first", body = Deliveries), Errors))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(query): Params<DeliveriesQuery>,
) -> Result<Json<Deliveries>> {
    let deliveries = state
        .platform
        .webhook_deliveries(&caller.0, &id, query.limit.unwrap_or(DEFAULT_LIMIT))
        .await?;
    Ok(Json(Deliveries { deliveries }))
}
