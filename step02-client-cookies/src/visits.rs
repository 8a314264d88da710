//! The chapter's visit counter, kept in the browser as two cookies.
//!
//! `visits` holds how many visits have counted so far and `last_visit` when
//! the last one counted. Both travel to the browser and back on every
//! request, as text: the visitor can read them, delete them and edit them. So
//! every value that comes back is parsed, checked and, if it does not hold up,
//! thrown away: the counter starts again at 1, as for a first visit, and the
//! debug log says which value was rejected and why.
//!
//! With `--signed-cookies` the count and the time travel together, in one
//! signed cookie, `visits` (`COUNT|TIME`): two cookies signed one by one
//! could be mixed, the newest count with the oldest time.

use std::convert::Infallible;
use std::fmt;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponseParts, ResponseParts};
use axum_extra::extract::cookie::{Cookie, CookieJar, Key, SameSite, SignedCookieJar};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use rango_site::Clock;

use crate::Config;

/// The cookie holding the number of visits.
pub const VISITS: &str = "visits";
/// The cookie holding the time of the last counted visit.
pub const LAST_VISIT: &str = "last_visit";

// ANCHOR: visit_jar
/// The jar the counter reads its cookies from and writes them back to.
///
/// `Plain` is the chapter's way: the values go out as they are, and whatever
/// comes back is what the visitor's browser (or the visitor) made of them.
/// `Signed` (`--signed-cookies`) adds a signature to the value; a value that
/// was edited no longer matches its signature, and the jar hides it, as if it
/// had never been sent.
#[derive(Debug, Clone)]
pub enum VisitJar {
    Plain(CookieJar),
    Signed(SignedCookieJar),
}

impl VisitJar {
    /// The request's cookies, in a signed jar if there is a key.
    pub fn from_headers(request: &HeaderMap, key: Option<&Key>) -> Self {
        match key {
            None => Self::Plain(CookieJar::from_headers(request)),
            Some(key) => Self::Signed(SignedCookieJar::from_headers(request, key.clone())),
        }
    }

    /// The cookie called `name`, if it was sent (and, when signed, its
    /// signature matches).
    pub fn get(&self, name: &str) -> Option<Cookie<'static>> {
        match self {
            Self::Plain(jar) => jar.get(name).cloned(),
            Self::Signed(jar) => jar.get(name),
        }
    }

    /// Adds `cookie` to the response (signed, for a signed jar). Named like
    /// the jars' own `add`, which it forwards to.
    #[must_use]
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, cookie: Cookie<'static>) -> Self {
        match self {
            Self::Plain(jar) => Self::Plain(jar.add(cookie)),
            Self::Signed(jar) => Self::Signed(jar.add(cookie)),
        }
    }
}
// ANCHOR_END: visit_jar

// ANCHOR: jar_extractor
/// A handler that takes a `VisitJar` gets the plain or the signed one,
/// whichever the configuration asks for.
impl FromRequestParts<Config> for VisitJar {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, config: &Config) -> Result<Self, Infallible> {
        Ok(Self::from_headers(
            &parts.headers,
            config.cookie_key.as_ref(),
        ))
    }
}

/// Returning a `VisitJar` from a handler sets the cookies added to it.
impl IntoResponseParts for VisitJar {
    type Error = Infallible;

    fn into_response_parts(self, response: ResponseParts) -> Result<ResponseParts, Infallible> {
        match self {
            Self::Plain(jar) => jar.into_response_parts(response),
            Self::Signed(jar) => jar.into_response_parts(response),
        }
    }
}
// ANCHOR_END: jar_extractor

// ANCHOR: visitor_cookie_handler
/// Counts this request as a visit if `interval` has passed since the last
/// counted one, and returns the jar holding the updated cookies together with
/// the number of visits.
///
/// The chapter's rule is `(now - last_visit).days > 0`: at least a whole day
/// has passed. Here the day is `interval`, so `--visit-interval 0s` counts
/// every request. Both cookies are written on every response, even when
/// nothing changed, so that a rejected value is replaced at once and the
/// cookies' lifetime starts again from this visit.
///
/// `request` is read only for what the jar cannot tell: whether a cookie was
/// sent at all, and how many times.
pub fn visitor_cookie_handler(
    request: &HeaderMap,
    jar: VisitJar,
    clock: &Clock,
    interval: Duration,
) -> (VisitJar, u64) {
    let now = clock.now();
    let visits = match read_visits(request, &jar, now) {
        // Saturating: only an edited cookie gets near `u64::MAX`, and it must
        // not wrap round to 0.
        Ok(Some(stored)) if now - stored.last_visit >= as_time_delta(interval) => Visits {
            count: stored.count.saturating_add(1),
            last_visit: now,
        },
        Ok(Some(stored)) => stored,
        Ok(None) => Visits::first(now),
        Err(rejected) => {
            tracing::debug!(%rejected, "visit cookies rejected; counting from 1 again");
            Visits::first(now)
        }
    };
    (write_visits(jar, visits), visits.count)
}
// ANCHOR_END: visitor_cookie_handler

// ANCHOR: write_visits
/// `jar` with the cookies that hold `visits`: `visits` and `last_visit`,
/// or, signed, the two in one cookie.
///
/// A signature vouches for one cookie. Were the two cookies signed one by
/// one, a visitor could send the count from today's answer with the time
/// from the first day's, each properly signed, and every request would
/// count as a visit a day or more after the last. Signed together, they
/// can only come back together.
fn write_visits(jar: VisitJar, visits: Visits) -> VisitJar {
    let last_visit = format_last_visit(visits.last_visit);
    match jar {
        VisitJar::Plain(_) => jar
            .add(visit_cookie(VISITS, visits.count.to_string()))
            .add(visit_cookie(LAST_VISIT, last_visit)),
        VisitJar::Signed(_) => {
            let pair = format!("{}{PAIR}{last_visit}", visits.count);
            jar.add(visit_cookie(VISITS, pair))
        }
    }
}

/// What separates the count from the time in a signed `visits` cookie.
const PAIR: char = '|';
// ANCHOR_END: write_visits

/// What the two cookies hold, once parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Visits {
    count: u64,
    last_visit: DateTime<Utc>,
}

impl Visits {
    fn first(now: DateTime<Utc>) -> Self {
        Self {
            count: 1,
            last_visit: now,
        }
    }
}

/// `interval` as a chrono duration; one too long for chrono is "never".
fn as_time_delta(interval: Duration) -> TimeDelta {
    TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX)
}

// ANCHOR: read_visits
/// The stored count and time, `None` on a first visit (neither cookie sent),
/// or why what was sent cannot be trusted.
fn read_visits(
    request: &HeaderMap,
    jar: &VisitJar,
    now: DateTime<Utc>,
) -> Result<Option<Visits>, Rejected> {
    let sent = sent_cookies(request);
    if let VisitJar::Signed(_) = jar {
        // One signed cookie holds both; a `last_visit` sent beside it is
        // not ours to believe.
        let Some(pair) = cookie_value(&sent, jar, VISITS)? else {
            return Ok(None);
        };
        let (count, last_visit) = pair
            .split_once(PAIR)
            .ok_or_else(|| Rejected::NotAPair(pair.clone()))?;
        return Ok(Some(Visits {
            count: parse_visits(count)?,
            last_visit: parse_last_visit(last_visit, now)?,
        }));
    }
    let count = cookie_value(&sent, jar, VISITS)?;
    let last_visit = cookie_value(&sent, jar, LAST_VISIT)?;
    match (count, last_visit) {
        (None, None) => Ok(None),
        (Some(count), Some(last_visit)) => Ok(Some(Visits {
            count: parse_visits(&count)?,
            last_visit: parse_last_visit(&last_visit, now)?,
        })),
        (Some(_), None) => Err(Rejected::Missing(LAST_VISIT)),
        (None, Some(_)) => Err(Rejected::Missing(VISITS)),
    }
}

/// The value of the cookie `name`, `None` if it was not sent.
///
/// A jar keeps one cookie per name, so a name sent twice (a leftover cookie
/// with another `Path`, say) is counted in `sent`: which of the two is ours
/// cannot be known. And a cookie that was sent but is not in the jar is one
/// the jar would not accept: a signature that does not match, or bytes that
/// are not visible ASCII (axum-extra then skips the whole `Cookie` header, so
/// one such cookie, even another site's on `localhost`, hides ours too).
fn cookie_value(
    sent: &[(String, String)],
    jar: &VisitJar,
    name: &'static str,
) -> Result<Option<String>, Rejected> {
    let times_sent = sent
        .iter()
        .filter(|(sent_name, _)| sent_name == name)
        .count();
    if times_sent > 1 {
        return Err(Rejected::SentTwice(name));
    }
    match jar.get(name) {
        Some(cookie) => Ok(Some(cookie.value().to_owned())),
        None if times_sent == 1 => Err(Rejected::Unreadable(name)),
        None => Ok(None),
    }
}
// ANCHOR_END: read_visits

// ANCHOR: parsing
/// The visit count in `value`: a whole number of at least 1, in ASCII digits
/// only (no sign, no spaces), that fits a `u64`.
pub fn parse_visits(value: &str) -> Result<u64, Rejected> {
    let not_a_count = || Rejected::NotACount(value.to_owned());
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(not_a_count());
    }
    match value.parse() {
        Ok(0) | Err(_) => Err(not_a_count()),
        Ok(count) => Ok(count),
    }
}

/// The time in `value`: RFC 3339 (any offset; it comes back in UTC), and not
/// later than `now`, since it records a visit that has happened.
pub fn parse_last_visit(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Rejected> {
    let time = DateTime::parse_from_rfc3339(value)
        .map_err(|_| Rejected::NotATime(value.to_owned()))?
        .to_utc();
    if time > now {
        return Err(Rejected::InTheFuture(value.to_owned()));
    }
    Ok(time)
}

/// `time` as `last_visit` stores it: RFC 3339 in UTC, to the millisecond
/// (so that an interval like `500ms` still works), e.g.
/// `2025-01-31T09:30:00.000Z`.
pub fn format_last_visit(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}
// ANCHOR_END: parsing

// ANCHOR: rejected
/// Why the cookies that came back were not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The browser sent this name more than once.
    SentTwice(&'static str),
    /// Sent, but the jar would not read it.
    Unreadable(&'static str),
    /// The other cookie was sent, this one was not.
    Missing(&'static str),
    /// `visits` held this, which is not a count.
    NotACount(String),
    /// `last_visit` held this, which is not an RFC 3339 time.
    NotATime(String),
    /// `last_visit` held this time, which has not happened yet.
    InTheFuture(String),
    /// A signed `visits` held this, which is not `COUNT|TIME`.
    NotAPair(String),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SentTwice(name) => write!(f, "{name} was sent more than once"),
            Self::Unreadable(name) => write!(
                f,
                "{name} was sent but not accepted by the cookie jar (bytes that are \
                 not visible ASCII, a value that does not decode, or a signature that \
                 does not match)"
            ),
            Self::Missing(name) => write!(f, "{name} is missing while the other cookie is there"),
            Self::NotACount(value) => {
                write!(f, "visits={} is not a whole number from 1 up", Shown(value))
            }
            Self::NotATime(value) => {
                write!(f, "last_visit={} is not an RFC 3339 time", Shown(value))
            }
            Self::InTheFuture(value) => write!(f, "last_visit={} is in the future", Shown(value)),
            Self::NotAPair(value) => {
                write!(f, "visits={} is not COUNT|TIME", Shown(value))
            }
        }
    }
}

impl std::error::Error for Rejected {}

/// A value from the visitor as the log shows it: quoted, with control
/// characters escaped (no forged log lines), and cut short (a 4 KB cookie
/// should not become a 4 KB log line).
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LIMIT: usize = 40;
        match self.0.char_indices().nth(LIMIT) {
            None => write!(f, "{:?}", self.0),
            Some((end, _)) => write!(f, "{:?}… ({} bytes)", &self.0[..end], self.0.len()),
        }
    }
}
// ANCHOR_END: rejected

// ANCHOR: cookie
/// How long the browser keeps the visit cookies: a year from the last visit.
///
/// Django's `set_cookie` without `max_age`, as in the chapter, makes a cookie
/// that lasts until the browser closes, so a counter of days would start
/// again almost every day. A year outlives any interval worth trying, and
/// stays under the 400 days that browsers allow at most. Because both cookies
/// are written on every visit, the year starts again each time.
const VISIT_COOKIE_LIFETIME: time::Duration = time::Duration::days(365);

/// A visit cookie as the browser should keep it.
///
/// - `Path=/`: sent with every page of the site (axum-extra sets no path, and
///   the browser would then limit it to `/rango`, the path of the page that
///   set it).
/// - `HttpOnly`: Django's `set_cookie` leaves these readable by JavaScript,
///   but no script on this site reads them (the server shows them on the
///   page), and a cookie scripts cannot reach is one an injected script
///   cannot steal or rewrite. It does not stop the visitor from editing it in
///   the browser's developer tools: that is what `--signed-cookies` is for.
/// - `SameSite=Lax`: Django's default; not sent on cross-site subrequests.
/// - Not `Secure`: `cargo run` serves plain HTTP on localhost.
fn visit_cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .max_age(VISIT_COOKIE_LIFETIME)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}
// ANCHOR_END: cookie

// ANCHOR: sent_cookies
/// Every `name=value` pair in the request's `Cookie` headers, in the order
/// sent, duplicates included, values exactly as they came (percent-encoded,
/// signature and all). Bytes that are not UTF-8 show as `�`.
pub fn sent_cookies(request: &HeaderMap) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    for line in request.get_all(COOKIE) {
        for piece in String::from_utf8_lossy(line.as_bytes()).split(';') {
            // A piece without `=` is a name with an empty value.
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = name.trim();
            if !name.is_empty() {
                sent.push((name.to_owned(), value.trim().to_owned()));
            }
        }
    }
    sent
}
// ANCHOR_END: sent_cookies
