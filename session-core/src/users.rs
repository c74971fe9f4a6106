//! Sessions bound to a user: list them, revoke one or all ("sign out everywhere").
//!
//! A session is bound to a user by [`SessionState::set_user`](crate::SessionState::set_user),
//! which stores the user's ID under a reserved key (and renews the session ID, since the
//! privilege changed). Stores that can find a user's sessions implement [`UserSessionStore`];
//! stores that cannot (a stateless cookie store) simply do not, so calling these methods on
//! them is a compile error.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde_json::Value;

use crate::{
    DeltaLookup, SessionDelta, SessionError, SessionId, SessionRecord, SessionStore, StorageKey,
    StoreError, Timestamp,
};

/// The prefix of keys the library keeps in every session for itself.
pub const RESERVED_PREFIX: &str = "__session:";
/// The reserved key holding the ID of the user the session is bound to.
pub const USER_KEY: &str = "__session:user";
/// The reserved key holding when the user last authenticated (Unix milliseconds): set by
/// [`SessionState::set_user`](crate::SessionState::set_user).
pub const AUTH_KEY: &str = "__session:auth";
/// The reserved key holding what the app chose to record about the client (user agent, IP).
pub const CLIENT_KEY: &str = "__session:client";

/// Whether `key` is one the library keeps for itself (user binding, client info, flash
/// values), which a handler cannot set or read directly.
#[must_use]
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX) || key.starts_with(crate::flash::FLASH_PREFIX)
}

impl SessionRecord {
    /// The user the session is bound to, if any.
    ///
    /// ```
    /// use session_core::users::USER_KEY;
    /// use session_core::{SessionData, SessionRecord, Timestamp};
    /// let mut data = SessionData::new();
    /// data.insert(USER_KEY.into(), "ada".into());
    /// let at = Timestamp::from_unix_millis(0);
    /// assert_eq!(SessionRecord::new(data, at, at, at).user(), Some("ada"));
    /// ```
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        self.data.get(USER_KEY).and_then(Value::as_str)
    }

    /// When the user last authenticated on this session (bound it with
    /// [`SessionState::set_user`](crate::SessionState::set_user)), if it is bound.
    ///
    /// ```
    /// use session_core::users::{AUTH_KEY, USER_KEY};
    /// use session_core::{SessionData, SessionRecord, Timestamp};
    /// let mut data = SessionData::new();
    /// data.insert(USER_KEY.into(), "ada".into());
    /// data.insert(AUTH_KEY.into(), 1_000.into());
    /// let at = Timestamp::from_unix_millis(0);
    /// let record = SessionRecord::new(data, at, at, at);
    /// assert_eq!(record.authenticated_at(), Some(Timestamp::from_unix_millis(1_000)));
    /// ```
    #[must_use]
    pub fn authenticated_at(&self) -> Option<Timestamp> {
        self.user()?;
        authenticated_at(self.data.get(AUTH_KEY))
    }

    /// What the app recorded about the client (see `SessionState::set_client_info`).
    #[must_use]
    pub fn client(&self) -> Option<&Value> {
        self.data.get(CLIENT_KEY)
    }
}

/// The authentication time a stored [`AUTH_KEY`] value holds.
pub(crate) fn authenticated_at(value: Option<&Value>) -> Option<Timestamp> {
    value?.as_u64().map(Timestamp::from_unix_millis)
}

impl SessionDelta {
    /// Whether applying the delta may change the session's user binding (it sets, removes or
    /// clears the user key), so a store that indexes sessions by user must look again.
    ///
    /// ```
    /// use session_core::SessionDelta;
    /// let mut delta = SessionDelta::default();
    /// delta.insert("cart", 1.into());
    /// assert!(!delta.may_rebind());
    /// delta.clear();
    /// assert!(delta.may_rebind());
    /// ```
    #[must_use]
    pub fn may_rebind(&self) -> bool {
        !matches!(self.lookup(USER_KEY), DeltaLookup::Untouched)
    }
}

/// An opaque, stable reference to one stored session, for listing and revoking it.
///
/// It is the hash under which the store keeps the session, so it cannot be turned back into a
/// session ID and is useless as a cookie. Its text form is 64 hex digits.
///
/// ```
/// use session_core::{SessionHandle, SessionId};
/// let handle = SessionHandle::of(&SessionId::generate());
/// let text = handle.to_string();
/// assert_eq!(text.parse::<SessionHandle>().unwrap(), handle);
/// assert!("not-a-handle".parse::<SessionHandle>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHandle(StorageKey);

/// The error for text that is not a session handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a session handle is 64 hexadecimal digits")]
pub struct InvalidSessionHandle;

impl SessionHandle {
    /// The handle of the session with ID `id`.
    #[must_use]
    pub fn of(id: &SessionId) -> Self {
        Self(id.storage_key())
    }

    /// The handle of the session stored under `key`.
    #[must_use]
    pub fn from_storage_key(key: StorageKey) -> Self {
        Self(key)
    }

    /// The storage key this handle stands for.
    #[must_use]
    pub fn storage_key(&self) -> &StorageKey {
        &self.0
    }
}

impl fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionHandle({})", &self.0.to_hex()[..12])
    }
}

impl FromStr for SessionHandle {
    type Err = InvalidSessionHandle;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        StorageKey::from_hex(text)
            .map(Self)
            .ok_or(InvalidSessionHandle)
    }
}

/// One live session of a user, as [`UserSessionStore::sessions_of`] lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ActiveSession {
    /// The handle to revoke it with.
    pub handle: SessionHandle,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When the session was last written or refreshed.
    pub last_seen: Timestamp,
    /// When the session expires unless used again.
    pub expires_at: Timestamp,
    /// What the app recorded about the client, if anything.
    pub client: Option<Value>,
}

impl ActiveSession {
    /// An entry with these fields.
    #[must_use]
    pub fn new(
        handle: SessionHandle,
        created_at: Timestamp,
        last_seen: Timestamp,
        expires_at: Timestamp,
        client: Option<Value>,
    ) -> Self {
        Self {
            handle,
            created_at,
            last_seen,
            expires_at,
            client,
        }
    }
}

/// A store that can list and revoke the sessions bound to a user, from outside any request
/// (an admin job, a password-change handler).
///
/// **Revocation wins** over requests in flight: after [`revoke_all`](Self::revoke_all)
/// returns, no session the user held before it started is live, under its old ID or a new one.
/// A renew of such a session (or a sign-in again on it, which renews) that overlaps the
/// revocation leaves no live session (see [`SessionStore::renew`]), and a write that lands after
/// it finds the session gone and starts a new one without the user binding. A sign-in from a
/// session that was not the user's is a new authentication: if it completes while
/// `revoke_all` runs, it may survive it; revoke again once a password change has committed. The default methods list, then revoke one by one, which
/// a concurrent renew can slip between; the workspace's stores override them.
#[async_trait]
pub trait UserSessionStore: SessionStore {
    /// The user's live sessions, oldest first.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError>;

    /// Ends one session. Returns whether it existed.
    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError>;

    /// Ends every session of the user and returns how many there were.
    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for session in self.sessions_of(user_id).await? {
            revoked += usize::from(self.revoke(&session.handle).await?);
        }
        Ok(revoked)
    }

    /// Ends every session of the user but `keep` (usually the current one), and returns how
    /// many it ended.
    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for session in self.sessions_of(user_id).await? {
            if &session.handle != keep {
                revoked += usize::from(self.revoke(&session.handle).await?);
            }
        }
        Ok(revoked)
    }
}

/// How many live sessions one user may hold, and what a sign-in past that does: end the user's
/// oldest sessions to make room (OWASP ASVS 5.0 7.1.2 asks for a documented limit), or refuse
/// the new one.
///
/// [`make_room`](Self::make_room) enforces it when a session is bound to a user: it lists the
/// user's other live sessions and revokes the oldest (by creation) until the new one fits, or
/// refuses. Listing and revoking are separate store calls, so sign-ins that run at the same
/// time can each find room for themselves: `k` concurrent sign-ins of one user leave at most
/// `limit - 1 + k` sessions (two: one over the limit), and the next sign-in brings the count
/// back to the limit.
///
/// ```
/// use session_core::SessionLimit;
/// let limit = SessionLimit::revoke_oldest(3);
/// assert_eq!((limit.max(), limit.refuses()), (3, false));
/// assert!(SessionLimit::refuse_new(3).refuses());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimit {
    max: usize,
    refuse: bool,
}

impl SessionLimit {
    /// At most `max` sessions per user; a sign-in past it ends the user's oldest sessions.
    #[must_use]
    pub const fn revoke_oldest(max: usize) -> Self {
        Self { max, refuse: false }
    }

    /// At most `max` sessions per user; a sign-in past it is refused with
    /// [`SessionError::TooManySessions`], and the user's sessions stay as they are.
    #[must_use]
    pub const fn refuse_new(max: usize) -> Self {
        Self { max, refuse: true }
    }

    /// The most sessions a user may hold.
    #[must_use]
    pub const fn max(&self) -> usize {
        self.max
    }

    /// Whether a sign-in past the limit is refused (rather than ending the oldest sessions).
    #[must_use]
    pub const fn refuses(&self) -> bool {
        self.refuse
    }

    /// Makes room for one more session of `user_id` in `store`: lists the user's live sessions
    /// other than `current` (the session being bound, when it already exists) and, if `max` or
    /// more remain, revokes the oldest until `max - 1` are left, or refuses. Returns the
    /// sessions it revoked.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # use session_core::*;
    /// # use session_core::users::USER_KEY;
    /// # struct One(SessionHandle);
    /// # #[async_trait::async_trait]
    /// # impl SessionStore for One {
    /// #     async fn load(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> { Ok(None) }
    /// #     async fn create(&self, _: &SessionId, _: &SessionRecord) -> Result<bool, StoreError> { Ok(true) }
    /// #     async fn update(&self, _: &SessionId, _: &SessionDelta, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
    /// #     async fn touch(&self, _: &SessionId, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
    /// #     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
    /// # }
    /// # #[async_trait::async_trait]
    /// # impl UserSessionStore for One {
    /// #     async fn sessions_of(&self, _: &str) -> Result<Vec<ActiveSession>, StoreError> {
    /// #         let t = Timestamp::from_unix_millis(0);
    /// #         Ok(vec![ActiveSession::new(self.0, t, t, t, None)])
    /// #     }
    /// #     async fn revoke(&self, _: &SessionHandle) -> Result<bool, StoreError> { Ok(true) }
    /// # }
    /// // A store where the user holds one session already.
    /// let store = One(SessionHandle::of(&SessionId::generate()));
    /// let revoked = SessionLimit::revoke_oldest(1).make_room(&store, "ada", None).await?;
    /// assert_eq!(revoked.len(), 1);
    /// let refused = SessionLimit::refuse_new(1).make_room(&store, "ada", None).await;
    /// assert!(matches!(refused, Err(SessionError::TooManySessions { limit: 1 })));
    /// # Ok::<(), SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn make_room<S: UserSessionStore + ?Sized>(
        &self,
        store: &S,
        user_id: &str,
        current: Option<&SessionHandle>,
    ) -> Result<Vec<ActiveSession>, SessionError> {
        let mut others: Vec<ActiveSession> = store
            .sessions_of(user_id)
            .await?
            .into_iter()
            .filter(|session| Some(&session.handle) != current)
            .collect();
        let excess = (others.len() + 1).saturating_sub(self.max);
        if excess == 0 {
            return Ok(Vec::new());
        }
        if self.refuse {
            return Err(SessionError::TooManySessions { limit: self.max });
        }
        others.sort_by_key(|session| session.created_at);
        others.truncate(excess);
        for session in &others {
            store.revoke(&session.handle).await?;
        }
        Ok(others)
    }
}
