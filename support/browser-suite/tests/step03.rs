//! Stage 3 in Chromium: the counter moves to the server, the browser keeps
//! only the session id.

use std::time::Duration;

use browser_suite::{Chrome, Cookie, Result, Server, screenshot_dir};
use chrono::{DateTime, TimeDelta, Utc};
use rango_sessions::testing::{Kind, TestStore};
use rango_site::Clock;
use rango_site::Console;
use step03_server_sessions::{Config, app};

/// Stage 3 on its default store, an `SQLite` file, with a clock the test
/// moves and visits an hour apart.
async fn start(clock: &Clock, sessions: &TestStore) -> Server {
    let (console, _) = Console::buffer();
    Server::start(app(Config {
        console,
        clock: clock.clone(),
        visit_interval: Duration::from_secs(60 * 60),
        store: sessions.store.clone(),
        secure_cookies: false,
    }))
    .await
}

fn start_time() -> DateTime<Utc> {
    "2025-03-01T09:30:00Z".parse().unwrap()
}

/// The browser's only cookie, which must be an `HttpOnly` `sessionid`.
async fn session_cookie(chrome: &Chrome) -> Result<Cookie> {
    let cookie = chrome.session_cookie().await?;
    assert!(cookie.http_only, "page scripts must not see it: {cookie:?}");
    assert_eq!(cookie.path, "/");
    Ok(cookie)
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn only_the_session_id_reaches_the_browser() -> Result<()> {
    let sessions = Kind::Sqlite.open().await;
    let clock = Clock::manual(start_time());
    let site = start(&clock, &sessions).await;
    let chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "1");
    chrome
        .screenshot(&screenshot_dir().join("step03.png"))
        .await?;
    let session = session_cookie(&chrome).await?;

    // A reload within the interval: same session, the visit does not count.
    clock.advance(TimeDelta::minutes(30));
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "1");
    assert_eq!(session_cookie(&chrome).await?.value, session.value);

    // After the interval the count rises, on the server, in the same session.
    clock.advance(TimeDelta::hours(1));
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    clock.advance(TimeDelta::hours(1));
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "3");
    assert_eq!(session_cookie(&chrome).await?.value, session.value);

    // Other pages see the same session and set nothing new.
    chrome.goto(&site.url("/rango/about/")).await?;
    assert_eq!(session_cookie(&chrome).await?.value, session.value);
    chrome.quit().await
}
