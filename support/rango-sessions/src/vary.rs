//! `Vary: Cookie`, which Django's `SessionMiddleware` adds and
//! tower-sessions leaves to the app.

use axum::http::{HeaderValue, header};
use axum::response::Response;

// ANCHOR: vary
/// Adds `Vary: Cookie` to a page built from the session, as Django does
/// whenever a view uses it.
///
/// A page built from the session differs from one visitor to the next at the
/// same URL. `Vary: Cookie` tells caches between us and the browser (a proxy,
/// a CDN) that the `Cookie` header is part of the answer, so they never hand
/// one visitor's page, or the session cookie set on it, to another.
#[allow(
    clippy::unused_async,
    reason = "axum's `map_response` takes an async fn"
)]
pub async fn vary_on_cookie(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("cookie"));
    response
}
// ANCHOR_END: vary
