//! `MemoryStore`: an in-process, bounded, expiring session store.
//!
//! Sessions live in a [`moka`] concurrent cache keyed by the hash of the session ID. The cache
//! is bounded (least recently used sessions are evicted first once it is full), drops each
//! session when it expires, and locks per key, never across an `await`. Data is lost when the
//! process exits and is not shared between processes: use it for development, tests and
//! single-instance apps.
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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::notification::RemovalCause;
use moka::ops::compute::{CompResult, Op};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use session_core::users::{CLIENT_KEY, USER_KEY};
use session_core::{
    ActiveSession, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore, StorageKey,
    StoreError, Timestamp, UserSessionStore,
};

/// Default bound on the number of sessions held.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// One stored session and when it was last written or refreshed.
#[derive(Debug, Clone)]
struct Stored {
    record: SessionRecord,
    last_seen: Timestamp,
}

impl Stored {
    fn new(record: SessionRecord) -> Arc<Self> {
        Arc::new(Self {
            record,
            last_seen: Timestamp::now(),
        })
    }

    fn user(&self) -> Option<&str> {
        self.record.data.get(USER_KEY).and_then(|v| v.as_str())
    }
}

/// Which sessions each user has: user ID to the storage keys of their sessions. Entries leave
/// when their session is evicted, expires or is deleted (the cache's eviction listener), so it
/// never outgrows the cache.
type UserIndex = Arc<Mutex<HashMap<String, HashSet<StorageKey>>>>;

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
    cache: Cache<StorageKey, Arc<Stored>>,
    users: UserIndex,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.session_count())
            .field("max_sessions", &self.cache.policy().max_capacity())
            .finish()
    }
}

fn lock(users: &UserIndex) -> MutexGuard<'_, HashMap<String, HashSet<StorageKey>>> {
    users.lock().unwrap_or_else(PoisonError::into_inner)
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
        }
    }

    /// An approximate count of live sessions (the cache applies pending work lazily).
    #[must_use]
    pub fn session_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Notes in the user index the user `stored` is bound to, if any.
    fn index(&self, key: StorageKey, stored: &Stored) {
        if let Some(user) = stored.user() {
            lock(&self.users)
                .entry(user.to_owned())
                .or_default()
                .insert(key);
        }
    }

    /// Applies `change` to the live record under `id` atomically (per key) and returns the new
    /// effective expiry, or `None` when there is no live record.
    fn modify(&self, id: &SessionId, change: impl FnOnce(&mut SessionRecord)) -> Option<Timestamp> {
        let now = Timestamp::now();
        let key = id.storage_key();
        let result = self.cache.entry(key).and_compute_with(|entry| match entry {
            Some(entry) if !entry.value().record.is_expired(now) => {
                let mut record = entry.value().record.clone();
                change(&mut record);
                Op::Put(Stored::new(record))
            }
            Some(_) => Op::Remove,
            None => Op::Nop,
        });
        match result {
            CompResult::ReplacedWith(entry) => {
                self.index(key, entry.value());
                Some(entry.value().record.expires_at)
            }
            _ => None,
        }
    }
}

/// Builds a [`MemoryStore`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_sessions: u64,
}

impl MemoryStoreBuilder {
    /// The most sessions held at once (default [`DEFAULT_MAX_SESSIONS`]). When full, the least
    /// recently used sessions are evicted to make room.
    pub fn max_sessions(mut self, max_sessions: u64) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// Builds the store.
    #[must_use]
    pub fn build(self) -> MemoryStore {
        let users = UserIndex::default();
        let index = Arc::clone(&users);
        let cache = Cache::builder()
            .max_capacity(self.max_sessions)
            // LRU rather than TinyLFU: a session just created must not be refused admission.
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(RecordExpiry)
            .eviction_listener(move |key: Arc<StorageKey>, stored: Arc<Stored>, cause| {
                // A replaced value keeps its key; anything else took the session away.
                if cause == RemovalCause::Replaced {
                    return;
                }
                if let Some(user) = stored.user() {
                    let mut users = lock(&index);
                    if let Some(keys) = users.get_mut(user) {
                        keys.remove(&*key);
                        if keys.is_empty() {
                            users.remove(user);
                        }
                    }
                }
            })
            .build();
        MemoryStore { cache, users }
    }
}

/// Evicts each record at its own effective expiry.
struct RecordExpiry;

impl RecordExpiry {
    fn remaining(stored: &Stored) -> Option<Duration> {
        Some(Timestamp::now().duration_until(stored.record.expires_at))
    }
}

impl moka::Expiry<StorageKey, Arc<Stored>> for RecordExpiry {
    fn expire_after_create(
        &self,
        _key: &StorageKey,
        value: &Arc<Stored>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Self::remaining(value)
    }

    fn expire_after_update(
        &self,
        _key: &StorageKey,
        value: &Arc<Stored>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Self::remaining(value)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let now = Timestamp::now();
        Ok(self
            .cache
            .get(&id.storage_key())
            .filter(|stored| !stored.record.is_expired(now))
            .map(|stored| stored.record.clone()))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        let key = id.storage_key();
        let result = self.cache.entry(key).and_compute_with(|entry| match entry {
            Some(entry) if !entry.value().record.is_expired(now) => Op::Nop,
            _ => Op::Put(Stored::new(record.clone())),
        });
        match result {
            CompResult::Inserted(entry) | CompResult::ReplacedWith(entry) => {
                self.index(key, entry.value());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.modify(id, |record| {
            record.apply_update(delta, idle_deadline);
        }))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.modify(id, |record| {
            record.extend_to(idle_deadline);
        }))
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.cache.invalidate(&id.storage_key());
        Ok(())
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let now = Timestamp::now();
        Ok(self
            .cache
            .remove(&id.storage_key())
            .filter(|stored| !stored.record.is_expired(now))
            .map(|stored| stored.record.clone()))
    }
}

#[async_trait]
impl UserSessionStore for MemoryStore {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        let keys: Vec<StorageKey> = lock(&self.users)
            .get(user_id)
            .map(|keys| keys.iter().copied().collect())
            .unwrap_or_default();
        let now = Timestamp::now();
        let mut sessions: Vec<ActiveSession> = keys
            .into_iter()
            .filter_map(|key| {
                let stored = self.cache.get(&key)?;
                let live = !stored.record.is_expired(now) && stored.user() == Some(user_id);
                live.then(|| {
                    ActiveSession::new(
                        SessionHandle::from_storage_key(key),
                        stored.record.created_at,
                        stored.last_seen,
                        stored.record.expires_at,
                        stored.record.data.get(CLIENT_KEY).cloned(),
                    )
                })
            })
            .collect();
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        Ok(self.cache.remove(handle.storage_key()).is_some())
    }
}
