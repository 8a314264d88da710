//! What the book shows of stage 3, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step03-server-sessions --test transcripts` rewrites
//! `book/src/transcripts/step03-*.txt` after a change.
//!
//! Where the book waits ten seconds, the tests move the app's clock
//! instead: those runs are the app in-process, built from the same flags.

use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_sessions::Store;
use rango_site::testing::transcript::{Transcript, check_help, curl_is_installed, grep, port};
use rango_site::testing::{Running, Server, command, run_to_exit};
use rango_site::{Clock, Console};
use step03_server_sessions::{Args, Config, app};

const BIN: &str = env!("CARGO_BIN_EXE_step03-server-sessions");

const CURL_HEADERS: &str =
    "curl -s -o /dev/null -D - -c jar.txt -b jar.txt http://127.0.0.1:8000/rango/";
const CURL_VISITS: &str =
    "curl -s -c jar.txt -b jar.txt http://127.0.0.1:8000/rango/ | grep visits:";

#[test]
fn help() {
    check_help(BIN, "step03-server-sessions", "step03-help.txt");
}

/// The binary on a free port in `dir`, with `args`, stdout and stderr in
/// one stream as its terminal shows them.
fn start(args: &[&str], dir: &std::path::Path) -> Running {
    let mut cmd = command(BIN);
    cmd.args(args);
    Running::start_terminal(cmd, dir)
}

/// The session id curl keeps in `dir/jar.txt` (Netscape's format: a line
/// per cookie, its name and value in the sixth and seventh fields).
fn session_id_in_jar(dir: &std::path::Path) -> String {
    let jar = std::fs::read_to_string(dir.join("jar.txt")).unwrap();
    jar.lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find_map(|fields| (fields.len() == 7 && fields[5] == "sessionid").then(|| fields[6]))
        .unwrap_or_else(|| panic!("no sessionid in the jar:\n{jar}"))
        .to_owned()
}

/// The first lines of a run: where the sessions are, where the site is.
#[test]
fn run() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["--visit-interval", "10s"], dir.path());
    Transcript::new()
        .command("cargo run -p step03-server-sessions -- --visit-interval 10s")
        .output(server.started())
        .on_port(port(&server.url))
        .check("step03-run.txt");
    server.stop();
}

/// A restart: the count goes on in a `SQLite` file, and starts again in
/// memory. The binary, stopped and started again in one directory, and
/// curl's `jar.txt` there.
#[tokio::test]
async fn a_restart() {
    if !curl_is_installed() {
        return;
    }
    for (store, name) in [
        (None, "step03-restart.txt"),
        (Some("memory"), "step03-restart-memory.txt"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--visit-interval", "0s"];
        args.extend(store.iter().flat_map(|store| ["--session-store", store]));
        let mut t = Transcript::new();
        let mut ids = Vec::new();
        for visits in [2, 1] {
            let server = start(&args, dir.path());
            t.command(&format!(
                "cargo run -p step03-server-sessions -- {}",
                args.join(" ")
            ))
            .output(server.started())
            .on_port(port(&server.url));
            for _ in 0..visits {
                t.shell(CURL_VISITS, dir.path()).await;
                ids.push(session_id_in_jar(dir.path()));
            }
            server.stop();
        }
        // Every visit counts, so every visit saves and sends the cookie.
        assert_eq!(ids[0], ids[1], "one session");
        assert_eq!(ids[1] == ids[2], store.is_none(), "{name}: {ids:?}");
        t.check(name);
    }
}

/// Stores that cannot be opened: a Redis nobody runs, a kind there is not.
#[test]
fn store_errors() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut t = Transcript::new();
    for (shown, url) in [
        (
            "redis://127.0.0.1:6379",
            format!("redis://127.0.0.1:{closed}"),
        ),
        (
            "postgres://localhost/rango",
            "postgres://localhost/rango".to_owned(),
        ),
    ] {
        let (success, stderr) =
            run_to_exit(command(BIN).args(["--addr", "127.0.0.1:0", "--session-store", &url]));
        assert!(!success);
        t.command(&format!(
            "cargo run -p step03-server-sessions -- --session-store {shown}"
        ))
        .output(&stderr);
    }
    t.shown_as(&format!("127.0.0.1:{closed}"), "127.0.0.1:6379")
        .check("step03-store-errors.txt");
}

/// The counter with curl, in a `SQLite` file: two visits at once, one ten
/// seconds later, what the cookie page shows, and what the file holds.
#[tokio::test]
async fn the_counter_with_curl() {
    if !curl_is_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rango.sqlite3");
    let args = Args::try_parse_from(["step03", "--visit-interval", "10s"]).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap());
    let (console, _) = Console::buffer();
    let config = Config {
        console,
        clock: clock.clone(),
        visit_interval: args.visit_interval,
        store: Store::open(&format!("sqlite://{}", db.display()), false)
            .await
            .unwrap(),
        secure_cookies: false,
    };
    let server = Server::start(app(config)).await;
    let jar = tempfile::tempdir().unwrap();

    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    for _ in 0..2 {
        t.shell(CURL_HEADERS, jar.path()).await;
    }
    t.check("step03-curl.txt");

    // The app's clock moves instead of the test waiting.
    clock.advance(TimeDelta::seconds(10));
    let mut t = Transcript::new();
    t.on_port(port(&server.base)).command("sleep 10");
    t.shell(CURL_VISITS, jar.path()).await;
    let cookies = t
        .shell(
            "curl -s -b jar.txt http://127.0.0.1:8000/rango/cookies/ | grep -E \"<td>|keeps this record\"",
            jar.path(),
        )
        .await;
    assert!(cookies.contains("<code>visits</code>"), "{cookies}");
    t.check("step03-cookies-page.txt");

    // What `sqlite3` shows of the table.
    let rows: Vec<String> = rusqlite::Connection::open(&db)
        .unwrap()
        .prepare("select id, data, expiry_date, datetime(expiry_date, 'unixepoch') from sessions")
        .unwrap()
        .query_map((), |row| {
            Ok(format!(
                "{}|{}|{}|{}",
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut t = Transcript::new();
    t.command(
        "sqlite3 rango.sqlite3 \"select id, data, expiry_date, datetime(expiry_date, 'unixepoch') from sessions\"",
    )
    .output(&rows.join("\n"));
    // The id as the cookie would show it, and the expiry as a number.
    let id = rows[0].split('|').next().unwrap().to_owned();
    let expiry = rows[0].split('|').nth(2).unwrap().to_owned();
    t.shown_as(&id, "[SESSION_ID]")
        .shown_as(&expiry, "[EXPIRY]")
        .check("step03-sqlite.txt");
}

/// A session id the store does not know: a new session, and a warning in
/// the log.
#[tokio::test]
async fn a_made_up_session_id() {
    if !curl_is_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["--session-store", "memory"], dir.path());
    let mut t = Transcript::new();
    t.on_port(port(&server.url));
    for made_up in ["I-made-this-one-up-1234", "AAAAAAAAAAAAAAAAAAAAAA"] {
        let shown = t
            .shell(
                &format!(
                    "curl -s -o /dev/null -D - -b 'sessionid={made_up}' http://127.0.0.1:8000/rango/ | grep set-cookie"
                ),
                dir.path(),
            )
            .await;
        assert!(!shown.contains(made_up), "a new id: {shown}");
    }
    let (terminal, _) = server.finish();
    t.check("step03-made-up-id.txt");
    Transcript::new()
        .output(&grep(&terminal, "WARN"))
        .check("step03-made-up-id-log.txt");
}

/// `--secure-cookies`, as a site served over HTTPS sets it.
#[tokio::test]
async fn secure_cookies() {
    if !curl_is_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(&["--secure-cookies"], dir.path());
    let mut t = Transcript::new();
    t.command("cargo run -p step03-server-sessions -- --secure-cookies")
        .output(server.started())
        .on_port(port(&server.url));
    t.shell(
        "curl -s -o /dev/null -D - http://127.0.0.1:8000/rango/ | grep set-cookie",
        dir.path(),
    )
    .await;
    t.check("step03-secure.txt");
    server.stop();
}
