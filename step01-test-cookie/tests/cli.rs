//! Stage 1 as a learner runs it: the real binary, its output and exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_step01-test-cookie");

#[test]
fn a_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let output = Command::new(BIN)
        .args(["--addr", &addr.to_string()])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!output.status.success(), "must fail when {addr} is taken");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_address_is_rejected_by_the_parser() {
    let output = Command::new(BIN)
        .args(["--addr", "not-an-address"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--addr"));
}

#[tokio::test]
async fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .env("RANGO_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next().unwrap().unwrap();
    let url = first.strip_prefix("Listening on ").expect(&first);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/rango/"),
        "{first}"
    );
    assert!(!url.contains(":0/"), "the real port, not 0: {first}");

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let about = url.replace("/rango/", "/rango/about/");
    assert_eq!(client.get(url).send().await.unwrap().status(), 200);
    assert_eq!(client.get(&about).send().await.unwrap().status(), 200);
    assert_eq!(stdout.next().unwrap().unwrap(), "TEST COOKIE WORKED!");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful shutdown exits 0");
}
