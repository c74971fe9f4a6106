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

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::ops::compute::{CompResult, Op};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use session_core::{
    SessionDelta, SessionId, SessionRecord, SessionStore, StorageKey, StoreError, Timestamp,
};

/// Default bound on the number of sessions held.
pub const DEFAULT_MAX_SESSIONS: u64 = 100_000;

/// An in-process session store. Cloning is cheap; clones share the same sessions.
///
/// ```
/// use store_memory::MemoryStore;
/// let store = MemoryStore::default();
/// let shared = store.clone();
/// assert_eq!(shared.session_count(), 0);
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<StorageKey, Arc<SessionRecord>>,
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

    /// Applies `change` to the live record under `id` atomically (per key) and returns the new
    /// effective expiry, or `None` when there is no live record.
    fn modify(&self, id: &SessionId, change: impl FnOnce(&mut SessionRecord)) -> Option<Timestamp> {
        let now = Timestamp::now();
        let result = self
            .cache
            .entry(id.storage_key())
            .and_compute_with(|entry| match entry {
                Some(entry) if !entry.value().is_expired(now) => {
                    let mut record = SessionRecord::clone(entry.value());
                    change(&mut record);
                    Op::Put(Arc::new(record))
                }
                Some(_) => Op::Remove,
                None => Op::Nop,
            });
        match result {
            CompResult::ReplacedWith(entry) => Some(entry.value().expires_at),
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
        let cache = Cache::builder()
            .max_capacity(self.max_sessions)
            // LRU rather than TinyLFU: a session just created must not be refused admission.
            .eviction_policy(EvictionPolicy::lru())
            .expire_after(RecordExpiry)
            .build();
        MemoryStore { cache }
    }
}

/// Evicts each record at its own effective expiry.
struct RecordExpiry;

impl RecordExpiry {
    fn remaining(record: &SessionRecord) -> Option<Duration> {
        Some(Timestamp::now().duration_until(record.expires_at))
    }
}

impl moka::Expiry<StorageKey, Arc<SessionRecord>> for RecordExpiry {
    fn expire_after_create(
        &self,
        _key: &StorageKey,
        value: &Arc<SessionRecord>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Self::remaining(value)
    }

    fn expire_after_update(
        &self,
        _key: &StorageKey,
        value: &Arc<SessionRecord>,
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
            .filter(|record| !record.is_expired(now))
            .map(|record| SessionRecord::clone(&record)))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let now = Timestamp::now();
        let result = self
            .cache
            .entry(id.storage_key())
            .and_compute_with(|entry| match entry {
                Some(entry) if !entry.value().is_expired(now) => Op::Nop,
                _ => Op::Put(Arc::new(record.clone())),
            });
        Ok(matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        ))
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.modify(id, |record| {
            delta.apply_to(&mut record.data);
            record.extend_to(idle_deadline);
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
            .filter(|record| !record.is_expired(now))
            .map(Arc::unwrap_or_clone))
    }
}
