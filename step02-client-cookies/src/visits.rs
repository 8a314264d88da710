//! The chapter's visit counter, kept in the browser as two cookies.
//!
//! `visits` holds how many visits have counted, `last_visit` when the last
//! one did. Both travel to the browser and back as text the visitor can
//! edit, so each is parsed on the way back; with `--signed-cookies` each
//! also carries a signature, and an edited value is not believed.

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
/// Django's `request.COOKIES.get(name)` with the chapter's `int(...)`
/// around it, or, with a `key`, `request.get_signed_cookie(name)`. A value
/// that does not parse, or whose signature does not fit, counts as absent:
/// a first visit, not an error page, and a debug log line.
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

/// `jar` with `cookie` added: Django's `response.set_cookie(name, value)`,
/// or, with a `key`, `response.set_signed_cookie(name, value)`.
pub fn set_cookie(jar: CookieJar, key: Option<&Key>, cookie: Cookie<'static>) -> CookieJar {
    let Some(key) = key else {
        return jar.add(cookie);
    };
    // A signed jar writes the signature in front of the value.
    let mut signed = cookie::CookieJar::new();
    signed.signed_mut(key).add(cookie);
    signed.iter().cloned().fold(jar, CookieJar::add)
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
    // A time still to come is no visit that happened: start again.
    let last_visit = last_visit.filter(|&time| time <= now);

    let (visits, last_visit) = match (visits, last_visit) {
        (Some(visits), Some(last_visit)) if now - last_visit >= as_time_delta(interval) => {
            (visits.saturating_add(1), now)
        }
        (Some(visits), Some(last_visit)) => (visits, last_visit),
        // A first visit, or a value we could not read: start again.
        _ => (1, now),
    };

    let jar = set_cookie(jar, key, visit_cookie(VISITS, visits.to_string()));
    let time = format_last_visit(last_visit);
    let jar = set_cookie(jar, key, visit_cookie(LAST_VISIT, time));
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
/// - `Max-Age`, a year, renewed on every visit: the chapter's `set_cookie`
///   makes a cookie that ends with the browser, and a counter of days would
///   start again almost every day.
/// - `Path=/`, as Django sets it; else the browser files it under `/rango`.
/// - `HttpOnly`: no script here reads them, so none may (the visitor still
///   can edit them: `--signed-cookies` is for that).
/// - `SameSite=Lax`, Django's default. Not `Secure`: `cargo run` is HTTP.
fn visit_cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .max_age(time::Duration::days(365))
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}
// ANCHOR_END: cookie
