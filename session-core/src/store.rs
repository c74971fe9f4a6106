//! The storage strategy every backend implements.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{Renewal, SessionDelta, SessionId, SessionRecord, StoreError, Timestamp};

/// A session backend.
///
/// Every method is one round trip wherever the backend allows it. The rules each implementation
/// obeys (checked by the workspace's acceptance suite):
///
/// - **Strict IDs**: only [`create`](Self::create) brings an ID into existence; no other method
///   creates a record for an ID the store does not hold.
/// - **Expiry is enforced here**: a record past its [`expires_at`](SessionRecord::expires_at)
///   is absent for [`load`](Self::load), [`update`](Self::update) and [`touch`](Self::touch), and
///   no write moves `expires_at` past
///   [`absolute_expires_at`](SessionRecord::absolute_expires_at).
/// - **Delta writes**: [`update`](Self::update) applies only the changed keys, so concurrent
///   requests that change different keys both survive, and an update of a missing session does
///   not recreate it (a purged session stays purged).
/// - **Secrets at rest**: server-side stores key records by [`SessionId::storage_key`], never by
///   the ID itself.
///
/// Implementing it for your own backend takes five methods (plus [`take`](Self::take), whose
/// default is not atomic, where the backend can do better); see `examples/custom_store.rs` in
/// the repository for a complete one.
///
/// ```
/// use session_core::{SessionDelta, SessionId, SessionRecord, SessionStore, StoreError, Timestamp};
///
/// /// A store that never holds anything.
/// struct Forgetful;
///
/// #[async_trait::async_trait]
/// impl SessionStore for Forgetful {
///     async fn load(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
///         Ok(None)
///     }
///     async fn create(&self, _: &SessionId, _: &SessionRecord) -> Result<bool, StoreError> {
///         Ok(true)
///     }
///     async fn update(
///         &self,
///         _: &SessionId,
///         _: &SessionDelta,
///         _: Timestamp,
///     ) -> Result<Option<Timestamp>, StoreError> {
///         Ok(None)
///     }
///     async fn touch(&self, _: &SessionId, _: Timestamp) -> Result<Option<Timestamp>, StoreError> {
///         Ok(None)
///     }
///     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> {
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Loads the session, or `None` when it does not exist or has expired.
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError>;

    /// Stores a new session. Returns `false`, writing nothing, when a live session with this ID
    /// already exists (a new ID must never overwrite one).
    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError>;

    /// Applies `delta` to a live session and moves its idle deadline to `idle_deadline`, capped by
    /// its absolute deadline. Returns the new effective expiry, or `None` (writing nothing) when
    /// the session does not exist or has expired.
    ///
    /// **Deadlines only move forward**: when the stored idle deadline is already later than
    /// `idle_deadline` (a concurrent request refreshed it after this one loaded), it stays. A
    /// request that keeps the deadline it loaded must never pull back another's refresh.
    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError>;

    /// Moves the idle deadline of a live session to `idle_deadline`, capped by its absolute
    /// deadline, and never earlier than the stored one (as [`update`](Self::update)). Returns the
    /// new effective expiry, or `None` when the session does not exist or has expired.
    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError>;

    /// Deletes the session. Deleting a missing session is not an error.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;

    /// Applies `delta` to a live session and leaves its deadlines as they are: what a request
    /// whose refresh is not due writes, so it cannot pull back a deadline that a concurrent
    /// request moved. Returns the session's expiry, or `None` (writing nothing) when the session
    /// does not exist or has expired.
    ///
    /// `loaded` is the idle deadline the request loaded. The default is an
    /// [`update`](Self::update) to it, which moves nothing since deadlines only move forward
    /// (and at worst, on a store that broke that rule, sets the deadline the request saw); a
    /// store where moving no deadline is cheaper overrides it and ignores `loaded`.
    ///
    /// ```
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
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (id, delta) = (SessionId::generate(), SessionDelta::default());
    /// let written = Store.update_keeping_deadline(&id, &delta, Timestamp::now()).await?;
    /// assert!(written.is_none(), "no such session");
    /// # Ok::<(), StoreError>(())
    /// # }).unwrap();
    /// ```
    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update(id, delta, loaded).await
    }

    /// A short name of the kind of store (`memory`, `redis`, `postgres`), for spans, logs and
    /// metric labels. The default is `custom`.
    ///
    /// ```
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
    /// assert_eq!(Store.name(), "custom");
    /// ```
    fn name(&self) -> &'static str {
        "custom"
    }

    /// [`load`](Self::load), as a shared record: what the middleware calls. A store that keeps
    /// records in memory overrides it to hand out its own reference-counted record instead of a
    /// copy; the default wraps [`load`](Self::load).
    ///
    /// ```
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
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = Store;
    /// assert!(store.load_shared(&SessionId::generate()).await?.is_none());
    /// # Ok::<(), StoreError>(())
    /// # }).unwrap();
    /// ```
    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        Ok(self.load(id).await?.map(Arc::new))
    }

    /// Removes a live session and returns it, in one atomic step: a concurrent
    /// [`update`](Self::update) lands either before (and is returned) or after (and finds nothing).
    /// Returns `None` when the session does not exist or has expired.
    ///
    /// The default loads, then deletes: two round trips, and not atomic. Every backend that can
    /// should override it, because [`renew`](Self::renew) relies on it to never move a session
    /// that a concurrent logout deleted.
    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let record = self.load(id).await?;
        if record.is_some() {
            self.delete(id).await?;
        }
        Ok(record)
    }

    /// Moves a live session to a fresh ID: [`take`](Self::take)s it, applies `delta`, moves its
    /// deadlines as `renewal` says ([`SessionRecord::apply_renewal`]) and
    /// [`create`](Self::create)s it under a new ID. Returns the new ID and expiry, or `None`
    /// (writing nothing) when the session does not exist or has expired.
    ///
    /// The old ID stops working before the new one exists, so a failure in between signs the
    /// user out rather than leaving the pre-renew ID alive (fail closed).
    ///
    /// **Revocation wins.** A [`revoke`](crate::UserSessionStore::revoke) or
    /// [`revoke_all`](crate::UserSessionStore::revoke_all) that runs while a renew is in flight
    /// leaves neither ID live: either it lands first and the renew finds nothing (`None`), or it
    /// reaches the session under its new ID. The default (take, then create) has a gap between
    /// the two steps that a revocation can miss, so every store that implements
    /// [`UserSessionStore`](crate::UserSessionStore) overrides it: the memory store moves the
    /// record under its locks, PostgreSQL rewrites the row's key in one statement, and Redis
    /// leaves a forwarding marker on the old key that revocations follow to the new one.
    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        let now = Timestamp::now();
        let Some(mut record) = self.take(old_id).await? else {
            return Ok(None);
        };
        let expires_at = record.apply_renewal(delta, renewal);
        if record.is_expired(now) {
            return Ok(None);
        }
        let new_id = create_with_fresh_id(self, &record).await?;
        Ok(Some((new_id, expires_at)))
    }
}

/// How many fresh IDs a create tries before giving up. With 256-bit IDs a second try never
/// happens in practice; the bound only keeps a broken store from looping forever.
const ID_ATTEMPTS: usize = 3;

/// Creates `record` under a freshly generated ID and returns the ID.
pub(crate) async fn create_with_fresh_id<S: SessionStore + ?Sized>(
    store: &S,
    record: &SessionRecord,
) -> Result<SessionId, StoreError> {
    for _ in 0..ID_ATTEMPTS {
        let id = SessionId::generate();
        if store.create(&id, record).await? {
            return Ok(id);
        }
    }
    Err(StoreError::backend(
        "store reported every freshly generated session ID as taken",
    ))
}

#[async_trait]
impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        (**self).load(id).await
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        (**self).create(id, record).await
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        (**self).update(id, delta, idle_deadline).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        (**self).touch(id, idle_deadline).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        (**self).delete(id).await
    }

    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        (**self).update_keeping_deadline(id, delta, loaded).await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        (**self).take(id).await
    }

    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        (**self).load_shared(id).await
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        (**self).renew(old_id, delta, renewal).await
    }
}
