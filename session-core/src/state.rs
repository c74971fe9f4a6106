//! One request's view of a session: what was loaded, what changed, and how to persist it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::clock::SharedClock;
use crate::flash::flash_key;
use crate::store::create_with_fresh_id;
use crate::users::is_reserved;
use crate::{
    DeltaLookup, ExpiryPolicy, SessionData, SessionDelta, SessionError, SessionExpiry, SessionId,
    SessionRecord, SessionStore, StoreError, Timestamp,
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

/// What the response must do with the session cookie after [`SessionState::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum CookieAction {
    /// Send no `Set-Cookie`.
    Unchanged,
    /// Send the cookie with this ID, valid until `expires_at`.
    Set {
        /// The session ID to send.
        id: SessionId,
        /// The session's effective expiry.
        expires_at: Timestamp,
    },
    /// Send a cookie that removes the session cookie.
    Remove,
}

/// One request's view of a session, with change tracking.
///
/// It starts from the ID the client sent (if any, already validated), loads nothing until a read
/// needs it, records writes as a [`SessionDelta`], and at the end
/// [`commit`](SessionState::commit)s with the fewest store calls the changes allow. It is
/// framework-free: the actix-web integration wraps it, and so could any other.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use session_core::{CookieAction, ExpiryPolicy, Lookup, SessionState, SessionStore};
/// # use session_core::*;
/// # struct Store;
/// # #[async_trait::async_trait]
/// # impl SessionStore for Store {
/// #     async fn load(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> { Ok(None) }
/// #     async fn create(&self, _: &SessionId, _: &SessionRecord) -> Result<bool, StoreError> { Ok(true) }
/// #     async fn update(&self, _: &SessionId, _: &SessionDelta, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
/// #     async fn touch(&self, _: &SessionId, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
/// #     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
/// # }
/// # let store = Store;
///
/// // A new visitor (no cookie) writes a value: nothing to load, one create at commit.
/// let mut state = SessionState::new(None);
/// state.insert("visits", 1)?;
/// assert_eq!(state.get::<u32>("visits")?, Lookup::Ready(Some(1)));
/// let action = state.commit(&store, &ExpiryPolicy::default()).await?;
/// assert!(matches!(action, CookieAction::Set { .. }));
/// # Ok::<(), SessionError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct SessionState {
    origin: Option<SessionId>,
    loaded: Option<Option<Arc<SessionRecord>>>,
    /// When `loaded` was set: the request's one reading of the clock for its loaded session.
    loaded_at: Timestamp,
    delta: SessionDelta,
    renew: bool,
    purged: Option<SessionId>,
    clock: SharedClock,
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
        Self {
            origin,
            loaded: None,
            loaded_at: Timestamp::from_unix_millis(0),
            delta: SessionDelta::default(),
            renew: false,
            purged: None,
            clock,
        }
    }

    /// The ID whose stored record this state reads from, if any. After a purge there is none.
    #[must_use]
    pub fn origin(&self) -> Option<&SessionId> {
        self.origin.as_ref()
    }

    /// Whether the stored record has been loaded (or is known not to exist).
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.origin.is_none() || self.loaded.is_some()
    }

    /// Records the result of loading [`origin`](Self::origin). An expired record counts as none.
    /// A second call is ignored: the first load is the request's view of the store.
    pub fn set_loaded(&mut self, record: Option<SessionRecord>) {
        self.set_loaded_shared(record.map(Arc::new));
    }

    /// [`set_loaded`](Self::set_loaded) with a shared record, as
    /// [`SessionStore::load_shared`] returns it.
    pub fn set_loaded_shared(&mut self, record: Option<Arc<SessionRecord>>) {
        if self.loaded.is_none() {
            let now = self.clock.now();
            self.loaded = Some(record.filter(|r| !r.is_expired(now)));
            self.loaded_at = now;
        }
    }

    /// The changes recorded so far.
    #[must_use]
    pub fn delta(&self) -> &SessionDelta {
        &self.delta
    }

    fn peek(&self, key: &str) -> Lookup<Option<&Value>> {
        match self.delta.lookup(key) {
            DeltaLookup::Set(value) => Lookup::Ready(Some(value)),
            DeltaLookup::Removed => Lookup::Ready(None),
            DeltaLookup::Untouched => match (&self.origin, &self.loaded) {
                (None, _) | (Some(_), Some(None)) => Lookup::Ready(None),
                (Some(_), None) => Lookup::NeedsLoad,
                (Some(_), Some(Some(record))) => Lookup::Ready(record.data.get(key)),
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
    /// stored key `stored_key` (a flash key already prefixed), to enforce a store's size limit
    /// before writing.
    pub fn data_len_with(&self, stored_key: &str, value: &Value) -> Lookup<usize> {
        let stored = match (&self.origin, &self.loaded) {
            (Some(_), None) => return Lookup::NeedsLoad,
            (Some(_), Some(Some(record))) => Some(&record.data),
            _ => None,
        };
        // The data as `SessionDelta::apply_to` would leave it, borrowed rather than cloned:
        // only its length is needed, on every insert into a stateless session.
        let mut data: BTreeMap<&str, &Value> = BTreeMap::new();
        if !self.delta.is_cleared() {
            data.extend(stored.into_iter().flatten().map(|(k, v)| (k.as_str(), v)));
        }
        for key in self.delta.removed_keys() {
            data.remove(key.as_str());
        }
        data.extend(
            self.delta
                .set_entries()
                .iter()
                .map(|(k, v)| (k.as_str(), v)),
        );
        data.insert(stored_key, value);
        Lookup::Ready(crate::stateless::object_json_len(data.into_iter()))
    }

    /// The stored session's deadlines, as loaded (`None` without a live stored session).
    pub fn expiry(&self) -> Lookup<Option<SessionExpiry>> {
        match (&self.origin, &self.loaded) {
            (Some(_), None) => Lookup::NeedsLoad,
            (Some(_), Some(Some(record))) => Lookup::Ready(Some(SessionExpiry::new(
                record.expires_at,
                record.absolute_expires_at,
            ))),
            _ => Lookup::Ready(None),
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

    /// Binds the session to `user_id` and renews its ID (the privilege changed).
    pub fn set_user(&mut self, user_id: impl Into<String>) {
        self.delta
            .insert(crate::users::USER_KEY, Value::String(user_id.into()));
        self.renew = true;
    }

    /// The user the session is bound to.
    pub fn user(&self) -> Lookup<Option<String>> {
        match self.peek(crate::users::USER_KEY) {
            Lookup::Ready(value) => Lookup::Ready(value.and_then(Value::as_str).map(str::to_owned)),
            Lookup::NeedsLoad => Lookup::NeedsLoad,
        }
    }

    /// Records what the app wants to show about the client in session listings (user agent,
    /// IP address, device name).
    pub fn set_client_info(&mut self, info: impl Serialize) -> Result<(), SessionError> {
        let value = to_value(crate::users::CLIENT_KEY, info)?;
        self.delta.insert(crate::users::CLIENT_KEY, value);
        Ok(())
    }

    /// The handle of the stored session this request started from (`None` for a visitor
    /// without one, or after a purge).
    #[must_use]
    pub fn handle(&self) -> Option<crate::SessionHandle> {
        self.origin.as_ref().map(crate::SessionHandle::of)
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
        self.loaded = None;
        self.delta = SessionDelta::default();
        self.renew = false;
    }

    /// What [`commit`](Self::commit) would answer if it needs no store call: the request wrote
    /// nothing to a stored session, set nothing for a new visitor, renewed and purged nothing,
    /// and no refresh is due. `None` when the commit needs the store.
    ///
    /// A framework integration answers most requests with this, without running the commit's
    /// future.
    ///
    /// ```
    /// use session_core::{CookieAction, ExpiryPolicy, SessionState};
    ///
    /// let mut state = SessionState::new(None);
    /// assert_eq!(state.settled(&ExpiryPolicy::default()), Some(CookieAction::Unchanged));
    /// state.insert("visits", 1)?;
    /// assert_eq!(state.settled(&ExpiryPolicy::default()), None);
    /// # Ok::<(), session_core::SessionError>(())
    /// ```
    #[must_use]
    pub fn settled(&self, policy: &ExpiryPolicy) -> Option<CookieAction> {
        if self.purged.is_some() {
            return None;
        }
        if self.origin.is_none() {
            // A new visitor's session is created only to hold a value set.
            return self
                .delta
                .set_entries()
                .is_empty()
                .then_some(CookieAction::Unchanged);
        }
        if self.renew || !self.delta.is_empty() {
            return None;
        }
        match &self.loaded {
            None => Some(CookieAction::Unchanged),
            Some(None) => Some(CookieAction::Remove),
            Some(Some(record))
                // As of the load: a refresh that falls due while the request runs (the
                // threshold is a good part of the idle timeout) is the next request's.
                if policy.needs_refresh(
                    record.expires_at,
                    record.absolute_expires_at,
                    self.loaded_at,
                ) =>
            {
                None
            }
            Some(Some(_)) => Some(CookieAction::Unchanged),
        }
    }

    /// Persists the request's changes with the fewest store calls they need, and says what the
    /// response must do with the cookie:
    ///
    /// - nothing written, nothing due: no store call, [`CookieAction::Unchanged`];
    /// - writes to an existing session: one [`update`](SessionStore::update). A session this
    ///   request loaded whose refresh is not due keeps its deadline
    ///   ([`update_keeping_deadline`](SessionStore::update_keeping_deadline)), so the cookie is
    ///   not sent again ([`CookieAction::Unchanged`]); otherwise the deadline moves and the
    ///   cookie is sent. If the session vanished meanwhile, a new session (new ID) holding only these
    ///   changes, without a user binding (a revocation is never undone by a request in flight;
    ///   a session already gone when loaded is a new visitor's, whose sign-in stands);
    /// - writes by a visitor without a session: one [`create`](SessionStore::create);
    /// - a renew: one [`renew`](SessionStore::renew), which moves the stored record and this
    ///   request's changes to a new ID; if the session vanished meanwhile, a new session holding
    ///   only these changes;
    /// - a purge: one [`delete`](SessionStore::delete) and [`CookieAction::Remove`];
    /// - a read past the refresh threshold: one [`touch`](SessionStore::touch).
    pub async fn commit(
        mut self,
        store: &dyn SessionStore,
        policy: &ExpiryPolicy,
    ) -> Result<CookieAction, StoreError> {
        let now = self.clock.now();
        let idle_deadline = policy.idle_deadline(now);
        let purged = match self.purged.take() {
            Some(old) => {
                store.delete(&old).await?;
                true
            }
            None => false,
        };
        // What the loaded record decides, read once; the record itself is let go before any
        // write, so a store that shares its records with loads changes one in place instead of
        // copying it.
        let loaded = match self.loaded.take() {
            None => Loaded::Not,
            Some(None) => Loaded::Gone,
            // As of the load, as `settled` decides it, so the two always agree.
            Some(Some(record))
                if policy.needs_refresh(
                    record.expires_at,
                    record.absolute_expires_at,
                    self.loaded_at,
                ) =>
            {
                Loaded::RefreshDue
            }
            // A loaded session whose refresh is not due keeps the deadline its cookie carries
            // when it is written to, as when it is only read: the sliding expiry moves in steps
            // of the refresh threshold, and most writes need no Set-Cookie.
            Some(Some(record)) => Loaded::Kept(record.expires_at),
        };
        let Some(id) = self.origin.take() else {
            let fallback = if purged {
                CookieAction::Remove
            } else {
                CookieAction::Unchanged
            };
            return Ok(create_fresh(store, policy, now, &self.delta, true)
                .await?
                .unwrap_or(fallback));
        };
        // The session ended while this request ran (purged, revoked or expired after the load,
        // or at any time before the write when nothing was loaded): the request's changes start
        // a new session, but never with the user binding, so a revocation is not undone by a
        // sign-in that was in flight. A session already gone at load is a new visitor's, and a
        // sign-in then stands.
        let keep_user = matches!(loaded, Loaded::Gone);
        if self.renew {
            return match store.renew(&id, &self.delta, idle_deadline).await? {
                Some((id, expires_at)) => Ok(CookieAction::Set { id, expires_at }),
                None => Ok(create_fresh(store, policy, now, &self.delta, keep_user)
                    .await?
                    .unwrap_or(CookieAction::Remove)),
            };
        }
        if !self.delta.is_empty() {
            let written = if let Loaded::Kept(deadline) = loaded {
                store
                    .update_keeping_deadline(&id, &self.delta, deadline)
                    .await?
            } else {
                store.update(&id, &self.delta, idle_deadline).await?
            };
            return match written {
                Some(_) if matches!(loaded, Loaded::Kept(_)) => Ok(CookieAction::Unchanged),
                Some(expires_at) => Ok(CookieAction::Set { id, expires_at }),
                None => Ok(create_fresh(store, policy, now, &self.delta, keep_user)
                    .await?
                    .unwrap_or(CookieAction::Remove)),
            };
        }
        match loaded {
            Loaded::Gone => Ok(CookieAction::Remove),
            Loaded::RefreshDue => Ok(match store.touch(&id, idle_deadline).await? {
                Some(expires_at) => CookieAction::Set { id, expires_at },
                None => CookieAction::Remove,
            }),
            Loaded::Not | Loaded::Kept(_) => Ok(CookieAction::Unchanged),
        }
    }
}

/// What [`SessionState::commit`] needs to know of the record the request loaded.
enum Loaded {
    /// Nothing was loaded.
    Not,
    /// The load found no live session.
    Gone,
    /// A live session whose idle deadline is due for a refresh.
    RefreshDue,
    /// A live session whose idle deadline (the one its cookie carries, given here) stays.
    Kept(Timestamp),
}

/// Starts a new session holding only `delta`'s changes, without the user binding unless
/// `keep_user`; with no data to hold, nothing is created and the answer is `None`.
async fn create_fresh(
    store: &dyn SessionStore,
    policy: &ExpiryPolicy,
    now: Timestamp,
    delta: &SessionDelta,
    keep_user: bool,
) -> Result<Option<CookieAction>, StoreError> {
    let mut data = SessionData::new();
    delta.apply_to(&mut data);
    if !keep_user {
        data.remove(crate::users::USER_KEY);
    }
    if data.is_empty() {
        return Ok(None);
    }
    let record = SessionRecord::new(
        data,
        now,
        policy.idle_deadline(now),
        policy.absolute_deadline(now),
    );
    let id = create_with_fresh_id(store, &record).await?;
    Ok(Some(CookieAction::Set {
        id,
        expires_at: record.expires_at,
    }))
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;

    /// A store that holds every session it is given and counts the calls it gets.
    #[derive(Default)]
    struct Counted {
        records: Mutex<Vec<(SessionId, SessionRecord)>>,
        calls: AtomicUsize,
    }

    impl Counted {
        fn call(&self) {
            self.calls.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[async_trait]
    impl SessionStore for Counted {
        async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
            self.call();
            let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            Ok(records
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, r)| r.clone()))
        }
        async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
            self.call();
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            records.push((id.clone(), record.clone()));
            Ok(true)
        }
        async fn update(
            &self,
            _: &SessionId,
            _: &SessionDelta,
            deadline: Timestamp,
        ) -> Result<Option<Timestamp>, StoreError> {
            self.call();
            Ok(Some(deadline))
        }
        async fn touch(
            &self,
            _: &SessionId,
            deadline: Timestamp,
        ) -> Result<Option<Timestamp>, StoreError> {
            self.call();
            Ok(Some(deadline))
        }
        async fn delete(&self, _: &SessionId) -> Result<(), StoreError> {
            self.call();
            Ok(())
        }
    }

    fn record(idle_left: Duration) -> SessionRecord {
        let now = Timestamp::now();
        SessionRecord::new(
            SessionData::new(),
            now,
            now + idle_left,
            now + Duration::from_secs(7 * 24 * 3600),
        )
    }

    /// `settled` answers exactly when `commit` makes no store call, and answers the same.
    #[tokio::test]
    async fn settled_agrees_with_a_commit_that_calls_no_store() {
        let policy = ExpiryPolicy::default();
        let fresh = Some(record(Duration::from_secs(23 * 3600)));
        let due = Some(record(Duration::from_secs(3600)));
        let mut flashed = record(Duration::from_secs(23 * 3600));
        flashed
            .data
            .insert(crate::flash::flash_key("notice"), serde_json::json!(1));
        let flashed = Some(flashed);
        type Scenario = (
            &'static str,
            Option<Option<SessionRecord>>,
            fn(&mut SessionState),
        );
        let scenarios: Vec<Scenario> = vec![
            ("not loaded", None, |_| {}),
            ("loaded, gone", Some(None), |_| {}),
            ("loaded, fresh", Some(fresh.clone()), |_| {}),
            ("loaded, refresh due", Some(due), |_| {}),
            ("write", Some(fresh.clone()), |s| s.insert("k", 1).unwrap()),
            ("remove", None, |s| s.remove("k").unwrap()),
            ("clear", None, SessionState::clear),
            ("renew", None, SessionState::renew),
            ("purge", None, SessionState::purge),
            ("set user", Some(fresh.clone()), |s| s.set_user("ada")),
            ("flash read", Some(flashed), |s| {
                let _ = s.get::<u32>("notice").unwrap();
            }),
        ];
        for (name, loaded, act) in scenarios {
            for origin in [Some(SessionId::generate()), None] {
                let has_origin = origin.is_some();
                let mut state = SessionState::new(origin);
                if let Some(loaded) = loaded.clone() {
                    state.set_loaded(loaded);
                }
                act(&mut state);
                let settled = state.settled(&policy);
                let store = Counted::default();
                let action = state.commit(&store, &policy).await.unwrap();
                let calls = store.calls.load(Ordering::SeqCst);
                match settled {
                    Some(expected) => {
                        assert_eq!(action, expected, "{name}, origin {has_origin}");
                        assert_eq!(calls, 0, "{name}, origin {has_origin}");
                    }
                    None => assert!(calls > 0, "{name}, origin {has_origin}: no store call"),
                }
            }
        }
    }
}
