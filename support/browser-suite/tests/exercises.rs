//! The exercises' reference solution in Chromium: the About page shows the
//! visit count, the browser still holds only the session id, "Remember me"
//! outlives a browser restart and its opposite does not, and "Forget me"
//! starts the count again.
//!
//! The solution is compiled in only with the `exercises` crate's `solution`
//! feature, and no crate in the workspace may turn that on (a feature turned
//! on anywhere is on everywhere in a build, and would hide the learner's own
//! answer from `cargo test --workspace`). So this test does not link the
//! exercises: it builds the solution's binary with
//! `cargo build -p exercises --features solution` and runs it as a learner
//! would, on a free port. The build shares the workspace's target directory;
//! cargo keeps each set of features apart, and `cargo run -p exercises`
//! still runs the starter afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use browser_suite::{Chrome, Cookie, Result, screenshot_dir};
use rango_site::testing::Running;
use serde_json::Value;

/// Builds the exercises with the reference solution and returns the path of
/// the binary cargo made.
fn build_solution() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let output = Command::new(cargo)
        .args(["build", "--locked", "-p", "exercises", "--bin", "exercises"])
        .args(["--features", "solution", "--message-format", "json"])
        .arg("--manifest-path")
        .arg(&manifest)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo build -p exercises --features solution failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|message| message
                .pointer("/message/rendered")?
                .as_str()
                .map(str::to_owned))
            .collect::<String>()
    );
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no executable for the exercises")
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn the_solution_shows_the_visit_count_on_about() -> Result<()> {
    let binary = tokio::task::spawn_blocking(build_solution).await.unwrap();
    // Sessions in memory, every visit counted.
    let mut command = rango_site::testing::command(binary.to_str().unwrap());
    command.args(["--session-store", "memory", "--visit-interval", "0s"]);
    let server = Running::start(command, &std::env::temp_dir());
    let chrome = Chrome::launch().await?;

    // A brand-new browser goes straight to About: its first visit.
    chrome.goto(&server.url("/rango/about/")).await?;
    assert_eq!(chrome.shown_visits().await?, "1", "About first");
    chrome
        .screenshot(&screenshot_dir().join("exercises-about.png"))
        .await?;
    // Every request counts here (`--visit-interval 0s`): both pages read
    // and move the same count, kept in the session on the server.
    chrome.goto(&server.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "2", "then the home page");
    chrome.goto(&server.url("/rango/about/")).await?;
    assert_eq!(chrome.shown_visits().await?, "3", "then About again");

    // Exercise 1, in a real browser: the session id and nothing else.
    let cookies = chrome.cookies().await?;
    let names: Vec<_> = cookies.iter().map(|cookie| cookie.name.as_str()).collect();
    assert_eq!(names, ["sessionid"], "only the session id: {cookies:?}");
    assert!(cookies[0].http_only, "{cookies:?}");
    chrome.quit().await
}

/// The browser's one cookie, `sessionid`.
async fn session_cookie(chrome: &Chrome) -> Result<Cookie> {
    let mut cookies = chrome.cookies().await?;
    assert_eq!(cookies.len(), 1, "only the session id: {cookies:?}");
    let cookie = cookies.remove(0);
    assert_eq!(cookie.name, "sessionid");
    Ok(cookie)
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn remember_me_outlives_a_browser_restart_and_forget_me_ends_the_session() -> Result<()> {
    let binary = tokio::task::spawn_blocking(build_solution).await.unwrap();
    // Sessions in memory, every visit counted.
    let mut command = rango_site::testing::command(binary.to_str().unwrap());
    command.args(["--session-store", "memory", "--visit-interval", "0s"]);
    let server = Running::start(command, &std::env::temp_dir());
    let about = server.url("/rango/about/");
    let mut chrome = Chrome::launch().await?;

    // A new visitor's cookie ends with the browser (stage 3's default).
    chrome.goto(&about).await?;
    assert!(
        chrome
            .text("#lifetime")
            .await?
            .contains("close the browser"),
        "before any choice"
    );
    assert_eq!(session_cookie(&chrome).await?.expiry, None);

    // "Remember me": the same session, now with a two-week cookie, which
    // the browser keeps across a restart.
    chrome.click(r#"button[value="yes"]"#).await?;
    assert!(chrome.text("#lifetime").await?.contains("two weeks"));
    assert_eq!(chrome.shown_visits().await?, "2", "the visit count stays");
    let remembered = session_cookie(&chrome).await?;
    assert!(remembered.expiry.is_some(), "{remembered:?}");
    chrome
        .screenshot(&screenshot_dir().join("exercises-remember.png"))
        .await?;
    chrome.restart().await?;
    chrome.goto(&about).await?;
    assert_eq!(chrome.shown_visits().await?, "3", "the session goes on");
    assert_eq!(session_cookie(&chrome).await?.value, remembered.value);

    // "Only until the browser closes": the same session again, with a
    // cookie the browser drops when it closes.
    chrome.click(r#"button[value="no"]"#).await?;
    assert!(
        chrome
            .text("#lifetime")
            .await?
            .contains("close the browser")
    );
    let browser_length = session_cookie(&chrome).await?;
    assert_eq!(browser_length.value, remembered.value, "the same session");
    assert_eq!(browser_length.expiry, None, "{browser_length:?}");
    chrome.restart().await?;
    chrome.goto(&about).await?;
    assert_eq!(chrome.shown_visits().await?, "1", "a new session");
    let new = session_cookie(&chrome).await?;
    assert_ne!(new.value, remembered.value, "a new id");

    // "Forget me", from the footer: the session ends, and the home page
    // it leads to starts a new one.
    chrome.goto(&server.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    chrome.click("footer form button").await?;
    assert_eq!(chrome.current_url().await?, server.url("/rango/"));
    assert_eq!(chrome.shown_visits().await?, "1", "counting from 1 again");
    assert_ne!(session_cookie(&chrome).await?.value, new.value, "a new id");
    chrome.quit().await
}
