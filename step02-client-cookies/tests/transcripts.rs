//! What the book shows of stage 2, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step02-client-cookies --test transcripts` rewrites
//! `book/src/transcripts/step02-*.txt` after a change.
//!
//! Where the book waits five seconds, the tests move the app's clock
//! instead: those runs are the app in-process, built from the same flags.

use axum_extra::extract::cookie::Key;
use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_site::testing::transcript::{Transcript, check_help, grep, head, port};
use rango_site::testing::{Running, Server, command, cookieless_browser, cookies_in, run_to_exit};
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

#[test]
fn run() {
    let mut cmd = command(BIN);
    cmd.args(["--visit-interval", "5s"]);
    let server = Running::start(cmd, &std::env::temp_dir());
    Transcript::new()
        .command("cargo run -p step02-client-cookies -- --visit-interval 5s")
        .output(&format!("Listening on {}", server.url))
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

/// A browser with its cookie jar, as `-c jar.txt -b jar.txt` makes curl.
struct Curl {
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Curl {
    fn new() -> Self {
        let (client, jar) = rango_site::testing::browser_with_jar();
        Self { client, jar }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    /// The `Cookie` header `-b jar.txt` sends to `base`, the cookies in
    /// the order of their names (curl has an order of its own; a
    /// transcript needs one that does not change from run to run).
    fn cookie_header(&self, base: &str) -> String {
        let mut cookies = cookies_in(&self.jar, base);
        cookies.sort();
        cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sets the cookie `name` in the jar to `value`, as an edit of jar.txt
    /// (or of the cookie in a browser's developer tools) does.
    fn edit(&self, base: &str, name: &str, value: &str) {
        let url = base.parse().unwrap();
        reqwest::cookie::CookieStore::set_cookies(
            &*self.jar,
            &mut [
                reqwest::header::HeaderValue::from_str(&format!("{name}={value}; Path=/")).unwrap(),
            ]
            .iter(),
            &url,
        );
    }
}

/// The counter with curl: a first visit, a second at once, and one five
/// seconds later; then the visitor edits the count.
#[tokio::test]
async fn the_counter_with_curl() {
    let (server, clock) = site(&["--visit-interval", "5s"], None).await;
    let curl = Curl::new();
    let index = server.url("/rango/");
    let mut t = Transcript::new();
    for _ in 0..2 {
        let response = curl.get(&index).await;
        t.command(&format!("{CURL_HEADERS} http://127.0.0.1:8000/rango/"))
            .output(&head(&response));
    }
    t.on_port(port(&server.base)).check("step02-curl.txt");

    clock.advance(TimeDelta::seconds(5));
    let mut t = Transcript::new();
    t.command("sleep 5").command(CURL_VISITS).output(&grep(
        &curl.get(&index).await.text().await.unwrap(),
        "visits:",
    ));
    t.check("step02-later.txt");

    // What the browser sent, as the cookies page shows it.
    let page = cookieless_browser()
        .get(server.url("/rango/cookies/"))
        .header(COOKIE, curl.cookie_header(&server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Transcript::new()
        .command("curl -s -b jar.txt http://127.0.0.1:8000/rango/cookies/ | grep \"<td>\"")
        .output(&grep(&page, "<td>"))
        .check("step02-cookies-page.txt");

    // The edit, done in curl's jar file.
    let mut t = Transcript::new();
    for (value, sed) in [
        ("42", "s/\\tvisits\\t[0-9]*$/\\tvisits\\t42/"),
        ("lots", "s/\\tvisits\\t42$/\\tvisits\\tlots/"),
    ] {
        curl.edit(&server.base, "visits", value);
        t.command(&format!("sed -i '{sed}' jar.txt"))
            .command(CURL_VISITS)
            .output(&grep(
                &curl.get(&index).await.text().await.unwrap(),
                "visits:",
            ));
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
    let (server, _) = site(
        &["--visit-interval", "5s", "--signed-cookies"],
        Some(Key::generate()),
    )
    .await;
    let curl = Curl::new();
    let index = server.url("/rango/");
    let response = curl.get(&index).await;
    let visits = response
        .cookies()
        .find(|cookie| cookie.name() == "visits")
        .unwrap()
        .value()
        .to_owned();
    let mut t = Transcript::new();
    t.command(&format!("{CURL_HEADERS} http://127.0.0.1:8000/rango/"))
        .output(&head(&response));
    t.on_port(port(&server.base)).check("step02-signed.txt");

    // `SIGNATURE1` becomes `SIGNATURE99`; the signature ends in `=`, `%3D`.
    let signature = visits.strip_suffix("%3D1").unwrap();
    curl.edit(&server.base, "visits", &format!("{signature}%3D99"));
    let mut t = Transcript::new();
    t.command("sed -i 's/%3D1$/%3D99/' jar.txt")
        .command(CURL_VISITS)
        .output(&grep(
            &curl.get(&index).await.text().await.unwrap(),
            "visits:",
        ));
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
    let (server, clock) = site(
        &["--visit-interval", "5s", "--signed-cookies"],
        Some(Key::generate()),
    )
    .await;
    let curl = Curl::new();
    let index = server.url("/rango/");
    let visits = async || grep(&curl.get(&index).await.text().await.unwrap(), "visits:");
    let mut t = Transcript::new();
    t.command("rm -f jar.txt")
        .command(CURL_VISITS)
        .output(&visits().await);
    let saved = curl.cookie_header(&server.base);
    t.command("cp jar.txt saved.txt");
    for _ in 0..2 {
        clock.advance(TimeDelta::seconds(5));
        t.command("sleep 5")
            .command(CURL_VISITS)
            .output(&visits().await);
    }
    let page = cookieless_browser()
        .get(&index)
        .header(COOKIE, saved)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    t.command("curl -s -b saved.txt http://127.0.0.1:8000/rango/ | grep visits:")
        .output(&grep(&page, "visits:"));
    t.check("step02-replay.txt");
}

/// Plain cookies that do not hold up, sent by hand, and the log line each
/// one gets.
#[tokio::test]
async fn bad_cookies_and_the_log_lines_they_get() {
    let mut cmd = command(BIN);
    cmd.env("RUST_LOG", "info,step02_client_cookies=debug");
    let server = Running::start_logging(cmd, &std::env::temp_dir());
    let url = server.url.clone();

    let time = "last_visit=2026-01-01T00%3A00%3A00.000Z";
    let cases = [
        format!("visits=lots; {time}"),
        "visits=3; last_visit=yesterday".to_owned(),
        format!("visits=%0AINFO%20forged; {time}"),
        "visits=3; last_visit=2099-01-01T00%3A00%3A00.000Z".to_owned(),
        "visits=3".to_owned(),
    ];
    let client = reqwest::Client::new();
    let mut t = Transcript::new();
    for typed in cases {
        let page = client
            .get(&url)
            .header(COOKIE, &typed)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("visits: 1"), "{typed}");
        t.command(&format!(
            "curl -s -b \"{typed}\" http://127.0.0.1:8000/rango/ | grep visits:"
        ))
        .output(&grep(&page, "visits:"));
    }
    t.check("step02-bad-cookies.txt");

    let (_, log) = server.finish();
    Transcript::new()
        .output(&grep(&log, "ignoring"))
        .check("step02-bad-cookies-log.txt");
}
