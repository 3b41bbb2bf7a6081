//! `spleis notifications` and `spleis webhook add|list|remove|deliveries`:
//! the caller's inbox and webhooks, through the API.

use crate::client::{Client, Connection, list};
use anyhow::bail;
use clap::{Args, Subcommand};
use spleis_billing::calendar::Date;
use spleis_server::types::notifications::{
    Deliveries, DeliveryAttempt, DeliveryStatus, MarkRead, Marked, NewWebhook, NotificationKind,
    NotificationList, WebhookCreated, Webhooks,
};
use std::process::ExitCode;

/// `spleis notifications`.
#[derive(Args)]
pub struct NotificationsArgs {
    /// Only the unread ones.
    #[arg(long)]
    unread: bool,
    /// How many, newest first (1 to 1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Mark the ones shown read.
    #[arg(long)]
    mark_read: bool,
}

/// `spleis webhook …`.
#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Register a webhook; its signing secret is printed once.
    Add {
        /// An https:// URL whose host resolves only to public addresses.
        url: String,
        /// A kind to deliver (repeatable; default: every kind):
        /// request-status, request-comment, funding-reached,
        /// funding-lapsed, request-delivered, invoice-issued,
        /// statement-issued, upgrade-pending.
        #[arg(long = "event", value_name = "KIND", value_parser = kind)]
        events: Vec<NotificationKind>,
    },
    /// List your webhooks (never their secrets).
    List,
    /// Remove a webhook and its delivery log.
    Remove {
        /// The webhook's id (from `list`).
        id: String,
    },
    /// A webhook's delivery log: each delivery with every try.
    Deliveries {
        /// The webhook's id (from `list`).
        id: String,
        /// How many deliveries, newest first (1 to 1000).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}

fn kind(text: &str) -> Result<NotificationKind, String> {
    text.parse::<NotificationKind>().map_err(|e| e.to_string())
}

/// A webhook id as a path segment: ids are hex, so anything else is a typo.
fn webhook_id(id: &str) -> anyhow::Result<&str> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("`{id}` is not a webhook id (see `spleis webhook list`)");
    }
    Ok(id)
}

/// Unix ms as `YYYY-MM-DD HH:MM:SS` (UTC).
fn when(ms: i64) -> String {
    let day_ms = ms.rem_euclid(86_400_000);
    format!(
        "{} {:02}:{:02}:{:02}",
        Date::from_unix_ms(ms),
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60
    )
}

/// `spleis notifications`.
pub fn notifications(args: NotificationsArgs, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    let path = format!(
        "/v1/notifications?limit={}{}",
        args.limit,
        if args.unread { "&unread=true" } else { "" }
    );
    let answer = client.get::<NotificationList>(&path)?;
    answer.print(&client, |inbox| {
        let lines = list(&inbox.items, "no notifications", |n| {
            format!(
                "{} {} {:<17} {}",
                when(n.created_at),
                if n.read { " " } else { "*" },
                n.kind.as_str(),
                n.text
            )
        });
        format!("{lines}\n{} unread", inbox.unread)
    })?;
    if args.mark_read && !answer.body.items.is_empty() {
        let ids = answer.body.items.iter().map(|n| n.id.clone()).collect();
        let marked =
            client.post::<Marked>("/v1/notifications/read", &MarkRead { ids: Some(ids) })?;
        marked.print(&client, |m| format!("marked {} read", m.marked))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `spleis webhook …`.
pub fn webhook(command: WebhookCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    match command {
        WebhookCommand::Add { url, events } => {
            let answer =
                client.post::<WebhookCreated>("/v1/webhooks", &NewWebhook { url, events })?;
            answer.print(&client, |c| {
                format!(
                    "webhook {} registered for {}\nsecret (shown once; it verifies the Spleis-Signature header): {}",
                    c.webhook.id,
                    kinds(&c.webhook.events),
                    c.secret
                )
            })?;
        }
        WebhookCommand::List => {
            let answer = client.get::<Webhooks>("/v1/webhooks")?;
            answer.print(&client, |w| {
                list(&w.webhooks, "no webhooks", |h| {
                    format!("{}  {}  {}", h.id, h.url, kinds(&h.events))
                })
            })?;
        }
        WebhookCommand::Remove { id } => {
            client.send_empty("DELETE", &format!("/v1/webhooks/{}", webhook_id(&id)?))?;
            println!("webhook {id} removed");
        }
        WebhookCommand::Deliveries { id, limit } => {
            let path = format!("/v1/webhooks/{}/deliveries?limit={limit}", webhook_id(&id)?);
            let answer = client.get::<Deliveries>(&path)?;
            answer.print(&client, |d| {
                list(&d.deliveries, "no deliveries", |delivery| {
                    let mut lines = vec![format!(
                        "{} {} {} {}",
                        delivery.id,
                        delivery.kind.as_str(),
                        delivery.status.as_str(),
                        when(delivery.created_at)
                    )];
                    lines.extend(delivery.attempts.iter().map(attempt));
                    lines.join("\n")
                })
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kinds(events: &[NotificationKind]) -> String {
    if events.is_empty() {
        "every kind".to_owned()
    } else {
        events
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One try as a line of the log.
fn attempt(t: &DeliveryAttempt) -> String {
    let answer = match (t.status_code, &t.error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".to_owned(),
    };
    let then = match (t.outcome, t.next_try_at) {
        (DeliveryStatus::Pending, Some(next)) => format!("next try {}", when(next)),
        (outcome, _) => outcome.as_str().to_owned(),
    };
    format!(
        "  try {} at {}: {answer} in {} ms; {then}",
        t.attempt,
        when(t.tried_at),
        t.duration_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(when(1_700_000_000_123), "2023-11-14 22:13:20");
    }

    #[test]
    fn ids_must_look_like_ids() {
        assert!(webhook_id("0a1b").is_ok());
        assert!(webhook_id("../tokens").is_err());
        assert!(webhook_id("").is_err());
    }
}
