//! EXERCISE 1: where do the cookies live? This file is yours to edit.
//!
//! Since stage 3 the visit count and the time of the last visit stay on the
//! server, so the browser should be given one cookie only: `sessionid`, the
//! key to its session record. Prove it. Finish [`cookies_set`] below; the
//! checks then visit every page with a fresh browser, list what each response
//! set with your function, and fail if anything but `sessionid` turns up.
//! Then see for yourself: `cargo run -p exercises`, open
//! <http://127.0.0.1:8000/rango/> in a private window and look at the
//! browser's cookies (developer tools, Application or Storage tab) and at
//! the page linked in the footer, /rango/cookies/.
//!
//! Check your answer with `cargo exercise` (run it from anywhere in the
//! workspace). Do not edit `tests/checks.rs`: the checks are the referee.
//! The exercises' README explains more.

use axum::http::HeaderMap;

// ANCHOR: cookies_set
/// The names of the cookies that a response with these `headers` sets, in
/// the order its `Set-Cookie` headers come.
///
/// Each cookie comes in a header of its own, for example
/// `Set-Cookie: sessionid=0k3...; HttpOnly; SameSite=Lax; Path=/`: the name
/// is what comes before the first `=`.
pub fn cookies_set(headers: &HeaderMap) -> Vec<String> {
    // TODO (exercise 1): one name for each `Set-Cookie` header. Start from
    // `headers.get_all(axum::http::header::SET_COOKIE)`; a header value's
    // `to_str()` gives its text (skip any value that is not text).
    let _ = headers;
    Vec::new()
}
// ANCHOR_END: cookies_set
