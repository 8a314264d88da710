//! Rango, stage 1: switch sessions on and check that the browser keeps cookies.
//!
//! Django's `request.session` comes from `SessionMiddleware`. Here the same job
//! is done by a [`SessionManagerLayer`] from `tower-sessions`, wrapped around the
//! pages. The index sets a *test cookie* in the session ([`TestCookie`]); the
//! About page checks whether it came back, says so on the server's console,
//! and deletes it.

pub mod test_cookie;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use rango_sessions::{Store, vary_on_cookie};
use rango_site::{AppError, Console, ServeArgs, TopFive};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Session, SessionManagerLayer};

pub use crate::test_cookie::TestCookie;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 1: the test cookie")]
pub struct Args {
    /// `--addr`, as every stage has it.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Everything the app needs that is not a route: here, where console messages go.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub console: Console,
}
// ANCHOR_END: args

// ANCHOR: app
/// The Rango site of this stage, with sessions kept in memory.
pub fn app(config: Config) -> Router {
    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Not Secure, because `runserver` speaks plain HTTP.
    // (tower-sessions would say `id`, SameSite=Strict and Secure.)
    let sessions = SessionManagerLayer::new(Store::memory())
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(false);

    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        // Both pages use the session, so caches must tell visitors apart by
        // their cookie: `Vary: Cookie`, as Django's `SessionMiddleware` sends.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .with_state(config)
        .layer(sessions);
    // The `/` redirect, the 404 and 500 pages and the request log.
    rango_site::site(pages)
}
// ANCHOR_END: app

// ANCHOR: index_page
/// The home page: askama reads `templates/rango/index.html` at compile time
/// and writes the code that renders it; the fields are what the template
/// can use (Django's context).
#[derive(Template, WebTemplate)]
#[template(path = "rango/index.html")]
struct IndexPage {
    top_five: TopFive,
}
// ANCHOR_END: index_page

#[derive(Template, WebTemplate)]
#[template(path = "rango/about.html")]
struct AboutPage;

// ANCHOR: index
async fn index(session: Session) -> Result<IndexPage, AppError> {
    session.set_test_cookie().await?;
    Ok(IndexPage {
        top_five: TopFive::default(),
    })
}
// ANCHOR_END: index

// ANCHOR: about
async fn about(State(config): State<Config>, session: Session) -> Result<AboutPage, AppError> {
    if session.test_cookie_worked().await? {
        config.console.println("TEST COOKIE WORKED!");
        session.delete_test_cookie().await?;
    }
    Ok(AboutPage)
}
// ANCHOR_END: about
