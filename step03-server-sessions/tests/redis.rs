//! The Redis suite: two servers, one Redis, shared sessions.
//!
//! It needs a running `redis-server`, so `cargo test` skips it (and says so).
//! `.ci/run` installs Redis, starts it on a free port and runs this file:
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! RANGO_TEST_REDIS_URL=redis://127.0.0.1:6390 \
//!     cargo test -p step03-server-sessions --test redis -- --ignored
//! ```

use std::time::Duration;

use rango_sessions::Store;
use rango_site::testing::{Server, browser, visit};
use step03_server_sessions::{Config, app};

/// The Redis that `.ci/run` (or you) started.
fn redis_url() -> String {
    std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server")
}

/// A server over the shared Redis, counting every request as a visit.
async fn server() -> Server {
    let config = Config {
        store: Store::open(&redis_url(), false).await.unwrap(),
        visit_interval: Duration::ZERO,
        ..Config::default()
    };
    Server::start(app(config)).await
}

// ANCHOR: shared
/// What a load balancer does: send one browser's requests to whichever server
/// is free. The session lives in Redis, so each server continues it.
#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn two_servers_share_sessions_through_redis() {
    let (first, second) = (server().await, server().await);
    // Cookies belong to a host, not a port: both servers get the same one.
    let client = browser();

    assert_eq!(visit(&client, &first.base).await, 1);
    assert_eq!(
        visit(&client, &second.base).await,
        2,
        "continued on the second"
    );
    assert_eq!(
        visit(&client, &first.base).await,
        3,
        "and back on the first"
    );

    // A server started later finds the session too.
    let third = server().await;
    assert_eq!(visit(&client, &third.base).await, 4);
    // While another browser starts its own.
    assert_eq!(visit(&browser(), &second.base).await, 1);
}
// ANCHOR_END: shared
