//! Who may do what: the [`Actor`] every operation takes, and the one place
//! role and ownership checks are decided.

use spleis_domain::accounts::{Account, Role};

/// The authenticated account an operation acts for. Only the platform makes
/// one (from a token, or for its own maintenance), so holding an `Actor`
/// proves who asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(Account, Option<i64>);

/// Why an actor may not do what it asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccessError {
    /// The operation needs another role.
    #[error("this needs a token of role {needs}; `{account}` has the role {role}")]
    Role {
        /// The roles that may, joined with "or".
        needs: String,
        /// The actor.
        account: String,
        /// Its role.
        role: Role,
    },
    /// The actor has the role but not the relation (owner, the tenant itself).
    #[error("{0}")]
    Forbidden(String),
}

impl Actor {
    /// The actor for `account`; only the platform authenticates.
    pub(crate) fn new(account: Account) -> Self {
        Self(account, None)
    }

    /// The actor for `account` by a token that expires at `expires_at`
    /// (unix ms; `None`: never).
    pub(crate) fn by_token(account: Account, expires_at: Option<i64>) -> Self {
        Self(account, expires_at)
    }

    /// When the token this actor came with stops working, if it does: what
    /// it creates may not outlive it.
    pub fn token_expires_at(&self) -> Option<i64> {
        self.1
    }

    /// Its account.
    pub fn account(&self) -> &Account {
        &self.0
    }

    /// Its account id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// Refuses unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Account, AccessError> {
        if roles.contains(&self.0.role) {
            return Ok(&self.0);
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(AccessError::Role {
            needs: names.join(" or "),
            account: self.0.id.clone(),
            role: self.0.role,
        })
    }

    /// Whether the actor is the operator.
    pub fn is_operator(&self) -> bool {
        self.0.role == Role::Operator
    }
}

impl std::ops::Deref for Actor {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor::new(Account {
            id: "someone".into(),
            role,
            name: "Someone".into(),
        })
    }

    #[test]
    fn a_role_outside_the_list_is_refused_with_both_named() {
        assert!(actor(Role::Tenant).require(&[Role::Tenant]).is_ok());
        let refused = actor(Role::Author)
            .require(&[Role::Tenant, Role::Operator])
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "this needs a token of role tenant or operator; `someone` has the role author"
        );
    }
}
