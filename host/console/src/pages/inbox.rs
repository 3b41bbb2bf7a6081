//! Every role's inbox: the account's notifications, newest first, with a
//! form that marks them all read, and its webhooks (read only: they are
//! registered through the API or `spleis webhook add`, which shows the
//! secret once).

use crate::ConsoleState;
use crate::page::{PageError, csrf, empty, page};
use crate::session::Posted;
use crate::viewer::Viewer;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use spleis_domain::notifications::{Notification, NotificationKind};

/// How many notifications the page shows.
const SHOWN: u32 = 100;

/// Where a notification leads in the console, when it has a page.
fn link(notification: &Notification) -> Option<String> {
    let subject = &notification.subject;
    match notification.kind {
        NotificationKind::InvoiceIssued => Some(format!("/invoices/{subject}")),
        NotificationKind::StatementIssued => Some(format!("/statements/{subject}")),
        NotificationKind::UpgradePending => Some("/installs".to_owned()),
        // The wishlist's notifications are about `request-{id}`.
        NotificationKind::RequestStatus
        | NotificationKind::RequestComment
        | NotificationKind::FundingReached
        | NotificationKind::FundingLapsed
        | NotificationKind::RequestDelivered => subject
            .strip_prefix("request-")
            .and_then(|id| id.parse::<i64>().ok())
            .map(|id| format!("/wishlist/{id}")),
    }
}

/// `/inbox`.
pub async fn inbox(State(state): State<ConsoleState>, viewer: Viewer) -> Result<Markup, PageError> {
    let inbox = state
        .platform
        .notifications(&viewer.actor, false, SHOWN)
        .await?;
    let webhooks = state.platform.webhooks(&viewer.actor).await?;
    let locale = viewer.locale;
    let body = html! {
        p.lead #unread { (match inbox.unread { 0 => "Nothing unread.".to_owned(), 1 => "1 unread notification.".to_owned(), n => format!("{n} unread notifications.") }) }
        @if inbox.unread > 0 {
            form.inline method="post" action="/inbox/read" {
                (csrf(&viewer))
                button type="submit" { "Mark all read" }
            }
        }
        @if inbox.items.is_empty() {
            (empty("No notifications yet: invoices, statements, pending upgrades and the requests you follow show up here."))
        } @else {
            table.figures #notifications {
                thead { tr { th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "" } } }
                tbody {
                    @for n in &inbox.items {
                        tr.unread[!n.read] data-kind=(n.kind.as_str()) {
                            td.num { (locale.date_time(n.created_at)) }
                            td {
                                @if !n.read { span.visually-hidden { "Unread: " } }
                                (n.text)
                            }
                            td { @if let Some(href) = link(n) { a href=(href) { "Open" } } }
                        }
                    }
                }
            }
        }
        h2 { "Webhooks" }
        @if webhooks.is_empty() {
            (empty("No webhooks. Register one with `spleis webhook add URL` or POST /v1/webhooks: each notification is then also POSTed there, signed."))
        } @else {
            table.figures #webhooks {
                thead { tr { th scope="col" { "URL" } th scope="col" { "Kinds" } th scope="col" { "Since" } } }
                tbody {
                    @for w in &webhooks {
                        tr {
                            td { (w.url) }
                            td { @if w.events.is_empty() { "every kind" } @else { (w.events.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")) } }
                            td { (locale.date(w.created_at)) }
                        }
                    }
                }
            }
            p.meta { "The delivery log of each: `spleis webhook deliveries ID` or GET /v1/webhooks/{id}/deliveries." }
        }
    };
    Ok(page(&viewer, "Inbox", "/inbox", body))
}

/// POST `/inbox/read`: marks every notification read.
pub async fn mark_all_read(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    state.platform.mark_read(&posted.viewer.actor, None).await?;
    Ok(Redirect::to("/inbox").into_response())
}
