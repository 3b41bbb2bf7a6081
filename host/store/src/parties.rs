//! The legal details of invoice parties (an account, or the platform as
//! issuer), printed on invoices. Who may read or set them is the
//! platform's rule.

use super::{Store, StoreError};
use spleis_domain::parties::{PartyDetails, PartyError};
use sqlx::Row;

impl Store {
    /// The legal details of `party` (an account id or
    /// [`PLATFORM_PARTY`](spleis_domain::parties::PLATFORM_PARTY)).
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
                StoreError::corrupt(format!(
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
    use crate::testing;
    use spleis_domain::parties::PLATFORM_PARTY;

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
}
