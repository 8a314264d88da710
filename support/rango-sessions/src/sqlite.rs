//! Sessions in a `SQLite` file: the default store, like Django's
//! `django.contrib.sessions.backends.db` on the default `db.sqlite3`.

use std::fmt;
use std::num::NonZero;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

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
///   log is synced only when it is copied back into the database file (a
///   "checkpoint", every thousand pages or so). A power cut may lose the
///   last few session writes but never corrupts the file, a fair trade for
///   sessions.
/// - One connection does all the writing, on a thread of its own, so writers
///   queue in our process, in order, instead of polling `SQLite`'s lock.
///
/// How requests reach the database matters as much. A session is read on
/// nearly every request, and reading it is quick: one row found by its key,
/// in pages `SQLite` keeps in memory, without waiting for the disk. Sending
/// that work to another thread and being woken with the answer, as an async
/// driver does (sqlx runs each `SQLite` connection on a thread of its own),
/// costs more than the read itself. So requests read directly, each on a
/// connection of its own: there is one per CPU, since that is how many
/// requests run at a time. This blocks the request's thread, which async
/// code normally must not do, but for a few microseconds, well under
/// tokio's rule of thumb of 10 to 100 between `.await`s.
///
/// Writes are different: a checkpoint does wait for the disk, and it comes
/// in the middle of whichever commit fills the log. So requests hand their
/// writes to the writing thread and `.await` the outcome. That thread takes
/// every write waiting (a queue of new visitors, say) and commits them
/// together, once: "group commit".
///
/// The table keeps each session's expiry as a Unix time in seconds, so that
/// finding expired sessions is a comparison of numbers.
#[derive(Debug, Clone)]
pub(crate) struct SqliteSessions(Arc<SqliteConnections>);

#[derive(Debug)]
struct SqliteConnections {
    /// Where requests queue their writes for the writing thread.
    writes: mpsc::Sender<Queued>,
    /// Fields are dropped in order: when the store goes, the queue closes
    /// first, so the thread commits what is left and closes its connection;
    /// this waits for that; then the readers close, and the last connection
    /// to close folds the log back into the database file and deletes it.
    _writer: Joined,
    readers: Box<[Mutex<Connection>]>,
}

/// A thread, waited for when this is dropped.
#[derive(Debug)]
struct Joined(Option<thread::JoinHandle<()>>);

impl Drop for Joined {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// The most writes committed at once.
const MOST_WRITES_AT_ONCE: usize = 64;

/// A change to the sessions table.
#[derive(Debug)]
enum Write {
    /// A new session, unless its id is taken already.
    Create {
        id: String,
        data: Vec<u8>,
        expires: i64,
    },
    /// A session's new data and expiry.
    Save {
        id: String,
        data: Vec<u8>,
        expires: i64,
    },
    /// A session ended: flushed, or its visitor logged out.
    Delete { id: String },
    /// Up to [`DELETE_AT_ONCE`] sessions that expired by `now`.
    DeleteExpired { now: i64 },
}

/// A write waiting for the writing thread, and where to say how it went:
/// how many rows it changed.
#[derive(Debug)]
struct Queued {
    write: Write,
    done: oneshot::Sender<session_store::Result<usize>>,
}

impl SqliteSessions {
    pub(crate) fn open(path: &str) -> Result<Self, String> {
        if path.is_empty() {
            return Err("no file name after sqlite:// (try sqlite://rango.sqlite3)".into());
        }
        let cannot =
            |err: &dyn fmt::Display| format!("cannot open the SQLite database {path}: {err}");
        let writing = connect(path).map_err(|err| cannot(&err))?;
        // WAL mode is stored in the file: this sets it for every connection.
        let mode: String = writing
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|err| cannot(&err))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(cannot(&format!("it stays in journal mode {mode}, not WAL")));
        }
        // Django's `migrate`: create the sessions table if it is not there.
        // Sessions are looked up by id only, so the id is the table's key
        // (`without rowid`): one index to search and to update, not two.
        writing
            .execute(
                "create table if not exists sessions \
                 (id text primary key not null, data blob not null, expiry_date integer not null) \
                 without rowid",
                (),
            )
            .map_err(|err| cannot(&err))?;

        let cpus = thread::available_parallelism().map_or(2, NonZero::get);
        let readers = (0..cpus)
            .map(|_| connect(path).map(Mutex::new))
            .collect::<rusqlite::Result<_>>()
            .map_err(|err| cannot(&err))?;
        let (writes, queue) = mpsc::channel(MOST_WRITES_AT_ONCE);
        let writing_thread = thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_all(writing, queue))
            .map_err(|err| cannot(&err))?;
        Ok(Self(Arc::new(SqliteConnections {
            writes,
            _writer: Joined(Some(writing_thread)),
            readers,
        })))
    }

    /// Runs `read` on a reader no one else is using, if there is one (there
    /// should be), or waits for the first.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> session_store::Result<T> {
        let readers = &self.0.readers;
        let db = readers
            .iter()
            .find_map(|reader| reader.try_lock().ok())
            // A request that panicked while reading left the connection
            // as good as ever: carry on.
            .unwrap_or_else(|| readers[0].lock().unwrap_or_else(PoisonError::into_inner));
        read(&db).map_err(|err| backend(&err))
    }

    /// Queues `write` for the writing thread and waits until it is
    /// committed; says how many rows it changed.
    async fn write(&self, write: Write) -> session_store::Result<usize> {
        let stopped = || session_store::Error::Backend("the SQLite writer has stopped".into());
        let (done, outcome) = oneshot::channel();
        let queued = Queued { write, done };
        self.0.writes.send(queued).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// Opens one connection with the settings above.
fn connect(path: &str) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    // Other processes (a `clearsessions` run, say) may write to the file
    // too: wait for them rather than fail at once.
    db.busy_timeout(Duration::from_secs(5))?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(db)
}

/// The writing thread: takes every write waiting, commits them together,
/// and tells each request how its write went.
fn write_all(mut db: Connection, mut queue: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MOST_WRITES_AT_ONCE);
    while queue.blocking_recv_many(&mut batch, MOST_WRITES_AT_ONCE) > 0 {
        let outcomes = commit(&mut db, batch.iter().map(|queued| &queued.write));
        for (queued, outcome) in batch.drain(..).zip(outcomes) {
            // A request that has gone away (its client hung up) need not
            // know.
            let _ = queued.done.send(outcome);
        }
    }
}

/// Runs `writes` in one transaction; the outcome of each, or the error
/// that stopped them all.
fn commit<'a>(
    db: &mut Connection,
    writes: impl ExactSizeIterator<Item = &'a Write>,
) -> Vec<session_store::Result<usize>> {
    let count = writes.len();
    let all_failed = |err: rusqlite::Error| (0..count).map(|_| Err(backend(&err))).collect();
    let transaction = match db.transaction() {
        Ok(transaction) => transaction,
        Err(err) => return all_failed(err),
    };
    let outcomes = writes
        .map(|write| write.run(&transaction).map_err(|err| backend(&err)))
        .collect();
    match transaction.commit() {
        Ok(()) => outcomes,
        Err(err) => all_failed(err),
    }
}

impl Write {
    /// Runs this write; says how many rows it changed.
    fn run(&self, db: &Connection) -> rusqlite::Result<usize> {
        match self {
            Self::Create { id, data, expires } => db
                .prepare_cached(
                    "insert into sessions (id, data, expiry_date) values (?1, ?2, ?3) \
                     on conflict (id) do nothing",
                )?
                .execute((id, data, expires)),
            Self::Save { id, data, expires } => db
                .prepare_cached(
                    "insert into sessions (id, data, expiry_date) values (?1, ?2, ?3) \
                     on conflict (id) do update set data = ?2, expiry_date = ?3",
                )?
                .execute((id, data, expires)),
            Self::Delete { id } => db
                .prepare_cached("delete from sessions where id = ?1")?
                .execute([id]),
            Self::DeleteExpired { now } => db
                .prepare_cached(DELETE_EXPIRED)?
                .execute((now, DELETE_AT_ONCE)),
        }
    }
}

/// A database error, as the session layer reports it.
fn backend(err: &rusqlite::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// A session record as the table stores it: `MessagePack`.
fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|err| session_store::Error::Encode(err.to_string()))
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new session never takes the place of one already there: a new
        // id that is somehow taken already gets another, never another
        // visitor's session.
        loop {
            let write = Write::Create {
                id: record.id.to_string(),
                data: encode(record)?,
                expires: record.expiry_date.unix_timestamp(),
            };
            if self.write(write).await? == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let write = Write::Save {
            id: record.id.to_string(),
            data: encode(record)?,
            expires: record.expiry_date.unix_timestamp(),
        };
        self.write(write).await.map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let data: Option<Vec<u8>> = self.read(|db| {
            db.prepare_cached("select data from sessions where id = ?1 and expiry_date > ?2")?
                .query_row((id.to_string(), now), |row| row.get(0))
                .optional()
        })?;
        data.map(|data| rmp_serde::from_slice(&data))
            .transpose()
            .map_err(|err| session_store::Error::Decode(err.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let write = Write::Delete { id: id.to_string() };
        self.write(write).await.map(drop)
    }
} // ANCHOR_END: sqlite

/// Deletes up to `?2` of the sessions `load` would no longer serve (its
/// test, `expiry_date > ?1`, turned round).
const DELETE_EXPIRED: &str = "delete from sessions where id in \
    (select id from sessions where expiry_date <= ?1 limit ?2)";

/// The most expired sessions deleted by one write.
const DELETE_AT_ONCE: u16 = 1000;

impl SqliteSessions {
    /// Deletes every expired session, and counts them.
    ///
    /// There may be a great many, and while they are deleted no request
    /// can store a session. So they go a thousand at a time, each batch
    /// queued like any other write, and requests' writes go in between.
    pub(crate) async fn delete_expired(&self) -> session_store::Result<u64> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut deleted = 0;
        loop {
            let batch = self.write(Write::DeleteExpired { now }).await?;
            deleted += batch as u64;
            if batch < usize::from(DELETE_AT_ONCE) {
                return Ok(deleted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path of a database file in `dir`.
    fn db_in(dir: &tempfile::TempDir) -> String {
        dir.path().join("sessions.sqlite3").display().to_string()
    }

    /// Many writers at once: the writing thread commits their writes in
    /// batches, and each write must land on its own session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_changes_each_land_on_their_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteSessions::open(&db_in(&dir)).unwrap();
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
    }

    /// A store closed by dropping its last handle leaves a tidy file: the
    /// log folded into it and deleted, every session still there.
    #[tokio::test]
    async fn a_dropped_store_closes_the_file_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let store = SqliteSessions::open(&db).unwrap();
        let mut record = Record {
            id: Id::default(),
            data: [("visits".to_owned(), 3.into())].into(),
            expiry_date: OffsetDateTime::now_utc() + Duration::from_secs(3600),
        };
        store.create(&mut record).await.unwrap();
        drop(store);

        let log = format!("{db}-wal");
        assert!(!std::path::Path::new(&log).exists(), "{log} is left over");
        let reopened = SqliteSessions::open(&db).unwrap();
        let loaded = reopened.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["visits"], 3);
    }

    /// A new session whose id is taken already gets another id, stored in
    /// its record too, and the session that had the id is left alone.
    #[tokio::test]
    async fn a_new_session_never_takes_an_existing_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteSessions::open(&db_in(&dir)).unwrap();
        let record = |who: &str, id| Record {
            id,
            data: [("who".to_owned(), who.into())].into(),
            expiry_date: OffsetDateTime::now_utc() + Duration::from_secs(3600),
        };
        let mut first = record("first", Id::default());
        store.create(&mut first).await.unwrap();
        let mut second = record("second", first.id);
        store.create(&mut second).await.unwrap();

        assert_ne!(second.id, first.id, "the second session got a new id");
        let kept = store.load(&first.id).await.unwrap().unwrap();
        assert_eq!(kept.data["who"], "first");
        let moved = store.load(&second.id).await.unwrap().unwrap();
        assert_eq!(moved.data["who"], "second");
        assert_eq!(moved.id, second.id, "the stored record carries its new id");
    }
}
