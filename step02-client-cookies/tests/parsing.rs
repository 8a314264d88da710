//! The cookie parsers on their own: what they accept, and that no string at
//! all can make them (or the whole handler) panic.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::Key;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use rango_site::Clock;
use step02_client_cookies::visits::{
    Rejected, VisitJar, format_last_visit, parse_last_visit, parse_visits, visitor_cookie_handler,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).unwrap()
}

#[test]
fn visits_is_a_positive_whole_number_in_digits() {
    assert_eq!(parse_visits("1"), Ok(1));
    assert_eq!(parse_visits("42"), Ok(42));
    assert_eq!(parse_visits("18446744073709551615"), Ok(u64::MAX));
    for bad in [
        "",
        "0",
        "-5",
        "+5",
        " 5",
        "5 ",
        "4.0",
        "1e3",
        "abc",
        "١٢",
        "18446744073709551616",
    ] {
        assert_eq!(
            parse_visits(bad),
            Err(Rejected::NotACount(bad.into())),
            "{bad:?}"
        );
    }
}

#[test]
fn last_visit_is_rfc_3339_and_not_in_the_future() {
    let now = now();
    assert_eq!(parse_last_visit("2025-01-10T12:00:00Z", now), Ok(now));
    assert_eq!(parse_last_visit("2025-01-10T12:00:00.000Z", now), Ok(now));
    assert_eq!(
        parse_last_visit("2025-01-10T13:00:00+01:00", now),
        Ok(now),
        "any offset, read back in UTC"
    );
    assert_eq!(
        parse_last_visit("2025-01-10T12:00:00.001Z", now),
        Err(Rejected::InTheFuture("2025-01-10T12:00:00.001Z".into()))
    );
    for bad in [
        "",
        "yesterday",
        "2025-01-10 12:00:00.123456",
        "2025-01-10",
        "1736510400",
    ] {
        assert_eq!(
            parse_last_visit(bad, now),
            Err(Rejected::NotATime(bad.into())),
            "{bad:?}"
        );
    }
}

#[test]
fn last_visit_is_written_in_utc_to_the_millisecond() {
    let time = now() + TimeDelta::microseconds(123_456);
    assert_eq!(format_last_visit(time), "2025-01-10T12:00:00.123Z");
}

/// Runs the whole handler on one `Cookie` header, plain or signed.
fn handle(header: &[u8], signed: bool) -> u64 {
    let mut request = HeaderMap::new();
    request.insert(COOKIE, HeaderValue::from_bytes(header).unwrap());
    let key = signed.then(Key::generate);
    let jar = VisitJar::from_headers(&request, key.as_ref());
    visitor_cookie_handler(&request, jar, &Clock::manual(now()), Duration::ZERO).1
}

/// Any bytes a header value may carry: tab, visible ASCII, and the bytes
/// above ASCII that HTTP tolerates (no other control characters).
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![Just(b'\t'), 0x20_u8..=0x7e, 0x80_u8..=0xff];
    proptest::collection::vec(byte, 0..200)
}

// ANCHOR: proptests
proptest! {
    #[test]
    fn parse_visits_never_panics(value in any::<String>()) {
        if let Ok(count) = parse_visits(&value) {
            prop_assert!(count >= 1);
            prop_assert!(value.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn every_count_reads_back(count in 1..=u64::MAX) {
        prop_assert_eq!(parse_visits(&count.to_string()), Ok(count));
    }

    #[test]
    fn parse_last_visit_never_panics(value in any::<String>(), seconds in any::<i64>()) {
        let now = DateTime::from_timestamp(seconds / 1000, 0).unwrap_or_default();
        if let Ok(time) = parse_last_visit(&value, now) {
            prop_assert!(time <= now);
        }
    }

    #[test]
    fn every_written_time_reads_back(millis in 0..=253_402_300_799_999_i64) {
        let time = DateTime::from_timestamp_millis(millis).unwrap();
        prop_assert_eq!(parse_last_visit(&format_last_visit(time), time), Ok(time));
    }

    #[test]
    fn any_cookie_header_gets_a_count(header in header_bytes(), signed in any::<bool>()) {
        prop_assert!(handle(&header, signed) >= 1);
    }

    #[test]
    fn any_visit_values_get_a_count(
        visits in "[ -~]{0,30}",
        last_visit in "[ -~]{0,40}",
        signed in any::<bool>(),
    ) {
        let header = format!("visits={visits}; last_visit={last_visit}");
        prop_assert!(handle(header.as_bytes(), signed) >= 1);
    }
}
// ANCHOR_END: proptests
