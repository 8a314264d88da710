//! Where Rango's sessions live: the Rust counterpart of Django's session
//! backends (`django.contrib.sessions.backends`), which the stages use and
//! do not teach.
//!
//! A stage turns sessions on with tower-sessions' `SessionManagerLayer` (the
//! lesson, like adding `SessionMiddleware` to Django's settings) and hands it
//! a [`Store`] from here (the machinery, like `SESSION_ENGINE`):
//!
//! - [`Store::open`] opens what `--session-store` names: a `SQLite` file (the
//!   default, Django's `db` backend), `memory` (bounded, [`memory`]), or
//!   Redis, optionally with a memory cache in front (`--session-cache`,
//!   Django's `cached_db`);
//!   [`StoreArgs`] are those two flags, for a stage's `Args`;
//! - [`Store::clear_expired`] and [`clear_expired_every`] delete expired
//!   sessions (Django's `clearsessions`);
//! - [`vary_on_cookie`] and [`expiry`] make tower-sessions behave as
//!   Django's `SessionMiddleware` does;
//! - [`testing`] (feature `testing`): a fresh store of each kind for tests.

pub mod clear;
pub mod expiry;
pub mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod vary;

pub use clear::{Cleared, clear_expired_every};
pub use store::{DEFAULT_STORE, Store, StoreArgs, StoreError, redacted};
pub use vary::vary_on_cookie;
