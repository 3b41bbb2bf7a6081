//! Who is looking at a page. A leaf: [`crate::session`] makes a [`Viewer`]
//! from the request and [`crate::page`] draws the frame for one, so neither
//! imports the other for it.

use crate::locale::Locale;
use spleis_platform::Actor;

/// A signed-in viewer.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// Who, as the platform knows it.
    pub actor: Actor,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// How figures read.
    pub locale: Locale,
    /// The session id (to sign out).
    pub session: String,
    /// Whether the request came over TLS.
    pub secure: bool,
    /// Its unread notifications, for the badge in the header.
    pub unread: u64,
}
