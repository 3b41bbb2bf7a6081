//! Who is looking: the session cookie becomes a [`Viewer`] holding the
//! platform's [`Actor`](spleis_platform::Actor) (through
//! [`Platform::session`]), the locale comes from the override
//! cookie or `Accept-Language`, and every POST carries the session's CSRF
//! token or is refused with 403 before its handler runs.

use crate::ConsoleState;
use crate::locale::Locale;
use crate::page::PageError;
use crate::viewer::Viewer;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use spleis_platform::sessions::SESSION_TTL_MS;

/// The session cookie: the session id, which only the browser holds.
pub const SESSION_COOKIE: &str = "spleis_session";
/// The sign-in form's anti-forgery cookie (double submit: there is no
/// session yet to hold a token).
pub const SIGN_IN_COOKIE: &str = "spleis_sign_in";
/// The language override.
pub const LOCALE_COOKIE: &str = "spleis_locale";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Whether the request reached us over TLS (directly or through a proxy
/// that says so), so cookies get `Secure`.
pub fn over_tls(parts: &Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|p| {
                p.split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Strict; Path=/`, `Secure`
/// behind TLS, and `Max-Age` (0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}");
    // Names are constants and values are hex tokens or locale tags.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The session cookie for a new session.
pub fn session_cookie(session: &str, secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, session, SESSION_TTL_MS / 1000, secure)
}

/// The viewer's locale: the override cookie, else `Accept-Language`.
pub fn locale(headers: &HeaderMap) -> Locale {
    if let Some(locale) = cookie(headers, LOCALE_COOKIE).and_then(Locale::from_tag) {
        return locale;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|h| h.to_str().ok())
        .map_or(Locale::En, Locale::from_accept_language)
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<ConsoleState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, PageError> {
        let session = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or(PageError::SignedOut)?
            .to_owned();
        let live = state
            .platform
            .session(&session)
            .await?
            .ok_or(PageError::SignedOut)?;
        // The badge is not worth a failed page: without a count, no badge.
        let unread = state
            .platform
            .unread_notifications(&live.actor)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot count unread notifications");
                0
            });
        Ok(Viewer {
            actor: live.actor,
            unread,
            csrf: live.csrf,
            locale: locale(&parts.headers),
            session,
            secure: over_tls(parts),
        })
    }
}

/// A POSTed form, as (name, value) pairs in order, with its viewer; only
/// made once the form's `csrf` field matched the session's token.
pub struct Posted {
    /// Who posted.
    pub viewer: Viewer,
    /// The fields.
    pub form: Fields,
}

/// A form's fields, in order; a name may repeat (checkboxes).
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    /// The first value of `name`, trimmed, `None` when empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest<ConsoleState> for Posted {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|e| PageError::BadRequest(e.body_text()))?;
        let form = Fields(pairs);
        let sent = form.get("csrf").unwrap_or("");
        if !same_secret(sent, &viewer.csrf) {
            tracing::warn!(account = %viewer.actor.id(), "console form refused: missing or wrong CSRF token");
            return Err(PageError::Csrf);
        }
        Ok(Posted { viewer, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; spleis_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_secure_behind_tls() {
        let plain = session_cookie("s", false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly; SameSite=Strict; Path=/; Max-Age=28800"));
        assert!(!plain.contains("Secure"));
        assert!(
            session_cookie("s", true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn the_locale_override_wins_over_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("de-DE,de;q=0.9"));
        assert_eq!(locale(&headers), Locale::De);
        headers.insert(COOKIE, HeaderValue::from_static("spleis_locale=fr"));
        assert_eq!(locale(&headers), Locale::Fr);
    }
}
