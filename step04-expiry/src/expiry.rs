//! How long a session lasts: Django's `SESSION_COOKIE_AGE` and
//! `SESSION_EXPIRE_AT_BROWSER_CLOSE`, as settings of this stage. The cookie
//! that [`crate::app`] sends follows them, and `rango_sessions::expiry` makes
//! the stored record follow them as Django's does.

use std::time::Duration;

use clap::builder::BoolishValueParser;
use tower_sessions::cookie::time;

/// Django's default `SESSION_COOKIE_AGE`: two weeks, in seconds.
pub const DEFAULT_COOKIE_AGE: u64 = 14 * 24 * 60 * 60;

/// The longest cookie age accepted. Chrome and Firefox keep a cookie at most
/// 400 days whatever it asks for, so a longer age would not be honoured.
pub const MAX_COOKIE_AGE: u64 = 400 * 24 * 60 * 60;

// ANCHOR: settings
/// How long sessions last, and how the browser is told: Django's
/// `SESSION_COOKIE_AGE` and `SESSION_EXPIRE_AT_BROWSER_CLOSE`, as flags that
/// read those names from the environment too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct SessionExpiry {
    /// How long a session lasts after the last visit, in whole seconds (two weeks).
    #[arg(
        long,
        env = "SESSION_COOKIE_AGE",
        value_name = "SECONDS",
        default_value = "1209600",
        value_parser = parse_cookie_age,
        allow_negative_numbers = true
    )]
    pub cookie_age: Duration,

    /// End the session when the browser closes: the cookie gets no lifetime.
    // The stored session still expires `cookie_age` after the last visit.
    #[arg(
        long = "expire-at-browser-close",
        env = "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        value_parser = BoolishValueParser::new()
    )]
    pub at_browser_close: bool,

    /// How stale a session's stored expiry may get before a visit renews it
    /// (at most 1% of the cookie age; 0 = on every visit, like Django's
    /// `SESSION_SAVE_EVERY_REQUEST`).
    #[arg(
        long,
        env = "RANGO_SESSION_REFRESH_AFTER",
        default_value = "60s",
        value_parser = rango_site::duration::parse,
        allow_hyphen_values = true
    )]
    pub refresh_after: Duration,
}
// ANCHOR_END: settings

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
    match text.parse::<i128>() {
        Ok(..0) => {
            Err("a session cannot last a negative time; give a number of seconds above 0".into())
        }
        Ok(0) => Err(
            "a session must last at least 1 second; for a session that ends \
             when the browser closes, use --expire-at-browser-close"
                .into(),
        ),
        Ok(seconds) => u64::try_from(seconds)
            .ok()
            .filter(|seconds| *seconds <= MAX_COOKIE_AGE)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                format!(
                    "at most {MAX_COOKIE_AGE} seconds (400 days): browsers keep no cookie longer"
                )
            }),
        Err(_) => Err(format!(
            "{text:?} is not a whole number of seconds (two weeks is {DEFAULT_COOKIE_AGE})"
        )),
    }
}

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
        let plural = if count == 1 { "" } else { "s" };
        format!("{count} {unit}{plural}")
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
