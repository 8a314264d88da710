//! Deleting expired sessions: Django's `manage.py clearsessions`, once or
//! on a schedule while the server runs.
//!
//! An expired session is never served: the stores check the expiry when they
//! load one. But a `SQLite` row stays in the file after it expires, and a
//! busy site gathers thousands of them a day. Django's advice is a daily
//! cron job running `clearsessions`; [`clear_expired_every`] is that job,
//! built into the server.

use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tower_sessions::session_store::{self, ExpiredDeletion};

use crate::store::Store;

// ANCHOR: clear_expired
/// What clearing expired sessions out of a store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleared {
    /// Deleted this many expired sessions.
    Deleted(u64),
    /// Nothing to do: this store drops expired sessions by itself.
    ByItself,
}

impl Store {
    /// Deletes the sessions whose expiry has passed: Django's `clearsessions`.
    ///
    /// A `SQLite` row stays in the file after it expires (it is only never
    /// served again), so expired rows pile up until deleted, a thousand at a
    /// time so that requests' writes go in between. The other stores need no
    /// help: the memory store (and the cache) never serves an expired session
    /// and drops it when it is next asked for, or when the least recently
    /// used go to make room; Redis stores each session with a time to live.
    #[cfg_attr(not(feature = "sqlite"), allow(clippy::unused_async))]
    pub async fn clear_expired(&self) -> session_store::Result<Cleared> {
        #[cfg(feature = "sqlite")]
        if let Some(sqlite) = &self.sqlite {
            return sqlite.delete_expired().await.map(Cleared::Deleted);
        }
        Ok(Cleared::ByItself)
    }
}
// ANCHOR_END: clear_expired

/// tower-sessions' own trait for stores that can delete expired sessions,
/// for code written against it.
#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.clear_expired().await.map(drop)
    }
}

// ANCHOR: schedule
/// Clears expired sessions out of `store` now, then every `every` in a task
/// of its own, logging how many went, for as long as the server runs. A zero
/// `every` turns it off, and so does a store that drops expired sessions by
/// itself: then there is no task.
///
/// The first round is awaited, before the server listens: what expired
/// while the server was down is gone before the first request, and its log
/// line always comes before `Listening on`. (Spawned, it raced the start-up
/// and printed on either side of that line.) It holds start-up back only
/// briefly: 300,000 expired rows took a quarter of a second to delete on the
/// machine of the book's performance page.
///
/// tower-sessions offers [`ExpiredDeletion::continuously_delete_expired`] for
/// this, but it stops for good at the first error (a store that is down for
/// a minute would never be cleared again), waits a whole period before the
/// first round, and cannot say how many sessions went. So the loop is ours.
pub async fn clear_expired_every(store: Store, every: Duration) -> Option<JoinHandle<()>> {
    if every.is_zero() || !clear_once(&store).await {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        // After a pause (a suspended laptop), one run catches up; no burst.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            clear_once(&store).await;
        }
    }))
}

/// One round of clearing, logged; false if the store needs none, ever.
async fn clear_once(store: &Store) -> bool {
    match store.clear_expired().await {
        Ok(Cleared::Deleted(count)) => tracing::info!(count, "deleted expired sessions"),
        Ok(Cleared::ByItself) => {
            tracing::debug!("the session store drops expired sessions by itself");
            return false;
        }
        // A store that is down now may be back next time.
        Err(err) => tracing::warn!(%err, "cannot clear expired sessions"),
    }
    true
}
// ANCHOR_END: schedule

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session_store::SessionStore;

    use crate::testing::{Kind, fill};

    #[tokio::test]
    async fn clearing_deletes_exactly_the_expired_rows() {
        let sqlite = Kind::Sqlite.open().await;
        let store = &sqlite.store;
        let (expired, live) = fill(store, 3, 2).await;
        assert_eq!(sqlite.rows(), 5);

        assert_eq!(store.clear_expired().await.unwrap(), Cleared::Deleted(3));
        assert_eq!(sqlite.rows(), 2);
        for id in &live {
            assert!(
                store.load(id).await.unwrap().is_some(),
                "live sessions stay"
            );
        }
        for id in &expired {
            assert!(store.load(id).await.unwrap().is_none());
        }
        assert_eq!(store.clear_expired().await.unwrap(), Cleared::Deleted(0));

        // The cache in front changes nothing: the rows are in the file.
        let cached = Store::open(&sqlite.url(), true).await.unwrap();
        fill(&cached, 1, 0).await;
        assert_eq!(cached.clear_expired().await.unwrap(), Cleared::Deleted(1));
        assert_eq!(sqlite.rows(), 2);
    }

    /// More expired sessions than one write deletes: clearing goes on
    /// until all are gone, and leaves the live ones.
    #[tokio::test]
    async fn clearing_deletes_expired_sessions_in_batches() {
        let sqlite = Kind::Sqlite.open().await;
        fill(&sqlite.store, 2007, 3).await;
        assert_eq!(
            sqlite.store.clear_expired().await.unwrap(),
            Cleared::Deleted(2007)
        );
        assert_eq!(sqlite.rows(), 3);
    }

    /// Memory drops expired sessions by itself: nothing to clear, and
    /// nothing served.
    #[tokio::test]
    async fn memory_forgets_expired_sessions_by_itself() {
        let store = Store::memory();
        let (expired, live) = fill(&store, 2, 1).await;
        assert_eq!(store.clear_expired().await.unwrap(), Cleared::ByItself);
        assert!(store.load(&expired[0]).await.unwrap().is_none());
        assert!(store.load(&live[0]).await.unwrap().is_some());
    }

    /// The server's own `clearsessions`, every 50 ms here: rows that expire
    /// while it runs are deleted on a later round, live ones stay.
    #[tokio::test]
    async fn the_schedule_deletes_expired_rows_while_the_server_runs() {
        let sqlite = Kind::Sqlite.open().await;
        fill(&sqlite.store, 2, 3).await;
        let task = clear_expired_every(sqlite.store.clone(), Duration::from_millis(50))
            .await
            .expect("a task");
        assert_eq!(
            sqlite.rows(),
            3,
            "the first round is over before it returns"
        );
        // More sessions expire later: a later round finds them.
        fill(&sqlite.store, 4, 0).await;
        sqlite.wait_for_rows(3).await;
        assert!(!task.is_finished(), "it keeps running");
        task.abort();

        assert!(
            clear_expired_every(sqlite.store.clone(), Duration::ZERO)
                .await
                .is_none(),
            "0 = off"
        );
        assert!(
            clear_expired_every(Store::memory(), Duration::from_millis(10))
                .await
                .is_none(),
            "memory: no task"
        );
    }
}
