//! Stage 3 over real HTTP, on each local kind of store: the suite of what
//! stages 3 and 4 both do (`rango_site::testing::suite`), run on this stage.

mod stage;

use rango_sessions::testing::Kind;

use crate::stage::ThisStage;

rango_site::stage3_behaviour!(
    ThisStage,
    each_store: [sqlite: Kind::Sqlite, cached_sqlite: Kind::CachedSqlite, memory: Kind::Memory],
    one_store: Kind::Sqlite,
);
