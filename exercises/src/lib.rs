//! Rango, the chapter's exercises: the stage 3 site (the visit counter in a
//! server-side session), with the places you work on split out.
//!
//! - Exercise 1, `src/only_sessionid.rs`: write the check that proves a
//!   browser is given `sessionid` and nothing else.
//! - Exercise 2, `src/about.rs` and `templates/rango/about.html`: the About
//!   page shows the visit count.
//! - Exercise 3, `src/forget.rs`: the "Forget me" button ends the session.
//! - Exercise 4, `src/remember.rs` (and the About page again): "Remember me"
//!   switches the session between a two-week cookie and a browser-length one.
//!
//! Everything else is stage 3's, used as it is from `step03-server-sessions`.
//! `cargo exercise` checks your answers; the README in this folder says more.

// ANCHOR: exercise_modules
// The files you edit. `--features solution` compiles the reference answers in
// solution/ in their place (CI checks both); leave these lines as they are.
#[cfg_attr(feature = "solution", path = "../solution/about.rs")]
mod about;
#[cfg_attr(feature = "solution", path = "../solution/forget.rs")]
mod forget;
#[cfg_attr(feature = "solution", path = "../solution/only_sessionid.rs")]
pub mod only_sessionid;
#[cfg_attr(feature = "solution", path = "../solution/remember.rs")]
mod remember;
// ANCHOR_END: exercise_modules

use axum::Router;
use axum::http::{StatusCode, header};
use axum::middleware::{from_fn, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rango_sessions::expiry::add_expires;
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
/// Stage 3's site, with your About page and your two forms' handlers.
pub fn app(config: Config) -> Router {
    let pages = Router::new()
        .route("/rango/", get(index))
        .route("/rango/about/", get(about::about))
        .route("/rango/cookies/", get(cookies))
        // POST only: a link or a prefetch (a GET) must never end a session.
        .route("/rango/forget/", post(forget::forget))
        .route("/rango/remember/", post(remember::remember))
        // Inside the session layer, around every page: exercise 4 gives each
        // session that is saved the lifetime its visitor chose.
        .route_layer(from_fn(remember::keep_lifetime));
    // `Expires` next to tower-sessions' `Max-Age` on a two-week cookie, as
    // Django sends (stage 4 does the same); it rewrites the `Set-Cookie` the
    // session layer writes, so it wraps the whole site.
    with_sessions(pages, config)
        .layer(map_response(add_expires))
        .layer(map_response(with_forget_button))
}
// ANCHOR_END: app

// ANCHOR: forget_button
/// Exercise 3's "Forget me" button: a form, so that pressing it sends a
/// POST (a link would send a GET, which a browser may also send on its own,
/// to prefetch a page).
const FORGET_BUTTON: &str = r#" · <form method="post" action="/rango/forget/" style="display: inline"><button>Forget me</button></form>"#;

/// Puts the "Forget me" button at the end of every page's footer. Stage 3's
/// pages are compiled in stage 3, with its footer; this adds the button to
/// each HTML page on its way out.
async fn with_forget_button(response: Response) -> Response {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if !html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A page is a few kilobytes, rendered in memory.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = String::from_utf8_lossy(&bytes);
    let Some(end) = page.rfind("</footer>") else {
        return Response::from_parts(parts, bytes.into());
    };
    let page = format!("{}{FORGET_BUTTON}{}", &page[..end], &page[end..]);
    // The length changed; the server counts it again.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, page.into())
}
// ANCHOR_END: forget_button
