//! The server backend: a [`CommitPlan`] carried out against a [`SessionStore`].

use crate::store::create_with_fresh_id;
use crate::{
    CommitPlan, ExpiryPolicy, SessionId, SessionRecord, SessionState, SessionStore, Step,
    StoreError, Timestamp,
};

/// What becomes of the client's session cookie after a commit to a server store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum CookieAction {
    /// It stays as it is.
    Unchanged,
    /// It is set to this ID, valid until `expires_at`.
    Set {
        /// The session ID the cookie carries.
        id: SessionId,
        /// The session's effective expiry.
        expires_at: Timestamp,
    },
    /// It is removed.
    Remove,
}

impl CommitPlan {
    /// The answer of a plan that needs no store call ([`needs_store`](Self::needs_store) is
    /// `false`), without running it; `None` otherwise.
    ///
    /// ```
    /// use session_core::{CookieAction, ExpiryPolicy, SessionState};
    /// let plan = SessionState::new(None).into_plan(&ExpiryPolicy::default());
    /// assert_eq!(plan.settled(), Some(CookieAction::Unchanged));
    /// ```
    #[must_use]
    pub fn settled(&self) -> Option<CookieAction> {
        match self.step {
            _ if self.needs_store() => None,
            Step::Remove => Some(CookieAction::Remove),
            _ => Some(CookieAction::Unchanged),
        }
    }

    /// Runs the plan against `store`, with one store call per step (two for a purge followed by
    /// writes, or when a write finds its session gone and starts a new one):
    /// [`delete`](SessionStore::delete) for a purge, then [`create`](SessionStore::create),
    /// [`update_keeping_deadline`](SessionStore::update_keeping_deadline) (the cookie is not sent
    /// again), [`update`](SessionStore::update), [`touch`](SessionStore::touch) or
    /// [`renew`](SessionStore::renew).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use session_core::{CookieAction, ExpiryPolicy, SessionState};
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
    /// let mut state = SessionState::new(None);
    /// state.insert("visits", 1)?;
    /// let action = state.into_plan(&ExpiryPolicy::default()).run(&Store).await?;
    /// assert!(matches!(action, CookieAction::Set { .. }));
    /// # Ok::<(), SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn run(mut self, store: &dyn SessionStore) -> Result<CookieAction, StoreError> {
        // Let the loaded record go before any write, so a store that shares its records with
        // loads changes one in place instead of copying it.
        self.loaded = None;
        if let Some(purged) = &self.purged {
            store.delete(purged).await?;
        }
        let id = match (&self.step, &self.id) {
            (Step::Nothing, _) if self.purged.is_some() => return Ok(CookieAction::Remove),
            (Step::Nothing, _) => return Ok(CookieAction::Unchanged),
            (Step::Remove, _) => return Ok(CookieAction::Remove),
            (Step::Create, _) => return self.create(store, self.fresh(true)).await,
            (_, Some(id)) => id,
            // A step on a session the store cannot know (a sealed cookie's): it is gone.
            (_, None) => return self.create(store, self.after_gone()).await,
        };
        let idle_deadline = self.idle_deadline();
        let written = match self.step {
            Step::UpdateKeeping { loaded } => store
                .update_keeping_deadline(id, &self.delta, loaded)
                .await?
                .map(|_| CookieAction::Unchanged),
            Step::Touch => {
                let touched = store.touch(id, idle_deadline).await?;
                let set = |expires_at| CookieAction::Set {
                    id: id.clone(),
                    expires_at,
                };
                return Ok(touched.map_or(CookieAction::Remove, set));
            }
            Step::Renew => store
                .renew(id, &self.delta, self.renewal())
                .await?
                .map(|(id, expires_at)| CookieAction::Set { id, expires_at }),
            _ => store
                .update(id, &self.delta, idle_deadline)
                .await?
                .map(|expires_at| CookieAction::Set {
                    id: id.clone(),
                    expires_at,
                }),
        };
        match written {
            Some(action) => Ok(action),
            // The session ended while the request ran: its changes start a new session,
            // without the user binding.
            None => self.create(store, self.after_gone()).await,
        }
    }

    /// Creates `record` under a fresh ID; without one, removes the cookie.
    async fn create(
        &self,
        store: &dyn SessionStore,
        record: Option<SessionRecord>,
    ) -> Result<CookieAction, StoreError> {
        let Some(record) = record else {
            return Ok(CookieAction::Remove);
        };
        let id = create_with_fresh_id(store, &record).await?;
        Ok(CookieAction::Set {
            id,
            expires_at: record.expires_at,
        })
    }
}

impl SessionState {
    /// [`into_plan`](Self::into_plan), then [`run`](CommitPlan::run) against `store`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use session_core::{CookieAction, ExpiryPolicy, SessionState};
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
    /// let state = SessionState::new(None);
    /// assert_eq!(state.commit(&Store, &ExpiryPolicy::default()).await?, CookieAction::Unchanged);
    /// # Ok::<(), StoreError>(())
    /// # }).unwrap();
    /// ```
    pub async fn commit(
        self,
        store: &dyn SessionStore,
        policy: &ExpiryPolicy,
    ) -> Result<CookieAction, StoreError> {
        self.into_plan(policy).run(store).await
    }
}
