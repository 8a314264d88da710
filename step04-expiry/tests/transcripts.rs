//! What the book shows of stage 4, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step04-expiry --test transcripts` rewrites
//! `book/src/transcripts/step04-*.txt` after a change.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_site::testing::transcript::{Transcript, check_help, port};
use rango_site::testing::{Running, Server, command};
use rango_site::{Clock, Console};
use step04_expiry::{Args, Config, app};

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");
const PACKAGE: &str = "step04-expiry";

const CURL_SLIDING: &str = "curl -s -D - -c jar.txt -b jar.txt http://127.0.0.1:8000/rango/ | grep -E \"set-cookie|visits:|session-ends\"";
const CURL_COOKIES_PAGE: &str =
    "curl -s -b jar.txt http://127.0.0.1:8000/rango/cookies/ | grep -E \"<td>|keeps this record\"";

#[test]
fn help() {
    check_help(BIN, PACKAGE, "step04-help.txt");
}

/// The binary with `args` on a free port in `dir`, and what its terminal
/// shows as it starts: where the sessions are, the first clearing of expired
/// sessions (done before the server listens), and where the site is.
fn start(args: &[&str], dir: &std::path::Path) -> (Running, String) {
    let mut cmd = command(BIN);
    cmd.args(args);
    let server = Running::start_terminal(cmd, dir);
    let started = server.started().to_owned();
    assert!(started.contains("deleted expired sessions"), "{started}");
    (server, started)
}

/// The session cookie a first visit gets, persistent and browser-length,
/// and what the home page says of it. The persistent cookie is kept two
/// weeks, said both ways: `Max-Age`, and an `Expires` date two weeks on.
#[tokio::test]
async fn the_session_cookie_in_each_mode() {
    rango_site::skip_without_curl!();
    for (flag, name) in [
        (None, "step04-persistent.txt"),
        (
            Some("--expire-at-browser-close"),
            "step04-browser-length.txt",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = flag.into_iter().collect();
        let (server, started) = start(&args, dir.path());
        let run = flag.map_or(String::new(), |flag| format!(" -- {flag}"));
        let mut t = Transcript::new();
        t.command(&format!("cargo run -p step04-expiry{run}"))
            .output(&started)
            .on_port(port(&server.url));
        let curl =
            "curl -s -D - http://127.0.0.1:8000/rango/ | grep -E \"set-cookie|session-ends\"";
        let shown = t.shell(curl, dir.path()).await;
        let set_cookie = shown.lines().next().unwrap();
        assert!(set_cookie.starts_with("set-cookie: sessionid="), "{shown}");
        assert_eq!(
            set_cookie.contains("; Max-Age=1209600;"),
            flag.is_none(),
            "{set_cookie}"
        );
        let expires = set_cookie
            .split("; ")
            .find_map(|part| part.strip_prefix("Expires="));
        assert_eq!(
            expires.is_some(),
            flag.is_none(),
            "Expires goes with Max-Age"
        );
        if let Some(expires) = expires {
            let left = DateTime::parse_from_rfc2822(expires).unwrap().to_utc() - Utc::now();
            let off = (TimeDelta::weeks(2) - left).abs();
            assert!(off < TimeDelta::seconds(3), "{set_cookie}");
        }
        t.check(name);
        server.stop();
    }
}

/// A visit that changes nothing still keeps the session alive: with a
/// two-minute cookie age, a visit half a minute after the first is not
/// counted (a day has not passed), yet the session is saved again and its
/// cookie sent again with a fresh `Max-Age`. Then what the cookie page shows
/// of it. The app's clock moves instead of the test waiting; the app is
/// built from the flags the book shows (`--cookie-age 120`), over a
/// `SQLite` file of its own.
#[tokio::test]
async fn a_visit_that_changes_nothing_still_slides_the_expiry() {
    rango_site::skip_without_curl!();
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

    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    let mut cookies = Vec::new();
    for wait in [None, Some(30)] {
        if let Some(seconds) = wait {
            clock.advance(TimeDelta::seconds(seconds));
            t.command(&format!("sleep {seconds}"));
        }
        let text = t.shell(CURL_SLIDING, dir.path()).await;
        assert!(text.contains("<p>visits: 1</p>"), "{text}");
        let set_cookie = text.lines().next().unwrap();
        assert!(set_cookie.contains("Max-Age=120;"), "{text}");
        cookies.push(set_cookie.split(';').next().unwrap().to_owned());
    }
    assert_eq!(cookies[0], cookies[1], "the same session");
    t.check("step04-sliding.txt");

    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    let page = t.shell(CURL_COOKIES_PAGE, dir.path()).await;
    assert!(page.contains("<code>_refreshed_at</code>"), "{page}");
    t.check("step04-refreshed-at.txt");
}

/// Making sessions expire, and clearing them out: three visitors to a site
/// whose sessions last a second, a pause, then `clearsessions` twice in
/// another terminal while the server runs. (This test waits two seconds:
/// the stores read the system's clock.)
#[tokio::test]
async fn clearsessions_after_sessions_expire() {
    rango_site::skip_without_curl!();
    let dir = tempfile::tempdir().unwrap();
    let (server, started) = start(&["--cookie-age", "1"], dir.path());
    let mut t = Transcript::new();
    t.command("cargo run -p step04-expiry -- --cookie-age 1")
        .output(&started)
        .on_port(port(&server.url));
    let curl = "for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:8000/rango/; done";
    t.shell(curl, dir.path()).await;
    t.shell("sleep 2", dir.path()).await;
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
