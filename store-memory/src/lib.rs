//! `MemoryStore`: an in-process, bounded, expiring session store.
//!
//! Sessions live in a sharded LRU map keyed by the hash of the session ID. Each shard is a
//! mutex around an [`lru::LruCache`]; a session's shard is picked by the first byte of its
//! storage key, a SHA-256 digest, so sessions spread evenly. A store bounded below 4096 sessions
//! has a single shard, so its LRU order is exact; a larger one has 16, so threads rarely wait
//! for each other. Every operation locks one shard for a few map steps, never across an
//! `await`. Loads hand out the stored record itself, reference-counted, and `update` and
//! `touch` change it in place, copying it only while a request still holds it.
//!
//! The store never holds more than `max_sessions` sessions: each shard holds its share, and
//! when full evicts its least recently used session (loaded, created, updated or touched least
//! recently) to make room. With several shards that is the least recently used session of its
//! shard, not necessarily of the whole store.
//!
//! An expired session is never returned, and is removed lazily: when an access finds it, from
//! the least recently used end of its shard (a few per `create`), and by
//! [`MemoryStore::session_count`], which sweeps every shard. Until then it takes room, but the
//! bound above holds regardless, and being unused it is among the first evicted.
//!
//! Data is lost when the process exits and is not shared between processes: use it for
//! development, tests and single-instance apps.
//!
//! ```
//! use session_core::{SessionData, SessionId, SessionRecord, SessionStore, Timestamp};
//! use std::time::Duration;
//! use store_memory::MemoryStore;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = MemoryStore::builder().max_sessions(10_000).build();
//! let id = SessionId::generate();
//! let now = Timestamp::now();
//! let record = SessionRecord::new(
//!     SessionData::new(),
//!     now,
//!     now + Duration::from_secs(60),
//!     now + Duration::from_secs(3600),
//! );
//! assert!(store.create(&id, &record).await?);
//! assert!(store.load(&id).await?.is_some());
//! # Ok::<(), session_core::StoreError>(())
//! # }).unwrap();
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use lru::LruCache;
use session_core::clock::{self, SharedClock};
use session_core::{
    ActiveSession, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore, StorageKey,
    StoreError, Timestamp, UserSessionStore,
};

/// Default bound on the number of sessions held.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// A store bounded below this many sessions has one shard, so its LRU order is exact.
const SINGLE_SHARD_BELOW: u64 = 4096;

/// The number of shards of a larger store. It divides 256, so picking a shard by one byte of a
/// uniformly distributed key spreads sessions evenly.
const SHARDS: usize = 16;

/// The most expired sessions one `create` removes from the least recently used end of its
/// shard: enough to clear expired sessions as fast as they are created, few enough to keep a
/// create cheap.
const EXPIRED_REMOVED_PER_CREATE: usize = 4;

/// One stored session and when it was last written or refreshed.
struct Stored {
    /// Shared with the requests that loaded it; a write changes it in place when no request
    /// holds it, and copies it first when one does (`Arc::make_mut`).
    record: Arc<SessionRecord>,
    last_seen: Timestamp,
}

impl Stored {
    fn user(&self) -> Option<&str> {
        self.record.user()
    }
}

/// The sessions of one shard, least recently used last.
type Sessions = LruCache<StorageKey, Stored>;

/// Which sessions each user has: user ID to the storage keys of their sessions.
///
/// It holds exactly the keys of stored sessions bound to a user: every path that adds,
/// replaces or removes a session, or rebinds it to another user, updates it with that
/// session's shard locked. Lock order: a shard, then the index, never the other way round.
type UserIndex = HashMap<String, HashSet<StorageKey>>;

/// What the clones of one store share.
struct Shared {
    shards: Box<[Mutex<Sessions>]>,
    users: Mutex<UserIndex>,
    max_sessions: u64,
    clock: SharedClock,
}

/// An in-process session store. Cloning is cheap; clones share the same sessions.
///
/// It also implements [`UserSessionStore`]: the sessions bound to a user (with
/// `Session::set_user`) can be listed and revoked, within this process.
///
/// ```
/// use store_memory::MemoryStore;
/// let store = MemoryStore::default();
/// let shared = store.clone();
/// assert_eq!(shared.session_count(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            // Held, not swept: formatting a store must not scan every session.
            .field("sessions", &self.shared.held())
            .field("max_sessions", &self.shared.max_sessions)
            .field("shards", &self.shared.shards.len())
            .finish()
    }
}

impl MemoryStore {
    /// A builder to set the capacity.
    ///
    /// ```
    /// let store = store_memory::MemoryStore::builder().max_sessions(500).build();
    /// # let _ = store;
    /// ```
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_sessions: DEFAULT_MAX_SESSIONS,
            clock: clock::system(),
        }
    }

    /// The exact number of live sessions held.
    ///
    /// It first removes every expired session, so it takes time proportional to the number of
    /// sessions held (and locks each shard in turn while it does): a diagnostic, not something
    /// to call per request.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_core::{SessionData, SessionId, SessionRecord, SessionStore, Timestamp};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = store_memory::MemoryStore::default();
    /// let now = Timestamp::now();
    /// let live = now + Duration::from_secs(60);
    /// let record = SessionRecord::new(SessionData::new(), now, live, live);
    /// store.create(&SessionId::generate(), &record).await?;
    /// assert_eq!(store.session_count(), 1);
    /// # Ok::<(), session_core::StoreError>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn session_count(&self) -> u64 {
        self.shared.session_count()
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
    clock: SharedClock,
}

impl MemoryStoreBuilder {
    /// The most sessions held at once (default [`DEFAULT_MAX_SESSIONS`], at least 1). When
    /// full, the least recently used sessions are evicted to make room.
    ///
    /// ```
    /// let builder = store_memory::MemoryStore::builder().max_sessions(1_000);
    /// # let _ = builder;
    /// ```
    pub fn max_sessions(mut self, max_sessions: u64) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// The clock that decides what has expired (default: the system clock). Give the store and
    /// the middleware the same [`TestClock`](session_core::clock::TestClock) to test expiry
    /// without sleeping.
    ///
    /// ```
    /// use session_core::clock::TestClock;
    /// let clock = TestClock::starting_now();
    /// let store = store_memory::MemoryStore::builder().clock(clock.shared()).build();
    /// # let _ = store;
    /// ```
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    ///
    /// ```
    /// let store = store_memory::MemoryStore::builder().build();
    /// assert_eq!(store.session_count(), 0);
    /// ```
    #[must_use]
    pub fn build(self) -> MemoryStore {
        let max_sessions = self.max_sessions.max(1);
        let shard_count = if max_sessions < SINGLE_SHARD_BELOW {
            1
        } else {
            SHARDS
        };
        // Split the bound exactly, so the shards together never hold more than it.
        let total = usize::try_from(max_sessions).unwrap_or(usize::MAX);
        let (share, remainder) = (total / shard_count, total % shard_count);
        let shards = (0..shard_count)
            .map(|i| {
                let capacity = share + usize::from(i < remainder);
                let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
                // `sparse`: memory grows with the sessions held, not with the bound.
                Mutex::new(LruCache::sparse(capacity))
            })
            .collect();
        MemoryStore {
            shared: Arc::new(Shared {
                shards,
                users: Mutex::default(),
                max_sessions,
                clock: self.clock,
            }),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Notes in the index that `user` has the session under `key`.
fn index_key(users: &mut UserIndex, user: &str, key: StorageKey) {
    users.entry(user.to_owned()).or_default().insert(key);
}

/// Drops the session under `key` from `user`'s entry in the index, and the entry once empty.
fn unindex_key(users: &mut UserIndex, user: &str, key: &StorageKey) {
    if let Some(keys) = users.get_mut(user) {
        keys.remove(key);
        if keys.is_empty() {
            users.remove(user);
        }
    }
}

impl Shared {
    /// Locks the shard that holds `key`.
    fn shard(&self, key: &StorageKey) -> MutexGuard<'_, Sessions> {
        lock(&self.shards[self.shard_index(key)])
    }

    /// The index of the shard that holds `key`.
    fn shard_index(&self, key: &StorageKey) -> usize {
        usize::from(key.as_bytes()[0]) % self.shards.len()
    }

    fn users(&self) -> MutexGuard<'_, UserIndex> {
        lock(&self.users)
    }

    /// Notes `stored` under `key` in the user index. Call with the key's shard locked.
    fn index(&self, key: StorageKey, stored: &Stored) {
        if let Some(user) = stored.user() {
            index_key(&mut self.users(), user, key);
        }
    }

    /// Drops `stored`, just removed from under `key`, from the user index. Call with the key's
    /// shard locked.
    fn unindex(&self, key: &StorageKey, stored: &Stored) {
        if let Some(user) = stored.user() {
            unindex_key(&mut self.users(), user, key);
        }
    }

    /// Removes the session under `key` from its locked shard, live or expired.
    fn remove(&self, sessions: &mut Sessions, key: &StorageKey) -> Option<Stored> {
        let stored = sessions.pop(key)?;
        self.unindex(key, &stored);
        Some(stored)
    }

    /// Runs `change` on the live session under `key` with its shard locked, and marks the
    /// session most recently used. Removes the session instead if it has expired.
    fn with_live<R>(
        &self,
        key: &StorageKey,
        now: Timestamp,
        change: impl FnOnce(&mut Stored) -> R,
    ) -> Option<R> {
        let mut sessions = self.shard(key);
        match sessions.get_mut(key) {
            Some(stored) if !stored.record.is_expired(now) => Some(change(stored)),
            Some(_) => {
                self.remove(&mut sessions, key);
                None
            }
            None => None,
        }
    }

    fn create(&self, key: StorageKey, record: &SessionRecord) -> bool {
        let now = self.clock.now();
        // Copied before locking, so that the shard is held for the map work only.
        let stored = Stored {
            record: Arc::new(record.clone()),
            last_seen: now,
        };
        self.insert(&mut self.shard(&key), key, stored, now)
    }

    /// Stores `stored` under `key` in its locked shard unless a live session holds the key,
    /// making room first. Returns whether it was stored.
    fn insert(
        &self,
        sessions: &mut Sessions,
        key: StorageKey,
        stored: Stored,
        now: Timestamp,
    ) -> bool {
        match sessions.peek(&key) {
            Some(existing) if !existing.record.is_expired(now) => return false,
            Some(_) => {
                self.remove(sessions, &key);
            }
            None => {}
        }
        for _ in 0..EXPIRED_REMOVED_PER_CREATE {
            let oldest_expired = sessions
                .peek_lru()
                .is_some_and(|(_, oldest)| oldest.record.is_expired(now));
            if !oldest_expired {
                break;
            }
            if let Some((old_key, old)) = sessions.pop_lru() {
                self.unindex(&old_key, &old);
            }
        }
        // `key` is not in the shard now, so `push` hands back only a session it evicted.
        self.index(key, &stored);
        if let Some((evicted_key, evicted)) = sessions.push(key, stored) {
            self.unindex(&evicted_key, &evicted);
        }
        true
    }

    /// Moves the live session under `old` to a fresh ID in one step: both shards stay locked
    /// from the removal to the insertion, so no other operation (a revocation above all) sees
    /// the session under neither key.
    fn renew(
        &self,
        old: &StorageKey,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Option<(SessionId, Timestamp)> {
        let now = self.clock.now();
        let new_id = SessionId::generate();
        let new = new_id.storage_key();
        let (from, to) = (self.shard_index(old), self.shard_index(&new));
        // Lock order: lower shard index first, as `revoke_all_of` locks them all.
        let mut low = lock(&self.shards[from.min(to)]);
        let mut high = (from != to).then(|| lock(&self.shards[from.max(to)]));
        let old_shard: &mut Sessions = match high.as_mut() {
            Some(guard) if from > to => guard,
            _ => &mut low,
        };
        let stored = self
            .remove(old_shard, old)
            .filter(|stored| !stored.record.is_expired(now))?;
        let mut record = Arc::unwrap_or_clone(stored.record);
        let expires_at = record.apply_update(delta, idle_deadline);
        let moved = Stored {
            record: Arc::new(record),
            last_seen: now,
        };
        let new_shard: &mut Sessions = match high.as_mut() {
            Some(guard) if to > from => guard,
            _ => &mut low,
        };
        // A fresh 256-bit ID is never taken; if it were, the session ends (fail closed).
        self.insert(new_shard, new, moved, now)
            .then_some((new_id, expires_at))
    }

    /// Ends every session of `user_id` but `keep`, with every shard locked, so a renew or a
    /// create running at the same time lands wholly before (and is ended) or after. Returns how
    /// many live sessions it ended.
    fn revoke_all_of(&self, user_id: &str, keep: Option<&StorageKey>) -> usize {
        let now = self.clock.now();
        let mut shards: Vec<MutexGuard<'_, Sessions>> =
            self.shards.iter().map(|shard| lock(shard)).collect();
        let keys: Vec<StorageKey> = match self.users().get(user_id) {
            Some(keys) => keys.iter().copied().collect(),
            None => return 0,
        };
        keys.iter()
            .filter(|key| Some(*key) != keep)
            .filter_map(|key| self.remove(&mut shards[self.shard_index(key)], key))
            .filter(|stored| !stored.record.is_expired(now))
            .count()
    }

    fn update(
        &self,
        key: &StorageKey,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Option<Timestamp> {
        let now = self.clock.now();
        self.with_live(key, now, |stored| {
            // Only a delta that touches the user key (sign-in, sign-out, clear) can rebind the
            // session, so only then is the previous user worth copying.
            let user_before = delta.may_rebind().then(|| stored.user().map(str::to_owned));
            stored.last_seen = now;
            let expires_at = Arc::make_mut(&mut stored.record).apply_update(delta, idle_deadline);
            if let Some(before) = user_before {
                self.rebind(key, before.as_deref(), stored.user());
            }
            expires_at
        })
    }

    /// Moves the session under `key` from `before`'s entry in the user index to `after`'s.
    /// Call with the key's shard locked.
    fn rebind(&self, key: &StorageKey, before: Option<&str>, after: Option<&str>) {
        if before == after {
            return;
        }
        let mut users = self.users();
        if let Some(user) = before {
            unindex_key(&mut users, user, key);
        }
        if let Some(user) = after {
            index_key(&mut users, user, *key);
        }
    }

    /// Removes the session under `key` and returns it if it was live.
    fn take(&self, key: &StorageKey) -> Option<Stored> {
        let now = self.clock.now();
        let mut sessions = self.shard(key);
        self.remove(&mut sessions, key)
            .filter(|stored| !stored.record.is_expired(now))
    }

    fn sessions_of(&self, user_id: &str) -> Vec<ActiveSession> {
        // Copied out so that the index is unlocked before any shard is locked.
        let keys: Vec<StorageKey> = match self.users().get(user_id) {
            Some(keys) => keys.iter().copied().collect(),
            None => return Vec::new(),
        };
        let now = self.clock.now();
        let mut listed: Vec<ActiveSession> = keys
            .into_iter()
            .filter_map(|key| {
                let mut sessions = self.shard(&key);
                // `peek`: listing a session is not using it, so it does not protect it from
                // eviction.
                match sessions.peek(&key) {
                    Some(stored) if stored.record.is_expired(now) => {
                        self.remove(&mut sessions, &key);
                        None
                    }
                    Some(stored) if stored.user() == Some(user_id) => Some(ActiveSession::new(
                        SessionHandle::from_storage_key(key),
                        stored.record.created_at,
                        stored.last_seen,
                        stored.record.expires_at,
                        stored.record.client().cloned(),
                    )),
                    _ => None,
                }
            })
            .collect();
        listed.sort_by_key(|s| s.created_at);
        listed
    }

    /// The sum of `count` over the shards, each locked in turn.
    fn sum_shards(&self, count: impl Fn(&mut Sessions) -> usize) -> u64 {
        self.shards
            .iter()
            .map(|shard| u64::try_from(count(&mut lock(shard))).unwrap_or(u64::MAX))
            .fold(0, u64::saturating_add)
    }

    /// The sessions held, expired ones not yet removed included: no sweep, for `Debug`.
    fn held(&self) -> u64 {
        self.sum_shards(|sessions| sessions.len())
    }

    fn session_count(&self) -> u64 {
        let now = self.clock.now();
        self.sum_shards(|sessions| {
            sessions.retain(|key, stored| {
                let live = !stored.record.is_expired(now);
                if !live {
                    self.unindex(key, stored);
                }
                live
            });
            sessions.len()
        })
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .shared
            .with_live(&id.storage_key(), self.shared.clock.now(), |stored| {
                SessionRecord::clone(&stored.record)
            }))
    }

    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        Ok(self
            .shared
            .with_live(&id.storage_key(), self.shared.clock.now(), |stored| {
                Arc::clone(&stored.record)
            }))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        Ok(self.shared.create(id.storage_key(), record))
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.shared.update(&id.storage_key(), delta, idle_deadline))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        // An update with nothing to apply: it moves the deadline and `last_seen` alike.
        Ok(self
            .shared
            .update(&id.storage_key(), &SessionDelta::default(), idle_deadline))
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key = id.storage_key();
        self.shared.remove(&mut self.shared.shard(&key), &key);
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .shared
            .take(&id.storage_key())
            .map(|stored| Arc::unwrap_or_clone(stored.record)))
    }
    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        Ok(self
            .shared
            .renew(&old_id.storage_key(), delta, idle_deadline))
    }
}

#[async_trait]
impl UserSessionStore for MemoryStore {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        Ok(self.shared.sessions_of(user_id))
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        Ok(self.shared.take(handle.storage_key()).is_some())
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        Ok(self.shared.revoke_all_of(user_id, None))
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        Ok(self.shared.revoke_all_of(user_id, Some(keep.storage_key())))
    }
}

#[cfg(test)]
mod tests {
    //! The user index: checked from inside, since a stale entry is invisible through the API
    //! (listing verifies each session it finds there).

    use std::time::Duration;

    use serde_json::json;
    use session_core::SessionData;
    use session_core::clock::TestClock;
    use session_core::users::USER_KEY;

    use super::*;

    impl MemoryStore {
        /// How many session keys the user index holds, over all users.
        fn indexed_keys(&self) -> usize {
            self.shared.users().values().map(HashSet::len).sum()
        }
    }

    fn record_of(user: &str, lifetime: Duration) -> SessionRecord {
        let now = Timestamp::now();
        let mut data = SessionData::new();
        data.insert(USER_KEY.to_owned(), json!(user));
        SessionRecord::new(data, now, now + lifetime, now + Duration::from_secs(3600))
    }

    const LONG: Duration = Duration::from_secs(60);
    const SHORT: Duration = Duration::from_millis(100);

    #[tokio::test]
    async fn eviction_keeps_the_index_bounded() {
        let store = MemoryStore::builder().max_sessions(3).build();
        for i in 0..50 {
            let user = format!("user-{}", i % 7);
            let created = store
                .create(&SessionId::generate(), &record_of(&user, LONG))
                .await;
            assert!(created.unwrap());
        }
        assert_eq!(store.indexed_keys(), 3);
        assert!(store.shared.users().len() <= 3);
    }

    #[tokio::test]
    async fn creates_remove_expired_sessions_from_the_index() {
        let clock = TestClock::starting_now();
        let store = MemoryStore::builder()
            .max_sessions(100)
            .clock(clock.shared())
            .build();
        for _ in 0..3 {
            let created = store
                .create(&SessionId::generate(), &record_of("ada", SHORT))
                .await;
            assert!(created.unwrap());
        }
        assert_eq!(store.indexed_keys(), 3);
        clock.advance(SHORT * 3);
        let fresh = store
            .create(&SessionId::generate(), &record_of("grace", LONG))
            .await;
        assert!(fresh.unwrap());
        // No sweep has run: the create itself removed the expired sessions.
        assert_eq!(store.indexed_keys(), 1);
        assert!(!store.shared.users().contains_key("ada"));
    }

    #[tokio::test]
    async fn accesses_and_counts_remove_expired_sessions_from_the_index() {
        let clock = TestClock::starting_now();
        let store = MemoryStore::builder().clock(clock.shared()).build();
        let found = SessionId::generate();
        assert!(
            store
                .create(&found, &record_of("ada", SHORT))
                .await
                .unwrap()
        );
        for _ in 0..5 {
            let created = store
                .create(&SessionId::generate(), &record_of("grace", SHORT))
                .await;
            assert!(created.unwrap());
        }
        clock.advance(SHORT * 3);
        assert!(store.load(&found).await.unwrap().is_none());
        assert_eq!(store.indexed_keys(), 5);
        assert_eq!(store.session_count(), 0);
        assert_eq!(store.indexed_keys(), 0);
    }

    #[tokio::test]
    async fn removals_and_rebinding_keep_the_index_in_step() {
        let store = MemoryStore::default();
        let ids: Vec<SessionId> = (0..4).map(|_| SessionId::generate()).collect();
        for id in &ids {
            assert!(store.create(id, &record_of("ada", LONG)).await.unwrap());
        }
        store.delete(&ids[0]).await.unwrap();
        assert!(store.take(&ids[1]).await.unwrap().is_some());
        assert!(store.revoke(&SessionHandle::of(&ids[2])).await.unwrap());
        assert_eq!(store.indexed_keys(), 1);

        let deadline = Timestamp::now() + LONG;
        let mut rebind = SessionDelta::default();
        rebind.insert(USER_KEY, json!("grace"));
        store.update(&ids[3], &rebind, deadline).await.unwrap();
        assert!(!store.shared.users().contains_key("ada"));
        assert_eq!(store.indexed_keys(), 1);

        let mut clear = SessionDelta::default();
        clear.clear();
        store.update(&ids[3], &clear, deadline).await.unwrap();
        assert_eq!(store.indexed_keys(), 0);
        assert!(store.shared.users().is_empty());
    }
}
