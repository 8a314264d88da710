//! Stage 4's subject: how long a session lasts, in the cookie and in the
//! store, and clearing expired sessions out of the store.

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rango_sessions::expiry::REFRESHED_AT;
use rango_sessions::on_each_store;
use rango_sessions::testing::{Kind, TestStore};
use rango_site::Clock;
use rango_site::testing::{Server, cookieless_browser, get, visits_in};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;
use step04_expiry::expiry::SessionExpiry;
use step04_expiry::{Args, Command, Config, app};
use time::OffsetDateTime;
use tower_sessions::cookie::Cookie;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A running site, its store and its clock, with the given session expiry;
/// a visit counts once a day, so only the expiry changes the session.
struct Site {
    server: Server,
    sessions: TestStore,
    clock: Clock,
}

impl Site {
    async fn start(kind: Kind, expiry: SessionExpiry) -> Self {
        let sessions = kind.open().await;
        let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap());
        let config = Config {
            clock: clock.clone(),
            visit_interval: DAY,
            store: sessions.store.clone(),
            expiry,
            ..Config::default()
        };
        Self {
            server: Server::start(app(config)).await,
            sessions,
            clock,
        }
    }

    /// Loads the index, sending `id` as the session cookie if given; returns
    /// the count shown and the session cookie set, if any.
    async fn visit(&self, id: Option<Id>) -> (u64, Option<Cookie<'static>>) {
        let mut request = cookieless_browser().get(self.server.url("/rango/"));
        if let Some(id) = id {
            request = request.header(COOKIE, format!("sessionid={id}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let set_cookie = session_cookie(&response);
        (visits_in(&response.text().await.unwrap()), set_cookie)
    }

    /// A first visit: the new session's id.
    async fn new_session(&self) -> Id {
        let (_, cookie) = self.visit(None).await;
        cookie
            .expect("a new session sets its cookie")
            .value()
            .parse()
            .unwrap()
    }

    async fn record(&self, id: Id) -> Record {
        self.sessions
            .store
            .load(&id)
            .await
            .unwrap()
            .expect("a stored session")
    }
}

/// The `sessionid` cookie a response sets, parsed.
fn session_cookie(response: &reqwest::Response) -> Option<Cookie<'static>> {
    let headers: Vec<_> = response.headers().get_all(SET_COOKIE).iter().collect();
    assert!(headers.len() <= 1, "one Set-Cookie at most: {headers:?}");
    let header = headers.first()?.to_str().unwrap().to_owned();
    let cookie = Cookie::parse(header).unwrap();
    assert_eq!(cookie.name(), "sessionid");
    Some(cookie)
}

fn persistent(age: Duration) -> SessionExpiry {
    SessionExpiry {
        cookie_age: age,
        ..SessionExpiry::default()
    }
}

fn browser_length(age: Duration) -> SessionExpiry {
    SessionExpiry {
        at_browser_close: true,
        ..persistent(age)
    }
}

/// Asserts that `when` is `age` from now, give or take the test's own run time.
#[track_caller]
fn assert_about_from_now(when: OffsetDateTime, age: Duration) {
    let expected = OffsetDateTime::now_utc() + age;
    let off = (when - expected).abs();
    assert!(
        off < time::Duration::seconds(3),
        "{when} is not about {expected}"
    );
}

// ANCHOR: set_cookie
/// Persistent mode: the cookie says how long to keep it, in both spellings.
#[tokio::test]
async fn persistent_cookies_carry_max_age_and_expires() {
    let site = Site::start(Kind::Memory, persistent(HOUR)).await;
    let (_, cookie) = site.visit(None).await;
    let cookie = cookie.expect("a session cookie");
    assert_eq!(cookie.max_age(), Some(time::Duration::seconds(3600)));
    let expires = cookie.expires_datetime().expect("an Expires date");
    assert_about_from_now(expires, HOUR);
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.path(), Some("/"));
}

/// Browser-length mode: no lifetime at all, so the browser drops the cookie
/// when it closes.
#[tokio::test]
async fn browser_length_cookies_carry_neither_max_age_nor_expires() {
    let site = Site::start(Kind::Memory, browser_length(HOUR)).await;
    let (_, cookie) = site.visit(None).await;
    let cookie = cookie.expect("a session cookie");
    assert_eq!(cookie.max_age(), None, "{cookie}");
    assert_eq!(cookie.expires(), None, "{cookie}");
    let text = cookie.to_string().to_ascii_lowercase();
    assert!(
        !text.contains("max-age") && !text.contains("expires"),
        "{text}"
    );
}
// ANCHOR_END: set_cookie

// ANCHOR: stored_expiry
on_each_store! {
    /// In both modes the store keeps a session the cookie age after its last
    /// save: an hour here, not tower-sessions' two weeks.
    async fn the_stored_expiry_follows_the_cookie_age(kind: Kind) {
        for expiry in [persistent(HOUR), browser_length(HOUR)] {
            let site = Site::start(kind, expiry).await;
            let id = site.new_session().await;
            assert_about_from_now(site.record(id).await.expiry_date, HOUR);
        }
    }
}
// ANCHOR_END: stored_expiry

// ANCHOR: sliding
on_each_store! {
    /// A visit that changes nothing still pushes the expiry forward, once the
    /// stored one is a minute old (`--refresh-after 60s`), and not before.
    async fn a_repeat_visit_slides_the_expiry(kind: Kind) {
        for expiry in [persistent(DAY), browser_length(DAY)] {
            let site = Site::start(kind, expiry).await;
            let start = site.clock.now();
            let id = site.new_session().await;
            let first = site.record(id).await;
            assert_eq!(first.data[REFRESHED_AT], json!(start));

            site.clock.advance(TimeDelta::seconds(59));
            let (visits, cookie) = site.visit(Some(id)).await;
            assert_eq!(visits, 1);
            assert!(cookie.is_none(), "59 s: no save, so no cookie");
            assert_eq!(site.record(id).await.expiry_date, first.expiry_date, "not saved");

            site.clock.advance(TimeDelta::seconds(1));
            let (visits, cookie) = site.visit(Some(id)).await;
            assert_eq!(visits, 1, "the count did not change");
            let cookie = cookie.expect("60 s: saved again, so the cookie is sent again");
            assert_eq!(cookie.value(), id.to_string(), "the same session");
            if expiry.at_browser_close {
                assert_eq!(cookie.max_age(), None);
            } else {
                assert_eq!(cookie.max_age(), Some(time::Duration::DAY), "a fresh Max-Age");
            }
            let second = site.record(id).await;
            // Stores keep whole seconds, so within the same second the
            // expiry may read the same; it never goes back.
            assert!(second.expiry_date >= first.expiry_date, "the stored expiry moved");
            assert_about_from_now(second.expiry_date, DAY);
            let refreshed = start + TimeDelta::seconds(60);
            assert_eq!(second.data[REFRESHED_AT], json!(refreshed));
        }
    }
}

/// `--refresh-after 0`: every visit saves, as Django's counter does.
#[tokio::test]
async fn refresh_after_zero_saves_on_every_visit() {
    let expiry = SessionExpiry {
        refresh_after: Duration::ZERO,
        ..SessionExpiry::default()
    };
    let site = Site::start(Kind::Sqlite, expiry).await;
    let id = site.new_session().await;
    for _ in 0..3 {
        // A millisecond later: no counted visit, nothing else to save.
        site.clock.advance(TimeDelta::milliseconds(1));
        let before = site.record(id).await;
        let (_, cookie) = site.visit(Some(id)).await;
        assert!(cookie.is_some(), "saved, so the cookie came again");
        let after = site.record(id).await;
        assert_eq!(after.data[REFRESHED_AT], json!(site.clock.now()), "saved");
        // Stores keep whole seconds: the expiry moves by whole seconds.
        assert!(after.expiry_date >= before.expiry_date);
    }
}

/// A short cookie age shortens the tolerance with it (1% of the age), so
/// even a session of a few minutes slides.
#[tokio::test]
async fn the_tolerance_is_at_most_a_hundredth_of_the_cookie_age() {
    let site = Site::start(Kind::Sqlite, persistent(Duration::from_secs(1000))).await;
    let id = site.new_session().await;
    site.clock.advance(TimeDelta::seconds(9));
    assert!(
        site.visit(Some(id)).await.1.is_none(),
        "9 s of 1000: not yet"
    );
    site.clock.advance(TimeDelta::seconds(1));
    assert!(
        site.visit(Some(id)).await.1.is_some(),
        "10 s of 1000: saved"
    );
}
// ANCHOR_END: sliding

// ANCHOR: expired
on_each_store! {
    /// A session whose expiry has passed, even by a second, is not served:
    /// the visitor starts again at 1, under a new id.
    async fn an_expired_session_is_never_served(kind: Kind) {
        for expiry in [persistent(DAY), browser_length(DAY)] {
            let site = Site::start(kind, expiry).await;
            let id = site.new_session().await;
            site.clock.advance(TimeDelta::days(2));
            assert_eq!(site.visit(Some(id)).await.0, 2, "alive: counted");

            let mut record = site.record(id).await;
            record.expiry_date = OffsetDateTime::now_utc() - time::Duration::SECOND;
            site.sessions.store.save(&record).await.unwrap();
            assert!(site.sessions.store.load(&id).await.unwrap().is_none());

            site.clock.advance(TimeDelta::days(2));
            let (visits, cookie) = site.visit(Some(id)).await;
            assert_eq!(visits, 1, "a new session");
            let new_id = cookie.expect("a new cookie").value().to_owned();
            assert_ne!(new_id, id.to_string());
        }
    }
}
// ANCHOR_END: expired

/// The pages tell the learner which mode is on.
#[tokio::test]
async fn the_pages_say_how_long_the_session_lasts() {
    let persistent = Site::start(Kind::Memory, SessionExpiry::default()).await;
    let (_, body) = get(&cookieless_browser(), &persistent.server.url("/rango/")).await;
    assert!(
        body.contains("Your session lasts 14 days after your last visit"),
        "{body}"
    );
    let (_, body) = get(
        &cookieless_browser(),
        &persistent.server.url("/rango/cookies/"),
    )
    .await;
    assert!(body.contains("Persistent sessions"), "{body}");

    let browser = Site::start(Kind::Memory, browser_length(HOUR)).await;
    let (_, body) = get(&cookieless_browser(), &browser.server.url("/rango/")).await;
    assert!(
        body.contains("ends when you close your browser, or after 1 hour"),
        "{body}"
    );
    let (_, body) = get(
        &cookieless_browser(),
        &browser.server.url("/rango/cookies/"),
    )
    .await;
    assert!(body.contains("Browser-length sessions"), "{body}");
}

// ANCHOR: args
#[test]
fn the_settings_and_their_defaults() {
    let args = Args::try_parse_from(["rango"]).unwrap();
    assert_eq!(args.cookie_age, Duration::from_secs(1_209_600));
    assert!(!args.expire_at_browser_close);
    assert_eq!(args.refresh_after, Duration::from_secs(60));
    assert_eq!(args.clear_expired_every, HOUR);
    assert_eq!(args.command, None);

    let args = Args::try_parse_from([
        "rango",
        "--cookie-age",
        "300",
        "--expire-at-browser-close",
        "--refresh-after",
        "0",
        "--clear-expired-every",
        "0",
    ])
    .unwrap();
    assert_eq!(args.cookie_age, Duration::from_secs(300));
    assert!(args.expire_at_browser_close);
    assert_eq!(args.refresh_after, Duration::ZERO);
    assert_eq!(args.clear_expired_every, Duration::ZERO);

    // The store may come after the subcommand, as with `manage.py`.
    let args =
        Args::try_parse_from(["rango", "clearsessions", "--session-store", "memory"]).unwrap();
    assert_eq!(args.command, Some(Command::Clearsessions));
    assert_eq!(args.sessions.session_store, "memory");
}

/// Every interval has a floor: the clean-up cannot be made to run in a
/// busy loop, and no interval is negative.
#[test]
fn intervals_below_their_floor_are_refused_with_the_reason() {
    for (flag, value, reason) in [
        (
            "--clear-expired-every",
            "1ns",
            "too short: give at least 1s, or 0 to turn it off",
        ),
        ("--clear-expired-every", "999ms", "too short"),
        ("--clear-expired-every", "-1h", "is negative"),
        ("--refresh-after", "-5s", "is negative"),
        ("--visit-interval", "-5s", "is negative"),
    ] {
        let err = Args::try_parse_from(["rango", flag, value])
            .unwrap_err()
            .to_string();
        assert!(err.contains(flag), "{value}: {err}");
        assert!(err.contains(reason), "{value}: {err}");
    }
    let args = Args::try_parse_from(["rango", "--clear-expired-every", "1s"]).unwrap();
    assert_eq!(args.clear_expired_every, Duration::from_secs(1));
}

#[test]
fn bad_cookie_ages_are_refused_with_the_reason() {
    for (value, reason) in [
        ("-1", "cannot last a negative time"),
        ("abc", "not a whole number of seconds"),
        ("0", "at least 1 second"),
        ("1.5", "not a whole number of seconds"),
        ("99999999999", "400 days"),
    ] {
        let err = Args::try_parse_from(["rango", "--cookie-age", value])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--cookie-age"), "{value}: {err}");
        assert!(err.contains(reason), "{value}: {err}");
    }
}
// ANCHOR_END: args
