//! What a session looks like in Redis: hashed key, one field per value, TTL capped by the
//! absolute expiry, and nothing that could be used as a cookie.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands as _;
use serde_json::json;
use session_core::{SessionData, SessionId, SessionRecord, SessionStore, StoreError, Timestamp};
use store_redis::RedisStore;

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(common::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn keys_are_hashed_ids_and_hold_one_field_per_value() {
    let prefix = common::random_prefix();
    let store = common::single().await.with_key_prefix(prefix.clone());
    let id = SessionId::generate();
    let now = Timestamp::now();
    let data: SessionData = [
        ("user".to_owned(), json!("ada")),
        ("cart".to_owned(), json!([1, 2])),
    ]
    .into_iter()
    .collect();
    let record = SessionRecord::new(
        data,
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(30),
    );
    assert!(store.create(&id, &record).await.unwrap());

    let mut conn = raw().await;
    let keys: Vec<String> = conn.keys(format!("{prefix}*")).await.unwrap();
    assert_eq!(keys, vec![format!("{prefix}{}", id.storage_key().to_hex())]);
    assert!(!keys[0].contains(id.expose_secret()));

    let fields: HashMap<String, String> = conn.hgetall(&keys[0]).await.unwrap();
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert_eq!(fields[".user"], "\"ada\"");
    assert_eq!(fields[".cart"], "[1,2]");
    assert!(
        fields["@"].starts_with("1:"),
        "metadata carries the format version: {fields:?}"
    );
    assert!(fields.values().all(|v| !v.contains(id.expose_secret())));

    // TTL is the effective expiry: the idle deadline (60 s) capped by the absolute one (30 s).
    let ttl: i64 = conn.pttl(&keys[0]).await.unwrap();
    assert!((25_000..=30_000).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn corrupt_metadata_is_a_typed_error_not_a_panic() {
    let store = common::single().await;
    let id = SessionId::generate();
    let mut conn = raw().await;
    let _: () = conn.hset(store.key_of(&id), "@", "garbage").await.unwrap();
    let _: () = conn.expire(store.key_of(&id), 60).await.unwrap();
    assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
    let mut delta = session_core::SessionDelta::default();
    delta.insert("a", json!(1));
    assert!(matches!(
        store
            .update(&id, &delta, Timestamp::now() + Duration::from_secs(5))
            .await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn unreachable_redis_fails_at_connect() {
    // Port 1 on loopback: nothing listens there.
    assert!(RedisStore::connect("redis://127.0.0.1:1").await.is_err());
    assert!(RedisStore::connect("not a url").await.is_err());
}

#[tokio::test]
async fn debug_shows_no_address() {
    let store = common::single().await;
    let debug = format!("{store:?}");
    assert!(debug.contains("single node"), "{debug}");
    assert!(!debug.contains("6379"), "{debug}");
}
