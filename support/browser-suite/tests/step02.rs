//! Stage 2 in Chromium: the visit counter lives in the browser's cookie jar.

use std::time::Duration;

use browser_suite::{Chrome, Cookie, Result, Server, screenshot_dir};
use chrono::{DateTime, TimeDelta, Utc};
use rango_site::Clock;
use rango_site::Console;
use step02_client_cookies::{Config, app};

/// Stage 2 with a clock the test moves and visits an hour apart.
async fn start(clock: &Clock) -> Result<Server> {
    let (console, _) = Console::buffer();
    Ok(Server::start(app(Config {
        console,
        clock: clock.clone(),
        visit_interval: Duration::from_secs(60 * 60),
        cookie_key: None,
    }))
    .await)
}

fn start_time() -> DateTime<Utc> {
    "2025-03-01T09:30:00Z".parse().unwrap()
}

fn cookie<'a>(cookies: &'a [Cookie], name: &str) -> &'a Cookie {
    cookies
        .iter()
        .find(|cookie| cookie.name == name)
        .unwrap_or_else(|| panic!("no {name} cookie in the browser: {cookies:?}"))
}

/// `last_visit` must be RFC 3339 for exactly `expected`. axum-extra
/// percent-encodes cookie values, so the browser holds `09%3A30%3A00`
/// where the server meant `09:30:00`.
fn assert_last_visit(cookies: &[Cookie], expected: DateTime<Utc>) {
    let value = &cookie(cookies, "last_visit").value;
    let decoded = percent_decode(value);
    let time = DateTime::parse_from_rfc3339(&decoded)
        .unwrap_or_else(|err| panic!("last_visit={value:?} is not RFC 3339: {err}"));
    assert_eq!(time, expected, "last_visit={value:?}");
}

/// `%XX` escapes turned back into the bytes they stand for.
fn percent_decode(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = value.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|hex| std::str::from_utf8(hex).ok());
        match hex.map(|hex| u8::from_str_radix(hex, 16)) {
            Some(Ok(decoded)) if byte == b'%' => {
                bytes.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("{value:?} is not UTF-8 once decoded"))
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn the_counter_lives_in_the_browsers_cookies() -> Result<()> {
    let clock = Clock::manual(start_time());
    let site = start(&clock).await?;
    let chrome = Chrome::launch().await?;

    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "1");
    chrome
        .screenshot(&screenshot_dir().join("step02.png"))
        .await?;
    let cookies = chrome.cookies().await?;
    let names: Vec<_> = cookies.iter().map(|cookie| cookie.name.as_str()).collect();
    assert_eq!(names, ["last_visit", "sessionid", "visits"]);
    assert_eq!(cookie(&cookies, "visits").value, "1");
    assert_last_visit(&cookies, start_time());

    // Within the interval: the page is seen, the visit does not count.
    clock.advance(TimeDelta::minutes(30));
    chrome.refresh().await?;
    assert_eq!(chrome.shown_visits().await?, "1");
    let cookies = chrome.cookies().await?;
    assert_eq!(cookie(&cookies, "visits").value, "1");
    assert_last_visit(&cookies, start_time());

    // After it: the second visit counts, and `last_visit` moves.
    clock.advance(TimeDelta::hours(1));
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    let cookies = chrome.cookies().await?;
    assert_eq!(cookie(&cookies, "visits").value, "2");
    assert_last_visit(&cookies, start_time() + TimeDelta::minutes(90));
    chrome.quit().await
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: cargo test -p browser-suite -- --ignored"]
async fn the_visit_cookies_outlive_the_browser() -> Result<()> {
    let clock = Clock::manual(start_time());
    let site = start(&clock).await?;
    let mut chrome = Chrome::launch().await?;
    chrome.goto(&site.url("/rango/")).await?;
    let cookies = chrome.cookies().await?;
    for name in ["visits", "last_visit"] {
        assert!(
            cookie(&cookies, name).expiry.is_some(),
            "{name} is persistent"
        );
    }

    // `visits` and `last_visit` carry a lifetime, so they are on disk and
    // survive a browser restart; the session cookie does not.
    chrome.restart().await?;
    clock.advance(TimeDelta::hours(2));
    chrome.goto(&site.url("/rango/")).await?;
    assert_eq!(chrome.shown_visits().await?, "2");
    chrome.quit().await
}
