//! The chapter's visit counter, moved from browser cookies into the session.
//!
//! In the previous stage `visits` and `last_visit` travelled to the browser and
//! back as cookies: strings the visitor could read and edit. Now they stay on
//! the server, in the session record; the browser holds only the session id.
//! And because tower-sessions stores values with serde, they keep their types:
//! `visits` is a `u64` and `last_visit` a `DateTime<Utc>`, not text to parse.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rango_site::Clock;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::test_cookie::SessionResult;

/// The session key holding the number of visits.
pub const VISITS: &str = "visits";
/// The session key holding the time of the last counted visit.
pub const LAST_VISIT: &str = "last_visit";

// ANCHOR: get_server_side_cookie
/// The value stored in the session under `key`, or `default` when there is none.
///
/// The chapter's `get_server_side_cookie`, with one difference: the value comes
/// back as a `T` (an integer, a date, any struct that derives `Deserialize`),
/// not as a string. A stored value that is not a `T` (written by an older
/// version of the site, say) counts as absent: the visitor gets `default`, not
/// an error page, and the debug log says what was ignored.
///
/// Only a store that cannot be read is an error.
pub async fn get_server_side_cookie<T: DeserializeOwned>(
    session: &Session,
    key: &str,
    default: T,
) -> SessionResult<T> {
    let Some(stored) = session.get_value(key).await? else {
        return Ok(default);
    };
    match serde_json::from_value(stored) {
        Ok(value) => Ok(value),
        Err(err) => {
            tracing::debug!(key, %err, "ignoring a session value of the wrong type");
            Ok(default)
        }
    }
}
// ANCHOR_END: get_server_side_cookie

// ANCHOR: visitor_cookie_handler
/// Counts this request as a visit if `interval` has passed since the last
/// counted one, and returns the number of visits.
///
/// The chapter's rule is `(now - last_visit).days > 0`: at least a whole day
/// has passed. Here the day is `interval`, so `--visit-interval 0s` counts
/// every request. No response is needed: all the state is in the session,
/// which the session layer saves after the handler has run.
pub async fn visitor_cookie_handler(
    session: &Session,
    clock: &Clock,
    interval: Duration,
) -> SessionResult<u64> {
    let now = clock.now();
    let visits: Option<u64> = get_server_side_cookie(session, VISITS, None).await?;
    let last_visit: Option<DateTime<Utc>> =
        get_server_side_cookie(session, LAST_VISIT, None).await?;

    let (visits, last_visit) = match (visits, last_visit) {
        (Some(visits), Some(last_visit)) if now - last_visit >= as_time_delta(interval) => {
            (visits.saturating_add(1), now)
        }
        (Some(visits), Some(last_visit)) => (visits, last_visit),
        // A first visit, or a value we could not read: start again.
        _ => (1, now),
    };

    // Storing an unchanged value does not mark the session modified, so a
    // visit that does not count costs no write to the store.
    session.insert(VISITS, visits).await?;
    session.insert(LAST_VISIT, last_visit).await?;
    Ok(visits)
}
// ANCHOR_END: visitor_cookie_handler

/// `interval` as a chrono duration; one too long for chrono is "never".
fn as_time_delta(interval: Duration) -> TimeDelta {
    TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX)
}

// The rules of the counter (once per interval, a value of the wrong type
// restarts it) are checked through the app, on every store, by the suite
// stages 3 and 4 share (`rango_site::testing::suite`).
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};
    use serde_json::json;
    use tower_sessions::MemoryStore;

    use super::*;

    // ANCHOR: typed_values
    /// Something richer than a number: with Django's session you would need
    /// pickle (or JSON by hand); here deriving serde's traits is enough.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Preferences {
        theme: String,
        page_size: u8,
    }

    #[tokio::test]
    async fn session_values_keep_their_types() {
        let session = Session::new(None, Arc::new(MemoryStore::default()), None);
        let when = Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26).unwrap();
        let preferences = Preferences {
            theme: "dark".into(),
            page_size: 20,
        };
        session.insert("visits", 7_u64).await.unwrap();
        session.insert("last_visit", when).await.unwrap();
        session.insert("preferences", &preferences).await.unwrap();

        // Stored as a JSON number, not the string "7".
        assert_eq!(session.get_value("visits").await.unwrap(), Some(json!(7)));
        // And each comes back as the type that went in.
        let visits: u64 = get_server_side_cookie(&session, "visits", 0).await.unwrap();
        let last_visit: DateTime<Utc> = get_server_side_cookie(&session, "last_visit", Utc::now())
            .await
            .unwrap();
        let back: Option<Preferences> = get_server_side_cookie(&session, "preferences", None)
            .await
            .unwrap();
        assert_eq!(visits, 7);
        assert_eq!(last_visit, when);
        assert_eq!(back, Some(preferences));
    }
    // ANCHOR_END: typed_values
}
