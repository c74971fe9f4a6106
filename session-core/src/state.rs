//! One request's view of a session: what was loaded and what changed.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::clock::SharedClock;
use crate::flash::flash_key;
use crate::lifetime::{LIFETIME_KEY, SessionLifetime};
use crate::users::{AUTH_KEY, CLIENT_KEY, USER_KEY, authenticated_at, is_reserved};
use crate::{
    DeltaLookup, SessionDelta, SessionError, SessionExpiry, SessionHandle, SessionId,
    SessionRecord, Timestamp,
};

/// The result of a read that may need the stored record first.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Lookup<T> {
    /// The answer, without (further) store access.
    Ready(T),
    /// The stored record must be loaded first: call [`SessionState::set_loaded`], then ask again.
    NeedsLoad,
}

/// What the request's cookie named.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A session kept by a server store, under this ID.
    Stored(SessionId),
    /// A session sealed in the cookie itself.
    Sealed,
}

/// What the request knows of the session its cookie named.
#[derive(Debug, Clone)]
pub(crate) enum Loaded {
    /// Nothing loaded yet.
    Not,
    /// Loaded: no live session.
    Gone,
    /// Loaded: this live session.
    Live(Arc<SessionRecord>),
}

/// One request's view of a session, with change tracking.
///
/// It starts from what the client's cookie named (a stored session's validated ID, a sealed
/// session, or nothing), loads nothing until a read needs it, and records writes as a
/// [`SessionDelta`]. At the end, [`into_plan`](SessionState::into_plan) says what to persist
/// (a [`CommitPlan`](crate::CommitPlan)). It is framework-free: the actix-web integration wraps
/// it, and so could any other.
///
/// ```
/// use session_core::{ExpiryPolicy, Lookup, SessionState, Step};
///
/// // A new visitor (no cookie) writes a value: nothing to load, one create at commit.
/// let mut state = SessionState::new(None);
/// state.insert("visits", 1)?;
/// assert_eq!(state.get::<u32>("visits")?, Lookup::Ready(Some(1)));
/// let plan = state.into_plan(&ExpiryPolicy::default());
/// assert_eq!(plan.step(), &Step::Create);
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Debug)]
pub struct SessionState {
    pub(crate) origin: Option<Origin>,
    pub(crate) loaded: Loaded,
    /// When `loaded` was set: the request's one reading of the clock for its loaded session.
    pub(crate) loaded_at: Timestamp,
    pub(crate) delta: SessionDelta,
    pub(crate) renew: bool,
    /// Whether the renew restarts both deadlines (the user authenticated, or the lifetime
    /// changed).
    pub(crate) restart: bool,
    /// What the cookie named before a purge.
    pub(crate) purged: Option<Origin>,
    pub(crate) clock: SharedClock,
}

impl SessionState {
    /// A state for a request that carried `origin` as its (validated) session ID, or none.
    #[must_use]
    pub fn new(origin: Option<SessionId>) -> Self {
        Self::with_clock(origin, crate::clock::system())
    }

    /// [`new`](Self::new), reading time from `clock` (a [`TestClock`](crate::clock::TestClock)
    /// in tests) instead of the system clock.
    ///
    /// ```
    /// use session_core::SessionState;
    /// use session_core::clock::TestClock;
    /// let state = SessionState::with_clock(None, TestClock::starting_now().shared());
    /// assert!(state.is_loaded());
    /// ```
    #[must_use]
    pub fn with_clock(origin: Option<SessionId>, clock: SharedClock) -> Self {
        Self::starting(origin.map(Origin::Stored), clock)
    }

    /// A state for a sealed session: `carried` says whether the request carried a sealed
    /// cookie, which the first read then opens (see [`set_loaded`](Self::set_loaded)).
    ///
    /// ```
    /// use session_core::{SessionState, clock};
    /// assert!(!SessionState::sealed(true, clock::system()).is_loaded());
    /// ```
    #[must_use]
    pub fn sealed(carried: bool, clock: SharedClock) -> Self {
        Self::starting(carried.then_some(Origin::Sealed), clock)
    }

    fn starting(origin: Option<Origin>, clock: SharedClock) -> Self {
        Self {
            origin,
            loaded: Loaded::Not,
            loaded_at: Timestamp::from_unix_millis(0),
            delta: SessionDelta::default(),
            renew: false,
            restart: false,
            purged: None,
            clock,
        }
    }

    /// The ID of the stored session this state reads from, if any. After a purge there is none.
    #[must_use]
    pub fn origin(&self) -> Option<&SessionId> {
        match &self.origin {
            Some(Origin::Stored(id)) => Some(id),
            _ => None,
        }
    }

    /// Whether the request's cookie named a session (stored or sealed) that this state still
    /// reads from.
    #[must_use]
    pub fn has_origin(&self) -> bool {
        self.origin.is_some()
    }

    /// Whether the session has been loaded (or is known not to exist).
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.origin.is_none() || !matches!(self.loaded, Loaded::Not)
    }

    /// Records the result of loading the session the cookie named (from the store, or opened
    /// from the cookie). An expired record counts as none. A second call is ignored: the first
    /// load is the request's view of the session.
    pub fn set_loaded(&mut self, record: Option<SessionRecord>) {
        self.set_loaded_shared(record.map(Arc::new));
    }

    /// [`set_loaded`](Self::set_loaded) with a shared record, as
    /// [`SessionStore::load_shared`](crate::SessionStore::load_shared) returns it.
    pub fn set_loaded_shared(&mut self, record: Option<Arc<SessionRecord>>) {
        if matches!(self.loaded, Loaded::Not) {
            let now = self.clock.now();
            self.loaded = match record.filter(|r| !r.is_expired(now)) {
                Some(record) => Loaded::Live(record),
                None => Loaded::Gone,
            };
            self.loaded_at = now;
        }
    }

    /// The changes recorded so far.
    #[must_use]
    pub fn delta(&self) -> &SessionDelta {
        &self.delta
    }

    /// The live session's data as loaded: `Ready(None)` without one, `NeedsLoad` before the load.
    fn stored(&self) -> Lookup<Option<&SessionRecord>> {
        match (&self.origin, &self.loaded) {
            (None, _) | (Some(_), Loaded::Gone) => Lookup::Ready(None),
            (Some(_), Loaded::Not) => Lookup::NeedsLoad,
            (Some(_), Loaded::Live(record)) => Lookup::Ready(Some(record)),
        }
    }

    fn peek(&self, key: &str) -> Lookup<Option<&Value>> {
        match self.delta.lookup(key) {
            DeltaLookup::Set(value) => Lookup::Ready(Some(value)),
            DeltaLookup::Removed => Lookup::Ready(None),
            DeltaLookup::Untouched => match self.stored() {
                Lookup::Ready(record) => Lookup::Ready(record.and_then(|r| r.data.get(key))),
                Lookup::NeedsLoad => Lookup::NeedsLoad,
            },
        }
    }

    /// Reads `key`. A pending flash value for `key` wins over an ordinary value and is consumed
    /// by this read. A value that does not deserialize into `T` is an error and stays stored
    /// (a flash value is not consumed then).
    pub fn get<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Lookup<Option<T>>, SessionError> {
        check_key(key)?;
        let flashed = flash_key(key);
        let found = match (self.peek(&flashed), self.peek(key)) {
            (Lookup::Ready(flash), Lookup::Ready(plain)) => {
                Lookup::Ready(flash.map(|v| (v, true)).or(plain.map(|v| (v, false))))
            }
            _ => Lookup::NeedsLoad,
        };
        let Lookup::Ready(found) = found else {
            return Ok(Lookup::NeedsLoad);
        };
        let Some((value, from_flash)) = found else {
            return Ok(Lookup::Ready(None));
        };
        let typed = T::deserialize(value).map_err(|source| SessionError::Deserialize {
            key: key.to_owned(),
            source,
        })?;
        if from_flash {
            self.delta.remove(&flashed);
        }
        Ok(Lookup::Ready(Some(typed)))
    }

    /// The size (JSON bytes) the session's data would have with `value` stored under the
    /// stored key `stored_key` (a flash key already prefixed), to enforce a size limit (a sealed
    /// cookie's) before writing.
    ///
    /// ```
    /// use session_core::{Lookup, SessionState};
    /// let mut state = SessionState::new(None);
    /// state.insert("a", 1)?;
    /// assert_eq!(state.data_len_with("b", &"xy".into()), Lookup::Ready(r#"{"a":1,"b":"xy"}"#.len()));
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    pub fn data_len_with(&self, stored_key: &str, value: &Value) -> Lookup<usize> {
        let Lookup::Ready(stored) = self.stored() else {
            return Lookup::NeedsLoad;
        };
        let mut data = match stored {
            Some(record) if !self.delta.is_cleared() => record.data.clone(),
            _ => crate::SessionData::new(),
        };
        self.delta.apply_to(&mut data);
        data.insert(stored_key.to_owned(), value.clone());
        Lookup::Ready(crate::json_len(&data))
    }

    /// The stored session's deadlines, as loaded (`None` without a live session).
    pub fn expiry(&self) -> Lookup<Option<SessionExpiry>> {
        match self.stored() {
            Lookup::Ready(record) => Lookup::Ready(
                record.map(|r| SessionExpiry::new(r.expires_at, r.absolute_expires_at)),
            ),
            Lookup::NeedsLoad => Lookup::NeedsLoad,
        }
    }

    /// Sets `key` to `value`.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        check_key(&key)?;
        let value = to_value(&key, value)?;
        self.delta.insert(key, value);
        Ok(())
    }

    /// Stores `value` for the first later read of `key`.
    pub fn flash(
        &mut self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        check_key(&key)?;
        let value = to_value(&key, value)?;
        self.delta.insert(flash_key(&key), value);
        Ok(())
    }

    /// Removes `key`, and any pending flash value of that key.
    pub fn remove(&mut self, key: &str) -> Result<(), SessionError> {
        check_key(key)?;
        self.delta.remove(key);
        self.delta.remove(&flash_key(key));
        Ok(())
    }

    /// Drops all data, flash values included; the session itself stays.
    pub fn clear(&mut self) {
        self.delta.clear();
    }

    /// Binds the session to `user_id`, records that the user authenticated now, and renews
    /// its ID (the privilege changed). Call it on every authentication, a re-authentication of
    /// the same user included.
    ///
    /// ```
    /// use session_core::{Lookup, SessionState};
    /// use session_core::clock::{Clock as _, TestClock};
    /// let clock = TestClock::starting_now();
    /// let mut state = SessionState::with_clock(None, clock.shared());
    /// state.set_user("ada");
    /// assert_eq!(state.authenticated_at(), Lookup::Ready(Some(clock.now())));
    /// ```
    pub fn set_user(&mut self, user_id: impl Into<String>) {
        let now = self.clock.now();
        self.delta.insert(USER_KEY, Value::String(user_id.into()));
        self.delta
            .insert(AUTH_KEY, Value::from(now.as_unix_millis()));
        self.renew = true;
        self.restart = true;
    }

    /// Gives the session a lifetime of its own (see [`SessionLifetime`]): the commit renews
    /// its ID and restarts both deadlines by the lifetime's policy.
    ///
    /// ```
    /// use session_core::{ExpiryPolicy, Lookup, SessionLifetime, SessionState};
    /// let mut state = SessionState::new(None);
    /// state.set_lifetime(SessionLifetime::Browser);
    /// assert_eq!(state.lifetime(), Lookup::Ready(Some(SessionLifetime::Browser)));
    /// let plan = state.into_plan(&ExpiryPolicy::default());
    /// assert!(!plan.is_persistent(true));
    /// ```
    pub fn set_lifetime(&mut self, lifetime: SessionLifetime) {
        self.delta.insert(LIFETIME_KEY, lifetime.to_value());
        self.renew = true;
        self.restart = true;
    }

    /// Whether the request changed the session: writes, or a renew to commit.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        !self.delta.is_empty() || self.renew
    }

    /// The session's own lifetime, if it was given one.
    pub fn lifetime(&self) -> Lookup<Option<SessionLifetime>> {
        match self.peek(LIFETIME_KEY) {
            Lookup::Ready(value) => Lookup::Ready(value.and_then(SessionLifetime::from_value)),
            Lookup::NeedsLoad => Lookup::NeedsLoad,
        }
    }

    /// When the bound user last authenticated on this session; `None` when it is not bound.
    pub fn authenticated_at(&self) -> Lookup<Option<Timestamp>> {
        match (self.user(), self.peek(AUTH_KEY)) {
            (Lookup::Ready(None), _) => Lookup::Ready(None),
            (Lookup::Ready(Some(_)), Lookup::Ready(at)) => Lookup::Ready(authenticated_at(at)),
            _ => Lookup::NeedsLoad,
        }
    }

    /// The user the session is bound to.
    pub fn user(&self) -> Lookup<Option<String>> {
        match self.peek(USER_KEY) {
            Lookup::Ready(value) => Lookup::Ready(value.and_then(Value::as_str).map(str::to_owned)),
            Lookup::NeedsLoad => Lookup::NeedsLoad,
        }
    }

    /// Records what the app wants to show about the client in session listings (user agent,
    /// IP address, device name).
    pub fn set_client_info(&mut self, info: impl Serialize) -> Result<(), SessionError> {
        let value = to_value(CLIENT_KEY, info)?;
        self.delta.insert(CLIENT_KEY, value);
        Ok(())
    }

    /// The handle of the stored session this request started from (`None` for a visitor
    /// without one, or after a purge).
    #[must_use]
    pub fn handle(&self) -> Option<SessionHandle> {
        self.origin().map(SessionHandle::of)
    }

    /// Moves the session to a fresh ID at commit, keeping its data.
    pub fn renew(&mut self) {
        self.renew = true;
    }

    /// Deletes the stored session at commit. Writes after a purge start a new session.
    pub fn purge(&mut self) {
        if let Some(old) = self.origin.take() {
            self.purged.get_or_insert(old);
        }
        self.loaded = Loaded::Not;
        self.delta = SessionDelta::default();
        self.renew = false;
        self.restart = false;
    }
}

fn check_key(key: &str) -> Result<(), SessionError> {
    if is_reserved(key) {
        return Err(SessionError::ReservedKey {
            key: key.to_owned(),
        });
    }
    Ok(())
}

fn to_value(key: &str, value: impl Serialize) -> Result<Value, SessionError> {
    serde_json::to_value(value).map_err(|source| SessionError::Serialize {
        key: key.to_owned(),
        source,
    })
}
