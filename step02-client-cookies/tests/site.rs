//! Stage 2 over real HTTP: the app on a free port, a client that keeps
//! cookies or sends them by hand, and a clock the tests move.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use rango_site::testing::{Server, browser, cookieless_browser, get, visits_in};
use rango_site::{Clock, Console, Printed};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderValue, SET_COOKIE, VARY};
use step02_client_cookies::visits::{format_last_visit, visitor_cookie_handler};
use step02_client_cookies::{Config, app};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A running copy of the app, its hand-moved clock (at 2025-01-10 12:00
/// UTC) and what it printed on its console.
struct Site {
    server: Server,
    clock: Clock,
    console: Printed,
}

impl Site {
    async fn start(visit_interval: Duration, cookie_key: Option<Key>) -> Self {
        let (console, printed) = Console::buffer();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).unwrap());
        let config = Config {
            console,
            clock: clock.clone(),
            visit_interval,
            cookie_key,
        };
        let server = Server::start(app(config)).await;
        Self {
            server,
            clock,
            console: printed,
        }
    }

    /// Loads the index sending `cookie` as the `Cookie` header (none if
    /// empty): the count shown and each cookie set, by name, as it travels.
    async fn index(&self, cookie: &[u8]) -> (u64, BTreeMap<String, String>) {
        let mut request = cookieless_browser().get(self.server.url("/rango/"));
        if !cookie.is_empty() {
            request = request.header(COOKIE, HeaderValue::from_bytes(cookie).unwrap());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{cookie:?}");
        let set = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|line| {
                let pair = line.to_str().unwrap().split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect();
        (visits_in(&response.text().await.unwrap()), set)
    }
}

/// A `Cookie` header that sends back `cookies` (leaving the session out).
fn sent_back(cookies: &BTreeMap<String, String>) -> String {
    let pairs: Vec<_> = cookies
        .iter()
        .filter(|(name, _)| *name != "sessionid")
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    pairs.join("; ")
}

#[tokio::test]
async fn index_then_about_prints_the_message_once() {
    let site = Site::start(DAY, None).await;
    let client = browser();
    get(&client, &site.server.url("/rango/")).await;
    assert!(site.console.lines().is_empty(), "the index prints nothing");
    for _ in 0..2 {
        let (status, _) = get(&client, &site.server.url("/rango/about/")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(site.console.lines(), ["TEST COOKIE WORKED!"]);
    }
}

// ANCHOR: rises_once_per_interval
#[tokio::test]
async fn the_counter_rises_once_per_interval() {
    let site = Site::start(DAY, None).await;
    let client = browser();
    let visit = async || {
        let response = client.get(site.server.url("/rango/")).send().await;
        visits_in(&response.unwrap().text().await.unwrap())
    };
    assert_eq!(visit().await, 1, "first visit");
    site.clock
        .advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    assert_eq!(visit().await, 1, "a minute short of a day");
    site.clock.advance(TimeDelta::minutes(1));
    assert_eq!(visit().await, 2, "a whole day since the first");
    site.clock.advance(TimeDelta::hours(12));
    assert_eq!(visit().await, 2, "half a day since the count");
    site.clock.advance(TimeDelta::days(30));
    assert_eq!(visit().await, 3, "a month away is one visit");
}
// ANCHOR_END: rises_once_per_interval

#[tokio::test]
async fn intervals_shorter_than_a_second_work() {
    let site = Site::start(Duration::from_millis(500), None).await;
    let (visits, cookies) = site.index(b"").await;
    assert_eq!(visits, 1);
    let now = format_last_visit(site.clock.now());
    assert_eq!(cookies["last_visit"], now.replace(':', "%3A"));
    site.clock.advance(TimeDelta::milliseconds(499));
    assert_eq!(site.index(sent_back(&cookies).as_bytes()).await.0, 1);
    site.clock.advance(TimeDelta::milliseconds(1));
    assert_eq!(site.index(sent_back(&cookies).as_bytes()).await.0, 2);
}

#[tokio::test]
async fn the_cookies_have_sensible_attributes_and_pages_vary_on_them() {
    let site = Site::start(DAY, None).await;
    let response = browser()
        .get(site.server.url("/rango/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[VARY], "cookie");
    for line in response.headers().get_all(SET_COOKIE) {
        let cookie = Cookie::parse_encoded(line.to_str().unwrap()).unwrap();
        let name = cookie.name();
        assert_eq!(cookie.path(), Some("/"), "{name}: the whole site");
        assert_eq!(cookie.http_only(), Some(true), "{name}: no scripts");
        assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{name}");
        assert_ne!(cookie.secure(), Some(true), "{name}: plain-HTTP localhost");
        let days = cookie.max_age().map(time::Duration::whole_days);
        let expected = if name == "sessionid" { None } else { Some(365) };
        assert_eq!(
            days, expected,
            "{name}: the visit cookies outlive the browser"
        );
    }
}

#[tokio::test]
async fn the_cookies_page_shows_what_the_browser_sent_escaped() {
    let site = Site::start(DAY, None).await;
    let sent = "visits=2; note=<script>alert(1)</script>; sessionid=abcdefghijklmnopqrstuvwx";
    let response = cookieless_browser()
        .get(site.server.url("/rango/cookies/"))
        .header(COOKIE, sent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[VARY], "cookie");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<td><code>visits</code></td><td><code>2</code></td>"),
        "{body}"
    );
    assert!(
        body.contains("<code>&#60;script&#62;alert(1)&#60;/script&#62;</code>"),
        "{body}"
    );
    assert!(
        body.contains("<code>abcdef…</code>") && !body.contains("abcdefg"),
        "{body}"
    );
    assert!(body.contains("<strong>plain</strong>"), "{body}");
}

// ANCHOR: bad_values
/// Each `Cookie` header, against a clock at 2025-01-10 12:00 UTC and a day
/// between visits, and the count the page must show. Whatever comes back,
/// the page is a 200, and what does not hold up counts from 1 again.
#[rustfmt::skip]
const HEADERS: &[(&str, &[u8], u64)] = &[
    ("none", b"", 1),
    ("a day later", b"visits=3; last_visit=2025-01-09T12:00:00.000Z", 4),
    ("too soon", b"visits=3; last_visit=2025-01-10T11:00:00.000Z", 3),
    ("another offset", b"visits=3; last_visit=2025-01-10T13:00:00%2B02:00", 3),
    ("other cookies", b"a=1; visits=3; last_visit=2025-01-09T12:00:00Z; b=2", 4),
    ("letters", b"visits=lots; last_visit=2025-01-09T12:00:00.000Z", 1),
    ("negative", b"visits=-5; last_visit=2025-01-09T12:00:00.000Z", 1),
    ("too big", b"visits=99999999999999999999; last_visit=2025-01-09T12:00:00Z", 1),
    ("a word", b"visits=3; last_visit=yesterday", 1),
    ("Python's str(datetime)", b"visits=3; last_visit=2025-01-09 12:00:00.123456", 1),
    ("the future", b"visits=3; last_visit=2025-01-10T13:00:00.000Z", 1),
    ("no time", b"visits=3", 1),
    ("no count", b"last_visit=2025-01-09T12:00:00.000Z", 1),
    ("not UTF-8", b"visits=3\xff; last_visit=2025-01-09T12:00:00.000Z", 1),
    ("decodes to no text", b"visits=3%FF; last_visit=2025-01-09T12:00:00.000Z", 1),
    ("garbage", b";;=; ==\t; visits", 1),
];

#[tokio::test]
async fn every_cookie_header_gets_a_page_and_bad_values_count_from_1() {
    let site = Site::start(DAY, None).await;
    let now = format_last_visit(site.clock.now()).replace(':', "%3A");
    for &(label, header, expected) in HEADERS {
        let (visits, cookies) = site.index(header).await;
        assert_eq!(visits, expected, "{label}");
        assert_eq!(cookies["visits"], expected.to_string(), "{label}");
        if expected == 1 {
            assert_eq!(cookies["last_visit"], now, "{label}: a fresh time");
        }
    }
}
// ANCHOR_END: bad_values

// ANCHOR: tampering
/// The visitor edits `visits` to 99 in the developer tools. A plain site
/// takes the number at its word; a signed one finds that the signature no
/// longer fits, and counts from 1 again.
#[tokio::test]
async fn an_edited_count_is_believed_plain_and_thrown_away_signed() {
    for (key, expected) in [(None, 99), (Some(Key::generate()), 1)] {
        let signed = key.is_some();
        let site = Site::start(DAY, key).await;
        let (_, mut cookies) = site.index(b"").await;
        // `1` becomes `99`, after the signature if there is one.
        let edited = format!("{}99", cookies["visits"].strip_suffix('1').unwrap());
        cookies.insert("visits".into(), edited);
        let (visits, _) = site.index(sent_back(&cookies).as_bytes()).await;
        assert_eq!(visits, expected, "signed: {signed}");
    }
}
// ANCHOR_END: tampering

#[tokio::test]
async fn a_signed_site_believes_only_its_own_signed_values() {
    let site = Site::start(DAY, Some(Key::generate())).await;
    let (visits, cookies) = site.index(b"").await;
    assert_eq!(visits, 1);
    assert!(cookies["visits"].len() > 40, "a signature: {cookies:?}");
    site.clock.advance(TimeDelta::days(1));
    assert_eq!(site.index(sent_back(&cookies).as_bytes()).await.0, 2);
    let plain = b"visits=5; last_visit=2025-01-01T12:00:00.000Z";
    assert_eq!(site.index(plain).await.0, 1, "no signature, no count");
    let (_, page) = get(&cookieless_browser(), &site.server.url("/rango/cookies/")).await;
    assert!(page.contains("<strong>signed</strong>"), "{page}");
}

// ANCHOR: mixed
/// Each cookie carries its own signature, as with Django's
/// `set_signed_cookie`, so signed cookies from different answers can be
/// mixed: today's count with the first day's time makes every reload a
/// visit a day after the last.
#[tokio::test]
async fn signed_cookies_from_different_answers_can_be_mixed() {
    let site = Site::start(DAY, Some(Key::generate())).await;
    let (_, first) = site.index(b"").await;
    site.clock.advance(TimeDelta::days(1));
    let (_, mut latest) = site.index(sent_back(&first).as_bytes()).await;
    for expected in 3..6 {
        latest.insert("last_visit".into(), first["last_visit"].clone());
        let (visits, cookies) = site.index(sent_back(&latest).as_bytes()).await;
        assert_eq!(visits, expected, "one more on every reload");
        latest = cookies;
    }
}
// ANCHOR_END: mixed

// ANCHOR: in_depth
/// What the jar makes of headers no browser of ours sends. A name sent
/// twice: the jar keeps the last. A `Cookie` header with a byte that is not
/// visible ASCII (a stray `José` of another site's): the jar skips the
/// whole header, ours included, and the count starts again.
#[tokio::test]
async fn what_the_jar_makes_of_odd_headers() {
    let site = Site::start(DAY, None).await;
    let time = "last_visit=2025-01-09T12:00:00.000Z";
    let twice = format!("visits=3; visits=7; {time}");
    assert_eq!(site.index(twice.as_bytes()).await.0, 8);
    let accent = format!("visits=3; {time}; name=José");
    assert_eq!(site.index(accent.as_bytes()).await.0, 1);
}
// ANCHOR_END: in_depth

// ANCHOR: proptest
proptest! {
    /// Any bytes a `Cookie` header can carry, plain or signed: a count of
    /// at least 1, and no panic.
    #[test]
    fn any_cookie_header_gets_a_count(
        header in proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20_u8..=0x7e, 0x80_u8..=0xff], 0..200),
        signed in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_bytes(&header).unwrap());
        let key = signed.then(Key::generate);
        let clock = Clock::manual(Utc::now());
        let jar = CookieJar::from_headers(&headers);
        let (_, visits) = visitor_cookie_handler(jar, key.as_ref(), &clock, Duration::ZERO);
        prop_assert!(visits >= 1);
    }
}
// ANCHOR_END: proptest
