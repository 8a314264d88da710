//! Stage 2 over real HTTP: the app on a free port, a client that keeps cookies,
//! and a clock the tests move by hand.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use chrono::{TimeDelta, TimeZone, Utc};
use rango_site::testing::{Server, browser, cookieless_browser, get, visits_in};
use rango_site::{Clock, Console, Printed};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE, VARY};
use step02_client_cookies::visits::format_last_visit;
use step02_client_cookies::{Config, app};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

// ANCHOR: site
/// A running copy of the app, its hand-moved clock and what it printed on
/// its console.
struct Site {
    server: Server,
    clock: Clock,
    console: Printed,
}

impl Site {
    /// A site counting at most one visit a day, as the chapter's does.
    async fn start() -> Self {
        Self::start_with(DAY, None).await
    }

    async fn start_with(visit_interval: Duration, cookie_key: Option<Key>) -> Self {
        let (console, printed) = Console::buffer();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap());
        let config = Config {
            console,
            clock: clock.clone(),
            visit_interval,
            cookie_key,
        };
        Self {
            server: Server::start(app(config)).await,
            clock,
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
        site.clock.advance(TimeDelta::days(2));
    }
    // Every visit looks like the first: nothing came back to count from.
    let (_, body) = get(&client, &site.url("/rango/")).await;
    assert_eq!(visits_in(&body), 1);
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
    let mut names: Vec<_> = cookies.iter().map(reqwest::cookie::Cookie::name).collect();
    names.sort_unstable();
    assert_eq!(names, ["last_visit", "sessionid", "visits"]);
    let cookie = cookies.iter().find(|c| c.name() == "sessionid").unwrap();
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

/// The cookies `response` sets, by name, decoded as the server's jar reads them.
fn set_cookies(response: &reqwest::Response) -> HashMap<String, Cookie<'static>> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|line| Cookie::parse_encoded(line.to_str().unwrap().to_owned()).unwrap())
        .map(|cookie| (cookie.name().to_owned(), cookie))
        .collect()
}

/// The `name=value` of each cookie `response` sets, exactly as it travels,
/// in the order of their names.
fn raw_cookies(response: &reqwest::Response) -> BTreeMap<String, String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|line| {
            let pair = line.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// One visit to the index: the count it shows and the cookies it sets.
async fn visit(client: &reqwest::Client, site: &Site) -> (u64, HashMap<String, Cookie<'static>>) {
    let response = client.get(site.url("/rango/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    (visits_in(&response.text().await.unwrap()), cookies)
}

// ANCHOR: rises_once_per_interval
#[tokio::test]
async fn the_counter_rises_once_per_interval() {
    let site = Site::start().await;
    let client = browser();
    let first = site.clock.now();

    let (visits, cookies) = visit(&client, &site).await;
    assert_eq!(visits, 1, "first visit");
    assert_eq!(cookies["visits"].value(), "1");
    assert_eq!(cookies["last_visit"].value(), format_last_visit(first));

    site.clock
        .advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    let (visits, cookies) = visit(&client, &site).await;
    assert_eq!(visits, 1, "a minute short of a day");
    assert_eq!(
        cookies["last_visit"].value(),
        format_last_visit(first),
        "last_visit stays while the count does"
    );

    site.clock.advance(TimeDelta::minutes(1));
    let second = site.clock.now();
    let (visits, cookies) = visit(&client, &site).await;
    assert_eq!(visits, 2, "a whole day since the first");
    assert_eq!(cookies["visits"].value(), "2");
    assert_eq!(cookies["last_visit"].value(), format_last_visit(second));

    site.clock.advance(TimeDelta::hours(12));
    let (visits, cookies) = visit(&client, &site).await;
    assert_eq!(visits, 2, "half a day since the count");
    assert_eq!(cookies["last_visit"].value(), format_last_visit(second));

    site.clock.advance(TimeDelta::days(30));
    let (visits, cookies) = visit(&client, &site).await;
    assert_eq!(visits, 3, "a month away is one visit");
    assert_eq!(
        cookies["last_visit"].value(),
        format_last_visit(site.clock.now())
    );
}
// ANCHOR_END: rises_once_per_interval

#[tokio::test]
async fn a_zero_interval_counts_every_request() {
    let site = Site::start_with(Duration::ZERO, None).await;
    let client = browser();
    for expected in 1..=5 {
        assert_eq!(visit(&client, &site).await.0, expected);
    }
}

#[tokio::test]
async fn intervals_shorter_than_a_second_work() {
    let site = Site::start_with(Duration::from_millis(500), None).await;
    let client = browser();
    assert_eq!(visit(&client, &site).await.0, 1);
    site.clock.advance(TimeDelta::milliseconds(499));
    assert_eq!(visit(&client, &site).await.0, 1);
    site.clock.advance(TimeDelta::milliseconds(1));
    assert_eq!(visit(&client, &site).await.0, 2);
}

#[tokio::test]
async fn the_visit_cookies_have_sensible_attributes() {
    let site = Site::start().await;
    let response = browser().get(site.url("/rango/")).send().await.unwrap();
    let cookies = set_cookies(&response);
    for name in ["visits", "last_visit"] {
        let cookie = &cookies[name];
        assert_eq!(cookie.path(), Some("/"), "{name}: the whole site");
        assert_eq!(cookie.http_only(), Some(true), "{name}: no scripts");
        assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{name}");
        assert_ne!(cookie.secure(), Some(true), "{name}: plain-HTTP localhost");
        let lifetime = cookie.max_age().expect("outlives the browser session");
        assert_eq!(lifetime.whole_days(), 365, "{name}");
    }
    let last_visit =
        chrono::DateTime::parse_from_rfc3339(cookies["last_visit"].value()).expect("RFC 3339");
    assert_eq!(last_visit, site.clock.now());
}

#[tokio::test]
async fn cookie_pages_vary_on_cookie() {
    let site = Site::start().await;
    for path in ["/rango/", "/rango/cookies/"] {
        let response = browser().get(site.url(path)).send().await.unwrap();
        assert_eq!(response.headers()[VARY], "cookie", "{path}");
    }
}

// ANCHOR: cookies_page
#[tokio::test]
async fn the_cookies_page_shows_what_the_browser_sent_escaped() {
    let site = Site::start().await;
    let sent = "visits=2; last_visit=2025-01-01T09%3A00%3A00.000Z; \
                note=<script>alert(1)</script>; sessionid=abcdefghijklmnopqrstuvwx";
    let response = cookieless_browser()
        .get(site.url("/rango/cookies/"))
        .header(COOKIE, sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<td><code>visits</code></td><td><code>2</code></td>"),
        "{body}"
    );
    assert!(
        body.contains("<code>2025-01-01T09%3A00%3A00.000Z</code>"),
        "{body}"
    );
    assert!(
        !body.contains("<script>"),
        "the value must be escaped: {body}"
    );
    assert!(
        body.contains("<code>&#60;script&#62;alert(1)&#60;/script&#62;</code>"),
        "{body}"
    );
    assert!(
        body.contains("<code>abcdef…</code>"),
        "the session id is cut short"
    );
    assert!(!body.contains("abcdefghijkl"), "{body}");
    assert!(body.contains("<strong>plain</strong>"), "{body}");

    let (_, empty) = get(&cookieless_browser(), &site.url("/rango/cookies/")).await;
    assert!(
        empty.contains("No cookies came with this request"),
        "{empty}"
    );

    let (_, index) = get(&browser(), &site.url("/rango/")).await;
    assert!(
        index.contains(r#"<a href="/rango/cookies/">"#),
        "linked from the footer"
    );
}
// ANCHOR_END: cookies_page

// ANCHOR: tampering
/// The visitor edits `visits` to 99 in the developer tools. A plain jar takes
/// the number at its word; a signed one sees the signature no longer matches
/// and counts from 1 again.
#[tokio::test]
async fn an_edited_count_is_believed_plain_and_rejected_signed() {
    for (key, expected) in [(None, 99), (Some(Key::generate()), 1)] {
        let signed = key.is_some();
        let site = Site::start_with(DAY, key).await;
        let client = cookieless_browser();

        // Two honest visits a day apart, carrying the cookies by hand.
        let response = client.get(site.url("/rango/")).send().await.unwrap();
        let sent = raw_cookies(&response);
        site.clock.advance(TimeDelta::days(1));
        let response = client
            .get(site.url("/rango/"))
            .header(COOKIE, cookie_header(&sent))
            .send()
            .await
            .unwrap();
        let mut sent = raw_cookies(&response);
        assert_eq!(
            visits_in(&response.text().await.unwrap()),
            2,
            "signed: {signed}"
        );

        // The edit: 2 becomes 99, after the signature if there is one.
        let visits = &sent["visits"];
        let edited = if signed {
            let (signed_count, time) = visits.split_once("%7C").expect("COUNT|TIME");
            format!("{}99%7C{time}", signed_count.strip_suffix('2').unwrap())
        } else {
            "99".to_owned()
        };
        assert_eq!(
            edited.len() > 40,
            signed,
            "a signed value carries its signature"
        );
        sent.insert("visits".to_owned(), edited);
        let response = client
            .get(site.url("/rango/"))
            .header(COOKIE, cookie_header(&sent))
            .send()
            .await
            .unwrap();
        let visits = visits_in(&response.text().await.unwrap());
        assert_eq!(visits, expected, "signed: {signed}");
    }
}
// ANCHOR_END: tampering

// ANCHOR: mixed
/// Signed cookies from different answers cannot be mixed: the count and the
/// time are signed together, so the newest count cannot travel with the
/// oldest time (which would count every request as a new visit).
#[tokio::test]
async fn signed_counts_and_times_cannot_be_mixed() {
    let site = Site::start_with(DAY, Some(Key::generate())).await;
    let client = cookieless_browser();
    let first = raw_cookies(&client.get(site.url("/rango/")).send().await.unwrap());
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["sessionid", "visits"],
        "one signed cookie holds both"
    );
    site.clock.advance(TimeDelta::days(1));
    let response = client
        .get(site.url("/rango/"))
        .header(COOKIE, cookie_header(&first))
        .send()
        .await
        .unwrap();
    let second = raw_cookies(&response);
    assert_eq!(visits_in(&response.text().await.unwrap()), 2);

    // Today's signed count with the first day's time, spliced.
    let (today_signed, _) = second["visits"].split_once("%7C").unwrap();
    let (_, first_time) = first["visits"].split_once("%7C").unwrap();
    let spliced = format!("visits={today_signed}%7C{first_time}");
    // And the old way in: a `last_visit` cookie from the first day.
    let beside = format!(
        "visits={}; last_visit=2024-12-31T09%3A00%3A00.000Z",
        second["visits"]
    );
    for (label, header, expected) in [("spliced", spliced, 1), ("beside", beside, 2)] {
        for _ in 0..3 {
            let response = client
                .get(site.url("/rango/"))
                .header(COOKIE, &header)
                .send()
                .await
                .unwrap();
            let shown = visits_in(&response.text().await.unwrap());
            assert_eq!(shown, expected, "{label}: no extra visits");
        }
    }
}
// ANCHOR_END: mixed

/// A `Cookie` header that sends back `cookies`.
fn cookie_header(cookies: &BTreeMap<String, String>) -> String {
    cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn a_signed_site_rejects_plain_values_and_says_it_signs() {
    let site = Site::start_with(Duration::ZERO, Some(Key::generate())).await;
    let response = cookieless_browser()
        .get(site.url("/rango/"))
        .header(COOKIE, "visits=5; last_visit=2024-12-31T09%3A00%3A00.000Z")
        .send()
        .await
        .unwrap();
    assert_eq!(visits_in(&response.text().await.unwrap()), 1);

    let (_, page) = get(&cookieless_browser(), &site.url("/rango/cookies/")).await;
    assert!(page.contains("<strong>signed</strong>"), "{page}");
}
