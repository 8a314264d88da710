//! Durations as people write them, for the interval flags: `1d`, `2h 30m`,
//! `30s`, `500ms`, `0s`.

use std::time::Duration;

/// Reads a duration with humantime; a negative one, or one that is not a
/// duration, is refused with the reason. A flag that takes it sets
/// `allow_hyphen_values`, so that `-5s` reaches this function instead of
/// being taken for a flag.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!(
            "{text:?} is negative; a duration is 0s or more, such as 30s or 1d"
        ));
    }
    humantime::parse_duration(text).map_err(|err| {
        format!("{text:?} is not a duration ({err}); write it as 1d, 2h, 30s or 500ms")
    })
}

/// [`parse`], and then at least `min`, or zero (which the flag takes to mean
/// "never").
pub fn zero_or_at_least(text: &str, min: Duration) -> Result<Duration, String> {
    let duration = parse(text)?;
    if !duration.is_zero() && duration < min {
        return Err(format!(
            "{text:?} is too short: give at least {}, or 0 to turn it off",
            humantime::format_duration(min)
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(parse("-5s").unwrap_err().contains("is negative"));
        for bad in ["soon", "5", "1 fortnight", ""] {
            assert!(
                parse(bad).unwrap_err().contains("is not a duration"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_lower_bound_leaves_zero_for_never() {
        let second = Duration::from_secs(1);
        assert_eq!(zero_or_at_least("0", second), Ok(Duration::ZERO));
        assert_eq!(zero_or_at_least("1s", second), Ok(second));
        let err = zero_or_at_least("1ns", second).unwrap_err();
        assert_eq!(
            err,
            "\"1ns\" is too short: give at least 1s, or 0 to turn it off"
        );
    }
}
