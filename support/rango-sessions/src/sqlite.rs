//! Sessions in a `SQLite` file: the default store, like Django's
//! `django.contrib.sessions.backends.db` on the default `db.sqlite3`.

use std::fmt;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::{Create, deleted};

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
///   "checkpoint"). A power cut may lose the last few session writes but
///   never corrupts the file, a fair trade for sessions.
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
/// While a checkpoint waits for the disk, every write waits behind it. So a
/// third thread does most of that work early, a quarter of the log at a
/// time, while writes go on; the writing thread, when the log is full,
/// waits only for that thread's pass and copies the little that is left.
/// (The writing thread must do that last step: the log can start again
/// from its beginning only once all of it is copied, which never happens
/// while writes go on.)
///
/// The table keeps each session's data as JSON text, as Django's
/// `JSONSerializer` does, so `select data from sessions` shows what the
/// session holds; and its expiry as a Unix time in seconds, so that finding
/// expired sessions is a comparison of numbers.
#[derive(Debug, Clone)]
pub(crate) struct SqliteSessions(Arc<SqliteConnections>);

#[derive(Debug)]
struct SqliteConnections {
    /// Where requests queue their writes for the writing thread.
    writes: mpsc::Sender<Queued>,
    /// Fields are dropped in order: when the store goes, the queue closes
    /// first, so the thread commits what is left, closes its connection and
    /// waits for the checkpointing thread to close its own; this waits for
    /// that; then the readers close, and the last connection to close folds
    /// the log back into the database file and deletes it.
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

/// Every this many pages added to the log, the checkpointing thread
/// copies it back into the database file.
const EARLY_PAGES: i32 = 250;

/// Pages in the log at which the writing thread copies what is left
/// itself, so that the log starts again from its beginning: `SQLite`'s own
/// default for its automatic checkpoint.
const CHECKPOINT_PAGES: i32 = 1000;

/// The most writes committed at once.
const MOST_WRITES_AT_ONCE: usize = 64;

/// A change to the sessions table.
#[derive(Debug)]
enum Write {
    /// A new session, unless its id is taken already.
    Create {
        id: String,
        data: String,
        expires: i64,
    },
    /// A session's new data and expiry, if the session is still there.
    Save {
        id: String,
        data: String,
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
    /// Opens the sessions in the file at `path`, after checking that it is
    /// one this store can use: a database, with the sessions table in the
    /// shape this store writes, undamaged, and writable. A file that is not
    /// is refused here, in one line, rather than with an error page on
    /// every visit.
    pub(crate) fn open(path: &str, create: Create) -> Result<Self, String> {
        if path.is_empty() {
            return Err("no file name after sqlite:// (try sqlite://rango.sqlite3)".into());
        }
        if create == Create::Never && !Path::new(path).exists() {
            return Err(format!("there is no database at {path}"));
        }
        let cannot =
            |err: &dyn fmt::Display| format!("cannot open the SQLite database {path}: {err}");
        let mut writing = connect(path).map_err(|err| cannot(&err))?;
        // WAL mode is stored in the file: this sets it for every connection.
        let mode: String = writing
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|err| cannot(&err))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(cannot(&format!("it stays in journal mode {mode}, not WAL")));
        }
        check_shape(&writing, path)?;
        // Django's `migrate`: create the sessions table if it is not there.
        // Sessions are looked up by id only, so the id is the table's key
        // (`without rowid`): one index to search and to update, not two.
        writing
            .execute(
                "create table if not exists sessions \
                 (id text primary key not null, data text not null, expiry_date integer not null) \
                 without rowid",
                (),
            )
            .map_err(|err| cannot(&err))?;
        check_intact(&writing, path)?;
        check_writable(&writing, path)?;
        let file = WatchedFile::new(path);

        let cpus = thread::available_parallelism().map_or(2, NonZero::get);
        let readers = (0..cpus)
            .map(|_| connect(path).map(Mutex::new))
            .collect::<rusqlite::Result<_>>()
            .map_err(|err| cannot(&err))?;
        // One checkpoint at a time, whichever thread runs it.
        let one_pass = Arc::new(Mutex::new(()));
        let checkpointing = connect(path).map_err(|err| cannot(&err))?;
        let (wake, woken) = std::sync::mpsc::sync_channel(1);
        let pass = Arc::clone(&one_pass);
        let checkpointing_thread = thread::Builder::new()
            .name("sqlite-checkpointer".into())
            .spawn(move || checkpoint_early(&checkpointing, &woken, &pass))
            .map_err(|err| cannot(&err))?;
        // Where the log stood when the checkpointing thread was last woken.
        let mut woken_at = 0;
        // Called after each commit with the number of pages in the log. It
        // takes the place of SQLite's own automatic checkpoint.
        writing
            .wal_hook(Some(move |wal: &mut Wal, pages| {
                if pages >= CHECKPOINT_PAGES {
                    // Wait for the other thread's pass, then copy what is
                    // left, so that the next commit starts the log again from
                    // its beginning. Whatever the outcome, as SQLite's own
                    // checkpoint: a failed one is tried again next commit.
                    let _pass = one_pass.lock().unwrap_or_else(PoisonError::into_inner);
                    let _ = wal.checkpoint();
                } else if pages < woken_at {
                    // The log has started again from its beginning.
                    woken_at = 0;
                } else if pages >= woken_at + EARLY_PAGES {
                    woken_at = pages;
                    // If the one-place queue is full, a pass is to come
                    // anyway: this one is not needed.
                    let _ = wake.try_send(());
                }
                Ok(())
            }))
            .map_err(|err| cannot(&err))?;
        let (writes, queue) = mpsc::channel(MOST_WRITES_AT_ONCE);
        let writing_thread = thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                write_all(writing, queue, file);
                // The writing connection, and with it `wake`, is gone: the
                // checkpointing thread stops too.
                drop(Joined(Some(checkpointing_thread)));
            })
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

/// The columns of the sessions table, in order.
const COLUMNS: [&str; 3] = ["id", "data", "expiry_date"];

/// Refuses a file whose `sessions` table has other columns than ours:
/// something else's table of that name, which we must not write into; or
/// ours as an earlier version of this store wrote it, with the data in
/// `MessagePack` (a `blob` column), which this one no longer reads.
fn check_shape(db: &Connection, path: &str) -> Result<(), String> {
    let columns = db
        .prepare("select name, type from pragma_table_info('sessions')")
        .and_then(|mut query| {
            query
                .query_map((), |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>()
        })
        .map_err(|err| format!("cannot read the tables of {path}: {err}"))?;
    let (columns, types): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
    if columns.is_empty() || columns == COLUMNS && types[1].eq_ignore_ascii_case("text") {
        return Ok(());
    }
    if columns == COLUMNS {
        return Err(format!(
            "{path} holds sessions in the MessagePack encoding of an earlier version \
             of this store; this one keeps them as JSON. They are only visit counts: \
             delete the file (or give --session-store another one) to start afresh"
        ));
    }
    Err(format!(
        "the table sessions in {path} has the columns ({}), not ({}): it holds \
         something else; give --session-store another file",
        columns.join(", "),
        COLUMNS.join(", ")
    ))
}

/// Refuses a damaged file, before any visitor meets the damage. `SQLite`'s
/// `quick_check` reads every page (it is quick next to `integrity_check`,
/// which also checks every index against its table).
fn check_intact(db: &Connection, path: &str) -> Result<(), String> {
    let verdict: String = db
        .query_row("pragma quick_check", (), |row| row.get(0))
        .map_err(|err| format!("{path} is damaged: {err}"))?;
    if verdict == "ok" {
        return Ok(());
    }
    // One line: SQLite's report has several.
    let verdict = verdict.split_whitespace().collect::<Vec<_>>().join(" ");
    Err(format!(
        "{path} is damaged (SQLite's quick_check says: {verdict}); restore it from \
         a copy, or give --session-store another file"
    ))
}

/// Refuses a file this process can read but not write (a read-only file,
/// or one on a read-only disk): every visit would fail to save. `SQLite`
/// opens such a file read-only rather than fail, and says so when asked.
fn check_writable(db: &Connection, path: &str) -> Result<(), String> {
    match db.is_readonly(rusqlite::MAIN_DB) {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!(
            "cannot write to {path}: it is read-only for this process"
        )),
        Err(err) => Err(format!("cannot write to {path}: {err}")),
    }
}

/// The file a store writes to, watched in case it is deleted or replaced
/// while the server runs: `SQLite` would go on writing into a file no longer
/// at the path, and every session written would be lost on restart.
#[derive(Debug)]
struct WatchedFile {
    path: PathBuf,
    identity: Option<FileIdentity>,
    checked: Instant,
    /// Why writes are refused, once the file is gone.
    gone: Option<String>,
}

/// How often the writing thread looks at the file: soon after a deletion,
/// yet not on every commit.
const LOOK_EVERY: Duration = if cfg!(test) {
    Duration::ZERO
} else {
    Duration::from_secs(1)
};

impl WatchedFile {
    fn new(path: &str) -> Self {
        Self {
            path: path.into(),
            identity: FileIdentity::of(Path::new(path)),
            checked: Instant::now(),
            gone: None,
        }
    }

    /// Whether the file at the path is still the one open; why not, if not.
    fn still_there(&mut self) -> Result<(), String> {
        if self.gone.is_none() && self.checked.elapsed() >= LOOK_EVERY {
            self.checked = Instant::now();
            if FileIdentity::of(&self.path) != self.identity {
                let why = format!(
                    "the database {} was deleted or replaced while the server ran, \
                     so sessions written now would be lost: restart the server",
                    self.path.display()
                );
                tracing::error!("{why}");
                self.gone = Some(why);
            }
        }
        self.gone.clone().map_or(Ok(()), Err)
    }
}

/// What tells one file from another at the same path: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity(u64, u64);

impl FileIdentity {
    #[cfg(unix)]
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(Self(meta.dev(), meta.ino()))
    }

    /// Elsewhere files cannot be told apart so cheaply: only a missing file
    /// is noticed.
    #[cfg(not(unix))]
    fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path).ok().map(|_| Self(0, 0))
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

/// The checkpointing thread: each time the writing thread says the log has
/// grown by another [`EARLY_PAGES`], copies what it can of it back into the
/// database file (a "passive" checkpoint, which never stops a writer).
fn checkpoint_early(db: &Connection, woken: &std::sync::mpsc::Receiver<()>, one_pass: &Mutex<()>) {
    while woken.recv().is_ok() {
        let _pass = one_pass.lock().unwrap_or_else(PoisonError::into_inner);
        match db.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            // Another process (a `clearsessions` run) is checkpointing.
            Err(err) if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
            Err(err) => tracing::warn!("SQLite checkpoint failed: {err}"),
            Ok(_) => {}
        }
    }
}

/// The writing thread: takes every write waiting, commits them together,
/// and tells each request how its write went. Once the file is gone, it
/// refuses every write instead.
fn write_all(db: Connection, mut queue: mpsc::Receiver<Queued>, mut file: WatchedFile) {
    let mut batch = Vec::with_capacity(MOST_WRITES_AT_ONCE);
    while queue.blocking_recv_many(&mut batch, MOST_WRITES_AT_ONCE) > 0 {
        let outcomes = match file.still_there() {
            Ok(()) => commit(&db, batch.iter().map(|queued| &queued.write)),
            Err(why) => batch
                .iter()
                .map(|_| Err(session_store::Error::Backend(why.clone())))
                .collect(),
        };
        for (queued, outcome) in batch.drain(..).zip(outcomes) {
            // A request that has gone away (its client hung up) need not
            // know.
            let _ = queued.done.send(outcome);
        }
    }
    // The queue is closed: the store is being dropped, and waits for this.
    drop(db);
}

/// Runs `writes` in one transaction; the outcome of each, or the error
/// that stopped them all.
fn commit<'a>(
    db: &Connection,
    writes: impl ExactSizeIterator<Item = &'a Write>,
) -> Vec<session_store::Result<usize>> {
    let count = writes.len();
    let all_failed = |err: rusqlite::Error| (0..count).map(|_| Err(backend(&err))).collect();
    // `begin` and `commit` as statements prepared once, not rusqlite's
    // `transaction()`, which has SQLite parse both again on every commit:
    // a profile of new visitors, one commit each, found that parsing about
    // a tenth of the writing thread's work.
    let run = |sql: &str| {
        db.prepare_cached(sql)
            .and_then(|mut statement| statement.execute(()))
    };
    if let Err(err) = run("begin") {
        return all_failed(err);
    }
    let outcomes = writes
        .map(|write| write.run(db).map_err(|err| backend(&err)))
        .collect();
    match run("commit") {
        Ok(_) => outcomes,
        Err(err) => {
            // Nothing of a batch that failed to commit stays behind.
            if !db.is_autocommit() {
                let _ = db.execute_batch("rollback");
            }
            all_failed(err)
        }
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
                .prepare_cached("update sessions set data = ?2, expiry_date = ?3 where id = ?1")?
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

/// A session's data as the table stores it: a JSON object, such as
/// `{"visits":3,"last_visit":"2025-01-31T09:30:00Z"}`. The id and the expiry
/// have columns of their own.
fn encode(record: &Record) -> session_store::Result<String> {
    // Keys in order: the data's map keeps them in no order, and the same
    // session should read the same every time it is looked at.
    let sorted: std::collections::BTreeMap<_, _> = record.data.iter().collect();
    serde_json::to_string(&sorted).map_err(|err| session_store::Error::Encode(err.to_string()))
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
        // No row to update: the session was deleted since it was loaded
        // (Django's `UpdateError`), and stays deleted.
        match self.write(write).await? {
            0 => Err(deleted()),
            _ => Ok(()),
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row: Option<(String, i64)> = self.read(|db| {
            db.prepare_cached(
                "select data, expiry_date from sessions where id = ?1 and expiry_date > ?2",
            )?
            .query_row((id.to_string(), now), |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
        })?;
        let Some((data, expires)) = row else {
            return Ok(None);
        };
        let decode = |err: &dyn fmt::Display| session_store::Error::Decode(err.to_string());
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|err| decode(&err))?,
            // Whole seconds lose nothing: `Store` rounds every expiry up to one.
            expiry_date: OffsetDateTime::from_unix_timestamp(expires)
                .map_err(|err| decode(&err))?,
        }))
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
        let store = SqliteSessions::open(&db_in(&dir), Create::IfMissing).unwrap();
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
        let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        let mut record = Record {
            id: Id::default(),
            data: [("visits".to_owned(), 3.into())].into(),
            expiry_date: OffsetDateTime::now_utc() + Duration::from_secs(3600),
        };
        store.create(&mut record).await.unwrap();
        drop(store);

        let log = format!("{db}-wal");
        assert!(!Path::new(&log).exists(), "{log} is left over");
        let reopened = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        let loaded = reopened.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["visits"], 3);
    }

    /// Under a stream of new sessions the log is copied back into the
    /// database file and started again from its beginning before it holds
    /// much more than [`CHECKPOINT_PAGES`].
    #[tokio::test]
    async fn the_log_stays_small_under_a_stream_of_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        for _ in 0..5000 {
            a_session(&store).await;
        }
        let log = std::fs::metadata(format!("{db}-wal")).unwrap().len();
        let most = (CHECKPOINT_PAGES.unsigned_abs() + 20) * (4096 + 24);
        assert!(
            log <= u64::from(most),
            "the log holds {log} bytes, more than {most}"
        );
    }

    /// Once the log holds [`EARLY_PAGES`], the checkpointing thread copies
    /// it back into the database file, well before the writing thread
    /// would.
    #[tokio::test]
    async fn the_checkpointing_thread_copies_the_log_back_early() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        let size = || std::fs::metadata(&db).unwrap().len();
        let before = size();
        // Each commit of one new session adds a page or two to the log:
        // past EARLY_PAGES, short of CHECKPOINT_PAGES.
        for _ in 0..300 {
            a_session(&store).await;
        }
        let log = std::fs::metadata(format!("{db}-wal")).unwrap().len();
        assert!(
            log < u64::from(CHECKPOINT_PAGES.unsigned_abs()) * 4096,
            "{log}"
        );
        let waited = Instant::now();
        while size() == before {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "no checkpoint came"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A new session whose id is taken already gets another id, stored in
    /// its record too, and the session that had the id is left alone.
    #[tokio::test]
    async fn a_new_session_never_takes_an_existing_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteSessions::open(&db_in(&dir), Create::IfMissing).unwrap();
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

    /// One session, an hour to live, stored in `store`.
    async fn a_session(store: &SqliteSessions) -> Record {
        let mut record = Record {
            id: Id::default(),
            data: [("visits".to_owned(), 1.into())].into(),
            expiry_date: OffsetDateTime::now_utc() + Duration::from_secs(3600),
        };
        store.create(&mut record).await.unwrap();
        record
    }

    /// The one line `open` refuses `path` with.
    fn refused(path: &str) -> String {
        let err = SqliteSessions::open(path, Create::IfMissing).unwrap_err();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    }

    #[test]
    fn a_table_of_another_shape_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        Connection::open(&db)
            .unwrap()
            .execute_batch("create table sessions (key text, value text)")
            .unwrap();
        let err = refused(&db);
        assert!(
            err.contains("has the columns (key, value), not (id, data, expiry_date)"),
            "{err}"
        );
    }

    /// What the learner sees with `sqlite3 rango.sqlite3 'select data from
    /// sessions'`: the session's data as JSON, nothing else.
    #[tokio::test]
    async fn the_data_is_stored_as_json_text() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        let record = a_session(&store).await;
        let (kind, data): (String, String) = Connection::open(&db)
            .unwrap()
            .query_row("select typeof(data), data from sessions", (), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((kind.as_str(), data.as_str()), ("text", r#"{"visits":1}"#));
        let loaded = store.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, record.data);
        assert_eq!(
            loaded.expiry_date.unix_timestamp(),
            record.expiry_date.unix_timestamp()
        );
    }

    /// A file an earlier version wrote, with `MessagePack` in a `blob`
    /// column: refused in one line that says what to do, and left as it was.
    #[test]
    fn a_file_in_the_old_encoding_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let old = Connection::open(&db).unwrap();
        old.execute_batch(
            "create table sessions (id text primary key not null, data blob not null, \
             expiry_date integer not null) without rowid; \
             insert into sessions values ('old', x'83a269', 4102444800);",
        )
        .unwrap();
        drop(old);
        let err = refused(&db);
        assert!(
            err.contains("MessagePack encoding of an earlier version"),
            "{err}"
        );
        assert!(err.contains("delete the file"), "{err}");
        let rows: i64 = Connection::open(&db)
            .unwrap()
            .query_row("select count(*) from sessions", (), |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1, "nothing was deleted");
    }

    #[tokio::test]
    async fn a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
        for _ in 0..200 {
            a_session(&store).await;
        }
        drop(store);
        // Scribble over the middle of the file, where the table's pages are.
        let mut bytes = std::fs::read(&db).unwrap();
        assert!(bytes.len() > 3 * 4096, "{} bytes", bytes.len());
        bytes[2 * 4096..3 * 4096].fill(0x55);
        std::fs::write(&db, bytes).unwrap();
        let err = refused(&db);
        assert!(err.contains("is damaged"), "{err}");
    }

    #[test]
    fn a_file_that_cannot_be_written_is_refused() {
        // File permissions do not stop root, who runs CI: a connection
        // opened read-only stands for a read-only file.
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        drop(SqliteSessions::open(&db, Create::IfMissing).unwrap());
        let read_only =
            Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let err = check_writable(&read_only, &db).unwrap_err();
        assert_eq!(
            err,
            format!("cannot write to {db}: it is read-only for this process")
        );
        let writable = Connection::open(&db).unwrap();
        assert_eq!(check_writable(&writable, &db), Ok(()));
    }

    #[test]
    fn a_missing_file_is_refused_unless_it_may_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let err = SqliteSessions::open(&db, Create::Never).unwrap_err();
        assert_eq!(err, format!("there is no database at {db}"));
        assert!(!Path::new(&db).exists(), "and none was created");
        drop(SqliteSessions::open(&db, Create::IfMissing).unwrap());
        assert!(SqliteSessions::open(&db, Create::Never).is_ok());
    }

    /// A file deleted (or replaced) while the store has it open: no write
    /// is acknowledged any more, since it would be lost.
    #[tokio::test]
    async fn writes_stop_when_the_file_is_deleted() {
        for replace in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let db = db_in(&dir);
            let store = SqliteSessions::open(&db, Create::IfMissing).unwrap();
            let mut record = a_session(&store).await;
            std::fs::remove_file(&db).unwrap();
            if replace {
                std::fs::write(&db, b"").unwrap();
            }
            record.data.insert("visits".to_owned(), 2.into());
            let err = store.save(&record).await.unwrap_err().to_string();
            assert!(err.contains("was deleted or replaced"), "{err}");
            assert!(store.create(&mut record.clone()).await.is_err());
            // What the log says, as the book shows it.
            rango_site::testing::transcript::Transcript::new()
                .output(&err)
                .shown_as(&db, "rango.sqlite3")
                .check("sqlite-deleted.txt");
        }
    }
}
