//! Stage 1 as a learner runs it: the real binary, its output and exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use rango_site::testing::{Running, browser, command, get};

const BIN: &str = env!("CARGO_BIN_EXE_step01-test-cookie");

#[tokio::test]
async fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut server = Running::start(command(BIN), &std::env::temp_dir());
    let client = browser();
    for page in ["/rango/", "/rango/about/"] {
        assert_eq!(get(&client, &server.url(page)).await.0, 200, "{page}");
    }
    assert_eq!(server.next_line(), "TEST COOKIE WORKED!");
    server.stop();
}

/// Starts the binary with `args`; returns it and the URL it printed.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = command(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().strip_prefix("Listening on ").expect(&first);
    (child, url.to_owned())
}

/// Log lines going to a file or a pipe carry no colour codes (on a
/// terminal they would).
#[tokio::test]
async fn the_log_is_plain_text_when_it_is_not_a_terminal() {
    let mut cmd = command(BIN);
    cmd.env("RUST_LOG", "info");
    let server = Running::start_logging(cmd, &std::env::temp_dir());
    assert_eq!(reqwest::get(&server.url).await.unwrap().status(), 200);
    let (_, log) = server.finish();
    assert!(log.contains("GET"), "one line per request: {log}");
    assert!(!log.contains('\x1b'), "no colour codes: {log:?}");
}

/// `--addr` takes a host name, as `runserver` does.
#[tokio::test]
async fn the_address_may_be_a_host_name() {
    let (mut child, url) = start(&["--addr", "localhost:0"]);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200, "{url}");
    child.kill().unwrap();
    child.wait().unwrap();
}
