//! The store that `--session-store` names, opened at start-up: Django's
//! `SESSION_ENGINE`.
//!
//! Django keeps sessions in the database unless told otherwise, and so do we:
//! the default is a `SQLite` file. The other choices are Django's too: memory
//! (like its `locmem` cache, gone on restart), a cache in front of the database
//! (`cached_db`), and Redis, a server that several copies of the site can share.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use clap::builder::BoolishValueParser;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::memory::{MEMORY_CAPACITY, MemoryStore};
#[cfg(feature = "redis")]
use crate::redis::open_redis;
#[cfg(feature = "sqlite")]
use crate::sqlite::SqliteSessions;

/// The store used when `--session-store` is not given: a file next to where
/// the server runs, like Django's `db.sqlite3`.
pub const DEFAULT_STORE: &str = "sqlite://rango.sqlite3";

/// The flags that choose the session store. A stage's `Args` takes them in
/// with `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Where sessions live: `sqlite://PATH`, `memory` (at most 10,000 sessions, the least recently used dropped first) or `redis://HOST:PORT`.
    #[arg(long, env = "RANGO_SESSION_STORE", default_value = DEFAULT_STORE, global = true)]
    pub session_store: String,

    /// Keep recently used sessions in memory in front of the store (Django's `cached_db`).
    #[arg(long, env = "RANGO_SESSION_CACHE", value_parser = BoolishValueParser::new())]
    pub session_cache: bool,
}

impl StoreArgs {
    /// Opens the store these flags name.
    pub async fn open(&self) -> Result<Store, StoreError> {
        Store::open(&self.session_store, self.session_cache).await
    }
}

// ANCHOR: store
/// An opened session store, whatever kind `--session-store` named.
///
/// The session layer is generic over its store, but which store we run is
/// decided at start-up. Putting each kind behind the same shared handle keeps
/// a stage's `app` free of type parameters: `Store` passes every call on to
/// the store inside.
#[derive(Debug, Clone)]
pub struct Store {
    sessions: Arc<dyn SessionStore>,
    /// The `SQLite` database under `sessions`, if that is where they live:
    /// the one store here that keeps expired sessions until told otherwise.
    #[cfg(feature = "sqlite")]
    pub(crate) sqlite: Option<SqliteSessions>,
}

impl Store {
    /// Wraps any session store (tests use one that fails on purpose). It is
    /// taken to drop expired sessions by itself.
    pub fn new(store: impl SessionStore) -> Self {
        Self {
            sessions: Arc::new(store),
            #[cfg(feature = "sqlite")]
            sqlite: None,
        }
    }

    /// Sessions in this process's memory: fast, lost on restart, and at
    /// most [`MEMORY_CAPACITY`] of them (see [`MemoryStore`]).
    pub fn memory() -> Self {
        Self::new(MemoryStore::new(MEMORY_CAPACITY))
    }

    // ANCHOR_END: store
    // ANCHOR: open
    /// Opens the store that `url` names, with a memory cache in front of it
    /// if `cache` is set (Django's `cached_db`).
    ///
    /// - `sqlite://PATH`: a `SQLite` file, created and migrated if needed;
    /// - `memory`: this process's memory;
    /// - `redis://HOST:PORT`: a Redis server, which must answer now.
    pub async fn open(url: &str, cache: bool) -> Result<Self, StoreError> {
        Self::open_with(url, cache, Create::IfMissing).await
    }

    /// Opens the store that `url` names, as it is: a `SQLite` file that is
    /// not there is an error, not a new file. For `clearsessions`, which
    /// has nothing to clear in a file it would have to create.
    pub async fn open_existing(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, false, Create::Never).await
    }

    async fn open_with(url: &str, cache: bool, create: Create) -> Result<Self, StoreError> {
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
            Self::sqlite(path, create).map_err(fail)?
        } else if url.starts_with("redis://") {
            Self::redis(url).await.map_err(fail)?
        } else {
            return Err(fail(
                "unknown kind of store; use sqlite://PATH, memory or redis://HOST:PORT".into(),
            ));
        };
        tracing::info!(store = %redacted(url), cache, "sessions ready");
        Ok(if cache { store.cached() } else { store })
    }

    /// This store with an in-process cache in front: reads of a session this
    /// process has seen cost no trip to the store; every write still goes
    /// through to it. With several servers the caches do not see each
    /// other's writes, so use it with one server, or with sticky sessions.
    fn cached(self) -> Self {
        let cache = MemoryStore::new(MEMORY_CAPACITY);
        Self {
            #[cfg(feature = "sqlite")]
            sqlite: self.sqlite.clone(),
            ..Self::new(Cached { cache, store: self })
        }
    }
    // ANCHOR_END: open

    #[cfg(feature = "sqlite")]
    fn sqlite(path: &str, create: Create) -> Result<Self, String> {
        let sessions = SqliteSessions::open(path, create)?;
        Ok(Self {
            sqlite: Some(sessions.clone()),
            ..Self::new(sessions)
        })
    }

    #[cfg(feature = "redis")]
    async fn redis(url: &str) -> Result<Self, String> {
        Ok(Self::new(open_redis(url).await?))
    }

    // A stage built without a store's feature (stages 1 and 2 keep sessions
    // in memory) says so, rather than failing to compile its callers.
    #[cfg(not(feature = "sqlite"))]
    #[allow(clippy::unnecessary_wraps)]
    fn sqlite(_path: &str, _create: Create) -> Result<Self, String> {
        Err(missing_feature("sqlite"))
    }

    #[cfg(not(feature = "redis"))]
    #[allow(clippy::unused_async)]
    async fn redis(_url: &str) -> Result<Self, String> {
        Err(missing_feature("redis"))
    }
}

/// Why a store this build leaves out cannot be opened.
#[cfg(not(all(feature = "sqlite", feature = "redis")))]
fn missing_feature(feature: &str) -> String {
    format!(
        "this program is built without the {feature} store (rango-sessions' `{feature}` feature)"
    )
}

/// Whether [`Store::open`] may create a `SQLite` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    /// A missing file is created: a server's first start.
    IfMissing,
    /// A missing file is an error: `clearsessions sqlite://typo.db` should
    /// say so, not create `typo.db` and report that it deleted nothing.
    Never,
}

/// A memory cache in front of a store: Django's `cached_db`.
///
/// tower-sessions' own `CachingSessionStore` saves to the cache and to the
/// store at the same time, so a save the store refuses (the session was
/// deleted meanwhile) would still put the session back in the cache, to be
/// served from there. Here the cache follows the store: it is written only
/// once the store has taken the write, and emptied after the store is.
#[derive(Debug, Clone)]
struct Cached {
    cache: MemoryStore,
    store: Store,
}

#[async_trait]
impl SessionStore for Cached {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await?;
        self.cache.put(record);
        Ok(())
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await?;
        self.cache.put(record);
        Ok(())
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.load(id).await? {
            return Ok(Some(record));
        }
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            self.cache.put(record);
        }
        Ok(record)
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await?;
        self.cache.delete(id).await
    }
}

/// What a store's `save` answers when the session is no longer there: it
/// was deleted (forgotten, cleared, expired) while this request was in
/// flight. Saving it anyway would bring it back.
pub(crate) fn deleted() -> session_store::Error {
    session_store::Error::Backend(DELETED.into())
}

const DELETED: &str = "the session was deleted before the request completed";

/// Every store's expiry goes up to the next whole second on its way in:
/// `SQLite` and Redis keep whole seconds, and cutting a session's expiry
/// down would end it up to a second before its cookie does.
#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.expiry_date = whole_second_up(record.expiry_date);
        self.sessions.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let rounded = whole_second_up(record.expiry_date);
        let saved = if rounded == record.expiry_date {
            self.sessions.save(record).await
        } else {
            let record = Record {
                expiry_date: rounded,
                ..record.clone()
            };
            self.sessions.save(&record).await
        };
        // Django answers this with a 400 page (`SessionInterrupted`); the
        // session layer can only answer an empty 500, so tell the page
        // around it which failure this was.
        if matches!(&saved, Err(session_store::Error::Backend(why)) if why == DELETED) {
            rango_site::pages::session_interrupted();
        }
        saved
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.sessions.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sessions.delete(id).await
    }
}

/// `when`, or the next whole second after it.
fn whole_second_up(when: OffsetDateTime) -> OffsetDateTime {
    let down = when.replace_nanosecond(0).unwrap_or(when);
    if down == when {
        when
    } else {
        down.saturating_add(time::Duration::SECOND)
    }
}

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

impl Error for StoreError {}

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
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::testing::{Kind, fill, record_expiring_later_this_second};

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        sessions: StoreArgs,
    }

    /// What `--session-store URL` comes to: the store, or the error line.
    async fn open(url: &str) -> Result<Store, String> {
        let args = Args::try_parse_from(["rango", "--session-store", url]).unwrap();
        args.sessions.open().await.map_err(|err| err.to_string())
    }

    #[test]
    fn the_flags_default_to_a_sqlite_file_and_read_the_environment() {
        let args = Args::try_parse_from(["rango"]).unwrap();
        assert_eq!(args.sessions.session_store, "sqlite://rango.sqlite3");
        assert!(!args.sessions.session_cache);
        let command = Args::command();
        let env = |id: &str| {
            let arg = command.get_arguments().find(|arg| arg.get_id() == id);
            arg.unwrap().get_env().unwrap().to_str().unwrap().to_owned()
        };
        assert_eq!(env("session_store"), "RANGO_SESSION_STORE");
        assert_eq!(env("session_cache"), "RANGO_SESSION_CACHE");
    }

    /// A store that cannot be opened is refused with one line that names
    /// the setting and the problem.
    #[tokio::test]
    async fn a_store_that_cannot_be_opened_is_a_one_line_error() {
        let dir = tempfile::tempdir().unwrap();
        // A file where a directory should be: no database can be created below it.
        let not_a_dir = dir.path().join("plain-file");
        std::fs::write(&not_a_dir, "").unwrap();
        let not_a_database = dir.path().join("notes.sqlite3");
        std::fs::write(&not_a_database, "these are my notes, not a database").unwrap();
        // A port nobody listens on.
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();

        let cases = [
            ("postgres://localhost/rango", "unknown kind of store"),
            ("rango.sqlite3", "unknown kind of store"),
            ("sqlite://", "no file name after sqlite://"),
            (
                &format!("sqlite://{}", not_a_dir.join("rango.sqlite3").display()),
                "cannot open the SQLite database",
            ),
            (
                &format!("sqlite://{}", not_a_database.display()),
                "cannot open the SQLite database",
            ),
            (
                &format!("redis://127.0.0.1:{closed_port}"),
                "cannot reach Redis",
            ),
            ("redis://:6379", "not a Redis URL"),
        ];
        for (url, problem) in cases {
            let err = open(url).await.unwrap_err();
            assert_eq!(err.lines().count(), 1, "{url}: one line, got: {err}");
            assert!(
                err.starts_with(&format!("--session-store (RANGO_SESSION_STORE) {url:?}: ")),
                "{url}: {err}"
            );
            assert!(err.contains(problem), "{url}: {err}");
        }
    }

    /// The cache writes through: a store opened without it finds the session.
    #[tokio::test]
    async fn the_cache_in_front_of_sqlite_writes_through() {
        let sqlite = Kind::Sqlite.open().await;
        let cached = Store::open(&sqlite.url(), true).await.unwrap();
        let (_, live) = fill(&cached, 0, 1).await;
        drop(cached);
        let plain = Store::open(&sqlite.url(), false).await.unwrap();
        let record = plain.load(&live[0]).await.unwrap();
        assert_eq!(record.unwrap().data["visits"], 1);
    }

    crate::on_each_store! {
        /// A session is served until its expiry, not up to a second before.
        async fn a_session_lasts_to_its_expiry_not_the_second_before(kind: Kind) {
            let sessions = kind.open().await;
            let mut record = record_expiring_later_this_second().await;
            sessions.store.create(&mut record).await.unwrap();
            assert!(
                sessions.store.load(&record.id).await.unwrap().is_some(),
                "created, then cut short"
            );
            record.data.insert("visits".to_owned(), 2.into());
            record.expiry_date = record_expiring_later_this_second().await.expiry_date;
            sessions.store.save(&record).await.unwrap();
            let loaded = sessions.store.load(&record.id).await.unwrap();
            assert_eq!(loaded.expect("saved, then cut short").data["visits"], 2);
        }
    }

    #[test]
    fn expiry_dates_go_up_to_the_next_whole_second() {
        let at = |seconds, nanos| {
            OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
        };
        assert_eq!(whole_second_up(at(100, 970_000_000)), at(101, 0));
        assert_eq!(whole_second_up(at(100, 1)), at(101, 0));
        assert_eq!(whole_second_up(at(100, 0)), at(100, 0));
    }

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
