//! What the book shows of stage 1, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step01-test-cookie --test transcripts` rewrites
//! `book/src/transcripts/step01-*.txt` after a change.

use rango_site::testing::transcript::{Transcript, check_help, curl_is_installed, port};
use rango_site::testing::{Running, command, run_to_exit};

const BIN: &str = env!("CARGO_BIN_EXE_step01-test-cookie");

#[test]
fn help() {
    check_help(BIN, "step01-test-cookie", "step01-help.txt");
}

/// The server started as the book starts it: what its terminal shows.
#[test]
fn run() {
    let server = Running::start_terminal(command(BIN), &std::env::temp_dir());
    Transcript::new()
        .command("cargo run -p step01-test-cookie")
        .output(server.started())
        .on_port(port(&server.url))
        .check("step01-run.txt");
    server.stop();
}

#[test]
fn a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (success, stderr) = run_to_exit(command(BIN).args(["--addr", &addr.to_string()]));
    assert!(!success);
    Transcript::new()
        .command("cargo run -p step01-test-cookie")
        .output(&stderr)
        .on_port(addr.port())
        .check("step01-port-in-use.txt");
}

/// The server started, a browser's visit to the home page and then About,
/// with curl keeping the cookies in a jar, and a visit without one; then,
/// after Ctrl-C, all the server's terminal showed: its console (stdout)
/// and its log (stderr), as they came.
#[tokio::test]
async fn the_test_cookie_with_curl() {
    if !curl_is_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start_terminal(command(BIN), dir.path());
    let port = port(&server.url);

    let mut curl = Transcript::new();
    curl.on_port(port);
    for path in ["/rango/", "/rango/about/"] {
        curl.shell(
            &format!("curl -s -o /dev/null -D - -c jar.txt -b jar.txt http://127.0.0.1:8000{path}"),
            dir.path(),
        )
        .await;
    }
    curl.check("step01-curl.txt");

    // Without a jar, curl is a browser that refuses cookies.
    let mut cookieless = Transcript::new();
    cookieless.on_port(port);
    for path in ["/rango/", "/rango/about/"] {
        cookieless
            .shell(
                &format!(
                    "curl -s -o /dev/null -w \"%{{http_code}}\\n\" http://127.0.0.1:8000{path}"
                ),
                dir.path(),
            )
            .await;
    }
    cookieless.check("step01-cookieless.txt");

    // Ctrl-C, then all the server printed.
    let (terminal, _) = server.finish();
    Transcript::new()
        .command("cargo run -p step01-test-cookie")
        .output(&terminal)
        .on_port(port)
        .check("step01-console.txt");
}
