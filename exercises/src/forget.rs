//! EXERCISE 3: "Forget me". This file is yours to edit.
//!
//! Every page's footer has a "Forget me" button: a small form that POSTs to
//! `/rango/forget/`. Make it end the visitor's session, as Django's
//! `logout()` does with `request.session.flush()`: the session's record is
//! deleted from the store, the answer deletes the `sessionid` cookie, and the
//! visitor's next page starts a new session (under a new id, counting from
//! 1). A copy of the old cookie (kept by another tab, say) must not bring the
//! old session back. Then send the visitor to the home page.
//!
//! Check your answer with `cargo exercise` (from anywhere in the workspace).
//! Do not edit `tests/checks.rs`: the checks are the referee. The exercises'
//! README explains more.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rango_site::AppError;
use tower_sessions::Session;

// ANCHOR: forget
/// `POST /rango/forget/`: ends this visitor's session, then redirects home.
#[allow(clippy::unused_async, reason = "your answer will `.await` the session")]
pub(crate) async fn forget(session: Session) -> Result<Response, AppError> {
    // TODO (exercise 3):
    // 1. End the session. tower-sessions' `Session` has two methods that
    //    sound right, `clear()` and `flush()`: read what each does to the
    //    record in the store and to the session id (docs.rs/tower-sessions),
    //    and pick the one that does what Django's `flush()` does. It returns
    //    a `Result`: `?` turns its error into the site's error page.
    // 2. Redirect to the home page with `303 See Other`, the answer to a
    //    form: `axum::response::Redirect::to("/rango/")`. Return it with
    //    `.into_response()`.
    let _ = session;
    Ok((
        StatusCode::NOT_IMPLEMENTED,
        "exercise 3 is not done yet: see exercises/src/forget.rs",
    )
        .into_response())
}
// ANCHOR_END: forget
