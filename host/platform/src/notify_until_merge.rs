//! Replaced by the notifications branch at its merge.
use crate::{Error, Platform};
use spleis_domain::notifications::NotificationKind;

impl Platform {
    /// Tells each account.
    pub async fn notify(
        &self,
        accounts: &[String],
        kind: NotificationKind,
        subject: &str,
        text: &str,
        _data: serde_json::Value,
    ) -> Result<(), Error> {
        tracing::debug!(?accounts, ?kind, subject, text, "notify");
        Ok(())
    }
}
