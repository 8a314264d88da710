//! Stage 4 as a learner runs it: the real binary, its output and exit codes.

use rango_site::testing::{Running, command, run_to_exit};

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");

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
        ("SESSION_EXPIRE_AT_BROWSER_CLOSE", "True"),
    ]);
    let server = Running::start(command, &std::env::temp_dir());
    let response = reqwest::get(&server.url).await.unwrap();
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
    server.stop();
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
    use rango_sessions::testing::Kind;
    use time::OffsetDateTime;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;

    let sqlite = Kind::Sqlite.open().await;
    let (store, url) = (&sqlite.store, sqlite.url());
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
}

/// A file name with a typo is refused, and no file is made under it.
#[test]
fn clearsessions_refuses_a_database_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let (success, stderr) = run_to_exit(rango().current_dir(dir.path()).args([
        "clearsessions",
        "--session-store",
        "sqlite://typo.db",
    ]));
    assert!(!success);
    assert_eq!(
        stderr,
        "error: --session-store (RANGO_SESSION_STORE) \"sqlite://typo.db\": \
         there is no database at typo.db\n"
    );
    assert!(!dir.path().join("typo.db").exists(), "nothing created");
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
