//! Operations the web console needs beyond the API's: sign-in sessions made
//! from API tokens, calls by day, the month so far as the close would see
//! it, a preview of a close, the accounts and their terms, a sample month
//! rated by a plan, and the legal details printed on invoices.
//!
//! Every read is scoped as the API scopes it: a tenant sees its own, an
//! author its plugins' and its own statements, the operator everything.
//! The console adds presentation, never a rule.

use crate::{AccessError, Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_billing::close::{Invoice, PeriodClose, Settlement, Statement, TenantTerms, totals};
use spleis_billing::commitments::money_minimum;
use spleis_billing::discounts::Period;
use spleis_billing::projection::{days_elapsed, extrapolate};
use spleis_billing::rating::{InvoiceLine, PeriodUsage, PricePlan, rate, validate_plan};
use spleis_domain::accounts::{Account, Role};
use spleis_domain::billing::DayCalls;
use spleis_domain::parties::{PLATFORM_PARTY, PartyDetails, PartyError};
use spleis_store::accounts::{new_token, token_hash};
use spleis_store::now_ms;
use std::collections::BTreeMap;

/// How long a console session lives after sign-in: a working day.
pub const SESSION_TTL_MS: i64 = 8 * 60 * 60 * 1000;

/// A session just made: the id goes into the browser's cookie and is never
/// stored; the CSRF token goes into every form.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The session id (secret; only its hash is stored).
    pub session: String,
    /// The anti-forgery token of the session's forms.
    pub csrf: String,
    /// When the session ends, Unix milliseconds.
    pub expires_at: i64,
    /// Who signed in.
    pub actor: Actor,
}

/// A live session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who it acts for.
    pub actor: Actor,
    /// The anti-forgery token its forms must carry.
    pub csrf: String,
    /// When it ends, Unix milliseconds.
    pub expires_at: i64,
}

/// Calls by day in one period, scoped to the actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyUsage {
    /// The period.
    pub period: Period,
    /// Rows by day, tenant and plugin (days without calls are absent).
    pub rows: Vec<DayCalls>,
}

/// The open month as the close would see it now, scoped to the actor:
/// draft invoices and statements, and the plugins' settlements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSoFar {
    /// The open period.
    pub period: Period,
    /// The platform currency.
    pub currency: Currency,
    /// Days of the period elapsed, counting today.
    pub days_elapsed: u32,
    /// Days in the period.
    pub days_in_period: u32,
    /// Draft invoices: the tenant's own, or all for the operator.
    pub invoices: Vec<Invoice>,
    /// Draft statements: the party's own, or all for the operator.
    pub statements: Vec<Statement>,
    /// Plugins' settlements: an author's plugins' (without the investors'
    /// names), all for the operator, none for a tenant.
    pub settlements: Vec<Settlement>,
}

impl MonthSoFar {
    /// `so_far` projected to the month's end at the pace of the days
    /// elapsed (the same rule as the investor's projection).
    pub fn project(&self, so_far: i64) -> i64 {
        let Ok(so_far_u) = u64::try_from(so_far) else {
            return so_far;
        };
        // A month's charges that cannot be projected are shown as they are.
        let now = self.period.start_ms()
            + i64::from(self.days_elapsed.saturating_sub(1)) * spleis_billing::period::DAY_MS;
        extrapolate(so_far_u, self.period, now)
            .ok()
            .and_then(|p| i64::try_from(p).ok())
            .unwrap_or(so_far)
    }
}

/// What closing a period now would produce, written nowhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosePreview {
    /// The period.
    pub period: Period,
    /// The platform currency.
    pub currency: Currency,
    /// What tenants would be charged.
    pub charged: i64,
    /// Net to the platform.
    pub platform: i64,
    /// To authors.
    pub authors: i64,
    /// To investors.
    pub investors: i64,
    /// Invoices it would write.
    pub invoices: usize,
    /// Statements it would write.
    pub statements: usize,
}

/// A tenant and its terms (commitments, discounts, prepaid credit) as they
/// stand for the open period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantWithTerms {
    /// The account.
    pub account: Account,
    /// Its terms; the defaults (none) when it has none.
    pub terms: TenantTerms,
    /// The open period, which the terms are read for.
    pub period: Period,
}

impl TenantWithTerms {
    /// The money minimum in force in the open period, minor units.
    pub fn minimum(&self) -> i64 {
        money_minimum(&self.terms.commitments, self.period)
    }
}

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

/// A random value for the sign-in form's double-submit cookie (16 bytes,
/// hex).
pub fn new_nonce() -> Result<String, Error> {
    Ok(spleis_store::accounts::new_id()?)
}

impl Platform {
    /// Signs in with an API token: a new session for its account, or
    /// `None` for an unknown or revoked token.
    pub async fn sign_in(&self, token: &str) -> Result<Option<SignedIn>, Error> {
        self.sign_in_at(token, now_ms()).await
    }

    pub(crate) async fn sign_in_at(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Option<SignedIn>, Error> {
        let Some(account) = self.store.authenticate(token).await? else {
            return Ok(None);
        };
        let session = new_token()?;
        let csrf = new_token()?;
        let expires_at = now.saturating_add(SESSION_TTL_MS);
        self.store
            .create_session(
                &token_hash(&session),
                &token_hash(token),
                &account.id,
                &csrf,
                now,
                expires_at,
            )
            .await?;
        // Expired sessions are cleared as new ones are made: no timer needed.
        if let Err(e) = self.store.purge_sessions(now).await {
            tracing::warn!(error = %e, "could not purge expired console sessions");
        }
        tracing::info!(account = %account.id, "console sign-in");
        Ok(Some(SignedIn {
            session,
            csrf,
            expires_at,
            actor: Actor::new(account),
        }))
    }

    /// The live session `session` names: `None` when unknown, expired,
    /// signed out, or made from a token since revoked.
    pub async fn session(&self, session: &str) -> Result<Option<Session>, Error> {
        self.session_at(session, now_ms()).await
    }

    pub(crate) async fn session_at(
        &self,
        session: &str,
        now: i64,
    ) -> Result<Option<Session>, Error> {
        Ok(self
            .store
            .session(&token_hash(session), now)
            .await?
            .map(|row| Session {
                actor: Actor::new(row.account),
                csrf: row.csrf,
                expires_at: row.expires_at,
            }))
    }

    /// Ends a session.
    pub async fn sign_out(&self, session: &str) -> Result<(), Error> {
        self.store.delete_session(&token_hash(session)).await?;
        Ok(())
    }

    /// The open period.
    async fn open_period(&self) -> Result<Period, Error> {
        Ok(self.store.billing_settings().await?.open_period(now_ms()))
    }

    /// Calls by day in `period` (default: the open one): a tenant's own, an
    /// author's plugins' (namespaces it owns), all for the operator.
    pub async fn daily_usage(
        &self,
        actor: &Actor,
        period: Option<Period>,
    ) -> Result<DailyUsage, Error> {
        let period = match period {
            Some(period) => period,
            None => self.open_period().await?,
        };
        self.usage.flush().await;
        let tenant = (actor.role() == Role::Tenant).then(|| actor.id());
        let mut rows = self.store.calls_by_day(period, tenant).await?;
        if actor.role() == Role::Author {
            let owned = self
                .namespaces_owned(actor, rows.iter().map(|r| r.plugin.as_str()))
                .await?;
            rows.retain(|r| {
                owned
                    .get(crate::billing::namespace_of(&r.plugin))
                    .copied()
                    .unwrap_or(false)
            });
        }
        Ok(DailyUsage { period, rows })
    }

    /// For each namespace of `plugins`: whether `actor` owns it.
    async fn namespaces_owned<'a>(
        &self,
        actor: &Actor,
        plugins: impl Iterator<Item = &'a str>,
    ) -> Result<BTreeMap<String, bool>, Error> {
        let mut owned = BTreeMap::new();
        for plugin in plugins {
            let namespace = crate::billing::namespace_of(plugin);
            if owned.contains_key(namespace) {
                continue;
            }
            let owns = match self.store.owners(namespace).await {
                Ok(owners) => owners.iter().any(|o| o == actor.id()),
                Err(spleis_domain::registry::RegistryError::UnknownNamespace(_)) => false,
                Err(e) => return Err(e.into()),
            };
            owned.insert(namespace.to_owned(), owns);
        }
        Ok(owned)
    }

    /// The open month so far, as the close would rate it now (usage
    /// flushed first), scoped to the actor.
    pub async fn month_so_far(&self, actor: &Actor) -> Result<MonthSoFar, Error> {
        let settings = self.store.billing_settings().await?;
        let now = now_ms();
        let period = settings.open_period(now);
        self.usage.flush().await;
        let draft = self.books().preview_period(period).await?;
        let PeriodClose {
            invoices,
            statements,
            settlements,
            ..
        } = draft;
        let (invoices, statements, settlements) = match actor.role() {
            Role::Operator => (invoices, statements, settlements),
            Role::Tenant => (
                invoices
                    .into_iter()
                    .filter(|i| i.tenant == actor.id())
                    .collect(),
                statements
                    .into_iter()
                    .filter(|s| s.party == actor.id())
                    .collect(),
                Vec::new(),
            ),
            Role::Author => {
                let owned = self
                    .namespaces_owned(actor, settlements.iter().map(|s| s.plugin.as_str()))
                    .await?;
                let settlements = settlements
                    .into_iter()
                    .filter(|s| {
                        owned
                            .get(crate::billing::namespace_of(&s.plugin))
                            .copied()
                            .unwrap_or(false)
                    })
                    .map(|mut s| {
                        // The author reads its agreement, not who invested.
                        s.investors.clear();
                        s
                    })
                    .collect();
                (
                    Vec::new(),
                    statements
                        .into_iter()
                        .filter(|s| s.party == actor.id())
                        .collect(),
                    settlements,
                )
            }
        };
        Ok(MonthSoFar {
            period,
            currency: settings.currency,
            days_elapsed: days_elapsed(period, now),
            days_in_period: period.days(),
            invoices,
            statements,
            settlements,
        })
    }

    /// Operator: what closing `period` now would produce (its totals),
    /// written nowhere. A closed period is refused: its figures are final.
    pub async fn close_preview(
        &self,
        actor: &Actor,
        period: Period,
    ) -> Result<ClosePreview, Error> {
        actor.require(&[Role::Operator])?;
        let settings = self.store.billing_settings().await?;
        if settings.last_closed.is_some_and(|last| period <= last) {
            return Err(Error::Invalid(format!(
                "{period} is closed; its figures are final"
            )));
        }
        self.usage.flush().await;
        let draft = self.books().preview_period(period).await?;
        let sums =
            totals(&draft).map_err(|e| Error::Invalid(format!("the preview of {period}: {e}")))?;
        Ok(ClosePreview {
            period,
            currency: settings.currency,
            charged: sums.charged,
            platform: sums.platform,
            authors: sums.authors,
            investors: sums.investors,
            invoices: draft.invoices.len(),
            statements: draft.statements.len(),
        })
    }

    /// Operator: the accounts of `role` (all for `None`).
    pub async fn accounts(&self, actor: &Actor, role: Option<Role>) -> Result<Vec<Account>, Error> {
        actor.require(&[Role::Operator])?;
        Ok(self.store.accounts(role).await?)
    }

    /// Tenants with their terms: the operator sees every tenant, a tenant
    /// its own; authors have none.
    pub async fn tenant_terms(&self, actor: &Actor) -> Result<Vec<TenantWithTerms>, Error> {
        let tenants = match actor.role() {
            Role::Operator => self.store.accounts(Some(Role::Tenant)).await?,
            Role::Tenant => vec![actor.account().clone()],
            Role::Author => {
                return Err(AccessError::Forbidden(
                    "terms are seen by their tenants and the operator".into(),
                )
                .into());
            }
        };
        let period = self.open_period().await?;
        let input = self.store.period_input(period).await?;
        Ok(tenants
            .into_iter()
            .map(|account| TenantWithTerms {
                terms: input.tenants.get(&account.id).cloned().unwrap_or_default(),
                account,
                period,
            })
            .collect())
    }

    /// What `plan` would charge for `usage`: any account may ask (a tenant
    /// weighing a plugin, an author trying a plan before setting it). The
    /// plan is validated as setting it would.
    pub fn price_example(
        &self,
        _actor: &Actor,
        plan: &PricePlan,
        usage: &PeriodUsage,
    ) -> Result<Vec<InvoiceLine>, Error> {
        validate_plan(plan).map_err(|e| Error::Invalid(e.to_string()))?;
        rate(plan, usage).map_err(|e| Error::Invalid(e.to_string()))
    }

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
    use spleis_store::testing;
    use std::sync::Arc;

    async fn platform() -> (Platform, spleis_store::testing::Guard) {
        let (store, guard) = testing::sqlite().await;
        let runtime = spleis_runtime::Runtime::new(spleis_runtime::RuntimeConfig {
            max_instances: 2,
            ..Default::default()
        })
        .expect("runtime");
        (
            Platform::new(store, Arc::new(runtime), crate::usage::Durability::Sync),
            guard,
        )
    }

    #[tokio::test]
    async fn a_session_expires_and_ends_at_sign_out() {
        let (platform, _guard) = platform().await;
        platform
            .store
            .create_account("acme", Role::Tenant, "Acme")
            .await
            .unwrap();
        let token = platform.store.issue_token("acme", "test").await.unwrap();
        assert!(platform.sign_in("spl_wrong").await.unwrap().is_none());
        let now = now_ms();
        let signed = platform.sign_in_at(&token, now).await.unwrap().unwrap();
        assert_eq!(signed.actor.id(), "acme");
        assert_ne!(signed.session, signed.csrf);
        let live = platform
            .session_at(&signed.session, now + 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live.csrf, signed.csrf);
        // One millisecond before the end it lives; at the end it is gone.
        assert!(
            platform
                .session_at(&signed.session, now + SESSION_TTL_MS - 1)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            platform
                .session_at(&signed.session, now + SESSION_TTL_MS)
                .await
                .unwrap()
                .is_none()
        );
        platform.sign_out(&signed.session).await.unwrap();
        assert!(
            platform
                .session_at(&signed.session, now + 1)
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn actor(platform: &Platform, id: &str) -> Actor {
        let token = platform.store.issue_token(id, "t").await.unwrap();
        platform.authenticate(&token).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn legal_details_are_the_accounts_own_and_the_issuers_for_all() {
        let (platform, _guard) = platform().await;
        for (id, role) in [
            ("op", Role::Operator),
            ("a", Role::Tenant),
            ("b", Role::Tenant),
        ] {
            platform.store.create_account(id, role, id).await.unwrap();
        }
        let (op, a) = (actor(&platform, "op").await, actor(&platform, "a").await);
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
        let terms = platform.tenant_terms(&a).await.unwrap();
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].account.id, "a");
    }

    #[test]
    fn the_month_so_far_projects_by_the_days_elapsed() {
        let month = MonthSoFar {
            period: "2026-11".parse().unwrap(),
            currency: Currency::new("EUR").unwrap(),
            days_elapsed: 10,
            days_in_period: 30,
            invoices: Vec::new(),
            statements: Vec::new(),
            settlements: Vec::new(),
        };
        assert_eq!(month.project(100), 300);
        assert_eq!(month.project(0), 0);
        let last_day = MonthSoFar {
            days_elapsed: 30,
            ..month
        };
        assert_eq!(last_day.project(457), 457);
    }
}
