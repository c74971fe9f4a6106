//! Commit logic: what a request's session needs persisted, decided without touching any store.
//!
//! [`SessionState::into_plan`] turns a request's state into a [`CommitPlan`] as a pure function.
//! A server backend then [`run`](CommitPlan::run)s the plan against a
//! [`SessionStore`](crate::SessionStore); a sealed backend [`apply`](CommitPlan::apply)s it to
//! the session it opened from the cookie and seals the result.

use std::sync::Arc;
use std::sync::OnceLock;

use crate::clock::SharedClock;

use crate::lifetime::LIFETIME_KEY;
use crate::state::{Loaded, Origin};
use crate::users::{AUTH_KEY, USER_KEY};
use crate::{
    DeltaLookup, ExpiryPolicy, Lookup, Renewal, SessionData, SessionDelta, SessionExpiry,
    SessionHandle, SessionId, SessionRecord, SessionState, Timestamp,
};

/// What a commit does, as decided from the request's state alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Nothing to write, no refresh due: the cookie stays as it is.
    Nothing,
    /// Nothing to write, and the session the cookie named is gone (purged, expired, revoked,
    /// or never valid): the cookie is removed.
    Remove,
    /// A new session holding the request's changes: a visitor's first write, or writes after
    /// a purge or to a session that was gone when loaded.
    Create,
    /// Write the changes to the session, keeping the idle deadline the request loaded (`loaded`),
    /// since its refresh is not due: the cookie need not be sent again.
    UpdateKeeping {
        /// The idle deadline the request loaded.
        loaded: Timestamp,
    },
    /// Write the changes and move the idle deadline (the refresh is due, or the request never
    /// loaded the session and cannot know its deadline).
    Update,
    /// Move the idle deadline of a session the request read but did not change.
    Touch,
    /// Move the session, with the request's changes, to a fresh ID.
    Renew,
}

/// A request's commit, decided: the [`Step`] and what it needs. Built by
/// [`SessionState::into_plan`].
///
/// If the session ends while the request runs (purged, revoked or expired after the load), a
/// write finds it gone and the request's changes start a new session, but never with the user
/// binding, so a revocation is not undone by a sign-in in flight. A session already gone at
/// load is a new visitor's, whose sign-in stands.
#[derive(Debug)]
#[must_use]
pub struct CommitPlan {
    pub(crate) step: Step,
    pub(crate) delta: SessionDelta,
    /// The stored session the step acts on.
    pub(crate) id: Option<SessionId>,
    /// A stored session purged by the request, deleted before the step.
    pub(crate) purged: Option<SessionId>,
    /// Whether the request purged the session its cookie named (stored or sealed).
    pub(crate) purges: bool,
    /// Whether a renew restarts both deadlines.
    pub(crate) restart: bool,
    /// Whether the session's own lifetime makes the cookie outlive the browser; `None` when
    /// the session has no lifetime of its own.
    pub(crate) persistent: Option<bool>,
    /// The live session as the request loaded it.
    pub(crate) loaded: Option<Arc<SessionRecord>>,
    /// Read once, when a step first needs the time: a plan that writes nothing reads no clock.
    pub(crate) now: OnceLock<Timestamp>,
    pub(crate) clock: SharedClock,
    /// The session's expiry policy: the middleware's, or its own lifetime's.
    pub(crate) policy: ExpiryPolicy,
}

impl SessionState {
    /// Decides what the commit does, from what was loaded and what changed:
    ///
    /// - nothing written and no refresh due: [`Step::Nothing`] (or [`Step::Remove`] when the
    ///   session is gone or purged);
    /// - writes by a visitor without a live session: [`Step::Create`];
    /// - writes to a session: [`Step::UpdateKeeping`] when the request loaded it and its refresh
    ///   is not due, [`Step::Update`] otherwise;
    /// - a renew (or [`set_user`](Self::set_user)): [`Step::Renew`];
    /// - a read past the refresh threshold: [`Step::Touch`].
    ///
    /// Whether a refresh is due is decided as of the load: one that falls due while the request
    /// runs is the next request's.
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SessionId, SessionState, Step};
    /// let policy = ExpiryPolicy::default();
    /// assert_eq!(SessionState::new(None).into_plan(&policy).step(), &Step::Nothing);
    ///
    /// let mut state = SessionState::new(Some(SessionId::generate()));
    /// state.insert("cart", 3)?;
    /// assert_eq!(state.into_plan(&policy).step(), &Step::Update);
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    pub fn into_plan(self, policy: &ExpiryPolicy) -> CommitPlan {
        let lifetime = match self.lifetime() {
            Lookup::Ready(lifetime) => lifetime,
            Lookup::NeedsLoad => None,
        };
        let policy = &lifetime.map_or(*policy, |lifetime| lifetime.policy(policy));
        let writes = !self.delta.set_entries().is_empty();
        let (step, loaded) = match (&self.origin, self.loaded) {
            (None, _) if writes => (Step::Create, None),
            (None, _) if self.purged.is_some() => (Step::Remove, None),
            (None, _) => (Step::Nothing, None),
            (Some(_), Loaded::Gone) => (if writes { Step::Create } else { Step::Remove }, None),
            (Some(_), loaded) => {
                let live = match loaded {
                    Loaded::Live(record) => Some(record),
                    _ => None,
                };
                let due = live.as_ref().is_some_and(|r| {
                    policy.needs_refresh(r.expires_at, r.absolute_expires_at, self.loaded_at)
                });
                let step = match &live {
                    _ if self.renew => Step::Renew,
                    Some(r) if !self.delta.is_empty() && !due => Step::UpdateKeeping {
                        loaded: r.expires_at,
                    },
                    _ if !self.delta.is_empty() => Step::Update,
                    _ if due => Step::Touch,
                    _ => Step::Nothing,
                };
                (step, live)
            }
        };
        let stored_id = |origin: Option<Origin>| match origin {
            Some(Origin::Stored(id)) => Some(id),
            _ => None,
        };
        CommitPlan {
            step,
            delta: self.delta,
            id: stored_id(self.origin),
            purges: self.purged.is_some(),
            restart: self.restart,
            persistent: lifetime.map(|lifetime| lifetime.is_persistent()),
            purged: stored_id(self.purged),
            loaded,
            now: OnceLock::new(),
            clock: self.clock,
            policy: *policy,
        }
    }
}

/// What a sealed backend sends after [`CommitPlan::apply`].
#[derive(Debug, Clone, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum SealedWrite {
    /// Nothing: the cookie stays as it is.
    Unchanged,
    /// Seal this session into the cookie.
    Set(SessionRecord),
    /// Remove the cookie.
    Remove,
}

impl CommitPlan {
    /// The step.
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SessionState, Step};
    /// let plan = SessionState::new(None).into_plan(&ExpiryPolicy::default());
    /// assert_eq!(plan.step(), &Step::Nothing);
    /// ```
    #[must_use]
    pub fn step(&self) -> &Step {
        &self.step
    }

    /// Whether running the plan needs a store call (anything but [`Step::Nothing`] and
    /// [`Step::Remove`], or a purge to carry out).
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SessionState};
    /// let mut state = SessionState::new(None);
    /// assert!(!SessionState::new(None).into_plan(&ExpiryPolicy::default()).needs_store());
    /// state.insert("k", 1)?;
    /// assert!(state.into_plan(&ExpiryPolicy::default()).needs_store());
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    #[must_use]
    pub fn needs_store(&self) -> bool {
        self.purged.is_some() || !matches!(self.step, Step::Nothing | Step::Remove)
    }

    /// Whether the request purged the session its cookie named.
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SessionId, SessionState};
    /// let mut state = SessionState::new(Some(SessionId::generate()));
    /// state.purge();
    /// assert!(state.into_plan(&ExpiryPolicy::default()).purges());
    /// ```
    #[must_use]
    pub fn purges(&self) -> bool {
        self.purges
    }

    /// The handle of the stored session the plan acts on (the one the cookie named), if any.
    #[must_use]
    pub fn handle(&self) -> Option<SessionHandle> {
        self.id.as_ref().map(SessionHandle::of)
    }

    /// The handle of the stored session the request purged, if any.
    #[must_use]
    pub fn purged_handle(&self) -> Option<SessionHandle> {
        self.purged.as_ref().map(SessionHandle::of)
    }

    /// The user the session is bound to after the commit: the one the request bound, or the
    /// one it loaded.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        match self.delta.lookup(USER_KEY) {
            DeltaLookup::Set(user) => user.as_str(),
            DeltaLookup::Removed => None,
            DeltaLookup::Untouched => self.loaded.as_deref().and_then(SessionRecord::user),
        }
    }

    /// Whether the request bound the session to a user (a sign-in).
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SessionState};
    /// let mut state = SessionState::new(None);
    /// state.set_user("ada");
    /// let plan = state.into_plan(&ExpiryPolicy::default());
    /// assert!(plan.binds_user());
    /// assert_eq!(plan.user(), Some("ada"));
    /// ```
    #[must_use]
    pub fn binds_user(&self) -> bool {
        matches!(self.delta.lookup(USER_KEY), DeltaLookup::Set(_))
    }

    /// Whether the session's cookie outlives the browser (has a `Max-Age`): as the session's
    /// own [lifetime](crate::SessionLifetime) says (`false` for a browser session), and
    /// `default` for a session without one. Decided by what the request loaded or set: a write
    /// to a session it did not load has no lifetime of its own.
    #[must_use]
    pub fn is_persistent(&self, default: bool) -> bool {
        self.persistent.unwrap_or(default)
    }

    /// How a renew moves the deadlines: both restart after a sign-in or a new lifetime.
    pub(crate) fn renewal(&self) -> Renewal {
        if self.restart {
            let now = self.now();
            let absolute = self.policy.absolute_deadline(now);
            Renewal::Restart(SessionExpiry::new(self.idle_deadline(), absolute))
        } else {
            Renewal::Extend(self.idle_deadline())
        }
    }

    /// The time the plan runs at.
    pub(crate) fn now(&self) -> Timestamp {
        *self.now.get_or_init(|| self.clock.now())
    }

    /// The idle deadline a refreshing write gives the session.
    pub(crate) fn idle_deadline(&self) -> Timestamp {
        self.policy.idle_deadline(self.now())
    }

    /// What a write that finds its session gone (purged, revoked or expired while the request
    /// ran) leaves instead: a new session holding only the request's changes, without the user
    /// binding, so a revocation is never undone by a request in flight; `None` when that leaves
    /// no data (the cookie is removed).
    pub(crate) fn after_gone(&self) -> Option<SessionRecord> {
        self.fresh(false)
    }

    /// A new session holding only the request's changes, without the user binding unless
    /// `keep_user`; `None` when that leaves no data.
    pub(crate) fn fresh(&self, keep_user: bool) -> Option<SessionRecord> {
        let mut data = SessionData::new();
        self.delta.apply_to(&mut data);
        if !keep_user {
            data.remove(USER_KEY);
            data.remove(AUTH_KEY);
            data.remove(LIFETIME_KEY);
        }
        (!data.is_empty()).then(|| {
            let (idle, absolute) = (
                self.idle_deadline(),
                self.policy.absolute_deadline(self.now()),
            );
            SessionRecord::new(data, self.now(), idle, absolute)
        })
    }

    /// Carries the plan out on a session kept in the cookie: `open` opens the incoming cookie
    /// when the step needs the session and the request had not loaded it, and `reseal` asks for
    /// the incoming session to be sealed again even when nothing changed (it was sealed with a
    /// previous key). Sealed sessions have no ID, so a renew rewrites the session as an update
    /// does (sealing it again changes every byte of the cookie).
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, SealedWrite, SessionState, clock};
    /// let mut state = SessionState::sealed(false, clock::system());
    /// state.insert("theme", "dark")?;
    /// let plan = state.into_plan(&ExpiryPolicy::default());
    /// let SealedWrite::Set(record) = plan.apply(|| None, false) else {
    ///     panic!("a write seals a session");
    /// };
    /// assert_eq!(record.data["theme"], "dark");
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    pub fn apply(self, open: impl FnOnce() -> Option<SessionRecord>, reseal: bool) -> SealedWrite {
        let live = |record: &SessionRecord| !record.is_expired(self.now());
        let base = match self.step {
            Step::Nothing if !reseal => return SealedWrite::Unchanged,
            Step::Remove => return SealedWrite::Remove,
            Step::Create => {
                return self
                    .fresh(true)
                    .map_or(SealedWrite::Remove, SealedWrite::Set);
            }
            _ => match self.loaded.as_deref().filter(|r| live(r)) {
                Some(record) => Some(record.clone()),
                None => open().filter(live),
            },
        };
        let Some(mut record) = base else {
            return self
                .after_gone()
                .map_or(SealedWrite::Remove, SealedWrite::Set);
        };
        match self.step {
            Step::Nothing => {}
            Step::UpdateKeeping { .. } => self.delta.apply_to(&mut record.data),
            Step::Touch => {
                record.extend_to(self.idle_deadline());
            }
            _ => {
                record.apply_renewal(&self.delta, self.renewal());
            }
        }
        SealedWrite::Set(record)
    }
}
