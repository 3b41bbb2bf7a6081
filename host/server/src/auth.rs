//! Bearer-token authentication: the token becomes the platform's actor.

use super::AppState;
use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use spleis_platform::Actor;

/// The authenticated caller.
pub struct Caller(pub Actor);

/// The request's bearer token: `None` without an `Authorization` header,
/// `Some(None)` if the header is not `Bearer <token>`.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<Option<&str>> {
    let header = headers.get(axum::http::header::AUTHORIZATION)?;
    Some(
        header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim),
    )
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let token = bearer(&parts.headers)
            .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <token>`"))?;
        let account = state
            .platform
            .authenticate(token)
            .await?
            .ok_or_else(|| unauthorized("unknown or revoked token"))?;
        Ok(Caller(account))
    }
}
