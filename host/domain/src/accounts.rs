//! Accounts and their roles, and what is kept of an API token.

use crate::DatabaseError;
use serde::{Deserialize, Serialize};
use spleis_billing::bounds::InputError;
use std::fmt;
use std::str::FromStr;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the platform: manages accounts, sees everything.
    Operator,
    /// Publishes plugins.
    Author,
    /// Installs and calls plugins.
    Tenant,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Author => "author",
            Role::Tenant => "tenant",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "operator" => Ok(Role::Operator),
            "author" => Ok(Role::Author),
            "tenant" => Ok(Role::Tenant),
            other => Err(format!(
                "unknown role `{other}`: operator, author or tenant"
            )),
        }
    }
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Account {
    /// Its id, lowercase kebab-case (`acme`, `tenant-a`).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// A display name.
    pub name: String,
}

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The id is not lowercase kebab-case.
    #[error(
        "`{0}` is not an account id: lowercase letters, digits and dashes, 1 to 64 characters, starting with a letter"
    )]
    InvalidId(String),
    /// The id is taken.
    #[error("the account `{0}` already exists")]
    Exists(String),
    /// No such account.
    #[error("no account `{0}`")]
    Unknown(String),
    /// A display name or token label longer than [`MAX_TEXT_CHARS`](spleis_billing::bounds::MAX_TEXT_CHARS)
    /// characters.
    #[error(transparent)]
    InvalidName(#[from] InputError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// Whether `id` is a valid account id.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.as_bytes()[0].is_ascii_lowercase()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// The prefix of every token, so leaked tokens are easy to scan for.
pub const TOKEN_PREFIX: &str = "spl_";

/// What is kept of a token: never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Its id (the start of its hash), to revoke it by.
    pub id: String,
    /// The account it belongs to.
    pub account: String,
    /// A name for people.
    pub label: String,
    /// When it was issued (unix ms).
    pub created_at: i64,
    /// When it stops working (unix ms); `None`: never.
    pub expires_at: Option<i64>,
    /// When it was revoked (unix ms).
    pub revoked_at: Option<i64>,
}
