//! Stage 3 as a learner runs it: the real binary, its output and exit codes.

use rango_site::testing::{Running, command, run_to_exit};

const BIN: &str = env!("CARGO_BIN_EXE_step03-server-sessions");

/// The binary, with none of the developer's `RANGO_*` or `SESSION_*` settings.
fn rango() -> std::process::Command {
    command(BIN)
}

#[test]
fn a_bad_visit_interval_is_rejected_by_the_parser() {
    let output = rango().args(["--visit-interval", "soon"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--visit-interval"));
}

// ANCHOR: store_errors
/// A store that cannot be opened stops the server before it serves, with one
/// line that names the setting and the problem (every such problem is
/// checked in `rango-sessions`).
#[test]
fn a_store_that_cannot_be_opened_is_a_one_line_error() {
    let url = "postgres://localhost/rango";
    let (success, stderr) =
        run_to_exit(rango().args(["--addr", "127.0.0.1:0", "--session-store", url]));
    assert!(!success, "{url} must be refused");
    assert_eq!(
        stderr,
        "error: --session-store (RANGO_SESSION_STORE) \"postgres://localhost/rango\": \
         unknown kind of store; use sqlite://PATH, memory or redis://HOST:PORT\n"
    );
}
// ANCHOR_END: store_errors

/// A server that cannot listen stops before it opens the store: it leaves
/// no new database behind.
#[test]
fn a_busy_port_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (success, stderr) = run_to_exit(rango().current_dir(dir.path()).args(["--addr", &addr]));
    assert!(!success);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        !dir.path().join("rango.sqlite3").exists(),
        "no database created"
    );
}

async fn visits(client: &reqwest::Client, url: &str) -> String {
    let body = client.get(url).send().await.unwrap().text().await.unwrap();
    let start = body.find("<p>visits: ").expect("a visits line");
    body[start..].lines().next().unwrap().to_owned()
}

// ANCHOR: default_store
/// By default sessions go to `rango.sqlite3` where the server runs; the file
/// is created on first start, and a restarted server continues the count.
#[tokio::test]
async fn the_default_store_is_a_sqlite_file_that_outlives_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let start = || {
        let mut command = rango();
        command.args(["--visit-interval", "0s"]);
        Running::start(command, dir.path())
    };

    let mut server = start();
    assert!(
        dir.path().join("rango.sqlite3").is_file(),
        "the database was created"
    );
    assert_eq!(visits(&client, &server.url).await, "<p>visits: 1</p>");
    let about = client
        .get(server.url("/rango/about/"))
        .send()
        .await
        .unwrap();
    assert_eq!(about.status(), 200);
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();

    let server = start();
    assert_eq!(visits(&client, &server.url).await, "<p>visits: 2</p>");
    server.stop();
}
// ANCHOR_END: default_store

/// Django's settings are Python's `True` and `False`; the environment
/// variables accept those spellings too.
#[tokio::test]
async fn boolean_settings_accept_djangos_spelling() {
    let mut command = rango();
    command.envs([
        ("RANGO_SESSION_STORE", "memory"),
        ("SESSION_COOKIE_SECURE", "True"),
        ("RANGO_SESSION_CACHE", "False"),
    ]);
    let server = Running::start(command, &std::env::temp_dir());
    let response = reqwest::get(&server.url).await.unwrap();
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("sessionid="), "{set_cookie}");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    server.stop();
}
