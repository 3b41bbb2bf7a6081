//! The legal details of invoice parties (an account, or the platform as
//! the issuer) and an invoice's parties and due date: an account reads and
//! sets its own, the operator any, and every account reads the issuer's.

use crate::{AccessError, Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_domain::parties::{PLATFORM_PARTY, PartyDetails, PartyError};
use spleis_store::now_ms;

/// The parties of an invoice and when it is due.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceParties {
    /// The issuer: the platform's legal details (empty until the operator
    /// sets them).
    pub issuer: PartyDetails,
    /// The recipient: the tenant's legal details (its account name until
    /// set).
    pub recipient: PartyDetails,
    /// Issued, Unix milliseconds.
    pub issued_at: i64,
    /// Due: issued plus the issuer's payment terms, Unix milliseconds.
    pub due_at: i64,
}

impl From<PartyError> for Error {
    fn from(error: PartyError) -> Self {
        match error {
            PartyError::Input(e) => Error::Invalid(e.to_string()),
            PartyError::Database(e) => Error::Database(e),
        }
    }
}

impl Platform {
    /// The legal details of `party` (an account id, or
    /// [`PLATFORM_PARTY`], the issuer, which every account may read): the
    /// operator reads any, an account its own.
    pub async fn party_details(&self, actor: &Actor, party: &str) -> Result<PartyDetails, Error> {
        if party != PLATFORM_PARTY && !actor.is_operator() && party != actor.id() {
            return Err(Error::NotFound(format!("no legal details of `{party}`")));
        }
        Ok(match self.store.party_details(party).await? {
            Some(details) => details,
            None if party == PLATFORM_PARTY => PartyDetails {
                payment_terms_days: 14,
                ..PartyDetails::default()
            },
            None => PartyDetails {
                legal_name: self
                    .store
                    .account(party)
                    .await?
                    .map(|a| a.name)
                    .unwrap_or_else(|| party.to_owned()),
                ..PartyDetails::default()
            },
        })
    }

    /// Sets the legal details of `party`: the operator any (and the
    /// platform's), an account its own.
    pub async fn set_party_details(
        &self,
        actor: &Actor,
        party: &str,
        details: &PartyDetails,
    ) -> Result<(), Error> {
        if !actor.is_operator() && party != actor.id() {
            return Err(AccessError::Forbidden(
                "an account sets its own legal details; the operator sets any".into(),
            )
            .into());
        }
        if party != PLATFORM_PARTY && self.store.account(party).await?.is_none() {
            return Err(Error::NotFound(format!("no account `{party}`")));
        }
        self.store
            .set_party_details(party, details, now_ms())
            .await?;
        Ok(())
    }

    /// The issuer and recipient of invoice `number` and its due date; the
    /// invoice's tenant or the operator (another's is not found).
    pub async fn invoice_parties(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<InvoiceParties, Error> {
        let doc = self.store.invoice(number).await?;
        if !actor.is_operator() && doc.invoice.tenant != actor.id() {
            return Err(Error::NotFound(format!("no invoice `{number}`")));
        }
        let issuer = self.party_details(actor, PLATFORM_PARTY).await?;
        let recipient = self.party_details(actor, &doc.invoice.tenant).await?;
        let terms = i64::from(issuer.payment_terms_days) * spleis_billing::period::DAY_MS;
        Ok(InvoiceParties {
            due_at: doc.issued_at.saturating_add(terms),
            issued_at: doc.issued_at,
            issuer,
            recipient,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{bare_platform, operator_and_two_tenants};

    #[tokio::test]
    async fn legal_details_are_the_accounts_own_and_the_issuers_for_all() {
        let (platform, _guard) = bare_platform().await;
        let (op, a) = operator_and_two_tenants(&platform).await;
        let details = PartyDetails {
            legal_name: "A AS".into(),
            address: "Gate 1".into(),
            tax_id: String::new(),
            payment_terms_days: 0,
        };
        platform.set_party_details(&a, "a", &details).await.unwrap();
        assert!(platform.set_party_details(&a, "b", &details).await.is_err());
        assert!(matches!(
            platform.party_details(&a, "b").await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(platform.party_details(&op, "a").await.unwrap(), details);
        assert_eq!(
            platform.party_details(&op, "b").await.unwrap().legal_name,
            "b"
        );
        assert_eq!(
            platform
                .party_details(&a, PLATFORM_PARTY)
                .await
                .unwrap()
                .payment_terms_days,
            14
        );
    }
}
