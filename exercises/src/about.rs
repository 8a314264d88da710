//! EXERCISE 2: the visit count on the About page. This file is yours to edit
//! (and again in exercise 4, which makes the page say how long the visitor's
//! session cookie lasts: see `src/remember.rs`).
//!
//! What to do: make the About page say how many times this visitor has been
//! to the site, as the home page does, in a line that reads `visits: N`.
//! Change the handler below and its template, `templates/rango/about.html`.
//! Mind the order: a visitor may open About before any other page, on a
//! brand-new session. That must show `visits: 1`, not 0 and not an error.
//!
//! Check your answer with `cargo exercise` (run it from anywhere in the
//! workspace). Do not edit `tests/checks.rs`: the checks are the referee.
//! The exercises' README explains more.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use rango_site::AppError;
use step03_server_sessions::{Config, TestCookie};
use tower_sessions::Session;

// ANCHOR: about
#[derive(Template, WebTemplate)]
#[template(path = "rango/about.html")]
// TODO (exercise 2): give the page the count to show, as `IndexPage` in
// step03-server-sessions/src/lib.rs does with its `visits` field.
// TODO (exercise 4): and whether the visitor chose "remember me" (a `bool`).
pub(crate) struct AboutPage;

pub(crate) async fn about(
    State(config): State<Config>,
    session: Session,
) -> Result<AboutPage, AppError> {
    if session.test_cookie_worked().await? {
        config.console.println("TEST COOKIE WORKED!");
        session.delete_test_cookie().await?;
    }
    // TODO (exercise 2): count this visit and get the number of visits, the
    // way the `index` handler in step03-server-sessions/src/lib.rs does, then
    // hand it to the page.
    // TODO (exercise 4): read the visitor's choice, kept in the session under
    // `crate::remember::REMEMBER` (`session.get::<bool>(..).await?`; no value
    // yet means no choice made, a browser-length cookie), and hand it to the
    // page as well.
    Ok(AboutPage)
}
// ANCHOR_END: about
