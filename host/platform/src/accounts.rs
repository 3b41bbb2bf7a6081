//! Accounts: who an API token belongs to, and the operator creating
//! accounts with their first token.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_store::StoreError;
use spleis_store::accounts::{Account, Role, token_hash};
use utoipa::ToSchema;

/// A new account and its first token, shown once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountCreated {
    /// The account.
    pub account: Account,
    /// Its bearer token.
    pub token: String,
}

impl Platform {
    /// The actor a bearer token stands for, `None` for an unknown or revoked
    /// token. Cached for [`crate::caches::TTL`].
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let key = token_hash(token);
        let account = match self.caches.accounts.get(&key) {
            Some(account) => account,
            None => {
                let account = self.store.authenticate(token).await?;
                self.caches.accounts.put(key, account.clone());
                account
            }
        };
        Ok(account.map(Actor::new))
    }

    /// The operator creates an account (named `name`, default its id) and
    /// its first token.
    pub async fn create_account(
        &self,
        actor: &Actor,
        id: &str,
        role: Role,
        name: Option<&str>,
    ) -> Result<AccountCreated, Error> {
        actor.require(&[Role::Operator])?;
        let account = self
            .store
            .create_account(id, role, name.unwrap_or(id))
            .await?;
        let token = self
            .store
            .issue_token(&account.id, "created by the operator")
            .await?;
        Ok(AccountCreated { account, token })
    }
}
