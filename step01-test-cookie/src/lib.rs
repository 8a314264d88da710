//! Rango, stage 1: switch sessions on and check that the browser keeps cookies.
//!
//! Django's `request.session` comes from `SessionMiddleware`. Here the same job
//! is done by a [`SessionManagerLayer`] from `tower-sessions`, wrapped around the
//! router. The index sets a *test cookie* in the session; the About page checks
//! whether it came back, says so on the server's console, and deletes it.

pub mod fixture;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer, SessionStore};

use crate::fixture::{Category, Page};

/// What a session operation returns: the value, or why the store failed.
type SessionResult<T> = Result<T, tower_sessions::session::Error>;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 1: the test cookie")]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "RANGO_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
}

/// Everything the app needs that is not a route: here, where console messages go.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub console: Console,
}
// ANCHOR_END: args

// ANCHOR: console
/// The server's console. Django's `print()` writes to the terminal running
/// `runserver`; here `main` points this at stdout and tests at a buffer.
#[derive(Clone)]
pub struct Console(Arc<Mutex<dyn Write + Send>>);

impl Console {
    /// A console that writes to this process's stdout.
    pub fn stdout() -> Self {
        Self(Arc::new(Mutex::new(io::stdout())))
    }

    /// A console that writes into a buffer the caller can read back.
    pub fn buffer() -> (Self, Arc<Mutex<Vec<u8>>>) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        (Self(buffer.clone()), buffer)
    }

    /// Writes one line. A console that cannot be written to is not worth
    /// failing a page for, so errors are only logged.
    pub fn println(&self, line: &str) {
        let mut out = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(%err, "could not write to the console");
        }
    }
}
// ANCHOR_END: console

impl Default for Console {
    fn default() -> Self {
        Self::stdout()
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

// ANCHOR: test_cookie
/// Django's test-cookie helpers, as methods on the session.
///
/// The test cookie is not really a cookie of its own: it is a value stored in
/// the session. If the browser sends the session cookie back on the next
/// request, the value is found again and the browser is known to keep cookies.
pub trait TestCookie {
    /// Stores the test value (`request.session.set_test_cookie()`).
    fn set_test_cookie(&self) -> impl Future<Output = SessionResult<()>> + Send;
    /// Whether the test value came back (`request.session.test_cookie_worked()`).
    fn test_cookie_worked(&self) -> impl Future<Output = SessionResult<bool>> + Send;
    /// Removes the test value (`request.session.delete_test_cookie()`).
    fn delete_test_cookie(&self) -> impl Future<Output = SessionResult<()>> + Send;
}

const TEST_COOKIE_NAME: &str = "testcookie";
const TEST_COOKIE_VALUE: &str = "worked";

impl TestCookie for Session {
    async fn set_test_cookie(&self) -> SessionResult<()> {
        self.insert(TEST_COOKIE_NAME, TEST_COOKIE_VALUE).await
    }

    async fn test_cookie_worked(&self) -> SessionResult<bool> {
        let value: Option<String> = self.get(TEST_COOKIE_NAME).await?;
        Ok(value.as_deref() == Some(TEST_COOKIE_VALUE))
    }

    async fn delete_test_cookie(&self) -> SessionResult<()> {
        self.remove_value(TEST_COOKIE_NAME).await.map(drop)
    }
}
// ANCHOR_END: test_cookie

// ANCHOR: app
/// The Rango site of this stage, with sessions kept in memory.
pub fn app(config: Config) -> Router {
    app_with_store(config, MemoryStore::default())
}

/// The same site over any session store (tests use one that fails on purpose).
pub fn app_with_store<S: SessionStore + Clone>(config: Config, store: S) -> Router {
    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Not Secure, because `runserver` speaks plain HTTP.
    let sessions = SessionManagerLayer::new(store)
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(false);

    Router::new()
        .route("/", get(|| async { Redirect::to("/rango/") }))
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .fallback(not_found)
        .with_state(config)
        .layer(sessions)
        .layer(axum::middleware::map_response(session_failure_page))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}
// ANCHOR_END: app

#[derive(Template, WebTemplate)]
#[template(path = "rango/index.html")]
struct IndexPage {
    categories: Vec<Category>,
    pages: Vec<Page>,
}

#[derive(Template, WebTemplate)]
#[template(path = "rango/about.html")]
struct AboutPage;

#[derive(Template, WebTemplate)]
#[template(path = "rango/not_found.html")]
struct NotFoundPage;

#[derive(Template, WebTemplate)]
#[template(path = "rango/error.html")]
struct ErrorPage {
    message: &'static str,
}

// ANCHOR: index
async fn index(session: Session) -> Result<IndexPage, AppError> {
    session.set_test_cookie().await?;
    Ok(IndexPage {
        categories: fixture::top_categories(5),
        pages: fixture::top_pages(5),
    })
}
// ANCHOR_END: index

// ANCHOR: about
async fn about(
    axum::extract::State(config): axum::extract::State<Config>,
    session: Session,
) -> Result<AboutPage, AppError> {
    if session.test_cookie_worked().await? {
        config.console.println("TEST COOKIE WORKED!");
        session.delete_test_cookie().await?;
    }
    Ok(AboutPage)
}
// ANCHOR_END: about

async fn not_found() -> (StatusCode, NotFoundPage) {
    (StatusCode::NOT_FOUND, NotFoundPage)
}

// ANCHOR: errors
/// A failure the visitor cannot fix: logged in full, shown in short.
#[derive(Debug)]
pub struct AppError(tower_sessions::session::Error);

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(err = %self.0, "session store failed");
        error_page()
    }
}

fn error_page() -> Response {
    let page = ErrorPage {
        message: "The session store is not answering. Please try again in a moment.",
    };
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}

/// The session layer saves the session after the handler has run; when that
/// fails it logs the error and answers an empty 500. Give it a readable page.
async fn session_failure_page(response: Response) -> Response {
    let bodiless = !response.headers().contains_key(header::CONTENT_TYPE);
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && bodiless {
        return error_page();
    }
    response
}
// ANCHOR_END: errors
