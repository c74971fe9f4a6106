//! Where the tests find Redis, and the stores they open there: `REDIS_URL` (default
//! `redis://127.0.0.1:6379`) and `REDIS_CLUSTER_URLS` (default the three local nodes
//! `scripts/redis-cluster.sh` starts). Every store gets a random key prefix, so tests never see
//! each other's keys; a Redis that cannot be reached fails the test, nothing is skipped. The unit
//! tests use it as `crate::test_redis`, the integration tests through `tests/common`.
#![allow(dead_code, clippy::expect_used)]

use session_core::SessionId;

use super::RedisStore;

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

/// A store on the single node, and the random key prefix it writes under (to list its keys).
pub(crate) async fn single_with_prefix() -> (RedisStore, String) {
    let prefix = random_prefix();
    let store = RedisStore::connect(&redis_url())
        .await
        .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
        .with_key_prefix(prefix.clone());
    (store, prefix)
}

pub(crate) async fn single() -> RedisStore {
    single_with_prefix().await.0
}

pub(crate) async fn cluster() -> RedisStore {
    RedisStore::connect_cluster(cluster_urls())
        .await
        .expect("the Redis Cluster must be reachable (scripts/redis-cluster.sh starts it)")
        .with_key_prefix(random_prefix())
}
