//! Stage 4 over real HTTP: the app on a free port, clients that keep cookies,
//! and a session store that is either a `SQLite` file or memory.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rango_sessions::on_each_store;
use rango_sessions::testing::{Kind, TestStore};
use rango_site::testing::{
    Server, browser, browser_with_jar, cookieless_browser, get, session_id, visit, visits_in,
};
use rango_site::{Clock, Console, Printed};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE, VARY};
use serde_json::json;
use step04_expiry::{Config, app};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

// ANCHOR: site
/// A running copy of the app, its store, its hand-moved clock and what it
/// prints on its console.
struct Site {
    server: Server,
    base: String,
    sessions: TestStore,
    clock: Clock,
    console: Printed,
}

impl Site {
    /// A site counting at most one visit a day, as the chapter's does.
    async fn start(kind: Kind) -> Self {
        Self::start_with(kind, DAY).await
    }

    async fn start_with(kind: Kind, visit_interval: Duration) -> Self {
        let sessions = kind.open().await;
        let (console, printed) = Console::buffer();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap());
        let config = Config {
            console,
            clock: clock.clone(),
            visit_interval,
            store: sessions.store.clone(),
            ..Config::default()
        };
        let server = Server::start(app(config)).await;
        Self {
            base: server.base.clone(),
            server,
            sessions,
            clock,
            console: printed,
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The session record the store holds for `id`.
    async fn record(&self, id: Id) -> Option<Record> {
        self.sessions.store.load(&id).await.unwrap()
    }

    /// Puts `record` in the store as it is.
    async fn save(&self, record: &Record) {
        self.sessions.store.save(record).await.unwrap();
    }
}
// ANCHOR_END: site

// ANCHOR: only_sessionid
on_each_store! {
    /// The browser gets the session id and nothing else, whatever it visits.
    async fn only_the_session_id_reaches_the_browser(kind: Kind) {
        let site = Site::start_with(kind, Duration::ZERO).await;
        let client = browser();
        let mut set_cookies = Vec::new();
        for path in ["/rango/", "/rango/", "/rango/about/", "/rango/cookies/", "/rango/"] {
            let response = client.get(site.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            set_cookies.extend(response.headers().get_all(SET_COOKIE).iter().cloned());
        }
        assert!(!set_cookies.is_empty(), "the session cookie was set");
        for header in &set_cookies {
            let header = header.to_str().unwrap();
            assert!(header.starts_with("sessionid="), "unexpected cookie: {header}");
        }

        let response = browser().get(site.url("/rango/")).send().await.unwrap();
        let cookies: Vec<_> = response.cookies().collect();
        assert_eq!(cookies.len(), 1, "exactly one cookie: {cookies:?}");
        let cookie = &cookies[0];
        assert_eq!(cookie.name(), "sessionid");
        assert!(cookie.http_only(), "HttpOnly keeps the id away from page scripts");
        assert!(cookie.same_site_lax(), "SameSite=Lax, as Django sets it");
        assert_eq!(cookie.path(), Some("/"));
        assert!(!cookie.secure(), "plain-HTTP localhost: not Secure");
        assert!(cookie.value().len() >= 20, "a long random id: {:?}", cookie.value());
    }
}
// ANCHOR_END: only_sessionid

#[tokio::test]
async fn secure_cookies_mark_the_session_cookie_secure() {
    let config = Config {
        secure_cookies: true,
        ..Config::default()
    };
    let server = Server::start(app(config)).await;
    let response = browser().get(server.url("/rango/")).send().await.unwrap();
    let cookie = response.cookies().next().expect("a session cookie");
    assert_eq!(cookie.name(), "sessionid");
    assert!(cookie.secure(), "--secure-cookies sets Secure");
}

// ANCHOR: counter
on_each_store! {
    /// The chapter's rule: at most one counted visit per interval (a day here),
    /// and the count lives in the session, typed.
    async fn the_counter_rises_once_a_day(kind: Kind) {
        let site = Site::start(kind).await;
        let (client, jar) = browser_with_jar();
        let base = &site.base;

        assert_eq!(visit(&client, base).await, 1, "first visit");
        assert_eq!(visit(&client, base).await, 1, "again at once");
        site.clock.advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
        assert_eq!(visit(&client, base).await, 1, "a minute short of a day");
        site.clock.advance(TimeDelta::minutes(1));
        assert_eq!(visit(&client, base).await, 2, "a day after the first");
        site.clock.advance(TimeDelta::days(10));
        assert_eq!(visit(&client, base).await, 3, "ten days away is one visit");

        // In the store, `visits` is a number and `last_visit` a time, not strings.
        let record = site.record(session_id(&jar, base)).await.expect("a stored session");
        assert_eq!(record.data["visits"], json!(3));
        let last_visit: DateTime<Utc> =
            serde_json::from_value(record.data["last_visit"].clone()).unwrap();
        assert_eq!(last_visit, site.clock.now());
    }
}
// ANCHOR_END: counter

on_each_store! {
    /// Each browser has its own session, so its own count.
    async fn two_browsers_count_separately(kind: Kind) {
        let site = Site::start_with(kind, Duration::ZERO).await;
        let (first, second) = (browser(), browser());
        let base = &site.base;
        assert_eq!(visit(&first, base).await, 1);
        assert_eq!(visit(&first, base).await, 2);
        assert_eq!(visit(&second, base).await, 1);
        assert_eq!(visit(&first, base).await, 3);
        // Without cookies every request is a first visit.
        assert_eq!(visit(&cookieless_browser(), base).await, 1);
        assert_eq!(visit(&cookieless_browser(), base).await, 1);
    }
}

on_each_store! {
    /// A value of the wrong type in the session is treated as absent: the
    /// counter starts again, and the visitor sees a page, not an error.
    async fn a_stored_value_of_the_wrong_type_restarts_the_count(kind: Kind) {
        let site = Site::start_with(kind, Duration::ZERO).await;
        let (client, jar) = browser_with_jar();
        let base = &site.base;
        visit(&client, base).await;
        assert_eq!(visit(&client, base).await, 2);

        let id = session_id(&jar, base);
        let mut record = site.record(id).await.unwrap();
        record.data.insert("visits".into(), json!("two"));
        site.save(&record).await;

        assert_eq!(visit(&client, base).await, 1);
        assert_eq!(site.record(id).await.unwrap().data["visits"], json!(1));
    }
}

// ANCHOR: forged
on_each_store! {
    /// An id the store does not know (made up, garbled or expired) gets a
    /// fresh session under a new id: the server never adopts the client's.
    async fn an_unknown_session_id_is_never_adopted(kind: Kind) {
        let site = Site::start_with(kind, Duration::ZERO).await;
        let client = cookieless_browser();

        // An expired session: a real one whose expiry has passed.
        let (owner, jar) = browser_with_jar();
        visit(&owner, &site.base).await;
        let expired = session_id(&jar, &site.base);
        let mut record = site.record(expired).await.unwrap();
        record.expiry_date -= Duration::from_secs(15 * 24 * 60 * 60);
        site.save(&record).await;

        let made_up = Id::default().to_string();
        for sent in [made_up.as_str(), "not-a-session-id", &expired.to_string()] {
            let response = client
                .get(site.url("/rango/"))
                .header(COOKIE, format!("sessionid={sent}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{sent}");
            let cookie = response.cookies().next().expect("a new session cookie");
            assert_eq!(cookie.name(), "sessionid");
            assert_ne!(cookie.value(), sent, "the client's id was adopted");
            let new_id: Id = cookie.value().parse().unwrap();
            assert_eq!(visits_in(&response.text().await.unwrap()), 1, "{sent}");
            assert!(site.record(new_id).await.is_some(), "the new session is stored");
        }
        let made_up: Id = made_up.parse().unwrap();
        assert!(site.record(made_up).await.is_none(), "nothing stored under the made-up id");
    }
}
// ANCHOR_END: forged

// ANCHOR: vary
on_each_store! {
    /// Pages built from the session tell caches that they depend on the cookie.
    async fn session_pages_vary_on_cookie(kind: Kind) {
        let site = Site::start(kind).await;
        let client = browser();
        for path in ["/rango/", "/rango/about/", "/rango/cookies/"] {
            let response = client.get(site.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let vary: Vec<_> = response.headers().get_all(VARY).iter().collect();
            assert!(
                vary.iter().any(|value| value.to_str().unwrap().eq_ignore_ascii_case("cookie")),
                "{path}: Vary {vary:?}"
            );
        }
    }
}
// ANCHOR_END: vary

// ANCHOR: cookies_page
on_each_store! {
    /// The cookies page shows the id the browser sent (only its start) and
    /// the typed values the server keeps under it.
    async fn the_cookies_page_shows_both_sides(kind: Kind) {
        let site = Site::start_with(kind, Duration::ZERO).await;
        let (client, jar) = browser_with_jar();
        visit(&client, &site.base).await;
        visit(&client, &site.base).await;
        let id = session_id(&jar, &site.base).to_string();

        let (status, body) = get(&client, &site.url("/rango/cookies/")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<code>sessionid</code>"), "{body}");
        assert!(body.contains(&format!("{}…", &id[..6])), "{body}");
        assert!(!body.contains(&id), "the whole id must not be in the page");
        assert!(body.contains("<td><code>visits</code></td><td><code>2</code></td>"), "{body}");
        assert!(body.contains("<code>last_visit</code>"), "{body}");
        assert!(body.contains("<code>&#34;2025-01-01T09:00:00Z&#34;</code>"), "{body}");

        let (status, body) = get(&cookieless_browser(), &site.url("/rango/cookies/")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("No cookies came with this request"), "{body}");
        assert!(body.contains("holds no session"), "{body}");
    }
}
// ANCHOR_END: cookies_page

// ANCHOR: restart
#[tokio::test]
async fn sqlite_sessions_survive_a_restart() {
    let sqlite = Kind::Sqlite.open().await;
    let config = async || Config {
        store: rango_sessions::Store::open(&sqlite.url(), false)
            .await
            .unwrap(),
        visit_interval: Duration::ZERO,
        ..Config::default()
    };
    let client = browser();

    let server = Server::start(app(config().await)).await;
    assert_eq!(visit(&client, &server.base).await, 1);
    assert_eq!(visit(&client, &server.base).await, 2);
    server.stop().await;

    // A new server (a new store, new connections) on the same file.
    let server = Server::start(app(config().await)).await;
    assert_eq!(visit(&client, &server.base).await, 3, "the count went on");
}

#[tokio::test]
async fn memory_sessions_do_not_survive_a_restart() {
    let config = || Config {
        visit_interval: Duration::ZERO,
        ..Config::default()
    };
    let client = browser();
    let server = Server::start(app(config())).await;
    assert_eq!(visit(&client, &server.base).await, 1);
    assert_eq!(visit(&client, &server.base).await, 2);
    server.stop().await;

    let server = Server::start(app(config())).await;
    assert_eq!(
        visit(&client, &server.base).await,
        1,
        "a new memory, a new count"
    );
}
// ANCHOR_END: restart

// ANCHOR: concurrency
/// Sixteen browsers at once, each visiting fifty times in a row, every visit
/// counted: each ends at exactly fifty, in its own session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_at_once_keep_their_own_counts() {
    const CLIENTS: usize = 16;
    const VISITS: u64 = 50;
    let site = Site::start_with(Kind::Sqlite, Duration::ZERO).await;

    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let base = site.base.clone();
            tokio::spawn(async move {
                let (client, jar) = browser_with_jar();
                let mut counts = Vec::new();
                for _ in 0..VISITS {
                    counts.push(visit(&client, &base).await);
                }
                (counts, session_id(&jar, &base))
            })
        })
        .collect();

    let mut ids = Vec::new();
    for task in tasks {
        let (counts, id) = task.await.unwrap();
        assert_eq!(
            counts,
            (1..=VISITS).collect::<Vec<_>>(),
            "one client's counts"
        );
        assert_eq!(site.record(id).await.unwrap().data["visits"], json!(VISITS));
        ids.push(id);
    }
    ids.sort_by_key(ToString::to_string);
    ids.dedup();
    assert_eq!(ids.len(), CLIENTS, "every client had its own session");
}
// ANCHOR_END: concurrency

#[tokio::test]
async fn index_then_about_prints_the_message_once() {
    let site = Site::start(Kind::Sqlite).await;
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

#[tokio::test]
async fn a_browser_that_refuses_cookies_still_gets_both_pages() {
    let site = Site::start(Kind::Sqlite).await;
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

#[tokio::test]
async fn about_first_sets_no_cookie() {
    let site = Site::start(Kind::Sqlite).await;
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

// ANCHOR: two_tabs
/// A store that makes two requests load the session before either saves it,
/// as two tabs reloaded at the same moment may.
#[derive(Debug, Clone)]
struct BothLoadFirst {
    store: rango_sessions::Store,
    loaded: Arc<tokio::sync::Barrier>,
}

#[async_trait::async_trait]
impl SessionStore for BothLoadFirst {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let record = self.store.load(id).await;
        self.loaded.wait().await;
        record
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}

/// Two requests of one session at once: each loads the session, counts its
/// visit and saves the whole session, and the second save overwrites the
/// first. Two visits, one counted: "last write wins", in Django as here.
/// A count that must be exact belongs in a database row, not a session.
#[tokio::test]
async fn two_tabs_at_once_count_one_visit_last_write_wins() {
    let sessions = Kind::Sqlite.open().await;
    let store = BothLoadFirst {
        store: sessions.store.clone(),
        loaded: Arc::new(tokio::sync::Barrier::new(2)),
    };
    let config = Config {
        store: rango_sessions::Store::new(store),
        visit_interval: Duration::ZERO,
        ..Config::default()
    };
    let server = Server::start(app(config)).await;
    let (client, jar) = browser_with_jar();
    assert_eq!(visit(&client, &server.base).await, 1, "a first visit");

    let tab = || {
        let (client, base) = (client.clone(), server.base.clone());
        tokio::spawn(async move { visit(&client, &base).await })
    };
    let (first, second) = tokio::join!(tab(), tab());
    assert_eq!(
        (first.unwrap(), second.unwrap()),
        (2, 2),
        "both saw 1, both wrote 2"
    );
    let id = session_id(&jar, &server.base);
    let record = sessions.store.load(&id).await.unwrap().unwrap();
    assert_eq!(record.data["visits"], json!(2), "three visits, two counted");
}
// ANCHOR_END: two_tabs
