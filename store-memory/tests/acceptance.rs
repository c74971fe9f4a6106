//! The store acceptance suite, run against `MemoryStore` on a test clock.

store_acceptance::store_acceptance_tests!(
    store_acceptance::time::Time::test(),
    |clock| async move { store_memory::MemoryStore::builder().clock(clock).build() }
);

mod users {
    store_acceptance::user_session_tests!(
        store_acceptance::time::Time::test(),
        |clock| async move { store_memory::MemoryStore::builder().clock(clock).build() }
    );
}
