//! Rango, stage 2: the visit counter, kept in the browser in two cookies.
//!
//! The index counts visits in the `visits` and `last_visit` cookies (see
//! [`visits`]), at most one per `--visit-interval`. Cookie values are text
//! the visitor can edit: what does not parse counts from 1 again, and with
//! `--signed-cookies` an edited value is noticed too. The session and the
//! test cookie from stage 1 stay as they were.

pub mod test_cookie;
pub mod visits;

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Key;
use clap::builder::BoolishValueParser;
use rango_sessions::{Store, vary_on_cookie};
use rango_site::{AppError, Clock, Console, ServeArgs, TopFive};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Session, SessionManagerLayer};

pub use crate::test_cookie::TestCookie;
use crate::visits::visitor_cookie_handler;

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
    /// and `RANGO_SECRET_KEY` holds no usable key.
    pub fn from_args(args: &Args) -> Result<Self, String> {
        let cookie_key = if args.signed_cookies {
            Some(secret_key(std::env::var_os("RANGO_SECRET_KEY"))?)
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
/// The signing key in `secret`, the value of `RANGO_SECRET_KEY`: Django's
/// `SECRET_KEY`, taken as bytes as Django takes it. Only from the
/// environment (a flag would show in `ps`), and never a default: a key
/// written in the source is a key everyone has.
fn secret_key(secret: Option<std::ffi::OsString>) -> Result<Key, String> {
    const HOW: &str = "make one with: export RANGO_SECRET_KEY=\"$(openssl rand -base64 48)\"";
    let Some(secret) = secret else {
        return Err(format!(
            "--signed-cookies needs a secret key in RANGO_SECRET_KEY ({HOW})"
        ));
    };
    // `Key` wants 64 bytes or more; it signs with the first 32.
    let secret = secret.as_encoded_bytes();
    Key::try_from(secret).map_err(|_| {
        let len = secret.len();
        format!("RANGO_SECRET_KEY is {len} bytes long; --signed-cookies needs at least 64 ({HOW})")
    })
}
// ANCHOR_END: secret_key

// ANCHOR: app
/// The Rango site of this stage, with sessions kept in memory.
pub fn app(config: Config) -> Router {
    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about))
        .route("/rango/cookies/", get(cookies));

    // Django's defaults for the session cookie: `sessionid`, HttpOnly,
    // SameSite=Lax, Path=/. Not Secure, because `runserver` speaks plain HTTP.
    let sessions = SessionManagerLayer::new(Store::memory())
        .with_name("sessionid")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(false);

    let pages = pages
        // Every page depends on the cookies the request carries:
        // `Vary: Cookie`, as Django sends.
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

/// What the browser sent.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "rango/cookies.html")]
pub struct CookiesPage {
    /// The cookies this request carried, by name.
    sent: Vec<(String, String)>,
    /// Whether the visit cookies are signed.
    signed: bool,
}

// ANCHOR: index
/// The home page: counts the visit, shows the count, and sets the cookies
/// that hold it.
pub async fn index(
    State(config): State<Config>,
    session: Session,
    jar: CookieJar,
) -> Result<(CookieJar, IndexPage), AppError> {
    session.set_test_cookie().await?;
    let key = config.cookie_key.as_ref();
    let (jar, visits) = visitor_cookie_handler(jar, key, &config.clock, config.visit_interval);
    let top_five = TopFive::default();
    Ok((jar, IndexPage { top_five, visits }))
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
/// The cookies the browser sent, for a learner who would otherwise dig
/// through the developer tools.
pub async fn cookies(State(config): State<Config>, jar: CookieJar) -> CookiesPage {
    let mut sent: Vec<_> = jar
        .iter()
        .map(|cookie| {
            let value = shown(cookie.name(), cookie.value().to_owned());
            (cookie.name().to_owned(), value)
        })
        .collect();
    sent.sort();
    CookiesPage {
        sent,
        signed: config.cookie_key.is_some(),
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
