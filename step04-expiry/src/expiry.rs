//! How long a session lasts: Django's `SESSION_COOKIE_AGE` and
//! `SESSION_EXPIRE_AT_BROWSER_CLOSE`, as settings of this stage.
//!
//! A session ends in two places. The browser drops the `sessionid` cookie
//! when the cookie's `Max-Age` runs out, or, for a cookie without one, when
//! the browser closes. The server stops serving the stored record when the
//! record's expiry passes. [`crate::app`] tells the session layer which kind
//! of cookie to send; `rango_sessions::expiry` makes the stored record last
//! as Django's does.

use std::time::Duration;

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
    /// How long after a session was last saved a visit that changes nothing
    /// saves it again, just to push its expiry forward: `--refresh-after`,
    /// but never more than 1% of the cookie age.
    ///
    /// Django saves a session only when a value in it changed, unless
    /// `SESSION_SAVE_EVERY_REQUEST` is on; then every page view is a database
    /// write, to move a two-week expiry by a few seconds. Allowing the expiry
    /// to be up to a minute stale saves nearly all of those writes for a busy
    /// visitor, and costs at most a minute of a two-week session. The 1% cap
    /// keeps short ages honest: with `--cookie-age 30` a session still slides
    /// on every visit (0.3 s). `--refresh-after 0` saves on every visit, as
    /// `SESSION_SAVE_EVERY_REQUEST` does.
    pub fn refresh_tolerance(&self) -> Duration {
        self.refresh_after.min(self.cookie_age / 100)
    }
    // ANCHOR_END: tolerance
}

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
    }
    // ANCHOR_END: tolerance_test
}
