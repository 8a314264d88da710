//! Stage 4 in Chromium: a browser-length session ends when the browser
//! closes; a persistent one survives the restart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use browser_suite::{Chrome, Cookie, Result, Server, TempDir, screenshot_dir};
use rango_sessions::Store;
use rango_site::Console;
use step04_expiry::expiry::SessionExpiry;
use step04_expiry::{Config, app};

/// How long the sessions last in these tests: an hour.
const AGE: Duration = Duration::from_secs(60 * 60);

/// Stage 4 on an `SQLite` file in `dir`, counting every visit.
async fn start(dir: &TempDir, at_browser_close: bool) -> Result<Server> {
    let (console, _) = Console::buffer();
    let url = format!("sqlite://{}", dir.path().join("rango.sqlite3").display());
    let store = Store::open(&url, false)
        .await
        .unwrap_or_else(|err| panic!("cannot open {url}: {err}"));
    Ok(Server::start(app(Config {
        console,
        visit_interval: Duration::ZERO,
        store,
        expiry: SessionExpiry {
            cookie_age: AGE,
            at_browser_close,
            ..SessionExpiry::default()
        },
        ..Config::default()
    }))
    .await)
}

/// The browser's only cookie, which must be `sessionid`.
async fn session_cookie(chrome: &Chrome) -> Result<Cookie> {
    let mut cookies = chrome.cookies().await?;
    assert_eq!(cookies.len(), 1, "only the session id: {cookies:?}");
    let cookie = cookies.remove(0);
    assert_eq!(cookie.name, "sessionid");
    Ok(cookie)
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn a_browser_length_session_ends_when_the_browser_closes() -> Result<()> {
    let dir = TempDir::new()?;
    let site = start(&dir, true).await?;
    let mut chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    chrome
        .screenshot(&screenshot_dir().join("step04.png"))
        .await?;
    let cookie = session_cookie(&chrome).await?;
    assert_eq!(cookie.expiry, None, "no lifetime: a session cookie");

    // Closing the browser drops the cookie, so the server sees a stranger.
    chrome.restart().await?;
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "1", "a new session");
    assert_ne!(
        session_cookie(&chrome).await?.value,
        cookie.value,
        "a new id"
    );
    chrome.quit().await
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn a_persistent_session_survives_a_browser_restart() -> Result<()> {
    let dir = TempDir::new()?;
    let site = start(&dir, false).await?;
    let mut chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    let cookie = session_cookie(&chrome).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry = cookie.expiry.expect("a lifetime: kept on disk");
    assert!(
        expiry.abs_diff(now + AGE.as_secs()) <= 5,
        "expires in an hour: {expiry} vs now {now}"
    );

    chrome.restart().await?;
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(
        chrome.shown_visits().await?,
        "3",
        "the same session goes on"
    );
    assert_eq!(
        session_cookie(&chrome).await?.value,
        cookie.value,
        "the same id"
    );
    chrome.quit().await
}
