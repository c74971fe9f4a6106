//! The store acceptance suite against PostgreSQL.

mod common;

store_acceptance::store_acceptance_tests!(|| async { common::fresh_store().await });
