//! Where "now" comes from, so tests can move time instead of waiting a day
//! (Django tests reach for `freezegun` or `unittest.mock` for the same).

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

// ANCHOR: clock
/// Where "now" comes from: the system clock when serving, a hand-moved one in tests.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The real time, as the server uses it.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(start))))
    }

    /// The current time by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward by `by`.
    ///
    /// # Panics
    /// On the system clock, which nobody can move.
    pub fn advance(&self, by: TimeDelta) {
        let now = self.0.as_ref().expect("only a manual clock can be moved");
        *now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}
// ANCHOR_END: clock
