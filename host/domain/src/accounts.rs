//! Accounts and their roles, and what is kept of an API token.

use crate::DatabaseError;
use serde::{Deserialize, Serialize};
use spleis_billing::bounds::{self, InputError};
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
    /// A display name longer than [`MAX_TEXT_CHARS`](spleis_billing::bounds::MAX_TEXT_CHARS)
    /// characters, or a token label that is not [`token_label`].
    #[error(transparent)]
    InvalidName(#[from] InputError),
    /// The account holds as many live tokens as it may.
    #[error(
        "`{account}` holds {limit} live tokens, the most an account may hold: revoke one it no longer needs (`GET /v1/tokens` lists them, `DELETE /v1/tokens/{{id}}` revokes one) or let one expire, then create another"
    )]
    TooManyTokens {
        /// The account.
        account: String,
        /// The most live (not revoked, not expired) tokens it may hold.
        limit: u32,
    },
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

/// The most characters of a token's label, after trimming.
pub const MAX_TOKEN_LABEL_CHARS: usize = 100;

/// The field a token's label is refused as.
const LABEL: &str = "the token's `label`";

/// Characters that show nothing yet change what is shown: zero-width
/// spaces and joiners, bidirectional controls, the byte order mark. A
/// label is read by people on a list of tokens; these would let it
/// pass for another.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A token's label, trimmed: 1 to [`MAX_TOKEN_LABEL_CHARS`] visible
/// characters (spaces between words are fine; control characters such as
/// NUL, newline or tab and invisible formatting are not).
pub fn token_label(label: &str) -> Result<&str, InputError> {
    let label = bounds::not_empty(LABEL, label, "name what the token is for (`ci`, `laptop`)")?;
    if let Some(c) = label.chars().find(|&c| invisible(c)) {
        return Err(InputError::Invalid {
            field: LABEL,
            why: format!(
                "it holds the invisible character U+{:04X}; a label is visible characters only",
                u32::from(c)
            ),
        });
    }
    bounds::text(LABEL, label, MAX_TOKEN_LABEL_CHARS)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels_are_one_to_a_hundred_visible_characters() {
        let cases: &[(&str, Option<&str>)] = &[
            ("ci", Some("ci")),
            ("  my laptop  ", Some("my laptop")),
            ("déploiement 🚀", Some("déploiement 🚀")),
            (&"x".repeat(100), Some(&"x".repeat(100))),
            ("", None),
            ("   ", None),
            ("\t\n", None),
            ("a\0b", None),
            ("\0", None),
            ("two\nlines", None),
            ("tab\there", None),
            ("bell\u{7}", None),
            ("del\u{7F}", None),
            ("c1\u{85}x", None),
            ("zero\u{200B}width", None),
            ("\u{202E}evil", None),
            ("bom\u{FEFF}", None),
            (&"x".repeat(101), None),
        ];
        for (label, expected) in cases {
            assert_eq!(token_label(label).ok(), *expected, "{label:?}");
        }
        assert_eq!(
            token_label("").unwrap_err().to_string(),
            "the token's `label` is empty; name what the token is for (`ci`, `laptop`)"
        );
        assert_eq!(
            token_label("a\0b").unwrap_err().to_string(),
            "the token's `label` is refused: it holds the invisible character U+0000; a label is visible characters only"
        );
        assert_eq!(
            token_label(&"é".repeat(101)).unwrap_err().to_string(),
            "the token's `label` is 101 characters long; it must be at most 100"
        );
    }

    proptest! {
        #[test]
        fn an_accepted_label_is_short_visible_and_trimmed(label in any::<String>()) {
            if let Ok(kept) = token_label(&label) {
                let chars = kept.chars().count();
                prop_assert!((1..=MAX_TOKEN_LABEL_CHARS).contains(&chars));
                prop_assert!(!kept.chars().any(char::is_control));
                prop_assert_eq!(kept, kept.trim());
                prop_assert_eq!(kept, label.trim());
            }
        }

        #[test]
        fn short_printable_labels_are_accepted(label in "[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,98}[a-zA-Z0-9]") {
            prop_assert_eq!(token_label(&label), Ok(label.as_str()));
        }
    }
}
