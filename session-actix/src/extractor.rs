//! The `Session` extractor handlers take.

use std::fmt;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use futures_util::lock::Mutex as AsyncMutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use session_core::clock::SharedClock;
use session_core::{
    CookieAction, ExpiryPolicy, Lookup, SessionError, SessionExpiry, SessionId, SessionState,
    SessionStore, StoreError,
};

use crate::middleware::SessionSlot;

/// The current request's session.
///
/// Take it as a handler argument. Nothing is loaded until the first [`get`](Self::get); writes
/// are recorded and persisted by the middleware after the handler, as one store call with just
/// the changed keys. Cloning is cheap and clones share the same session; it is `Send + Sync`, so
/// it can move into spawned work that finishes before the handler returns (changes made after
/// the response has been sent are not persisted).
///
/// ```
/// use actix_web::{App, HttpResponse, get, test};
/// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
///
/// #[get("/")]
/// async fn index(session: Session) -> actix_web::Result<String> {
///     let visits: u64 = session.get("visits").await?.unwrap_or(0);
///     session.insert("visits", visits + 1).await?;
///     Ok(format!("visit {visits}"))
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let app = test::init_service(
///     App::new().wrap(SessionMiddleware::new(MemoryStore::default())).service(index),
/// )
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
/// assert!(res.headers().contains_key("set-cookie"));
/// # });
/// ```
#[derive(Clone)]
pub struct Session(Arc<SessionInner>);

struct SessionInner {
    store: Arc<dyn SessionStore>,
    /// The middleware's clock, which the state reads.
    clock: SharedClock,
    state: Mutex<SessionState>,
    /// Serializes loads so concurrent reads in one request share a single store round trip.
    load_gate: AsyncMutex<()>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("has_cookie", &state.origin().is_some())
            .field("loaded", &state.is_loaded())
            .field("changed", &!state.delta().is_empty())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        store: Arc<dyn SessionStore>,
        origin: Option<SessionId>,
        clock: SharedClock,
    ) -> Self {
        Self(Arc::new(SessionInner {
            store,
            state: Mutex::new(SessionState::with_clock(origin, Arc::clone(&clock))),
            clock,
            load_gate: AsyncMutex::new(()),
        }))
    }

    /// The state a committed session is left with: no session, so a late write (after the
    /// response) changes nothing that is persisted.
    fn committed_state(&self) -> SessionState {
        SessionState::with_clock(None, Arc::clone(&self.0.clock))
    }

    fn state(&self) -> MutexGuard<'_, SessionState> {
        // A panic elsewhere while holding the lock leaves the state consistent (every mutation
        // is a single call), so a poisoned lock is still usable.
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loads the stored record once, however many reads ask at the same time.
    async fn load(&self) -> Result<(), StoreError> {
        let _gate = self.0.load_gate.lock().await;
        let origin = {
            let state = self.state();
            if state.is_loaded() {
                return Ok(());
            }
            state.origin().cloned()
        };
        if let Some(id) = origin {
            // Through `dyn SessionStore` itself: the blanket impl for `Arc` would box a second
            // future around the store's.
            let record = self.0.store.as_ref().load_shared(&id).await?;
            self.state().set_loaded_shared(record);
        }
        Ok(())
    }

    /// Reads `key` as a `T`. The first read of a request loads the session (one store round
    /// trip); later reads are served from memory. A pending [flash](Self::flash) value of `key`
    /// is returned once and removed.
    ///
    /// A stored value that does not deserialize into `T` is [`SessionError::Deserialize`], and
    /// stays stored as it was.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("cart", vec!["book", "pen"]).await?;
    /// let cart: Option<Vec<String>> = session.get("cart").await?;
    /// assert_eq!(cart.unwrap(), ["book", "pen"]);
    /// assert!(session.get::<u32>("cart").await.is_err());
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        loop {
            match self.state().get::<T>(key)? {
                Lookup::Ready(value) => return Ok(value),
                Lookup::NeedsLoad => {}
            }
            self.load().await?;
        }
    }

    /// When the session expires, as stored before this request: its idle deadline (which this
    /// request may still push forward) and its absolute deadline. `None` for a visitor without
    /// a live session. Loads the session if no read did yet.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// assert!(session.expiry().await?.is_none());
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn expiry(&self) -> Result<Option<SessionExpiry>, SessionError> {
        loop {
            let lookup = self.state().expiry();
            match lookup {
                Lookup::Ready(expiry) => return Ok(expiry),
                Lookup::NeedsLoad => self.load().await?,
            }
        }
    }

    /// Sets `key` to `value` (any `Serialize` type, stored as JSON). Needs no load.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("user_id", 42).await?;
    /// assert_eq!(session.get::<u32>("user_id").await?, Some(42));
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn insert(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let Some(limit) = self.0.store.as_ref().max_data_bytes() else {
            return self.state().insert(key, value);
        };
        let value = to_json(&key, value)?;
        self.check_size(limit, &key, &key, &value).await?;
        self.state().insert(key, value)
    }

    /// Refuses a write that would take the session past the store's size limit (a cookie
    /// store's, `limit` bytes of JSON), so the handler gets a typed error instead of a cookie
    /// the browser drops.
    async fn check_size(
        &self,
        limit: usize,
        key: &str,
        stored_key: &str,
        value: &Value,
    ) -> Result<(), SessionError> {
        loop {
            // Bind first: a guard in a `match` scrutinee would be held across the load below.
            let lookup = self.state().data_len_with(stored_key, value);
            let size = match lookup {
                Lookup::Ready(size) => size,
                Lookup::NeedsLoad => {
                    self.load().await?;
                    continue;
                }
            };
            if size > limit {
                return Err(SessionError::TooLarge {
                    key: key.to_owned(),
                    size,
                    limit,
                });
            }
            return Ok(());
        }
    }

    /// Removes `key` (and any pending flash value of it). Needs no load.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("token", "abc").await?;
    /// session.remove("token").await?;
    /// assert_eq!(session.get::<String>("token").await?, None);
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn remove(&self, key: &str) -> Result<(), SessionError> {
        self.state().remove(key)
    }

    /// Drops all data, flash values included. The session and its ID stay.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("a", 1).await?;
    /// session.clear().await?;
    /// assert_eq!(session.get::<u32>("a").await?, None);
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn clear(&self) -> Result<(), SessionError> {
        self.state().clear();
        Ok(())
    }

    /// Stores `value` for a later request: the first [`get`](Self::get) of `key` returns it and
    /// removes it, and the removal is persisted.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.flash("notice", "Signed in").await?;
    /// assert_eq!(session.get::<String>("notice").await?.as_deref(), Some("Signed in"));
    /// assert_eq!(session.get::<String>("notice").await?, None);
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn flash(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let Some(limit) = self.0.store.as_ref().max_data_bytes() else {
            return self.state().flash(key, value);
        };
        let value = to_json(&key, value)?;
        let stored_key = session_core::flash::flash_key(&key);
        self.check_size(limit, &key, &stored_key, &value).await?;
        self.state().flash(key, value)
    }

    /// Binds the session to `user_id` and renews its ID (the privilege changed), so stores that
    /// implement [`UserSessionStore`](session_core::UserSessionStore) can list and revoke the
    /// user's sessions ("sign out everywhere").
    ///
    /// The user ID is stored with the session's data, so on a store with a size limit (the
    /// cookie store) an ID that would take the session past it is [`SessionError::TooLarge`]
    /// (its `key` is [`USER_KEY`](session_core::users::USER_KEY)), and the session is left as
    /// it was: not bound, not renewed.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.set_user("user-42").await?;
    /// assert_eq!(session.user().await?.as_deref(), Some("user-42"));
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_user(&self, user_id: impl Into<String>) -> Result<(), SessionError> {
        let user_id = user_id.into();
        if let Some(limit) = self.0.store.as_ref().max_data_bytes() {
            let key = session_core::users::USER_KEY;
            self.check_size(limit, key, key, &Value::String(user_id.clone()))
                .await?;
        }
        // Loaded first (one round trip, on sign-in only), so the commit knows whether the
        // session was live: one that ends while this request runs (revoked, purged) must not come
        // back bound to the user, while a stale cookie's sign-in starts a session that is.
        self.load().await?;
        self.state().set_user(user_id);
        Ok(())
    }

    /// The user the session is bound to by [`set_user`](Self::set_user), if any.
    pub async fn user(&self) -> Result<Option<String>, SessionError> {
        loop {
            let lookup = self.state().user();
            match lookup {
                Lookup::Ready(user) => return Ok(user),
                Lookup::NeedsLoad => self.load().await?,
            }
        }
    }

    /// Records what the app wants to show about this client when the user lists their
    /// sessions: user agent, IP address, a device name. Nothing is recorded unless the app
    /// calls this.
    ///
    /// On a store with a size limit (the cookie store), info that would take the session past
    /// it is [`SessionError::TooLarge`] (its `key` is
    /// [`CLIENT_KEY`](session_core::users::CLIENT_KEY)), and nothing is recorded.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.set_client_info(serde_json::json!({ "user_agent": "Firefox", "ip": "192.0.2.1" })).await?;
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_client_info(&self, info: impl Serialize) -> Result<(), SessionError> {
        let Some(limit) = self.0.store.as_ref().max_data_bytes() else {
            return self.state().set_client_info(info);
        };
        let key = session_core::users::CLIENT_KEY;
        let info = to_json(key, info)?;
        self.check_size(limit, key, key, &info).await?;
        self.state().set_client_info(info)
    }

    /// The handle of the session this request arrived with (`None` for a visitor without one),
    /// e.g. to keep it in [`revoke_all_except`](session_core::UserSessionStore::revoke_all_except).
    #[must_use]
    pub fn handle(&self) -> Option<session_core::SessionHandle> {
        self.state().handle()
    }

    /// Moves the session to a new ID, keeping its data; the old ID stops working. Call it when
    /// privileges change (sign-in) to defeat session fixation.
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("user", "ada").await?;
    /// session.renew().await?;
    /// assert_eq!(session.get::<String>("user").await?.as_deref(), Some("ada"));
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn renew(&self) -> Result<(), SessionError> {
        self.state().renew();
        Ok(())
    }

    /// Deletes the session from the store and removes the cookie. Writes after a purge, in the
    /// same request, start a new session with a new ID (e.g. a "Signed out" flash message).
    ///
    /// ```
    /// # actix_web::rt::System::new().block_on(async {
    /// # let session = session_actix::Session::detached();
    /// session.insert("user", "ada").await?;
    /// session.purge().await?;
    /// assert_eq!(session.get::<String>("user").await?, None);
    /// # Ok::<(), session_actix::SessionError>(())
    /// # }).unwrap();
    /// ```
    pub async fn purge(&self) -> Result<(), SessionError> {
        self.state().purge();
        Ok(())
    }

    /// The commit's answer when it needs no store call (nothing written, no refresh due), with
    /// the session then reset as [`commit`](Self::commit) leaves it; `None` when it needs the
    /// store.
    pub(crate) fn settle(&self, policy: &ExpiryPolicy) -> Option<CookieAction> {
        let mut state = self.state();
        let action = state.settled(policy)?;
        *state = self.committed_state();
        Some(action)
    }

    /// Persists the request's changes; called once by the middleware after the handler.
    pub(crate) async fn commit(&self, policy: &ExpiryPolicy) -> Result<CookieAction, StoreError> {
        let state = std::mem::replace(&mut *self.state(), self.committed_state());
        state.commit(self.0.store.as_ref(), policy).await
    }

    /// A session with no cookie over a throwaway in-memory store, for doc examples.
    #[doc(hidden)]
    #[cfg(feature = "memory")]
    #[must_use]
    pub fn detached() -> Self {
        Self::new(
            Arc::new(store_memory::MemoryStore::default()),
            None,
            session_core::clock::system(),
        )
    }
}

fn to_json(key: &str, value: impl Serialize) -> Result<Value, SessionError> {
    serde_json::to_value(value).map_err(|source| SessionError::Serialize {
        key: key.to_owned(),
        source,
    })
}

/// The error for a handler that takes a [`Session`] in an app without [`SessionMiddleware`]:
/// a setup mistake, answered with `500` and an opaque body.
///
/// [`SessionMiddleware`]: crate::SessionMiddleware
#[derive(Debug, thiserror::Error)]
#[error("Session extractor used without SessionMiddleware; wrap the app with SessionMiddleware")]
#[non_exhaustive]
pub struct MissingSessionMiddleware;

impl actix_web::ResponseError for MissingSessionMiddleware {
    fn error_response(&self) -> actix_web::HttpResponse {
        actix_web::HttpResponse::InternalServerError().body("Internal Server Error")
    }
}

impl FromRequest for Session {
    type Error = MissingSessionMiddleware;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req
            .extensions()
            .get::<SessionSlot>()
            .map(|slot| slot.session(req.headers()));
        ready(session.ok_or_else(|| {
            log::error!("{MissingSessionMiddleware}");
            MissingSessionMiddleware
        }))
    }
}
