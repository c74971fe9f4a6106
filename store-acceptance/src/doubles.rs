//! Store wrappers for tests: one counts calls, one fails on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use session_core::{
    ActiveSession, Renewal, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore,
    StoreError, Timestamp, UserSessionStore,
};

/// Live call counters of a [`CountingStore`], by method.
#[derive(Debug, Default)]
struct CallCounts {
    load: AtomicUsize,
    create: AtomicUsize,
    update: AtomicUsize,
    touch: AtomicUsize,
    delete: AtomicUsize,
    take: AtomicUsize,
    renew: AtomicUsize,
}

/// How many times each store method was called, as seen by a [`CountingStore`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    /// [`SessionStore::load`] calls.
    pub load: usize,
    /// [`SessionStore::create`] calls.
    pub create: usize,
    /// [`SessionStore::update`] calls.
    pub update: usize,
    /// [`SessionStore::touch`] calls.
    pub touch: usize,
    /// [`SessionStore::delete`] calls.
    pub delete: usize,
    /// [`SessionStore::take`] calls made from outside the store (not those its own `renew` makes).
    pub take: usize,
    /// [`SessionStore::renew`] calls.
    pub renew: usize,
}

impl Calls {
    /// All calls added up.
    #[must_use]
    pub fn total(&self) -> usize {
        self.load + self.create + self.update + self.touch + self.delete + self.take + self.renew
    }

    /// The calls made after `earlier` was taken.
    #[must_use]
    pub fn since(&self, earlier: Self) -> Self {
        Self {
            load: self.load - earlier.load,
            create: self.create - earlier.create,
            update: self.update - earlier.update,
            touch: self.touch - earlier.touch,
            delete: self.delete - earlier.delete,
            take: self.take - earlier.take,
            renew: self.renew - earlier.renew,
        }
    }
}

/// Wraps a store and counts every call. Clones share the counts.
#[derive(Debug, Clone)]
pub struct CountingStore<S> {
    inner: S,
    counts: Arc<CallCounts>,
}

impl<S> CountingStore<S> {
    /// Wraps `inner` with all counts at zero.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            counts: Arc::default(),
        }
    }

    /// The counts so far.
    #[must_use]
    pub fn calls(&self) -> Calls {
        let c = &self.counts;
        Calls {
            load: c.load.load(Ordering::SeqCst),
            create: c.create.load(Ordering::SeqCst),
            update: c.update.load(Ordering::SeqCst),
            touch: c.touch.load(Ordering::SeqCst),
            delete: c.delete.load(Ordering::SeqCst),
            take: c.take.load(Ordering::SeqCst),
            renew: c.renew.load(Ordering::SeqCst),
        }
    }

    /// The wrapped store.
    #[must_use]
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl<S: SessionStore> SessionStore for CountingStore<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        bump(&self.counts.load);
        self.inner.load(id).await
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        bump(&self.counts.create);
        self.inner.create(id, record).await
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        bump(&self.counts.update);
        self.inner.update(id, delta, idle_deadline).await
    }

    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        bump(&self.counts.update);
        self.inner.update_keeping_deadline(id, delta, loaded).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        bump(&self.counts.touch);
        self.inner.touch(id, idle_deadline).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        bump(&self.counts.delete);
        self.inner.delete(id).await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        bump(&self.counts.take);
        self.inner.take(id).await
    }

    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        bump(&self.counts.renew);
        self.inner.renew(old_id, delta, renewal).await
    }
}

/// Wraps a store and, while switched to failing, answers every call with
/// [`StoreError::Unavailable`]; while switched to stalling, never answers (a store that stopped
/// responding). Clones share the switches.
#[derive(Debug, Clone)]
pub struct FailingStore<S> {
    inner: S,
    failing: Arc<AtomicBool>,
    stalling: Arc<AtomicBool>,
}

impl<S> FailingStore<S> {
    /// A wrapper that starts out working.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            failing: Arc::default(),
            stalling: Arc::default(),
        }
    }

    /// Makes every later call fail (`true`) or work (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Makes every later call never return (`true`) or work (`false`).
    pub fn set_stalling(&self, stalling: bool) {
        self.stalling.store(stalling, Ordering::SeqCst);
    }

    async fn check(&self) -> Result<(), StoreError> {
        if self.stalling.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "injected failure: backend at 10.0.0.7:6379 refused the connection",
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for FailingStore<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.check().await?;
        self.inner.load(id).await
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        self.check().await?;
        self.inner.create(id, record).await
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.check().await?;
        self.inner.update(id, delta, idle_deadline).await
    }

    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.check().await?;
        self.inner.update_keeping_deadline(id, delta, loaded).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.check().await?;
        self.inner.touch(id, idle_deadline).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check().await?;
        self.inner.delete(id).await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.check().await?;
        self.inner.take(id).await
    }

    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        self.check().await?;
        self.inner.renew(old_id, delta, renewal).await
    }
}

#[async_trait]
impl<S: UserSessionStore> UserSessionStore for FailingStore<S> {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        self.check().await?;
        self.inner.sessions_of(user_id).await
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        self.check().await?;
        self.inner.revoke(handle).await
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        self.check().await?;
        self.inner.revoke_all(user_id).await
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        self.check().await?;
        self.inner.revoke_all_except(user_id, keep).await
    }
}
