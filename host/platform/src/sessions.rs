//! Sign-in sessions, made from API tokens (the web console's): sign in,
//! the live session, sign out, and the sign-in form's nonce. A session acts
//! for its token's account, and ends at sign-out, after
//! [`SESSION_TTL_MS`], or when its token is revoked.

use crate::{Actor, Error, Platform};
use spleis_store::accounts::{new_token, token_hash};
use spleis_store::now_ms;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::bare_platform;
    use spleis_domain::accounts::Role;

    #[tokio::test]
    async fn a_session_expires_and_ends_at_sign_out() {
        let (platform, _guard) = bare_platform().await;
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
}
