//! The Redis store against a real `redis-server`.
//!
//! It needs one running, so `cargo test` skips it (and says so). `.ci/run`
//! installs Redis, starts it on a free port and runs this file:
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! RANGO_TEST_REDIS_URL=redis://127.0.0.1:6390 \
//!     cargo test -p rango-sessions --test redis -- --ignored
//! ```

use rango_sessions::testing::record_expiring_later_this_second;
use rango_sessions::{Cleared, Store};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

/// The Redis that `.ci/run` (or you) started.
fn redis_url() -> String {
    std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server")
}

/// Redis stores each session with a time to live: an expired one is gone,
/// and there is nothing to clear.
#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn redis_drops_expired_sessions_by_itself() {
    let store = Store::open(&redis_url(), false).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let mut live = Record {
        id: Id::default(),
        data: [("visits".to_owned(), serde_json::json!(1))].into(),
        expiry_date: now + time::Duration::HOUR,
    };
    store.create(&mut live).await.unwrap();
    assert!(
        store.load(&live.id).await.unwrap().is_some(),
        "live: served"
    );
    let expired = Record {
        expiry_date: now - time::Duration::SECOND,
        ..live.clone()
    };
    store.save(&expired).await.unwrap();
    assert!(
        store.load(&live.id).await.unwrap().is_none(),
        "expired: gone"
    );
    assert_eq!(store.clear_expired().await.unwrap(), Cleared::ByItself);
}

/// Redis keeps expiry in whole seconds: a session is still served until its
/// expiry, not up to a second before.
#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn a_session_lasts_to_its_expiry_not_the_second_before() {
    let store = Store::open(&redis_url(), false).await.unwrap();
    let mut record = record_expiring_later_this_second().await;
    store.create(&mut record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_some(), "cut short");
}
