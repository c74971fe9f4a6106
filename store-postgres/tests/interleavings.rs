//! The interleaving schedules on PostgreSQL, on a test clock (the store computes every deadline
//! it checks or writes from its clock).
#![allow(clippy::unwrap_used)]

mod common;

store_acceptance::interleaving_tests!(store_acceptance::time::Time::test(), |clock| async move {
    common::fresh_store().await.with_clock(clock)
});

/// Random schedules of a few requests, checked against the reference model (fewer cases than
/// on the memory store: each step is a few round trips).
#[test]
fn random_schedules_match_the_model() {
    store_acceptance::run(async {
        let time = store_acceptance::time::Time::test();
        let store = common::fresh_store().await.with_clock(time.clock());
        tokio::task::spawn_blocking(move || {
            store_acceptance::model::check_random_schedules(std::sync::Arc::new(store), &time, 48);
        })
        .await
        .unwrap();
    });
}
