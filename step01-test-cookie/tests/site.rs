//! Stage 1 over real HTTP: the app on a free port, a client that keeps cookies.

use rango_site::testing::{Server, browser, cookieless_browser, get};
use rango_site::{Console, Printed};
use reqwest::StatusCode;
use reqwest::header::{SET_COOKIE, VARY};
use step01_test_cookie::{Config, app};

// ANCHOR: site
/// A running copy of the app and what it prints on its console.
struct Site {
    server: Server,
    console: Printed,
}

impl Site {
    async fn start() -> Self {
        let (console, printed) = Console::buffer();
        let server = Server::start(app(Config { console })).await;
        Self {
            server,
            console: printed,
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }
}
// ANCHOR_END: site

// ANCHOR: message_once
#[tokio::test]
async fn index_then_about_prints_the_message_once() {
    let site = Site::start().await;
    let client = browser();

    assert_eq!(get(&client, &site.url("/rango/")).await.0, StatusCode::OK);
    assert!(
        site.console.lines().is_empty(),
        "the index alone must print nothing"
    );

    assert_eq!(
        get(&client, &site.url("/rango/about/")).await.0,
        StatusCode::OK
    );
    assert_eq!(site.console.lines(), ["TEST COOKIE WORKED!"]);

    // The About page deleted the test value: a second visit prints nothing more.
    assert_eq!(
        get(&client, &site.url("/rango/about/")).await.0,
        StatusCode::OK
    );
    assert_eq!(site.console.lines(), ["TEST COOKIE WORKED!"]);

    // Until the index sets it again.
    get(&client, &site.url("/rango/")).await;
    get(&client, &site.url("/rango/about/")).await;
    assert_eq!(
        site.console.lines(),
        ["TEST COOKIE WORKED!", "TEST COOKIE WORKED!"]
    );
}
// ANCHOR_END: message_once

// ANCHOR: refuses_cookies
#[tokio::test]
async fn a_browser_that_refuses_cookies_still_gets_both_pages() {
    let site = Site::start().await;
    let client = cookieless_browser();
    for path in ["/rango/", "/rango/about/", "/rango/", "/rango/about/"] {
        let (status, body) = get(&client, &site.url(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("Rango"), "{path} should render the site");
    }
    assert!(
        site.console.lines().is_empty(),
        "no cookie came back, so nothing worked"
    );
}
// ANCHOR_END: refuses_cookies

#[tokio::test]
async fn about_first_sets_no_cookie() {
    let site = Site::start().await;
    let response = browser()
        .get(site.url("/rango/about/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get(SET_COOKIE).is_none(),
        "an empty session needs no cookie"
    );
    assert!(site.console.lines().is_empty());
}

// ANCHOR: cookie_attributes
#[tokio::test]
async fn the_session_cookie_has_djangos_attributes() {
    let site = Site::start().await;
    let response = browser().get(site.url("/rango/")).send().await.unwrap();
    let cookies: Vec<_> = response.cookies().collect();
    assert_eq!(cookies.len(), 1, "exactly one cookie: {cookies:?}");
    let cookie = &cookies[0];
    assert_eq!(cookie.name(), "sessionid");
    assert!(
        cookie.http_only(),
        "HttpOnly keeps the id away from page scripts"
    );
    assert!(cookie.same_site_lax(), "SameSite=Lax, as Django sets it");
    assert_eq!(cookie.path(), Some("/"));
    assert!(!cookie.secure(), "plain-HTTP localhost: not Secure");
    assert_eq!(cookie.max_age(), None, "a browser-length cookie");
    assert!(
        cookie.value().len() >= 20,
        "a long random id, got {:?}",
        cookie.value()
    );
}
// ANCHOR_END: cookie_attributes

#[tokio::test]
async fn the_index_shows_the_top_five() {
    let site = Site::start().await;
    let (status, body) = get(&browser(), &site.url("/rango/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<ol id=\"categories\">"), "{body}");
    assert!(
        body.contains("Rango in Rust · stage 1: the test cookie"),
        "{body}"
    );
}

/// Both pages use the session, so they tell caches that they differ from
/// one visitor's cookie to the next.
#[tokio::test]
async fn session_pages_vary_on_cookie() {
    let site = Site::start().await;
    let client = browser();
    for path in ["/rango/", "/rango/about/"] {
        let response = client.get(site.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[VARY], "cookie", "{path}");
    }
}
