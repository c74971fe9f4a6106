//! The interleaving schedules on the memory store, on a test clock.

store_acceptance::interleaving_tests!(store_acceptance::time::Time::test(), |clock| async move {
    store_memory::MemoryStore::builder().clock(clock).build()
});
