//! Bearer-token authentication and role checks.

use super::AppState;
use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use spleis_platform::Actor;
use spleis_store::accounts::{Account, Role};

/// The authenticated caller.
pub struct Caller(pub Actor);

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Account, ApiError> {
        if roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this needs a token of role {}; `{}` has the role {}",
                names.join(" or "),
                self.0.id,
                self.0.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <token>`"))?;
        let account = state
            .platform
            .authenticate(token.trim())
            .await?
            .ok_or_else(|| unauthorized("unknown or revoked token"))?;
        Ok(Caller(account))
    }
}
