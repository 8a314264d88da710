//! Sessions in this process's memory: Django's `cache` backend over the
//! local-memory cache. Fast, gone on restart, and bounded.

use std::num::NonZero;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use lru::LruCache;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::deleted;

/// How many sessions the memory store (and the `--session-cache`) keeps at
/// most. Stage 3 with a full store measured 13 MB resident, 8 MB more than
/// idle.
pub const MEMORY_CAPACITY: u64 = 10_000;

/// Sessions in a map of at most `capacity` sessions; when it is full, the
/// session used least recently goes first (LRU). An expired session is
/// never served, and is dropped when it is next asked for.
///
/// Every request without a cookie may start a session, as in Django, so a
/// store with no bound grows with every such request. tower-sessions' own
/// `MemoryStore` has no bound (and keeps expired sessions for ever), and the
/// `tower-sessions-moka-store` crate cannot be told to drop the least
/// recently used session: it would rather turn a new one away. Hence these
/// few lines over the `lru` crate. One lock for the whole map is enough: it
/// is held for a lookup or an insert, never across an `.await`.
#[derive(Debug, Clone)]
pub struct MemoryStore(Arc<Mutex<LruCache<Id, Record>>>);

impl MemoryStore {
    /// A store of at most `capacity` sessions (at least one).
    pub fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity)
            .ok()
            .and_then(NonZero::new)
            .unwrap_or(NonZero::<usize>::MIN);
        Self(Arc::new(Mutex::new(LruCache::new(capacity))))
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, LruCache<Id, Record>> {
        // A request that panicked holding the lock left the map whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MemoryStore {
    /// Keeps `record`, whether or not it was here: for the cache in front of
    /// another store, which may not have seen the session yet.
    pub(crate) fn put(&self, record: &Record) {
        self.sessions().put(record.id, record.clone());
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut sessions = self.sessions();
        // A new session never takes the place of one already there.
        while sessions.contains(&record.id) {
            record.id = Id::default();
        }
        sessions.put(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // A session deleted (or pushed out) since it was loaded stays gone.
        match self.sessions().get_mut(&record.id) {
            Some(stored) => {
                stored.clone_from(record);
                Ok(())
            }
            None => Err(deleted()),
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut sessions = self.sessions();
        let Some(record) = sessions.get(id) else {
            return Ok(None);
        };
        if record.expiry_date <= OffsetDateTime::now_utc() {
            sessions.pop(id);
            return Ok(None);
        }
        Ok(Some(record.clone()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sessions().pop(id);
        Ok(())
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
        }
        // The first is used again: now the second is the least recent.
        assert!(store.load(&ids[0]).await.unwrap().is_some());
        let mut newest = record(60);
        store.create(&mut newest).await.unwrap();

        assert!(store.load(&newest.id).await.unwrap().is_some(), "new: kept");
        assert!(store.load(&ids[0]).await.unwrap().is_some(), "used: kept");
        assert!(
            store.load(&ids[1]).await.unwrap().is_none(),
            "least recent: gone"
        );
        assert_eq!(store.sessions().len(), 3);
    }

    #[tokio::test]
    async fn many_new_sessions_never_grow_it_past_its_capacity() {
        let store = MemoryStore::new(100);
        for _ in 0..1000 {
            store.create(&mut record(60)).await.unwrap();
        }
        assert_eq!(store.sessions().len(), 100);
    }

    #[tokio::test]
    async fn an_expired_session_is_gone() {
        let store = MemoryStore::new(10);
        let mut expired = record(-1);
        store.create(&mut expired).await.unwrap();
        assert!(store.load(&expired.id).await.unwrap().is_none());
        assert!(store.sessions().is_empty(), "and dropped");
    }
}
