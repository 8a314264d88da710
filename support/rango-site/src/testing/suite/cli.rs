//! What stage 3's binary does and stage 4's must keep doing, checked once:
//! each check takes the binary (`env!("CARGO_BIN_EXE_...")`), and
//! [`stage3_cli_behaviour!`](crate::stage3_cli_behaviour) makes a test of
//! each in a stage's own `tests/cli.rs`.

use std::path::Path;

use crate::testing::{Running, browser, command, get, run_to_exit, visits_in};

/// The tests of what stage 3's binary does, for the binary `$bin`; `$dir`
/// makes a fresh temporary directory (`tempfile::tempdir().unwrap()`).
#[macro_export]
macro_rules! stage3_cli_behaviour {
    (bin: $bin:expr, temp_dir: $dir:expr $(,)?) => {
        #[test]
        fn a_store_that_cannot_be_opened_is_a_one_line_error() {
            $crate::testing::suite::cli::a_store_that_cannot_be_opened_is_a_one_line_error($bin);
        }

        #[test]
        fn a_busy_port_leaves_no_database_behind() {
            let dir = $dir;
            $crate::testing::suite::cli::a_busy_port_leaves_no_database_behind($bin, dir.as_ref());
        }

        #[tokio::test]
        async fn the_default_store_is_a_sqlite_file_that_outlives_the_server() {
            let dir = $dir;
            $crate::testing::suite::cli::the_default_store_is_a_sqlite_file_that_outlives_the_server(
                $bin,
                dir.as_ref(),
            )
            .await;
        }

        #[tokio::test]
        async fn boolean_settings_accept_djangos_spelling() {
            $crate::testing::suite::cli::boolean_settings_accept_djangos_spelling($bin).await;
        }
    };
}

// ANCHOR: store_errors
/// A store that cannot be opened stops the server before it serves, with one
/// line that names the setting and the problem (every such problem is
/// checked in `rango-sessions`).
pub fn a_store_that_cannot_be_opened_is_a_one_line_error(bin: &str) {
    let url = "postgres://localhost/rango";
    let (success, stderr) =
        run_to_exit(command(bin).args(["--addr", "127.0.0.1:0", "--session-store", url]));
    assert!(!success, "{url} must be refused");
    assert_eq!(
        stderr,
        "error: --session-store (RANGO_SESSION_STORE) \"postgres://localhost/rango\": \
         unknown kind of store; use sqlite://PATH, memory or redis://HOST:PORT\n"
    );
}
// ANCHOR_END: store_errors

/// A server that cannot listen stops before it opens the store: it leaves
/// no new database behind in `dir`.
pub fn a_busy_port_leaves_no_database_behind(bin: &str, dir: &Path) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (success, stderr) = run_to_exit(command(bin).current_dir(dir).args(["--addr", &addr]));
    assert!(!success);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dir.join("rango.sqlite3").exists(), "no database created");
}

// ANCHOR: default_store
/// By default sessions go to `rango.sqlite3` where the server runs (`dir`):
/// the file is created on first start, and a restarted server continues the
/// count.
pub async fn the_default_store_is_a_sqlite_file_that_outlives_the_server(bin: &str, dir: &Path) {
    let client = browser();
    let start = || {
        let mut command = command(bin);
        command.args(["--visit-interval", "0s"]);
        Running::start(command, dir)
    };
    let visits = async |server: &Running| {
        let (_, body) = get(&client, &server.url).await;
        visits_in(&body)
    };

    let mut server = start();
    assert!(
        dir.join("rango.sqlite3").is_file(),
        "the database was created"
    );
    assert_eq!(visits(&server).await, 1);
    let (status, _) = get(&client, &server.url("/rango/about/")).await;
    assert_eq!(status, 200);
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();

    let server = start();
    assert_eq!(visits(&server).await, 2, "the count went on");
    server.stop();
}
// ANCHOR_END: default_store

/// Django's settings are Python's `True` and `False`; the environment
/// variables accept those spellings too.
pub async fn boolean_settings_accept_djangos_spelling(bin: &str) {
    let mut command = command(bin);
    command.envs([
        ("RANGO_SESSION_STORE", "memory"),
        ("SESSION_COOKIE_SECURE", "True"),
        ("RANGO_SESSION_CACHE", "False"),
    ]);
    let server = Running::start(command, &std::env::temp_dir());
    let response = reqwest::get(&server.url).await.unwrap();
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("sessionid="), "{set_cookie}");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    server.stop();
}
