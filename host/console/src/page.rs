//! The frame of every page (header, navigation by role, language menu,
//! sign-out), small helpers for figures, and the console's error: every
//! refusal becomes a page with its status and a plain message.

use crate::locale::Locale;
use crate::viewer::Viewer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use spleis_billing::Currency;
use spleis_domain::accounts::Role;
use spleis_domain::billing::BillingError;
use spleis_domain::registry::RegistryError;
use spleis_domain::wishlist::WishlistError;
use spleis_platform::Error;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No live session: the viewer is sent to sign in.
    #[error("please sign in")]
    SignedOut,
    /// A form without the session's CSRF token.
    #[error(
        "this form was not sent from this console session (or the session changed); reload the page and try again"
    )]
    Csrf,
    /// A malformed request (a form that does not parse).
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here, or nothing this account may see.
    #[error("{0}")]
    NotFound(String),
    /// The platform refused or failed.
    #[error(transparent)]
    Platform(#[from] Error),
}

impl PageError {
    /// The answer's status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            PageError::SignedOut => StatusCode::SEE_OTHER,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Platform(e) => match e {
                Error::Access(_) => StatusCode::FORBIDDEN,
                Error::NotFound(_) | Error::NotInstalled(_) => StatusCode::NOT_FOUND,
                Error::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
                Error::Registry(
                    RegistryError::UnknownPackage(_)
                    | RegistryError::UnknownVersion { .. }
                    | RegistryError::UnknownNamespace(_)
                    | RegistryError::UnknownAccount(_),
                ) => StatusCode::NOT_FOUND,
                Error::Billing(e) | Error::Wishlist(WishlistError::Billing(e)) => billing_status(e),
                Error::Wishlist(WishlistError::NotFound(_) | WishlistError::NoNamespace(_)) => {
                    StatusCode::NOT_FOUND
                }
                Error::Wishlist(
                    WishlistError::Transition { .. }
                    | WishlistError::NoVotes { .. }
                    | WishlistError::Refused(_),
                ) => StatusCode::CONFLICT,
                Error::Wishlist(WishlistError::Database(_))
                | Error::Registry(RegistryError::Database(_) | RegistryError::Integrity(_)) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                // What the request asked for cannot be done: the message says why.
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
        }
    }
}

/// The status of a billing refusal.
fn billing_status(e: &BillingError) -> StatusCode {
    match e {
        BillingError::UnknownPackage(_)
        | BillingError::UnknownAccount { .. }
        | BillingError::NotFound { .. } => StatusCode::NOT_FOUND,
        BillingError::Corrupt(_) | BillingError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let PageError::SignedOut = self {
            return Redirect::to("/sign-in").into_response();
        }
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The details are for the log, not the browser.
            tracing::error!(error = %self, "console page failed");
            "Something went wrong on our side; it has been logged.".to_owned()
        } else {
            self.to_string()
        };
        let title = match status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::INTERNAL_SERVER_ERROR => "Error",
            _ => "Not done",
        };
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head { (head(title)) }
                body {
                    main #main.narrow {
                        h1 { (title) }
                        p.error role="alert" { (message) }
                        p { a href="/" { "Back to the console" } }
                    }
                }
            }
        };
        (status, body).into_response()
    }
}

/// The `<head>` contents.
pub(crate) fn head(title: &str) -> Markup {
    head_with(title, &[])
}

/// The `<head>` contents with a page's own scripts (files under
/// `/assets/`, which the Content-Security-Policy allows).
fn head_with(title: &str, scripts: &[&str]) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · spleis" }
        link rel="stylesheet" href="/assets/console.css";
        script src="/assets/console.js" defer {}
        @for src in scripts { script src=(src) defer {} }
    }
}

/// One entry of the navigation.
struct Nav {
    href: &'static str,
    label: &'static str,
}

fn nav(role: Role) -> Vec<Nav> {
    let n = |href, label| Nav { href, label };
    match role {
        Role::Tenant => vec![
            n("/", "Overview"),
            n("/store", "App store"),
            n("/installs", "Installs"),
            n("/usage", "Usage & cost"),
            n("/invoices", "Invoices"),
            n("/investments", "Investments"),
            n("/campaigns", "Campaigns"),
            n("/wishlist", "Wishlist"),
            n("/account", "Account"),
        ],
        Role::Author => vec![
            n("/", "Overview"),
            n("/plugins", "My plugins"),
            n("/earnings", "Earnings"),
            n("/campaigns", "Campaigns"),
            n("/wishlist", "Wishlist"),
            n("/store", "App store"),
            n("/account", "Account"),
        ],
        Role::Operator => vec![
            n("/", "Month"),
            n("/operator/close", "Close"),
            n("/operator/tenants", "Tenants"),
            n("/operator/agreements", "Agreements"),
            n("/investments", "Investments"),
            n("/campaigns", "Campaigns"),
            n("/wishlist", "Wishlist"),
            n("/operator/ledger", "Ledger"),
            n("/invoices", "Invoices"),
            n("/operator/settings", "Settings"),
            n("/store", "App store"),
        ],
    }
}

/// A whole page for `viewer`: `title` as its heading, `active` the
/// navigation entry it belongs to.
pub fn page(viewer: &Viewer, title: &str, active: &str, body: Markup) -> Markup {
    page_with(viewer, title, active, &[], body)
}

/// A whole page that also loads `scripts` (files under `/assets/`).
pub fn page_with(
    viewer: &Viewer,
    title: &str,
    active: &str,
    scripts: &[&str],
    body: Markup,
) -> Markup {
    let role = viewer.actor.role();
    html! {
        (DOCTYPE)
        html lang=(viewer.locale.tag()) {
            head { (head_with(title, scripts)) }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.top {
                    a.brand href="/" { "spleis" }
                    nav aria-label="Main" {
                        ul {
                            @for item in nav(role) {
                                li {
                                    @if item.href == active {
                                        a href=(item.href) aria-current="page" { (item.label) }
                                    } @else {
                                        a href=(item.href) { (item.label) }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        (inbox_link(viewer, active))
                        span { (viewer.actor.name) " · " (role.as_str()) }
                        form method="post" action="/sign-out" {
                            (csrf(viewer))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { h1 { (title) } (body) }
                footer {
                    form method="get" action="/locale" {
                        label for="locale" { "Figures in" }
                        select #locale name="set" {
                            @for l in Locale::ALL {
                                option value=(l.tag()) selected[l == viewer.locale] { (l.name()) }
                            }
                        }
                        button type="submit" { "Apply" }
                    }
                    p { "spleis console · figures in the platform currency, formatted for the language chosen here" }
                }
            }
        }
    }
}

/// The inbox in the header, with the count of unread notifications as a
/// badge (every role has an inbox).
fn inbox_link(viewer: &Viewer, active: &str) -> Markup {
    let label = match viewer.unread {
        0 => "Inbox: no unread notifications".to_owned(),
        1 => "Inbox: 1 unread notification".to_owned(),
        n => format!("Inbox: {n} unread notifications"),
    };
    html! {
        a.inbox href="/inbox" aria-label=(label) aria-current=[(active == "/inbox").then_some("page")] {
            "Inbox"
            @if viewer.unread > 0 {
                " "
                span.badge #unread-count aria-hidden="true" { (viewer.unread.min(999)) @if viewer.unread > 999 { "+" } }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

/// An amount, right-aligned by its class and never wrapped, with its exact
/// minor units for machines (the browser tests read them).
pub fn money(locale: Locale, minor: i64, currency: &Currency) -> Markup {
    html! { span.amount data-minor=(minor) { (locale.money(minor, currency)) } }
}

/// A description shown plainly: the stored texts quote names in Markdown
/// backticks, which read as noise in a page or a printed invoice.
pub fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// A short notice above a page's content.
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// A refusal shown on the page the viewer acted on (the form keeps what
/// was typed), instead of an error page.
pub fn error_card(text: &str) -> Markup {
    html! {
        div.error-card role="alert" {
            strong { "Not done: " } (text)
        }
    }
}

/// Text for an empty table.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_lose_their_backticks() {
        assert_eq!(
            plain("examples/energy-tariff: units of `active-contract`"),
            "examples/energy-tariff: units of active-contract"
        );
    }
}
