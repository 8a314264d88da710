//! The Redis suite, from the suite stages 3 and 4 share: two servers, one
//! Redis, shared sessions, and the transcript the book shows of them
//! (`book/src/transcripts/step03-redis.txt`; `SNAPSHOTS=overwrite` rewrites
//! it, as in tests/transcripts.rs).
//!
//! It needs a running `redis-server`, so `cargo test` skips it (and says so).
//! `.ci/run` installs Redis, starts it on a free port and runs this file:
//!
//! ```sh
//! redis-server --port 6390 --save '' --appendonly no &
//! RANGO_TEST_REDIS_URL=redis://127.0.0.1:6390 \
//!     cargo test -p step03-server-sessions --test redis -- --ignored
//! ```

mod stage;

use rango_sessions::Store;
use rango_site::testing::suite::redis::redis_url;

use crate::stage::ThisStage;

rango_site::stage3_redis_behaviour!(
    ThisStage,
    open: Store::open(&redis_url(), false).await.unwrap(),
);
