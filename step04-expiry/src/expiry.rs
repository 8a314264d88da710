//! How long a session lasts: Django's `SESSION_COOKIE_AGE` and
//! `SESSION_EXPIRE_AT_BROWSER_CLOSE`, on top of tower-sessions.
//!
//! A session ends in two places. The browser drops the `sessionid` cookie
//! when the cookie's `Max-Age` runs out, or, for a cookie without one, when
//! the browser closes. The server stops serving the stored record when the
//! record's expiry passes. Django keeps the two apart: the cookie either
//! lasts `SESSION_COOKIE_AGE` or ends with the browser, and the record always
//! expires `SESSION_COOKIE_AGE` after it was last saved. tower-sessions ties
//! them together, so this module fills three gaps:
//!
//! - [`KeepFor`]: with a browser-length cookie, tower-sessions stores the
//!   record for a fixed two weeks; we make it follow the cookie age.
//! - [`refresh_expiry`]: tower-sessions saves a session (pushing its expiry
//!   forward) only when a value in it changed; a visit should count too.
//! - [`add_expires`]: tower-sessions gives the cookie `Max-Age` only; we add
//!   `Expires` as well, as Django does.

use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{self, Entry};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use time::OffsetDateTime;
use tower_sessions::Session;
use tower_sessions::cookie::Cookie;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::Store;
use crate::visits::get_server_side_cookie;
use crate::{Config, SESSION_COOKIE};

// ANCHOR: settings
/// Django's default `SESSION_COOKIE_AGE`: two weeks, in seconds.
pub const DEFAULT_COOKIE_AGE: u64 = 14 * 24 * 60 * 60;

/// The longest cookie age accepted. Chrome and Firefox keep a cookie at most
/// 400 days whatever it asks for, so a longer age would not be honoured.
pub const MAX_COOKIE_AGE: u64 = 400 * 24 * 60 * 60;

/// How long sessions last, and how the browser is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpiry {
    /// `SESSION_COOKIE_AGE`: how long a session lasts after the last visit.
    pub cookie_age: Duration,
    /// `SESSION_EXPIRE_AT_BROWSER_CLOSE`: the cookie carries no expiry date,
    /// so the browser forgets it when it closes. The stored session still
    /// expires `cookie_age` after the last visit.
    pub at_browser_close: bool,
    /// How stale the stored expiry may grow before a visit pushes it forward;
    /// see [`SessionExpiry::refresh_tolerance`].
    pub refresh_after: Duration,
}

/// Django's defaults (two weeks, persistent), refreshed at most once a minute.
impl Default for SessionExpiry {
    fn default() -> Self {
        Self {
            cookie_age: Duration::from_secs(DEFAULT_COOKIE_AGE),
            at_browser_close: false,
            refresh_after: Duration::from_secs(60),
        }
    }
}

/// Reads `--cookie-age` (`SESSION_COOKIE_AGE`): whole seconds, as in Django,
/// at least one and at most 400 days.
pub fn parse_cookie_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text
        .strip_prefix('-')
        .is_some_and(|rest| rest.parse::<u64>().is_ok())
    {
        return Err(
            "a session cannot last a negative time; give a number of seconds above 0".into(),
        );
    }
    let seconds: u64 = text.parse().map_err(|_| {
        format!("{text:?} is not a whole number of seconds (two weeks is {DEFAULT_COOKIE_AGE})")
    })?;
    if seconds == 0 {
        return Err(
            "a session must last at least 1 second; for a session that ends \
                    when the browser closes, use --expire-at-browser-close"
                .into(),
        );
    }
    if seconds > MAX_COOKIE_AGE {
        return Err(format!(
            "at most {MAX_COOKIE_AGE} seconds (400 days): browsers keep no cookie longer"
        ));
    }
    Ok(Duration::from_secs(seconds))
}
// ANCHOR_END: settings

impl SessionExpiry {
    /// The cookie age in the `time` crate's terms, which tower-sessions uses.
    pub fn age(&self) -> time::Duration {
        time::Duration::try_from(self.cookie_age).unwrap_or(time::Duration::MAX)
    }

    /// The cookie age in words: "14 days", "1 hour", "90 seconds".
    pub fn age_in_words(&self) -> String {
        let seconds = self.cookie_age.as_secs();
        let (count, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
            .into_iter()
            .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
            .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
        let mut words = format!("{count} {unit}");
        if count != 1 {
            words.push('s');
        }
        words
    }

    // ANCHOR: tolerance
    /// How long after a session was last saved a visit saves it again, just
    /// to push its expiry forward: `--refresh-after`, but never more than 1%
    /// of the cookie age.
    ///
    /// Django rewrites the session on every visit that touches it; that is a
    /// database write per page view, to move a two-week expiry by a few
    /// seconds. Allowing the expiry to be up to a minute stale saves nearly all
    /// of those writes for a busy visitor, and costs at most a minute of a
    /// two-week session. The 1% cap keeps short ages honest: with
    /// `--cookie-age 30` a session still slides on every visit (0.3 s).
    /// `--refresh-after 0` refreshes on every visit, as Django does.
    pub fn refresh_tolerance(&self) -> Duration {
        self.refresh_after.min(self.cookie_age / 100)
    }

    /// Whether a session last saved at `refreshed_at` (if known) needs saving
    /// again at `now` to keep its expiry fresh.
    pub fn refresh_due(&self, refreshed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        let tolerance = TimeDelta::from_std(self.refresh_tolerance()).unwrap_or(TimeDelta::MAX);
        refreshed_at.is_none_or(|then| now - then >= tolerance)
    }
    // ANCHOR_END: tolerance
}

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
///
/// [`Clock`]: crate::clock::Clock
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

// ANCHOR: refresh
/// The session key holding when the session was last saved, by the app's clock.
///
/// The leading underscore marks it as the site's bookkeeping, not the
/// visitor's data, as Django's own keys (`_auth_user_id`) are.
pub const REFRESHED_AT: &str = "_refreshed_at";

/// After each page that uses the session: saves the session again if its
/// stored expiry has grown stale, so that every visit, not only one that
/// changes a value, keeps the session alive.
///
/// tower-sessions saves a session only when something in it changed, and
/// only a save moves the stored expiry (and, for a persistent cookie, sends
/// the cookie again with a fresh `Max-Age`). The chapter's counter changes
/// the session once a day at most, so without this a daily visitor's
/// two-week session would end two weeks after the first visit, however
/// often they came back.
pub async fn refresh_expiry(
    State(config): State<Config>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status().is_server_error() {
        return response;
    }
    // Reading the value also loads the session, which tells a stored session
    // (it keeps its id) from a new or unknown one.
    let refreshed_at = match get_server_side_cookie(&session, REFRESHED_AT, None).await {
        Ok(refreshed_at) => refreshed_at,
        Err(err) => {
            tracing::warn!(%err, "cannot read the session to refresh its expiry");
            return response;
        }
    };
    let now = config.clock.now();
    let refresh = if session.is_modified() {
        // It will be saved anyway, and its expiry pushed forward: note when.
        true
    } else if session.id().is_some() && config.expiry.refresh_due(refreshed_at, now) {
        // Unchanged, so tower-sessions would not save it. Setting the expiry
        // (to what it already is) marks the session modified, even when the
        // time below is the same as the one stored.
        session.set_expiry(session.expiry());
        true
    } else {
        false
    };
    if refresh && let Err(err) = session.insert(REFRESHED_AT, now).await {
        tracing::warn!(%err, "cannot note when the session was refreshed");
    }
    response
}
// ANCHOR_END: refresh

// ANCHOR: expires
/// Gives the session cookie an `Expires` date next to its `Max-Age`.
///
/// tower-sessions sets `Max-Age` only (seconds from now). Every current
/// browser understands it, but `Expires` (a date) is the older attribute and
/// the one some clients and tools still read, so Django sends both. This runs
/// outside the session layer, on the `Set-Cookie` header it produced.
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

/// `value` with `Expires` added, if it sets the session cookie with a
/// `Max-Age` and no `Expires`.
fn with_expires(value: &HeaderValue, now: OffsetDateTime) -> Option<HeaderValue> {
    let mut cookie = Cookie::parse(value.to_str().ok()?).ok()?;
    if cookie.name() != SESSION_COOKIE || cookie.expires().is_some() {
        return None;
    }
    let max_age = cookie.max_age()?;
    cookie.set_expires(now.checked_add(max_age)?);
    HeaderValue::try_from(cookie.to_string()).ok()
}
// ANCHOR_END: expires

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_ages_are_whole_positive_seconds() {
        assert_eq!(
            parse_cookie_age("1209600"),
            Ok(Duration::from_secs(1_209_600))
        );
        assert_eq!(parse_cookie_age("1"), Ok(Duration::from_secs(1)));
        assert!(parse_cookie_age("-1").unwrap_err().contains("negative"));
        for bad in ["abc", "1.5", "", "2w", "-"] {
            let err = parse_cookie_age(bad).unwrap_err();
            assert!(
                err.contains("not a whole number of seconds"),
                "{bad}: {err}"
            );
        }
        assert!(
            parse_cookie_age("0")
                .unwrap_err()
                .contains("--expire-at-browser-close")
        );
        assert!(
            parse_cookie_age(&(MAX_COOKIE_AGE + 1).to_string())
                .unwrap_err()
                .contains("400 days")
        );
        assert!(parse_cookie_age(&MAX_COOKIE_AGE.to_string()).is_ok());
    }

    #[test]
    fn ages_read_as_words() {
        let words = |seconds| {
            SessionExpiry {
                cookie_age: Duration::from_secs(seconds),
                ..SessionExpiry::default()
            }
            .age_in_words()
        };
        assert_eq!(words(1_209_600), "14 days");
        assert_eq!(words(86_400), "1 day");
        assert_eq!(words(7_200), "2 hours");
        assert_eq!(words(90), "90 seconds");
        assert_eq!(words(60), "1 minute");
        assert_eq!(words(1), "1 second");
    }

    // ANCHOR: tolerance_test
    #[test]
    fn the_tolerance_is_a_minute_and_never_more_than_a_hundredth_of_the_age() {
        let expiry = |age, after| SessionExpiry {
            cookie_age: Duration::from_secs(age),
            refresh_after: Duration::from_secs(after),
            at_browser_close: false,
        };
        assert_eq!(
            SessionExpiry::default().refresh_tolerance(),
            Duration::from_secs(60)
        );
        assert_eq!(
            expiry(1000, 60).refresh_tolerance(),
            Duration::from_secs(10)
        );
        assert_eq!(
            expiry(30, 60).refresh_tolerance(),
            Duration::from_millis(300)
        );
        assert_eq!(expiry(1_209_600, 0).refresh_tolerance(), Duration::ZERO);

        let then: DateTime<Utc> = "2025-01-01T09:00:00Z".parse().unwrap();
        let minute = SessionExpiry::default();
        assert!(minute.refresh_due(None, then), "never refreshed: due");
        assert!(!minute.refresh_due(Some(then), then));
        assert!(!minute.refresh_due(Some(then), then + TimeDelta::seconds(59)));
        assert!(minute.refresh_due(Some(then), then + TimeDelta::seconds(60)));
        let always = expiry(1_209_600, 0);
        assert!(always.refresh_due(Some(then), then), "0: every visit");
    }
    // ANCHOR_END: tolerance_test
}
