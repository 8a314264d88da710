//! Stage 3 over real HTTP, on each local kind of store: the suite of what
//! stages 3 and 4 both do (`rango_site::testing::suite`), run on this stage.

use axum::Router;
use rango_sessions::Store;
use rango_sessions::testing::Kind;
use rango_site::testing::suite::{Opened, Parts, Stage};
use step03_server_sessions::{Config, app};

/// This stage, as the suite starts it.
struct ThisStage;

impl Stage for ThisStage {
    type Kind = Kind;

    async fn open(kind: Kind) -> Opened {
        let sessions = kind.open().await;
        Opened::new(sessions.store.clone(), sessions)
    }

    fn app(parts: Parts) -> Router {
        app(config(parts))
    }
}

/// The stage's settings, with what the suite sets in `parts`.
fn config(parts: Parts) -> Config {
    Config {
        console: parts.console,
        clock: parts.clock,
        visit_interval: parts.visit_interval,
        store: Store::new(parts.store),
        ..Config::default()
    }
}

rango_site::stage3_behaviour!(
    ThisStage,
    each_store: [sqlite: Kind::Sqlite, cached_sqlite: Kind::CachedSqlite, memory: Kind::Memory],
    one_store: Kind::Sqlite,
);
