//! Rango, stage 4: how long a session lasts, and clearing out expired ones.
//!
//! Sessions are persistent by default: the `sessionid` cookie carries a
//! lifetime (`--cookie-age`, two weeks) and survives a browser restart. With
//! `--expire-at-browser-close` it carries none, and the browser forgets it
//! when it closes. Either way the stored session expires that long after the
//! last visit, and expired sessions are deleted from the store on a schedule
//! or with the `clearsessions` subcommand. The counter and the test cookie
//! from the earlier stages stay.

pub mod clearsessions;
pub mod clock;
pub mod expiry;
pub mod fixture;
pub mod store;
pub mod visits;

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
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

use crate::clock::Clock;
use crate::expiry::{KeepFor, SessionExpiry, add_expires, parse_cookie_age, refresh_expiry};
use crate::fixture::{Category, Page};
use crate::store::{DEFAULT_STORE, Store, StoreError};
use crate::visits::visitor_cookie_handler;

/// Why a session operation failed: the store did, or a value would not encode.
type SessionError = tower_sessions::session::Error;

/// What a session operation returns: the value, or why it failed.
type SessionResult<T> = Result<T, SessionError>;

/// The session cookie's name: Django's, not tower-sessions' `id`.
pub const SESSION_COOKIE: &str = "sessionid";

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 4: session expiry")]
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
    #[arg(long, env = "RANGO_SESSION_STORE", default_value = DEFAULT_STORE, global = true)]
    pub session_store: String,

    /// Keep recently used sessions in memory in front of the store (Django's `cached_db`).
    #[arg(long, env = "RANGO_SESSION_CACHE", value_parser = BoolishValueParser::new())]
    pub session_cache: bool,

    /// Mark the session cookie Secure: browsers then send it over HTTPS only.
    #[arg(long, env = "SESSION_COOKIE_SECURE", value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,

    // ANCHOR: expiry_args
    /// How long a session lasts after the last visit, in whole seconds (two weeks).
    #[arg(
        long,
        env = "SESSION_COOKIE_AGE",
        value_name = "SECONDS",
        default_value = "1209600",
        value_parser = parse_cookie_age,
        allow_negative_numbers = true
    )]
    pub cookie_age: Duration,

    /// End the session when the browser closes: the cookie gets no lifetime.
    #[arg(
        long,
        env = "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        value_parser = BoolishValueParser::new()
    )]
    pub expire_at_browser_close: bool,

    /// How stale a session's stored expiry may get before a visit renews it
    /// (at most 1% of the cookie age; 0 = on every visit, as Django does).
    #[arg(
        long,
        env = "RANGO_SESSION_REFRESH_AFTER",
        default_value = "60s",
        value_parser = humantime::parse_duration
    )]
    pub refresh_after: Duration,

    /// How often the server deletes expired sessions from the store (0 = never).
    #[arg(
        long,
        env = "RANGO_CLEAR_EXPIRED_EVERY",
        default_value = "1h",
        value_parser = humantime::parse_duration
    )]
    pub clear_expired_every: Duration,

    /// Something to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    // ANCHOR_END: expiry_args
}

/// What the binary can do besides serving the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Delete expired sessions from the store and exit (Django's `clearsessions`).
    Clearsessions,
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
    /// How long sessions last, and how the browser is told.
    pub expiry: SessionExpiry,
}

impl Config {
    /// The configuration `args` describe; fails if the session store cannot
    /// be opened.
    pub async fn from_args(args: &Args) -> Result<Self, StoreError> {
        Ok(Self {
            store: Store::open(&args.session_store, args.session_cache).await?,
            visit_interval: args.visit_interval,
            secure_cookies: args.secure_cookies,
            expiry: SessionExpiry {
                cookie_age: args.cookie_age,
                at_browser_close: args.expire_at_browser_close,
                refresh_after: args.refresh_after,
            },
            ..Self::default()
        })
    }
}

/// Stdout, the system clock, a day between visits, two-week sessions in memory.
impl Default for Config {
    fn default() -> Self {
        Self {
            console: Console::default(),
            clock: Clock::system(),
            visit_interval: Duration::from_secs(24 * 60 * 60),
            store: Store::memory(),
            secure_cookies: false,
            expiry: SessionExpiry::default(),
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
    let expiry = &config.expiry;
    let (store, lifetime) = if expiry.at_browser_close {
        // No `Max-Age`: the browser forgets the cookie when it closes. The
        // stored session still lasts the cookie age (see `KeepFor`).
        let store = KeepFor::new(config.store.clone(), expiry.age());
        (Store::new(store), Expiry::OnSessionEnd)
    } else {
        // `Max-Age` of the cookie age, and the stored session expires that
        // long after each save.
        (config.store.clone(), Expiry::OnInactivity(expiry.age()))
    };
    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Secure only when asked: `runserver`, like
    // `cargo run`, speaks plain HTTP.
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(config.secure_cookies)
        .with_expiry(lifetime);
    // ANCHOR_END: session_layer

    Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies))
        // Every route above reads or writes the session.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .route_layer(axum::middleware::from_fn_with_state(
            config.clone(),
            refresh_expiry,
        ))
        .route("/", get(|| async { Redirect::to("/rango/") }))
        .fallback(not_found)
        .with_state(config)
        .layer(sessions)
        .layer(axum::middleware::map_response(add_expires))
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
    expiry: SessionExpiry,
}

#[derive(Template, WebTemplate)]
#[template(path = "rango/about.html")]
struct AboutPage;

#[derive(Template, WebTemplate)]
#[template(path = "rango/cookies.html")]
struct CookiesPage {
    /// The cookies this request carried, by name.
    sent: Vec<(String, String)>,
    /// What the store holds for the session those cookies name, if anything.
    stored: Option<StoredSession>,
    expiry: SessionExpiry,
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
        expiry: config.expiry,
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
    Ok(CookiesPage {
        sent,
        stored,
        expiry: config.expiry,
    })
}

/// A cookie's value as the page shows it. The session id is a secret that
/// `HttpOnly` keeps from the page's scripts; printing it whole into the page
/// would hand it back to them, so only its start is shown.
fn shown(name: &str, value: String) -> String {
    if name == SESSION_COOKIE {
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
