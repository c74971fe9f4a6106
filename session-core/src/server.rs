//! The server backend: a [`CommitPlan`] carried out against a [`SessionStore`].

use crate::store::create_with_fresh_id;
use crate::{
    CommitPlan, ExpiryPolicy, SessionId, SessionState, SessionStore, Step, StoreError, Timestamp,
};

/// What the response must do with the session cookie after a commit to a server store.
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

impl CommitPlan {
    /// The answer of a plan that needs no store call ([`needs_store`](Self::needs_store) is
    /// `false`), without running it; `None` otherwise.
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
        let idle_deadline = self.idle_deadline();
        let id = match (&self.step, &self.id) {
            (Step::Nothing, _) if self.purged.is_some() => return Ok(CookieAction::Remove),
            (Step::Nothing, _) => return Ok(CookieAction::Unchanged),
            (Step::Remove, _) => return Ok(CookieAction::Remove),
            (Step::Create, _) => return self.create(store, true).await,
            (_, Some(id)) => id,
            // A step on a session the store cannot know (a sealed cookie's): it is gone.
            (_, None) => return self.create(store, false).await,
        };
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
                .renew(id, &self.delta, idle_deadline)
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
            None => self.create(store, false).await,
        }
    }

    /// Creates a session holding the request's changes, with the user binding if `keep_user`;
    /// removes the cookie when that leaves no data.
    async fn create(
        &self,
        store: &dyn SessionStore,
        keep_user: bool,
    ) -> Result<CookieAction, StoreError> {
        let Some(record) = self.fresh(keep_user) else {
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::{SessionData, SessionDelta, SessionRecord};

    /// A store that holds every session it is given and counts the calls it gets.
    #[derive(Default)]
    struct Counted {
        records: Mutex<Vec<(SessionId, SessionRecord)>>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl SessionStore for Counted {
        async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            Ok(records
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, r)| r.clone()))
        }
        async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
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
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Some(deadline))
        }
        async fn touch(
            &self,
            _: &SessionId,
            at: Timestamp,
        ) -> Result<Option<Timestamp>, StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Some(at))
        }
        async fn delete(&self, _: &SessionId) -> Result<(), StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn record(idle_left: Duration) -> SessionRecord {
        let now = Timestamp::now();
        let week = Duration::from_secs(7 * 24 * 3600);
        SessionRecord::new(SessionData::new(), now, now + idle_left, now + week)
    }

    /// `settled` answers exactly when `run` makes no store call, and answers the same.
    #[tokio::test]
    async fn settled_agrees_with_a_run_that_calls_no_store() {
        let policy = ExpiryPolicy::default();
        let fresh = Some(record(Duration::from_secs(23 * 3600)));
        let due = Some(record(Duration::from_secs(3600)));
        let mut flashed = record(Duration::from_secs(23 * 3600));
        let flash = crate::flash::flash_key("notice");
        flashed.data.insert(flash, serde_json::json!(1));
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
            ("flash read", Some(Some(flashed)), |s| {
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
                let plan = state.into_plan(&policy);
                let settled = plan.settled();
                let store = Counted::default();
                let action = plan.run(&store).await.unwrap();
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
