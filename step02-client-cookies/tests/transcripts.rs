//! What the book shows of stage 2, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step02-client-cookies --test transcripts` rewrites
//! `book/src/transcripts/step02-*.txt` after a change.
//!
//! Where the book waits five seconds, the tests move the app's clock
//! instead: those runs are the app in-process, built from the same flags.

use axum_extra::extract::cookie::Key;
use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_site::testing::transcript::{Transcript, check_help, curl_is_installed, grep, port};
use rango_site::testing::{Running, Server, command, run_to_exit};
use rango_site::{Clock, Console};
use reqwest::header::COOKIE;
use step02_client_cookies::{Args, Config, app};

const BIN: &str = env!("CARGO_BIN_EXE_step02-client-cookies");

/// `curl -s -o /dev/null -D - -c jar.txt -b jar.txt URL`
const CURL_HEADERS: &str = "curl -s -o /dev/null -D - -c jar.txt -b jar.txt";
/// `curl -s -c jar.txt -b jar.txt URL | grep visits:`
const CURL_VISITS: &str =
    "curl -s -c jar.txt -b jar.txt http://127.0.0.1:8000/rango/ | grep visits:";

#[test]
fn help() {
    check_help(BIN, "step02-client-cookies", "step02-help.txt");
}

/// The server started as the book starts it: what its terminal shows.
#[test]
fn run() {
    let mut cmd = command(BIN);
    cmd.args(["--visit-interval", "5s"]);
    let server = Running::start_terminal(cmd, &std::env::temp_dir());
    Transcript::new()
        .command("cargo run -p step02-client-cookies -- --visit-interval 5s")
        .output(server.started())
        .on_port(port(&server.url))
        .check("step02-run.txt");
    server.stop();
}

/// The site as `cargo run -p step02-client-cookies -- ARGS` starts it, with
/// a clock the test moves, and optionally a signing key.
async fn site(args: &[&str], key: Option<Key>) -> (Server, Clock) {
    let args = Args::try_parse_from(["step02-client-cookies"].iter().chain(args)).unwrap();
    let clock = Clock::manual(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap());
    let (console, _) = Console::buffer();
    let config = Config {
        console,
        clock: clock.clone(),
        visit_interval: args.visit_interval,
        cookie_key: key,
    };
    (Server::start(app(config)).await, clock)
}

/// The counter with curl: a first visit, a second at once, and one five
/// seconds later; then the visitor edits the count in curl's jar.
#[tokio::test]
async fn the_counter_with_curl() {
    if !curl_is_installed() {
        return;
    }
    let (server, clock) = site(&["--visit-interval", "5s"], None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    for _ in 0..2 {
        t.shell(
            &format!("{CURL_HEADERS} http://127.0.0.1:8000/rango/"),
            dir.path(),
        )
        .await;
    }
    t.check("step02-curl.txt");

    // The app's clock moves instead of the test waiting.
    clock.advance(TimeDelta::seconds(5));
    let mut t = Transcript::new();
    t.on_port(port(&server.base)).command("sleep 5");
    t.shell(CURL_VISITS, dir.path()).await;
    t.check("step02-later.txt");

    // What the browser sent, as the cookies page shows it.
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    t.shell(
        "curl -s -b jar.txt http://127.0.0.1:8000/rango/cookies/ | grep \"<td>\"",
        dir.path(),
    )
    .await;
    t.check("step02-cookies-page.txt");

    // The edit, done in curl's jar file.
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    for sed in [
        "s/\\tvisits\\t[0-9]*$/\\tvisits\\t42/",
        "s/\\tvisits\\t42$/\\tvisits\\tlots/",
    ] {
        t.shell(&format!("sed -i '{sed}' jar.txt"), dir.path())
            .await;
        t.shell(CURL_VISITS, dir.path()).await;
    }
    t.check("step02-edit.txt");
}

/// `--signed-cookies` without a usable key.
#[test]
fn signed_cookies_need_a_key() {
    let mut t = Transcript::new();
    for key in [None, Some("too-short")] {
        let mut cmd = command(BIN);
        cmd.args(["--addr", "127.0.0.1:0", "--signed-cookies"]);
        let mut line = String::new();
        if let Some(key) = key {
            cmd.env("RANGO_SECRET_KEY", key);
            line = format!("RANGO_SECRET_KEY={key} ");
        }
        let (success, stderr) = run_to_exit(&mut cmd);
        assert!(!success);
        t.command(&format!(
            "{line}cargo run -p step02-client-cookies -- --signed-cookies"
        ))
        .output(&stderr);
    }
    t.check("step02-no-key.txt");
}

/// Signed: the first visit, and an edited count thrown away.
#[tokio::test]
async fn signed_cookies_with_curl() {
    if !curl_is_installed() {
        return;
    }
    let (server, _) = site(
        &["--visit-interval", "5s", "--signed-cookies"],
        Some(Key::generate()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    t.shell(
        &format!("{CURL_HEADERS} http://127.0.0.1:8000/rango/"),
        dir.path(),
    )
    .await;
    t.check("step02-signed.txt");

    // `SIGNATURE1` becomes `SIGNATURE99`; the signature ends in `=`, `%3D`.
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    t.shell("sed -i 's/%3D1$/%3D99/' jar.txt", dir.path()).await;
    let jar = std::fs::read_to_string(dir.path().join("jar.txt")).unwrap();
    assert!(jar.contains("%3D99\n"), "the edit took: {jar}");
    t.shell(CURL_VISITS, dir.path()).await;
    t.check("step02-signed-edit.txt");
}

/// What the server's log says of a cookie it throws away.
#[tokio::test]
async fn the_log_says_why_a_cookie_was_thrown_away() {
    let key = "k".repeat(64);
    let mut cmd = command(BIN);
    cmd.arg("--signed-cookies")
        .env("RANGO_SECRET_KEY", &key)
        .env("RUST_LOG", "info,step02_client_cookies=debug");
    let server = Running::start_logging(cmd, &std::env::temp_dir());
    let url = server.url.clone();
    let response = reqwest::Client::new()
        .get(&url)
        .header(COOKIE, "visits=99")
        .send()
        .await
        .unwrap();
    assert!(response.text().await.unwrap().contains("visits: 1"));
    let (_, log) = server.finish();
    Transcript::new()
        .output(&grep(&log, "ignoring"))
        .check("step02-rejected-log.txt");
}

/// Signed: a copy of an old cookie, kept and sent again, still passes.
#[tokio::test]
async fn an_old_signed_pair_can_be_sent_again() {
    if !curl_is_installed() {
        return;
    }
    let (server, clock) = site(
        &["--visit-interval", "5s", "--signed-cookies"],
        Some(Key::generate()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = Transcript::new();
    t.on_port(port(&server.base));
    t.shell("rm -f jar.txt", dir.path()).await;
    t.shell(CURL_VISITS, dir.path()).await;
    t.shell("cp jar.txt saved.txt", dir.path()).await;
    for _ in 0..2 {
        // The app's clock moves instead of the test waiting.
        clock.advance(TimeDelta::seconds(5));
        t.command("sleep 5");
        t.shell(CURL_VISITS, dir.path()).await;
    }
    t.shell(
        "curl -s -b saved.txt http://127.0.0.1:8000/rango/ | grep visits:",
        dir.path(),
    )
    .await;
    t.check("step02-replay.txt");
}

/// Plain cookies that do not hold up, sent by hand, and the log line each
/// one gets.
#[tokio::test]
async fn bad_cookies_and_the_log_lines_they_get() {
    if !curl_is_installed() {
        return;
    }
    let mut cmd = command(BIN);
    cmd.env("RUST_LOG", "info,step02_client_cookies=debug");
    let server = Running::start_logging(cmd, &std::env::temp_dir());
    let dir = tempfile::tempdir().unwrap();

    let time = "last_visit=2026-01-01T00%3A00%3A00.000Z";
    let cases = [
        format!("visits=lots; {time}"),
        "visits=3; last_visit=yesterday".to_owned(),
        format!("visits=%0AINFO%20forged; {time}"),
        "visits=3; last_visit=2099-01-01T00%3A00%3A00.000Z".to_owned(),
        "visits=3".to_owned(),
    ];
    let mut t = Transcript::new();
    t.on_port(port(&server.url));
    for typed in cases {
        let page = t
            .shell(
                &format!("curl -s -b \"{typed}\" http://127.0.0.1:8000/rango/ | grep visits:"),
                dir.path(),
            )
            .await;
        assert!(page.contains("visits: 1"), "{typed}");
    }
    t.check("step02-bad-cookies.txt");

    let (_, log) = server.finish();
    Transcript::new()
        .output(&grep(&log, "ignoring"))
        .check("step02-bad-cookies-log.txt");
}
