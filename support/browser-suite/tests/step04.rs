//! Stage 4 in Chromium: a browser-length session ends when the browser
//! closes; a persistent one survives the restart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use browser_suite::{Chrome, Cookie, Result, Server, screenshot_dir};
use rango_sessions::testing::{Kind, TestStore};
use rango_site::Console;
use step04_expiry::expiry::SessionExpiry;
use step04_expiry::{Config, app};

/// How long the sessions last in these tests: an hour.
const AGE: Duration = Duration::from_secs(60 * 60);

/// Stage 4 on an `SQLite` file, counting every visit.
async fn start(sessions: &TestStore, at_browser_close: bool) -> Server {
    let (console, _) = Console::buffer();
    Server::start(app(Config {
        console,
        visit_interval: Duration::ZERO,
        store: sessions.store.clone(),
        expiry: SessionExpiry {
            cookie_age: AGE,
            at_browser_close,
            ..SessionExpiry::default()
        },
        ..Config::default()
    }))
    .await
}

/// What a browser sees across a restart, in one mode.
struct AcrossARestart {
    /// The session cookie after two visits.
    before: Cookie,
    /// When it was read, in seconds since the epoch.
    read_at: u64,
    /// The count shown on the first visit after the restart.
    visits_after: String,
    /// The session cookie then.
    after: Cookie,
}

/// Two visits, the browser closed and opened again, and one more visit.
async fn visit_restart_visit(at_browser_close: bool) -> Result<AcrossARestart> {
    let sessions = Kind::Sqlite.open().await;
    let site = start(&sessions, at_browser_close).await;
    let mut chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    if at_browser_close {
        chrome
            .screenshot(&screenshot_dir().join("step04.png"))
            .await?;
    }
    let before = chrome.session_cookie().await?;
    let read_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();

    chrome.restart().await?;
    chrome.goto(&site.url("/rango/")).await?;
    let visits_after = chrome.shown_visits().await?;
    let after = chrome.session_cookie().await?;
    chrome.quit().await?;
    Ok(AcrossARestart {
        before,
        read_at,
        visits_after,
        after,
    })
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn a_browser_length_session_ends_when_the_browser_closes() -> Result<()> {
    let seen = visit_restart_visit(true).await?;
    assert_eq!(seen.before.expiry, None, "no lifetime: a session cookie");
    // Closing the browser dropped the cookie, so the server saw a stranger.
    assert_eq!(seen.visits_after, "1", "a new session");
    assert_ne!(seen.after.value, seen.before.value, "a new id");
    Ok(())
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn a_persistent_session_survives_a_browser_restart() -> Result<()> {
    let seen = visit_restart_visit(false).await?;
    let (expiry, now) = (seen.before.expiry, seen.read_at);
    let expiry = expiry.expect("a lifetime: kept on disk");
    assert!(
        expiry.abs_diff(now + AGE.as_secs()) <= 5,
        "expires in an hour: {expiry} vs now {now}"
    );
    assert_eq!(seen.visits_after, "3", "the same session goes on");
    assert_eq!(seen.after.value, seen.before.value, "the same id");
    Ok(())
}
