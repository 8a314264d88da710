//! The Redis suite: two servers, one Redis, shared sessions (the test stages
//! 3 and 4 share), and the transcript the book shows of them
//! (`book/src/transcripts/step03-redis.txt`; `SNAPSHOTS=overwrite` rewrites
//! it, as in tests/transcripts.rs).
//!
//! It needs a running `redis-server`, so `cargo test` skips it (and says so).
//! `.ci/run` installs Redis, starts it on a free port and runs this file:
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! RANGO_TEST_REDIS_URL=redis://127.0.0.1:6390 \
//!     cargo test -p step03-server-sessions --test redis -- --ignored
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use rango_sessions::Store;
use rango_site::testing::suite::redis::redis_url;
use rango_site::testing::transcript::{Transcript, grep};
use rango_site::testing::{Server, browser_with_jar, session_id};
use step03_server_sessions::{Config, app};

/// A server over the shared Redis, counting every request as a visit.
async fn server() -> Server {
    let store = Store::open(&redis_url(), false).await.unwrap();
    let visit_interval = Duration::ZERO;
    Server::start(app(Config {
        store,
        visit_interval,
        ..Config::default()
    }))
    .await
}

rango_site::stage3_redis_behaviour!(server);

/// What the book shows of two servers on one Redis, with curl: the count
/// goes on from one server to the other, and Redis holds the session under
/// its id, with the seconds it has left: two weeks, give or take a second
/// (the store rounds the expiry up to a whole second, and Redis rounds the
/// seconds it reports).
#[tokio::test]
#[ignore = "needs a redis-server: set RANGO_TEST_REDIS_URL (.ci/run does)"]
async fn two_servers_with_curl() {
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
