//! The store acceptance suite against PostgreSQL.

mod common;

store_acceptance::store_acceptance_tests!(|| async { common::fresh_store().await });

mod users {
    store_acceptance::user_session_tests!(|| async { super::common::fresh_store().await });
}
