//! # spleis-console
//!
//! The web console: server-rendered pages for each role (a tenant's app
//! store, installs, usage and invoices; an investor's paybacks; an author's
//! plugins, earnings and price plans; the operator's month, close, tenants
//! and ledger; the wishlist every role shares), served by `spleis serve` at
//! `/` beside the API under `/v1`.
//!
//! The console is another face of the platform and holds no rules of its
//! own: every read and write is a [`Platform`] operation taking the
//! signed-in [`spleis_platform::Actor`], exactly as the HTTP API calls them,
//! so a page shows what the same account sees through the API, no more.
//! What it adds is presentation: templates (maud, checked at compile time),
//! figures formatted for the viewer's locale ([`locale`]), SVG charts drawn
//! on the server ([`chart`]), and sessions made from API tokens with
//! CSRF-checked forms ([`session`]).
//!
//! No CDN and almost no JavaScript: the stylesheet and two small scripts
//! (the one-click sign-in link and a print button; the wishlist's
//! similar-requests hint) are embedded in the binary, and every form works
//! without JavaScript.

pub mod chart;
pub mod documents;
pub mod locale;
pub mod page;
mod pages;
pub mod session;
pub mod viewer;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use page::PageError;
use session::{Fields, LOCALE_COOKIE, SESSION_COOKIE, SIGN_IN_COOKIE};
use spleis_platform::Platform;
use std::sync::Arc;

/// The stylesheet, embedded.
pub(crate) const CSS: &str = include_str!("../assets/console.css");
/// The script of every page, embedded: fills the sign-in form from a
/// link's fragment, and offers printing.
const JS: &str = include_str!("../assets/console.js");
/// The wishlist's script, embedded: offers similar requests while a title
/// is typed (the console's own `/wishlist/similar`).
const WISHLIST_JS: &str = include_str!("../assets/wishlist.js");

/// What every console handler gets.
#[derive(Clone)]
pub struct ConsoleState {
    /// The platform every page reads and writes through.
    pub platform: Arc<Platform>,
}

/// The console's routes over `platform`, to be mounted at `/` beside the
/// API.
pub fn router(platform: Arc<Platform>) -> Router {
    let state = ConsoleState { platform };
    Router::new()
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/assets/wishlist.js", get(wishlist_js))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/locale", get(set_locale))
        .merge(pages::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(security_headers))
}

/// Headers every console answer carries: a strict Content-Security-Policy
/// (no inline script or style, nothing from elsewhere), no framing, no
/// referrer (URLs never leave), and no caching of private pages.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !is_asset {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn css() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    script(JS)
}

async fn wishlist_js() -> impl IntoResponse {
    script(WISHLIST_JS)
}

fn script(text: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
}

/// The sign-in form. Its anti-forgery token is a fresh random value in a
/// cookie and in the form (double submit); a link `/sign-in#token=…` fills
/// and sends the form by script, so the token never reaches a server log.
async fn sign_in_page(headers: HeaderMap, request: Request) -> Result<Response, PageError> {
    let (parts, _) = request.into_parts();
    let secure = session::over_tls(&parts);
    let nonce = spleis_platform::sessions::new_nonce()?;
    let locale = session::locale(&headers);
    let body = html! {
        (maud::DOCTYPE)
        html lang=(locale.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · spleis" }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                main #main.narrow {
                    h1 { "Sign in to spleis" }
                    p { "Use an API token of your account (the console makes no second account system). The token becomes a session of this browser; sign out ends it." }
                    form #sign-in method="post" action="/sign-in" {
                        input type="hidden" name="csrf" value=(nonce);
                        label for="token" { "API token" }
                        input #token type="password" name="token" autocomplete="off" required spellcheck="false";
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    };
    let mut response = body.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session::set_cookie(SIGN_IN_COOKIE, &nonce, 600, secure),
    );
    Ok(response)
}

/// Signs in with the token of the form: a session cookie, then the
/// overview. The form's token must match its cookie.
async fn sign_in(
    State(state): State<ConsoleState>,
    request: Request,
) -> Result<Response, PageError> {
    let (parts, body) = request.into_parts();
    let secure = session::over_tls(&parts);
    let expected = session::cookie(&parts.headers, SIGN_IN_COOKIE).map(str::to_owned);
    let request = Request::from_parts(parts, body);
    let axum::extract::Form(pairs) =
        <axum::extract::Form<Vec<(String, String)>> as axum::extract::FromRequest<ConsoleState>>::from_request(request, &state)
            .await
            .map_err(|e| PageError::BadRequest(e.body_text()))?;
    let form = Fields(pairs);
    let sent = form.get("csrf").unwrap_or("");
    if !expected.is_some_and(|e| session::same_secret(sent, &e)) {
        return Err(PageError::Csrf);
    }
    let token = form.get("token").unwrap_or("");
    let Some(signed) = state.platform.sign_in(token).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            html! {
                (maud::DOCTYPE)
                html lang="en" {
                    head { meta charset="utf-8"; title { "Sign in · spleis" } link rel="stylesheet" href="/assets/console.css"; }
                    body { main #main.narrow {
                        h1 { "Sign in to spleis" }
                        p.error role="alert" { "That token is unknown or revoked." }
                        p { a href="/sign-in" { "Try again" } }
                    } }
                }
            },
        )
            .into_response());
    };
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(SET_COOKIE, session::session_cookie(&signed.session, secure));
    headers.append(
        SET_COOKIE,
        session::set_cookie(SIGN_IN_COOKIE, "", 0, secure),
    );
    Ok(response)
}

/// Ends the session and clears its cookie.
async fn sign_out(
    State(state): State<ConsoleState>,
    posted: session::Posted,
) -> Result<Response, PageError> {
    state.platform.sign_out(&posted.viewer.session).await?;
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, "", 0, posted.viewer.secure),
    );
    Ok(response)
}

/// Query of the language menu.
#[derive(serde::Deserialize)]
struct LocaleQuery {
    set: String,
}

/// Remembers the viewer's language choice (a preference, not a change of
/// any data, so a plain GET), then shows the overview.
async fn set_locale(Query(q): Query<LocaleQuery>, request: Request) -> Response {
    let locale = locale::Locale::from_tag(&q.set).unwrap_or_default();
    let (parts, _) = request.into_parts();
    let secure = session::over_tls(&parts);
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session::set_cookie(LOCALE_COOKIE, locale.tag(), 365 * 24 * 3600, secure),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use spleis_domain::accounts::Role;
    use tower::ServiceExt;

    const OPERATOR: &str = "spl_console_test_operator";

    async fn console() -> (Router, Arc<Platform>, spleis_store::testing::Guard) {
        let (store, guard) = spleis_store::testing::sqlite().await;
        let runtime = spleis_runtime::Runtime::new(spleis_runtime::RuntimeConfig {
            max_instances: 2,
            ..Default::default()
        })
        .expect("a runtime");
        let platform = Arc::new(Platform::new(
            store,
            Arc::new(runtime),
            spleis_platform::usage::Durability::Sync,
        ));
        platform
            .bootstrap_operator(Some(OPERATOR))
            .await
            .expect("an operator");
        (router(platform.clone()), platform, guard)
    }

    async fn send(app: &Router, request: HttpRequest<Body>) -> Response {
        app.clone().oneshot(request).await.expect("an answer")
    }

    fn set_cookies(response: &Response) -> Vec<String> {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .map(|h| h.split(';').next().unwrap_or("").to_owned())
            .collect()
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Signs in with `token` through the form; the session cookie.
    async fn sign_in(app: &Router, token: &str) -> String {
        let page = send(
            app,
            HttpRequest::get("/sign-in").body(Body::empty()).unwrap(),
        )
        .await;
        let cookie = set_cookies(&page).remove(0);
        let html = body_text(page).await;
        let nonce = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let answer = send(
            app,
            HttpRequest::post("/sign-in")
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={nonce}&token={token}")))
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        set_cookies(&answer)
            .into_iter()
            .find(|c| c.starts_with("spleis_session="))
            .expect("a session cookie")
    }

    fn post(path: &str, cookie: &str, body: &str) -> HttpRequest<Body> {
        HttpRequest::post(path)
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn forms_need_the_sessions_csrf_token_and_sign_out_ends_the_session() {
        let (app, platform, _guard) = console().await;
        let operator = platform.authenticate(OPERATOR).await.unwrap().unwrap();
        let tenant = platform
            .create_account(&operator, "acme", Role::Tenant, Some("Acme"))
            .await
            .unwrap();
        let session = sign_in(&app, &tenant.token).await;
        let csrf = platform
            .session(session.trim_start_matches("spleis_session="))
            .await
            .unwrap()
            .unwrap()
            .csrf;

        let missing = send(
            &app,
            post("/account/details", &session, "legal_name=Forged"),
        )
        .await;
        assert_eq!(missing.status(), StatusCode::FORBIDDEN);
        let wrong = send(
            &app,
            post("/account/details", &session, "legal_name=Forged&csrf=nope"),
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        assert!(
            body_text(wrong)
                .await
                .contains("not sent from this console")
        );
        let ok = send(
            &app,
            post(
                "/account/details",
                &session,
                &format!("legal_name=Acme+AS&csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            platform
                .party_details(&operator, "acme")
                .await
                .unwrap()
                .legal_name,
            "Acme AS"
        );

        // Another account's page is refused as the API refuses it.
        let ledger = send(
            &app,
            HttpRequest::get("/operator/ledger")
                .header("cookie", &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(ledger.status(), StatusCode::FORBIDDEN);

        let out = send(&app, post("/sign-out", &session, &format!("csrf={csrf}"))).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        let after = send(
            &app,
            HttpRequest::get("/account")
                .header("cookie", &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            after.status(),
            StatusCode::SEE_OTHER,
            "signed out: sent to sign in"
        );
    }

    /// The session's CSRF token for a session cookie.
    async fn csrf_of(platform: &Platform, session: &str) -> String {
        platform
            .session(session.trim_start_matches("spleis_session="))
            .await
            .unwrap()
            .unwrap()
            .csrf
    }

    fn get(path: &str, cookie: &str) -> HttpRequest<Body> {
        HttpRequest::get(path)
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn the_wishlist_offers_similar_requests_keeps_a_refused_draft_and_hides_who_posted() {
        let (app, platform, _guard) = console().await;
        let operator = platform.authenticate(OPERATOR).await.unwrap().unwrap();
        let mut sessions = Vec::new();
        for id in ["acme-energy", "sports-club"] {
            let tenant = platform
                .create_account(&operator, id, Role::Tenant, None)
                .await
                .unwrap();
            let session = sign_in(&app, &tenant.token).await;
            let csrf = csrf_of(&platform, &session).await;
            sessions.push((session, csrf));
        }
        let (a, a_csrf) = &sessions[0];
        let (b, b_csrf) = &sessions[1];

        // A refused draft comes back with what was typed and why.
        let long = "x".repeat(200);
        let refused = send(
            &app,
            post(
                "/wishlist",
                a,
                &format!("csrf={a_csrf}&action=post&title={long}&problem=We+retype+invoices"),
            ),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = body_text(refused).await;
        assert!(
            html.contains("error-card") && html.contains("title"),
            "{html}"
        );
        assert!(html.contains("We retype invoices"), "the problem is kept");

        let posted = send(
            &app,
            post(
                "/wishlist",
                a,
                &format!("csrf={a_csrf}&action=post&title=CSV+export+of+invoices&problem=We+retype%0Ainvoices&details="),
            ),
        )
        .await;
        assert_eq!(posted.status(), StatusCode::SEE_OTHER);
        assert_eq!(posted.headers()["location"], "/wishlist/1?done=posted");

        // B typing a title like it is offered A's request, as JSON.
        let similar = send(&app, get("/wishlist/similar?q=Export+invoices+as+CSV", b)).await;
        assert_eq!(similar.status(), StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body_text(similar).await).unwrap();
        assert_eq!(json["requests"][0]["id"], 1);
        assert_eq!(json["requests"][0]["votable"], true);
        assert_eq!(json["requests"][0]["href"], "/wishlist/1");
        // Without script, the form's check button shows them, the draft kept.
        let check = send(
            &app,
            post(
                "/wishlist",
                b,
                &format!("csrf={b_csrf}&action=check&title=Export+invoices+as+CSV&problem=Mine"),
            ),
        )
        .await;
        assert_eq!(check.status(), StatusCode::OK);
        let html = body_text(check).await;
        assert!(
            html.contains("vote instead?") && html.contains("value=\"Export invoices as CSV\"")
        );

        let voted = send(
            &app,
            post(
                "/wishlist/1/vote",
                b,
                &format!("csrf={b_csrf}&on=1&back=/wishlist/1"),
            ),
        )
        .await;
        assert_eq!(voted.headers()["location"], "/wishlist/1?done=voted");
        let page = body_text(send(&app, get("/wishlist/1", b)).await).await;
        assert!(page.contains("data-votes=\"2\""), "{page}");
        assert!(page.contains("We retype\ninvoices"), "newlines kept");
        let list = body_text(send(&app, get("/wishlist", b)).await).await;
        for html in [&page, &list] {
            assert!(!html.contains("acme-energy"), "A's identity on B's page");
        }
        // From the list, a vote goes back to the list as it was.
        let back = send(
            &app,
            post(
                "/wishlist/1/vote",
                b,
                &format!("csrf={b_csrf}&on=0&back=%2Fwishlist%3Fq%3Dcsv"),
            ),
        )
        .await;
        assert_eq!(back.headers()["location"], "/wishlist?q=csv");
        let forged = send(
            &app,
            post(
                "/wishlist/1/vote",
                b,
                &format!("csrf={b_csrf}&on=1&back=https%3A%2F%2Fevil.example%2F"),
            ),
        )
        .await;
        assert_eq!(forged.headers()["location"], "/wishlist/1?done=voted");

        // A tenant cannot assess; the operator declines with a reason all see.
        let assess = send(
            &app,
            post(
                "/wishlist/1/status",
                b,
                &format!("csrf={b_csrf}&status=accepted"),
            ),
        )
        .await;
        assert_eq!(assess.status(), StatusCode::FORBIDDEN);
        let op = sign_in(&app, OPERATOR).await;
        let op_csrf = csrf_of(&platform, &op).await;
        let queue = body_text(send(&app, get("/wishlist", &op)).await).await;
        assert!(
            queue.contains("Waiting for assessment") && queue.contains("CSV export of invoices")
        );
        let no_reason = send(
            &app,
            post(
                "/wishlist/1/status",
                &op,
                &format!("csrf={op_csrf}&status=declined&reason="),
            ),
        )
        .await;
        assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body_text(no_reason).await.contains("error-card"));
        let declined = send(
            &app,
            post(
                "/wishlist/1/status",
                &op,
                &format!("csrf={op_csrf}&status=declined&reason=One+tenant%27s+habit"),
            ),
        )
        .await;
        assert_eq!(declined.status(), StatusCode::SEE_OTHER);
        let page = body_text(send(&app, get("/wishlist/1", a)).await).await;
        assert!(
            page.contains("One tenant&#39;s habit") || page.contains("One tenant's habit"),
            "{page}"
        );
        // Voting on a declined request is refused on its page, not with a 500.
        let late = send(
            &app,
            post(
                "/wishlist/1/vote",
                b,
                &format!("csrf={b_csrf}&on=1&back=/wishlist/1"),
            ),
        )
        .await;
        assert_eq!(late.status(), StatusCode::CONFLICT);
        assert!(body_text(late).await.contains("takes no votes"));
        // A request that does not exist is not found.
        assert_eq!(
            send(&app, get("/wishlist/99", a)).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn a_sign_in_without_its_cookie_or_with_a_wrong_token_is_refused() {
        let (app, _platform, _guard) = console().await;
        let forged = send(
            &app,
            HttpRequest::post("/sign-in")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf=x&token={OPERATOR}")))
                .unwrap(),
        )
        .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let page = send(
            &app,
            HttpRequest::get("/sign-in").body(Body::empty()).unwrap(),
        )
        .await;
        assert!(
            page.headers()[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let cookie = set_cookies(&page).remove(0);
        let nonce = cookie.split('=').nth(1).unwrap().to_owned();
        let wrong = send(
            &app,
            post(
                "/sign-in",
                &cookie,
                &format!("csrf={nonce}&token=spl_wrong"),
            ),
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn the_inbox_badge_counts_unread_and_mark_all_read_clears_it() {
        let (app, platform, _guard) = console().await;
        let operator = platform.authenticate(OPERATOR).await.unwrap().unwrap();
        let tenant = platform
            .create_account(&operator, "acme", Role::Tenant, Some("Acme"))
            .await
            .unwrap();
        for n in 1..=2 {
            platform
                .notify(
                    &["acme".to_owned()],
                    spleis_domain::notifications::NotificationKind::InvoiceIssued,
                    &format!("INV-202611-000{n}"),
                    &format!("Invoice INV-202611-000{n} <b>was</b> issued."),
                    serde_json::json!({}),
                )
                .await
                .unwrap();
        }
        let session = sign_in(&app, &tenant.token).await;
        let get = |path: &str| {
            HttpRequest::get(path)
                .header("cookie", &session)
                .body(Body::empty())
                .unwrap()
        };
        let overview = body_text(send(&app, get("/")).await).await;
        assert!(
            overview
                .contains(r#"<span class="badge" id="unread-count" aria-hidden="true">2</span>"#),
            "{overview}"
        );
        assert!(overview.contains(r#"aria-label="Inbox: 2 unread notifications""#));
        let inbox = body_text(send(&app, get("/inbox")).await).await;
        assert!(inbox.contains("2 unread notifications."));
        assert!(
            inbox.contains("Invoice INV-202611-0002 &lt;b&gt;was&lt;/b&gt; issued."),
            "escaped"
        );
        assert!(inbox.contains(r#"href="/invoices/INV-202611-0001""#));

        let csrf = platform
            .session(session.trim_start_matches("spleis_session="))
            .await
            .unwrap()
            .unwrap()
            .csrf;
        let forged = send(&app, post("/inbox/read", &session, "csrf=nope")).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let done = send(&app, post("/inbox/read", &session, &format!("csrf={csrf}"))).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let after = body_text(send(&app, get("/inbox")).await).await;
        assert!(after.contains("Nothing unread.") && !after.contains("unread-count"));
        assert!(
            after.contains("Invoice INV-202611-0001"),
            "still listed, read"
        );
    }
}
