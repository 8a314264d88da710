//! Rango, the chapter's exercises: the stage 3 site (the visit counter in a
//! server-side session), with the two places you work on split out.
//!
//! - Exercise 1, `src/cookies_set.rs`: read the cookies a response sets, and
//!   so prove that the browser gets `sessionid` and nothing else.
//! - Exercise 2, `src/about.rs` and `templates/rango/about.html`: the About
//!   page shows the visit count.
//!
//! Everything else is stage 3 unchanged. `cargo exercise` checks your answers;
//! the README in this folder says more.

pub mod clock;
pub mod fixture;
pub mod store;
pub mod visits;

// ANCHOR: exercise_modules
// The files you edit. `--features solution` compiles the reference answers in
// solution/ in their place (CI checks both); leave these lines as they are.
#[cfg_attr(feature = "solution", path = "../solution/about.rs")]
mod about;
#[cfg_attr(feature = "solution", path = "../solution/cookies_set.rs")]
pub mod cookies_set;
// ANCHOR_END: exercise_modules

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use clap::builder::BoolishValueParser;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Session, SessionManagerLayer, SessionStore};

use crate::about::about;
use crate::clock::Clock;
use crate::fixture::{Category, Page};
use crate::store::{DEFAULT_STORE, Store, StoreError};
use crate::visits::visitor_cookie_handler;

/// Why a session operation failed: the store did, or a value would not encode.
type SessionError = tower_sessions::session::Error;

/// What a session operation returns: the value, or why it failed.
type SessionResult<T> = Result<T, SessionError>;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, the exercises: server-side sessions")]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "RANGO_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,

    /// How long after a counted visit the next one counts (1d, 30s, 0s = every request).
    #[arg(
        long,
        env = "RANGO_VISIT_INTERVAL",
        default_value = "1d",
        value_parser = humantime::parse_duration
    )]
    pub visit_interval: Duration,

    /// Where sessions live: `sqlite://PATH`, `memory` or `redis://HOST:PORT`.
    #[arg(long, env = "RANGO_SESSION_STORE", default_value = DEFAULT_STORE)]
    pub session_store: String,

    /// Keep recently used sessions in memory in front of the store (Django's `cached_db`).
    #[arg(long, env = "RANGO_SESSION_CACHE", value_parser = BoolishValueParser::new())]
    pub session_cache: bool,

    /// Mark the session cookie Secure: browsers then send it over HTTPS only.
    #[arg(long, env = "SESSION_COOKIE_SECURE", value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,
}

/// Everything the app needs that is not a route.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where console messages go.
    pub console: Console,
    /// Where "now" comes from.
    pub clock: Clock,
    /// How far apart two visits must be for the second to count.
    pub visit_interval: Duration,
    /// Where sessions live.
    pub store: Store,
    /// Whether the session cookie carries `Secure`.
    pub secure_cookies: bool,
}

impl Config {
    /// The configuration `args` describe; fails if the session store cannot
    /// be opened.
    pub async fn from_args(args: &Args) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::open(&args.session_store, args.session_cache).await?,
            visit_interval: args.visit_interval,
            secure_cookies: args.secure_cookies,
            ..Self::default()
        })
    }
}

/// Stdout, the system clock, a day between visits, sessions in memory.
impl Default for Config {
    fn default() -> Self {
        Self {
            console: Console::default(),
            clock: Clock::system(),
            visit_interval: Duration::from_secs(24 * 60 * 60),
            store: Store::memory(),
            secure_cookies: false,
        }
    }
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
/// The Rango site of this stage, over the session store in `config`.
pub fn app(config: Config) -> Router {
    // ANCHOR: session_layer
    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Secure only when asked: `runserver`, like
    // `cargo run`, speaks plain HTTP.
    let sessions = SessionManagerLayer::new(config.store.clone())
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(config.secure_cookies);
    // ANCHOR_END: session_layer

    Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies))
        // Every route above reads or writes the session.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .route("/", get(|| async { Redirect::to("/rango/") }))
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

// ANCHOR: vary
/// Adds `Vary: Cookie`, as Django does whenever a view uses the session.
///
/// A page built from the session differs from one visitor to the next at the
/// same URL. `Vary: Cookie` tells caches between us and the browser (a proxy,
/// a CDN) that the `Cookie` header is part of the answer, so they never hand
/// one visitor's page, or the session cookie set on it, to another.
/// tower-sessions leaves this to the app.
async fn vary_on_cookie(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("cookie"));
    response
}
// ANCHOR_END: vary

#[derive(Template, WebTemplate)]
#[template(path = "rango/index.html")]
struct IndexPage {
    categories: Vec<Category>,
    pages: Vec<Page>,
    visits: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "rango/cookies.html")]
struct CookiesPage {
    /// The cookies this request carried, by name.
    sent: Vec<(String, String)>,
    /// What the store holds for the session those cookies name, if anything.
    stored: Option<StoredSession>,
}

/// A session record as the store keeps it.
struct StoredSession {
    /// Each key with its value as JSON, by key.
    values: BTreeMap<String, String>,
    expires: DateTime<Utc>,
}

#[derive(Template, WebTemplate)]
#[template(path = "rango/not_found.html")]
struct NotFoundPage;

#[derive(Template, WebTemplate)]
#[template(path = "rango/error.html")]
struct ErrorPage {
    message: &'static str,
}

// ANCHOR: index
async fn index(State(config): State<Config>, session: Session) -> Result<IndexPage, AppError> {
    session.set_test_cookie().await?;
    let visits = visitor_cookie_handler(&session, &config.clock, config.visit_interval).await?;
    Ok(IndexPage {
        categories: fixture::top_categories(5),
        pages: fixture::top_pages(5),
        visits,
    })
}
// ANCHOR_END: index

// ANCHOR: cookies
/// Both sides of a session: the cookies the browser sent, and what the
/// server's store holds for the session id among them.
async fn cookies(
    State(config): State<Config>,
    jar: CookieJar,
    session: Session,
) -> Result<CookiesPage, AppError> {
    let mut sent: Vec<_> = jar
        .iter()
        .map(|cookie| {
            let value = shown(cookie.name(), cookie.value().to_owned());
            (cookie.name().to_owned(), value)
        })
        .collect();
    sent.sort();

    // Straight from the store rather than through `session`: this page shows
    // what is saved, and reading it does not change it.
    let record = match session.id() {
        Some(id) => config.store.load(&id).await.map_err(SessionError::Store)?,
        None => None,
    };
    let stored = record.map(|record| StoredSession {
        values: record
            .data
            .into_iter()
            .map(|(key, value)| (key, value.to_string()))
            .collect(),
        expires: DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
            .unwrap_or_default(),
    });
    Ok(CookiesPage { sent, stored })
}

/// A cookie's value as the page shows it. The session id is a secret that
/// `HttpOnly` keeps from the page's scripts; printing it whole into the page
/// would hand it back to them, so only its start is shown.
fn shown(name: &str, value: String) -> String {
    if name == "sessionid" {
        let start: String = value.chars().take(6).collect();
        format!("{start}…")
    } else {
        value
    }
}
// ANCHOR_END: cookies

async fn not_found() -> (StatusCode, NotFoundPage) {
    (StatusCode::NOT_FOUND, NotFoundPage)
}

// ANCHOR: errors
/// A failure the visitor cannot fix: logged in full, shown in short.
#[derive(Debug)]
pub struct AppError(SessionError);

impl From<SessionError> for AppError {
    fn from(err: SessionError) -> Self {
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
