//! Accounts (operator, authors, tenants) and their API tokens.

use super::{Db, Store, StoreError, now_ms};
use sha2::{Digest, Sha256};
use spleis_billing::bounds::{MAX_TEXT_CHARS, text};
use spleis_domain::accounts::{Account, AccountError, Role, TOKEN_PREFIX, TokenInfo, valid_id};
use sqlx::Row;

/// `N` random bytes in hex, for `what` (named in the error).
fn random_hex<const N: usize>(what: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::corrupt(format!("no randomness for {what}: {e}")))?;
    Ok(hex::encode(bytes))
}

/// A new random token: the prefix and 32 random bytes in hex.
pub fn new_token() -> Result<String, StoreError> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex::<32>("a token")?))
}

/// A random id (16 bytes, hex) for records such as a call's usage.
pub fn new_id() -> Result<String, StoreError> {
    random_hex::<16>("an id")
}

/// A random key (32 bytes, hex), such as a webhook's signing secret.
pub fn new_key() -> Result<String, StoreError> {
    random_hex::<32>("a key")
}

/// A random id that sorts by creation time: 8 bytes of nanoseconds since
/// the epoch, then 8 random bytes, in hex (32 characters, like [`new_id`]).
/// Usage records are keyed by (tenant, id): time-ordered ids append to the
/// key's B-tree instead of landing at random pages.
///
/// The random half comes from the thread's generator (ChaCha, seeded from
/// the system and reseeded by it), not a system call per id: `getrandom`
/// per call cost 2% of the HTTP path. A call's id needs uniqueness, not
/// secrecy, and tells nothing of other calls.
pub fn new_time_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!("{nanos:016x}{:016x}", rand::random::<u64>())
}

/// What is stored of a token: its sha256, in hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Creates an account; an id that exists is refused.
    pub async fn create_account(
        &self,
        id: &str,
        role: Role,
        name: &str,
    ) -> Result<Account, AccountError> {
        if !self.ensure_account(id, role, name).await? {
            return Err(AccountError::Exists(id.to_owned()));
        }
        Ok(Account {
            id: id.to_owned(),
            role,
            name: name.to_owned(),
        })
    }

    /// Creates the account unless one with its id exists, in one
    /// statement: two creators at once (two nodes starting together) both
    /// succeed, and exactly one of them gets `true` (it created it).
    pub async fn ensure_account(
        &self,
        id: &str,
        role: Role,
        name: &str,
    ) -> Result<bool, AccountError> {
        if !valid_id(id) {
            return Err(AccountError::InvalidId(id.to_owned()));
        }
        // Names are shown on invoices and listings: bounded like every
        // other text billing stores.
        text("the account name", name, MAX_TEXT_CHARS)?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, role, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(role.as_str())
        .bind(name)
        .bind(now_ms())
        .execute(self.pool())
        .await.db()?;
        Ok(inserted.rows_affected() == 1)
    }

    /// The account `id`.
    pub async fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query("SELECT id, role, name FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| account_from_row(&r)).transpose()
    }

    /// Issues a token for `account_id`; the token is returned once and only
    /// its hash is kept.
    pub async fn issue_token(&self, account_id: &str, label: &str) -> Result<String, AccountError> {
        if self.account(account_id).await?.is_none() {
            return Err(AccountError::Unknown(account_id.to_owned()));
        }
        let token = new_token()?;
        self.insert_token_hash(account_id, label, &token_hash(&token))
            .await?;
        Ok(token)
    }

    /// Records a token given from outside (the bootstrap operator token from
    /// the environment); idempotent.
    pub async fn insert_token_hash(
        &self,
        account_id: &str,
        label: &str,
        hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (hash, account_id, label, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash)
        .bind(account_id)
        .bind(label)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The account a bearer token belongs to, unless it is unknown,
    /// revoked or expired.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .authenticate_expiring(token)
            .await?
            .map(|(account, _)| account))
    }

    /// The account a bearer token belongs to and when the token expires
    /// (unix ms), unless it is unknown, revoked or expired.
    pub async fn authenticate_expiring(
        &self,
        token: &str,
    ) -> Result<Option<(Account, Option<i64>)>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.role, a.name, t.expires_at FROM tokens t JOIN accounts a ON a.id = t.account_id \
             WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(token_hash(token))
        .bind(now_ms())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((account_from_row(&r)?, r.try_get("expires_at")?)))
            .transpose()
    }

    /// Issues a named token for `account_id` that expires at `expires_at`
    /// (unix ms; `None`: never), unless the account already holds
    /// `max_live` live tokens (neither revoked nor expired); the token is
    /// returned once, with what is kept of it.
    ///
    /// The count and the insert are one transaction with the account's
    /// row locked (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE`
    /// is already the one writer): two creates at once cannot both pass
    /// the limit.
    pub async fn issue_named_token(
        &self,
        account_id: &str,
        label: &str,
        expires_at: Option<i64>,
        max_live: u32,
    ) -> Result<(String, TokenInfo), AccountError> {
        let label = text("label", label, MAX_TEXT_CHARS)?;
        let token = new_token()?;
        let hash = token_hash(&token);
        let created_at = now_ms();
        let mut tx = self.begin_write().await.db()?;
        let account = sqlx::query(&format!(
            "SELECT id FROM accounts WHERE id = $1{}",
            self.for_update()
        ))
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if account.is_none() {
            return Err(AccountError::Unknown(account_id.to_owned()));
        }
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS live FROM tokens WHERE account_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(account_id)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await
        .db()?
        .try_get("live")
        .db()?;
        if live >= i64::from(max_live) {
            return Err(AccountError::TooManyTokens {
                account: account_id.to_owned(),
                limit: max_live,
            });
        }
        sqlx::query(
            "INSERT INTO tokens (hash, account_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&hash)
        .bind(account_id)
        .bind(label)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await.db()?;
        tx.commit().await.db()?;
        let info = TokenInfo {
            id: token_id(&hash),
            account: account_id.to_owned(),
            label: label.to_owned(),
            created_at,
            expires_at,
            revoked_at: None,
        };
        Ok((token, info))
    }

    /// The tokens of `account_id`, newest first, without their secrets.
    pub async fn tokens_of(&self, account_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT hash, account_id, label, created_at, expires_at, revoked_at FROM tokens \
             WHERE account_id = $1 ORDER BY created_at DESC, hash",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.try_get("hash")?;
                Ok(TokenInfo {
                    id: token_id(&hash),
                    account: r.try_get("account_id")?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes the token of `account_id` whose id is `id`; its hash if it
    /// was active (so caches keyed by it can be forgotten).
    pub async fn revoke_token_id(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        if id.len() != TOKEN_ID_CHARS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        // Hashes are stored in lowercase hex.
        let id = id.to_ascii_lowercase();
        let row = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE account_id = $2 AND SUBSTR(hash, 1, CAST($3 AS INTEGER)) = $4 \
             AND revoked_at IS NULL RETURNING hash",
        )
        .bind(now_ms())
        .bind(account_id)
        .bind(TOKEN_ID_CHARS as i64)
        .bind(&id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("hash")).transpose()?)
    }

    /// Revokes a token; whether it was active.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(token_hash(token))
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether any operator account exists (first start).
    pub async fn has_operator(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE role = 'operator'")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Every account of `role` (all for `None`), by id.
    pub async fn accounts(&self, role: Option<Role>) -> Result<Vec<Account>, StoreError> {
        let role = role.map(Role::as_str).unwrap_or("");
        let rows = sqlx::query(
            "SELECT id, role, name FROM accounts WHERE $1 = '' OR role = $2 ORDER BY id",
        )
        .bind(role)
        .bind(role)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(account_from_row).collect()
    }
}

/// Characters of a token's hash that name it: enough to be unique among
/// an account's tokens, and no help in guessing the token.
const TOKEN_ID_CHARS: usize = 16;

/// A token's public id: the start of its hash.
fn token_id(hash: &str) -> String {
    hash.chars().take(TOKEN_ID_CHARS).collect()
}

fn account_from_row(row: &sqlx::any::AnyRow) -> Result<Account, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        id: row.try_get("id")?,
        role: role.parse().map_err(StoreError::corrupt)?,
        name: row.try_get("name")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn time_ids_are_unique_across_threads_and_sort_by_time() {
        let ids: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..10_000).map(|_| new_time_id()).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        assert!(
            ids.iter()
                .all(|id| id.len() == 32 && hex::decode(id).is_ok())
        );
        let (first, later) = (new_time_id(), new_time_id());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let last = new_time_id();
        assert!(first[..16] <= later[..16] && later[..16] < last[..16]);
    }

    #[tokio::test]
    async fn tokens_authenticate_until_revoked_and_are_stored_hashed() {
        for (store, _guard) in testing::all().await {
            assert!(!store.has_operator().await.unwrap());
            store
                .create_account("root", Role::Operator, "Operator")
                .await
                .unwrap();
            assert!(store.has_operator().await.unwrap());
            let token = store.issue_token("root", "cli").await.unwrap();
            assert!(token.starts_with(TOKEN_PREFIX) && token.len() == 68);
            let who = store.authenticate(&token).await.unwrap().unwrap();
            assert_eq!(who.role, Role::Operator);
            assert!(store.authenticate("spl_wrong").await.unwrap().is_none());
            let stored: String = sqlx::query("SELECT hash FROM tokens")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("hash")
                .unwrap();
            assert_ne!(stored, token);
            assert!(store.revoke_token(&token).await.unwrap());
            assert!(store.authenticate(&token).await.unwrap().is_none());
        }
    }

    /// Twenty creators of one account at once (two nodes bootstrapping):
    /// all succeed, one creates it.
    #[tokio::test]
    async fn concurrent_ensures_create_an_account_once() {
        for (store, _guard) in testing::all().await {
            for round in 0..10 {
                let id = format!("op-{round}");
                let tasks: Vec<_> = (0..20)
                    .map(|_| {
                        let store = store.clone();
                        let id = id.clone();
                        tokio::spawn(async move {
                            store.ensure_account(&id, Role::Operator, "Operator").await
                        })
                    })
                    .collect();
                let mut created = 0;
                for task in tasks {
                    created += usize::from(task.await.unwrap().unwrap());
                }
                assert_eq!(created, 1, "round {round}");
            }
        }
    }

    #[tokio::test]
    async fn concurrent_token_creates_never_pass_the_limit() {
        for (store, _guard) in testing::all().await {
            store
                .create_account("acme", Role::Tenant, "Acme")
                .await
                .unwrap();
            // A revoked and an expired token hold no place.
            let (revoked, _) = store
                .issue_named_token("acme", "old", None, 5)
                .await
                .unwrap();
            assert!(store.revoke_token(&revoked).await.unwrap());
            store
                .issue_named_token("acme", "brief", Some(now_ms() + 50), 5)
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let tasks: Vec<_> = (0..20)
                .map(|n| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .issue_named_token("acme", &format!("t{n}"), None, 5)
                            .await
                    })
                })
                .collect();
            let (mut created, mut refused) = (0, 0);
            for task in tasks {
                match task.await.unwrap() {
                    Ok(_) => created += 1,
                    Err(AccountError::TooManyTokens { limit: 5, .. }) => refused += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!((created, refused), (5, 15));
            assert!(matches!(
                store.issue_named_token("nobody", "x", None, 5).await,
                Err(AccountError::Unknown(_))
            ));
        }
    }

    #[tokio::test]
    async fn ids_are_validated_and_unique() {
        for (store, _guard) in testing::all().await {
            for bad in ["", "Acme", "a b", "-a", "a-", "a--b", "1a"] {
                assert!(
                    matches!(
                        store.create_account(bad, Role::Author, "x").await,
                        Err(AccountError::InvalidId(_))
                    ),
                    "{bad}"
                );
            }
            store
                .create_account("acme", Role::Author, "Acme")
                .await
                .unwrap();
            assert!(matches!(
                store.create_account("acme", Role::Tenant, "Other").await,
                Err(AccountError::Exists(_))
            ));
            assert!(
                !store
                    .ensure_account("acme", Role::Author, "Again")
                    .await
                    .unwrap()
            );
            assert!(matches!(
                store.issue_token("nobody", "x").await,
                Err(AccountError::Unknown(_))
            ));
        }
    }

    #[tokio::test]
    async fn accounts_are_listed_by_role() {
        for (store, _guard) in testing::all().await {
            store.create_account("b", Role::Tenant, "B").await.unwrap();
            store.create_account("a", Role::Author, "A").await.unwrap();
            let tenants = store.accounts(Some(Role::Tenant)).await.unwrap();
            assert_eq!(tenants.len(), 1);
            assert_eq!(store.accounts(None).await.unwrap().len(), 2);
        }
    }
}
