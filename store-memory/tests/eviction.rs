//! Eviction order under the session and byte bounds: anonymous sessions go before signed-in
//! ones, least recently used first, and a session's kind follows the updates that bind or unbind
//! it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use session_core::users::USER_KEY;
use session_core::{
    Renewal, SessionData, SessionDelta, SessionId, SessionRecord, SessionStore, Timestamp,
    UserSessionStore,
};
use store_memory::{MemoryStore, SESSION_OVERHEAD_BYTES};

const LIFETIME: Duration = Duration::from_secs(600);

fn record_with(data: SessionData) -> SessionRecord {
    let now = Timestamp::now();
    SessionRecord::new(data, now, now + LIFETIME, now + LIFETIME)
}

/// What a sign-in form stores for a cookieless visitor.
fn anonymous(csrf: &str) -> SessionRecord {
    record_with(SessionData::from_iter([("csrf".to_owned(), json!(csrf))]))
}

fn signed_in(user: &str) -> SessionRecord {
    record_with(SessionData::from_iter([(USER_KEY.to_owned(), json!(user))]))
}

async fn created(store: &MemoryStore, record: &SessionRecord) -> SessionId {
    let id = SessionId::generate();
    assert!(store.create(&id, record).await.unwrap());
    id
}

async fn anonymous_created(store: &MemoryStore, n: usize) -> Vec<SessionId> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(created(store, &anonymous(&format!("token-{i}"))).await);
    }
    ids
}

async fn users_created(store: &MemoryStore, n: usize) -> Vec<SessionId> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(created(store, &signed_in(&format!("user-{i}"))).await);
    }
    ids
}

async fn is_held(store: &MemoryStore, id: &SessionId) -> bool {
    store.load(id).await.unwrap().is_some()
}

async fn held_count(store: &MemoryStore, ids: &[SessionId]) -> usize {
    let mut held = 0;
    for id in ids {
        held += usize::from(is_held(store, id).await);
    }
    held
}

async fn updated(store: &MemoryStore, id: &SessionId, delta: &SessionDelta) {
    let deadline = Timestamp::now() + LIFETIME;
    let expiry = store.update(id, delta, deadline).await.unwrap();
    assert!(expiry.is_some(), "the updated session was not held");
}

/// The documented estimate: an overhead, plus each key's length and its value's JSON length.
fn estimated_size(data: &SessionData) -> u64 {
    let entries: usize = data
        .iter()
        .map(|(key, value)| key.len() + value.to_string().len())
        .sum();
    SESSION_OVERHEAD_BYTES + entries as u64
}

#[tokio::test]
async fn a_flood_of_anonymous_visitors_evicts_no_signed_in_user() {
    let store = MemoryStore::builder().max_sessions(100).build();
    let users = users_created(&store, 10).await;
    let flood = anonymous_created(&store, 1_000).await;

    assert_eq!(store.session_count(), 100);
    assert_eq!(
        held_count(&store, &users).await,
        10,
        "a signed-in user was evicted"
    );
    let (evicted, newest) = flood.split_at(flood.len() - 90);
    assert_eq!(
        held_count(&store, newest).await,
        90,
        "a recent visitor was evicted"
    );
    assert_eq!(held_count(&store, evicted).await, 0);
    for i in 0..10 {
        let listed = store.sessions_of(&format!("user-{i}")).await.unwrap();
        assert_eq!(listed.len(), 1);
    }
}

#[tokio::test]
async fn a_sharded_store_evicts_no_signed_in_user_in_a_flood() {
    // At the single-shard threshold, so the store has 16 shards of 256.
    let store = MemoryStore::builder().max_sessions(4096).build();
    let users = users_created(&store, 64).await;
    let flood = anonymous_created(&store, 5 * 4096).await;

    let count = store.session_count();
    assert!(count <= 4096, "store holds {count} sessions, bound is 4096");
    assert_eq!(
        held_count(&store, &users).await,
        64,
        "a signed-in user was evicted"
    );
    // Each shard keeps its newest visitors: the last 1024 put about 64 in each shard, far
    // fewer than the room its few users leave of its 256.
    let newest = &flood[flood.len() - 1024..];
    assert_eq!(held_count(&store, newest).await, 1024);
}

#[tokio::test]
async fn with_only_signed_in_sessions_the_least_recently_used_is_evicted() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let ids = users_created(&store, 3).await;
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    assert!(is_held(&store, a).await);

    let d = users_created(&store, 1).await.remove(0);
    assert!(!is_held(&store, b).await, "B was least recently used");
    for id in [c, a, &d] {
        assert!(
            is_held(&store, id).await,
            "a recently used session was evicted"
        );
    }
    assert!(store.sessions_of("user-1").await.unwrap().is_empty());

    // An anonymous visitor still gets in: with no anonymous session to evict, the least
    // recently used signed-in one (C, loaded first just above) goes.
    let visitor = anonymous_created(&store, 1).await.remove(0);
    assert!(!is_held(&store, c).await, "C was least recently used");
    for id in [a, &d, &visitor] {
        assert!(is_held(&store, id).await);
    }
    assert_eq!(store.session_count(), 3);
}

#[tokio::test]
async fn a_session_bound_by_an_update_is_protected_afterwards() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let ids = anonymous_created(&store, 3).await;
    let mut sign_in = SessionDelta::default();
    sign_in.insert(USER_KEY, json!("ada"));
    updated(&store, &ids[0], &sign_in).await;

    let flood = anonymous_created(&store, 10).await;
    assert!(
        is_held(&store, &ids[0]).await,
        "the signed-in session was evicted"
    );
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
    assert_eq!(held_count(&store, &flood[8..]).await, 2);
    assert_eq!(store.session_count(), 3);
}

#[tokio::test]
async fn a_session_unbound_by_an_update_is_evictable_again() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let user = users_created(&store, 1).await.remove(0);
    let visitors = anonymous_created(&store, 2).await;
    let mut sign_out = SessionDelta::default();
    sign_out.remove(USER_KEY);
    updated(&store, &user, &sign_out).await;

    // The signed-out session is now the most recently used anonymous one: two creates evict
    // the older visitors, the third evicts it. (Loading it would count as use, so only the
    // evicted sessions are looked up in between.)
    anonymous_created(&store, 2).await;
    assert_eq!(held_count(&store, &visitors).await, 0);
    anonymous_created(&store, 1).await;
    assert!(
        !is_held(&store, &user).await,
        "a signed-out session stayed protected"
    );
    assert!(store.sessions_of("user-0").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_session_signed_in_by_a_renew_is_protected() {
    let store = MemoryStore::builder().max_sessions(3).build();
    let visitor = anonymous_created(&store, 1).await.remove(0);
    let mut sign_in = SessionDelta::default();
    sign_in.insert(USER_KEY, json!("ada"));
    let renewal = Renewal::Extend(Timestamp::now() + LIFETIME);
    let (renewed, _) = store
        .renew(&visitor, &sign_in, renewal)
        .await
        .unwrap()
        .unwrap();

    anonymous_created(&store, 10).await;
    assert!(
        is_held(&store, &renewed).await,
        "the signed-in session was evicted"
    );
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
}

/// A 1000-byte value: each such session is estimated at `SESSION_OVERHEAD_BYTES` + 4 + 1002.
fn large(i: usize) -> SessionRecord {
    let text = format!("{i:0>1000}");
    record_with(SessionData::from_iter([("blob".to_owned(), json!(text))]))
}

#[tokio::test]
async fn a_flood_of_large_sessions_stays_under_the_byte_bound_and_keeps_users() {
    let max_bytes = 20_000;
    // Below 4096 sessions: one shard, whose share is the whole byte bound.
    let store = MemoryStore::builder()
        .max_sessions(1_000)
        .max_bytes(max_bytes)
        .build();
    let users = users_created(&store, 5).await;
    let mut flood = Vec::new();
    for i in 0..500 {
        flood.push(created(&store, &large(i)).await);
    }

    assert_eq!(
        held_count(&store, &users).await,
        5,
        "a signed-in user was evicted"
    );
    let mut total = 0;
    for id in users.iter().chain(&flood) {
        if let Some(record) = store.load(id).await.unwrap() {
            total += estimated_size(&record.data);
        }
    }
    assert!(
        total <= max_bytes,
        "{total} estimated bytes held, bound is {max_bytes}"
    );
    // As many of the newest as fit beside the users.
    let users_size: u64 = (0..5)
        .map(|i| estimated_size(&signed_in(&format!("user-{i}")).data))
        .sum();
    let fit = usize::try_from((max_bytes - users_size) / estimated_size(&large(0).data)).unwrap();
    assert_eq!(store.session_count(), (5 + fit) as u64);
    assert_eq!(held_count(&store, &flood[flood.len() - fit..]).await, fit);
}

#[tokio::test]
async fn a_session_larger_than_the_byte_bound_is_stored_alone_until_the_next_create() {
    let store = MemoryStore::builder()
        .max_sessions(100)
        .max_bytes(1_000)
        .build();
    let small = anonymous_created(&store, 3).await;
    let user = users_created(&store, 1).await.remove(0);
    let huge = record_with(SessionData::from_iter([(
        "blob".to_owned(),
        Value::String("x".repeat(5_000)),
    )]));
    let huge = created(&store, &huge).await;
    assert!(
        is_held(&store, &huge).await,
        "a session larger than the bound was refused"
    );
    assert_eq!(
        store.session_count(),
        1,
        "the bound is exceeded by more than the one session"
    );
    assert_eq!(held_count(&store, &small).await, 0);
    assert!(!is_held(&store, &user).await);

    // The next create evicts it: the bound is exceeded only while it is held alone.
    let next = anonymous_created(&store, 1).await.remove(0);
    assert!(!is_held(&store, &huge).await);
    assert!(is_held(&store, &next).await);
}

#[tokio::test]
async fn an_update_that_grows_a_session_evicts_others_not_it() {
    let small = estimated_size(&anonymous("token-0").data);
    let store = MemoryStore::builder()
        .max_sessions(100)
        .max_bytes(4 * small)
        .build();
    let ids = anonymous_created(&store, 4).await;
    assert_eq!(store.session_count(), 4);

    // Grows the oldest session by about two small ones: the two least recently used others go.
    let mut grow = SessionDelta::default();
    grow.insert(
        "note",
        json!("n".repeat(usize::try_from(2 * small).unwrap() - 10)),
    );
    updated(&store, &ids[0], &grow).await;
    assert!(
        is_held(&store, &ids[0]).await,
        "the growing session was evicted"
    );
    assert!(!is_held(&store, &ids[1]).await && !is_held(&store, &ids[2]).await);
    assert!(is_held(&store, &ids[3]).await);
}
