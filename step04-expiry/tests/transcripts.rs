//! What the book shows of stage 4, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step04-expiry --test transcripts` rewrites
//! `book/src/transcripts/step04-*.txt` after a change.

use std::time::{Duration, SystemTime};

use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_site::testing::transcript::{
    Transcript, check_help, grep, grep_any, head_and_body, port,
};
use rango_site::testing::{Running, Server, browser_with_jar, command, get};
use rango_site::{Clock, Console};
use step04_expiry::{Args, Config, app};

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");
const PACKAGE: &str = "step04-expiry";

#[test]
fn help() {
    check_help(BIN, PACKAGE, "step04-help.txt");
}

/// The session cookie a first visit gets, persistent and browser-length,
/// and what the home page says of it. The persistent cookie is kept two
/// weeks, said both ways: `Max-Age`, and an `Expires` date two weeks on.
#[tokio::test]
async fn the_session_cookie_in_each_mode() {
    const TWO_WEEKS: Duration = Duration::from_secs(14 * 24 * 60 * 60);
    for (flag, name) in [
        (None, "step04-persistent.txt"),
        (
            Some("--expire-at-browser-close"),
            "step04-browser-length.txt",
        ),
    ] {
        let mut cmd = command(BIN);
        cmd.args(["--session-store", "memory"]).args(flag);
        let server = Running::start(cmd, &std::env::temp_dir());
        let response = reqwest::get(&server.url).await.unwrap();
        let cookie = response.cookies().next().expect("a session cookie");
        assert_eq!(cookie.max_age(), flag.is_none().then_some(TWO_WEEKS));
        let left = cookie
            .expires()
            .map(|at| at.duration_since(SystemTime::now()));
        assert_eq!(left.is_some(), flag.is_none(), "Expires goes with Max-Age");
        let off = left.map(|left| TWO_WEEKS.saturating_sub(left.unwrap_or_default()));
        assert!(
            off.is_none_or(|off| off < Duration::from_secs(3)),
            "{off:?}"
        );
        let text = head_and_body(response).await;
        let run = flag.map_or(String::new(), |flag| format!(" -- {flag}"));
        Transcript::new()
            .command(&format!("cargo run -p step04-expiry{run}"))
            .command(
                "curl -s -D - http://127.0.0.1:8000/rango/ | grep -E \"set-cookie|session-ends\"",
            )
            .output(&grep_any(&text, &["set-cookie", "session-ends"]))
            .check(name);
        server.stop();
    }
}

/// A visit that changes nothing still keeps the session alive: with a
/// two-minute cookie age, a visit half a minute after the first is not
/// counted (a day has not passed), yet the session is saved again and its
/// cookie sent again with a fresh `Max-Age`. Then what the cookie page shows
/// of it. The app's clock moves instead of the test waiting; the app is
/// built from the flags the book shows, over a `SQLite` file of its own.
#[tokio::test]
async fn a_visit_that_changes_nothing_still_slides_the_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("rango.sqlite3").display());
    let args =
        Args::try_parse_from(["step04", "--cookie-age", "120", "--session-store", &store]).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap());
    let (console, _) = Console::buffer();
    let config = Config {
        console,
        clock: clock.clone(),
        ..Config::from_args(&args).await.unwrap()
    };
    let server = Server::start(app(config)).await;
    let (curl, _) = browser_with_jar();
    let shown = ["set-cookie", "visits:", "session-ends"];

    let mut t = Transcript::new();
    t.command("cargo run -p step04-expiry -- --cookie-age 120");
    let mut cookies = Vec::new();
    for wait in [None, Some(30)] {
        if let Some(seconds) = wait {
            clock.advance(TimeDelta::seconds(seconds));
            t.command(&format!("sleep {seconds}"));
        }
        let text = head_and_body(curl.get(server.url("/rango/")).send().await.unwrap()).await;
        assert!(text.contains("<p>visits: 1</p>"), "{text}");
        let set_cookie = grep(&text, "set-cookie");
        assert!(set_cookie.contains("Max-Age=120;"), "{text}");
        cookies.push(set_cookie.split(';').next().unwrap().to_owned());
        t.command(&format!(
            "curl -s -D - -c jar.txt -b jar.txt http://127.0.0.1:8000/rango/ | grep -E \"{}\"",
            shown.join("|")
        ))
        .output(&grep_any(&text, &shown));
    }
    assert_eq!(cookies[0], cookies[1], "the same session");
    t.on_port(port(&server.base)).check("step04-sliding.txt");

    let (_, page) = get(&curl, &server.url("/rango/cookies/")).await;
    assert!(page.contains("<code>_refreshed_at</code>"), "{page}");
    Transcript::new()
        .command(
            "curl -s -b jar.txt http://127.0.0.1:8000/rango/cookies/ | grep -E \"<td>|keeps this record\"",
        )
        .output(&grep_any(&page, &["<td>", "keeps this record"]))
        .check("step04-refreshed-at.txt");
}

/// Making sessions expire, and clearing them out: three visitors to a site
/// whose sessions last a second, a pause, then `clearsessions` twice in
/// another terminal while the server runs. (This test waits two seconds:
/// the stores read the system's clock.)
#[tokio::test]
async fn clearsessions_after_sessions_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(BIN);
    cmd.args(["--cookie-age", "1"]);
    let server = Running::start(cmd, dir.path());
    for _ in 0..3 {
        let response = reqwest::get(&server.url).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut t = Transcript::new();
    t.command("cargo run -p step04-expiry -- --cookie-age 1")
        .command("for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:8000/rango/; done")
        .command("sleep 2")
        .output("");
    for _ in 0..2 {
        assert!(t.cargo_run(BIN, PACKAGE, &["clearsessions"], dir.path()));
    }
    t.check("step04-clearsessions.txt");
    server.stop();
}

/// What `clearsessions` says of stores it cannot or need not clear. A file
/// name with a typo is refused, and no file is made under it.
#[test]
fn clearsessions_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Transcript::new();
    for store in ["memory", "sqlite://rango.sqlit3"] {
        let args = ["clearsessions", "--session-store", store];
        assert_eq!(
            t.cargo_run(BIN, PACKAGE, &args, dir.path()),
            store == "memory"
        );
    }
    assert!(!dir.path().join("rango.sqlit3").exists(), "no file made");
    t.check("step04-clearsessions-elsewhere.txt");
}

/// Cookie ages that make no sense.
#[test]
fn bad_cookie_ages() {
    let mut t = Transcript::new();
    for age in ["0", "-5", "2w", "34560001"] {
        let refused = !t.cargo_run(BIN, PACKAGE, &["--cookie-age", age], &std::env::temp_dir());
        assert!(refused, "{age}");
    }
    t.check("step04-bad-cookie-age.txt");
}
