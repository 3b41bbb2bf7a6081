//! Notifications: telling accounts what happened, in their inbox and by
//! their webhooks. [`Platform::notify`] is how every part of the platform
//! tells (the wishlist's request events, the close's invoices and
//! statements, a publish's pending upgrades); an account reads and marks
//! its own inbox only.
//!
//! A text never names another tenant: an invoice's notification names its
//! number and amounts, a pending upgrade the package and version.

use crate::{Actor, Error, Platform};
use serde_json::{Map, Value, json};
use spleis_billing::Money;
use spleis_billing::discounts::Period;
use spleis_domain::notifications::{
    MAX_INBOX, MAX_PAGE, Notification, NotificationKind, NotificationList,
};
use spleis_domain::registry::VersionRecord;
use spleis_store::accounts::new_time_id;
use spleis_store::now_ms;
use std::collections::BTreeSet;

/// The longest subject kept, in characters (longer ones are cut).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest text kept, in characters (longer ones are cut).
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The largest `data` a notification carries, as JSON.
pub const MAX_DATA_BYTES: usize = 16 << 10;

/// At most `max` characters of `text`, an ellipsis marking a cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The JSON body a webhook receives: `{id, type, created_at, data:
/// {subject, text, …data}}`, the notification's own fields last so
/// `data` cannot replace them.
pub fn delivery_body(notification: &Notification) -> String {
    let mut data = match &notification.data {
        Value::Object(fields) => fields.clone(),
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_owned(), other.clone())]),
    };
    data.insert("subject".into(), json!(notification.subject));
    data.insert("text".into(), json!(notification.text));
    json!({
        "id": notification.id,
        "type": notification.kind,
        "created_at": notification.created_at,
        "data": data,
    })
    .to_string()
}

impl Platform {
    /// Tells each account: an inbox row each, and a delivery to each of
    /// its webhooks subscribed to `kind`. An account named twice is told
    /// once; an unknown account is skipped (and logged). `subject` and
    /// `text` are cut to [`MAX_SUBJECT_CHARS`] and [`MAX_TEXT_CHARS`];
    /// `data` larger than [`MAX_DATA_BYTES`] is refused. Each inbox keeps
    /// its newest [`MAX_INBOX`].
    pub async fn notify(
        &self,
        accounts: &[String],
        kind: NotificationKind,
        subject: &str,
        text: &str,
        data: serde_json::Value,
    ) -> Result<(), Error> {
        let size = data.to_string().len();
        if size > MAX_DATA_BYTES {
            return Err(Error::Invalid(format!(
                "a notification's data is {size} bytes; at most {MAX_DATA_BYTES}"
            )));
        }
        let subject = cut(subject, MAX_SUBJECT_CHARS);
        let text = cut(text, MAX_TEXT_CHARS);
        let mut deliveries = 0;
        let mut told = BTreeSet::new();
        for account in accounts {
            if !told.insert(account.as_str()) {
                continue;
            }
            let notification = Notification {
                id: new_time_id(),
                kind,
                subject: subject.clone(),
                text: text.clone(),
                data: data.clone(),
                created_at: now_ms(),
                read: false,
            };
            let body = delivery_body(&notification);
            match self
                .store
                .notify(account, &notification, &body, MAX_INBOX)
                .await?
            {
                Some(made) => deliveries += made,
                None => {
                    tracing::warn!(%account, %kind, "notification for an unknown account skipped")
                }
            }
        }
        if deliveries > 0 {
            self.webhooks.wake();
        }
        Ok(())
    }

    /// The actor's notifications, newest first (`unread_only`: the unread
    /// ones), at most `limit` (1 to [`MAX_PAGE`]), with the inbox's unread
    /// count.
    pub async fn notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        limit: u32,
    ) -> Result<NotificationList, Error> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::Invalid(format!(
                "limit {limit} is out of range: 1 to {MAX_PAGE}"
            )));
        }
        let items = self
            .store
            .notifications(actor.id(), unread_only, limit)
            .await?;
        let unread = self.store.unread_count(actor.id()).await?;
        Ok(NotificationList { items, unread })
    }

    /// How many of the actor's notifications are unread (the console's
    /// badge).
    pub async fn unread_notifications(&self, actor: &Actor) -> Result<u64, Error> {
        Ok(self.store.unread_count(actor.id()).await?)
    }

    /// Marks the actor's notifications `ids` read (`None`: all); how many
    /// were unread. Ids that are not the actor's change nothing.
    pub async fn mark_read(&self, actor: &Actor, ids: Option<Vec<String>>) -> Result<u64, Error> {
        if let Some(ids) = &ids
            && ids.len() > MAX_PAGE as usize
        {
            return Err(Error::Invalid(format!(
                "{} ids; at most {MAX_PAGE} at once",
                ids.len()
            )));
        }
        Ok(self
            .store
            .mark_read(actor.id(), ids.as_deref(), now_ms())
            .await?)
    }

    /// After a close committed: tells each invoiced tenant of its invoice
    /// and each author and investor of its statement. A failure is logged,
    /// never the close's: the period is closed either way.
    pub(crate) async fn notify_documents(&self, period: Period) {
        if let Err(error) = self.try_notify_documents(period).await {
            tracing::error!(%period, %error, "the period closed, but telling its parties failed");
        }
    }

    async fn try_notify_documents(&self, period: Period) -> Result<(), Error> {
        for doc in self.store.invoices(None, Some(period)).await? {
            let invoice = &doc.invoice;
            let total = Money::new(invoice.total, doc.currency);
            let due = Money::new(invoice.amount_due, doc.currency);
            let text = format!(
                "Invoice {} for {} was issued: {total} charged, {due} to pay.",
                doc.number, doc.period
            );
            let data = json!({
                "number": doc.number,
                "period": doc.period,
                "currency": doc.currency,
                "total_minor": invoice.total,
                "amount_due_minor": invoice.amount_due,
            });
            self.notify(
                std::slice::from_ref(&invoice.tenant),
                NotificationKind::InvoiceIssued,
                &doc.number,
                &text,
                data,
            )
            .await?;
        }
        for doc in self.store.statements(None, Some(period)).await? {
            let statement = &doc.statement;
            let total = Money::new(statement.total, doc.currency);
            // The role's wire name (`author`, `investor`, …): every role a
            // statement may be for, without a list here to keep up.
            let role = serde_json::to_value(statement.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "party".to_owned());
            let text = format!(
                "Statement {} for {} was issued: {total} to you as {role}.",
                doc.number, doc.period
            );
            let data = json!({
                "number": doc.number,
                "period": doc.period,
                "currency": doc.currency,
                "kind": statement.kind,
                "total_minor": statement.total,
            });
            self.notify(
                std::slice::from_ref(&statement.party),
                NotificationKind::StatementIssued,
                &doc.number,
                &text,
                data,
            )
            .await?;
        }
        Ok(())
    }

    /// After a publish left upgrades pending: tells each of those tenants.
    /// A failure is logged, never the publish's.
    pub(crate) async fn notify_pending_upgrades(
        &self,
        version: &VersionRecord,
        tenants: &[String],
    ) {
        if tenants.is_empty() {
            return;
        }
        let text = format!(
            "Version {} of {} waits for your approval: it asks for capabilities your install has not granted.",
            version.version, version.package
        );
        let data = json!({"package": version.package, "version": version.version.to_string()});
        if let Err(error) = self
            .notify(
                tenants,
                NotificationKind::UpgradePending,
                &version.package,
                &text,
                data,
            )
            .await
        {
            tracing::error!(package = %version.package, %error, "cannot tell tenants of a pending upgrade");
        }
    }
}

#[cfg(test)]
mod tests;
