//! Stage 4 as a learner runs it: the real binary, its output and exit codes.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");

/// The binary, with a clean environment for the settings the tests use.
fn rango() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "RUST_LOG",
        "RANGO_ADDR",
        "RANGO_VISIT_INTERVAL",
        "RANGO_SESSION_STORE",
        "RANGO_SESSION_CACHE",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "RANGO_SESSION_REFRESH_AFTER",
        "RANGO_CLEAR_EXPIRED_EVERY",
    ] {
        command.env_remove(name);
    }
    command
}

/// Runs the binary to its end, or kills it after a generous minute.
fn run_to_exit(command: &mut Command) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after a minute: it should have given up");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.success(), stderr)
}

#[test]
fn a_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (success, stderr) =
        run_to_exit(rango().args(["--addr", &addr.to_string(), "--session-store", "memory"]));
    assert!(!success, "must fail when {addr} is taken");
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_address_is_rejected_by_the_parser() {
    let output = rango().args(["--addr", "not-an-address"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--addr"));
}

#[test]
fn a_bad_visit_interval_is_rejected_by_the_parser() {
    let output = rango().args(["--visit-interval", "soon"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--visit-interval"));
}

// ANCHOR: store_errors
/// A store that cannot be opened stops the server before it listens, with one
/// line that names the setting and the problem.
#[test]
fn a_store_that_cannot_be_opened_is_a_one_line_error() {
    let dir = std::env::temp_dir().join(format!("rango-step04-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A file where a directory should be: no database can be created below it.
    let not_a_dir = dir.join("plain-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let not_a_database = dir.join("notes.sqlite3");
    std::fs::write(&not_a_database, "these are my notes, not a database").unwrap();
    // A port nobody listens on.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let cases = [
        ("postgres://localhost/rango", "unknown kind of store"),
        ("rango.sqlite3", "unknown kind of store"),
        ("sqlite://", "no file name after sqlite://"),
        (
            &format!("sqlite://{}", not_a_dir.join("rango.sqlite3").display()),
            "cannot open the SQLite database",
        ),
        (
            &format!("sqlite://{}", not_a_database.display()),
            "cannot open the SQLite database",
        ),
        (
            &format!("redis://127.0.0.1:{closed_port}"),
            "cannot reach Redis",
        ),
        ("redis://:6379", "not a Redis URL"),
    ];
    for (url, problem) in cases {
        for via_env in [false, true] {
            let mut command = rango();
            command.args(["--addr", "127.0.0.1:0"]);
            if via_env {
                command.env("RANGO_SESSION_STORE", url);
            } else {
                command.args(["--session-store", url]);
            }
            let (success, stderr) = run_to_exit(&mut command);
            assert!(!success, "{url} must be refused");
            assert_eq!(stderr.lines().count(), 1, "{url}: one line, got: {stderr}");
            assert!(
                stderr.starts_with(&format!(
                    "error: --session-store (RANGO_SESSION_STORE) {url:?}: "
                )),
                "{url}: {stderr}"
            );
            assert!(stderr.contains(problem), "{url}: {stderr}");
            assert!(!stderr.contains("panicked"), "{url}: {stderr}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
// ANCHOR_END: store_errors

/// The binary running in `dir` with `args` and `envs`, and the URL it printed.
fn start_in(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Child, Lines<BufReader<ChildStdout>>, String) {
    let mut child = rango()
        .current_dir(dir)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next().unwrap().unwrap();
    let url = first
        .strip_prefix("Listening on ")
        .expect(&first)
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/rango/"),
        "{first}"
    );
    assert!(!url.contains(":0/"), "the real port, not 0: {first}");
    (child, stdout, url)
}

/// Stops the binary as Ctrl-C would; it must exit cleanly.
fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful shutdown exits 0");
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
    let dir = std::env::temp_dir().join(format!("rango-step04-default-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::remove_file(dir.join("rango.sqlite3")).ok();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let (child, mut stdout, url) = start_in(&dir, &["--visit-interval", "0s"], &[]);
    assert!(
        dir.join("rango.sqlite3").is_file(),
        "the database was created"
    );
    assert_eq!(visits(&client, &url).await, "<p>visits: 1</p>");
    let about = url.replace("/rango/", "/rango/about/");
    assert_eq!(client.get(&about).send().await.unwrap().status(), 200);
    assert_eq!(stdout.next().unwrap().unwrap(), "TEST COOKIE WORKED!");
    stop(child);

    let (child, _, url) = start_in(&dir, &["--visit-interval", "0s"], &[]);
    assert_eq!(visits(&client, &url).await, "<p>visits: 2</p>");
    stop(child);
    std::fs::remove_dir_all(&dir).ok();
}
// ANCHOR_END: default_store

/// The cache writes through: a server started without it finds the count.
#[tokio::test]
async fn the_cache_in_front_of_sqlite_writes_through() {
    let dir = std::env::temp_dir().join(format!("rango-step04-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite://{}", dir.join("cached.sqlite3").display());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let cached = [
        "--session-store",
        &store,
        "--session-cache",
        "--visit-interval",
        "0s",
    ];
    let (child, _, url) = start_in(&dir, &cached, &[]);
    assert_eq!(visits(&client, &url).await, "<p>visits: 1</p>");
    assert_eq!(visits(&client, &url).await, "<p>visits: 2</p>");
    stop(child);

    let (child, _, url) = start_in(
        &dir,
        &["--session-store", &store, "--visit-interval", "0s"],
        &[],
    );
    assert_eq!(visits(&client, &url).await, "<p>visits: 3</p>");
    stop(child);
    std::fs::remove_dir_all(&dir).ok();
}

/// Django's settings are Python's `True` and `False`; the environment
/// variables accept those spellings too.
#[tokio::test]
async fn boolean_settings_accept_djangos_spelling() {
    let envs = [
        ("RANGO_SESSION_STORE", "memory"),
        ("SESSION_COOKIE_SECURE", "True"),
        ("RANGO_SESSION_CACHE", "False"),
        ("SESSION_EXPIRE_AT_BROWSER_CLOSE", "True"),
    ];
    let (child, _, url) = start_in(&std::env::temp_dir(), &[], &envs);
    let response = reqwest::get(&url).await.unwrap();
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("sessionid="), "{set_cookie}");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Max-Age"),
        "browser-length: {set_cookie}"
    );
    stop(child);
}

// ANCHOR: cookie_age_errors
/// A cookie age that makes no sense stops the binary with the reason.
#[test]
fn bad_cookie_ages_are_refused() {
    for (value, reason) in [
        ("-1", "cannot last a negative time"),
        ("abc", "not a whole number of seconds"),
        ("0", "at least 1 second"),
    ] {
        for via_env in [false, true] {
            let mut command = rango();
            if via_env {
                command.env("SESSION_COOKIE_AGE", value);
            } else {
                command.args(["--cookie-age", value]);
            }
            let output = command
                .args(["--session-store", "memory"])
                .output()
                .unwrap();
            assert!(!output.status.success(), "{value} must be refused");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("--cookie-age"), "{value}: {stderr}");
            assert!(stderr.contains(reason), "{value}: {stderr}");
        }
    }
}
// ANCHOR_END: cookie_age_errors

// ANCHOR: clearsessions
/// `clearsessions` on a `SQLite` file holding expired and live sessions
/// deletes the expired ones, says how many, and leaves the others.
#[tokio::test]
async fn clearsessions_deletes_the_expired_sessions_and_says_how_many() {
    use step04_expiry::store::Store;
    use time::OffsetDateTime;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;

    let dir = std::env::temp_dir().join(format!("rango-step04-clear-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("rango.sqlite3").display());
    let store = Store::open(&url, false).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let mut live = Vec::new();
    for expiry_date in [
        now - time::Duration::DAY,
        now - time::Duration::SECOND,
        now + time::Duration::HOUR,
        now + time::Duration::WEEK,
    ] {
        let mut record = Record {
            id: Id::default(),
            data: std::collections::HashMap::new(),
            expiry_date,
        };
        store.create(&mut record).await.unwrap();
        if expiry_date > now {
            live.push(record.id);
        }
    }

    let clearsessions = || {
        let output = rango()
            .args(["clearsessions", "--session-store", &url])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(clearsessions(), "Deleted 2 expired sessions.\n");
    assert_eq!(clearsessions(), "Deleted 0 expired sessions.\n");
    for id in &live {
        assert!(
            store.load(id).await.unwrap().is_some(),
            "live sessions stay"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Stores with nothing to clear say why and succeed; one that cannot be
/// opened is a one-line error.
#[test]
fn clearsessions_explains_other_stores_and_refuses_broken_ones() {
    let output = rango()
        .args(["clearsessions", "--session-store", "memory"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("nothing here to clear"), "{stdout}");

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for url in [
        "postgres://localhost/rango",
        &format!("redis://127.0.0.1:{closed_port}"),
    ] {
        let (success, stderr) =
            run_to_exit(rango().args(["clearsessions", "--session-store", url]));
        assert!(!success, "{url}");
        assert_eq!(stderr.lines().count(), 1, "{url}: one line, got: {stderr}");
        assert!(
            stderr.starts_with("error: --session-store"),
            "{url}: {stderr}"
        );
    }
}
// ANCHOR_END: clearsessions
