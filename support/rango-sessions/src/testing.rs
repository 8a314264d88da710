//! Stores for tests (the `testing` feature): each kind on a fresh
//! temporary file or memory, a way to run one test on each, and ways to
//! look into a `SQLite` file.

use std::path::PathBuf;
use std::time::Duration;

use rango_site::testing::suite::{Opened, StoreKind};
use serde_json::json;
use tempfile::TempDir;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::store::Store;

/// Which kind of session store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `SQLite` file (the default store).
    Sqlite,
    /// `SQLite` with the memory cache in front (`--session-cache`).
    CachedSqlite,
    /// This process's memory.
    Memory,
}

impl Kind {
    /// A fresh, empty store of this kind.
    pub async fn open(self) -> TestStore {
        match self {
            Self::Memory => TestStore {
                store: Store::memory(),
                dir: None,
            },
            Self::Sqlite | Self::CachedSqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = sqlite_url(&dir);
                let store = Store::open(&url, self == Self::CachedSqlite).await.unwrap();
                TestStore {
                    store,
                    dir: Some(dir),
                }
            }
        }
    }
}

/// Each kind as the suite that stages 3 and 4 share opens it.
impl StoreKind for Kind {
    async fn fresh(self) -> Opened {
        let sessions = self.open().await;
        Opened::new(sessions.store.clone(), sessions)
    }
}

/// The `--session-store` URL of the `SQLite` file a test keeps in `dir`.
pub fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}", db_path(dir).display())
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("sessions.sqlite3")
}

/// A store for one test, and the temporary directory of its file, if it has
/// one (removed when this is dropped).
#[derive(Debug)]
pub struct TestStore {
    pub store: Store,
    dir: Option<TempDir>,
}

impl TestStore {
    /// The directory holding the `SQLite` file.
    ///
    /// # Panics
    /// For a memory store.
    pub fn dir(&self) -> &TempDir {
        self.dir.as_ref().expect("a SQLite store")
    }

    /// The `--session-store` URL of the `SQLite` file.
    pub fn url(&self) -> String {
        sqlite_url(self.dir())
    }

    /// How many rows the `SQLite` file holds, expired or not.
    pub fn rows(&self) -> i64 {
        rusqlite::Connection::open(db_path(self.dir()))
            .unwrap()
            .query_row("select count(*) from sessions", (), |row| row.get(0))
            .unwrap()
    }

    /// Waits (up to five seconds) for the file to hold `expected` rows.
    pub async fn wait_for_rows(&self, expected: i64) {
        for _ in 0..100 {
            if self.rows() == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("still {} rows, not {expected}", self.rows());
    }
}

/// Records straight into `store`: `expired` ones a minute past their expiry,
/// `live` ones an hour before it. Their ids, expired first.
pub async fn fill(store: &Store, expired: usize, live: usize) -> (Vec<Id>, Vec<Id>) {
    let now = OffsetDateTime::now_utc();
    let mut ids = (Vec::new(), Vec::new());
    for (count, expiry_date, out) in [
        (expired, now - time::Duration::MINUTE, &mut ids.0),
        (live, now + time::Duration::HOUR, &mut ids.1),
    ] {
        for _ in 0..count {
            let mut record = Record {
                id: Id::default(),
                data: [("visits".to_owned(), json!(1))].into(),
                expiry_date,
            };
            store.create(&mut record).await.unwrap();
            out.push(record.id);
        }
    }
    ids
}

/// A record that expires later in the current second, as a session saved
/// at 12:00:00.97 with `--cookie-age 1` expires at 12:00:01.97 and is
/// visited at 12:00:01.07. A store that cuts expiry dates down to whole
/// seconds has it expired at once.
pub async fn record_expiring_later_this_second() -> Record {
    let mut now = OffsetDateTime::now_utc();
    if now.nanosecond() > 800_000_000 {
        // Too close to the next second for the check to be sure.
        tokio::time::sleep(Duration::from_millis(250)).await;
        now = OffsetDateTime::now_utc();
    }
    let rest_of_second = 1_000_000_000 - i64::from(now.nanosecond());
    Record {
        id: Id::default(),
        data: [("visits".to_owned(), json!(1))].into(),
        expiry_date: now + time::Duration::nanoseconds(rest_of_second / 2),
    }
}

/// Runs a test once on each kind of store, as `name::sqlite`,
/// `name::cached_sqlite` and `name::memory`:
///
/// ```ignore
/// on_each_store! {
///     /// What the test checks.
///     async fn a_test(kind: Kind) { /* ... */ }
/// }
/// ```
#[macro_export]
macro_rules! on_each_store {
    ($(#[$doc:meta])* async fn $name:ident($kind:ident: Kind) $body:block) => {
        $(#[$doc])*
        mod $name {
            use super::*;

            async fn run($kind: $crate::testing::Kind) $body

            #[tokio::test]
            async fn sqlite() {
                run($crate::testing::Kind::Sqlite).await;
            }

            #[tokio::test]
            async fn cached_sqlite() {
                run($crate::testing::Kind::CachedSqlite).await;
            }

            #[tokio::test]
            async fn memory() {
                run($crate::testing::Kind::Memory).await;
            }
        }
    };
}
