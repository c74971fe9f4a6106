//! `MemoryStore`: an in-process, bounded, expiring session store.
//!
//! Sessions live in a sharded LRU map keyed by the hash of the session ID. Each shard is a
//! mutex around two [`lru::LruCache`]s, one of anonymous sessions and one of sessions bound to a
//! user (with `Session::set_user`); a session's shard is picked by the first byte of its
//! storage key, a SHA-256 digest, so sessions spread evenly. A store bounded below 4096 sessions
//! has a single shard, so its LRU order is exact; a larger one has 16, so threads rarely wait
//! for each other. Every operation locks one shard for a few map steps (a renew or a
//! revocation of all a user's sessions locks them all), never across an `await`. The
//! middleware's loads share the stored record instead of copying it, and `update` and `touch`
//! change it in place, copying it only while a request still holds it.
//!
//! The store never holds more than `max_sessions` sessions: each shard holds its share, and
//! when full evicts to make room, in this order:
//!
//! 1. its least recently used (loaded, created, updated or touched least recently) anonymous
//!    session;
//! 2. only when it holds no anonymous session, its least recently used user-bound session.
//!
//! So a flood of cookieless visitors that write something (a sign-in form's CSRF token) evicts
//! other anonymous visitors, not signed-in users. A session moves between the two kinds when an
//! update binds or unbinds it, and a renew (sign-in) stores it as the kind it has become. With
//! several shards the order holds within each shard, not across the whole store.
//!
//! [`MemoryStoreBuilder::max_bytes`] adds an optional bound on the sessions' estimated size,
//! enforced in the same order; see there for what it counts.
//!
//! An expired session is never returned, and is removed lazily: when an access finds it, from
//! the least recently used ends of its shard's two lists (a few per `create`, before anything
//! is evicted), and by [`MemoryStore::session_count`], which sweeps every shard. Until then it
//! takes room, but the bounds above hold regardless.
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

mod shard;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use session_core::clock::{self, SharedClock};
use session_core::{
    ActiveSession, Renewal, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore,
    StorageKey, StoreError, Timestamp, UserSessionStore,
};
use shard::{Shard, Stored, estimated_size};

/// Default bound on the number of sessions held.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// What each session is charged on top of its data under a byte bound
/// ([`MemoryStoreBuilder::max_bytes`]): a rough figure for its key, deadlines and list links.
pub const SESSION_OVERHEAD_BYTES: u64 = 64;

/// A store bounded below this many sessions has one shard, so its LRU order is exact.
const SINGLE_SHARD_BELOW: u64 = 4096;

/// The number of shards of a larger store. It divides 256, so picking a shard by one byte of a
/// uniformly distributed key spreads sessions evenly.
const SHARDS: usize = 16;

/// The most expired sessions one `create` removes from the least recently used ends of its
/// shard: enough to clear expired sessions as fast as they are created, few enough to keep a
/// create cheap.
const EXPIRED_REMOVED_PER_CREATE: usize = 4;

/// Which sessions each user has: user ID to the storage keys of their sessions.
///
/// It holds exactly the keys of stored sessions bound to a user: every path that adds,
/// replaces or removes a session, or rebinds it to another user, updates it with that
/// session's shard locked. Lock order: shards by index, then the index, never the other way.
type UserIndex = HashMap<String, HashSet<StorageKey>>;

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
    shards: Arc<[Mutex<Shard>]>,
    users: Arc<Mutex<UserIndex>>,
    max_sessions: u64,
    max_bytes: Option<u64>,
    clock: SharedClock,
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
            .field("sessions", &self.count(|_| {}))
            .field("max_sessions", &self.max_sessions)
            .field("max_bytes", &self.max_bytes)
            .field("shards", &self.shards.len())
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
            max_bytes: None,
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
        let now = self.clock.now();
        self.count(|shard| {
            shard.retain(|key, stored| {
                let live = !stored.record.is_expired(now);
                if !live {
                    self.rebind(key, stored.record.user(), None);
                }
                live
            });
        })
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
    max_bytes: Option<u64>,
    clock: SharedClock,
}

impl MemoryStoreBuilder {
    /// The most sessions held at once (default [`DEFAULT_MAX_SESSIONS`], at least 1). When
    /// full, the least recently used anonymous session is evicted to make room, or, when there
    /// is none (in the session's shard), the least recently used user-bound one.
    ///
    /// ```
    /// let builder = store_memory::MemoryStore::builder().max_sessions(1_000);
    /// # let _ = builder;
    /// ```
    pub fn max_sessions(mut self, max_sessions: u64) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// A bound on the estimated size of the sessions held, in bytes (default: none).
    ///
    /// A session's estimated size is [`SESSION_OVERHEAD_BYTES`] plus, for each entry of its
    /// data (the store's own reserved keys included), the key's length in bytes and the length
    /// of the value's compact JSON text. It estimates the data the store holds, not the
    /// process's memory: allocator slack, the maps' own tables and copies held by requests
    /// in flight are not counted.
    ///
    /// The bound is split between the shards like `max_sessions`; when a create, update or
    /// renew would take a shard past its share, sessions are evicted in the same order (the
    /// least recently used anonymous ones first) until it fits. The session being written is
    /// never evicted for its own sake: a session larger than its shard's share is stored
    /// alone in its shard, and that is the only way a share, and so the bound, is exceeded.
    /// (Below 4096 `max_sessions` the store has one shard, whose share is the whole bound.)
    ///
    /// Sizes are computed on writes only when this bound is set, so a store without it pays
    /// nothing for it; with it, a create, renew or non-empty update serializes each value of
    /// the session once to measure it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use serde_json::json;
    /// use session_core::{SessionData, SessionId, SessionRecord, SessionStore, Timestamp};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// // Under 4096 sessions: one shard, with the whole byte bound.
    /// let store = store_memory::MemoryStore::builder()
    ///     .max_sessions(1_000)
    ///     .max_bytes(1_000)
    ///     .build();
    /// let now = Timestamp::now();
    /// let live = now + Duration::from_secs(60);
    /// // 64 + 4 + 402 bytes each: two fit, a third evicts the first.
    /// let data = SessionData::from_iter([("blob".to_owned(), json!("x".repeat(400)))]);
    /// let record = SessionRecord::new(data, now, live, live);
    /// for _ in 0..3 {
    ///     store.create(&SessionId::generate(), &record).await?;
    /// }
    /// assert_eq!(store.session_count(), 2);
    /// # Ok::<(), session_core::StoreError>(())
    /// # }).unwrap();
    /// ```
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
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
        // Split the bounds exactly, so the shards together never hold more than them. A store
        // of several shards has at least 4096 sessions, so every share is at least one.
        let total = usize::try_from(max_sessions).unwrap_or(usize::MAX);
        let (share, remainder) = (total / shard_count, total % shard_count);
        let shards = (0..shard_count)
            .map(|i| {
                let max_sessions = share + usize::from(i < remainder);
                let max_bytes = self.max_bytes.map(|total| {
                    let count = shard_count as u64;
                    total / count + u64::from((i as u64) < total % count)
                });
                Mutex::new(Shard::new(max_sessions, max_bytes))
            })
            .collect();
        MemoryStore {
            shards,
            users: Arc::default(),
            max_sessions,
            max_bytes: self.max_bytes,
            clock: self.clock,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryStore {
    /// The index of the shard that holds `key`.
    fn shard_index(&self, key: &StorageKey) -> usize {
        usize::from(key.as_bytes()[0]) % self.shards.len()
    }

    /// Locks the shard that holds `key`.
    fn shard(&self, key: &StorageKey) -> MutexGuard<'_, Shard> {
        lock(&self.shards[self.shard_index(key)])
    }

    /// Locks every shard, in index order.
    fn all_shards(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(lock).collect()
    }

    /// The keys of `user_id`'s sessions, copied out so that the index is unlocked again.
    fn keys_of(&self, user_id: &str) -> Vec<StorageKey> {
        let users = lock(&self.users);
        users.get(user_id).into_iter().flatten().copied().collect()
    }

    /// Moves the session under `key` from `before`'s entry in the user index to `after`'s
    /// (either may be none). Call with the key's shard locked.
    fn rebind(&self, key: &StorageKey, before: Option<&str>, after: Option<&str>) {
        if before == after {
            return;
        }
        let mut users = lock(&self.users);
        if let Some(user) = before
            && let Some(keys) = users.get_mut(user)
        {
            keys.remove(key);
            if keys.is_empty() {
                users.remove(user);
            }
        }
        if let Some(user) = after {
            users.entry(user.to_owned()).or_default().insert(*key);
        }
    }

    /// Removes the session under `key` from its locked shard, live or expired.
    fn remove(&self, shard: &mut Shard, key: &StorageKey) -> Option<Stored> {
        let stored = shard.pop(key)?;
        self.rebind(key, stored.record.user(), None);
        Some(stored)
    }

    /// Removes the session under `key` and returns it if it was live.
    fn remove_live(&self, key: &StorageKey) -> Option<Stored> {
        let now = self.clock.now();
        self.remove(&mut self.shard(key), key)
            .filter(|stored| !stored.record.is_expired(now))
    }

    /// Runs `change` on the live session under `key` in its locked shard, and marks the
    /// session most recently used of its list. Removes the session instead if it has expired.
    fn with_live<R>(
        &self,
        shard: &mut Shard,
        key: &StorageKey,
        change: impl FnOnce(&mut Stored) -> R,
    ) -> Option<R> {
        let now = self.clock.now();
        match shard.get_mut(key) {
            Some(stored) if !stored.record.is_expired(now) => Some(change(stored)),
            Some(_) => {
                self.remove(shard, key);
                None
            }
            None => None,
        }
    }

    /// The size `record` is charged under the byte bound: 0, without computing anything, when
    /// the store has none.
    fn size_of(&self, record: &SessionRecord) -> u64 {
        if self.max_bytes.is_some() {
            estimated_size(record)
        } else {
            0
        }
    }

    /// Evicts from the locked shard until a session of `size` bytes fits in its budget.
    fn make_room(&self, shard: &mut Shard, size: u64) {
        shard.make_room(size, |key, evicted| {
            self.rebind(&key, evicted.record.user(), None);
        });
    }

    /// Stores `record`, charged `size` bytes, under `key` in its locked shard unless a live
    /// session holds the key, making room first. Returns whether it was stored.
    fn insert(
        &self,
        shard: &mut Shard,
        key: StorageKey,
        record: Arc<SessionRecord>,
        size: u64,
    ) -> bool {
        let now = self.clock.now();
        if let Some(existing) = shard.peek(&key) {
            if !existing.record.is_expired(now) {
                return false;
            }
            self.remove(shard, &key);
        }
        // Expired sessions go first, so that they are not kept while live ones are evicted.
        for _ in 0..EXPIRED_REMOVED_PER_CREATE {
            let Some((old_key, old)) = shard.pop_expired(now) else {
                break;
            };
            self.rebind(&old_key, old.record.user(), None);
        }
        self.make_room(shard, size);
        self.rebind(&key, None, record.user());
        let stored = Stored {
            record,
            last_seen: now,
            size,
        };
        shard.push(key, stored);
        true
    }

    /// Ends every session of `user_id` but `keep`, with every shard locked, so a renew or a
    /// create running at the same time lands wholly before (and is ended) or after. Returns how
    /// many live sessions it ended.
    fn revoke_all_of(&self, user_id: &str, keep: Option<&StorageKey>) -> usize {
        let now = self.clock.now();
        let mut shards = self.all_shards();
        self.keys_of(user_id)
            .iter()
            .filter(|key| Some(*key) != keep)
            .filter_map(|key| self.remove(&mut shards[self.shard_index(key)], key))
            .filter(|stored| !stored.record.is_expired(now))
            .count()
    }

    /// The sessions held, expired ones not yet removed included, after `sweep` ran on each
    /// shard in turn.
    fn count(&self, sweep: impl Fn(&mut Shard)) -> u64 {
        let held: usize = self
            .shards
            .iter()
            .map(|shard| {
                let mut shard = lock(shard);
                sweep(&mut shard);
                shard.len()
            })
            .sum();
        u64::try_from(held).unwrap_or(u64::MAX)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let record = self.load_shared(id).await?;
        Ok(record.map(Arc::unwrap_or_clone))
    }

    /// The stored record itself, not a copy. Callgrind on the benchmark, instructions per
    /// request: memory `/read` 33.5k with a copy per load, 30.9k shared (8% fewer); `/incr`
    /// 43.4k, 40.4k (7%). (Measured together with core's caching of the storage key, which
    /// landed in the same change.)
    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key = id.storage_key();
        let mut shard = self.shard(&key);
        Ok(self.with_live(&mut shard, &key, |stored| Arc::clone(&stored.record)))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let key = id.storage_key();
        // Copied and sized before locking, so that the shard is held for the map work only.
        let size = self.size_of(record);
        let record = Arc::new(record.clone());
        Ok(self.insert(&mut self.shard(&key), key, record, size))
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let (key, now) = (id.storage_key(), self.clock.now());
        let mut shard = self.shard(&key);
        let updated = self.with_live(&mut shard, &key, |stored| {
            // Only a delta that may rebind the session makes the previous user worth copying.
            let user_before = delta
                .may_rebind()
                .then(|| stored.record.user().map(str::to_owned));
            stored.last_seen = now;
            let expires_at = Arc::make_mut(&mut stored.record).apply_update(delta, idle_deadline);
            let mut changed_kind = false;
            if let Some(before) = user_before {
                let after = stored.record.user();
                changed_kind = before.is_some() != after.is_some();
                self.rebind(&key, before.as_deref(), after);
            }
            (expires_at, changed_kind)
        });
        let Some((expires_at, changed_kind)) = updated else {
            return Ok(None);
        };
        // A session bound or unbound moves to the other list; one resized may need room. A touch
        // (an empty delta) changes neither, so it stays as cheap as a load.
        let resized = self.max_bytes.is_some() && !delta.is_empty();
        if (changed_kind || resized)
            && let Some(mut stored) = shard.pop(&key)
        {
            if resized {
                stored.size = estimated_size(&stored.record);
            }
            // Out of the shard while room is made, so that it is not evicted for its own sake.
            self.make_room(&mut shard, stored.size);
            shard.push(key, stored);
        }
        Ok(Some(expires_at))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        // An update with nothing to apply: it moves the deadline and `last_seen` alike.
        self.update(id, &SessionDelta::default(), idle_deadline)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key = id.storage_key();
        self.remove(&mut self.shard(&key), &key);
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let stored = self.remove_live(&id.storage_key());
        Ok(stored.map(|stored| Arc::unwrap_or_clone(stored.record)))
    }

    /// Moves the live session to a fresh ID with every shard locked: no other operation (a
    /// revocation above all) sees the session under neither key.
    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        let (old, now) = (old_id.storage_key(), self.clock.now());
        let new_id = SessionId::generate();
        let new = new_id.storage_key();
        let mut shards = self.all_shards();
        let Some(stored) = self
            .remove(&mut shards[self.shard_index(&old)], &old)
            .filter(|stored| !stored.record.is_expired(now))
        else {
            return Ok(None);
        };
        let mut record = Arc::unwrap_or_clone(stored.record);
        let expires_at = record.apply_renewal(delta, renewal);
        let size = self.size_of(&record);
        // A fresh 256-bit ID is never taken; if it were, the session ends (fail closed).
        let shard = &mut shards[self.shard_index(&new)];
        let moved = self.insert(shard, new, Arc::new(record), size);
        Ok(moved.then_some((new_id, expires_at)))
    }
}

#[async_trait]
impl UserSessionStore for MemoryStore {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        let now = self.clock.now();
        let mut listed: Vec<ActiveSession> = self
            .keys_of(user_id)
            .into_iter()
            .filter_map(|key| {
                let mut shard = self.shard(&key);
                // `peek`: listing a session is not using it, so it does not protect it from
                // eviction.
                let stored = shard.peek(&key)?;
                if stored.record.is_expired(now) {
                    self.remove(&mut shard, &key);
                    return None;
                }
                let record = &stored.record;
                (record.user() == Some(user_id)).then(|| {
                    let handle = SessionHandle::from_storage_key(key);
                    let client = record.client().cloned();
                    ActiveSession::new(
                        handle,
                        record.created_at,
                        stored.last_seen,
                        record.expires_at,
                        client,
                    )
                })
            })
            .collect();
        listed.sort_by_key(|s| s.created_at);
        Ok(listed)
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        Ok(self.remove_live(handle.storage_key()).is_some())
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        Ok(self.revoke_all_of(user_id, None))
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        Ok(self.revoke_all_of(user_id, Some(keep.storage_key())))
    }
}

#[cfg(test)]
mod tests {
    //! The user index: checked from inside, since a stale entry is invisible through the API
    //! (listing verifies each session it finds there).

    use std::time::Duration;

    use serde_json::json;
    use session_core::SessionData;
    use session_core::clock::{Clock as _, TestClock};
    use session_core::users::USER_KEY;

    use super::*;

    const LONG: Duration = Duration::from_secs(60);
    const SHORT: Duration = Duration::from_millis(100);

    impl MemoryStore {
        /// How many session keys the user index holds, over all users.
        fn indexed_keys(&self) -> usize {
            lock(&self.users).values().map(HashSet::len).sum()
        }

        fn indexes(&self, user: &str) -> bool {
            lock(&self.users).contains_key(user)
        }

        /// Checks the running byte totals and the user index against the sessions held.
        fn assert_accounts_agree(&self) {
            let (mut bytes, mut recounted, mut bound) = (0, 0, 0);
            for shard in self.shards.iter() {
                let shard = lock(shard);
                let (held, bound_held) = shard.recount();
                bytes += shard.bytes();
                recounted += held;
                bound += bound_held;
            }
            assert_eq!(bytes, recounted, "the running byte total drifted");
            assert_eq!(self.indexed_keys(), bound, "the user index is not exact");
        }

        /// Creates a session of `user` idle for `lifetime`, and returns its ID.
        async fn created(&self, user: &str, lifetime: Duration) -> SessionId {
            let now = self.clock.now();
            let data = SessionData::from_iter([(USER_KEY.to_owned(), json!(user))]);
            let record = SessionRecord::new(data, now, now + lifetime, now + LONG * 60);
            let id = SessionId::generate();
            assert!(self.create(&id, &record).await.unwrap());
            id
        }
    }

    #[tokio::test]
    async fn eviction_keeps_the_index_bounded() {
        let store = MemoryStore::builder().max_sessions(3).build();
        for i in 0..50 {
            store.created(&format!("user-{}", i % 7), LONG).await;
        }
        assert_eq!(store.indexed_keys(), 3);
        assert!(lock(&store.users).len() <= 3);
    }

    #[tokio::test]
    async fn creates_remove_expired_sessions_from_the_index() {
        let clock = TestClock::starting_now();
        let store = MemoryStore::builder()
            .max_sessions(100)
            .clock(clock.shared())
            .build();
        for _ in 0..3 {
            store.created("ada", SHORT).await;
        }
        assert_eq!(store.indexed_keys(), 3);
        clock.advance(SHORT * 3);
        store.created("grace", LONG).await;
        // No sweep has run: the create itself removed the expired sessions.
        assert_eq!(store.indexed_keys(), 1);
        assert!(!store.indexes("ada"));
    }

    #[tokio::test]
    async fn accesses_and_counts_remove_expired_sessions_from_the_index() {
        let clock = TestClock::starting_now();
        let store = MemoryStore::builder().clock(clock.shared()).build();
        let found = store.created("ada", SHORT).await;
        for _ in 0..5 {
            store.created("grace", SHORT).await;
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
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(store.created("ada", LONG).await);
        }
        store.delete(&ids[0]).await.unwrap();
        assert!(store.take(&ids[1]).await.unwrap().is_some());
        assert!(store.revoke(&SessionHandle::of(&ids[2])).await.unwrap());
        assert_eq!(store.indexed_keys(), 1);

        let deadline = Timestamp::now() + LONG;
        let mut rebind = SessionDelta::default();
        rebind.insert(USER_KEY, json!("grace"));
        store.update(&ids[3], &rebind, deadline).await.unwrap();
        assert!(!store.indexes("ada"));
        assert_eq!(store.indexed_keys(), 1);

        let mut clear = SessionDelta::default();
        clear.clear();
        store.update(&ids[3], &clear, deadline).await.unwrap();
        assert_eq!(store.indexed_keys(), 0);
        assert!(lock(&store.users).is_empty());
    }

    #[tokio::test]
    async fn byte_totals_and_the_index_follow_every_write() {
        let clock = TestClock::starting_now();
        let store = MemoryStore::builder()
            .max_sessions(20)
            .max_bytes(2_000)
            .clock(clock.shared())
            .build();
        let deadline = clock.now() + LONG;
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(store.created(&format!("user-{i}"), LONG).await);
        }
        let mut grow = SessionDelta::default();
        grow.insert("note", json!("n".repeat(300)));
        let mut sign_out = SessionDelta::default();
        sign_out.remove(USER_KEY);
        let mut sign_in = SessionDelta::default();
        sign_in.insert(USER_KEY, json!("grace"));
        let renewal = Renewal::Extend(deadline);
        for delta in [&grow, &sign_out, &grow, &sign_in, &sign_out] {
            for id in &ids {
                store.update(id, delta, deadline).await.unwrap();
                store.assert_accounts_agree();
            }
            // Anonymous sessions with large values, so the byte bound evicts.
            let now = clock.now();
            let data = SessionData::from_iter([("blob".to_owned(), json!("b".repeat(200)))]);
            let record = SessionRecord::new(data, now, now + SHORT, now + LONG);
            ids.push(SessionId::generate());
            store.create(ids.last().unwrap(), &record).await.unwrap();
            store.assert_accounts_agree();
        }
        // Signs in the newest session, the one surely held.
        let (renewed, _) = store
            .renew(ids.last().unwrap(), &sign_in, renewal)
            .await
            .unwrap()
            .unwrap();
        store.assert_accounts_agree();
        store.touch(&renewed, deadline).await.unwrap();
        store.delete(&ids[4]).await.unwrap();
        store.take(&ids[3]).await.unwrap();
        store.revoke_all("grace").await.unwrap();
        store.assert_accounts_agree();
        clock.advance(SHORT);
        let _ = store.session_count();
        store.assert_accounts_agree();
    }
}
