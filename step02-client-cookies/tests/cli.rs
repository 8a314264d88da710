//! Stage 2 as a learner runs it: the real binary, its output and exit codes.

use std::ffi::OsStr;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use rango_site::testing::{Running, command};
use step02_client_cookies::{Args, SECRET_KEY_MIN_LEN, SecretKeyError, secret_key};

const BIN: &str = env!("CARGO_BIN_EXE_step02-client-cookies");

/// The binary, with none of the developer's `RANGO_*` settings.
fn rango() -> std::process::Command {
    command(BIN)
}

// ANCHOR: visit_interval
#[test]
fn the_visit_interval_reads_like_a_person_writes_it() {
    let interval = |value: &str| {
        let flag = format!("--visit-interval={value}");
        Args::try_parse_from(["rango", &flag]).map(|args| args.visit_interval)
    };
    assert_eq!(interval("1d").unwrap(), Duration::from_secs(24 * 60 * 60));
    assert_eq!(interval("2s").unwrap(), Duration::from_secs(2));
    assert_eq!(interval("500ms").unwrap(), Duration::from_millis(500));
    assert_eq!(interval("1h 30m").unwrap(), Duration::from_secs(90 * 60));
    assert_eq!(interval("0s").unwrap(), Duration::ZERO);
    for nonsense in ["soon", "5", "1 fortnight", ""] {
        let err = interval(nonsense).expect_err(nonsense).to_string();
        assert!(err.contains("--visit-interval"), "{nonsense:?}: {err}");
        assert!(err.contains("is not a duration"), "{nonsense:?}: {err}");
    }
    // Not taken for a flag of its own: the error says what is wrong.
    let err = interval("-5s").unwrap_err().to_string();
    assert!(err.contains("\"-5s\" is negative"), "{err}");
    let err = Args::try_parse_from(["rango", "--visit-interval", "-5s"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"-5s\" is negative"), "{err}");
}

#[test]
fn the_visit_interval_is_a_day_unless_set() {
    let command = Args::command();
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_id() == "visit_interval")
        .unwrap();
    assert_eq!(arg.get_default_values(), ["1d"]);
    assert_eq!(arg.get_env(), Some(OsStr::new("RANGO_VISIT_INTERVAL")));
}

#[test]
fn a_bad_visit_interval_in_the_environment_is_rejected() {
    let output = rango()
        .env("RANGO_VISIT_INTERVAL", "soon")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--visit-interval"), "{stderr}");
    assert!(stderr.contains("soon"), "{stderr}");
}
// ANCHOR_END: visit_interval

// ANCHOR: secret_key
#[test]
fn the_secret_key_must_be_there_and_long_enough() {
    assert_eq!(secret_key(None).unwrap_err(), SecretKeyError::Missing);
    assert_eq!(
        secret_key(Some(OsStr::new("short"))).unwrap_err(),
        SecretKeyError::TooShort(5)
    );
    let just_short = "k".repeat(SECRET_KEY_MIN_LEN - 1);
    assert!(secret_key(Some(OsStr::new(&just_short))).is_err());
    let long_enough = "k".repeat(SECRET_KEY_MIN_LEN);
    assert!(secret_key(Some(OsStr::new(&long_enough))).is_ok());
}

/// `--signed-cookies` without a usable key stops before serving: one line,
/// naming the variable, and no panic.
#[test]
fn signed_cookies_without_a_usable_key_is_a_one_line_error() {
    let short = "too short".to_owned();
    let cases: [(&str, Option<&str>, &str); 3] = [
        (
            "--signed-cookies",
            None,
            "needs a secret key in RANGO_SECRET_KEY",
        ),
        ("--signed-cookies", Some(&short), "is 9 bytes long"),
        ("", None, "needs a secret key in RANGO_SECRET_KEY"),
    ];
    for (flag, key, expected) in cases {
        let mut command = rango();
        command.args(["--addr", "127.0.0.1:0"]);
        if flag.is_empty() {
            // The same switch, from the environment.
            command.env("RANGO_SIGNED_COOKIES", "True");
        } else {
            command.arg(flag);
        }
        if let Some(key) = key {
            command.env("RANGO_SECRET_KEY", key);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{expected}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
// ANCHOR_END: secret_key

#[tokio::test]
async fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut server = Running::start(rango(), &std::env::temp_dir());
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert_eq!(client.get(&server.url).send().await.unwrap().status(), 200);
    let about = server.url("/rango/about/");
    assert_eq!(client.get(&about).send().await.unwrap().status(), 200);
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();
}

/// The number in the index's `<p>visits: N</p>`.
async fn visits(client: &reqwest::Client, url: &str) -> String {
    let body = client.get(url).send().await.unwrap().text().await.unwrap();
    let start = body.find("<p>visits: ").expect(&body);
    body[start..].lines().next().unwrap().to_owned()
}

#[tokio::test]
async fn the_binary_counts_visits_plain_and_signed() {
    let key = "k".repeat(SECRET_KEY_MIN_LEN);
    for (args, env) in [
        (&["--visit-interval", "0s"][..], &[][..]),
        (
            &["--visit-interval", "0s", "--signed-cookies"][..],
            &[("RANGO_SECRET_KEY", key.as_str())][..],
        ),
    ] {
        let mut command = rango();
        command.args(args).envs(env.iter().copied());
        let server = Running::start(command, &std::env::temp_dir());
        let url = &server.url;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        assert_eq!(visits(&client, url).await, "<p>visits: 1</p>", "{args:?}");
        assert_eq!(visits(&client, url).await, "<p>visits: 2</p>", "{args:?}");
        server.stop();
    }
}
