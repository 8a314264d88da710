//! Cookie values are text the visitor controls. Every kind of bad value gets
//! the same answer: a normal page, the counter back at 1, fresh well-formed
//! cookies, and a debug log line that says what was rejected and why.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum_extra::extract::cookie::{Cookie, Key};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rango_site::Clock;
use rango_site::Console;
use step02_client_cookies::visits::format_last_visit;
use step02_client_cookies::{Config, app};
use tower::ServiceExt;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).unwrap()
}

/// A `last_visit` two days before [`now`]: old enough to count.
fn two_days_ago() -> String {
    format_last_visit(now() - TimeDelta::days(2))
}

/// What the debug log says, collected in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    /// Collects this thread's log at debug level until the guard is dropped.
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let log = Self::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (log, tracing::subscriber::set_default(subscriber))
    }

    fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        String::from_utf8(bytes).unwrap()
    }
}

impl io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One request to the index of a fresh app whose clock reads [`now`].
async fn index_with(cookie: &[u8], key: Option<Key>) -> Response<Body> {
    let (console, _) = Console::buffer();
    let config = Config {
        console,
        clock: Clock::manual(now()),
        visit_interval: DAY,
        cookie_key: key,
    };
    let request = Request::get("/rango/")
        .header(COOKIE, HeaderValue::from_bytes(cookie).unwrap())
        .body(Body::empty())
        .unwrap();
    app(config).oneshot(request).await.unwrap()
}

/// The count the page shows and the visit cookies the response sets.
async fn read(response: Response<Body>) -> (u64, String, String) {
    let cookies: Vec<Cookie<'static>> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|line| Cookie::parse_encoded(line.to_str().unwrap().to_owned()).unwrap())
        .collect();
    let value = |name: &str| {
        let cookie = cookies.iter().find(|c| c.name() == name)?;
        assert_eq!(cookie.path(), Some("/"), "{name}");
        Some(cookie.value().to_owned())
    };
    // Signed, both travel in `visits`, after the signature: `SIG COUNT|TIME`.
    let visits = value("visits").expect("visits");
    let (visits, last_visit) = if let Some(last_visit) = value("last_visit") {
        (visits, last_visit)
    } else {
        let (visits, last_visit) = visits.split_once('|').expect("COUNT|TIME");
        (visits.to_owned(), last_visit.to_owned())
    };
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let start = body.find("<p>visits: ").expect("the count is shown") + 11;
    let shown = body[start..body[start..].find("</p>").unwrap() + start]
        .parse()
        .unwrap();
    (shown, visits, last_visit)
}

// ANCHOR: bad_inputs
/// Each bad `Cookie` header, and what the log must say about it. Against a
/// clock reading 2025-01-10T12:00Z, `2025-01-08T12:00:00.000Z` is a good
/// `last_visit`: two days back.
const BAD_COOKIES: &[(&str, &[u8], &str)] = &[
    (
        "letters",
        b"visits=abc; last_visit=2025-01-08T12:00:00.000Z",
        r#"visits="abc" is not a whole number"#,
    ),
    (
        "negative",
        b"visits=-5; last_visit=2025-01-08T12:00:00.000Z",
        r#"visits="-5" is not"#,
    ),
    (
        "plus sign",
        b"visits=+5; last_visit=2025-01-08T12:00:00.000Z",
        r#"visits="+5" is not"#,
    ),
    (
        "zero",
        b"visits=0; last_visit=2025-01-08T12:00:00.000Z",
        r#"visits="0" is not"#,
    ),
    (
        "too big",
        b"visits=99999999999999999999; last_visit=2025-01-08T12:00:00.000Z",
        "is not a whole number",
    ),
    (
        "empty count",
        b"visits=; last_visit=2025-01-08T12:00:00.000Z",
        r#"visits="" is not"#,
    ),
    (
        "a word for a time",
        b"visits=3; last_visit=yesterday",
        r#"last_visit="yesterday" is not an RFC 3339 time"#,
    ),
    // What the chapter's `str(datetime.now())` writes.
    (
        "Python's format",
        b"visits=3; last_visit=2025-01-08 12:00:00.123456",
        "is not an RFC 3339 time",
    ),
    (
        "empty time",
        b"visits=3; last_visit=",
        r#"last_visit="" is not"#,
    ),
    (
        "the future",
        b"visits=3; last_visit=2025-01-10T13:00:00.000Z",
        "is in the future",
    ),
    (
        "count twice",
        b"visits=3; visits=4; last_visit=2025-01-08T12:00:00.000Z",
        "visits was sent more than once",
    ),
    (
        "time twice",
        b"visits=3; last_visit=2025-01-08T12:00:00.000Z; last_visit=2025-01-08T12:00:00.000Z",
        "last_visit was sent more than once",
    ),
    ("no time", b"visits=3", "last_visit is missing"),
    (
        "no count",
        b"last_visit=2025-01-08T12:00:00.000Z",
        "visits is missing",
    ),
    (
        "UTF-8",
        "visits=3é; last_visit=2025-01-08T12:00:00.000Z".as_bytes(),
        "visits was sent but not accepted",
    ),
    (
        "not UTF-8",
        b"visits=3\xff; last_visit=2025-01-08T12:00:00.000Z",
        "visits was sent but not accepted",
    ),
    // The jar skips a `Cookie` header that is not all visible ASCII, so a
    // stray cookie of someone else's hides ours too.
    (
        "someone else's UTF-8",
        "visits=3; last_visit=2025-01-08T12:00:00.000Z; name=José".as_bytes(),
        "visits was sent but not accepted",
    ),
];

#[tokio::test]
async fn every_bad_cookie_restarts_the_count_with_fresh_cookies_and_a_log_line() {
    let huge = "9".repeat(4096);
    let four_kb = [
        format!("visits={huge}; last_visit=2025-01-08T12:00:00.000Z"),
        format!("visits=3; last_visit={huge}"),
    ];
    let cases = BAD_COOKIES
        .iter()
        .map(|&(label, cookie, reason)| (label, cookie.to_vec(), reason))
        .chain(four_kb.map(|cookie| ("4 KB", cookie.into_bytes(), "(4096 bytes)")));

    let (log, _guard) = Log::capture();
    for (label, cookie, reason) in cases {
        let response = index_with(&cookie, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{label}");
        let (shown, visits, last_visit) = read(response).await;
        assert_eq!(shown, 1, "{label}: the count starts again");
        assert_eq!(visits, "1", "{label}: a fresh count");
        assert_eq!(
            last_visit,
            format_last_visit(now()),
            "{label}: a fresh time"
        );
        let logged = log.take();
        assert!(logged.contains("DEBUG"), "{label}: {logged}");
        assert!(
            logged.contains("visit cookies rejected"),
            "{label}: {logged}"
        );
        assert!(
            logged.contains(reason),
            "{label}: wanted {reason:?} in {logged}"
        );
        assert!(
            !logged.contains(&"9".repeat(100)),
            "{label}: a short log line"
        );
    }
}
// ANCHOR_END: bad_inputs

/// The same table's good rows: these must not be taken for bad ones.
#[tokio::test]
async fn good_cookies_count_as_usual_and_log_nothing() {
    let good = two_days_ago();
    let recent = format_last_visit(now() - TimeDelta::hours(1));
    let cases: Vec<(&str, String, u64, String)> = vec![
        ("no cookies", String::new(), 1, format_last_visit(now())),
        (
            "a day has passed",
            format!("visits=3; last_visit={good}"),
            4,
            format_last_visit(now()),
        ),
        (
            "not yet",
            format!("visits=3; last_visit={recent}"),
            3,
            recent.clone(),
        ),
        (
            "another offset",
            "visits=3; last_visit=2025-01-10T13:00:00%2B02:00".into(),
            3,
            format_last_visit(now() - TimeDelta::hours(1)),
        ),
        (
            "other cookies too",
            format!("theme=dark; visits=7; last_visit={good}; lang=en"),
            8,
            format_last_visit(now()),
        ),
        (
            "at the very top",
            format!("visits={}; last_visit={good}", u64::MAX),
            u64::MAX,
            format_last_visit(now()),
        ),
    ];
    let (log, _guard) = Log::capture();
    for (label, cookie, count, time) in cases {
        let response = index_with(cookie.as_bytes(), None).await;
        assert_eq!(response.status(), StatusCode::OK, "{label}");
        let (shown, visits, last_visit) = read(response).await;
        assert_eq!((shown, visits), (count, count.to_string()), "{label}");
        assert_eq!(last_visit, time, "{label}");
        let logged = log.take();
        assert!(!logged.contains("rejected"), "{label}: {logged}");
    }
}

#[tokio::test]
async fn a_bad_signature_is_logged_and_restarts_the_count() {
    let good = two_days_ago();
    let (log, _guard) = Log::capture();
    let cookie = format!("visits=3|{good}; last_visit={good}");
    let (shown, visits, _) = read(index_with(cookie.as_bytes(), Some(Key::generate())).await).await;
    assert_eq!(shown, 1);
    assert!(
        visits.ends_with('1') && visits.len() > 40,
        "signed: {visits}"
    );
    assert!(log.take().contains("visits was sent but not accepted"));
}
