//! Stage 1 in Chromium: the test cookie works in a real browser.

use browser_suite::{Chrome, Result, Server, screenshot_dir};
use rango_site::{Console, Printed};
use step01_test_cookie::{Config, app};

/// Stage 1 served in-process, and what it printed on its console.
async fn start() -> Result<(Server, Printed)> {
    let (console, printed) = Console::buffer();
    Ok((Server::start(app(Config { console })).await, printed))
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn index_then_about_prints_the_message_once() -> Result<()> {
    let (site, console) = start().await?;
    let chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    assert!(
        chrome.text("main").await?.contains("Most liked categories"),
        "the index rendered"
    );
    chrome
        .screenshot(&screenshot_dir().join("step01.png"))
        .await?;
    assert!(console.lines().is_empty(), "the index alone prints nothing");

    chrome.goto(&site.url("/rango/about/")).await?;
    assert!(chrome.text("h2").await?.contains("About Rango"));
    assert_eq!(console.lines(), ["TEST COOKIE WORKED!"]);

    // The About page deleted the test value: reloading it prints nothing more.
    chrome.refresh().await?;
    assert_eq!(console.lines(), ["TEST COOKIE WORKED!"]);
    chrome.quit().await
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn the_browser_holds_only_an_httponly_session_cookie() -> Result<()> {
    let (site, _console) = start().await?;
    let chrome = Chrome::launch().await?;
    chrome.goto(&site.url("/rango/")).await?;

    let cookies = chrome.cookies().await?;
    assert_eq!(cookies.len(), 1, "one cookie: {cookies:?}");
    let cookie = &cookies[0];
    assert_eq!(cookie.name, "sessionid");
    assert!(cookie.http_only, "{cookie:?}");
    assert!(!cookie.secure, "{cookie:?}");
    assert_eq!(cookie.same_site.as_deref(), Some("Lax"), "{cookie:?}");
    assert_eq!(cookie.path, "/");
    // tower-sessions sets no expiry unless told to: a browser-session cookie.
    assert_eq!(cookie.expiry, None, "{cookie:?}");
    chrome.quit().await
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn restarting_the_browser_ends_the_session() -> Result<()> {
    let (site, console) = start().await?;
    let mut chrome = Chrome::launch().await?;
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.cookies().await?.len(), 1);

    // The session cookie has no expiry, so closing the browser drops it and
    // the test value set by the index never comes back.
    chrome.restart().await?;
    chrome.goto(&site.url("/rango/about/")).await?;
    assert_eq!(chrome.cookies().await?, []);
    assert!(console.lines().is_empty(), "{console:?}");
    chrome.quit().await
}
