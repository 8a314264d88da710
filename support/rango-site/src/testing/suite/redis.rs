//! Two servers of a stage over one Redis (`RANGO_TEST_REDIS_URL`), and the
//! transcript the book shows of them (`book/src/transcripts/step03-redis.txt`):
//! the Redis suite that stages 3 and 4 share. `cargo test` skips it, as it
//! needs a running `redis-server`; `.ci/run` starts one and runs it with
//! `--ignored`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use tower_sessions::SessionStore;

use super::{Parts, Shared, Stage};
use crate::testing::transcript::{Transcript, grep};
use crate::testing::{Server, browser, browser_with_jar, session_id, visit};
use crate::{Clock, Console};

/// The Redis that `.ci/run` (or you) started.
pub fn redis_url() -> String {
    std::env::var("RANGO_TEST_REDIS_URL")
        .expect("set RANGO_TEST_REDIS_URL=redis://127.0.0.1:PORT to a running redis-server")
}

/// The Redis tests of what stage 3 does, for the [`Stage`] `$stage`, over
/// the store `$open` opens (an expression to await in: the Redis at
/// [`redis_url`]).
#[macro_export]
macro_rules! stage3_redis_behaviour {
    ($stage:ty, open: $open:expr $(,)?) => {
        #[tokio::test]
        #[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
        async fn two_servers_share_sessions_through_redis() {
            let server = async || $crate::testing::suite::redis::server::<$stage>($open).await;
            $crate::testing::suite::redis::two_servers_share_sessions_through_redis(server).await;
        }

        #[tokio::test]
        #[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
        async fn two_servers_with_curl() {
            let server = async || $crate::testing::suite::redis::server::<$stage>($open).await;
            $crate::testing::suite::redis::two_servers_with_curl(server).await;
        }
    };
}

/// A server of stage `S` over `store`, counting every request as a visit.
pub async fn server<S: Stage>(store: impl SessionStore) -> Server {
    let (console, _) = Console::buffer();
    Server::start(S::app(Parts {
        store: Shared(Arc::new(store)),
        clock: Clock::system(),
        console,
        visit_interval: Duration::ZERO,
    }))
    .await
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

/// What the book shows of two servers on one Redis, with curl: the count
/// goes on from one server to the other, and Redis holds the session under
/// its id, with the seconds it has left: two weeks, give or take a second
/// (the store rounds the expiry up to a whole second, and Redis rounds the
/// seconds it reports). Stage 3 wrote the transcript; stage 4 must still
/// match it.
pub async fn two_servers_with_curl(server: impl AsyncFn() -> Server) {
    let (first, second) = (server().await, server().await);
    let (curl, jar) = browser_with_jar();
    let mut t = Transcript::new();
    for (server, port) in [(&first, 8000), (&second, 8001), (&first, 8000)] {
        let page = curl
            .get(server.url("/rango/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        t.command(&format!(
            "curl -s -c jar.txt -b jar.txt http://127.0.0.1:{port}/rango/ | grep visits:"
        ))
        .output(&grep(&page, "visits:"));
    }
    let id = session_id(&jar, &first.base).to_string();
    let ttl = redis_ttl(&id);
    let two_weeks = 14 * 24 * 60 * 60;
    assert!(
        (two_weeks - 10..=two_weeks + 1).contains(&ttl),
        "about two weeks: {ttl}"
    );
    t.command(r#"redis-cli ttl "$(awk '$6 == "sessionid" { print $7 }' jar.txt)""#)
        .output(&format!("(integer) {ttl}"))
        .shown_as(&ttl.to_string(), "[TTL]")
        .check("step03-redis.txt");
}

/// `TTL key` on the shared Redis, as `redis-cli ttl` sends it: the seconds
/// the key has left.
fn redis_ttl(key: &str) -> i64 {
    let url = redis_url();
    let host_port = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut redis = TcpStream::connect(&host_port).unwrap();
    write!(redis, "*2\r\n$3\r\nTTL\r\n${}\r\n{key}\r\n", key.len()).unwrap();
    let mut answer = String::new();
    BufReader::new(redis).read_line(&mut answer).unwrap();
    // An integer reply: `:1209599`.
    answer
        .trim_end()
        .strip_prefix(':')
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("TTL {key}: {answer:?}"))
}
