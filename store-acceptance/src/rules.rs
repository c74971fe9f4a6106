//! One async check per store rule. Each takes a fresh store and the [`Time`] it runs in (the
//! store reads the same clock, so the expiry rules let time pass without sleeping on a test
//! clock), and panics with a message naming the rule when the store breaks it. Every check
//! applies to every server-side store; a stateless store says in its own test file which ones it
//! cannot run, and why.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use session_core::{
    CookieAction, ExpiryPolicy, Lookup, SessionData, SessionDelta, SessionError, SessionId,
    SessionRecord, SessionState, SessionStore,
};
use session_core::{Renewal, SessionExpiry};

use crate::time::Time;

type Store = Arc<dyn SessionStore>;

/// A policy with timeouts long enough that nothing expires during a check.
fn long_policy() -> ExpiryPolicy {
    ExpiryPolicy::new(Duration::from_secs(3600), Duration::from_secs(7200))
}

fn record_with(
    time: &Time,
    data: SessionData,
    idle: Duration,
    absolute: Duration,
) -> SessionRecord {
    let now = time.now();
    SessionRecord::new(data, now, now + idle, now + absolute)
}

fn data(pairs: &[(&str, serde_json::Value)]) -> SessionData {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Creates a live session holding `pairs` and returns its ID.
async fn seed(store: &Store, time: &Time, pairs: &[(&str, serde_json::Value)]) -> SessionId {
    let id = SessionId::generate();
    let record = record_with(
        time,
        data(pairs),
        Duration::from_secs(3600),
        Duration::from_secs(7200),
    );
    assert!(
        store.create(&id, &record).await.unwrap(),
        "create of a fresh ID must succeed"
    );
    id
}

async fn load_data(store: &Store, id: &SessionId) -> Option<SessionData> {
    store.load(id).await.unwrap().map(|r| r.data)
}

/// Commits `state` and returns the ID the cookie now carries, if any.
async fn commit(store: &Store, state: SessionState) -> CookieAction {
    state.commit(store.as_ref(), &long_policy()).await.unwrap()
}

async fn read<T: serde::de::DeserializeOwned>(
    store: &Store,
    state: &mut SessionState,
    key: &str,
) -> Result<Option<T>, SessionError> {
    match state.get(key)? {
        Lookup::Ready(value) => Ok(value),
        Lookup::NeedsLoad => {
            let id = state.origin().cloned().expect("a load needs an origin");
            state.set_loaded(store.load(&id).await?);
            match state.get(key)? {
                Lookup::Ready(value) => Ok(value),
                Lookup::NeedsLoad => panic!("state still needs a load after loading"),
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Profile {
    name: String,
    roles: Vec<String>,
    age: u8,
}

/// Created data loads back unchanged (nested JSON, numbers), with consistent deadlines.
pub async fn create_then_load_round_trips_typed_values(store: Store, time: Time) {
    let profile = Profile {
        name: "Ada".into(),
        roles: vec!["admin".into()],
        age: 36,
    };
    let id = seed(
        &store,
        &time,
        &[
            ("profile", serde_json::to_value(&profile).unwrap()),
            ("n", json!(42.5)),
        ],
    )
    .await;
    let record = store
        .load(&id)
        .await
        .unwrap()
        .expect("created session must load");
    let loaded: Profile = serde_json::from_value(record.data["profile"].clone()).unwrap();
    assert_eq!(loaded, profile);
    assert_eq!(record.data["n"], json!(42.5));
    assert!(record.expires_at <= record.absolute_expires_at);
    assert!(record.created_at <= time.now());
}

/// An ID the store never saw loads as none, and deleting it is not an error.
pub async fn unknown_id_loads_none(store: Store, _time: Time) {
    assert!(store.load(&SessionId::generate()).await.unwrap().is_none());
    store
        .delete(&SessionId::generate())
        .await
        .expect("deleting a missing session is not an error");
}

/// `create` refuses an ID that holds a live session and leaves that session intact.
pub async fn create_never_overwrites_a_live_session(store: Store, time: Time) {
    let id = seed(&store, &time, &[("owner", json!("first"))]).await;
    let other = record_with(
        &time,
        data(&[("owner", json!("second"))]),
        Duration::from_secs(60),
        Duration::from_secs(60),
    );
    assert!(
        !store.create(&id, &other).await.unwrap(),
        "create must refuse a taken ID"
    );
    assert_eq!(
        load_data(&store, &id).await.unwrap()["owner"],
        json!("first")
    );
}

/// `update` sets and removes exactly the changed keys; untouched keys keep their values.
pub async fn update_applies_only_the_delta(store: Store, time: Time) {
    let id = seed(
        &store,
        &time,
        &[("keep", json!(1)), ("drop", json!(2)), ("change", json!(3))],
    )
    .await;
    let mut delta = SessionDelta::default();
    delta.remove("drop");
    delta.insert("change", json!("new"));
    delta.insert("add", json!([1, 2]));
    let expires = store
        .update(&id, &delta, time.now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        expires.is_some(),
        "update of a live session returns its expiry"
    );
    let data = load_data(&store, &id).await.unwrap();
    assert_eq!(data.get("keep"), Some(&json!(1)));
    assert_eq!(data.get("drop"), None);
    assert_eq!(data.get("change"), Some(&json!("new")));
    assert_eq!(data.get("add"), Some(&json!([1, 2])));
}

/// A clearing delta drops every stored key before its sets apply.
pub async fn update_with_clear_replaces_all_data(store: Store, time: Time) {
    let id = seed(&store, &time, &[("a", json!(1)), ("b", json!(2))]).await;
    let mut delta = SessionDelta::default();
    delta.clear();
    delta.insert("c", json!(3));
    store
        .update(&id, &delta, time.now() + Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        load_data(&store, &id).await.unwrap(),
        data(&[("c", json!(3))])
    );
}

/// Concurrent updates of one session that change different keys all survive.
pub async fn concurrent_updates_of_different_keys_all_survive(store: Store, time: Time) {
    let id = seed(&store, &time, &[]).await;
    let deadline = time.now() + Duration::from_secs(60);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = Arc::clone(&store);
            let id = id.clone();
            tokio::spawn(async move {
                let mut delta = SessionDelta::default();
                delta.insert(format!("key{i}"), json!(i));
                store.update(&id, &delta, deadline).await.unwrap()
            })
        })
        .collect();
    for task in futures_util::future::join_all(tasks).await {
        assert!(task.unwrap().is_some());
    }
    let data = load_data(&store, &id).await.unwrap();
    for i in 0..32 {
        assert_eq!(
            data.get(&format!("key{i}")),
            Some(&json!(i)),
            "update {i} was lost"
        );
    }
}

/// `update` and `touch` of a missing session write nothing (strict IDs).
pub async fn update_of_missing_session_does_not_create_it(store: Store, time: Time) {
    let id = SessionId::generate();
    let mut delta = SessionDelta::default();
    delta.insert("x", json!(1));
    let deadline = time.now() + Duration::from_secs(60);
    assert_eq!(store.update(&id, &delta, deadline).await.unwrap(), None);
    assert_eq!(store.touch(&id, deadline).await.unwrap(), None);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "update must not create a session"
    );
}

/// A late write after a delete (logout) does not bring the session back.
pub async fn deleted_session_is_never_recreated(store: Store, time: Time) {
    let id = seed(&store, &time, &[("user", json!("ada"))]).await;
    store.delete(&id).await.unwrap();
    assert!(store.load(&id).await.unwrap().is_none());
    let mut late = SessionDelta::default();
    late.insert("cart", json!(["book"]));
    let deadline = time.now() + Duration::from_secs(60);
    assert_eq!(store.update(&id, &late, deadline).await.unwrap(), None);
    assert_eq!(store.touch(&id, deadline).await.unwrap(), None);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "a late write resurrected a deleted session"
    );
}

/// Past its idle deadline a session is gone for load, update and touch, enforced by the store.
pub async fn expired_session_loads_as_none(store: Store, time: Time) {
    let tick = time.tick();
    let id = SessionId::generate();
    let record = record_with(&time, data(&[("a", json!(1))]), tick * 3, tick * 600);
    assert!(store.create(&id, &record).await.unwrap());
    assert!(store.load(&id).await.unwrap().is_some());
    time.pass(tick * 5).await;
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "idle-expired session still loads"
    );
    let mut delta = SessionDelta::default();
    delta.insert("b", json!(2));
    let deadline = time.now() + tick * 600;
    assert_eq!(
        store.update(&id, &delta, deadline).await.unwrap(),
        None,
        "expired session updated"
    );
    assert_eq!(
        store.touch(&id, deadline).await.unwrap(),
        None,
        "expired session touched"
    );
    assert!(store.load(&id).await.unwrap().is_none());
    // An expired ID can be reused by create (the old session is gone).
    assert!(
        store
            .create(
                &id,
                &record_with(&time, SessionData::new(), tick * 50, tick * 50)
            )
            .await
            .unwrap()
    );
}

/// `touch` moves the idle deadline forward and keeps the data.
pub async fn touch_extends_the_idle_deadline(store: Store, time: Time) {
    let tick = time.tick();
    let id = SessionId::generate();
    let record = record_with(&time, data(&[("a", json!(1))]), tick * 4, tick * 600);
    assert!(store.create(&id, &record).await.unwrap());
    let new_expiry = store.touch(&id, time.now() + tick * 300).await.unwrap();
    assert!(
        new_expiry.is_some_and(|e| e > record.expires_at),
        "touch must extend the expiry"
    );
    time.pass(tick * 6).await;
    let data = load_data(&store, &id)
        .await
        .expect("touched session must outlive its old deadline");
    assert_eq!(data.get("a"), Some(&json!(1)), "touch must keep the data");
}

/// Neither touch nor update moves the expiry past the absolute deadline, after which the session is gone.
pub async fn nothing_extends_past_the_absolute_deadline(store: Store, time: Time) {
    let tick = time.tick();
    let id = SessionId::generate();
    let record = record_with(&time, data(&[("a", json!(1))]), tick * 3, tick * 6);
    assert!(store.create(&id, &record).await.unwrap());
    let far = time.now() + tick * 36_000;
    let touched = store.touch(&id, far).await.unwrap().unwrap();
    assert_eq!(
        touched, record.absolute_expires_at,
        "touch is capped by the absolute deadline"
    );
    let mut delta = SessionDelta::default();
    delta.insert("b", json!(2));
    let updated = store.update(&id, &delta, far).await.unwrap().unwrap();
    assert_eq!(
        updated, record.absolute_expires_at,
        "update is capped by the absolute deadline"
    );
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.absolute_expires_at, record.absolute_expires_at);
    time.pass(tick * 8).await;
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "session outlived its absolute deadline"
    );
}

/// Renew through the request flow: data moves to a new ID with the request's changes; the old ID is dead.
pub async fn renew_moves_data_to_a_new_id(store: Store, time: Time) {
    let old = seed(&store, &time, &[("user", json!("ada"))]).await;
    let mut state = time.state(Some(old.clone()));
    state.insert("role", "admin").unwrap();
    state.renew();
    let CookieAction::Set { id: new, .. } = commit(&store, state).await else {
        panic!("renew must set a cookie");
    };
    assert_ne!(new, old);
    assert!(
        store.load(&old).await.unwrap().is_none(),
        "old ID still works after renew"
    );
    let data = load_data(&store, &new)
        .await
        .expect("renewed session must load");
    assert_eq!(data.get("user"), Some(&json!("ada")));
    assert_eq!(data.get("role"), Some(&json!("admin")));
}

/// A flash value is returned by the first read only, and its removal is persisted.
pub async fn flash_is_read_once_and_its_removal_persisted(store: Store, time: Time) {
    let mut first = time.state(None);
    first.flash("notice", "Signed in").unwrap();
    let CookieAction::Set { id, .. } = commit(&store, first).await else {
        panic!("flash must create a session")
    };

    let mut second = time.state(Some(id.clone()));
    assert_eq!(
        read::<String>(&store, &mut second, "notice")
            .await
            .unwrap()
            .as_deref(),
        Some("Signed in")
    );
    // The session stays (its expiry is not due, so the cookie need not be sent again).
    assert!(!matches!(
        commit(&store, second).await,
        CookieAction::Remove
    ));

    let mut third = time.state(Some(id.clone()));
    assert_eq!(
        read::<String>(&store, &mut third, "notice").await.unwrap(),
        None,
        "flash shown twice"
    );
}

/// Reading a value as the wrong type is a typed error and leaves the stored value as it was.
pub async fn bad_typed_read_is_an_error_and_leaves_data_intact(store: Store, time: Time) {
    let id = seed(&store, &time, &[("count", json!("not a number"))]).await;
    let mut state = time.state(Some(id.clone()));
    let err = read::<u64>(&store, &mut state, "count").await.unwrap_err();
    assert!(
        matches!(err, SessionError::Deserialize { ref key, .. } if key == "count"),
        "{err:?}"
    );
    assert_eq!(commit(&store, state).await, CookieAction::Unchanged);
    assert_eq!(
        load_data(&store, &id).await.unwrap()["count"],
        json!("not a number")
    );
}

/// A write to a session deleted meanwhile starts a new session holding only that write.
pub async fn write_to_a_vanished_session_starts_a_new_one(store: Store, time: Time) {
    let id = seed(
        &store,
        &time,
        &[("user", json!("ada")), ("secret", json!(1))],
    )
    .await;
    let mut state = time.state(Some(id.clone()));
    state.insert("cart", json!(["book"])).unwrap();
    store.delete(&id).await.unwrap(); // a concurrent logout
    let CookieAction::Set { id: fresh, .. } = commit(&store, state).await else {
        panic!("the request's own changes must land in a new session");
    };
    assert_ne!(fresh, id);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "logged-out session was recreated"
    );
    assert_eq!(
        load_data(&store, &fresh).await.unwrap(),
        data(&[("cart", json!(["book"]))])
    );
}

/// Purge deletes the session; writes after it in the same request start a new one.
pub async fn purge_then_write_starts_a_new_session(store: Store, time: Time) {
    let id = seed(&store, &time, &[("user", json!("ada"))]).await;
    let mut state = time.state(Some(id.clone()));
    state.purge();
    assert_eq!(
        read::<String>(&store, &mut state, "user").await.unwrap(),
        None
    );
    state.flash("notice", "Signed out").unwrap();
    let CookieAction::Set { id: fresh, .. } = commit(&store, state).await else {
        panic!("a write after purge must start a new session");
    };
    assert_ne!(fresh, id);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "purged session still loads"
    );
    let data = load_data(&store, &fresh).await.unwrap();
    assert_eq!(data.get("user"), None);
    assert_eq!(data.len(), 1);

    let mut purge_only = time.state(Some(fresh.clone()));
    purge_only.purge();
    assert_eq!(commit(&store, purge_only).await, CookieAction::Remove);
    assert!(store.load(&fresh).await.unwrap().is_none());
}

/// An unknown ID from a cookie is never stored: a write gets a fresh ID, a read removes the cookie.
pub async fn unknown_cookie_id_is_never_adopted(store: Store, time: Time) {
    let supplied = SessionId::generate();
    let mut state = time.state(Some(supplied.clone()));
    assert_eq!(
        read::<u32>(&store, &mut state, "visits").await.unwrap(),
        None
    );
    state.insert("visits", 1).unwrap();
    let CookieAction::Set { id, .. } = commit(&store, state).await else {
        panic!("write must create")
    };
    assert_ne!(id, supplied, "the supplied ID was adopted");
    assert!(
        store.load(&supplied).await.unwrap().is_none(),
        "the supplied ID was stored"
    );

    // Reading an unknown ID without writing removes the stale cookie and stores nothing.
    let mut reader = time.state(Some(supplied.clone()));
    assert_eq!(
        read::<u32>(&store, &mut reader, "visits").await.unwrap(),
        None
    );
    assert_eq!(commit(&store, reader).await, CookieAction::Remove);
    assert!(store.load(&supplied).await.unwrap().is_none());
}

/// `take` returns the session and leaves nothing behind for later reads or writes.
pub async fn take_reads_and_deletes_in_one_step(store: Store, time: Time) {
    let id = seed(&store, &time, &[("user", json!("ada"))]).await;
    let taken = store
        .take(&id)
        .await
        .unwrap()
        .expect("take returns the live session");
    assert_eq!(taken.data.get("user"), Some(&json!("ada")));
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "take left the session behind"
    );
    assert!(
        store.take(&id).await.unwrap().is_none(),
        "a second take found a session"
    );
    let mut late = SessionDelta::default();
    late.insert("cart", json!(1));
    let deadline = time.now() + Duration::from_secs(60);
    assert_eq!(store.update(&id, &late, deadline).await.unwrap(), None);
}

/// `renew` moves the stored data plus the delta to a new ID, keeping creation time and absolute deadline.
pub async fn renew_applies_the_delta_and_keeps_the_absolute_deadline(store: Store, time: Time) {
    let old = SessionId::generate();
    let record = record_with(
        &time,
        data(&[("user", json!("ada")), ("drop", json!(1))]),
        Duration::from_secs(60),
        Duration::from_secs(120),
    );
    assert!(store.create(&old, &record).await.unwrap());
    let mut delta = SessionDelta::default();
    delta.insert("role", json!("admin"));
    delta.remove("drop");
    let far = time.now() + Duration::from_secs(3600);
    let (new, expires_at) = store
        .renew(&old, &delta, Renewal::Extend(far))
        .await
        .unwrap()
        .expect("live session renews");
    assert_ne!(new, old);
    assert_eq!(
        expires_at, record.absolute_expires_at,
        "renew extended past the absolute deadline"
    );
    assert!(
        store.load(&old).await.unwrap().is_none(),
        "old ID still works after renew"
    );
    let renewed = store
        .load(&new)
        .await
        .unwrap()
        .expect("renewed session loads");
    assert_eq!(
        renewed.data,
        data(&[("user", json!("ada")), ("role", json!("admin"))])
    );
    assert_eq!(renewed.created_at, record.created_at);
    assert_eq!(renewed.absolute_expires_at, record.absolute_expires_at);
}

/// A restarting `renew` (a sign-in again, a new lifetime) sets both deadlines anew, later or
/// earlier than they were, and the store then enforces them: the session ends at its new
/// idle deadline.
pub async fn a_restarting_renew_sets_both_deadlines(store: Store, time: Time) {
    let tick = time.tick();
    let old = SessionId::generate();
    let record = record_with(&time, data(&[("n", json!(1))]), tick * 10, tick * 20);
    assert!(store.create(&old, &record).await.unwrap());
    let restart = SessionExpiry::new(time.now() + tick * 5, time.now() + tick * 40);
    let (new, expires_at) = store
        .renew(&old, &SessionDelta::default(), Renewal::Restart(restart))
        .await
        .unwrap()
        .expect("a live session renews");
    assert_eq!(
        expires_at, restart.idle,
        "the idle deadline was not set anew"
    );
    let renewed = store
        .load(&new)
        .await
        .unwrap()
        .expect("renewed session loads");
    assert_eq!(
        (renewed.expires_at, renewed.absolute_expires_at),
        (restart.idle, restart.absolute)
    );
    assert_eq!(renewed.data, data(&[("n", json!(1))]));
    // The later absolute deadline holds: an update extends past the old one.
    let later = time.now() + tick * 30;
    let extended = store
        .update(&new, &SessionDelta::default(), later)
        .await
        .unwrap();
    assert_eq!(extended, Some(later), "capped by the old absolute deadline");
    // And the new idle deadline is enforced.
    let short = SessionId::generate();
    assert!(store.create(&short, &record).await.unwrap());
    let restart = SessionExpiry::new(time.now() + tick * 2, time.now() + tick * 40);
    let (short, _) = store
        .renew(&short, &SessionDelta::default(), Renewal::Restart(restart))
        .await
        .unwrap()
        .expect("a live session renews");
    time.pass(tick * 3).await;
    assert!(
        store.load(&short).await.unwrap().is_none(),
        "outlived its new idle deadline"
    );
}

/// `renew` of a deleted or expired session moves nothing, so a logout is never undone by a sign-in.
pub async fn renew_of_a_deleted_or_expired_session_moves_nothing(store: Store, time: Time) {
    let tick = time.tick();
    let deadline = time.now() + tick * 600;
    let deleted = seed(&store, &time, &[("user", json!("ada"))]).await;
    store.delete(&deleted).await.unwrap();
    assert!(
        store
            .renew(
                &deleted,
                &SessionDelta::default(),
                Renewal::Extend(deadline)
            )
            .await
            .unwrap()
            .is_none()
    );

    let expired = SessionId::generate();
    let short = record_with(&time, data(&[("user", json!("ada"))]), tick * 2, tick * 600);
    assert!(store.create(&expired, &short).await.unwrap());
    time.pass(tick * 4).await;
    assert!(
        store
            .renew(
                &expired,
                &SessionDelta::default(),
                Renewal::Extend(deadline)
            )
            .await
            .unwrap()
            .is_none()
    );

    // Through the request flow: a sign-in that renews a session logged out meanwhile gets a new
    // session with only its own changes, never the logged-out data.
    let logged_out = seed(&store, &time, &[("user", json!("ada"))]).await;
    let mut state = time.state(Some(logged_out.clone()));
    state.renew();
    state.insert("user", "grace").unwrap();
    store.delete(&logged_out).await.unwrap();
    let CookieAction::Set { id: fresh, .. } = commit(&store, state).await else {
        panic!("the request's own changes must land in a new session");
    };
    assert_eq!(
        load_data(&store, &fresh).await.unwrap(),
        data(&[("user", json!("grace"))])
    );
    assert!(store.load(&logged_out).await.unwrap().is_none());
}
