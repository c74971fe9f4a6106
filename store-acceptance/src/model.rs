//! The property test: random schedules of a few requests over one session, checked after every
//! step against a simple reference model of what the store must then hold.
//!
//! A schedule is a sequence of steps: a request loads its session (carrying the cookie the
//! browser holds at that moment), a request commits its action (write a key of its own, renew
//! and write, purge, sign in again, or only read), an admin revokes the user's sessions, or time
//! passes (with a test clock). The model applies each commit at once, in order; after every step
//! each session the model holds must load with exactly the model's data, each session it ended
//! must not load, the user's listing must count the model's signed-in sessions, and no live
//! session's deadline may have moved back.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use session_core::users::{AUTH_KEY, USER_KEY};
use session_core::{
    CookieAction, ExpiryPolicy, SessionData, SessionId, SessionRecord, SessionState, SessionStore,
    Timestamp, UserSessionStore,
};

use crate::time::Time;

/// What a request does between its load and its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Only reads.
    Read,
    /// Writes a key of its own.
    Write,
    /// Renews the ID and writes a key of its own.
    RenewAndWrite,
    /// Purges the session.
    Purge,
    /// Signs the user in again (binds the user, renewing the ID).
    SignIn,
}

/// One step of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Request `n` loads the session its browser's cookie names.
    Load(usize),
    /// Request `n` does its action and commits.
    Commit(usize),
    /// An admin revokes every session of the user.
    RevokeAll,
    /// Time passes (only on a test clock): this many minutes of a one-hour idle timeout.
    Pass(u8),
}

/// A generated schedule: each request's action, the steps in order, and whether the seeded
/// session starts signed in.
#[derive(Clone)]
pub struct Schedule {
    /// Whether the seeded session is bound to the user.
    pub signed_in: bool,
    /// Each request's action.
    pub actions: Vec<Action>,
    /// The steps, each request's load before its commit.
    pub steps: Vec<Step>,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signed_in={} actions={:?} steps={:?}",
            self.signed_in, self.actions, self.steps
        )
    }
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Read),
        Just(Action::Write),
        Just(Action::RenewAndWrite),
        Just(Action::Purge),
        Just(Action::SignIn),
    ]
}

/// Schedules of two to four requests, with up to two revocations and three passes of time.
pub fn schedule() -> impl Strategy<Value = Schedule> {
    (
        any::<bool>(),
        prop::collection::vec(action(), 2..=4),
        0..=2usize,
        // At most 45 minutes in all: no session outlives its one-hour idle timeout unseen.
        prop::collection::vec(5..=15u8, 0..=3),
    )
        .prop_flat_map(|(signed_in, actions, revokes, passes)| {
            let mut steps: Vec<Step> = Vec::new();
            for n in 0..actions.len() {
                steps.push(Step::Load(n));
                steps.push(Step::Commit(n));
            }
            steps.extend(std::iter::repeat_n(Step::RevokeAll, revokes));
            steps.extend(passes.into_iter().map(Step::Pass));
            (Just(signed_in), Just(actions), Just(steps).prop_shuffle())
        })
        .prop_map(|(signed_in, actions, mut steps)| {
            // Each request's load comes before its commit: swap where the shuffle reversed them.
            for n in 0..actions.len() {
                let load = steps.iter().position(|s| *s == Step::Load(n));
                let commit = steps.iter().position(|s| *s == Step::Commit(n));
                if let (Some(load), Some(commit)) = (load, commit)
                    && commit < load
                {
                    steps.swap(load, commit);
                }
            }
            Schedule {
                signed_in,
                actions,
                steps,
            }
        })
}

/// A session the model holds: its data (the user binding included, as stored).
#[derive(Debug, Clone)]
struct ModelSession {
    id: SessionId,
    data: SessionData,
    /// The latest deadline seen for it, which must never move back.
    deadline: Option<Timestamp>,
}

/// The reference model: every live session, the one the browser's cookie names, and every ID
/// that must stay dead.
struct Model {
    live: Vec<ModelSession>,
    /// The ID the browser's cookie names, live or not.
    cookie: SessionId,
    dead: Vec<SessionId>,
}

impl Model {
    fn position(&self, id: &SessionId) -> Option<usize> {
        self.live.iter().position(|s| &s.id == id)
    }
}

/// A request between its load and its commit.
struct InFlight {
    state: SessionState,
    origin: SessionId,
    /// Whether the session was live when loaded.
    live_at_load: bool,
}

fn policy() -> ExpiryPolicy {
    ExpiryPolicy::new(Duration::from_secs(3600), Duration::from_secs(7200))
}

/// Runs `cases` random schedules on `store`, each on a session of its own.
///
/// # Panics
///
/// With the failing schedule, shrunk, when the store breaks the model.
pub fn check_random_schedules(store: Arc<dyn UserSessionStore>, time: &Time, cases: u32) {
    #[allow(clippy::expect_used)]
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&schedule(), |schedule| {
        runtime.block_on(run_one(store.as_ref(), time, &schedule))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($msg)+)));
        }
    };
}

async fn run_one(
    store: &dyn UserSessionStore,
    time: &Time,
    schedule: &Schedule,
) -> Result<(), TestCaseError> {
    let user = format!(
        "user-{}",
        &SessionId::generate().storage_key().to_hex()[..12]
    );
    let mut data = SessionData::new();
    data.insert("x".to_owned(), json!(0));
    if schedule.signed_in {
        data.insert(USER_KEY.to_owned(), json!(user));
    }
    let now = time.now();
    let seeded = SessionId::generate();
    let record = SessionRecord::new(
        data.clone(),
        now,
        now + policy().idle_timeout(),
        now + policy().absolute_timeout(),
    );
    check!(
        store.create(&seeded, &record).await.map_err(fail)?,
        "seed create refused"
    );
    let mut model = Model {
        live: vec![ModelSession {
            id: seeded.clone(),
            data,
            deadline: None,
        }],
        cookie: seeded,
        dead: Vec::new(),
    };
    let mut in_flight: BTreeMap<usize, InFlight> = BTreeMap::new();
    for step in &schedule.steps {
        match *step {
            Step::Load(n) => {
                let origin = model.cookie.clone();
                let mut state = time.state(Some(origin.clone()));
                let loaded = store.load_shared(&origin).await.map_err(fail)?;
                let live_at_load = model.position(&origin).is_some();
                check!(
                    loaded.is_some() == live_at_load,
                    "load of the cookie's session: store {} model {}",
                    loaded.is_some(),
                    live_at_load
                );
                state.set_loaded_shared(loaded);
                in_flight.insert(
                    n,
                    InFlight {
                        state,
                        origin,
                        live_at_load,
                    },
                );
            }
            Step::Commit(n) => {
                let Some(request) = in_flight.remove(&n) else {
                    continue;
                };
                commit_one(store, &mut model, request, n, schedule.actions[n], &user).await?;
            }
            Step::RevokeAll => {
                store.revoke_all(&user).await.map_err(fail)?;
                let bound = |s: &ModelSession| s.data.get(USER_KEY) == Some(&json!(user));
                let (ended, kept): (Vec<_>, Vec<_>) = model.live.drain(..).partition(bound);
                model.live = kept;
                model.dead.extend(ended.into_iter().map(|s| s.id));
            }
            Step::Pass(minutes) => {
                if matches!(time, Time::Test(_)) {
                    time.pass(Duration::from_secs(60 * u64::from(minutes)))
                        .await;
                }
            }
        }
        verify(store, &mut model, &user, step).await?;
    }
    Ok(())
}

fn fail(err: impl fmt::Display) -> TestCaseError {
    TestCaseError::fail(err.to_string())
}

async fn commit_one(
    store: &dyn UserSessionStore,
    model: &mut Model,
    mut request: InFlight,
    n: usize,
    action: Action,
    user: &str,
) -> Result<(), TestCaseError> {
    let key = format!("k{n}");
    let value = json!(n);
    match action {
        Action::Read => {}
        Action::Write => request.state.insert(key.clone(), n).map_err(fail)?,
        Action::RenewAndWrite => {
            request.state.renew();
            request.state.insert(key.clone(), n).map_err(fail)?;
        }
        Action::Purge => request.state.purge(),
        Action::SignIn => request.state.set_user(user),
    }
    let action_result = request
        .state
        .commit(store as &dyn SessionStore, &policy())
        .await
        .map_err(fail)?;
    let new_id = match &action_result {
        CookieAction::Set { id, .. } => Some(id.clone()),
        _ => None,
    };
    if let Some(at) = model.position(&request.origin) {
        let session = &mut model.live[at];
        match action {
            Action::Read => {}
            Action::Write => {
                session.data.insert(key, value);
            }
            Action::RenewAndWrite | Action::SignIn => {
                if action == Action::SignIn {
                    session.data.insert(USER_KEY.to_owned(), json!(user));
                } else {
                    session.data.insert(key, value);
                }
                let Some(id) = new_id else {
                    return Err(TestCaseError::fail(
                        "a renew of a live session set no cookie",
                    ));
                };
                let old = std::mem::replace(&mut session.id, id.clone());
                session.deadline = None;
                model.dead.push(old);
                model.cookie = id;
            }
            Action::Purge => {
                let ended = model.live.remove(at);
                model.dead.push(ended.id);
            }
        }
        return Ok(());
    }
    // The request's session is gone: any write starts a session of its own, carrying the user
    // only when the session was already gone at load (a new visitor's sign-in).
    let mut fresh = SessionData::new();
    match action {
        Action::Write | Action::RenewAndWrite => {
            fresh.insert(key, value);
        }
        Action::SignIn if !request.live_at_load => {
            fresh.insert(USER_KEY.to_owned(), json!(user));
        }
        _ => {}
    }
    match (fresh.is_empty(), new_id) {
        (true, None) => {}
        (false, Some(id)) => {
            model.cookie = id.clone();
            model.live.push(ModelSession {
                id,
                data: fresh,
                deadline: None,
            });
        }
        (empty, id) => {
            return Err(TestCaseError::fail(format!(
                "request {n} ({action:?}) on a vanished session: model expects {} session, store set {:?}",
                if empty { "no" } else { "a new" },
                id.is_some()
            )));
        }
    }
    Ok(())
}

async fn verify(
    store: &dyn UserSessionStore,
    model: &mut Model,
    user: &str,
    step: &Step,
) -> Result<(), TestCaseError> {
    for session in &mut model.live {
        let loaded = store.load(&session.id).await.map_err(fail)?;
        let Some(record) = loaded else {
            return Err(TestCaseError::fail(format!(
                "after {step:?}: a session the model holds is gone: {:?}",
                session.data
            )));
        };
        // The model does not keep the login time a sign-in records beside the user.
        let mut stored = record.data.clone();
        stored.remove(AUTH_KEY);
        check!(
            stored == session.data,
            "after {step:?}: stored {:?}, model {:?}",
            stored,
            session.data
        );
        if let Some(seen) = session.deadline {
            check!(
                record.expires_at >= seen,
                "after {step:?}: the deadline moved back"
            );
        }
        session.deadline = Some(record.expires_at);
    }
    for id in &model.dead {
        check!(
            store.load(id).await.map_err(fail)?.is_none(),
            "after {step:?}: an ended session is live again"
        );
    }
    let listed = store.sessions_of(user).await.map_err(fail)?.len();
    let bound = model
        .live
        .iter()
        .filter(|s| s.data.get(USER_KEY) == Some(&Value::String(user.to_owned())))
        .count();
    check!(
        listed == bound,
        "after {step:?}: {listed} sessions listed, model holds {bound}"
    );
    Ok(())
}
