//! Two servers of a stage over one Redis (`RANGO_TEST_REDIS_URL`), and the
//! transcript the book shows of them (`book/src/transcripts/step03-redis.txt`):
//! the Redis suite that stages 3 and 4 share. `cargo test` skips it, as it
//! needs a running `redis-server`; `.ci/run` starts one and runs it with
//! `--ignored`.

use std::sync::Arc;
use std::time::Duration;

use tower_sessions::SessionStore;

use super::{Parts, Shared, Stage};
use crate::testing::transcript::{self, Transcript, port};
use crate::testing::{Server, browser, visit};
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
/// match it. The commands run as shown, with curl and `redis-cli` (which
/// comes with `redis-server`), `redis-cli` pointed at the test's Redis.
pub async fn two_servers_with_curl(server: impl AsyncFn() -> Server) {
    if !transcript::curl_is_installed() {
        return;
    }
    let (first, second) = (server().await, server().await);
    // curl's jar, in a directory of this test's own.
    let dir = std::env::temp_dir().join(format!(
        "rango-redis-curl-{}-{}",
        std::process::id(),
        port(&first.base)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = Transcript::new();
    t.on_port(port(&first.base)).shown_as(
        &format!("127.0.0.1:{}", port(&second.base)),
        "127.0.0.1:8001",
    );
    for shown in [8000, 8001, 8000] {
        let page = t
            .shell(
                &format!(
                    "curl -s -c jar.txt -b jar.txt http://127.0.0.1:{shown}/rango/ | grep visits:"
                ),
                &dir,
            )
            .await;
        assert!(page.starts_with("<p>visits: "), "{page}");
    }
    // `redis-cli` pointed at the test's Redis, and printing as it does in
    // a terminal (`--no-raw`): a wrapper first in `PATH`.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("redis-cli"),
        format!(
            "#!/bin/sh\nPATH=\"$REAL_PATH\" exec redis-cli --no-raw -u '{}' \"$@\"\n",
            redis_url()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", "bin/redis-cli"])
        .current_dir(&dir)
        .status()
        .unwrap();
    let redis_cli = r#"export REAL_PATH="$PATH"; PATH="$PWD/bin:$PATH""#;
    let answer = t
        .shell_after(
            redis_cli,
            r#"redis-cli ttl "$(awk '$6 == "sessionid" { print $7 }' jar.txt)""#,
            &dir,
        )
        .await;
    std::fs::remove_dir_all(&dir).ok();
    let ttl: i64 = answer
        .trim_end()
        .strip_prefix("(integer) ")
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("redis-cli ttl: {answer:?}"));
    let two_weeks = 14 * 24 * 60 * 60;
    assert!(
        (two_weeks - 10..=two_weeks + 1).contains(&ttl),
        "about two weeks: {ttl}"
    );
    t.shown_as(&ttl.to_string(), "[TTL]")
        .check("step03-redis.txt");
}
