//! Sessions in Redis: Django's `cache` backend over a Redis cache, the store
//! that several copies of a site can share.

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{
    ClientLike, Config as RedisConfig, ConnectionConfig, KeysInterface, PerformanceConfig, Pool,
    ReconnectPolicy,
};
use fred::types::{Expiration, SetOptions};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::deleted;

// ANCHOR: redis
/// Connections to Redis; each carries many requests at once.
const REDIS_CONNECTIONS: usize = 4;

/// Sessions in Redis, which expires them by itself: each is one key, the
/// session id, holding JSON (`redis-cli get ID` shows it) and a time to live
/// that ends at the session's expiry.
///
/// Written here, on the Redis client, rather than taken from the
/// `tower-sessions-redis-store` crate: that store's `save` writes only over
/// a key that is still there (`SET … XX`) but does not say whether it did,
/// so a session deleted while a request was in flight looked saved.
#[derive(Debug, Clone)]
pub(crate) struct RedisSessions(Pool);

/// The client would normally keep retrying a server that does not answer;
/// at start-up that hides a typo in the URL, so the first connection must
/// succeed. Later, if Redis goes away, the client reconnects in the
/// background, and a request waits at most two seconds before it fails with
/// an error page.
pub(crate) async fn open_redis(url: &str) -> Result<RedisSessions, String> {
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
    Ok(RedisSessions(pool))
}

/// What a key holds: `{"expiry_date":1767225600,"data":{"visits":3}}`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    expiry_date: i64,
    /// Keys in order (`serde_json`'s map is sorted), so a session reads the same each time.
    data: serde_json::Map<String, serde_json::Value>,
}

impl RedisSessions {
    /// Writes `record` if its key is there already (`XX`) or is not (`NX`);
    /// says whether it did.
    async fn set(&self, record: &Record, only: SetOptions) -> session_store::Result<bool> {
        let expiry_date = record.expiry_date.unix_timestamp();
        let stored = Stored {
            expiry_date,
            data: record.data.clone().into_iter().collect(),
        };
        let json = serde_json::to_string(&stored)
            .map_err(|err| session_store::Error::Encode(err.to_string()))?;
        let expires = Some(Expiration::EXAT(expiry_date));
        // `OK` if it wrote, nil if the condition kept it from writing.
        let written: Option<String> = self
            .0
            .set(record.id.to_string(), json, expires, Some(only), false)
            .await
            .map_err(backend)?;
        Ok(written.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new session never takes the place of one already there.
        while !self.set(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if self.set(record, SetOptions::XX).await? {
            Ok(())
        } else {
            Err(deleted())
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let json: Option<String> = self.0.get(id.to_string()).await.map_err(backend)?;
        let Some(json) = json else {
            return Ok(None);
        };
        let decode = |err: &dyn std::fmt::Display| session_store::Error::Decode(err.to_string());
        let stored: Stored = serde_json::from_str(&json).map_err(|err| decode(&err))?;
        Ok(Some(Record {
            id: *id,
            data: stored.data.into_iter().collect(),
            expiry_date: OffsetDateTime::from_unix_timestamp(stored.expiry_date)
                .map_err(|err| decode(&err))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self.0.del(id.to_string()).await.map_err(backend)?;
        Ok(())
    }
}
// ANCHOR_END: redis

#[allow(clippy::needless_pass_by_value)] // for `map_err(backend)`
fn backend(err: fred::error::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}
