//! Where tower-sessions and Django differ on how long a session lasts, and
//! the glue that makes stage 4 behave as Django does.
//!
//! A session ends in two places. The browser drops the `sessionid` cookie
//! when the cookie's `Max-Age` runs out or, for a cookie without one, when
//! the browser closes. The server stops serving the stored record when the
//! record's expiry passes. Django keeps the two apart: the cookie either
//! lasts `SESSION_COOKIE_AGE` or ends with the browser, and the record always
//! expires `SESSION_COOKIE_AGE` after it was last saved. tower-sessions ties
//! them together, so:
//!
//! - [`KeepFor`]: with a browser-length cookie, tower-sessions stores the
//!   record for a fixed two weeks; this makes it follow the cookie age.
//! - [`add_expires`]: tower-sessions gives the cookie `Max-Age` only; Django
//!   sends `Expires` as well.
//! - [`refresh_expiry`]: a visit that changes nothing still moves the
//!   session's expiry forward, now and then (see there).

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{self, Entry};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use rango_site::Clock;
use time::OffsetDateTime;
use tower_sessions::Session;
use tower_sessions::cookie::Cookie;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::Store;

// ANCHOR: keep_for
/// A store whose records expire `age` after each write, whatever expiry the
/// session layer gave them.
///
/// With `Expiry::OnSessionEnd` (no `Max-Age`, a browser-length cookie),
/// tower-sessions still has to give the stored record an expiry, and it
/// always picks two weeks from the save; the setting cannot be changed.
/// Django keeps the record `SESSION_COOKIE_AGE` in both modes, so in
/// browser-length mode the session layer talks to the store through this
/// wrapper, which sets the expiry before passing each write on.
///
/// The time comes from the system clock, not the app's [`Clock`]: the stores
/// compare expiry dates with the system clock when they load a session.
#[derive(Debug, Clone)]
pub struct KeepFor {
    store: Store,
    age: time::Duration,
}

impl KeepFor {
    /// `store`, keeping each record `age` after its last write.
    pub fn new(store: Store, age: time::Duration) -> Self {
        Self { store, age }
    }

    fn expiry_date(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().saturating_add(self.age)
    }
}

#[async_trait]
impl SessionStore for KeepFor {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.expiry_date = self.expiry_date();
        self.store.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let record = Record {
            expiry_date: self.expiry_date(),
            ..record.clone()
        };
        self.store.save(&record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}
// ANCHOR_END: keep_for

// ANCHOR: expires
/// Gives every cookie the response sets with a `Max-Age` an `Expires` date
/// too.
///
/// tower-sessions sets `Max-Age` only (seconds from now). Every current
/// browser understands it, but `Expires` (a date) is the older attribute and
/// the one some clients and tools still read, so Django sends both. This runs
/// outside the session layer, on the `Set-Cookie` header it produced.
#[allow(
    clippy::unused_async,
    reason = "axum's `map_response` takes an async fn"
)]
pub async fn add_expires(mut response: Response) -> Response {
    let now = OffsetDateTime::now_utc();
    if let Entry::Occupied(mut set_cookies) = response.headers_mut().entry(header::SET_COOKIE) {
        for value in set_cookies.iter_mut() {
            if let Some(with_expires) = with_expires(value, now) {
                *value = with_expires;
            }
        }
    }
    response
}

/// `value` with `Expires` added, if it sets a cookie with a `Max-Age` and no
/// `Expires`.
fn with_expires(value: &HeaderValue, now: OffsetDateTime) -> Option<HeaderValue> {
    let text = value.to_str().ok()?;
    // The session cookie, in the shape the session layer writes it, takes
    // a quicker way to the same answer (see `appended_expires`).
    if let Some(Quick(answer)) = appended_expires(text, now) {
        return answer;
    }
    let mut cookie = Cookie::parse(text).ok()?;
    if cookie.expires().is_some() {
        return None;
    }
    let max_age = cookie.max_age()?;
    cookie.set_expires(now.checked_add(max_age)?);
    HeaderValue::try_from(cookie.to_string()).ok()
}
// ANCHOR_END: expires

/// [`with_expires`]'s answer without parsing and writing the cookie again,
/// for a `Set-Cookie` in the shape the session layer writes: the cookie
/// crate writes it back unchanged, and `Expires` goes last, so adding it
/// is appending it. `None` for any other shape, which takes the long way.
/// (Parsing and writing the whole cookie took about 10,000 instructions
/// per cookie set, this way about 3,500; see `support/bench/profile`.)
fn appended_expires(text: &str, now: OffsetDateTime) -> Option<Quick> {
    let plain = |part: &str, extra: &str| {
        !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || extra.as_bytes().contains(&b)
            })
    };
    let mut parts = text.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    if !plain(name, "") || !plain(value, "") {
        return None;
    }
    // The attributes the cookie crate writes, in the order it writes them.
    let order = ["HttpOnly", "SameSite=", "Secure", "Path=", "Max-Age="];
    let mut next = 0;
    let mut max_age = None;
    for part in parts {
        let part = part.strip_prefix(' ')?;
        let at = order[next..].iter().position(|a| part.starts_with(a))? + next;
        let rest = &part[order[at].len()..];
        let fits = match order[at] {
            "HttpOnly" | "Secure" => rest.is_empty(),
            "SameSite=" => rest == "Strict" || rest == "Lax",
            "Path=" => plain(rest, "/%"),
            _ => {
                let digits =
                    rest.len() <= 18 && plain(rest, "") && rest.bytes().all(|b| b.is_ascii_digit());
                max_age = digits.then(|| rest.parse::<i64>().ok()).flatten();
                max_age.is_some() && (rest == "0" || !rest.starts_with('0'))
            }
        };
        if !fits {
            return None;
        }
        next = at + 1;
    }
    let Some(expires) = now.checked_add(time::Duration::seconds(max_age?)) else {
        return Some(Quick(None));
    };
    // The date as the cookie crate writes it (`Wed, 01 Jan 2025 10:00:00
    // GMT`, HTTP's date format), by httpdate, which hyper already uses for
    // the `Date` header: the cookie crate's general formatter took most of
    // the time. httpdate covers the years 1970 to 9999 only.
    if !(1970..=9999).contains(&expires.year()) {
        return None;
    }
    let date = httpdate::HttpDate::from(std::time::SystemTime::from(expires));
    let mut with = String::with_capacity(text.len() + 40);
    // Writing to a `String` cannot fail.
    let _ = write!(with, "{text}; Expires={date}");
    Some(Quick(HeaderValue::try_from(with).ok()))
}

/// [`with_expires`]'s answer, found the quick way.
#[derive(Debug, PartialEq)]
struct Quick(Option<HeaderValue>);

// ANCHOR: refresh
/// The session key holding when the session was last saved, by the app's clock.
///
/// The leading underscore marks it as the site's bookkeeping, not the
/// visitor's data, as Django's own keys (`_auth_user_id`) are.
pub const REFRESHED_AT: &str = "_refreshed_at";

/// What [`refresh_expiry`] needs: the app's clock, and how stale a stored
/// expiry may grow before a visit that changes nothing saves the session
/// again.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub clock: Clock,
    pub tolerance: Duration,
}

/// After each page that uses the session: saves the session again if it was
/// last saved `tolerance` ago or more, so that a visit that changes nothing
/// still keeps the session alive.
///
/// tower-sessions saves a session only when something in it changed, and
/// only a save moves the stored expiry (and, for a persistent cookie, sends
/// the cookie again with a fresh `Max-Age`). Django's default is the same:
/// it saves a modified session only, unless `SESSION_SAVE_EVERY_REQUEST` is
/// on. A tolerance of zero is that setting; a minute saves nearly every
/// write for a busy visitor and costs at most a minute of a two-week session.
pub async fn refresh_expiry(
    State(refresh): State<Refresh>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status().is_server_error() {
        return response;
    }
    // Reading the value also loads the session, which tells a stored session
    // (it keeps its id) from a new or unknown one. A value that is not a
    // time (written by something else) counts as never.
    let refreshed_at = match session.get_value(REFRESHED_AT).await {
        Ok(value) => value.and_then(refreshed_at),
        Err(err) => {
            tracing::warn!(%err, "cannot read the session to refresh its expiry");
            return response;
        }
    };
    let now = refresh.clock.now();
    let tolerance = TimeDelta::from_std(refresh.tolerance).unwrap_or(TimeDelta::MAX);
    let due = refreshed_at.is_none_or(|then| now - then >= tolerance);
    let save = if session.is_modified() {
        // It will be saved anyway, and its expiry pushed forward: note when.
        true
    } else if session.id().is_some() && due {
        // Unchanged, so tower-sessions would not save it. Setting the expiry
        // (to what it already is) marks the session modified, even when the
        // time below is the same as the one stored.
        session.set_expiry(session.expiry());
        true
    } else {
        false
    };
    if save && let Err(err) = session.insert(REFRESHED_AT, now).await {
        tracing::warn!(%err, "cannot note when the session was refreshed");
    }
    response
}
// ANCHOR_END: refresh

/// The time in the session's [`REFRESHED_AT`], as serde reads a
/// `DateTime<Utc>`. What this module writes there is RFC 3339, which
/// chrono's RFC 3339 parser reads in a fraction of the time serde's route
/// takes (that route tries several formats); anything else takes serde's.
fn refreshed_at(value: serde_json::Value) -> Option<DateTime<Utc>> {
    if let Some(text) = value.as_str()
        && let Ok(when) = DateTime::parse_from_rfc3339(text)
    {
        return Some(when.to_utc());
    }
    serde_json::from_value(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick way reads what serde writes, and what it does not read
    /// goes serde's way: the same time, or none, either way.
    #[test]
    fn refreshed_at_reads_what_serde_reads() {
        let when = Utc::now();
        let written = serde_json::to_value(when).unwrap();
        assert_eq!(refreshed_at(written), Some(when));
        for value in [
            serde_json::json!("2025-01-31T09:30:00Z"),
            serde_json::json!("2025-01-31T10:30:00.5+01:00"),
            serde_json::json!("2025-01-31 09:30:00Z"),
            serde_json::json!("yesterday"),
            serde_json::json!(3),
        ] {
            let by_serde = serde_json::from_value::<DateTime<Utc>>(value.clone()).ok();
            assert_eq!(refreshed_at(value.clone()), by_serde, "{value}");
        }
    }

    #[test]
    fn expires_is_max_age_from_now_and_only_added_once() {
        let now = OffsetDateTime::from_unix_timestamp(1_735_722_000).unwrap(); // 2025-01-01 09:00 UTC
        let value = HeaderValue::from_static("sessionid=abc; HttpOnly; Path=/; Max-Age=3600");
        let with = with_expires(&value, now).unwrap();
        let cookie = Cookie::parse(with.to_str().unwrap().to_owned()).unwrap();
        assert_eq!(cookie.max_age(), Some(time::Duration::HOUR));
        assert_eq!(
            cookie.expires_datetime(),
            Some(now + time::Duration::HOUR),
            "{with:?}"
        );
        assert_eq!(with_expires(&with, now), None, "it has Expires already");
        let browser_length = HeaderValue::from_static("sessionid=abc; HttpOnly; Path=/");
        assert_eq!(with_expires(&browser_length, now), None, "no Max-Age");
    }

    /// The quick way gives what parsing and writing the cookie gives, or
    /// leaves the cookie to that way.
    #[test]
    fn the_quick_way_agrees_with_the_cookie_crate() {
        // 2025-01-01 09:00, 2024-02-29 23:59:59, 2026-12-05 00:00:07 UTC.
        for now in [1_735_722_000, 1_709_251_199, 1_796_428_807] {
            let now = OffsetDateTime::from_unix_timestamp(now).unwrap();
            the_quick_way_agrees_at(now);
        }
    }

    fn the_quick_way_agrees_at(now: OffsetDateTime) {
        let the_long_way = |text: &str| {
            let mut cookie = Cookie::parse(text).ok()?;
            if cookie.expires().is_some() {
                return None;
            }
            cookie.set_expires(now.checked_add(cookie.max_age()?)?);
            HeaderValue::try_from(cookie.to_string()).ok()
        };
        let quick = [
            "sessionid=AbC-_x; HttpOnly; SameSite=Lax; Path=/; Max-Age=1209600",
            "sessionid=AbC; HttpOnly; SameSite=Strict; Secure; Path=/rango/; Max-Age=0",
            "sessionid=AbC; Max-Age=60",
        ];
        let long = [
            "sessionid=AbC; HttpOnly; SameSite=None; Path=/; Max-Age=60",
            "sessionid=AbC; Path=/; Max-Age=60; HttpOnly",
            "sessionid=AbC; HttpOnly; Path=/; Max-Age=060",
            "sessionid=AbC; Path=/; Max-Age=-5",
            "sessionid=AbC; Domain=example.org; Max-Age=60",
            "sessionid=AbC; Max-Age=60; Expires=Wed, 01 Jan 2025 10:00:00 GMT",
            "sessionid=\"AbC\"; Max-Age=60",
            "sessionid=AbC;Max-Age=60",
            "sessionid=AbC; httponly; Max-Age=60",
            "sessionid=AbC; HttpOnly; Path=/",
        ];
        for text in quick {
            let Quick(got) = appended_expires(text, now).expect(text);
            assert_eq!(got, the_long_way(text), "{text}");
            assert!(got.is_some(), "{text}");
        }
        for text in long {
            assert_eq!(appended_expires(text, now), None, "{text}");
            let value = HeaderValue::from_str(text).unwrap();
            assert_eq!(with_expires(&value, now), the_long_way(text), "{text}");
        }
        // An age past the calendar: no Expires either way.
        let ages_away = "sessionid=AbC; Max-Age=99999999999999999";
        assert_eq!(the_long_way(ages_away), None);
        let value = HeaderValue::from_static(ages_away);
        assert_eq!(with_expires(&value, now), None);
    }
}
