//! HTTP security around every response: the Content-Security-Policy, the usual hardening headers, and the
//! cross-site request check on every state-changing request.
//!
//! The policy allows scripts only with the per-response nonce Leptos puts on its own inline scripts (the nonce is
//! read back from the rendered page's context and the header is set by [`content_security_policy`]), WebAssembly
//! compilation of the bundle (`'wasm-unsafe-eval'`, never `'unsafe-eval'`), styles and images from the console
//! itself, and connections to the console only. The console is never framed.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The Content-Security-Policy for a page whose inline scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy for responses that are not pages (JSON, files, event streams): nothing may run.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the hardening headers to every response; responses without a page policy get the strict one.
pub async fn headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NON_PAGE_POLICY));
    }
    response
}

/// The console's own origin, for the cross-site request check.
#[derive(Debug, Clone)]
pub struct Origin(pub String);

/// Refuses a state-changing request (anything but GET, HEAD and OPTIONS) unless it comes from the console's own
/// pages: its `Origin` header must be the console's origin, or, when a browser sends no `Origin`, its
/// `Sec-Fetch-Site` must be `same-origin`. Together with SameSite=Strict session cookies this is the CSRF defence.
pub async fn same_origin_writes(State(origin): State<Origin>, request: Request<Body>, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match check_same_origin(request.headers(), &origin.0) {
        Ok(()) => next.run(request).await,
        Err(reason) => (StatusCode::FORBIDDEN, reason).into_response(),
    }
}

/// Whether a state-changing request's headers show it came from `origin`'s own pages.
pub fn check_same_origin(headers: &HeaderMap, origin: &str) -> Result<(), &'static str> {
    if let Some(sent) = headers.get(header::ORIGIN) {
        return if sent.as_bytes() == origin.as_bytes() {
            Ok(())
        } else {
            Err("refused: this request came from another site (Origin does not match the console)")
        };
    }
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        Some(b"same-origin") => Ok(()),
        _ => Err("refused: a state-changing request must come from the console's own pages"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    /// A write from the console's own origin passes; one from another origin, or with no origin evidence, is
    /// refused.
    #[test]
    fn writes_must_come_from_the_console_itself() {
        let origin = "http://127.0.0.1:8081";
        assert!(check_same_origin(&headers(&[("origin", "http://127.0.0.1:8081")]), origin).is_ok());
        assert!(check_same_origin(&headers(&[("origin", "http://evil.example")]), origin).is_err());
        assert!(check_same_origin(&headers(&[("origin", "http://127.0.0.1:8082")]), origin).is_err());
        assert!(check_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), origin).is_ok());
        assert!(check_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), origin).is_err());
        assert!(check_same_origin(&HeaderMap::new(), origin).is_err());
    }

    /// The page policy names the nonce and forbids eval, framing and foreign connections.
    #[test]
    fn page_policy_is_strict() {
        let policy = content_security_policy("abc123");
        assert!(policy.contains("'nonce-abc123'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("connect-src 'self'"));
        assert!(!policy.contains("'unsafe-eval'"));
        assert!(!policy.contains("'unsafe-inline'"));
    }
}
