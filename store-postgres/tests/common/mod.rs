//! Stores for the PostgreSQL tests: `DATABASE_URL` (default the local `test` database), each
//! store in a schema of its own, so tests never see each other's rows. A database that cannot
//! be reached fails the test: nothing is skipped. `scripts/services.sh` drops the schemas of
//! earlier runs.
#![allow(dead_code, clippy::expect_used)]

use session_core::SessionId;
use store_postgres::PostgresStore;

pub(crate) fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned())
}

pub(crate) fn random_schema() -> String {
    format!(
        "session_test_{}",
        &SessionId::generate().storage_key().to_hex()[..16]
    )
}

/// A store on `schema.sessions`, not migrated yet.
pub(crate) async fn store_in(schema: &str) -> PostgresStore {
    PostgresStore::connect(&database_url())
        .await
        .expect("PostgreSQL at DATABASE_URL must be reachable (scripts/services.sh starts it)")
        .with_table(schema, "sessions")
        .expect("valid identifiers")
}

/// A migrated store in a fresh schema.
pub(crate) async fn fresh_store() -> PostgresStore {
    let store = store_in(&random_schema()).await;
    store.migrate().await.expect("migrations apply");
    store
}
