//! The schedule table: two requests of one session (and an admin's revocation) interleaved at
//! fixed points through [`Interleaved`], on any server store. Each schedule checks invariants,
//! not a transcript of calls:
//!
//! - **no lost write**: a write a request committed is in the session its cookie now names;
//! - **nothing comes back**: a purged or revoked session never loads again, under its old ID or
//!   a new one carrying its data or its user;
//! - **deadlines only move forward**: a write that keeps the deadline it loaded never sets the
//!   stored one earlier, and never ends a session that another request extended;
//! - **revocation wins**: after `revoke_all(user)` returns, no session the user held before it
//!   started is live;
//! - **the session cap holds**: two sign-ins racing leave at most one session over a user's
//!   cap, and a refusal ends nothing.
//!
//! [`interleaving_tests!`](crate::interleaving_tests) makes one `#[test]` per schedule.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use session_core::users::USER_KEY;
use session_core::{
    CookieAction, ExpiryPolicy, Lookup, SessionData, SessionError, SessionHandle, SessionId,
    SessionLimit, SessionRecord, SessionState, SessionStore, Timestamp, UserSessionStore,
};

use crate::interleave::{Interleaved, Op, Point};
use crate::time::Time;

/// The store under test, wrapped.
pub type Store = Arc<Interleaved>;

/// The user the schedules sign in.
const USER: &str = "ada";

/// Timeouts long enough that nothing expires unless a schedule lets the time pass.
fn policy() -> ExpiryPolicy {
    ExpiryPolicy::new(Duration::from_secs(3600), Duration::from_secs(7200))
}

/// Creates a live session holding `pairs` (and bound to `user`), expiring `idle` from now.
pub async fn seed(
    store: &Store,
    time: &Time,
    pairs: &[(&str, Value)],
    user: Option<&str>,
    idle: Duration,
) -> SessionId {
    let mut data: SessionData = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    if let Some(user) = user {
        data.insert(USER_KEY.to_owned(), json!(user));
    }
    let now = time.now();
    let record = SessionRecord::new(data, now, now + idle, now + Duration::from_secs(7200));
    let id = SessionId::generate();
    assert!(store.create(&id, &record).await.unwrap(), "seed create");
    id
}

/// A live session holding `x = 1` (bound to `user`), with an hour of its idle timeout left:
/// what most schedules start from.
async fn seed_x(store: &Store, time: &Time, user: Option<&str>) -> SessionId {
    seed(
        store,
        time,
        &[("x", json!(1))],
        user,
        Duration::from_secs(3600),
    )
    .await
}

/// A request that carries `id` and loads its session, as a handler's first read does.
pub async fn loaded(store: &Store, time: &Time, id: &SessionId) -> SessionState {
    let mut state = time.state(Some(id.clone()));
    state.set_loaded_shared(store.load_shared(id).await.unwrap());
    assert!(
        matches!(state.user(), Lookup::Ready(_)),
        "the state is loaded"
    );
    state
}

/// Commits `state` and returns the session ID the browser holds afterwards.
pub async fn commit(
    store: &Store,
    state: SessionState,
    policy: &ExpiryPolicy,
    before: &SessionId,
) -> Option<SessionId> {
    match state.commit(store.as_ref(), policy).await.unwrap() {
        CookieAction::Set { id, .. } => Some(id),
        CookieAction::Remove => None,
        _ => Some(before.clone()),
    }
}

/// Commits `state` on its own task, held at `point` until the returned handle is released.
async fn commit_held(
    store: &Store,
    state: SessionState,
    point: Point,
    before: &SessionId,
) -> (
    crate::interleave::Held,
    tokio::task::JoinHandle<Option<SessionId>>,
) {
    let hold = store.hold(point);
    let task = tokio::spawn({
        let store = Arc::clone(store);
        let before = before.clone();
        async move { commit(&store, state, &policy(), &before).await }
    });
    (hold.reached().await, task)
}

/// The data of the live session `id`, if any.
pub async fn data_of(store: &Store, id: &SessionId) -> Option<SessionData> {
    store.load(id).await.unwrap().map(|r| r.data)
}

/// Panics unless no live session is `id`.
pub async fn assert_gone(store: &Store, id: &SessionId, what: &str) {
    assert!(data_of(store, id).await.is_none(), "{what} is still live");
}

/// Panics unless the user has no live session, through the listing and through the IDs given.
pub async fn assert_signed_out(store: &Store, ids: &[Option<SessionId>], what: &str) {
    let listed = store.sessions_of(USER).await.unwrap();
    assert!(
        listed.is_empty(),
        "{what}: {} session(s) listed",
        listed.len()
    );
    for id in ids.iter().flatten() {
        if let Some(data) = data_of(store, id).await {
            assert!(
                !data.contains_key(USER_KEY),
                "{what}: a live session still carries the user"
            );
        }
    }
}

fn has(data: &Option<SessionData>, key: &str, value: &Value) -> bool {
    data.as_ref().and_then(|d| d.get(key)) == Some(value)
}

/// Two writers on different keys, the first one's write held until the second committed.
pub async fn two_writers_on_different_keys(store: Store, time: Time) {
    let id = seed(&store, &time, &[], None, Duration::from_secs(3600)).await;
    let mut a = loaded(&store, &time, &id).await;
    let mut b = loaded(&store, &time, &id).await;
    a.insert("a", 1).unwrap();
    b.insert("b", 2).unwrap();
    let (held, a_done) = commit_held(&store, a, Point::Before(Op::Update), &id).await;
    let b_cookie = commit(&store, b, &policy(), &id).await;
    held.release();
    let a_cookie = a_done.await.unwrap();
    assert_eq!(a_cookie.as_ref(), Some(&id), "A keeps its session");
    assert_eq!(b_cookie.as_ref(), Some(&id), "B keeps its session");
    let data = data_of(&store, &id).await;
    assert!(has(&data, "a", &json!(1)), "A's write was lost: {data:?}");
    assert!(has(&data, "b", &json!(2)), "B's write was lost: {data:?}");
}

/// Seeds a session holding `x` (bound to `user`), loads it as request A, writes `a` and starts
/// A's commit, held before its update reaches the store. Returns the session's ID, the hold and
/// A's commit, which answers the ID A's cookie then names.
async fn writer_held_before_update(
    store: &Store,
    time: &Time,
    user: Option<&str>,
) -> (
    SessionId,
    crate::interleave::Held,
    tokio::task::JoinHandle<Option<SessionId>>,
) {
    let id = seed_x(store, time, user).await;
    let mut a = loaded(store, time, &id).await;
    a.insert("a", 1).unwrap();
    let (held, a_done) = commit_held(store, a, Point::Before(Op::Update), &id).await;
    (id, held, a_done)
}

/// A write held while another request purges the session: the purge stands, and the write
/// lands in a new session holding only that write.
pub async fn writer_vs_purge(store: Store, time: Time) {
    let (id, held, a_done) = writer_held_before_update(&store, &time, None).await;
    let mut b = loaded(&store, &time, &id).await;
    b.purge();
    assert_eq!(commit(&store, b, &policy(), &id).await, None);
    held.release();
    let a_cookie = a_done.await.unwrap();
    assert_gone(&store, &id, "the purged session").await;
    let fresh = a_cookie.expect("A's write starts a new session");
    assert_ne!(fresh, id);
    let data = data_of(&store, &fresh).await;
    assert!(has(&data, "a", &json!(1)), "A's write was lost: {data:?}");
    assert!(!has(&data, "x", &json!(1)), "purged data came back");
}

/// A write held while another request renews: the renewed session keeps the data, the late
/// write to the old ID lands in a session of its own, and the old ID stays dead.
pub async fn writer_vs_renew(store: Store, time: Time) {
    let (id, held, a_done) = writer_held_before_update(&store, &time, None).await;
    let mut b = loaded(&store, &time, &id).await;
    b.renew();
    let renewed = commit(&store, b, &policy(), &id).await.expect("B renews");
    held.release();
    let a_cookie = a_done.await.unwrap().expect("A's write is kept");
    assert_ne!(renewed, id);
    assert_gone(&store, &id, "the pre-renew ID").await;
    assert!(has(&data_of(&store, &renewed).await, "x", &json!(1)));
    let data = data_of(&store, &a_cookie).await;
    assert!(has(&data, "a", &json!(1)), "A's write was lost: {data:?}");
}

/// A write held while an admin revokes the user's sessions: nothing of the user survives.
pub async fn writer_vs_revoke_all(store: Store, time: Time) {
    let (id, held, a_done) = writer_held_before_update(&store, &time, Some(USER)).await;
    assert_eq!(store.revoke_all(USER).await.unwrap(), 1);
    held.release();
    let a_cookie = a_done.await.unwrap();
    assert_gone(&store, &id, "the revoked session").await;
    assert_signed_out(&store, std::slice::from_ref(&a_cookie), "after revoke_all").await;
    if let Some(fresh) = a_cookie {
        assert!(
            !has(&data_of(&store, &fresh).await, "x", &json!(1)),
            "revoked data came back"
        );
    }
}

/// A write held while an admin revokes that one session.
pub async fn writer_vs_revoke(store: Store, time: Time) {
    let (id, held, a_done) = writer_held_before_update(&store, &time, Some(USER)).await;
    assert!(store.revoke(&SessionHandle::of(&id)).await.unwrap());
    held.release();
    let a_cookie = a_done.await.unwrap();
    assert_gone(&store, &id, "the revoked session").await;
    assert_signed_out(&store, &[a_cookie], "after revoke").await;
}

/// Request A loads while no refresh is due and writes late; request B refreshed in between.
/// A's write keeps the deadline it loaded, which must not pull B's back — not even when A's
/// deadline has passed by the time A writes.
pub async fn kept_deadline_write_vs_refresh(store: Store, time: Time) {
    let idle = time.tick() * 20;
    let policy = ExpiryPolicy::new(idle, Duration::from_secs(7200));
    // 70% of the idle timeout left: no refresh due yet.
    let id = seed(&store, &time, &[], None, idle * 7 / 10).await;
    let mut a = loaded(&store, &time, &id).await;
    let kept = store.load(&id).await.unwrap().expect("live").expires_at;
    time.pass(idle * 3 / 10).await;
    // 40% left: B's read finds the refresh due and moves the deadline.
    let b = loaded(&store, &time, &id).await;
    let refreshed = match b.commit(store.as_ref(), &policy).await.unwrap() {
        CookieAction::Set { expires_at, .. } => expires_at,
        other => panic!("B's read must refresh the session, got {other:?}"),
    };
    assert!(refreshed > kept);
    // A's own deadline passes; B's still lies ahead.
    time.pass(idle / 2).await;
    assert!(time.now() > kept);
    a.insert("a", 1).unwrap();
    let a_cookie = commit(&store, a, &policy, &id).await;
    assert_eq!(
        a_cookie.as_ref(),
        Some(&id),
        "A's write reached the live session"
    );
    let record = store
        .load(&id)
        .await
        .unwrap()
        .expect("the session B extended is live");
    assert!(
        record.expires_at >= refreshed,
        "a kept-deadline write moved the deadline back from {refreshed:?} to {:?}",
        record.expires_at
    );
    assert_eq!(record.data.get("a"), Some(&json!(1)));
}

/// A signed-in request signs in again (renewing the ID) while an admin revokes the user's
/// sessions, at each point of the renew: revocation wins.
pub async fn login_vs_revoke_all(store: Store, time: Time) {
    for point in [Point::Before(Op::Renew), Point::After(Op::Renew)] {
        let id = seed_x(&store, &time, Some(USER)).await;
        let mut a = loaded(&store, &time, &id).await;
        a.set_user(USER);
        let (held, a_done) = commit_held(&store, a, point, &id).await;
        store.revoke_all(USER).await.unwrap();
        held.release();
        let a_cookie = a_done.await.unwrap();
        assert_gone(&store, &id, "the pre-renew ID").await;
        assert_signed_out(&store, &[a_cookie], &format!("revoke_all at {point:?}")).await;
    }
}

/// The same race with both running freely, many times: whatever the store does inside its
/// renew (Redis takes and creates in two steps), a revocation that overlaps it wins.
pub async fn login_races_revoke_all(store: Store, time: Time) {
    for _ in 0..20 {
        let id = seed(&store, &time, &[], Some(USER), Duration::from_secs(3600)).await;
        let mut a = loaded(&store, &time, &id).await;
        a.set_user(USER);
        let login = tokio::spawn({
            let store = Arc::clone(&store);
            let id = id.clone();
            async move { commit(&store, a, &policy(), &id).await }
        });
        let revoke = tokio::spawn({
            let store = Arc::clone(&store);
            async move { store.revoke_all(USER).await.unwrap() }
        });
        // Once both are done, the revocation has overlapped the login (or come after it).
        revoke.await.unwrap();
        let a_cookie = login.await.unwrap();
        assert_gone(&store, &id, "the pre-renew ID").await;
        assert_signed_out(&store, &[a_cookie], "concurrent login and revoke_all").await;
    }
}

/// Two requests renew the same session: one wins the data, the other's changes land in a
/// session of their own, and the old ID is dead.
pub async fn renew_vs_renew(store: Store, time: Time) {
    let id = seed_x(&store, &time, None).await;
    let mut a = loaded(&store, &time, &id).await;
    let mut b = loaded(&store, &time, &id).await;
    a.renew();
    a.insert("a", 1).unwrap();
    b.renew();
    b.insert("b", 2).unwrap();
    let (held, a_done) = commit_held(&store, a, Point::Before(Op::Renew), &id).await;
    let b_cookie = commit(&store, b, &policy(), &id).await.expect("B renews");
    held.release();
    let a_cookie = a_done.await.unwrap().expect("A's write is kept");
    assert_gone(&store, &id, "the pre-renew ID").await;
    assert_ne!(a_cookie, b_cookie);
    let (a_data, b_data) = (
        data_of(&store, &a_cookie).await,
        data_of(&store, &b_cookie).await,
    );
    assert!(
        has(&b_data, "x", &json!(1)) && has(&b_data, "b", &json!(2)),
        "{b_data:?}"
    );
    assert!(
        has(&a_data, "a", &json!(1)),
        "A's write was lost: {a_data:?}"
    );
    assert!(
        !has(&a_data, "x", &json!(1)),
        "the data was copied to two sessions"
    );
}

/// A renew held while another request purges the session: the purge wins, nothing is moved.
pub async fn renew_vs_purge(store: Store, time: Time) {
    let id = seed_x(&store, &time, None).await;
    let mut a = loaded(&store, &time, &id).await;
    a.renew();
    let mut b = loaded(&store, &time, &id).await;
    b.purge();
    let (held, a_done) = commit_held(&store, a, Point::Before(Op::Renew), &id).await;
    assert_eq!(commit(&store, b, &policy(), &id).await, None);
    held.release();
    assert_eq!(a_done.await.unwrap(), None, "nothing left to renew");
    assert_gone(&store, &id, "the purged session").await;
}

/// A new visitor signs in as [`USER`] under `limit`, then commits: the new session's ID.
async fn sign_in(
    store: &Store,
    time: &Time,
    limit: SessionLimit,
) -> Result<SessionId, SessionError> {
    limit.make_room(store.as_ref(), USER, None).await?;
    sign_in_after_room(store, time).await
}

/// The rest of a sign-in once [`SessionLimit::make_room`] made room.
async fn sign_in_after_room(store: &Store, time: &Time) -> Result<SessionId, SessionError> {
    let mut state = time.state(None);
    state.set_user(USER);
    let unused = SessionId::generate();
    Ok(commit(store, state, &policy(), &unused)
        .await
        .expect("a sign-in sets a cookie"))
}

async fn listed(store: &Store) -> usize {
    store.sessions_of(USER).await.unwrap().len()
}

/// Two sign-ins of one user race a cap of two sessions, the first held between listing the
/// user's sessions and binding its own: the oldest session is ended, the two leave one session
/// over the cap (what the cap promises for concurrent sign-ins), and the next sign-in brings
/// the count back to the cap by ending the oldest.
pub async fn sign_ins_race_the_session_cap(store: Store, time: Time) {
    let limit = SessionLimit::revoke_oldest(2);
    let oldest = seed_x(&store, &time, Some(USER)).await;
    time.pass(time.tick()).await;
    let older = seed_x(&store, &time, Some(USER)).await;
    time.pass(time.tick()).await;
    let hold = store.hold(Point::After(Op::SessionsOf));
    let a_room = tokio::spawn({
        let store = Arc::clone(&store);
        async move { limit.make_room(store.as_ref(), USER, None).await }
    });
    let held = hold.reached().await;
    let b = sign_in(&store, &time, limit).await.unwrap();
    held.release();
    let a_revoked = a_room.await.unwrap().unwrap();
    assert_eq!(a_revoked.len(), 1, "A's listing saw two sessions");
    time.pass(time.tick()).await;
    let a = sign_in_after_room(&store, &time).await.unwrap();
    assert_gone(&store, &oldest, "the oldest session").await;
    assert_eq!(
        listed(&store).await,
        limit.max() + 1,
        "two concurrent sign-ins"
    );
    time.pass(time.tick()).await;
    let c = sign_in(&store, &time, limit).await.unwrap();
    assert_eq!(listed(&store).await, limit.max(), "the next sign-in");
    assert_gone(&store, &older, "the older session").await;
    assert_gone(&store, &b, "B's session, older than A's").await;
    for id in [&a, &c] {
        assert!(
            data_of(&store, id).await.is_some(),
            "a newest session was ended"
        );
    }
}

/// Under a cap that refuses, two sign-ins held at the same point are both refused when the
/// user is at the cap, and both admitted (one over it) when one session is left.
pub async fn refused_sign_ins_never_end_sessions(store: Store, time: Time) {
    let limit = SessionLimit::refuse_new(2);
    let first = seed_x(&store, &time, Some(USER)).await;
    let hold = store.hold(Point::After(Op::SessionsOf));
    let a_room = tokio::spawn({
        let store = Arc::clone(&store);
        async move { limit.make_room(store.as_ref(), USER, None).await }
    });
    let held = hold.reached().await;
    sign_in(&store, &time, limit).await.unwrap();
    held.release();
    assert!(a_room.await.unwrap().unwrap().is_empty());
    sign_in_after_room(&store, &time).await.unwrap();
    assert_eq!(listed(&store).await, limit.max() + 1);
    for _ in 0..2 {
        let refused = sign_in(&store, &time, limit).await;
        assert!(
            matches!(refused, Err(SessionError::TooManySessions { limit: 2 })),
            "{refused:?}"
        );
    }
    assert_eq!(
        listed(&store).await,
        limit.max() + 1,
        "a refusal ended a session"
    );
    assert!(data_of(&store, &first).await.is_some());
}

/// Runs `schedule` on `store` in `time`.
pub async fn run_schedule<F>(
    schedule: fn(Store, Time) -> F,
    store: Arc<dyn UserSessionStore>,
    time: Time,
) where
    F: Future<Output = ()>,
{
    schedule(Arc::new(Interleaved::from_arc(store)), time).await;
}

/// The deadline a store reports for `id`, for the property test.
pub async fn deadline_of(store: &Store, id: &SessionId) -> Option<Timestamp> {
    store.load(id).await.unwrap().map(|r| r.expires_at)
}

/// Generates one `#[test]` per schedule of [`schedules`](crate::schedules), each on a fresh
/// store. `$time` is a [`Time`](crate::time::Time) (`Time::test()` for a store that reads the
/// clock it is given, `Time::Real` for one whose server enforces expiry); `$factory` takes the
/// [`SharedClock`](session_core::clock::SharedClock) to give the store and returns a future of
/// the store.
#[macro_export]
macro_rules! interleaving_tests {
    ($time:expr, $factory:expr) => {
        $crate::interleaving_tests!(@each $time, $factory;
            two_writers_on_different_keys,
            writer_vs_purge,
            writer_vs_renew,
            writer_vs_revoke_all,
            writer_vs_revoke,
            kept_deadline_write_vs_refresh,
            login_vs_revoke_all,
            login_races_revoke_all,
            renew_vs_renew,
            renew_vs_purge,
            sign_ins_race_the_session_cap,
            refused_sign_ins_never_end_sessions
        );
    };
    (@each $time:expr, $factory:expr; $($schedule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $schedule() {
                $crate::run(async {
                    let time: $crate::time::Time = $time;
                    let store = ($factory)(time.clock()).await;
                    let store: ::std::sync::Arc<dyn $crate::__private::UserSessionStore> =
                        ::std::sync::Arc::new(store);
                    $crate::schedules::run_schedule($crate::schedules::$schedule, store, time)
                        .await;
                });
            }
        )+
    };
}
