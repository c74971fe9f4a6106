//! Connections for the Redis tests, to the Redis that `src/test_urls.rs` names. Every store
//! gets a random key prefix, so tests never see each other's keys. A Redis that cannot be
//! reached fails the test: nothing is skipped.
#![allow(dead_code, clippy::expect_used)]

use session_core::SessionId;
use store_redis::RedisStore;

// The unit tests' own file, so both find Redis in the same place.
#[path = "../../src/test_urls.rs"]
mod test_urls;

pub(crate) use test_urls::{cluster_urls, redis_url};

pub(crate) fn random_prefix() -> String {
    format!(
        "test:{}:",
        &SessionId::generate().storage_key().to_hex()[..16]
    )
}

pub(crate) async fn single() -> RedisStore {
    single_with_prefix().await.0
}

/// A store on the single node, and the random key prefix it writes under (to list its keys).
pub(crate) async fn single_with_prefix() -> (RedisStore, String) {
    let prefix = random_prefix();
    let store = RedisStore::connect(&redis_url())
        .await
        .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
        .with_key_prefix(prefix.clone());
    (store, prefix)
}

pub(crate) async fn cluster() -> RedisStore {
    RedisStore::connect_cluster(cluster_urls())
        .await
        .expect("the Redis Cluster must be reachable (scripts/redis-cluster.sh starts it)")
        .with_key_prefix(random_prefix())
}
