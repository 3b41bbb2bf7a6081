//! The HTTP contract's own request and response bodies (serde and
//! `utoipa::ToSchema`), shared by the server and the CLI's client. Bodies
//! that are a domain type as it is (an account, an install, a version) use
//! that type, which derives its schema where it is defined.

use serde::{Deserialize, Serialize};
use spleis_store::accounts::{Account, Role};
use utoipa::ToSchema;

pub mod billing;

/// Every error answer: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's code and words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A machine-readable code (`not-found`, `forbidden`, `invalid-body`, …).
    pub code: String,
    /// Words for people.
    pub message: String,
    /// For a failed plugin call, its outcome kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `POST /v1/accounts`: a new account.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Lowercase kebab-case id (`acme`, `tenant-a`).
    pub id: String,
    /// What it may do.
    pub role: Role,
    /// A display name; default: the id.
    #[serde(default)]
    pub name: Option<String>,
}

/// The answer to `POST /v1/accounts`: the account and its first token,
/// shown once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountCreated {
    /// The account.
    pub account: Account,
    /// Its bearer token.
    pub token: String,
}

/// The error answers any `/v1` route may give, each an [`ErrorBody`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its schema is used
pub enum Errors {
    /// The request is malformed (a field out of range, bad JSON).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller's role or relation does not allow this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// What the request names does not exist, or is not the caller's.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// It conflicts with what exists.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Well-formed but refused (an invalid component, plan or period).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// The platform failed; nothing the caller did.
    #[response(status = 500)]
    Internal(ErrorBody),
}
