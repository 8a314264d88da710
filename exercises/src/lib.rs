//! Rango, the chapter's exercises: the stage 3 site (the visit counter in a
//! server-side session), with the two places you work on split out.
//!
//! - Exercise 1, `src/only_sessionid.rs`: write the check that proves a
//!   browser is given `sessionid` and nothing else.
//! - Exercise 2, `src/about.rs` and `templates/rango/about.html`: the About
//!   page shows the visit count.
//!
//! Everything else is stage 3's, used as it is from `step03-server-sessions`.
//! `cargo exercise` checks your answers; the README in this folder says more.

// ANCHOR: exercise_modules
// The files you edit. `--features solution` compiles the reference answers in
// solution/ in their place (CI checks both); leave these lines as they are.
#[cfg_attr(feature = "solution", path = "../solution/about.rs")]
mod about;
#[cfg_attr(feature = "solution", path = "../solution/only_sessionid.rs")]
pub mod only_sessionid;
// ANCHOR_END: exercise_modules

use axum::Router;
use axum::routing::get;
pub use step03_server_sessions::Config;
use step03_server_sessions::{cookies, index, with_sessions};

/// The exercises' settings: stage 3's.
#[derive(Debug, clap::Parser)]
#[command(version, about = "Rango, the exercises: server-side sessions")]
// Stage 3's `Args` already names its group of flags `Args`.
#[group(skip)]
pub struct Args {
    /// Every flag of stage 3.
    #[command(flatten)]
    pub stage3: step03_server_sessions::Args,
}

// ANCHOR: app
/// Stage 3's site, with your About page.
pub fn app(config: Config) -> Router {
    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about::about))
        .route("/rango/cookies/", get(cookies));
    with_sessions(pages, config)
}
// ANCHOR_END: app
