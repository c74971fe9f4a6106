//! Session lifecycle events, for an application's audit log, alerts or counters of its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::{CommitPlan, Refusal, SessionHandle, Step};

/// What happened to a session. See [`SessionEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// A new session was stored (a visitor's first write, a write after a purge, or writes
    /// that found their session gone and started a new one).
    Created,
    /// A request loaded a live session (its first read).
    Loaded,
    /// A request's changes were written to its session.
    Updated,
    /// A session's idle deadline moved forward without other changes.
    Refreshed,
    /// A session moved to a new ID.
    Renewed,
    /// A session was bound to a user (a sign-in, or a sign-in again); it was renewed too.
    BoundToUser,
    /// A request purged its session.
    Purged,
    /// A sign-in past the cap of sessions per user ended `count` of the user's older sessions.
    Revoked {
        /// How many sessions it ended.
        count: usize,
    },
    /// The request's cookie brought no session, and why.
    Refused(Refusal),
    /// A write was refused: it would take the session past the store's size limit.
    TooLarge {
        /// The session's data size with the write, in JSON bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The store failed; the request was answered with the error response (`503` by default).
    StoreError {
        /// What the middleware asked of the store: `load`, `create`, `update`, `touch`, `renew`,
        /// `delete` or `revoke`.
        operation: &'static str,
    },
}

impl EventKind {
    /// A short name (`created`, `refused`, `store_error`, …), for logs and metric labels.
    ///
    /// ```
    /// assert_eq!(session_actix::EventKind::Created.name(), "created");
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Loaded => "loaded",
            Self::Updated => "updated",
            Self::Refreshed => "refreshed",
            Self::Renewed => "renewed",
            Self::BoundToUser => "bound_to_user",
            Self::Purged => "purged",
            Self::Revoked { .. } => "revoked",
            Self::Refused(_) => "refused",
            Self::TooLarge { .. } => "too_large",
            Self::StoreError { .. } => "store_error",
        }
    }
}

/// One event of a session's life, as a listener registered with
/// [`SessionMiddlewareBuilder::on_event`](crate::SessionMiddlewareBuilder::on_event) receives
/// it. It names the session by its handle (the hash under which the store keeps it), never by
/// its ID, so events can be logged as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionEvent {
    /// What happened.
    pub kind: EventKind,
    /// The session's handle, when it has one: a server store's session (after a renew, the new
    /// one's). `None` for a sealed cookie's session, and for a cookie that held no session ID.
    pub handle: Option<SessionHandle>,
    /// The user the session is bound to, where known.
    pub user: Option<String>,
    /// How long the store call behind the event took (a commit's one or two calls).
    pub store_call: Option<Duration>,
}

impl SessionEvent {
    pub(crate) fn new(kind: EventKind, handle: Option<SessionHandle>, user: Option<&str>) -> Self {
        Self {
            kind,
            handle,
            user: user.map(str::to_owned),
            store_call: None,
        }
    }

    pub(crate) fn took(mut self, store_call: Option<Duration>) -> Self {
        self.store_call = store_call;
        self
    }
}

/// `call`, a store call for `op` on `store`, traced and measured.
pub(crate) async fn store_call<T, E>(
    op: &'static str,
    store: &'static str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = crate::measure::ON.then(Instant::now);
    let result = crate::trace::in_span(op, store, call).await;
    if let Some(started) = started {
        crate::measure::store_call(op, store, result.is_ok(), started.elapsed());
    }
    result
}

/// A registered listener.
pub(crate) type Listener = Arc<dyn Fn(&SessionEvent) + Send + Sync>;

/// The store operation a commit of `step` makes (a purge alone: `delete`).
pub(crate) fn operation(step: &Step) -> &'static str {
    match step {
        Step::Create => "create",
        Step::Update | Step::UpdateKeeping { .. } => "update",
        Step::Touch => "touch",
        Step::Renew => "renew",
        _ => "delete",
    }
}

/// What a commit's events need of its plan, taken before the plan runs (only with a listener).
pub(crate) struct CommitFacts {
    step: Step,
    handle: Option<SessionHandle>,
    purged: Option<SessionHandle>,
    purges: bool,
    user: Option<String>,
    binds: bool,
    started: Instant,
}

/// How a commit ended, for its events.
pub(crate) enum Outcome {
    /// The cookie was set: to this server-store session (`None` for a sealed one).
    Set(Option<SessionHandle>),
    /// The cookie stays.
    Unchanged,
    /// The cookie is removed.
    Removed,
    /// The store failed.
    Failed,
}

impl CommitFacts {
    pub(crate) fn of(plan: &CommitPlan) -> Self {
        Self {
            step: plan.step().clone(),
            handle: plan.handle(),
            purged: plan.purged_handle(),
            purges: plan.purges(),
            user: plan.user().map(str::to_owned),
            binds: plan.binds_user(),
            started: Instant::now(),
        }
    }

    /// The commit's events, in order: a purge, then what the step did. `store_call` says
    /// whether the commit went to a store (so its duration is reported).
    pub(crate) fn events(self, outcome: &Outcome, store_call: bool) -> Vec<SessionEvent> {
        let took = store_call.then(|| self.started.elapsed());
        let user = self.user.as_deref();
        let mut events = Vec::new();
        if let Outcome::Failed = outcome {
            let operation = operation(&self.step);
            let event = SessionEvent::new(EventKind::StoreError { operation }, self.handle, user);
            return vec![event.took(took)];
        }
        if self.purges {
            events.push(SessionEvent::new(EventKind::Purged, self.purged, None));
        }
        if let Outcome::Set(set) = outcome {
            let moved = set.is_some() && *set != self.handle;
            let kind = match self.step {
                Step::Create => Some(EventKind::Created),
                Step::Renew => Some(EventKind::Renewed),
                // A write that found its session gone started a new one.
                Step::Update | Step::UpdateKeeping { .. } if moved => Some(EventKind::Created),
                Step::Update | Step::UpdateKeeping { .. } => Some(EventKind::Updated),
                Step::Touch => Some(EventKind::Refreshed),
                _ => None,
            };
            let handle = set.or(self.handle);
            events.extend(kind.map(|kind| SessionEvent::new(kind, handle, user)));
            if self.binds && matches!(self.step, Step::Renew | Step::Create) {
                events.push(SessionEvent::new(EventKind::BoundToUser, handle, user));
            }
        } else if let (Outcome::Unchanged, Step::UpdateKeeping { .. }) = (outcome, &self.step) {
            events.push(SessionEvent::new(EventKind::Updated, self.handle, user));
        }
        events.into_iter().map(|event| event.took(took)).collect()
    }
}
