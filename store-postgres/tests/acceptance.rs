//! The store acceptance suite against PostgreSQL, on a test clock (the store computes every
//! deadline it checks or writes from its clock).

mod common;

store_acceptance::store_acceptance_tests!(
    store_acceptance::time::Time::test(),
    |clock| async move { common::fresh_store().await.with_clock(clock) }
);

mod users {
    store_acceptance::user_session_tests!(
        store_acceptance::time::Time::test(),
        |clock| async move { super::common::fresh_store().await.with_clock(clock) }
    );
}
