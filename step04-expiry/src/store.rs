//! Where sessions live: the store that `--session-store` names, opened at start-up.
//!
//! Django keeps sessions in the database unless told otherwise, and so do we:
//! the default is a `SQLite` file. The other choices are Django's too: memory
//! (like its `locmem` cache, gone on restart), a cache in front of the database
//! (`cached_db`), and Redis, a server that several copies of the site can share.
//!
//! Sessions expire, and only the `SQLite` store keeps expired ones until told
//! to delete them: [`Store::clear_expired`] is Django's `clearsessions`.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, MutexGuard, mpsc, oneshot};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, CachingSessionStore, SessionStore};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{
    ClientLike, Config as RedisConfig, ConnectionConfig, PerformanceConfig, Pool, ReconnectPolicy,
};
use tower_sessions_sqlx_store::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use tower_sessions_sqlx_store::sqlx::{self, ConnectOptions, QueryBuilder};

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
pub struct Store {
    sessions: Arc<dyn SessionStore>,
    /// The `SQLite` database under `sessions`, if that is where they live:
    /// the one store here that keeps expired sessions until told otherwise.
    sqlite: Option<SqliteSessions>,
}

impl Store {
    /// Wraps any session store (tests use one that fails on purpose). It is
    /// taken to drop expired sessions by itself.
    pub fn new(store: impl SessionStore) -> Self {
        Self {
            sessions: Arc::new(store),
            sqlite: None,
        }
    }

    /// Sessions in this process's memory: fast, and lost on restart.
    ///
    /// A Moka cache rather than tower-sessions' `MemoryStore`, which never
    /// deletes a session, so a server running for months would fill up with
    /// expired ones. Moka drops each session when its expiry passes.
    pub fn memory() -> Self {
        Self::new(MokaStore::new(None))
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.sessions.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.sessions.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.sessions.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sessions.delete(id).await
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
            let sessions = SqliteSessions::open(path).await.map_err(fail)?;
            Self {
                sqlite: Some(sessions.clone()),
                ..Self::new(sessions)
            }
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
        Self {
            sqlite: self.sqlite.clone(),
            ..Self::new(CachingSessionStore::new(cache, self))
        }
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
///   in order, instead of polling `SQLite`'s lock; reads get connections of
///   their own. The busy timeout stays as a safety net for other processes
///   (a `clearsessions` run, say) that write to the same file.
///
/// Then how we talk to the database. Each sqlx `SQLite` connection runs on a
/// thread of its own, and every statement is a round trip to that thread:
/// quick, but with one writer the round trips of all the writers add up, and
/// the pool and `SqliteStore` add more (a connection given back to a pool is
/// pinged; a new session is `BEGIN`, `INSERT`, `COMMIT`). So this store keeps
/// its connections for itself. Readers take turns on theirs. Writers hand
/// their change to a task that owns the writing connection; it takes every
/// change waiting (a whole queue of new visitors, say) and stores them with
/// one statement, one round trip and one commit: "group commit". With 16
/// new visitors at once that stores about twice the sessions a second of a
/// statement per change, and five times those of `SqliteStore` on a pool
/// (`bench/run` measures it).
///
/// The table is the one `tower-sessions-sqlx-store` uses (same name, columns
/// and encoding), so its `SqliteStore` can open the same file.
#[derive(Debug, Clone)]
struct SqliteSessions(Arc<SqliteConnections>);

#[derive(Debug)]
struct SqliteConnections {
    /// Where writers queue their changes for the writing task.
    changes: mpsc::Sender<Change>,
    readers: Vec<Mutex<SqliteConnection>>,
    /// Which reader the next read goes to: each in turn.
    next_reader: AtomicUsize,
}

/// Connections for reading; each runs on its own thread.
const SQLITE_READERS: usize = 2;

/// The most changes stored with one statement.
const MOST_CHANGES_AT_ONCE: usize = 64;

/// A change to the sessions table, waiting for the writing task.
#[derive(Debug)]
struct Change {
    kind: ChangeKind,
    id: String,
    /// The record, encoded; empty for a deletion.
    data: Vec<u8>,
    expiry_date: OffsetDateTime,
    /// Where to say how it went: `Ok(true)` stored, `Ok(false)` the id of a
    /// new session was taken already.
    done: oneshot::Sender<session_store::Result<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChangeKind {
    Create,
    Save,
    Delete,
}

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

        let mut writer = options
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await
            .map_err(cannot)?;
        // Django's `migrate`: create the sessions table if it is not there.
        sqlx::query(
            "create table if not exists tower_sessions \
             (id text primary key not null, data blob not null, expiry_date integer not null)",
        )
        .execute(&mut writer)
        .await
        .map_err(cannot)?;

        // WAL mode is stored in the file, so readers need not set it again.
        let mut readers = Vec::new();
        for _ in 0..SQLITE_READERS {
            readers.push(Mutex::new(options.connect().await.map_err(cannot)?));
        }
        // The task ends when the last handle on this store is dropped.
        let (changes, queue) = mpsc::channel(MOST_CHANGES_AT_ONCE);
        tokio::spawn(write_changes(writer, queue));
        Ok(Self(Arc::new(SqliteConnections {
            changes,
            readers,
            next_reader: AtomicUsize::new(0),
        })))
    }

    async fn reader(&self) -> MutexGuard<'_, SqliteConnection> {
        let turn = self.0.next_reader.fetch_add(1, Ordering::Relaxed);
        self.0.readers[turn % self.0.readers.len()].lock().await
    }

    /// Queues a change for the writing task and waits until it is stored.
    async fn write(
        &self,
        kind: ChangeKind,
        id: &Id,
        record: Option<&Record>,
    ) -> session_store::Result<bool> {
        let stopped = || session_store::Error::Backend("the SQLite writer has stopped".into());
        let (done, outcome) = oneshot::channel();
        let change = Change {
            kind,
            id: id.to_string(),
            data: record.map(encode).transpose()?.unwrap_or_default(),
            expiry_date: record.map_or(OffsetDateTime::UNIX_EPOCH, |record| record.expiry_date),
            done,
        };
        self.0.changes.send(change).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// The writing task: takes every change waiting, stores each run of
/// changes of one kind with one statement, and tells each writer how it went.
async fn write_changes(mut db: SqliteConnection, mut queue: mpsc::Receiver<Change>) {
    let mut changes = Vec::with_capacity(MOST_CHANGES_AT_ONCE);
    while queue.recv_many(&mut changes, MOST_CHANGES_AT_ONCE).await > 0 {
        let mut outcomes = Vec::with_capacity(changes.len());
        for run in changes.chunk_by(|a, b| a.kind == b.kind) {
            match store_run(&mut db, run).await {
                Ok(stored) => outcomes.extend(stored.into_iter().map(Ok)),
                Err(err) => outcomes.extend(run.iter().map(|_| Err(backend(&err)))),
            }
        }
        for (change, outcome) in changes.drain(..).zip(outcomes) {
            // A writer that has gone away (its request was cancelled) does
            // not need to know.
            let _ = change.done.send(outcome);
        }
    }
}

/// Stores changes of one kind with one statement; says for each whether it
/// was stored.
async fn store_run(db: &mut SqliteConnection, run: &[Change]) -> sqlx::Result<Vec<bool>> {
    let mut query = QueryBuilder::new("");
    match run[0].kind {
        ChangeKind::Create => {
            // A new session never takes the place of one already there.
            query.push("insert into tower_sessions (id, data, expiry_date) ");
            query.push_values(run, |mut row, change| {
                row.push_bind(&change.id)
                    .push_bind(&change.data)
                    .push_bind(change.expiry_date);
            });
            query.push(" on conflict (id) do nothing returning id");
            let mut inserted: HashSet<String> = query
                .build_query_scalar()
                .fetch_all(&mut *db)
                .await?
                .into_iter()
                .collect();
            // `remove`: should one id come twice, only the first got in.
            Ok(run
                .iter()
                .map(|change| inserted.remove(&change.id))
                .collect())
        }
        ChangeKind::Save => {
            // Should one session come twice, the later change wins.
            query.push("insert or replace into tower_sessions (id, data, expiry_date) ");
            query.push_values(run, |mut row, change| {
                row.push_bind(&change.id)
                    .push_bind(&change.data)
                    .push_bind(change.expiry_date);
            });
            query.build().execute(&mut *db).await?;
            Ok(vec![true; run.len()])
        }
        ChangeKind::Delete => {
            query.push("delete from tower_sessions where id in (");
            let mut ids = query.separated(", ");
            for change in run {
                ids.push_bind(&change.id);
            }
            query.push(")");
            query.build().execute(&mut *db).await?;
            Ok(vec![true; run.len()])
        }
    }
}

/// A database error, as the session layer reports it.
fn backend(err: &sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// A session record as the table stores it: `MessagePack`.
fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|err| session_store::Error::Encode(err.to_string()))
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new id that is somehow taken already gets another, never
        // another visitor's session.
        while !self
            .write(ChangeKind::Create, &record.id, Some(record))
            .await?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(ChangeKind::Save, &record.id, Some(record))
            .await
            .map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("select data from tower_sessions where id = ? and expiry_date > ?")
                .bind(id.to_string())
                .bind(OffsetDateTime::now_utc())
                .fetch_optional(&mut *self.reader().await)
                .await
                .map_err(|err| backend(&err))?;
        data.map(|data| rmp_serde::from_slice(&data))
            .transpose()
            .map_err(|err| session_store::Error::Decode(err.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.write(ChangeKind::Delete, id, None).await.map(drop)
    }
}
// ANCHOR_END: sqlite

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
    /// served again), so expired rows pile up until deleted. The other stores
    /// need no help: Moka (memory, and the cache) drops each session when it
    /// expires, and Redis stores each one with a time to live.
    pub async fn clear_expired(&self) -> session_store::Result<Cleared> {
        match &self.sqlite {
            Some(sqlite) => sqlite.delete_expired().await.map(Cleared::Deleted),
            None => Ok(Cleared::ByItself),
        }
    }
}

impl SqliteSessions {
    /// Deletes every session `load` would no longer serve (its test,
    /// `expiry_date > now`, turned round), and counts them.
    /// (`SqliteStore::delete_expired` deletes them too, but says not how many.)
    /// Any connection may write; the busy timeout waits for the writing task.
    async fn delete_expired(&self) -> session_store::Result<u64> {
        let deleted = sqlx::query("delete from tower_sessions where expiry_date <= ?")
            .bind(OffsetDateTime::now_utc())
            .execute(&mut *self.reader().await)
            .await
            .map_err(|err| backend(&err))?;
        Ok(deleted.rows_affected())
    }
}
// ANCHOR_END: clear_expired

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

    /// Many writers at once: the writing task stores their changes in
    /// batches, and each change must land on its own session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_changes_each_land_on_their_session() {
        let path = std::env::temp_dir().join(format!("rango-store-{}.sqlite3", std::process::id()));
        let store = SqliteSessions::open(path.to_str().unwrap()).await.unwrap();
        let mut writers = tokio::task::JoinSet::new();
        for n in 0..64_u64 {
            let store = store.clone();
            writers.spawn(async move {
                let mut record = Record {
                    id: Id::default(),
                    data: [("n".to_owned(), n.into())].into(),
                    expiry_date: OffsetDateTime::now_utc() + Duration::from_secs(3600),
                };
                store.create(&mut record).await.unwrap();
                record.data.insert("n".to_owned(), (n + 1000).into());
                store.save(&record).await.unwrap();
                if n % 2 == 1 {
                    store.delete(&record.id).await.unwrap();
                }
                (n, record.id)
            });
        }
        for (n, id) in writers.join_all().await {
            let loaded = store.load(&id).await.unwrap();
            if n % 2 == 1 {
                assert!(loaded.is_none(), "session {n} was deleted");
            } else {
                assert_eq!(loaded.unwrap().data["n"], n + 1000, "session {n}");
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
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
