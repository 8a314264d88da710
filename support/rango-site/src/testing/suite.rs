//! What stage 3 does and stage 4 must keep doing, checked once: each check
//! is a function over a [`Stage`], and [`stage3_behaviour!`] turns them into
//! `#[tokio::test]`s in a stage's own `tests/site.rs`, once on each kind of
//! store where the store matters (`the_counter_rises_once_a_day::sqlite`,
//! `::cached_sqlite`, `::memory`) and once where it does not. A stage's own
//! tests then check only what that stage adds. [`cli`] does the same for
//! the binary, [`redis`] for two servers over one Redis.
//!
//! The stores live in `rango-sessions`, which depends on this crate, so the
//! suite does not name them: `rango-sessions` says how to open a fresh store
//! of each kind ([`StoreKind`]), and a stage how to build its app over any
//! store ([`Stage::app`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE, VARY};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{
    Server, browser, browser_with_jar, cookieless_browser, get, session_id, visit, visits_in,
};
use crate::{Clock, Console, Printed};

pub mod cli;
pub mod redis;

/// A stage, as the suite needs it.
pub trait Stage {
    /// The kinds of session store it runs on (`rango_sessions::testing::Kind`).
    type Kind: StoreKind;

    /// The stage's app, with what the suite sets in `parts` and the stage's
    /// defaults for everything else.
    fn app(parts: Parts) -> Router;
}

/// A kind of session store: `rango_sessions::testing::Kind` implements it,
/// once for every stage.
pub trait StoreKind: Copy {
    /// A fresh, empty store of this kind.
    fn fresh(self) -> impl Future<Output = Opened>;
}

/// What the suite sets of a stage's app.
#[derive(Debug)]
pub struct Parts {
    /// Where sessions live (wrap it in the stage's own store type).
    pub store: Shared,
    /// The clock, moved by hand.
    pub clock: Clock,
    /// Where `TEST COOKIE WORKED!` goes: a buffer the test reads.
    pub console: Console,
    /// How far apart two visits must be for the second to count.
    pub visit_interval: Duration,
}

/// A fresh store from [`StoreKind::fresh`], and what it needs kept until the test
/// ends (a temporary directory, say).
#[derive(Debug)]
pub struct Opened {
    store: Shared,
    _keep: Box<dyn std::fmt::Debug>,
}

impl Opened {
    /// `store`, kept alive by `keep`.
    pub fn new(store: impl SessionStore, keep: impl std::fmt::Debug + 'static) -> Self {
        Self {
            store: Shared(Arc::new(store)),
            _keep: Box::new(keep),
        }
    }
}

/// Any session store behind one handle, so that the suite can hand a stage
/// a store it wrapped (see `two_tabs_at_once_count_one_visit_last_write_wins`).
#[derive(Debug, Clone)]
pub struct Shared(Arc<dyn SessionStore>);

#[async_trait::async_trait]
impl SessionStore for Shared {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

// ANCHOR: site
/// A running copy of a stage's app, its store, its hand-moved clock and
/// what it prints on its console.
#[derive(Debug)]
pub struct Site {
    pub server: Server,
    /// `http://localhost:PORT`.
    pub base: String,
    /// The store the app uses, to look into.
    pub store: Shared,
    pub clock: Clock,
    pub console: Printed,
    _opened: Opened,
}

impl Site {
    /// `S` on a fresh store of `kind`, counting at most one visit per
    /// `visit_interval`.
    pub async fn start<S: Stage>(kind: S::Kind, visit_interval: Duration) -> Self {
        Self::serve(kind.fresh().await, visit_interval, S::app).await
    }

    /// The app that `app` builds over the store in `opened`, counting at
    /// most one visit per `visit_interval`, its clock at 2025-01-01 09:00 UTC.
    pub async fn serve(
        opened: Opened,
        visit_interval: Duration,
        app: impl FnOnce(Parts) -> Router,
    ) -> Self {
        let (console, printed) = Console::buffer();
        let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap());
        let server = Server::start(app(Parts {
            store: opened.store.clone(),
            clock: clock.clone(),
            console,
            visit_interval,
        }))
        .await;
        Self {
            base: server.base.clone(),
            server,
            store: opened.store.clone(),
            clock,
            console: printed,
            _opened: opened,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The session record the store holds for `id`.
    pub async fn record(&self, id: Id) -> Option<Record> {
        self.store.load(&id).await.unwrap()
    }

    /// Loads the index as a browser that holds the session cookie `id`, if
    /// any, and keeps no other: the count shown, and the session cookie the
    /// response sets, if any, as its value and its `Max-Age`.
    pub async fn visit_as(&self, id: Option<&str>) -> (u64, Option<(String, Option<Duration>)>) {
        let mut request = cookieless_browser().get(self.url("/rango/"));
        if let Some(id) = id {
            request = request.header(COOKIE, format!("sessionid={id}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{id:?}");
        let cookie = response.cookies().next().map(|cookie| {
            assert_eq!(cookie.name(), "sessionid");
            (cookie.value().to_owned(), cookie.max_age())
        });
        (visits_in(&response.text().await.unwrap()), cookie)
    }

    /// A first visit: the new session's id.
    pub async fn new_session(&self) -> Id {
        let (_, cookie) = self.visit_as(None).await;
        let (id, _) = cookie.expect("a new session sets its cookie");
        id.parse().unwrap()
    }

    /// Puts `record` in the store as it is.
    pub async fn save(&self, record: &Record) {
        self.store.save(record).await.unwrap();
    }
}
// ANCHOR_END: site

/// The tests of what stage 3 does, for stage `$stage` (a [`Stage`]): those
/// where the store matters once on each kind in `each_store`, the others
/// on `one_store`.
///
/// ```ignore
/// rango_site::stage3_behaviour!(Stage3,
///     each_store: [sqlite: Kind::Sqlite, memory: Kind::Memory],
///     one_store: Kind::Sqlite);
/// ```
#[macro_export]
macro_rules! stage3_behaviour {
    ($stage:ty, each_store: $kinds:tt, one_store: $one:expr $(,)?) => {
        $crate::stage3_behaviour!(@each $stage, $kinds,
            only_the_session_id_reaches_the_browser,
            the_counter_rises_once_a_day,
            two_browsers_count_separately,
            a_stored_value_of_the_wrong_type_restarts_the_count,
            an_unknown_session_id_is_never_adopted,
            the_cookies_page_shows_both_sides);
        $crate::stage3_behaviour!(@one $stage, $one,
            session_pages_vary_on_cookie,
            index_then_about_prints_the_message_once,
            a_browser_that_refuses_cookies_still_gets_both_pages,
            about_first_sets_no_cookie,
            two_tabs_at_once_count_one_visit_last_write_wins);
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sixteen_clients_at_once_keep_their_own_counts() {
            $crate::testing::suite::sixteen_clients_at_once_keep_their_own_counts::<$stage>($one)
                .await;
        }
    };
    (@each $stage:ty, $kinds:tt, $($test:ident),+) => {
        $($crate::stage3_behaviour!(@on_each $stage, $kinds, $test);)+
    };
    (@on_each $stage:ty, [$($kind_name:ident: $kind:expr),+ $(,)?], $test:ident) => {
        mod $test {
            use super::*;
            $(
                #[tokio::test]
                async fn $kind_name() {
                    $crate::testing::suite::$test::<$stage>($kind).await;
                }
            )+
        }
    };
    (@one $stage:ty, $kind:expr, $($test:ident),+) => {
        $(
            #[tokio::test]
            async fn $test() {
                $crate::testing::suite::$test::<$stage>($kind).await;
            }
        )+
    };
}

// ANCHOR: only_sessionid
/// The browser gets the session id and nothing else, whatever it visits.
pub async fn only_the_session_id_reaches_the_browser<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, Duration::ZERO).await;
    let client = browser();
    let mut set_cookies = Vec::new();
    for path in [
        "/rango/",
        "/rango/",
        "/rango/about/",
        "/rango/cookies/",
        "/rango/",
    ] {
        let response = client.get(site.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        set_cookies.extend(response.headers().get_all(SET_COOKIE).iter().cloned());
    }
    assert!(!set_cookies.is_empty(), "the session cookie was set");
    // Each `Set-Cookie` as sent, attribute by attribute: Django's
    // `sessionid`, HttpOnly (no page script reads the id), SameSite=Lax and
    // Path=/, not Secure on plain-HTTP localhost, and a long random id.
    for header in &set_cookies {
        let header = header.to_str().unwrap();
        let mut parts = header.split("; ");
        let id = parts.next().unwrap().strip_prefix("sessionid=");
        assert!(
            id.is_some_and(|id| id.len() >= 20),
            "not a session id: {header}"
        );
        let attributes: Vec<_> = parts.collect();
        for expected in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(attributes.contains(&expected), "{expected}: {header}");
        }
        assert!(!attributes.contains(&"Secure"), "Secure: {header}");
    }
}
// ANCHOR_END: only_sessionid

// ANCHOR: counter
/// The chapter's rule: at most one counted visit per interval (a day here),
/// and the count lives in the session, typed.
pub async fn the_counter_rises_once_a_day<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, DAY).await;
    let (client, jar) = browser_with_jar();
    let base = &site.base;

    assert_eq!(visit(&client, base).await, 1, "first visit");
    assert_eq!(visit(&client, base).await, 1, "again at once");
    site.clock
        .advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    assert_eq!(visit(&client, base).await, 1, "a minute short of a day");
    site.clock.advance(TimeDelta::minutes(1));
    assert_eq!(visit(&client, base).await, 2, "a day after the first");
    site.clock.advance(TimeDelta::days(10));
    assert_eq!(visit(&client, base).await, 3, "ten days away is one visit");

    // In the store, `visits` is a number, not a string, and `last_visit`
    // the time of the last counted visit.
    let record = site
        .record(session_id(&jar, base))
        .await
        .expect("a stored session");
    assert_eq!(record.data["visits"], 3);
    let last_visit = record.data["last_visit"].as_str().expect("a time");
    assert_eq!(
        DateTime::parse_from_rfc3339(last_visit).unwrap(),
        site.clock.now()
    );
}
// ANCHOR_END: counter

/// Each browser has its own session, so its own count.
pub async fn two_browsers_count_separately<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, Duration::ZERO).await;
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

/// A value of the wrong type in the session, the count or the time, is
/// treated as absent: the counter starts again, the bad value is replaced,
/// and the visitor sees a page, not an error.
pub async fn a_stored_value_of_the_wrong_type_restarts_the_count<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, Duration::ZERO).await;
    let (client, jar) = browser_with_jar();
    let base = &site.base;
    visit(&client, base).await;
    let id = session_id(&jar, base);
    for (key, bad) in [("visits", "two"), ("last_visit", "yesterday-ish")] {
        assert_eq!(visit(&client, base).await, 2, "{key}");
        let mut record = site.record(id).await.unwrap();
        record.data.insert(key.into(), bad.into());
        site.save(&record).await;
        site.clock.advance(TimeDelta::seconds(1));

        assert_eq!(visit(&client, base).await, 1, "{key}: {bad}");
        let record = site.record(id).await.unwrap();
        assert_eq!(record.data["visits"], 1, "{key}");
        let last_visit = record.data["last_visit"].as_str().unwrap_or_default();
        assert_eq!(
            DateTime::parse_from_rfc3339(last_visit).ok(),
            Some(site.clock.now().into()),
            "{key}: the time of the new first visit"
        );
    }
}

// ANCHOR: forged
/// An id the store does not know (made up, garbled or expired) gets a
/// fresh session under a new id: the server never adopts the client's.
pub async fn an_unknown_session_id_is_never_adopted<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, Duration::ZERO).await;

    // An expired session: a real one whose expiry has passed.
    let expired = site.new_session().await;
    let mut record = site.record(expired).await.unwrap();
    record.expiry_date -= Duration::from_secs(15 * 24 * 60 * 60);
    site.save(&record).await;

    let made_up = Id::default().to_string();
    for sent in [made_up.as_str(), "not-a-session-id", &expired.to_string()] {
        let (visits, cookie) = site.visit_as(Some(sent)).await;
        let (new_id, _) = cookie.expect("a new session cookie");
        assert_ne!(new_id, sent, "the client's id was adopted");
        assert_eq!(visits, 1, "{sent}");
        let stored = site.record(new_id.parse().unwrap()).await;
        assert!(stored.is_some(), "the new session is stored");
    }
    let made_up: Id = made_up.parse().unwrap();
    assert!(
        site.record(made_up).await.is_none(),
        "nothing stored under the made-up id"
    );
}
// ANCHOR_END: forged

// ANCHOR: vary
/// Pages built from the session tell caches that they depend on the cookie.
pub async fn session_pages_vary_on_cookie<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, DAY).await;
    let client = browser();
    for path in ["/rango/", "/rango/about/", "/rango/cookies/"] {
        let response = client.get(site.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let vary: Vec<_> = response.headers().get_all(VARY).iter().collect();
        assert!(
            vary.iter()
                .any(|value| value.to_str().unwrap().eq_ignore_ascii_case("cookie")),
            "{path}: Vary {vary:?}"
        );
    }
}
// ANCHOR_END: vary

/// The cookies page shows the id the browser sent (only its start) and the
/// typed values the server keeps under it.
pub async fn the_cookies_page_shows_both_sides<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, Duration::ZERO).await;
    let (client, jar) = browser_with_jar();
    visit(&client, &site.base).await;
    visit(&client, &site.base).await;
    let id = session_id(&jar, &site.base).to_string();

    let (status, body) = get(&client, &site.url("/rango/cookies/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<code>sessionid</code>"), "{body}");
    assert!(body.contains(&format!("{}…", &id[..6])), "{body}");
    assert!(!body.contains(&id), "the whole id must not be in the page");
    assert!(
        body.contains("<td><code>visits</code></td><td><code>2</code></td>"),
        "{body}"
    );
    assert!(body.contains("<code>last_visit</code>"), "{body}");
    assert!(
        body.contains("<code>&#34;2025-01-01T09:00:00Z&#34;</code>"),
        "{body}"
    );

    let (status, body) = get(&cookieless_browser(), &site.url("/rango/cookies/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("No cookies came with this request"), "{body}");
    assert!(body.contains("holds no session"), "{body}");
}

/// The test cookie of stage 1, now in the server's session: the About page
/// prints `TEST COOKIE WORKED!` once per visit to the index.
pub async fn index_then_about_prints_the_message_once<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, DAY).await;
    let client = browser();
    let printed = async |path: &str| {
        assert_eq!(
            get(&client, &site.url(path)).await.0,
            StatusCode::OK,
            "{path}"
        );
        site.console.lines()
    };
    assert!(
        printed("/rango/").await.is_empty(),
        "the index alone prints nothing"
    );
    assert_eq!(printed("/rango/about/").await, ["TEST COOKIE WORKED!"]);
    // The About page deleted the test value: a second visit prints nothing more.
    assert_eq!(printed("/rango/about/").await, ["TEST COOKIE WORKED!"]);
    // Until the index sets it again.
    printed("/rango/").await;
    let twice = ["TEST COOKIE WORKED!", "TEST COOKIE WORKED!"];
    assert_eq!(printed("/rango/about/").await, twice);
}

/// A browser that refuses cookies still gets every page, and nothing is
/// printed: no cookie came back, so nothing worked.
pub async fn a_browser_that_refuses_cookies_still_gets_both_pages<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, DAY).await;
    for path in ["/rango/", "/rango/about/", "/rango/", "/rango/about/"] {
        let (status, body) = get(&cookieless_browser(), &site.url(path)).await;
        assert!(
            status == StatusCode::OK && body.contains("Rango"),
            "{path}: {status}"
        );
    }
    assert_eq!(site.console.lines(), Vec::<String>::new(), "nothing worked");
}

/// The About page alone leaves the session empty, and an empty session
/// needs no cookie.
pub async fn about_first_sets_no_cookie<S: Stage>(kind: S::Kind) {
    let site = Site::start::<S>(kind, DAY).await;
    let about = site.url("/rango/about/");
    let response = browser().get(about).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(SET_COOKIE).is_none(), "{response:?}");
    assert!(site.console.lines().is_empty());
}

// ANCHOR: concurrency
/// Sixteen browsers at once, each visiting fifty times in a row, every visit
/// counted: each ends at exactly fifty, in its own session.
pub async fn sixteen_clients_at_once_keep_their_own_counts<S: Stage>(kind: S::Kind) {
    const CLIENTS: usize = 16;
    const VISITS: u64 = 50;
    let site = Site::start::<S>(kind, Duration::ZERO).await;

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
        assert_eq!(site.record(id).await.unwrap().data["visits"], VISITS);
        ids.push(id);
    }
    ids.sort_by_key(ToString::to_string);
    ids.dedup();
    assert_eq!(ids.len(), CLIENTS, "every client had its own session");
}
// ANCHOR_END: concurrency

// ANCHOR: two_tabs
/// A store that makes two requests load the session before either saves it,
/// as two tabs reloaded at the same moment may.
#[derive(Debug, Clone)]
struct BothLoadFirst {
    store: Shared,
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
pub async fn two_tabs_at_once_count_one_visit_last_write_wins<S: Stage>(kind: S::Kind) {
    let app = |parts: Parts| {
        let loaded = Arc::new(tokio::sync::Barrier::new(2));
        let store = Shared(Arc::new(BothLoadFirst {
            store: parts.store,
            loaded,
        }));
        S::app(Parts { store, ..parts })
    };
    let site = Site::serve(kind.fresh().await, Duration::ZERO, app).await;
    let (client, jar) = browser_with_jar();
    assert_eq!(visit(&client, &site.base).await, 1, "a first visit");

    let tab = || {
        let (client, base) = (client.clone(), site.base.clone());
        tokio::spawn(async move { visit(&client, &base).await })
    };
    let (first, second) = tokio::join!(tab(), tab());
    assert_eq!(
        (first.unwrap(), second.unwrap()),
        (2, 2),
        "both saw 1, both wrote 2"
    );
    let record = site.record(session_id(&jar, &site.base)).await.unwrap();
    assert_eq!(record.data["visits"], 2, "three visits, two counted");
}
// ANCHOR_END: two_tabs
