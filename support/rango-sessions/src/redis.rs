//! Sessions in Redis: Django's `cache` backend over a Redis cache, the store
//! that several copies of a site can share.

use std::time::Duration;

use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{
    ClientLike, Config as RedisConfig, ConnectionConfig, PerformanceConfig, Pool, ReconnectPolicy,
};

// ANCHOR: redis
/// Connections to Redis; each carries many requests at once.
const REDIS_CONNECTIONS: usize = 4;

/// Sessions in Redis, which expires them by itself.
///
/// The client would normally keep retrying a server that does not answer;
/// at start-up that hides a typo in the URL, so the first connection must
/// succeed. Later, if Redis goes away, the client reconnects in the
/// background, and a request waits at most two seconds before it fails with
/// an error page.
pub(crate) async fn open_redis(url: &str) -> Result<RedisStore<Pool>, String> {
    let config = RedisConfig::from_url(url).map_err(|err| format!("not a Redis URL: {err}"))?;
    let performance = PerformanceConfig {
        default_command_timeout: Duration::from_secs(2),
        ..PerformanceConfig::default()
    };
    let connection = ConnectionConfig {
        connection_timeout: Duration::from_secs(5),
        ..ConnectionConfig::default()
    };
    let reconnect = ReconnectPolicy::new_constant(0, 500);
    let pool = Pool::new(
        config,
        Some(performance),
        Some(connection),
        Some(reconnect),
        REDIS_CONNECTIONS,
    )
    .map_err(|err| format!("cannot set up the Redis client: {err}"))?;
    // `fail_fast` is on by default: the first failure to connect ends `init`.
    pool.init()
        .await
        .map_err(|err| format!("cannot reach Redis: {err}"))?;
    Ok(RedisStore::new(pool))
}
// ANCHOR_END: redis
