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
pub mod expiry;
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
use rango_sessions::expiry::{KeepFor, Refresh, add_expires, refresh_expiry};
use rango_sessions::{Store, StoreArgs, StoreError, vary_on_cookie};
use rango_site::{AppError, Clock, Console, ServeArgs, TopFive};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

pub use crate::expiry::SessionExpiry;
pub use crate::test_cookie::TestCookie;
use crate::visits::visitor_cookie_handler;

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 4: session expiry")]
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

    // ANCHOR: expiry_args
    /// `--cookie-age`, `--expire-at-browser-close` and `--refresh-after`.
    #[command(flatten)]
    pub expiry: SessionExpiry,

    /// How often the server deletes expired sessions from the store (at least 1s; 0 = never).
    #[arg(
        long,
        env = "RANGO_CLEAR_EXPIRED_EVERY",
        default_value = "1h",
        value_parser = |text: &str| rango_site::duration::zero_or_at_least(text, Duration::from_secs(1)),
        allow_hyphen_values = true
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
            store: args.sessions.open().await?,
            visit_interval: args.visit_interval,
            secure_cookies: args.secure_cookies,
            expiry: args.expiry,
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
            expiry: SessionExpiry::default(),
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
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(config.secure_cookies)
        .with_expiry(lifetime);
    // ANCHOR_END: session_layer

    // A visit that changes nothing still moves the expiry forward, now and
    // then (`--refresh-after`).
    let (clock, tolerance) = (config.clock.clone(), expiry.refresh_tolerance());

    // Each layer wraps everything before it: a request meets the last one
    // first. Two orders matter. `refresh_expiry` marks the session that the
    // session layer loaded to be saved, so it sits inside that layer, which
    // saves on the way out; `add_expires` rewrites the `Set-Cookie` that the
    // session layer writes, so it sits outside it.
    let pages = pages
        // Every page reads or writes the session: `Vary: Cookie`, as
        // Django sends.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .route_layer(axum::middleware::from_fn_with_state(
            Refresh { clock, tolerance },
            refresh_expiry,
        ))
        .with_state(config)
        .layer(sessions)
        // `Expires` next to tower-sessions' `Max-Age`, as Django sends.
        .layer(axum::middleware::map_response(add_expires));
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
    expiry: SessionExpiry,
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
    expiry: SessionExpiry,
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
    if name == "sessionid" {
        let start: String = value.chars().take(6).collect();
        format!("{start}…")
    } else {
        value
    }
}
// ANCHOR_END: cookies
