//! Rows the web console needs and the API did not: sign-in sessions (only
//! the hash of a session id is stored), the list of accounts, calls by day,
//! and the legal details printed on invoices. The store decides no rule:
//! who may read what is the platform's.

use super::{Store, StoreError};
use spleis_billing::calendar::Date;
use spleis_billing::period::{DAY_MS, Period};
use spleis_domain::accounts::{Account, Role};
use spleis_domain::billing::DayCalls;
use spleis_domain::parties::{PartyDetails, PartyError};
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
                role: role.parse().map_err(StoreError::Corrupt)?,
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
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                Ok(Account {
                    id: row.try_get("id")?,
                    role: role.parse().map_err(StoreError::Corrupt)?,
                    name: row.try_get("name")?,
                })
            })
            .collect()
    }

    /// Calls billed in `period`, by the UTC day they were recorded, tenant
    /// and plugin; of `tenant` only when named.
    pub async fn calls_by_day(
        &self,
        period: Period,
        tenant: Option<&str>,
    ) -> Result<Vec<DayCalls>, StoreError> {
        let tenant = tenant.unwrap_or("");
        let rows = sqlx::query(
            "SELECT CAST(recorded_at / $1 AS BIGINT) AS day, tenant, plugin, \
             CAST(COUNT(*) AS BIGINT) AS calls, \
             CAST(SUM(CASE WHEN outcome = 'ok' THEN 0 ELSE 1 END) AS BIGINT) AS failed \
             FROM usage_records WHERE period = $2 AND ($3 = '' OR tenant = $4) \
             GROUP BY CAST(recorded_at / $5 AS BIGINT), tenant, plugin ORDER BY day, tenant, plugin",
        )
        .bind(DAY_MS)
        .bind(period.to_string())
        .bind(tenant)
        .bind(tenant)
        .bind(DAY_MS)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DayCalls {
                    day: Date::from_days(row.try_get("day")?).to_string(),
                    tenant: row.try_get("tenant")?,
                    plugin: row.try_get("plugin")?,
                    calls: row.try_get("calls")?,
                    failed: row.try_get("failed")?,
                })
            })
            .collect()
    }

    /// The legal details of `party` (an account id or [`PLATFORM_PARTY`]).
    pub async fn party_details(&self, party: &str) -> Result<Option<PartyDetails>, StoreError> {
        let row = sqlx::query(
            "SELECT legal_name, address, tax_id, payment_terms_days FROM party_details WHERE party = $1",
        )
        .bind(party)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let days: i64 = row.try_get("payment_terms_days")?;
        Ok(Some(PartyDetails {
            legal_name: row.try_get("legal_name")?,
            address: row.try_get("address")?,
            tax_id: row.try_get("tax_id")?,
            payment_terms_days: u32::try_from(days).map_err(|_| {
                StoreError::Corrupt(format!(
                    "party_details `{party}`: payment_terms_days {days} is out of range"
                ))
            })?,
        }))
    }

    /// Sets the legal details of `party`, checked first.
    pub async fn set_party_details(
        &self,
        party: &str,
        details: &PartyDetails,
        now: i64,
    ) -> Result<(), PartyError> {
        details.check()?;
        sqlx::query(
            "INSERT INTO party_details (party, legal_name, address, tax_id, payment_terms_days, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (party) DO UPDATE SET legal_name = $7, \
             address = $8, tax_id = $9, payment_terms_days = $10, updated_at = $11",
        )
        .bind(party)
        .bind(&details.legal_name)
        .bind(&details.address)
        .bind(&details.tax_id)
        .bind(i64::from(details.payment_terms_days))
        .bind(now)
        .bind(&details.legal_name)
        .bind(&details.address)
        .bind(&details.tax_id)
        .bind(i64::from(details.payment_terms_days))
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(StoreError::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::now_ms;
    use crate::testing;
    use spleis_domain::parties::PLATFORM_PARTY;

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

    #[tokio::test]
    async fn party_details_are_checked_and_upserted() {
        for (store, _guard) in testing::all().await {
            assert!(store.party_details(PLATFORM_PARTY).await.unwrap().is_none());
            let mut details = PartyDetails {
                legal_name: "Spleis AS".into(),
                address: "Storgata 1\n0155 Oslo".into(),
                tax_id: "NO 999 999 999 MVA".into(),
                payment_terms_days: 14,
            };
            store
                .set_party_details(PLATFORM_PARTY, &details, 1)
                .await
                .unwrap();
            details.payment_terms_days = 30;
            store
                .set_party_details(PLATFORM_PARTY, &details, 2)
                .await
                .unwrap();
            assert_eq!(
                store.party_details(PLATFORM_PARTY).await.unwrap(),
                Some(details.clone())
            );
            details.payment_terms_days = 400;
            let refused = store
                .set_party_details(PLATFORM_PARTY, &details, 3)
                .await
                .unwrap_err();
            assert!(refused.to_string().contains("payment terms"), "{refused}");
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
