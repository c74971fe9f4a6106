//! Session lifecycle events, for an application's audit log, alerts or counters of its own.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::time::Instant;
use session_core::{CommitPlan, Refusal, SessionHandle, Step, StoreError};

use crate::config::SessionConfig;

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
    /// Sessions were revoked: `count` of a user's older sessions by a sign-in past the cap of
    /// sessions per user, or by the application through
    /// [`Session::revoke_other_sessions`](crate::Session::revoke_other_sessions),
    /// [`revoke_user_sessions`](crate::Session::revoke_user_sessions) or
    /// [`revoke_session`](crate::Session::revoke_session). A revocation that ended nothing is
    /// no event.
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

    /// One event of every kind (their fields are placeholders), at their [`ordinal`](Self::ordinal)s.
    #[cfg(feature = "metrics")]
    pub(crate) const EVERY: [Self; 11] = [
        Self::Created,
        Self::Loaded,
        Self::Updated,
        Self::Refreshed,
        Self::Renewed,
        Self::BoundToUser,
        Self::Purged,
        Self::Revoked { count: 0 },
        Self::Refused(Refusal::Unknown),
        Self::TooLarge { size: 0, limit: 0 },
        Self::StoreError { operation: "" },
    ];

    /// The kind's place in [`EVERY`](Self::EVERY).
    #[cfg(feature = "metrics")]
    pub(crate) fn ordinal(&self) -> usize {
        match self {
            Self::Created => 0,
            Self::Loaded => 1,
            Self::Updated => 2,
            Self::Refreshed => 3,
            Self::Renewed => 4,
            Self::BoundToUser => 5,
            Self::Purged => 6,
            Self::Revoked { .. } => 7,
            Self::Refused(_) => 8,
            Self::TooLarge { .. } => 9,
            Self::StoreError { .. } => 10,
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
    /// For [`EventKind::Revoked`]: the session that ended, from
    /// [`Session::revoke_session`](crate::Session::revoke_session); the session that ended the
    /// user's others (and stays), from the cap and
    /// [`revoke_other_sessions`](crate::Session::revoke_other_sessions); `None` from
    /// [`revoke_user_sessions`](crate::Session::revoke_user_sessions), whose `user` is the user
    /// whose sessions ended.
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

/// Awaits `$call`, a store call for `$op` by the middleware of `$config`, traced, measured and
/// bounded by the request's store deadline `$deadline` (see [`by`]): its result, and how long
/// it took when metrics or events want to know (timed once for both).
/// A macro, not an `async fn`: a wrapper future copied the commit's whole future into itself,
/// 2% of a new memory-store session's instructions (callgrind, 39.6k).
macro_rules! store_call {
    ($config:expr, $deadline:expr, $op:expr, $call:expr) => {{
        let config: &crate::config::SessionConfig = $config;
        let started = (config.meters.recording() || config.listens()).then(std::time::Instant::now);
        let call = $call;
        // The traced call is boxed: held in place, the span's state made every caller's future
        // larger, traced or not (`Session::get`'s: 728 bytes with the `tracing` feature, 392
        // boxed), and the handler's boxed future with it, which took the allocator 1,400 more
        // instructions per request on the cookie store's new session (callgrind).
        let result = match $deadline {
            Some(deadline) if crate::trace::wanted() => {
                let traced = Box::pin(crate::trace::in_span($op, config.meters.store(), call));
                crate::events::by(deadline, traced).await
            }
            Some(deadline) => crate::events::by(deadline, call).await,
            None if crate::trace::wanted() => {
                Box::pin(crate::trace::in_span($op, config.meters.store(), call)).await
            }
            None => call.await,
        };
        let took = started.map(|started| started.elapsed());
        if let Some(took) = took {
            config.meters.store_call($op, result.is_ok(), took);
        }
        (result, took)
    }};
}
pub(crate) use store_call;

/// `call`, failed as the store being unavailable ([`DeadlineExceeded`]) if it still runs at
/// `deadline` (on the runtime's clock, which tests can pause and advance).
pub(crate) async fn by<T, E: From<StoreError>>(
    deadline: Instant,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let left = deadline.saturating_duration_since(Instant::now());
    actix_web::rt::time::timeout(left, call)
        .await
        .unwrap_or_else(|_| Err(StoreError::unavailable(DeadlineExceeded).into()))
}

/// The error of a store call cut short by the request's
/// [`store_deadline`](crate::SessionMiddlewareBuilder::store_deadline).
#[derive(Debug, thiserror::Error)]
#[error("the request's store deadline passed")]
pub(crate) struct DeadlineExceeded;

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

/// What a commit's events need of its plan, taken before the plan runs: cheap (no allocation)
/// unless `with_user`.
pub(crate) struct CommitFacts {
    step: Step,
    handle: Option<SessionHandle>,
    purged: Option<SessionHandle>,
    purges: bool,
    user: Option<String>,
    binds: bool,
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
    /// The facts of `plan`, with its user when events will be built (`with_user`).
    pub(crate) fn of(plan: &CommitPlan, with_user: bool) -> Self {
        Self {
            step: plan.step().clone(),
            handle: plan.handle(),
            purged: plan.purged_handle(),
            purges: plan.purges(),
            user: if with_user {
                plan.user().map(str::to_owned)
            } else {
                None
            },
            binds: plan.binds_user(),
        }
    }

    /// Emits the commit's events, in order: a purge, then what the step did; `took` is how long
    /// the commit's store call took, if it made one.
    pub(crate) fn emit(self, config: &SessionConfig, outcome: &Outcome, took: Option<Duration>) {
        let user = self.user.as_deref();
        let emit = |kind: EventKind, handle: Option<SessionHandle>, user: Option<&str>| {
            config.emit(kind, |kind| {
                SessionEvent::new(kind, handle, user).took(took)
            });
        };
        if let Outcome::Failed = outcome {
            let operation = operation(&self.step);
            emit(EventKind::StoreError { operation }, self.handle, user);
            return;
        }
        if self.purges {
            emit(EventKind::Purged, self.purged, None);
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
            if let Some(kind) = kind {
                emit(kind, handle, user);
            }
            if self.binds && matches!(self.step, Step::Renew | Step::Create) {
                emit(EventKind::BoundToUser, handle, user);
            }
        } else if let (Outcome::Unchanged, Step::UpdateKeeping { .. }) = (outcome, &self.step) {
            emit(EventKind::Updated, self.handle, user);
        }
    }
}
