//! The least app that does what stage 1 does: a session per visitor, kept
//! in memory, an askama page, and a `--addr` flag.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

#[derive(clap::Parser)]
struct Args {
    #[arg(long, env = "RANGO_ADDR", default_value = "127.0.0.1:8000")]
    addr: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct Index {
    visits: u64,
}

async fn index(session: Session) -> Result<Index, String> {
    let visits = session.get("visits").await.map_err(|err| err.to_string())?.unwrap_or(0) + 1;
    session.insert("visits", visits).await.map_err(|err| err.to_string())?;
    Ok(Index { visits })
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    let app = Router::new()
        .route("/rango/", get(index))
        .layer(SessionManagerLayer::new(MemoryStore::default()));
    let listener = tokio::net::TcpListener::bind(&args.addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
