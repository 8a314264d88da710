//! Where sessions live: the store that `--session-store` names, opened at start-up.
//!
//! Django keeps sessions in the database unless told otherwise, and so do we:
//! the default is a `SQLite` file. The other choices are Django's too: memory
//! (like its `locmem` cache, gone on restart), a cache in front of the database
//! (`cached_db`), and Redis, a server that several copies of the site can share.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::MemoryStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, CachingSessionStore, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{
    ClientLike, Config as RedisConfig, ConnectionConfig, PerformanceConfig, Pool, ReconnectPolicy,
};
use tower_sessions_sqlx_store::SqliteStore;
use tower_sessions_sqlx_store::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

/// The store used when `--session-store` is not given: a file next to where
/// the server runs, like Django's `db.sqlite3`.
pub const DEFAULT_STORE: &str = "sqlite://rango.sqlite3";

/// How many sessions the `--session-cache` keeps in memory.
const CACHE_CAPACITY: u64 = 10_000;

// ANCHOR: store
/// An opened session store, whatever kind `--session-store` named.
///
/// The session layer is generic over its store, but which store we run is
/// decided at start-up. Putting each kind behind the same shared handle keeps
/// `app` free of type parameters: `Store` passes every call on to the store
/// inside.
#[derive(Debug, Clone)]
pub struct Store(Arc<dyn SessionStore>);

impl Store {
    /// Wraps any session store (tests use one that fails on purpose).
    pub fn new(store: impl SessionStore) -> Self {
        Self(Arc::new(store))
    }

    /// Sessions in this process's memory: fast, and lost on restart.
    pub fn memory() -> Self {
        Self::new(MemoryStore::default())
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}
// ANCHOR_END: store

// ANCHOR: open
impl Store {
    /// Opens the store that `url` names, with a memory cache in front of it
    /// if `cache` is set (Django's `cached_db`).
    ///
    /// - `sqlite://PATH`: a `SQLite` file, created and migrated if needed;
    /// - `memory`: this process's memory;
    /// - `redis://HOST:PORT`: a Redis server, which must answer now.
    pub async fn open(url: &str, cache: bool) -> Result<Self, StoreError> {
        let fail = |problem: String| StoreError {
            url: redacted(url),
            problem,
        };
        let store = if url == "memory" {
            if cache {
                tracing::warn!("--session-cache in front of the memory store adds nothing");
            }
            Self::memory()
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Self::new(SqliteSessions::open(path).await.map_err(fail)?)
        } else if url.starts_with("redis://") {
            Self::new(open_redis(url).await.map_err(fail)?)
        } else {
            return Err(fail(
                "unknown kind of store; use sqlite://PATH, memory or redis://HOST:PORT".into(),
            ));
        };
        Ok(if cache { store.cached() } else { store })
    }

    /// This store with an in-process cache in front: reads of a session this
    /// process has seen cost no trip to the store; every write still goes
    /// through to it. With several servers the caches do not see each
    /// other's writes, so use it with one server, or with sticky sessions.
    fn cached(self) -> Self {
        let cache = MokaStore::new(Some(CACHE_CAPACITY));
        Self::new(CachingSessionStore::new(cache, self))
    }
}
// ANCHOR_END: open

// ANCHOR: sqlite
/// Sessions in a `SQLite` file, tuned for a web server.
///
/// `SQLite` lets any number of connections read but only one write at a time.
/// With its defaults a busy site is slow: in "rollback journal" mode a writer
/// blocks every reader, every commit waits for the disk twice, and writers
/// that find the database locked sleep and retry, so a few of them queueing
/// take hundreds of milliseconds. Three settings fix that:
///
/// - `journal_mode=WAL`: writes are appended to a log, so readers never wait
///   for a writer, nor a writer for readers.
/// - `synchronous=NORMAL`: with WAL, commits no longer wait for the disk; the
///   log is synced at checkpoints. A power cut may lose the last few session
///   writes but never corrupts the file, a fair trade for sessions.
/// - One connection does all the writing, so writers queue in our process,
///   in order, instead of polling `SQLite`'s lock; reads get a pool of their
///   own. The busy timeout stays as a safety net for other processes (a
///   `clearsessions` run, say) that write to the same file.
#[derive(Debug, Clone)]
struct SqliteSessions {
    reader: SqliteStore,
    writer: SqliteStore,
}

/// Connections for reading; each runs on its own thread.
const SQLITE_READERS: u32 = 4;

impl SqliteSessions {
    async fn open(path: &str) -> Result<Self, String> {
        if path.is_empty() {
            return Err("no file name after sqlite:// (try sqlite://rango.sqlite3)".into());
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal);
        let cannot = |err| format!("cannot open the SQLite database {path}: {err}");

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(cannot)?;
        let writer = SqliteStore::new(writer);
        // Django's `migrate`: create the sessions table if it is not there.
        writer.migrate().await.map_err(cannot)?;

        // WAL mode is stored in the file, so readers need not set it again.
        let reader = SqlitePoolOptions::new()
            .max_connections(SQLITE_READERS)
            .connect_with(options)
            .await
            .map_err(cannot)?;
        Ok(Self {
            reader: SqliteStore::new(reader),
            writer,
        })
    }
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.writer.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.writer.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.reader.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.writer.delete(id).await
    }
}
// ANCHOR_END: sqlite

// ANCHOR: redis
/// Connections to Redis; each carries many requests at once.
const REDIS_CONNECTIONS: usize = 4;

/// Sessions in Redis, which expires them by itself.
///
/// The client would normally keep retrying a server that does not answer;
/// at start-up that hides a typo in the URL, so the first connection must
/// succeed. Later, if Redis goes away, the client reconnects in the
/// background, and a request waits at most two seconds before it fails with
/// an error page.
async fn open_redis(url: &str) -> Result<RedisStore<Pool>, String> {
    let config = RedisConfig::from_url(url).map_err(|err| format!("not a Redis URL: {err}"))?;
    let performance = PerformanceConfig {
        default_command_timeout: Duration::from_secs(2),
        ..PerformanceConfig::default()
    };
    let connection = ConnectionConfig {
        connection_timeout: Duration::from_secs(5),
        ..ConnectionConfig::default()
    };
    let reconnect = ReconnectPolicy::new_constant(0, 500);
    let pool = Pool::new(
        config,
        Some(performance),
        Some(connection),
        Some(reconnect),
        REDIS_CONNECTIONS,
    )
    .map_err(|err| format!("cannot set up the Redis client: {err}"))?;
    // `fail_fast` is on by default: the first failure to connect ends `init`.
    pool.init()
        .await
        .map_err(|err| format!("cannot reach Redis: {err}"))?;
    Ok(RedisStore::new(pool))
}
// ANCHOR_END: redis

/// A store that could not be opened: which setting, and what went wrong.
#[derive(Debug)]
pub struct StoreError {
    url: String,
    problem: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the driver's message looked like.
        let problem = self
            .problem
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(
            f,
            "--session-store (RANGO_SESSION_STORE) {:?}: {problem}",
            self.url
        )
    }
}

impl std::error::Error for StoreError {}

/// `url` without the password it may carry (`redis://user:secret@host`),
/// fit for a log or an error message.
pub fn redacted(url: &str) -> String {
    let Some(rest) = url.strip_prefix("redis://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("redis://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_repeated_in_errors() {
        assert_eq!(
            redacted("redis://rango:hunter2@cache:6379/0"),
            "redis://rango:***@cache:6379/0"
        );
        assert_eq!(redacted("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redacted("sqlite://a@b.db"), "sqlite://a@b.db");
        assert_eq!(redacted("memory"), "memory");
    }

    #[tokio::test]
    async fn unknown_schemes_are_named_in_one_line() {
        let err = Store::open("postgres://localhost/rango", false)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--session-store (RANGO_SESSION_STORE) \"postgres://localhost/rango\": \
             unknown kind of store; use sqlite://PATH, memory or redis://HOST:PORT"
        );
    }
}
