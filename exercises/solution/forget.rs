//! EXERCISE 3, the reference answer: "Forget me".
//!
//! Try the exercise in `src/forget.rs` before reading on. This file is
//! compiled in its place only with `--features solution`.

use axum::response::{IntoResponse, Redirect, Response};
use rango_site::AppError;
use tower_sessions::Session;

// ANCHOR: forget
/// `POST /rango/forget/`: ends this visitor's session, then redirects home.
pub(crate) async fn forget(session: Session) -> Result<Response, AppError> {
    // Django's `flush()`: empty the session, delete its record from the
    // store, and drop its id. The session layer then finds the session
    // empty, with a cookie in the request, and answers with a `Set-Cookie`
    // that deletes it (`Max-Age=0`). `clear()` would only empty the data:
    // the record and the id would stay, and the session would be saved
    // again, empty, under the same id.
    session.flush().await?;
    // 303 See Other: the browser follows with a GET. (A 307 or 308 would
    // send the POST again.)
    Ok(Redirect::to("/rango/").into_response())
}
// ANCHOR_END: forget
