//! One async check per rule of stores that implement [`UserSessionStore`]: listing a user's
//! sessions and revoking one, all, or all but the current one. Like [`rules`](crate::rules),
//! each takes a fresh store and the [`Time`] it runs in.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::{
    CookieAction, ExpiryPolicy, SessionDelta, SessionHandle, SessionId, UserSessionStore,
};

use crate::time::Time;

type Store = Arc<dyn UserSessionStore>;

/// Signs `user` in on a new session (as a sign-in handler would) and returns its ID.
async fn sign_in(
    store: &Store,
    time: &Time,
    user: &str,
    client: &str,
    policy: &ExpiryPolicy,
) -> SessionId {
    let mut state = time.state(None);
    state.set_user(user);
    state
        .set_client_info(json!({ "user_agent": client }))
        .unwrap();
    state.insert("cart", json!([])).unwrap();
    let store: &dyn session_core::SessionStore = store.as_ref();
    match state.commit(store, policy).await.unwrap() {
        CookieAction::Set { id, .. } => id,
        other => panic!("sign-in must set a cookie, got {other:?}"),
    }
}

fn policy() -> ExpiryPolicy {
    ExpiryPolicy::new(Duration::from_secs(3600), Duration::from_secs(7200))
}

fn unique_user(name: &str) -> String {
    format!(
        "{name}-{}",
        &SessionId::generate().storage_key().to_hex()[..8]
    )
}

/// `sessions_of` lists exactly the user's live sessions, with handles that are not session IDs
/// and the client info the app recorded.
pub async fn sessions_of_lists_the_users_live_sessions(store: Store, time: Time) {
    let (ada, grace) = (unique_user("ada"), unique_user("grace"));
    let laptop = sign_in(&store, &time, &ada, "laptop", &policy()).await;
    let phone = sign_in(&store, &time, &ada, "phone", &policy()).await;
    let other = sign_in(&store, &time, &grace, "desktop", &policy()).await;
    let listed = store.sessions_of(&ada).await.unwrap();
    let mut handles: Vec<SessionHandle> = listed.iter().map(|s| s.handle).collect();
    handles.sort_by_key(ToString::to_string);
    let mut expected = vec![SessionHandle::of(&laptop), SessionHandle::of(&phone)];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(handles, expected, "wrong sessions listed for the user");
    for session in &listed {
        let text = session.handle.to_string();
        assert!(text != laptop.expose_secret() && text != phone.expose_secret());
        assert!(
            SessionId::parse(&text).is_err(),
            "a handle must not be usable as a session ID"
        );
        assert!(session.created_at <= session.last_seen && session.last_seen <= time.now());
        assert!(session.expires_at > time.now());
    }
    let clients: Vec<_> = listed.iter().filter_map(|s| s.client.clone()).collect();
    assert!(
        clients.contains(&json!({ "user_agent": "laptop" })),
        "{clients:?}"
    );
    assert_eq!(store.sessions_of(&grace).await.unwrap().len(), 1);
    assert!(store.load(&other).await.unwrap().is_some());
    assert!(
        store
            .sessions_of(&unique_user("nobody"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// `revoke` ends one session; the others stay; a late write cannot bring it back.
pub async fn revoke_ends_one_session(store: Store, time: Time) {
    let ada = unique_user("ada");
    let first = sign_in(&store, &time, &ada, "a", &policy()).await;
    let second = sign_in(&store, &time, &ada, "b", &policy()).await;
    assert!(store.revoke(&SessionHandle::of(&first)).await.unwrap());
    assert!(
        !store.revoke(&SessionHandle::of(&first)).await.unwrap(),
        "revoked twice"
    );
    assert!(
        store.load(&first).await.unwrap().is_none(),
        "revoked session still loads"
    );
    assert!(store.load(&second).await.unwrap().is_some());
    let mut late = SessionDelta::default();
    late.insert("x", json!(1));
    let deadline = time.now() + Duration::from_secs(60);
    assert_eq!(store.update(&first, &late, deadline).await.unwrap(), None);
    assert_eq!(store.sessions_of(&ada).await.unwrap().len(), 1);
}

/// `revoke_all` ends every session of the user and no other user's.
pub async fn revoke_all_ends_every_session_of_the_user(store: Store, time: Time) {
    let (ada, grace) = (unique_user("ada"), unique_user("grace"));
    let ids: Vec<SessionId> = futures_util::future::join_all((0..5).map(|i| {
        let store = Arc::clone(&store);
        let ada = ada.clone();
        let time = time.clone();
        async move { sign_in(&store, &time, &ada, &format!("device {i}"), &policy()).await }
    }))
    .await;
    let other = sign_in(&store, &time, &grace, "x", &policy()).await;
    assert_eq!(store.revoke_all(&ada).await.unwrap(), 5);
    for id in &ids {
        assert!(
            store.load(id).await.unwrap().is_none(),
            "a session survived revoke_all"
        );
    }
    assert!(store.sessions_of(&ada).await.unwrap().is_empty());
    assert!(
        store.load(&other).await.unwrap().is_some(),
        "another user's session was revoked"
    );
}

/// `revoke_all_except` keeps the given session and ends the rest.
pub async fn revoke_all_except_keeps_the_current_session(store: Store, time: Time) {
    let ada = unique_user("ada");
    let current = sign_in(&store, &time, &ada, "this one", &policy()).await;
    let stale = sign_in(&store, &time, &ada, "old", &policy()).await;
    let older = sign_in(&store, &time, &ada, "older", &policy()).await;
    let ended = store
        .revoke_all_except(&ada, &SessionHandle::of(&current))
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert!(store.load(&current).await.unwrap().is_some());
    assert!(store.load(&stale).await.unwrap().is_none());
    assert!(store.load(&older).await.unwrap().is_none());
    let listed = store.sessions_of(&ada).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].handle, SessionHandle::of(&current));
}

/// Binding a user renews the session ID; expired sessions leave the listing.
pub async fn set_user_renews_and_expired_sessions_leave_the_listing(store: Store, time: Time) {
    let ada = unique_user("ada");
    let mut anonymous = time.state(None);
    anonymous.insert("cart", json!(["book"])).unwrap();
    let store_ref: &dyn session_core::SessionStore = store.as_ref();
    let CookieAction::Set { id: before, .. } =
        anonymous.commit(store_ref, &policy()).await.unwrap()
    else {
        panic!("a write must create a session");
    };
    let mut signing_in = time.state(Some(before.clone()));
    signing_in.set_user(&ada);
    let CookieAction::Set { id: after, .. } =
        signing_in.commit(store_ref, &policy()).await.unwrap()
    else {
        panic!("set_user must set a cookie");
    };
    assert_ne!(after, before, "set_user must renew the session ID");
    assert!(store.load(&before).await.unwrap().is_none());
    assert_eq!(
        store.load(&after).await.unwrap().unwrap().data.get("cart"),
        Some(&json!(["book"]))
    );
    assert_eq!(store.sessions_of(&ada).await.unwrap().len(), 1);

    let (idle, wait) = (time.tick() * 3, time.tick() * 6);
    let short = ExpiryPolicy::new(idle, Duration::from_secs(7200));
    let _brief = sign_in(&store, &time, &ada, "brief", &short).await;
    assert_eq!(store.sessions_of(&ada).await.unwrap().len(), 2);
    time.pass(wait).await;
    assert_eq!(
        store.sessions_of(&ada).await.unwrap().len(),
        1,
        "an expired session is listed"
    );
}
