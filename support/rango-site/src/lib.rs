//! What every Rango stage shares and the chapter does not teach.
//!
//! In the Django tutorial this is the rest of the project around the `rango`
//! app: the Category and Page models and their data, `manage.py runserver`,
//! the 404 and 500 pages, the test client. The stages use it and do not
//! teach it, so it lives here once:
//!
//! - [`fixture`]: the categories and pages on the index ([`TopFive`]);
//! - [`Clock`]: where "now" comes from, so tests can move it;
//! - [`Console`]: where `TEST COOKIE WORKED!` is printed;
//! - [`serve`]: `--addr`, logging, and serving until Ctrl-C;
//! - [`duration`]: reading interval flags such as `--visit-interval 1d`;
//! - [`site`]: the `/` redirect, the 404 and 500 pages, the request log;
//! - `templates/base.html`: the layout every page extends, and
//!   `templates/rango/about.html`: the About page, the same in every stage;
//! - [`testing`] (feature `testing`): the harness the stages' tests share.

pub mod clock;
pub mod console;
pub mod duration;
pub mod fixture;
pub mod pages;
pub mod serve;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::Clock;
pub use console::{Console, Printed};
pub use fixture::TopFive;
pub use pages::{AppError, site};
pub use serve::{ServeArgs, serve, serve_with};
