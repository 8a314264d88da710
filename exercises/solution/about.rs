//! EXERCISES 2 and 4, the reference answer: the visit count on the About
//! page, and which session cookie the visitor has.
//!
//! Try the exercise in `src/about.rs` before reading on. This file, and the
//! template it names, are compiled in place of yours only with
//! `--features solution`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use rango_site::AppError;
use step03_server_sessions::visits::visitor_cookie_handler;
use step03_server_sessions::{Config, TestCookie};
use tower_sessions::Session;

use crate::remember::REMEMBER;

// ANCHOR: about
#[derive(Template, WebTemplate)]
// The reference template, next to this file; yours is templates/rango/about.html.
#[template(path = "../solution/templates/rango/about.html")]
pub(crate) struct AboutPage {
    visits: u64,
    /// Exercise 4: whether the visitor chose "remember me".
    remembered: bool,
}

pub(crate) async fn about(
    State(config): State<Config>,
    session: Session,
) -> Result<AboutPage, AppError> {
    if session.test_cookie_worked().await? {
        config.console.println("TEST COOKIE WORKED!");
        session.delete_test_cookie().await?;
    }
    // Count first, then read: on a brand-new session this is what stores
    // `visits` (as 1) in the first place. Reading the session before it ran
    // would find nothing there.
    let visits = visitor_cookie_handler(&session, &config.clock, config.visit_interval).await?;
    // Exercise 4: the kept choice, not `session.expiry()`, which only says
    // what this request's save will use (see `keep_lifetime`). No choice
    // yet: stage 3's browser-length cookie.
    let remembered = session.get::<bool>(REMEMBER).await?.unwrap_or(false);
    Ok(AboutPage { visits, remembered })
}
// ANCHOR_END: about
