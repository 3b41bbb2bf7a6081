//! Headers of answers that must not be read as something else, framed or
//! kept: the API's HTML answers (printable invoices and statements) and
//! every answer that holds money and names.

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Every HTML answer of the API carries a Content-Security-Policy (its
/// own, else the standalone document's: nothing loads, nothing runs,
/// nothing frames it), `nosniff`, and `no-store`: a printed invoice holds
/// money and names and must not sit in a shared cache. A layer over the
/// API's routes, so no HTML answer can leave it out.
pub(crate) async fn html_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if is_html {
        let headers = response.headers_mut();
        if !headers.contains_key(CONTENT_SECURITY_POLICY) {
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(spleis_console::documents::standalone_csp()),
            );
        }
        private(headers);
    }
    response
}

/// An answer that holds money and names (an invoice or a statement, in
/// any format): never sniffed as another type, never stored by a cache.
pub(crate) fn private(headers: &mut HeaderMap) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// [`private`] on a whole answer.
pub(crate) fn private_answer(mut response: Response) -> Response {
    private(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn answer(router: Router, path: &str) -> HeaderMap {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap().headers().clone()
    }

    #[tokio::test]
    async fn html_answers_get_the_policy_nosniff_and_no_store_and_keep_their_own_policy() {
        let router = Router::new()
            .route(
                "/bare",
                get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8")], "<p>hi</p>") }),
            )
            .route(
                "/own",
                get(|| async {
                    (
                        [
                            (CONTENT_TYPE, "text/html"),
                            (CONTENT_SECURITY_POLICY, "default-src 'none'"),
                        ],
                        "<p>hi</p>",
                    )
                }),
            )
            .route("/json", get(|| async { axum::Json(1).into_response() }))
            .layer(axum::middleware::from_fn(html_headers));
        let bare = answer(router.clone(), "/bare").await;
        assert_eq!(
            bare[CONTENT_SECURITY_POLICY],
            spleis_console::documents::standalone_csp()
        );
        assert_eq!(bare[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(bare[CACHE_CONTROL], "no-store");
        let own = answer(router.clone(), "/own").await;
        assert_eq!(own[CONTENT_SECURITY_POLICY], "default-src 'none'");
        assert_eq!(own[CACHE_CONTROL], "no-store");
        let json = answer(router, "/json").await;
        assert!(!json.contains_key(CONTENT_SECURITY_POLICY));
        assert!(!json.contains_key(CACHE_CONTROL));
    }
}
