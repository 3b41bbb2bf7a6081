//! Tokens: an account lists, creates and revokes its own; the operator any
//! account's (`?account=`).

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Body};
use crate::types::{Errors, NewToken, Tokens};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use spleis_platform::accounts::TokenCreated;
use utoipa::IntoParams;

type Result<T> = std::result::Result<T, ApiError>;

/// Whose tokens: the caller's, or (the operator) another account's.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// The account (operator only); default: the caller.
    pub account: Option<String>,
}

/// The caller's tokens (or an account's, for the operator), without their
/// secrets.
#[utoipa::path(get, path = "/v1/tokens", tag = "accounts", params(AccountQuery),
    responses((status = 200, description = "the tokens, newest first", body = Tokens), Errors))]
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AccountQuery>,
) -> Result<Json<Tokens>> {
    let tokens = state
        .platform
        .tokens(&caller.0, query.account.as_deref())
        .await?;
    Ok(Json(Tokens { tokens }))
}

/// A new named token, optionally expiring; the token is shown once.
#[utoipa::path(post, path = "/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, description = "the token, shown once", body = TokenCreated), Errors))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>)> {
    let created = state
        .platform
        .create_token(
            &caller.0,
            body.account.as_deref(),
            &body.label,
            body.expires_at_ms,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a token by its id: refused at once on this node, within 2 s on
/// the others.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "the token's id"), AccountQuery),
    responses((status = 204, description = "revoked"), Errors))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<AccountQuery>,
) -> Result<StatusCode> {
    state
        .platform
        .revoke_token(&caller.0, query.account.as_deref(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
