//! EXERCISE 1, the reference answer: where do the cookies live?
//!
//! Try the exercise in `src/cookies_set.rs` before reading on. This file is
//! compiled in its place only with `--features solution`.

use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;

// ANCHOR: cookies_set
/// The names of the cookies that a response with these `headers` sets, in
/// the order its `Set-Cookie` headers come.
///
/// Each cookie comes in a header of its own, for example
/// `Set-Cookie: sessionid=0k3...; HttpOnly; SameSite=Lax; Path=/`: the name
/// is what comes before the first `=`.
pub fn cookies_set(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        // A header that is not text cannot name a cookie.
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split_once('='))
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}
// ANCHOR_END: cookies_set
