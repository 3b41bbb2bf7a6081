//! Accounts: who an API token belongs to, and the operator creating
//! accounts with their first token.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::accounts::{Account, Role, TokenInfo, token_label};
use spleis_store::accounts::token_hash;
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
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>, Error> {
        let account = self
            .caches
            .accounts
            .get_or_load(token_hash(token), self.store.authenticate_expiring(token))
            .await?;
        // A cached token may expire while it is cached.
        let now = spleis_store::now_ms();
        Ok(account
            .filter(|(_, expires_at)| expires_at.is_none_or(|at| at > now))
            .map(|(account, expires_at)| Actor::by_token(account, expires_at)))
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

/// A new token, shown once, and what is kept of it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The bearer token: shown now and never again.
    pub token: String,
    /// What is kept of it.
    pub info: TokenInfo,
}

/// Live (neither revoked nor expired) tokens one account may hold unless
/// the operator sets another limit (`spleis serve --tokens-per-account`).
pub const DEFAULT_TOKENS_PER_ACCOUNT: u32 = 50;

/// The longest a token may live: ten years, in ms.
pub const MAX_TOKEN_LIFETIME_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

impl Platform {
    /// The account a token operation acts on: the actor's own, or any the
    /// operator names.
    async fn token_owner(&self, actor: &Actor, account: Option<&str>) -> Result<String, Error> {
        match account {
            None => Ok(actor.id().to_owned()),
            Some(id) if id == actor.id() => Ok(id.to_owned()),
            Some(id) => {
                actor.require(&[Role::Operator])?;
                match self.store.account(id).await? {
                    Some(_) => Ok(id.to_owned()),
                    None => Err(Error::NotFound(format!("no account `{id}`"))),
                }
            }
        }
    }

    /// Issues a named token for the actor (or, by the operator, for any
    /// account), expiring at `expires_at` (unix ms) if given. The label is
    /// 1 to 100 visible characters (kept trimmed); an account holds at
    /// most the platform's token limit of live tokens.
    pub async fn create_token(
        &self,
        actor: &Actor,
        account: Option<&str>,
        label: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenCreated, Error> {
        let owner = self.token_owner(actor, account).await?;
        let label = token_label(label).map_err(spleis_domain::accounts::AccountError::from)?;
        if let Some(at) = expires_at {
            let now = spleis_store::now_ms();
            if at <= now || at - now > MAX_TOKEN_LIFETIME_MS {
                return Err(Error::Invalid(format!(
                    "`expires_at_ms` must be in the future and at most ten years ahead, not {at}"
                )));
            }
        }
        // A token that expires cannot make one that outlives it: expiry
        // would contain nothing.
        if let Some(limit) = actor.token_expires_at()
            && expires_at.is_none_or(|at| at > limit)
        {
            return Err(Error::Invalid(format!(
                "this token expires at {limit} (unix ms): a token it creates must expire by then too (`expires_at_ms`)"
            )));
        }
        let (token, info) = self
            .store
            .issue_named_token(&owner, label, expires_at, self.tokens_per_account)
            .await?;
        Ok(TokenCreated { token, info })
    }

    /// The tokens of the actor (or, by the operator, of any account),
    /// newest first, without their secrets.
    pub async fn tokens(
        &self,
        actor: &Actor,
        account: Option<&str>,
    ) -> Result<Vec<TokenInfo>, Error> {
        let owner = self.token_owner(actor, account).await?;
        Ok(self.store.tokens_of(&owner).await?)
    }

    /// Revokes a token of the actor (or, by the operator, of any account).
    /// It is refused at once on this node and within the caches' TTL on
    /// others.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        account: Option<&str>,
        id: &str,
    ) -> Result<(), Error> {
        let owner = self.token_owner(actor, account).await?;
        match self.store.revoke_token_id(&owner, id).await? {
            Some(hash) => {
                self.caches.accounts.forget(|k| *k == hash);
                Ok(())
            }
            None => Err(Error::NotFound(format!(
                "no active token `{id}` of `{owner}`"
            ))),
        }
    }

    /// Operator: the accounts of `role` (all for `None`).
    pub async fn accounts(&self, actor: &Actor, role: Option<Role>) -> Result<Vec<Account>, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.store.accounts(role).await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;
    use crate::tests::{bare_platform, operator_and_two_tenants};
    use spleis_domain::accounts::Role;

    #[tokio::test]
    async fn the_operator_lists_the_accounts_by_role() {
        let (platform, _guard) = bare_platform().await;
        let (op, a) = operator_and_two_tenants(&platform).await;
        assert!(matches!(
            platform.accounts(&a, None).await,
            Err(Error::Access(_))
        ));
        assert_eq!(
            platform
                .accounts(&op, Some(Role::Tenant))
                .await
                .unwrap()
                .len(),
            2
        );
    }
}
