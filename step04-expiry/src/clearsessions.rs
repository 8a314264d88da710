//! Deleting expired sessions: Django's `manage.py clearsessions`, as a
//! subcommand and as a task the server runs on a schedule.
//!
//! An expired session is never served: the stores check the expiry when they
//! load one. But a `SQLite` row stays in the file after it expires, and a
//! busy site gathers thousands of them a day. Django's advice is a daily
//! cron job running `clearsessions`; here the server also does it by itself.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::store::{Cleared, Store, redacted};

// ANCHOR: clearsessions
/// `clearsessions`: deletes the expired sessions in the store `url` names and
/// says how many, or why there is nothing to delete.
pub async fn clearsessions(url: &str) -> Result<String, String> {
    if url == "memory" {
        return Ok(
            "The memory store lives inside a running server, and this new process \
                   has an empty one: there is nothing here to clear. (A running server \
                   forgets expired sessions by itself.)"
                .into(),
        );
    }
    let store = Store::open(url, false)
        .await
        .map_err(|err| err.to_string())?;
    match store.clear_expired().await {
        Ok(Cleared::Deleted(1)) => Ok("Deleted 1 expired session.".into()),
        Ok(Cleared::Deleted(count)) => Ok(format!("Deleted {count} expired sessions.")),
        Ok(Cleared::ByItself) => Ok(format!(
            "{} expires sessions by itself (each one is stored with a time to live): \
             there is nothing to clear.",
            redacted(url)
        )),
        Err(err) => Err(format!("cannot clear expired sessions: {err}")),
    }
}
// ANCHOR_END: clearsessions

// ANCHOR: schedule
/// Clears expired sessions out of `store` now and then every `every`, logging
/// how many went, for as long as the server runs: the chapter's daily cron
/// job, built in. A zero `every` turns it off, and so does a store that
/// drops expired sessions by itself.
pub fn clear_expired_every(store: Store, every: Duration) -> Option<JoinHandle<()>> {
    if every.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        // After a pause (a suspended laptop), one run catches up; no burst.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            // The first tick comes at once: clear at start-up too.
            ticks.tick().await;
            match store.clear_expired().await {
                Ok(Cleared::Deleted(count)) => {
                    tracing::info!(count, "deleted expired sessions");
                }
                Ok(Cleared::ByItself) => {
                    tracing::debug!("the session store drops expired sessions by itself");
                    return;
                }
                // A store that is down now may be back next time.
                Err(err) => tracing::warn!(%err, "cannot clear expired sessions"),
            }
        }
    }))
}
// ANCHOR_END: schedule
