//! Connections for the Redis tests: `REDIS_URL` (default `redis://127.0.0.1:6379`) and
//! `REDIS_CLUSTER_URLS` (default the three local nodes `scripts/redis-cluster.sh` starts).
//! Every store gets a random key prefix, so tests never see each other's keys. A Redis that
//! cannot be reached fails the test: nothing is skipped.
#![allow(dead_code, clippy::expect_used)]

use session_core::SessionId;
use store_redis::RedisStore;

pub(crate) fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

pub(crate) fn cluster_urls() -> Vec<String> {
    std::env::var("REDIS_CLUSTER_URLS")
        .unwrap_or_else(|_| {
            "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002".to_owned()
        })
        .split(',')
        .map(str::to_owned)
        .collect()
}

pub(crate) fn random_prefix() -> String {
    format!(
        "test:{}:",
        &SessionId::generate().storage_key().to_hex()[..16]
    )
}

pub(crate) async fn single() -> RedisStore {
    RedisStore::connect(&redis_url())
        .await
        .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
        .with_key_prefix(random_prefix())
}

pub(crate) async fn cluster() -> RedisStore {
    RedisStore::connect_cluster(cluster_urls())
        .await
        .expect("the Redis Cluster must be reachable (scripts/redis-cluster.sh starts it)")
        .with_key_prefix(random_prefix())
}
