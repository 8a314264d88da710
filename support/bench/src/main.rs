//! The benchmark's ceiling: Rango's index page with no session layer at all.
//!
//! `support/bench/run` measures each stage against this server. It renders
//! the same template (stage 3's, found through `askama.toml`) with the same
//! data, on the same runtime and HTTP stack, so the only thing the stages add
//! is the session: the cookie, the store, the saving.
//!
//! `cargo run --release -p bench -- 127.0.0.1:8000`

use std::process::ExitCode;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;
use rango_site::TopFive;
use rango_site::serve::{ServeArgs, serve};

/// Stage 3's index template, filled the way its handler fills it.
#[derive(Template, WebTemplate)]
#[template(path = "rango/index.html")]
struct IndexPage {
    top_five: TopFive,
    visits: u64,
}

async fn index() -> IndexPage {
    IndexPage {
        top_five: TopFive::default(),
        // A first visit, as the stage shows it.
        visits: 1,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8000".into());
    let app = Router::new().route("/rango/", get(index));
    // The stages' own server (its limits, its accept loop), so that what
    // they add to the ceiling is the session layer and nothing else.
    serve(&ServeArgs { addr }, app).await
}
