//! The chapter's visit counter, kept in the browser as two cookies.
//!
//! `visits` holds how many visits have counted so far, and `last_visit` when
//! the last one counted. Both travel to the browser and back on every
//! request as text, which the visitor can read, delete and edit: so each is
//! parsed on the way back, and one that does not hold up counts as absent.
//! With a key (`--signed-cookies`) each value also carries a signature, as
//! Django's `set_signed_cookie` writes it, and an edited one is not believed.

use std::str::FromStr;
use std::time::Duration;

use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rango_site::Clock;

/// The cookie holding the number of visits.
pub const VISITS: &str = "visits";
/// The cookie holding the time of the last counted visit.
pub const LAST_VISIT: &str = "last_visit";

// ANCHOR: get_cookie
/// The value of the cookie `name` as a `T`, or `None` when there is none.
///
/// Django's `request.COOKIES.get(name)` and the `int(...)` around it in the
/// chapter, or, with a `key`, `request.get_signed_cookie(name)`. A value that
/// does not parse as a `T`, or whose signature does not fit, counts as
/// absent: the visitor gets a first visit, not an error page, and the debug
/// log says what was ignored.
pub fn get_cookie<T: FromStr>(jar: &CookieJar, key: Option<&Key>, name: &str) -> Option<T> {
    let sent = jar.get(name)?;
    let cookie = match key {
        None => Some(sent.clone()),
        // `None` unless the signature in front of the value fits it.
        Some(key) => cookie::CookieJar::new().signed(key).verify(sent.clone()),
    };
    let value = cookie.and_then(|cookie| cookie.value().parse().ok());
    if value.is_none() {
        // `?`: quoted and escaped, so a value cannot forge a log line.
        tracing::debug!(name, value = ?sent.value(), "ignoring a cookie that does not hold up");
    }
    value
}

/// Adds the cookie `name` to `jar`: Django's `response.set_cookie(name,
/// value)`, or, with a `key`, `response.set_signed_cookie(name, value)`.
pub fn set_cookie(
    jar: CookieJar,
    key: Option<&Key>,
    name: &'static str,
    value: String,
) -> CookieJar {
    let cookie = visit_cookie(name, value);
    let Some(key) = key else {
        return jar.add(cookie);
    };
    // A signed jar writes the signature in front of the value.
    let mut signed = cookie::CookieJar::new();
    signed.signed_mut(key).add(cookie);
    signed
        .iter()
        .fold(jar, |jar, cookie| jar.add(cookie.clone()))
}
// ANCHOR_END: get_cookie

// ANCHOR: visitor_cookie_handler
/// Counts this request as a visit if `interval` has passed since the last
/// counted one, and returns the jar holding the updated cookies together
/// with the number of visits.
///
/// The chapter's rule is `(now - last_visit).days > 0`: at least a whole day
/// has passed. Here the day is `interval`, so `--visit-interval 0s` counts
/// every request. Both cookies are written on every response, so that a bad
/// value is replaced at once and their lifetime starts again.
pub fn visitor_cookie_handler(
    jar: CookieJar,
    key: Option<&Key>,
    clock: &Clock,
    interval: Duration,
) -> (CookieJar, u64) {
    let now = clock.now();
    let visits: Option<u64> = get_cookie(&jar, key, VISITS);
    let last_visit: Option<DateTime<Utc>> = get_cookie(&jar, key, LAST_VISIT);
    // A time still to come is no visit that happened (and would stop the
    // count until then).
    let last_visit = last_visit.filter(|&time| time <= now);

    let (visits, last_visit) = match (visits, last_visit) {
        (Some(visits), Some(last_visit)) if now - last_visit >= as_time_delta(interval) => {
            (visits.saturating_add(1), now)
        }
        (Some(visits), Some(last_visit)) => (visits, last_visit),
        // A first visit, or a value we could not read: start again.
        _ => (1, now),
    };

    let jar = set_cookie(jar, key, VISITS, visits.to_string());
    let jar = set_cookie(jar, key, LAST_VISIT, format_last_visit(last_visit));
    (jar, visits)
}
// ANCHOR_END: visitor_cookie_handler

/// `interval` as a chrono duration; one too long for chrono is "never".
fn as_time_delta(interval: Duration) -> TimeDelta {
    TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX)
}

/// `time` as `last_visit` stores it: RFC 3339 in UTC, to the millisecond
/// (so that an interval like `500ms` works), e.g. `2025-01-31T09:30:00.000Z`.
pub fn format_last_visit(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ANCHOR: cookie
/// A visit cookie as the browser should keep it.
///
/// - `Max-Age`, a year: Django's `set_cookie` without `max_age`, as in the
///   chapter, makes a cookie that ends with the browser, and a counter of
///   days would start again almost every day. Written on every visit, the
///   year starts again each time (browsers allow 400 days at most).
/// - `Path=/`, as Django's `set_cookie` sets it: without it the browser
///   would file the cookie under `/rango`, the path of the page that set it.
/// - `HttpOnly`: no script on this site reads them, so none may (it does
///   not stop the visitor editing them: `--signed-cookies` is for that).
/// - `SameSite=Lax`, Django's default. Not `Secure`: `cargo run` serves
///   plain HTTP.
fn visit_cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .max_age(time::Duration::days(365))
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}
// ANCHOR_END: cookie
