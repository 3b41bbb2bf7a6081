//! Sign-in sessions of the web console, made from API tokens: only the
//! hash of a session id is stored, and a session lives only while its
//! token does. Who may sign in is the platform's rule.

use super::{Store, StoreError};
use spleis_domain::accounts::Account;
use sqlx::Row;

/// A stored session, as its lookup answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The account the session acts for.
    pub account: Account,
    /// The session's anti-forgery token, embedded in every form.
    pub csrf: String,
    /// When it ends, Unix milliseconds.
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session under the hash of its id.
    pub async fn create_session(
        &self,
        id_hash: &str,
        token_hash: &str,
        account_id: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, token_hash, account_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(token_hash)
        .bind(account_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session whose id hashes to `id_hash`: not expired at `now`,
    /// and made from a token that is neither revoked nor expired.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.role, a.name, s.csrf, s.expires_at FROM console_sessions s \
             JOIN tokens t ON t.hash = s.token_hash JOIN accounts a ON a.id = s.account_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        Ok(Some(SessionRow {
            account: Account {
                id: row.try_get("id")?,
                role: role.parse().map_err(StoreError::corrupt)?,
                name: row.try_get("name")?,
            },
            csrf: row.try_get("csrf")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Ends a session; whether there was one.
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the sessions expired at `now`; how many.
    pub async fn purge_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use crate::now_ms;
    use crate::testing;
    use spleis_domain::accounts::Role;

    #[tokio::test]
    async fn a_session_lives_until_it_expires_is_deleted_or_its_token_is_revoked() {
        for (store, _guard) in testing::all().await {
            store
                .create_account("acme", Role::Tenant, "Acme")
                .await
                .unwrap();
            let token = store.issue_token("acme", "test").await.unwrap();
            let th = crate::accounts::token_hash(&token);
            let now = now_ms();
            store
                .create_session("s1", &th, "acme", "c1", now, now + 1000)
                .await
                .unwrap();
            let live = store.session("s1", now).await.unwrap().unwrap();
            assert_eq!(live.account.id, "acme");
            assert_eq!(live.csrf, "c1");
            assert!(store.session("s1", now + 1000).await.unwrap().is_none());
            assert!(store.session("nope", now).await.unwrap().is_none());
            assert_eq!(store.purge_sessions(now + 1000).await.unwrap(), 1);
            store
                .create_session("s2", &th, "acme", "c2", now, now + 1000)
                .await
                .unwrap();
            assert!(store.revoke_token(&token).await.unwrap());
            assert!(store.session("s2", now).await.unwrap().is_none());
            assert!(store.delete_session("s2").await.unwrap());
        }
    }
}
