//! Behaviour specific to the in-process store: the capacity bound, LRU order, sharding, lazy
//! expiry and the user listing kept in step with them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use session_core::clock::{Clock as _, TestClock};
use session_core::users::USER_KEY;
use session_core::{
    SessionData, SessionDelta, SessionId, SessionRecord, SessionStore, Timestamp, UserSessionStore,
};
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
    let clock = TestClock::starting_now();
    let store = MemoryStore::builder().clock(clock.shared()).build();
    let now = clock.now();
    let short = SessionRecord::new(
        SessionData::new(),
        now,
        now + Duration::from_millis(100),
        now + Duration::from_secs(60),
    );
    for _ in 0..20 {
        assert!(store.create(&SessionId::generate(), &short).await.unwrap());
    }
    clock.advance(Duration::from_millis(100));
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

fn record_of(user: &str, lifetime: Duration) -> SessionRecord {
    let now = Timestamp::now();
    let mut data = SessionData::new();
    data.insert(USER_KEY.to_owned(), json!(user));
    SessionRecord::new(data, now, now + lifetime, now + Duration::from_secs(3600))
}

async fn ids_created(store: &MemoryStore, n: usize) -> Vec<SessionId> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let id = SessionId::generate();
        assert!(store.create(&id, &record()).await.unwrap());
        ids.push(id);
    }
    ids
}

async fn is_held(store: &MemoryStore, id: &SessionId) -> bool {
    store.load(id).await.unwrap().is_some()
}

#[tokio::test]
async fn the_least_recently_used_session_is_evicted_not_the_oldest() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let ids = ids_created(&store, 3).await;
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    assert!(is_held(&store, a).await);
    let d = ids_created(&store, 1).await;
    assert!(!is_held(&store, b).await, "B was least recently used");
    for id in [a, c, &d[0]] {
        assert!(
            is_held(&store, id).await,
            "a recently used session was evicted"
        );
    }
}

#[tokio::test]
async fn updates_and_touches_count_as_use() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let ids = ids_created(&store, 3).await;
    let deadline = Timestamp::now() + Duration::from_secs(60);
    let mut delta = SessionDelta::default();
    delta.insert("k", json!(1));
    assert!(
        store
            .update(&ids[0], &delta, deadline)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.touch(&ids[1], deadline).await.unwrap().is_some());
    ids_created(&store, 1).await;
    assert!(
        !is_held(&store, &ids[2]).await,
        "the unused session survived"
    );
    assert!(is_held(&store, &ids[0]).await && is_held(&store, &ids[1]).await);
}

#[tokio::test]
async fn evicted_and_expired_sessions_leave_the_user_listing() {
    let clock = TestClock::starting_now();
    let store = MemoryStore::builder()
        .max_sessions(2)
        .clock(clock.shared())
        .build();
    let evicted = SessionId::generate();
    assert!(
        store
            .create(&evicted, &record_of("ada", Duration::from_secs(60)))
            .await
            .unwrap()
    );
    let expiring = SessionId::generate();
    let short = record_of("grace", Duration::from_millis(100));
    assert!(store.create(&expiring, &short).await.unwrap());
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
    assert_eq!(store.sessions_of("grace").await.unwrap().len(), 1);

    // Evicts ada's session, the least recently used.
    ids_created(&store, 1).await;
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
    clock.advance(Duration::from_millis(300));
    assert!(store.sessions_of("grace").await.unwrap().is_empty());
    assert_eq!(store.revoke_all("ada").await.unwrap(), 0);
    assert_eq!(store.revoke_all("grace").await.unwrap(), 0);
}

#[tokio::test]
async fn rebinding_a_session_moves_it_between_users() {
    let store = MemoryStore::default();
    let id = SessionId::generate();
    assert!(
        store
            .create(&id, &record_of("ada", Duration::from_secs(60)))
            .await
            .unwrap()
    );
    let deadline = Timestamp::now() + Duration::from_secs(60);
    let mut rebind = SessionDelta::default();
    rebind.insert(USER_KEY, json!("grace"));
    assert!(
        store
            .update(&id, &rebind, deadline)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
    assert_eq!(store.sessions_of("grace").await.unwrap().len(), 1);
    let mut sign_out = SessionDelta::default();
    sign_out.remove(USER_KEY);
    assert!(
        store
            .update(&id, &sign_out, deadline)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.sessions_of("grace").await.unwrap().is_empty());
    assert!(
        is_held(&store, &id).await,
        "signing out must not end the session"
    );
}

#[tokio::test]
async fn a_sharded_store_keeps_its_bound_and_finds_what_it_holds() {
    // Well above the single-shard threshold, so the store is sharded.
    let max = 8192;
    let store = MemoryStore::builder().max_sessions(max).build();
    let ids = ids_created(&store, 20_000).await;
    let count = store.session_count();
    assert!(count <= max, "store holds {count} sessions, bound is {max}");
    assert!(count >= max * 9 / 10, "store holds only {count} of {max}");
    let mut found = 0;
    for id in &ids {
        found += u64::from(is_held(&store, id).await);
    }
    assert_eq!(found, count, "a held session cannot be loaded");
    // Each shard keeps its newest sessions: the last 2048 are far fewer than a shard holds.
    for id in &ids[ids.len() - 2048..] {
        assert!(is_held(&store, id).await, "a recent session was evicted");
    }
}

#[tokio::test]
async fn a_shared_load_is_a_snapshot_that_later_writes_leave_alone() {
    let store = MemoryStore::default();
    let id = SessionId::generate();
    store.create(&id, &record()).await.unwrap();
    let mut delta = session_core::SessionDelta::default();
    delta.insert("n", serde_json::json!(1));
    let deadline = Timestamp::now() + Duration::from_secs(30);
    store.update(&id, &delta, deadline).await.unwrap();

    let before = store.load_shared(&id).await.unwrap().unwrap();
    delta.insert("n", serde_json::json!(2));
    store.update(&id, &delta, deadline).await.unwrap();
    assert_eq!(
        before.data["n"], 1,
        "a request's loaded record changed under it"
    );
    let after = store.load_shared(&id).await.unwrap().unwrap();
    assert_eq!(after.data["n"], 2);
    assert_eq!(store.load(&id).await.unwrap().unwrap().data["n"], 2);
}
