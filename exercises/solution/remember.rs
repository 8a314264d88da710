//! EXERCISE 4, the reference answer: "Remember me".
//!
//! Try the exercise in `src/remember.rs` before reading on. This file is
//! compiled in its place only with `--features solution`.

use axum::Form;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rango_site::AppError;
use serde::Deserialize;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, Session};

// ANCHOR: choice
/// The session key that keeps the visitor's choice: `true` for "remember
/// me", `false` for "until the browser closes". Django keeps its own under
/// `_session_expiry`; the leading underscore marks the site's bookkeeping.
pub(crate) const REMEMBER: &str = "_remember";

/// What the form sends: `remember=yes` or `remember=no`. Anything else is
/// refused before the handler runs (`422 Unprocessable Entity`).
#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub(crate) remember: Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Answer {
    Yes,
    No,
}
// ANCHOR_END: choice

// ANCHOR: remember
/// Two weeks, Django's default `SESSION_COOKIE_AGE`: 1209600 seconds.
const TWO_WEEKS: Duration = Duration::weeks(2);

/// The lifetime for a choice: Django's `set_expiry(1209600)` or
/// `set_expiry(0)`.
fn lifetime(remember: bool) -> Expiry {
    if remember {
        // `Max-Age=1209600`, counted again from each save.
        Expiry::OnInactivity(TWO_WEEKS)
    } else {
        // No `Max-Age`: the browser forgets the cookie when it closes.
        Expiry::OnSessionEnd
    }
}

/// `POST /rango/remember/`: gives this session the lifetime the visitor
/// chose, then goes back to the About page.
pub(crate) async fn remember(
    session: Session,
    Form(choice): Form<Choice>,
) -> Result<Response, AppError> {
    // Reading loads the record. With no cookie, or one the store does not
    // know, the session then has no id: there is nothing to change, and
    // starting a session here would hand the browser a new `sessionid` in
    // place of the one it did not send (a form posted from another site).
    session.get::<bool>(REMEMBER).await?;
    if session.id().is_some() {
        let remember = choice.remember == Answer::Yes;
        // Kept in the session, for `keep_lifetime` to set again on the
        // next save, as Django keeps `_session_expiry`.
        session.insert(REMEMBER, remember).await?;
        session.set_expiry(Some(lifetime(remember)));
    }
    Ok(Redirect::to("/rango/about/").into_response())
}
// ANCHOR_END: remember

// ANCHOR: keep_lifetime
/// Runs around every page, inside the session layer (see `app` in
/// `src/lib.rs`): gives a session that is about to be saved the lifetime its
/// visitor chose.
pub(crate) async fn keep_lifetime(session: Session, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    // tower-sessions keeps `set_expiry` for this request only: each request
    // starts with the session layer's lifetime. A session that is about to
    // be saved (and sent as a new `Set-Cookie`) gets the kept choice back;
    // one that is not saved sends no cookie, and needs none.
    if session.is_modified() {
        match session.get::<bool>(REMEMBER).await {
            Ok(Some(remember)) => session.set_expiry(Some(lifetime(remember))),
            Ok(None) => {}
            Err(err) => return AppError::from(err).into_response(),
        }
    }
    response
}
// ANCHOR_END: keep_lifetime
