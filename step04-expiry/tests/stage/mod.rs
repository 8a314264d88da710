//! This stage, as the suite of what stages 3 and 4 both do
//! (`rango_site::testing::suite`) starts it, for `tests/site.rs` and
//! `tests/redis.rs`.

use axum::Router;
use rango_sessions::Store;
use rango_sessions::testing::Kind;
use rango_site::testing::suite::{Parts, Stage};
use step04_expiry::{Config, SessionExpiry, app};

// ANCHOR: suite
/// This stage, as the suite starts it.
pub struct ThisStage;

impl Stage for ThisStage {
    type Kind = Kind;

    fn app(parts: Parts) -> Router {
        app(config(parts, SessionExpiry::default()))
    }
}

/// The stage's settings, with what the suite sets in `parts`.
pub fn config(parts: Parts, expiry: SessionExpiry) -> Config {
    Config {
        console: parts.console,
        clock: parts.clock,
        visit_interval: parts.visit_interval,
        store: Store::new(parts.store),
        expiry,
        ..Config::default()
    }
}
// ANCHOR_END: suite
