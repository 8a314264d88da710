//! EXERCISE 4: "Remember me". This file is yours to edit, with the About
//! page (`src/about.rs` and `templates/rango/about.html`).
//!
//! The About page has a form with two buttons that POST to
//! `/rango/remember/`: `remember=yes` or `remember=no`. Make them switch this
//! visitor's session between a cookie that lasts two weeks (`Max-Age` and
//! `Expires` in its `Set-Cookie`, so it survives a browser restart) and one
//! that ends when the browser closes (neither), as Django's
//! `request.session.set_expiry()` does. The visit count stays either way: it
//! is the same session, only its cookie's lifetime changes. The About page
//! then says which cookie the visitor has.
//!
//! A form posted from another site arrives without the `sessionid` cookie
//! (it is `SameSite=Lax`): such a POST must change nothing, and must not
//! start a session either.
//!
//! Check your answer with `cargo exercise` (from anywhere in the workspace).
//! Do not edit `tests/checks.rs`: the checks are the referee. The exercises'
//! README explains more.

use axum::Form;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rango_site::AppError;
use serde::Deserialize;
use tower_sessions::Session;

// ANCHOR: choice
/// The session key that keeps the visitor's choice: `true` for "remember
/// me", `false` for "until the browser closes". Django keeps its own under
/// `_session_expiry`; the leading underscore marks the site's bookkeeping.
#[allow(dead_code, reason = "exercise 4: your answer uses it")]
pub(crate) const REMEMBER: &str = "_remember";

/// What the form sends: `remember=yes` or `remember=no`. Anything else is
/// refused before your handler runs (`422 Unprocessable Entity`).
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
/// `POST /rango/remember/`: gives this session the lifetime the visitor
/// chose, then goes back to the About page.
#[allow(clippy::unused_async, reason = "your answer will `.await` the session")]
pub(crate) async fn remember(
    session: Session,
    Form(choice): Form<Choice>,
) -> Result<Response, AppError> {
    // TODO (exercise 4):
    // 1. Only a session that exists can be changed. Read the session first
    //    (`session.get::<bool>(REMEMBER).await?`): if the request had no
    //    cookie, or one the store does not know, `session.id()` is then
    //    `None`, and the answer is only the redirect of step 4.
    // 2. Keep the choice in the session: `session.insert(REMEMBER, yes)`.
    // 3. Set this session's lifetime with `session.set_expiry(Some(..))`:
    //    `tower_sessions::Expiry::OnInactivity(Duration::weeks(2))` for yes
    //    (`tower_sessions::cookie::time::Duration`: two weeks, 1209600
    //    seconds, Django's default cookie age), `Expiry::OnSessionEnd` for no.
    // 4. Redirect to the About page with `303 See Other`:
    //    `axum::response::Redirect::to("/rango/about/").into_response()`.
    let _ = (session, choice.remember);
    Ok((
        StatusCode::NOT_IMPLEMENTED,
        "exercise 4 is not done yet: see exercises/src/remember.rs",
    )
        .into_response())
}
// ANCHOR_END: remember

// ANCHOR: keep_lifetime
/// Runs around every page, inside the session layer (see `app` in
/// `src/lib.rs`): gives a session that is about to be saved the lifetime its
/// visitor chose.
pub(crate) async fn keep_lifetime(session: Session, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    // TODO (exercise 4): tower-sessions does not keep `set_expiry` in the
    // store: every request starts with the session layer's lifetime (stage
    // 3's: until the browser closes). So the next save of a remembered
    // session (a visit counted the next day) would send its cookie without
    // `Max-Age`, and the browser would forget it on restart.
    // 1. If the session will be saved (`session.is_modified()`), read the
    //    choice kept under `REMEMBER`, and if there is one, set the lifetime
    //    again as in `remember`.
    // 2. If reading fails, answer with the site's error page:
    //    `return AppError::from(err).into_response();`
    let _ = session;
    response
}
// ANCHOR_END: keep_lifetime
