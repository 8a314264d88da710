//! Two servers of a stage over one Redis (`RANGO_TEST_REDIS_URL`): the
//! Redis suite that stages 3 and 4 share. `cargo test` skips it, as it
//! needs a running `redis-server`; `.ci/run` starts one and runs it with
//! `--ignored`.

use crate::testing::{Server, browser, visit};

/// The Redis that `.ci/run` (or you) started.
pub fn redis_url() -> String {
    std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server")
}

/// The Redis test of what stage 3 does, for a stage whose servers `$server`
/// starts (an async fn: a new server over the Redis at [`redis_url`],
/// counting every request as a visit).
#[macro_export]
macro_rules! stage3_redis_behaviour {
    ($server:expr) => {
        #[tokio::test]
        #[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
        async fn two_servers_share_sessions_through_redis() {
            $crate::testing::suite::redis::two_servers_share_sessions_through_redis($server).await;
        }
    };
}

// ANCHOR: shared
/// What a load balancer does: send one browser's requests to whichever server
/// is free. The session lives in Redis, so each server continues it.
pub async fn two_servers_share_sessions_through_redis(server: impl AsyncFn() -> Server) {
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
