//! Behaviour specific to the in-process store: the capacity bound and hashed keys.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use session_core::{SessionData, SessionId, SessionRecord, SessionStore, Timestamp};
use store_memory::MemoryStore;

fn record() -> SessionRecord {
    let now = Timestamp::now();
    SessionRecord::new(
        SessionData::new(),
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(60),
    )
}

#[tokio::test]
async fn capacity_is_bounded_and_newest_sessions_survive() {
    let store = MemoryStore::builder().max_sessions(50).build();
    let ids: Vec<SessionId> = (0..500).map(|_| SessionId::generate()).collect();
    for id in &ids {
        assert!(store.create(id, &record()).await.unwrap());
    }
    let count = store.session_count();
    assert!(count <= 50, "store holds {count} sessions, bound is 50");
    assert!(
        store.load(ids.last().unwrap()).await.unwrap().is_some(),
        "newest session was evicted"
    );
}

#[tokio::test]
async fn expired_sessions_are_evicted_not_just_hidden() {
    let store = MemoryStore::default();
    let now = Timestamp::now();
    let short = SessionRecord::new(
        SessionData::new(),
        now,
        now + Duration::from_millis(100),
        now + Duration::from_secs(60),
    );
    for _ in 0..20 {
        assert!(store.create(&SessionId::generate(), &short).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(store.session_count(), 0);
}

#[tokio::test]
async fn debug_shows_counts_not_contents() {
    let store = MemoryStore::default();
    let id = SessionId::generate();
    store.create(&id, &record()).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains(&id.storage_key().to_hex()[..12]), "{debug}");
    assert!(debug.contains("sessions: 1"), "{debug}");
}
