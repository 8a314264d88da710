//! Rango, stage 3: the visit counter moves from browser cookies into the session.
//!
//! The browser now holds a single cookie, `sessionid`; the count and the time
//! of the last visit stay on the server, in a session store that outlives the
//! process (a `SQLite` file by default, like Django's database backend). The
//! stores themselves live in `rango-sessions`, as Django's live in
//! `django.contrib.sessions`. The test cookie from stage 1 stays.

pub mod test_cookie;
pub mod visits;

use std::collections::BTreeMap;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use clap::builder::BoolishValueParser;
use rango_sessions::{Store, StoreArgs, StoreError, vary_on_cookie};
use rango_site::{AppError, Clock, Console, ServeArgs, TopFive};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Session, SessionManagerLayer, SessionStore};

pub use crate::test_cookie::TestCookie;
use crate::visits::visitor_cookie_handler;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 3: server-side sessions")]
pub struct Args {
    /// `--addr`, as every stage has it.
    #[command(flatten)]
    pub serve: ServeArgs,

    /// How long after a counted visit the next one counts (1d, 30s; 0s = every request).
    #[arg(
        long,
        env = "RANGO_VISIT_INTERVAL",
        default_value = "1d",
        value_parser = rango_site::duration::parse,
        allow_hyphen_values = true
    )]
    pub visit_interval: Duration,

    /// `--session-store` and `--session-cache`: where sessions live.
    #[command(flatten)]
    pub sessions: StoreArgs,

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
            store: args.sessions.open().await?,
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

// ANCHOR: app
/// The Rango site of this stage, over the session store in `config`.
pub fn app(config: Config) -> Router {
    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies));
    with_sessions(pages, config)
}

/// `pages` with sessions on, over the store in `config`, inside the site.
pub fn with_sessions(pages: Router<Config>, config: Config) -> Router {
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

    let pages = pages
        // Every page reads or writes the session: `Vary: Cookie`, as
        // Django sends.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .with_state(config)
        .layer(sessions);
    // The `/` redirect, the 404 and 500 pages and the request log.
    rango_site::site(pages)
}
// ANCHOR_END: app

/// The home page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "rango/index.html")]
pub struct IndexPage {
    top_five: TopFive,
    visits: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "rango/about.html")]
struct AboutPage;

/// What the browser sent, and what the server keeps.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "rango/cookies.html")]
pub struct CookiesPage {
    /// The cookies this request carried, by name.
    sent: Vec<(String, String)>,
    /// What the store holds for the session those cookies name, if anything.
    stored: Option<StoredSession>,
}

/// A session record as the store keeps it.
#[derive(Debug)]
struct StoredSession {
    /// Each key with its value as JSON, by key.
    values: BTreeMap<String, String>,
    expires: DateTime<Utc>,
}

// ANCHOR: index
/// The home page: counts the visit and shows the count.
pub async fn index(State(config): State<Config>, session: Session) -> Result<IndexPage, AppError> {
    session.set_test_cookie().await?;
    let visits = visitor_cookie_handler(&session, &config.clock, config.visit_interval).await?;
    Ok(IndexPage {
        top_five: TopFive::default(),
        visits,
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
pub async fn cookies(
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
        Some(id) => config
            .store
            .load(&id)
            .await
            .map_err(tower_sessions::session::Error::Store)?,
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
