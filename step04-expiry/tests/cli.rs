//! Stage 4 as a learner runs it: the real binary, its output and exit codes.
//! What stage 3's binary does comes from the shared suite
//! (`rango_site::testing::suite::cli`); the rest is stage 4's own.

use rango_sessions::testing::{Kind, fill};
use rango_site::testing::{command, run_to_exit};
use tower_sessions::SessionStore;

const BIN: &str = env!("CARGO_BIN_EXE_step04-expiry");

/// The binary, with none of the developer's `RANGO_*` or `SESSION_*` settings.
fn rango() -> std::process::Command {
    command(BIN)
}

rango_site::stage3_cli_behaviour!(bin: BIN, temp_dir: tempfile::tempdir().unwrap());

// ANCHOR: clearsessions
/// `clearsessions` on a `SQLite` file holding expired and live sessions
/// deletes the expired ones, says how many, and leaves the others.
#[tokio::test]
async fn clearsessions_deletes_the_expired_sessions_and_says_how_many() {
    let sqlite = Kind::Sqlite.open().await;
    let (_, live) = fill(&sqlite.store, 2, 2).await;
    let clearsessions = || {
        let output = rango()
            .args(["clearsessions", "--session-store", &sqlite.url()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(clearsessions(), "Deleted 2 expired sessions.\n");
    assert_eq!(clearsessions(), "Deleted 0 expired sessions.\n");
    for id in &live {
        let kept = sqlite.store.load(id).await.unwrap();
        assert!(kept.is_some(), "live sessions stay");
    }
}

/// A file name with a typo is refused, and no file is made under it.
#[test]
fn clearsessions_refuses_a_database_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let (success, stderr) = run_to_exit(rango().current_dir(dir.path()).args([
        "clearsessions",
        "--session-store",
        "sqlite://typo.db",
    ]));
    assert!(!success);
    assert_eq!(
        stderr,
        "error: --session-store (RANGO_SESSION_STORE) \"sqlite://typo.db\": \
         there is no database at typo.db\n"
    );
    assert!(!dir.path().join("typo.db").exists(), "nothing created");
}

/// Stores with nothing to clear say why and succeed; one that cannot be
/// opened is a one-line error.
#[test]
fn clearsessions_explains_other_stores_and_refuses_broken_ones() {
    let output = rango()
        .args(["clearsessions", "--session-store", "memory"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("nothing here to clear"), "{stdout}");

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for url in [
        "postgres://localhost/rango",
        &format!("redis://127.0.0.1:{closed_port}"),
    ] {
        let (success, stderr) =
            run_to_exit(rango().args(["clearsessions", "--session-store", url]));
        assert!(!success, "{url}");
        assert_eq!(stderr.lines().count(), 1, "{url}: one line, got: {stderr}");
        assert!(
            stderr.starts_with("error: --session-store"),
            "{url}: {stderr}"
        );
    }
}
// ANCHOR_END: clearsessions
