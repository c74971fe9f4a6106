//! The store acceptance suite, run against `MemoryStore`.

store_acceptance::store_acceptance_tests!(|| async { store_memory::MemoryStore::default() });

mod users {
    store_acceptance::user_session_tests!(|| async { store_memory::MemoryStore::default() });
}
