//! TLS to PostgreSQL: an application adds sqlx's `tls-rustls-ring-webpki` feature to its own
//! `Cargo.toml` (as this crate's tests do) and asks for TLS in the URL; the store is the same.
//! The local server's certificate is self-signed, so `sslmode=require` (encrypt, do not
//! verify); production uses `verify-full` with the server's CA.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::str::FromStr as _;

use session_core::{SessionId, SessionRecord, SessionStore, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use store_postgres::PostgresStore;

mod common;

#[tokio::test]
async fn a_store_over_tls_stores_and_loads_and_its_connection_is_encrypted() {
    let options = PgConnectOptions::from_str(&common::database_url())
        .unwrap()
        .ssl_mode(PgSslMode::Require);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("PostgreSQL must accept TLS (Debian's default server does, with its snakeoil certificate)");
    let encrypted: bool =
        sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted, "the pool's connection is not encrypted");

    let store = PostgresStore::new(pool)
        .with_table(&common::random_schema(), "sessions")
        .unwrap();
    store.migrate().await.unwrap();
    let now = Timestamp::now();
    let record = SessionRecord::new(
        Default::default(),
        now,
        now + std::time::Duration::from_secs(60),
        now + std::time::Duration::from_secs(600),
    );
    let id = SessionId::generate();
    assert!(store.create(&id, &record).await.unwrap());
    assert!(store.load(&id).await.unwrap().is_some());
}
