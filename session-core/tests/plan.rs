//! The commit plan: what a request's state needs persisted, decided without a store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use serde_json::json;

use session_core::clock::{Clock as _, TestClock};
use session_core::users::USER_KEY;
use session_core::{
    ExpiryPolicy, SealedWrite, SessionData, SessionId, SessionRecord, SessionState, Step, Timestamp,
};

const HOUR: Duration = Duration::from_secs(3600);

fn clock() -> TestClock {
    TestClock::new(Timestamp::from_unix_millis(1_800_000_000_000))
}

/// A live session whose idle deadline is `idle_left` away.
fn live(clock: &TestClock, idle_left: Duration) -> SessionRecord {
    let now = clock.now();
    let mut data = SessionData::new();
    data.insert("n".into(), json!(1));
    data.insert(USER_KEY.into(), json!("ada"));
    SessionRecord::new(data, now, now + idle_left, now + 7 * 24 * HOUR)
}

/// A stored session's state, loaded as `loaded` says (`None`: not loaded).
fn stored(clock: &TestClock, loaded: Option<Option<SessionRecord>>) -> SessionState {
    let mut state = SessionState::with_clock(Some(SessionId::generate()), clock.shared());
    if let Some(record) = loaded {
        state.set_loaded(record);
    }
    state
}

fn step(state: SessionState) -> Step {
    state.into_plan(&ExpiryPolicy::default()).step().clone()
}

#[test]
fn a_request_that_changes_nothing_plans_nothing_unless_a_refresh_is_due() {
    let clock = clock();
    assert_eq!(
        step(SessionState::with_clock(None, clock.shared())),
        Step::Nothing
    );
    assert_eq!(step(stored(&clock, None)), Step::Nothing);
    assert_eq!(
        step(stored(&clock, Some(Some(live(&clock, 23 * HOUR))))),
        Step::Nothing
    );
    assert_eq!(
        step(stored(&clock, Some(Some(live(&clock, HOUR))))),
        Step::Touch
    );
    assert_eq!(step(stored(&clock, Some(None))), Step::Remove);
}

#[test]
fn the_refresh_is_decided_as_of_the_load() {
    let clock = clock();
    let state = stored(&clock, Some(Some(live(&clock, 13 * HOUR))));
    clock.advance(2 * HOUR);
    assert_eq!(step(state), Step::Nothing);
}

#[test]
fn writes_keep_the_loaded_deadline_until_a_refresh_is_due() {
    let clock = clock();
    let record = live(&clock, 23 * HOUR);
    let mut state = stored(&clock, Some(Some(record.clone())));
    state.insert("k", 1).unwrap();
    let loaded = record.expires_at;
    assert_eq!(step(state), Step::UpdateKeeping { loaded });
    let mut due = stored(&clock, Some(Some(live(&clock, HOUR))));
    due.insert("k", 1).unwrap();
    assert_eq!(step(due), Step::Update);
    // Unloaded: the deadline is unknown, so the write moves it.
    let mut blind = stored(&clock, None);
    blind.remove("k").unwrap();
    assert_eq!(step(blind), Step::Update);
}

#[test]
fn only_a_write_of_a_value_creates_a_session() {
    let clock = clock();
    let mut visitor = SessionState::with_clock(None, clock.shared());
    visitor.remove("k").unwrap();
    visitor.clear();
    assert_eq!(step(visitor), Step::Nothing);
    let mut visitor = SessionState::with_clock(None, clock.shared());
    visitor.insert("k", 1).unwrap();
    assert_eq!(step(visitor), Step::Create);
    // A session gone at load: writes start a new one, removals only remove the cookie.
    let mut gone = stored(&clock, Some(None));
    gone.insert("k", 1).unwrap();
    assert_eq!(step(gone), Step::Create);
    let mut gone = stored(&clock, Some(None));
    gone.remove("k").unwrap();
    assert_eq!(step(gone), Step::Remove);
}

#[test]
fn purge_deletes_first_then_removes_the_cookie_or_creates() {
    let clock = clock();
    let mut state = stored(&clock, None);
    state.insert("k", 1).unwrap();
    state.purge();
    assert_eq!(state.origin(), None);
    // The step removes the cookie; the stored session is deleted first, in the store.
    let plan = state.into_plan(&ExpiryPolicy::default());
    assert_eq!((plan.step(), plan.needs_store()), (&Step::Remove, true));
    let mut state = stored(&clock, None);
    state.purge();
    state.flash("notice", "Signed out").unwrap();
    assert_eq!(step(state), Step::Create);
}

#[test]
fn renew_and_set_user_renew_whatever_was_loaded() {
    let clock = clock();
    for loaded in [
        None,
        Some(Some(live(&clock, HOUR))),
        Some(Some(live(&clock, 23 * HOUR))),
    ] {
        let mut state = stored(&clock, loaded.clone());
        state.renew();
        assert_eq!(step(state), Step::Renew);
        let mut state = stored(&clock, loaded);
        state.set_user("grace");
        assert_eq!(step(state), Step::Renew);
    }
}

#[test]
fn only_steps_that_write_need_the_store() {
    let clock = clock();
    assert!(
        !SessionState::with_clock(None, clock.shared())
            .into_plan(&ExpiryPolicy::default())
            .needs_store()
    );
    assert!(
        !stored(&clock, Some(None))
            .into_plan(&ExpiryPolicy::default())
            .needs_store()
    );
    let mut state = stored(&clock, None);
    state.insert("k", 1).unwrap();
    assert!(state.into_plan(&ExpiryPolicy::default()).needs_store());
}

#[test]
fn a_sealed_session_is_written_whole_from_what_was_opened() {
    let clock = clock();
    let policy = ExpiryPolicy::default();
    let record = live(&clock, 23 * HOUR);
    let sealed = |loaded: Option<SessionRecord>| {
        let mut state = SessionState::sealed(true, clock.shared());
        if let Some(record) = loaded {
            state.set_loaded(Some(record));
        }
        state
    };
    // A write that keeps the deadline still rewrites the cookie.
    let mut state = sealed(Some(record.clone()));
    state.insert("k", 2).unwrap();
    let SealedWrite::Set(written) = state.into_plan(&policy).apply(|| None, false) else {
        panic!("written");
    };
    assert_eq!(
        (written.data["k"].clone(), written.expires_at),
        (json!(2), record.expires_at)
    );
    // A blind write opens the cookie, and moves the deadline.
    let mut state = sealed(None);
    state.insert("k", 3).unwrap();
    let SealedWrite::Set(written) = state
        .into_plan(&policy)
        .apply(|| Some(record.clone()), false)
    else {
        panic!("written");
    };
    assert_eq!(written.data["n"], json!(1));
    assert_eq!(written.expires_at, policy.idle_deadline(clock.now()));
    // A blind write to a cookie that does not open starts afresh, without the user.
    let mut state = sealed(None);
    state.insert("k", 4).unwrap();
    let SealedWrite::Set(written) = state.into_plan(&policy).apply(|| None, false) else {
        panic!("written");
    };
    assert_eq!(written.data.len(), 1);
    // Nothing to do, or the session purged.
    assert_eq!(
        sealed(None).into_plan(&policy).apply(|| None, false),
        SealedWrite::Unchanged
    );
    let mut purged = sealed(Some(record.clone()));
    purged.purge();
    assert_eq!(
        purged.into_plan(&policy).apply(|| None, false),
        SealedWrite::Remove
    );
    // A refresh due moves the deadline of the opened session.
    let due = live(&clock, HOUR);
    let SealedWrite::Set(touched) = sealed(Some(due)).into_plan(&policy).apply(|| None, false)
    else {
        panic!("touched");
    };
    assert_eq!(touched.expires_at, policy.idle_deadline(clock.now()));
}

#[test]
fn a_sealed_session_that_expires_while_the_request_runs_is_not_revived() {
    let clock = clock();
    let policy = ExpiryPolicy::default();
    let mut state = SessionState::sealed(true, clock.shared());
    state.set_loaded(Some(live(&clock, 60 * HOUR / 3600)));
    clock.advance(2 * 60 * HOUR / 3600);
    // The refresh was due at load: a server store's touch would find nothing; so does this.
    assert_eq!(
        state.into_plan(&policy).apply(|| None, false),
        SealedWrite::Remove
    );
}

#[test]
fn a_sealed_session_asked_to_reseal_is_sealed_again_unchanged_or_removed() {
    let clock = clock();
    let policy = ExpiryPolicy::default();
    let record = live(&clock, 23 * HOUR);
    let state = SessionState::sealed(true, clock.shared());
    let write = state
        .into_plan(&policy)
        .apply(|| Some(record.clone()), true);
    assert_eq!(write, SealedWrite::Set(record));
    let state = SessionState::sealed(true, clock.shared());
    assert_eq!(
        state.into_plan(&policy).apply(|| None, true),
        SealedWrite::Remove
    );
}

#[test]
fn a_sign_in_on_a_session_that_ends_meanwhile_leaves_neither_the_user_nor_the_login_time() {
    let clock = clock();
    let policy = ExpiryPolicy::default();
    // Sealed: the cookie no longer opens when the commit applies the sign-in.
    let mut state = SessionState::sealed(true, clock.shared());
    state.set_user("ada");
    state.insert("cart", 1).unwrap();
    let SealedWrite::Set(written) = state.into_plan(&policy).apply(|| None, false) else {
        panic!("the request's own write survives");
    };
    assert_eq!(written.data.keys().collect::<Vec<_>>(), ["cart"]);
    assert_eq!(written.authenticated_at(), None);
    // A visitor's sign-in keeps both.
    let mut state = SessionState::sealed(false, clock.shared());
    state.set_user("ada");
    let SealedWrite::Set(written) = state.into_plan(&policy).apply(|| None, false) else {
        panic!("a sign-in seals a session");
    };
    assert_eq!(written.user(), Some("ada"));
    assert_eq!(written.authenticated_at(), Some(clock.now()));
}
