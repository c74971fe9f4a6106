//! The interleaving schedules on the memory store, on a test clock.

store_acceptance::interleaving_tests!(store_acceptance::time::Time::test(), |clock| async move {
    store_memory::MemoryStore::builder().clock(clock).build()
});

/// Random schedules of a few requests, checked against the reference model.
#[test]
fn random_schedules_match_the_model() {
    let time = store_acceptance::time::Time::test();
    let store = store_memory::MemoryStore::builder()
        .clock(time.clock())
        .build();
    store_acceptance::model::check_random_schedules(std::sync::Arc::new(store), &time, 512);
}
