//! What the book shows of stage 1, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step01-test-cookie --test transcripts` rewrites
//! `book/src/transcripts/step01-*.txt` after a change.

use rango_site::testing::transcript::{Transcript, check_help, head, port};
use rango_site::testing::{Running, command, cookieless_browser, run_to_exit};

const BIN: &str = env!("CARGO_BIN_EXE_step01-test-cookie");

#[test]
fn help() {
    check_help(BIN, "step01-test-cookie", "step01-help.txt");
}

/// The server started as the book starts it: the line it prints.
#[test]
fn run() {
    let server = Running::start(command(BIN), &std::env::temp_dir());
    Transcript::new()
        .command("cargo run -p step01-test-cookie")
        .output(&format!("Listening on {}", server.url))
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
/// with curl keeping the cookies in a jar; then what the server printed:
/// its console, and (on stderr) its log.
#[tokio::test]
async fn the_test_cookie_with_curl() {
    let server = Running::start_logging(command(BIN), &std::env::temp_dir());
    let url = server.url.clone();
    let port = port(&url);

    let jar = rango_site::testing::browser();
    let mut curl = Transcript::new();
    for path in ["/rango/", "/rango/about/"] {
        let response = jar.get(url.replace("/rango/", path)).send().await.unwrap();
        curl.command(&format!(
            "curl -s -o /dev/null -D - -c jar.txt -b jar.txt http://127.0.0.1:8000{path}"
        ))
        .output(&head(&response));
    }
    curl.on_port(port).check("step01-curl.txt");

    let refuses = cookieless_browser();
    let mut cookieless = Transcript::new();
    for path in ["/rango/", "/rango/about/"] {
        let response = refuses
            .get(url.replace("/rango/", path))
            .send()
            .await
            .unwrap();
        cookieless
            .command(&format!(
                "curl -s -o /dev/null -w \"%{{http_code}}\\n\" http://127.0.0.1:8000{path}"
            ))
            .output(response.status().as_str());
    }
    cookieless.on_port(port).check("step01-cookieless.txt");

    // Ctrl-C, then all the server printed.
    let (console, log) = server.finish();
    Transcript::new()
        .command("cargo run -p step01-test-cookie")
        .output(&console)
        .on_port(port)
        .check("step01-console.txt");
    Transcript::new()
        .output(&log)
        .on_port(port)
        .check("step01-log.txt");
}
