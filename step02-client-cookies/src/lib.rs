//! Rango, stage 2: a visit counter kept in the browser, in two cookies.
//!
//! The index counts visits in the `visits` and `last_visit` cookies (see
//! [`visits`]), at most one per `--visit-interval`. Cookie values are text the
//! visitor controls, so they are parsed and checked, never trusted; with
//! `--signed-cookies` they are also signed, so an edited value is noticed.
//! The session and the test cookie from stage 1 stay as they were.

pub mod test_cookie;
pub mod visits;

use std::ffi::OsStr;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use clap::builder::BoolishValueParser;
use rango_sessions::{Store, vary_on_cookie};
use rango_site::{AppError, Clock, Console, ServeArgs, TopFive};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Session, SessionManagerLayer};

pub use crate::test_cookie::TestCookie;
use crate::visits::{VisitJar, sent_cookies, visitor_cookie_handler};

// ANCHOR: args
/// Command-line settings. Each flag can also come from the environment.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, stage 2: the visit counter in cookies")]
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

// ANCHOR: app
/// The Rango site of this stage, with sessions kept in memory.
pub fn app(config: Config) -> Router {
    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Not Secure, because `runserver` speaks plain HTTP.
    let sessions = SessionManagerLayer::new(Store::memory())
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(false);

    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies))
        // Every page above depends on the cookies the request carries:
        // `Vary: Cookie`, as Django sends.
        .route_layer(axum::middleware::map_response(vary_on_cookie))
        .with_state(config)
        .layer(sessions);
    // The `/` redirect, the 404 and 500 pages and the request log.
    rango_site::site(pages)
}
// ANCHOR_END: app

#[derive(Template, WebTemplate)]
#[template(path = "rango/index.html")]
struct IndexPage {
    top_five: TopFive,
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
            top_five: TopFive::default(),
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
