//! Where the tests find Redis: `REDIS_URL` (default `redis://127.0.0.1:6379`) and
//! `REDIS_CLUSTER_URLS` (default the three local nodes `scripts/redis-cluster.sh` starts). The
//! unit tests use it as `crate::test_urls`, the integration tests through `tests/common`.

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
