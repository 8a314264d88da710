//! What the book shows of stage 4, from real runs: `SNAPSHOTS=overwrite
//! cargo test -p step04-expiry --test transcripts` rewrites
//! `book/src/transcripts/step04-*.txt` after a change.

use std::time::Duration;

use rango_site::testing::transcript::{Transcript, grep, head};
use rango_site::testing::{Running, command, run_to_exit};

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");

#[test]
fn help() {
    let output = command(BIN).arg("--help").output().unwrap();
    Transcript::new()
        .command("cargo run -p step04-expiry -- --help")
        .output(&String::from_utf8(output.stdout).unwrap())
        .check("step04-help.txt");
}

/// The session cookie a first visit gets, persistent and browser-length.
#[tokio::test]
async fn the_session_cookie_in_each_mode() {
    for (args, name) in [
        (&[][..], "step04-persistent.txt"),
        (
            &["--expire-at-browser-close"][..],
            "step04-browser-length.txt",
        ),
    ] {
        let mut cmd = command(BIN);
        cmd.args(["--session-store", "memory"]).args(args);
        let server = Running::start(cmd, &std::env::temp_dir());
        let response = reqwest::get(&server.url).await.unwrap();
        let mut line = "cargo run -p step04-expiry".to_owned();
        if !args.is_empty() {
            line = format!("{line} -- {}", args.join(" "));
        }
        Transcript::new()
            .command(&line)
            .command("curl -s -o /dev/null -D - http://127.0.0.1:8000/rango/ | grep set-cookie")
            .output(&grep(&head(&response), "set-cookie"))
            .check(name);
        server.stop();
    }
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
        let output = command(BIN)
            .current_dir(dir.path())
            .arg("clearsessions")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        t.command("cargo run -p step04-expiry -- clearsessions")
            .output(&String::from_utf8(output.stdout).unwrap());
    }
    t.check("step04-clearsessions.txt");
    server.stop();
}

/// What `clearsessions` says of stores it cannot or need not clear.
#[test]
fn clearsessions_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Transcript::new();
    let output = command(BIN)
        .args(["clearsessions", "--session-store", "memory"])
        .output()
        .unwrap();
    t.command("cargo run -p step04-expiry -- clearsessions --session-store memory")
        .output(&String::from_utf8(output.stdout).unwrap());
    let (success, stderr) = run_to_exit(command(BIN).current_dir(dir.path()).args([
        "clearsessions",
        "--session-store",
        "sqlite://rango.sqlit3",
    ]));
    assert!(!success);
    t.command("cargo run -p step04-expiry -- clearsessions --session-store sqlite://rango.sqlit3")
        .output(&stderr);
    t.check("step04-clearsessions-elsewhere.txt");
}

/// Cookie ages that make no sense.
#[test]
fn bad_cookie_ages() {
    let mut t = Transcript::new();
    for age in ["0", "-5", "2w"] {
        let output = command(BIN).args(["--cookie-age", age]).output().unwrap();
        assert!(!output.status.success());
        t.command(&format!("cargo run -p step04-expiry -- --cookie-age {age}"))
            .output(&String::from_utf8(output.stderr).unwrap());
    }
    t.check("step04-bad-cookie-age.txt");
}
