//! Stage 1 over real HTTP: the app on a free port, a client that keeps cookies.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use step01_test_cookie::{Config, Console, app, app_with_store};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

// ANCHOR: site
/// A running copy of the app and what it printed on its console.
struct Site {
    base: String,
    console: Arc<Mutex<Vec<u8>>>,
}

impl Site {
    async fn start() -> Self {
        let (console, buffer) = Console::buffer();
        let base = serve(app(Config { console })).await;
        Self {
            base,
            console: buffer,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn console_lines(&self) -> Vec<String> {
        let bytes = self.console.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
// ANCHOR_END: site

// ANCHOR: serve
/// Serves `router` on a free port and returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    // `localhost`, not 127.0.0.1: it is the name cookie jars treat as a real host.
    format!("http://localhost:{port}")
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

fn cookieless_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(false)
        .build()
        .unwrap()
}
// ANCHOR_END: serve

async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

// ANCHOR: message_once
#[tokio::test]
async fn index_then_about_prints_the_message_once() {
    let site = Site::start().await;
    let client = browser();

    assert_eq!(get(&client, &site.url("/rango/")).await.0, StatusCode::OK);
    assert!(
        site.console_lines().is_empty(),
        "the index alone must print nothing"
    );

    assert_eq!(
        get(&client, &site.url("/rango/about/")).await.0,
        StatusCode::OK
    );
    assert_eq!(site.console_lines(), ["TEST COOKIE WORKED!"]);

    // The About page deleted the test value: a second visit prints nothing more.
    assert_eq!(
        get(&client, &site.url("/rango/about/")).await.0,
        StatusCode::OK
    );
    assert_eq!(site.console_lines(), ["TEST COOKIE WORKED!"]);

    // Until the index sets it again.
    get(&client, &site.url("/rango/")).await;
    get(&client, &site.url("/rango/about/")).await;
    assert_eq!(
        site.console_lines(),
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
        site.console_lines().is_empty(),
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
    assert!(site.console_lines().is_empty());
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
    assert!(
        cookie.value().len() >= 20,
        "a long random id, got {:?}",
        cookie.value()
    );
}
// ANCHOR_END: cookie_attributes

#[tokio::test]
async fn the_root_redirects_to_rango() {
    let site = Site::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(site.url("/")).send().await.unwrap();
    assert!(
        response.status().is_redirection(),
        "got {}",
        response.status()
    );
    assert_eq!(response.headers()[LOCATION], "/rango/");
}

#[tokio::test]
async fn unknown_paths_get_a_404_page() {
    let site = Site::start().await;
    for path in ["/nope", "/rango/nope/", "/rango/about/extra"] {
        let (status, body) = get(&browser(), &site.url(path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("Page not found"), "{path}: {body}");
    }
}

/// The text of each `<li>` in the list with the given id, tags removed.
fn list_items(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("<ol id=\"{id}\">"))
        .expect("list present");
    let list = &html[start..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<li>")
        .skip(1)
        .map(|item| {
            let mut text = String::new();
            let mut in_tag = false;
            for c in item.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[tokio::test]
async fn the_index_lists_the_top_five_in_order() {
    let site = Site::start().await;
    let (status, body) = get(&browser(), &site.url("/rango/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list_items(&body, "categories"),
        [
            "Rust (128 likes)",
            "Python (64 likes)",
            "Web Security (48 likes)",
            "Django (32 likes)",
            "Other Frameworks (16 likes)",
        ]
    );
    assert_eq!(
        list_items(&body, "pages"),
        [
            "MDN: HTTP cookies (150 views)",
            "Django documentation (120 views)",
            "The Rust Book (90 views)",
            "axum on docs.rs (75 views)",
            "OWASP Session Management Cheat Sheet (60 views)",
        ]
    );
}

/// A store that is down: every operation fails.
#[derive(Debug, Clone)]
struct BrokenStore;

#[async_trait::async_trait]
impl SessionStore for BrokenStore {
    async fn save(&self, _: &Record) -> session_store::Result<()> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
    async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
    async fn delete(&self, _: &Id) -> session_store::Result<()> {
        Err(session_store::Error::Backend("disk on fire".into()))
    }
}

#[tokio::test]
async fn a_failing_store_gives_a_readable_500_and_the_server_keeps_serving() {
    let (console, _) = Console::buffer();
    let base = serve(app_with_store(Config { console }, BrokenStore)).await;
    let client = cookieless_browser();

    // Saving the new session fails after the handler ran.
    let (status, body) = get(&client, &format!("{base}/rango/")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("session store is not answering"), "{body}");

    // Loading a known-looking session fails inside the handler.
    let response = client
        .get(format!("{base}/rango/about/"))
        .header("Cookie", format!("sessionid={}", Id::default()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("session store is not answering")
    );

    // Pages that do not touch the session still work.
    assert_eq!(
        get(&client, &format!("{base}/nope")).await.0,
        StatusCode::NOT_FOUND
    );
}
