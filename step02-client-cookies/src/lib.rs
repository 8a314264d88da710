//! Rango, stage 2: a visit counter kept in the browser, in two cookies.
//!
//! The index counts visits in the `visits` and `last_visit` cookies (see
//! [`visits`]), at most one per `--visit-interval`. Cookie values are text the
//! visitor controls, so they are parsed and checked, never trusted; with
//! `--signed-cookies` they are also signed, so an edited value is noticed.
//! The session and the test cookie from stage 1 stay as they were.

pub mod clock;
pub mod fixture;
pub mod visits;

use std::ffi::OsStr;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use clap::builder::BoolishValueParser;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer, SessionStore};

use crate::clock::Clock;
use crate::fixture::{Category, Page};
use crate::visits::{VisitJar, sent_cookies, visitor_cookie_handler};

/// What a session operation returns: the value, or why the store failed.
type SessionResult<T> = Result<T, tower_sessions::session::Error>;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 2: the visit counter in cookies")]
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

    /// Sign the visit cookies with the key in `RANGO_SECRET_KEY`, so that an edited value is noticed.
    #[arg(long, env = "RANGO_SIGNED_COOKIES", value_parser = BoolishValueParser::new())]
    pub signed_cookies: bool,
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
    /// The key that signs the visit cookies; `None` sends them plain, as the chapter does.
    pub cookie_key: Option<Key>,
}

impl Config {
    /// The configuration `args` describe; fails if `--signed-cookies` is on
    /// and the environment holds no usable key.
    pub fn from_args(args: &Args) -> Result<Self, SecretKeyError> {
        let cookie_key = if args.signed_cookies {
            Some(secret_key(std::env::var_os(SECRET_KEY_VAR).as_deref())?)
        } else {
            None
        };
        Ok(Self {
            visit_interval: args.visit_interval,
            cookie_key,
            ..Self::default()
        })
    }
}

/// Stdout, the system clock, a day between visits, plain cookies.
impl Default for Config {
    fn default() -> Self {
        Self {
            console: Console::default(),
            clock: Clock::system(),
            visit_interval: Duration::from_secs(24 * 60 * 60),
            cookie_key: None,
        }
    }
}
// ANCHOR_END: args

// ANCHOR: secret_key
/// Where `--signed-cookies` finds its key. Only in the environment: a value
/// given as a flag would show in `ps` and in the shell's history.
pub const SECRET_KEY_VAR: &str = "RANGO_SECRET_KEY";

/// The shortest key `--signed-cookies` accepts, in bytes: what
/// [`Key::try_from`] requires (it signs with the first 32).
pub const SECRET_KEY_MIN_LEN: usize = 64;

/// The signing key in `secret` (the value of [`SECRET_KEY_VAR`]), taken as
/// bytes, as Django takes its `SECRET_KEY`. There is no default key: a key
/// written in the source is a key everyone has.
pub fn secret_key(secret: Option<&OsStr>) -> Result<Key, SecretKeyError> {
    let secret = secret.ok_or(SecretKeyError::Missing)?.as_encoded_bytes();
    Key::try_from(secret).map_err(|_| SecretKeyError::TooShort(secret.len()))
}

/// Why `--signed-cookies` cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKeyError {
    /// The variable is not set.
    Missing,
    /// The key has this many bytes, fewer than [`SECRET_KEY_MIN_LEN`].
    TooShort(usize),
}

impl std::fmt::Display for SecretKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "--signed-cookies needs a secret key in {SECRET_KEY_VAR}"),
            Self::TooShort(len) => write!(
                f,
                "{SECRET_KEY_VAR} is {len} bytes long; --signed-cookies needs at least \
                 {SECRET_KEY_MIN_LEN}"
            ),
        }?;
        write!(
            f,
            " (make one with: export {SECRET_KEY_VAR}=\"$(openssl rand -base64 48)\")"
        )
    }
}

impl std::error::Error for SecretKeyError {}
// ANCHOR_END: secret_key

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
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies))
        // Every route above depends on the cookies the request carries.
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
/// A page built from cookies differs from one visitor to the next at the
/// same URL. `Vary: Cookie` tells caches between us and the browser (a proxy,
/// a CDN) that the `Cookie` header is part of the answer, so they never hand
/// one visitor's page, or the cookies set on it, to another.
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
#[template(path = "rango/about.html")]
struct AboutPage;

#[derive(Template, WebTemplate)]
#[template(path = "rango/cookies.html")]
struct CookiesPage {
    /// The cookies this request carried, in the order sent.
    sent: Vec<(String, String)>,
    /// Whether the visit cookies are signed.
    signed: bool,
    /// `--visit-interval`, for people.
    interval: String,
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
async fn index(
    State(config): State<Config>,
    session: Session,
    request: HeaderMap,
    jar: VisitJar,
) -> Result<(VisitJar, IndexPage), AppError> {
    session.set_test_cookie().await?;
    let (jar, visits) = visitor_cookie_handler(&request, jar, &config.clock, config.visit_interval);
    Ok((
        jar,
        IndexPage {
            categories: fixture::top_categories(5),
            pages: fixture::top_pages(5),
            visits,
        },
    ))
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
/// What the browser sent, for a learner who would otherwise dig through the
/// developer tools.
async fn cookies(State(config): State<Config>, request: HeaderMap) -> CookiesPage {
    let sent = sent_cookies(&request)
        .into_iter()
        .map(|(name, value)| {
            let value = shown(&name, value);
            (name, value)
        })
        .collect();
    CookiesPage {
        sent,
        signed: config.cookie_key.is_some(),
        interval: humantime::format_duration(config.visit_interval).to_string(),
    }
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
