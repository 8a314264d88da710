//! Sessions in this process's memory: Django's `cache` backend over the
//! local-memory cache. Fast, gone on restart, and bounded.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;
use moka::policy::EvictionPolicy;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// How many sessions the memory store (and the `--session-cache`) keeps at
/// most: about 12 MB of them.
pub const MEMORY_CAPACITY: u64 = 10_000;

/// Sessions in a Moka cache of at most `capacity` sessions, each dropped
/// when its expiry passes.
///
/// Every request without a cookie may start a session, as in Django, so a
/// store with no bound grows with every such request. When this one is
/// full, the session used least recently goes first: least recently used
/// (LRU), not Moka's default, which would rather turn away a new session
/// than drop one that was used more often. tower-sessions' own
/// `MemoryStore` has no bound and never deletes an expired session, and the
/// `tower-sessions-moka-store` crate cannot be told which to drop: hence
/// these few lines.
#[derive(Debug, Clone)]
pub struct MemoryStore(Cache<Id, Record>);

impl MemoryStore {
    /// A store of at most `capacity` sessions.
    pub fn new(capacity: u64) -> Self {
        Self(
            Cache::builder()
                .max_capacity(capacity)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(UntilExpiry)
                .build(),
        )
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new session never takes the place of one already there.
        while self.0.contains_key(&record.id) {
            record.id = Id::default();
        }
        self.0.insert(record.id, record.clone()).await;
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.insert(record.id, record.clone()).await;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.0.get(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.invalidate(id).await;
        Ok(())
    }
}

/// Keeps each session in the cache until its expiry date.
struct UntilExpiry;

impl UntilExpiry {
    fn left(record: &Record) -> Duration {
        (record.expiry_date - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or(Duration::ZERO)
    }
}

impl Expiry<Id, Record> for UntilExpiry {
    fn expire_after_create(&self, _: &Id, record: &Record, _: Instant) -> Option<Duration> {
        Some(Self::left(record))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        record: &Record,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(Self::left(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(minutes: i64) -> Record {
        Record {
            id: Id::default(),
            data: [("visits".to_owned(), 1.into())].into(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::minutes(minutes),
        }
    }

    /// A full store drops the session used least recently, and keeps
    /// taking new ones.
    #[tokio::test]
    async fn a_full_store_drops_the_least_recently_used_session() {
        let store = MemoryStore::new(3);
        let mut ids = Vec::new();
        for _ in 0..3 {
            let mut session = record(60);
            store.create(&mut session).await.unwrap();
            ids.push(session.id);
            // Moka records uses in the background: let it catch up.
            store.0.run_pending_tasks().await;
        }
        // The first is used again: now the second is the least recent.
        assert!(store.load(&ids[0]).await.unwrap().is_some());
        store.0.run_pending_tasks().await;
        let mut newest = record(60);
        store.create(&mut newest).await.unwrap();
        store.0.run_pending_tasks().await;

        assert!(store.load(&newest.id).await.unwrap().is_some(), "new: kept");
        assert!(store.load(&ids[0]).await.unwrap().is_some(), "used: kept");
        assert!(
            store.load(&ids[1]).await.unwrap().is_none(),
            "least recent: gone"
        );
        assert_eq!(store.0.entry_count(), 3);
    }

    #[tokio::test]
    async fn many_new_sessions_never_grow_it_past_its_capacity() {
        let store = MemoryStore::new(100);
        for _ in 0..1000 {
            store.create(&mut record(60)).await.unwrap();
        }
        store.0.run_pending_tasks().await;
        assert_eq!(store.0.entry_count(), 100);
    }

    #[tokio::test]
    async fn an_expired_session_is_gone() {
        let store = MemoryStore::new(10);
        let mut expired = record(-1);
        store.create(&mut expired).await.unwrap();
        assert!(store.load(&expired.id).await.unwrap().is_none());
    }
}
