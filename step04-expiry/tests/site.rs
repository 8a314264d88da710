//! Stage 4 over real HTTP, on each local kind of store: the suite of what
//! stages 3 and 4 both do (`rango_site::testing::suite`), run on this stage,
//! then what stage 4 adds: how long a session lasts.

mod stage;

use std::time::Duration;

use chrono::TimeDelta;
use rango_sessions::expiry::REFRESHED_AT;
use rango_sessions::on_each_store;
use rango_sessions::testing::Kind;
use rango_site::testing::suite::{Site, StoreKind};
use rango_site::testing::{cookieless_browser, get};
use serde_json::json;
use step04_expiry::app;
use step04_expiry::expiry::SessionExpiry;
use tower_sessions::cookie::time::{self, OffsetDateTime};

use crate::stage::{ThisStage, config};

rango_site::stage3_behaviour!(
    ThisStage,
    each_store: [sqlite: Kind::Sqlite, cached_sqlite: Kind::CachedSqlite, memory: Kind::Memory],
    one_store: Kind::Sqlite,
);

const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The stage on a fresh store of `kind` with the given session expiry; a
/// visit counts once a day, so only the expiry changes the session.
async fn start(kind: Kind, expiry: SessionExpiry) -> Site {
    let app = |parts| app(config(parts, expiry));
    Site::serve(kind.fresh().await, DAY, app).await
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
    let off = (when - (OffsetDateTime::now_utc() + age)).abs();
    assert!(
        off < time::Duration::seconds(3),
        "{when} is not {age:?} from now"
    );
}

// ANCHOR: stored_expiry
on_each_store! {
    /// In both modes the store keeps a session the cookie age after its last
    /// save: an hour here, not tower-sessions' two weeks.
    async fn the_stored_expiry_follows_the_cookie_age(kind: Kind) {
        for expiry in [persistent(HOUR), browser_length(HOUR)] {
            let site = start(kind, expiry).await;
            let id = site.new_session().await;
            assert_about_from_now(site.record(id).await.unwrap().expiry_date, HOUR);
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
            let site = start(kind, expiry).await;
            let start = site.clock.now();
            let id = site.new_session().await;
            let sent = Some(id.to_string());
            let first = site.record(id).await.unwrap();
            assert_eq!(first.data[REFRESHED_AT], json!(start));

            site.clock.advance(TimeDelta::seconds(59));
            let (visits, cookie) = site.visit_as(sent.as_deref()).await;
            assert_eq!(visits, 1);
            assert!(cookie.is_none(), "59 s: no save, so no cookie");
            assert_eq!(site.record(id).await.unwrap().expiry_date, first.expiry_date, "not saved");

            site.clock.advance(TimeDelta::seconds(1));
            let (visits, cookie) = site.visit_as(sent.as_deref()).await;
            assert_eq!(visits, 1, "the count did not change");
            let (value, max_age) = cookie.expect("60 s: saved again, so the cookie is sent again");
            assert_eq!(Some(value), sent, "the same session");
            let fresh = (!expiry.at_browser_close).then_some(DAY);
            assert_eq!(max_age, fresh, "a fresh Max-Age, if it has one");
            let second = site.record(id).await.unwrap();
            // Stores keep whole seconds, so within the same second the
            // expiry may read the same; it never goes back.
            assert!(second.expiry_date >= first.expiry_date, "the stored expiry moved");
            assert_about_from_now(second.expiry_date, DAY);
            let refreshed = start + TimeDelta::seconds(60);
            assert_eq!(second.data[REFRESHED_AT], json!(refreshed));
        }
    }
}
// ANCHOR_END: sliding

/// A short cookie age shortens the tolerance with it (1% of the age), so
/// even a session of a few minutes slides.
#[tokio::test]
async fn the_tolerance_is_at_most_a_hundredth_of_the_cookie_age() {
    let site = start(Kind::Sqlite, persistent(Duration::from_secs(1000))).await;
    let id = site.new_session().await.to_string();
    site.clock.advance(TimeDelta::seconds(9));
    let (_, cookie) = site.visit_as(Some(&id)).await;
    assert!(cookie.is_none(), "9 s of 1000: not yet");
    site.clock.advance(TimeDelta::seconds(1));
    let (_, cookie) = site.visit_as(Some(&id)).await;
    assert!(cookie.is_some(), "10 s of 1000: saved");
}

/// The cookie page says which mode is on (the transcripts check the home page).
#[tokio::test]
async fn the_cookies_page_names_the_mode() {
    for (expiry, mode) in [
        (persistent(DAY), "Persistent sessions"),
        (browser_length(DAY), "Browser-length sessions"),
    ] {
        let site = start(Kind::Memory, expiry).await;
        let (_, body) = get(&cookieless_browser(), &site.url("/rango/cookies/")).await;
        assert!(body.contains(mode), "{body}");
    }
}

#[test]
fn ages_read_as_words() {
    let words = |seconds| persistent(Duration::from_secs(seconds)).age_in_words();
    assert_eq!(words(1_209_600), "14 days");
    assert_eq!(words(7_200), "2 hours");
    assert_eq!(words(90), "90 seconds");
    assert_eq!(words(1), "1 second");
}

// ANCHOR: tolerance_test
#[test]
fn the_tolerance_is_a_minute_and_never_more_than_a_hundredth_of_the_age() {
    let tolerance = |age, after| {
        let expiry = persistent(Duration::from_secs(age));
        let refresh_after = Duration::from_secs(after);
        SessionExpiry {
            refresh_after,
            ..expiry
        }
        .refresh_tolerance()
    };
    let default = SessionExpiry::default().refresh_tolerance();
    assert_eq!(default, Duration::from_secs(60));
    assert_eq!(tolerance(1000, 60), Duration::from_secs(10));
    assert_eq!(tolerance(30, 60), Duration::from_millis(300));
    assert_eq!(tolerance(1_209_600, 0), Duration::ZERO);
}
// ANCHOR_END: tolerance_test
