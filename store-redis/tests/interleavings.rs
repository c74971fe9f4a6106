//! The interleaving schedules on a single Redis node and on a Redis Cluster, in real time: Redis
//! enforces TTLs on its own clock.
#![allow(clippy::unwrap_used)]

mod common;

mod single_node {
    store_acceptance::interleaving_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::single().await
    });
}

mod cluster {
    store_acceptance::interleaving_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::cluster().await
    });
}

/// Random schedules of a few requests, checked against the reference model (fewer cases than
/// on the memory store: each step is a few round trips). Time does not pass: Redis keeps real
/// time.
#[test]
fn random_schedules_match_the_model() {
    store_acceptance::run(async {
        let store = common::single().await;
        tokio::task::spawn_blocking(move || {
            let time = store_acceptance::time::Time::Real;
            store_acceptance::model::check_random_schedules(std::sync::Arc::new(store), &time, 48);
        })
        .await
        .unwrap();
    });
}

#[test]
fn random_schedules_match_the_model_on_the_cluster() {
    store_acceptance::run(async {
        let store = common::cluster().await;
        tokio::task::spawn_blocking(move || {
            let time = store_acceptance::time::Time::Real;
            store_acceptance::model::check_random_schedules(std::sync::Arc::new(store), &time, 24);
        })
        .await
        .unwrap();
    });
}
