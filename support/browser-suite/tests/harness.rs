//! The harness itself: what later stages rely on, checked on a tiny site.

use axum::Router;
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::response::{AppendHeaders, Html};
use axum::routing::get;
use browser_suite::{Chrome, Result, Server};

/// `/set` sets one browser-session cookie and one persistent cookie;
/// `/echo` shows the `Cookie` header the browser sent.
fn two_cookies() -> Router {
    Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let cookie = headers
                    .get(COOKIE)
                    .map(|value| value.to_str().unwrap_or("?").to_owned());
                Html(format!(
                    "<p id=\"cookie\">{}</p>",
                    cookie.unwrap_or_default()
                ))
            }),
        )
        .route(
            "/set",
            get(|| async {
                (
                    AppendHeaders([
                        (SET_COOKIE, "short=1; Path=/"),
                        (SET_COOKIE, "long=2; Path=/; Max-Age=3600; HttpOnly"),
                    ]),
                    Html("<p id=\"done\">set</p>"),
                )
            }),
        )
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn a_restart_drops_session_cookies_and_keeps_persistent_ones() -> Result<()> {
    let site = Server::start(two_cookies()).await;
    let mut chrome = Chrome::launch().await?;
    chrome.goto(&site.url("/set")).await?;
    assert_eq!(chrome.text("#done").await?, "set");
    let names: Vec<_> = chrome
        .cookies()
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["long", "short"]);

    chrome.restart().await?;
    chrome.goto(&site.url("/echo")).await?;
    assert_eq!(
        chrome.text("#cookie").await?,
        "long=2",
        "what the browser sent"
    );
    let cookies = chrome.cookies().await?;
    assert_eq!(cookies.len(), 1, "only the persistent cookie: {cookies:?}");
    assert_eq!(cookies[0].name, "long");
    assert_eq!(cookies[0].value, "2");
    assert!(cookies[0].http_only);
    assert!(cookies[0].expiry.is_some());
    chrome.quit().await
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn an_error_page_is_reported_not_read() -> Result<()> {
    let site = Server::start(Router::new()).await;
    let chrome = Chrome::launch().await?;
    // axum's default 404 has an empty body, which Chromium replaces with
    // its own page: reading cookies from that would silently find none.
    let err = chrome
        .goto(&site.url("/missing"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("its own error page"), "{err}");
    assert!(err.contains("HTTP ERROR 404"), "{err}");
    chrome.quit().await
}
