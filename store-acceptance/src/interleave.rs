//! The interleaving harness: a store wrapper that holds a call at a chosen point, so a check
//! places one request's store calls between another's, deterministically.
//!
//! ```
//! # store_acceptance::run(async {
//! use std::sync::Arc;
//! use session_core::{SessionId, SessionStore};
//! use store_acceptance::interleave::{Interleaved, Op, Point};
//!
//! let store = Arc::new(Interleaved::new(store_memory::MemoryStore::default()));
//! // The next load pauses after the store answered, until released.
//! let hold = store.hold(Point::After(Op::Load));
//! let loading = tokio::spawn({
//!     let store = Arc::clone(&store);
//!     async move { store.load(&SessionId::generate()).await }
//! });
//! let hold = hold.reached().await;
//! // ... whatever must happen between the load and its caller seeing the answer ...
//! hold.release();
//! assert!(loading.await.unwrap().unwrap().is_none());
//! # });
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use session_core::{
    ActiveSession, Renewal, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore,
    StoreError, Timestamp, UserSessionStore,
};
use tokio::sync::oneshot;

/// A store operation, as a caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// [`SessionStore::load`] or [`SessionStore::load_shared`].
    Load,
    /// [`SessionStore::create`].
    Create,
    /// [`SessionStore::update`] or [`SessionStore::update_keeping_deadline`].
    Update,
    /// [`SessionStore::touch`].
    Touch,
    /// [`SessionStore::delete`].
    Delete,
    /// [`SessionStore::take`].
    Take,
    /// [`SessionStore::renew`].
    Renew,
    /// [`UserSessionStore::sessions_of`].
    SessionsOf,
    /// [`UserSessionStore::revoke`].
    Revoke,
    /// [`UserSessionStore::revoke_all`] or [`UserSessionStore::revoke_all_except`].
    RevokeAll,
}

/// Where a call can be held: before it reaches the store, or after the store answered and
/// before the caller sees the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Before the call reaches the store.
    Before(Op),
    /// After the store answered, before the caller sees it.
    After(Op),
}

/// A hold placed with [`Interleaved::hold`]: the first call to reach its point waits there.
#[derive(Debug)]
#[must_use = "a hold that is never awaited and released leaves its call waiting"]
pub struct Hold {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

/// A hold whose call is waiting at its point.
#[derive(Debug)]
#[must_use = "release the held call"]
pub struct Held {
    release: oneshot::Sender<()>,
}

impl Hold {
    /// Waits until a call reaches the point, and returns the handle that releases it.
    ///
    /// # Panics
    ///
    /// When the store is dropped before any call reached the point.
    pub async fn reached(self) -> Held {
        #[allow(clippy::expect_used)]
        self.reached
            .await
            .expect("the store was dropped before a call reached the hold");
        Held {
            release: self.release,
        }
    }
}

impl Held {
    /// Lets the held call go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

struct Waiting {
    point: Point,
    reached: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

/// A store wrapper whose calls can be held at chosen [`Point`]s. Every call is forwarded to the
/// wrapped store's own method (its `renew` and `revoke_all` included), so the wrapper adds
/// pauses between the store's operations and never changes what one operation does.
pub struct Interleaved {
    inner: Arc<dyn UserSessionStore>,
    holds: Mutex<Vec<Waiting>>,
}

impl fmt::Debug for Interleaved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interleaved").finish_non_exhaustive()
    }
}

impl Interleaved {
    /// Wraps `store`.
    pub fn new(store: impl UserSessionStore) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Wraps a store already shared.
    #[must_use]
    pub fn from_arc(store: Arc<dyn UserSessionStore>) -> Self {
        Self {
            inner: store,
            holds: Mutex::new(Vec::new()),
        }
    }

    /// Holds the next call that reaches `point` (only that one; later calls pass).
    pub fn hold(&self, point: Point) -> Hold {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.holds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Waiting {
                point,
                reached: reached_tx,
                release: release_rx,
            });
        Hold {
            reached: reached_rx,
            release: release_tx,
        }
    }

    async fn pause(&self, point: Point) {
        let waiting = {
            let mut holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
            let at = holds.iter().position(|w| w.point == point);
            at.map(|i| holds.remove(i))
        };
        if let Some(waiting) = waiting {
            let _ = waiting.reached.send(());
            // A dropped `Held` releases the call too.
            let _ = waiting.release.await;
        }
    }

    async fn around<T>(&self, op: Op, call: impl Future<Output = T>) -> T {
        self.pause(Point::Before(op)).await;
        let answer = call.await;
        self.pause(Point::After(op)).await;
        answer
    }
}

#[async_trait]
impl SessionStore for Interleaved {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.around(Op::Load, self.inner.load(id)).await
    }

    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        self.around(Op::Load, self.inner.load_shared(id)).await
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        self.around(Op::Create, self.inner.create(id, record)).await
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.around(Op::Update, self.inner.update(id, delta, idle_deadline))
            .await
    }

    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.around(
            Op::Update,
            self.inner.update_keeping_deadline(id, delta, loaded),
        )
        .await
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.around(Op::Touch, self.inner.touch(id, idle_deadline))
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.around(Op::Delete, self.inner.delete(id)).await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.around(Op::Take, self.inner.take(id)).await
    }

    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        self.around(Op::Renew, self.inner.renew(old_id, delta, renewal))
            .await
    }
}

#[async_trait]
impl UserSessionStore for Interleaved {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        self.around(Op::SessionsOf, self.inner.sessions_of(user_id))
            .await
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        self.around(Op::Revoke, self.inner.revoke(handle)).await
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        self.around(Op::RevokeAll, self.inner.revoke_all(user_id))
            .await
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        self.around(Op::RevokeAll, self.inner.revoke_all_except(user_id, keep))
            .await
    }
}
