//! The `Session` handlers take: one request's session, loaded on first read.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use actix_web::rt::time::Instant;
use futures_util::lock::Mutex as AsyncMutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use session_core::users::{CLIENT_KEY, USER_KEY};
use session_core::{
    ActiveSession, CommitPlan, Lookup, Refusal, SessionBackend, SessionExpiry, SessionHandle,
    SessionLifetime, SessionRecord, SessionState, StoreError, Timestamp, UserSessionStore,
};

use crate::config::SessionConfig;
use crate::cookie::SealedCookie;
use crate::error::{ErrorKind, SessionError};
use crate::events::{EventKind, SessionEvent};

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
    config: Arc<SessionConfig>,
    /// For a sealed backend, the sealed session the request carried.
    sealed: Option<SealedCookie>,
    state: Mutex<SessionState>,
    /// Serializes loads so concurrent reads in one request share a single store round trip.
    load_gate: AsyncMutex<()>,
    /// When this request's store calls must be done by, set by the first one (with a
    /// [`store_deadline`](crate::SessionMiddlewareBuilder::store_deadline)).
    deadline: OnceLock<Instant>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("has_cookie", &state.has_origin())
            .field("loaded", &state.is_loaded())
            .field("changed", &!state.delta().is_empty())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session of a request whose cookie gave `state`, and for a sealed backend, carried
    /// `sealed`.
    pub(crate) fn new(
        config: Arc<SessionConfig>,
        state: SessionState,
        sealed: Option<SealedCookie>,
    ) -> Self {
        Self(Arc::new(SessionInner {
            config,
            sealed,
            state: Mutex::new(state),
            load_gate: AsyncMutex::new(()),
            deadline: OnceLock::new(),
        }))
    }

    /// When this request's store calls must be done by, if the middleware bounds them: the
    /// first call to ask starts the clock.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let budget = self.0.config.store_deadline?;
        Some(*self.0.deadline.get_or_init(|| Instant::now() + budget))
    }

    fn state(&self) -> MutexGuard<'_, SessionState> {
        // A panic elsewhere while holding the lock leaves the state consistent (every mutation
        // is a single call), so a poisoned lock is still usable.
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loads the session once, however many reads ask at the same time: from the store, or
    /// opened from the sealed cookie.
    pub(crate) async fn load(&self) -> Result<(), StoreError> {
        let _gate = self.0.load_gate.lock().await;
        let origin = {
            let state = self.state();
            if state.is_loaded() {
                return Ok(());
            }
            state.origin().cloned()
        };
        match (&self.0.config.backend, origin) {
            // Through `dyn SessionStore` itself: the blanket impl for `Arc` would box a second
            // future around the store's.
            (SessionBackend::Store(store), Some(id)) => {
                let config = &self.0.config;
                let store = store.as_ref();
                let deadline = self.deadline();
                let (loaded, took) =
                    crate::events::store_call!(config, deadline, "load", store.load_shared(&id));
                let (kind, user) = match &loaded {
                    Ok(Some(record)) => (EventKind::Loaded, record.user()),
                    Ok(None) => (EventKind::Refused(Refusal::Unknown), None),
                    Err(_) => (EventKind::StoreError { operation: "load" }, None),
                };
                config.emit(kind, |kind| {
                    SessionEvent::new(kind, Some(SessionHandle::of(&id)), user).took(took)
                });
                self.state().set_loaded_shared(loaded?);
            }
            _ => {
                let opened = self.open_sealed();
                self.state().set_loaded(opened);
            }
        }
        Ok(())
    }

    /// The sealed session the request carried, opened (`None` without one, one that does not
    /// open, or for a server store); a refused or expired one is an event.
    fn open_sealed(&self) -> Option<SessionRecord> {
        let config = &self.0.config;
        let SessionBackend::Sealed(sealer) = &config.backend else {
            return None;
        };
        let opened =
            crate::sealed::open(sealer.as_ref(), &config.cookie.name, self.0.sealed.as_ref());
        let (kind, user) = match &opened {
            Ok(Some(record)) if record.is_expired(config.clock.now()) => {
                (EventKind::Refused(Refusal::Expired), None)
            }
            Ok(Some(record)) => (EventKind::Loaded, record.user()),
            Ok(None) => (EventKind::Loaded, None),
            Err(refusal) => (EventKind::Refused(*refusal), None),
        };
        config.emit(kind, |kind| SessionEvent::new(kind, None, user));
        opened.ok().flatten()
    }

    /// Whether the request changed a session it never loaded (a blind write).
    pub(crate) fn writes_unread(&self) -> bool {
        let state = self.state();
        !state.is_loaded() && state.has_changes()
    }

    /// For a sealed backend, the sealed session the request carried.
    pub(crate) fn sealed_cookie(&self) -> Option<&SealedCookie> {
        self.0.sealed.as_ref()
    }

    /// Reads `key` as a `T`. The first read of a request loads the session (one store round
    /// trip); later reads are served from memory. A pending [flash](Self::flash) value of `key`
    /// is returned once and removed.
    ///
    /// A stored value that does not deserialize into `T` is [`ErrorKind::Deserialize`](crate::ErrorKind::Deserialize), and
    /// stays stored as it was.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("cart", vec!["book", "pen"]).await?;
    /// let cart: Option<Vec<String>> = session.get("cart").await?;
    /// assert_eq!(cart.unwrap(), ["book", "pen"]);
    /// assert!(session.get::<u32>("cart").await.is_err());
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
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
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// assert!(session.expiry().await?.is_none());
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
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
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("user_id", 42).await?;
    /// assert_eq!(session.get::<u32>("user_id").await?, Some(42));
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn insert(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = to_json(&key, value)?;
        self.check_fits(&key, &key, &value).await?;
        Ok(self.state().insert(key, value)?)
    }

    /// On a sealed backend, refuses a write of `value` under `stored_key` that would take the
    /// session past the sealer's size limit, so the handler gets a typed error instead of a
    /// cookie the browser drops. A server store has no such limit.
    async fn check_fits(
        &self,
        key: &str,
        stored_key: &str,
        value: &Value,
    ) -> Result<(), SessionError> {
        let SessionBackend::Sealed(sealer) = &self.0.config.backend else {
            return Ok(());
        };
        let limit = sealer.max_data_bytes();
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
                self.0
                    .config
                    .emit(EventKind::TooLarge { size, limit }, |kind| {
                        SessionEvent::new(kind, None, None)
                    });
                return Err(SessionError::from(ErrorKind::TooLarge {
                    key: key.to_owned(),
                    size,
                    limit,
                }));
            }
            return Ok(());
        }
    }

    /// Removes `key` (and any pending flash value of it). Needs no load.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("token", "abc").await?;
    /// session.remove("token").await?;
    /// assert_eq!(session.get::<String>("token").await?, None);
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn remove(&self, key: &str) -> Result<(), SessionError> {
        Ok(self.state().remove(key)?)
    }

    /// Drops all data, flash values included. The session and its ID stay.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("a", 1).await?;
    /// session.clear().await?;
    /// assert_eq!(session.get::<u32>("a").await?, None);
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn clear(&self) -> Result<(), SessionError> {
        self.state().clear();
        Ok(())
    }

    /// Stores `value` for a later request: the first [`get`](Self::get) of `key` returns it and
    /// removes it, and the removal is persisted.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.flash("notice", "Signed in").await?;
    /// assert_eq!(session.get::<String>("notice").await?.as_deref(), Some("Signed in"));
    /// assert_eq!(session.get::<String>("notice").await?, None);
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn flash(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = to_json(&key, value)?;
        let stored_key = session_core::flash::flash_key(&key);
        self.check_fits(&key, &stored_key, &value).await?;
        Ok(self.state().flash(key, value)?)
    }

    /// Binds the session to `user_id`, records that the user authenticated now (see
    /// [`authenticated_at`](Self::authenticated_at)) and renews its ID (the privilege changed),
    /// so stores that implement [`UserSessionStore`](session_core::UserSessionStore) can list
    /// and revoke the user's sessions ("sign out everywhere"). Call it on every sign-in and on
    /// every re-authentication of the same user.
    ///
    /// The user ID is stored with the session's data, so on a store with a size limit (the
    /// cookie store) an ID that would take the session past it is [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge)
    /// (its `key` is [`USER_KEY`](session_core::users::USER_KEY)), and the session is left as
    /// it was: not bound, not renewed.
    ///
    /// With a cap of sessions per user
    /// ([`sessions_per_user`](crate::SessionMiddlewareBuilder::sessions_per_user)), it first
    /// makes room: it returns the user's sessions it ended (oldest first), or refuses with
    /// [`ErrorKind::TooManySessions`](crate::ErrorKind::TooManySessions), leaving the session
    /// as it was. Without a cap it returns no sessions.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.set_user("user-42").await?;
    /// assert_eq!(session.user().await?.as_deref(), Some("user-42"));
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn set_user(
        &self,
        user_id: impl Into<String>,
    ) -> Result<Vec<ActiveSession>, SessionError> {
        let user_id = user_id.into();
        let value = Value::String(user_id.clone());
        self.check_fits(USER_KEY, USER_KEY, &value).await?;
        // Loaded first (one round trip, on sign-in only), so the commit knows whether the
        // session was live: one that ends while this request runs (revoked, purged) must not come
        // back bound to the user, while a stale cookie's sign-in starts a session that is.
        self.load().await?;
        let ended = match &self.0.config.user_limit {
            Some((store, limit)) => {
                let current = self.handle();
                let room = limit.make_room(store.as_ref(), &user_id, current.as_ref());
                // A refusal by the cap is its answer, not a failed store call.
                let call = async {
                    match room.await {
                        Ok(ended) => Ok(Ok(ended)),
                        Err(ErrorKind::Store(err)) => Err(err),
                        Err(refused) => Ok(Err(refused)),
                    }
                };
                let count = |made: &Result<Vec<ActiveSession>, ErrorKind>| {
                    made.as_ref().map_or(0, Vec::len)
                };
                self.revoking(current, Some(&user_id), call, count)
                    .await??
            }
            None => Vec::new(),
        };
        self.state().set_user(user_id);
        Ok(ended)
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

    /// When the user last authenticated on this session, that is when the handler last called
    /// [`set_user`](Self::set_user) for it; `None` when no user is bound.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// assert_eq!(session.authenticated_at().await?, None);
    /// session.set_user("ada").await?;
    /// assert!(session.authenticated_at().await?.is_some());
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn authenticated_at(&self) -> Result<Option<Timestamp>, SessionError> {
        loop {
            let lookup = self.state().authenticated_at();
            match lookup {
                Lookup::Ready(at) => return Ok(at),
                Lookup::NeedsLoad => self.load().await?,
            }
        }
    }

    /// Whether a user is bound and authenticated less than `max_age` ago, by the middleware's
    /// clock: what a handler checks before a sensitive action (see
    /// [`RequireFreshLogin`](crate::RequireFreshLogin) for a guard that does it for a scope).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// assert!(!session.authenticated_within(Duration::from_secs(300)).await?);
    /// session.set_user("ada").await?;
    /// assert!(session.authenticated_within(Duration::from_secs(300)).await?);
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn authenticated_within(&self, max_age: Duration) -> Result<bool, SessionError> {
        let Some(at) = self.authenticated_at().await? else {
            return Ok(false);
        };
        Ok(at.duration_until(self.0.config.clock.now()) < max_age)
    }

    /// Gives the session a lifetime of its own, within the bounds set with
    /// [`allow_session_lifetimes`](crate::SessionMiddlewareBuilder::allow_session_lifetimes):
    /// [`SessionLifetime::Browser`] for a cookie the browser drops when it closes (the
    /// server-side deadlines stay the middleware's), or [`SessionLifetime::Timeouts`] for
    /// idle and absolute timeouts of its own ("remember me"), which the store enforces as it
    /// enforces the defaults. Like a sign-in, it renews the ID and restarts both deadlines.
    /// A lifetime the middleware does not allow is
    /// [`ErrorKind::LifetimeNotAllowed`](crate::ErrorKind::LifetimeNotAllowed), and nothing
    /// changes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use session_actix::SessionLifetime;
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// const DAY: Duration = Duration::from_secs(24 * 3600);
    /// session.set_user("ada").await?;
    /// session.set_lifetime(SessionLifetime::Timeouts { idle: 30 * DAY, absolute: 90 * DAY })?;
    /// let too_long = SessionLifetime::Timeouts { idle: 365 * DAY, absolute: 365 * DAY };
    /// assert!(session.set_lifetime(too_long).is_err());
    /// # Ok("") }
    /// # let day = Duration::from_secs(24 * 3600);
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::builder(session_actix::store::MemoryStore::default()).allow_session_lifetimes(30 * day, 90 * day).build()).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub fn set_lifetime(&self, lifetime: SessionLifetime) -> Result<(), SessionError> {
        let refuse = |reason| Err(SessionError::from(ErrorKind::LifetimeNotAllowed { reason }));
        let Some(max) = self.0.config.max_lifetime else {
            return refuse("lifetimes are not enabled (allow_session_lifetimes)");
        };
        if let SessionLifetime::Timeouts { idle, absolute } = lifetime {
            if idle.is_zero() || absolute.is_zero() {
                return refuse("a timeout of zero");
            }
            if idle > max.idle_timeout() || absolute > max.absolute_timeout() {
                return refuse("longer than the middleware allows");
            }
        }
        self.state().set_lifetime(lifetime);
        Ok(())
    }

    /// Records what the app wants to show about this client when the user lists their
    /// sessions: user agent, IP address, a device name. Nothing is recorded unless the app
    /// calls this.
    ///
    /// On a store with a size limit (the cookie store), info that would take the session past
    /// it is [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) (its `key` is
    /// [`CLIENT_KEY`](session_core::users::CLIENT_KEY)), and nothing is recorded.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.set_client_info(serde_json::json!({ "user_agent": "Firefox", "ip": "192.0.2.1" })).await?;
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn set_client_info(&self, info: impl Serialize) -> Result<(), SessionError> {
        let info = to_json(CLIENT_KEY, info)?;
        self.check_fits(CLIENT_KEY, CLIENT_KEY, &info).await?;
        Ok(self.state().set_client_info(info)?)
    }

    /// The handle of the session this request arrived with (`None` for a visitor without one),
    /// e.g. to keep it in [`revoke_all_except`](session_core::UserSessionStore::revoke_all_except).
    #[must_use]
    pub fn handle(&self) -> Option<session_core::SessionHandle> {
        self.state().handle()
    }

    /// Ends the signed-in user's other sessions in `store` ("sign out everywhere else", e.g.
    /// after a password change, or a "sign out my other devices" box on the sign-in form),
    /// keeping this one, even one this request has just signed in, and returns how many it
    /// ended: none when this session is not bound to a user.
    ///
    /// Revoking through the session rather than calling the store yourself makes the
    /// revocation an event ([`EventKind::Revoked`](crate::EventKind::Revoked) with the count,
    /// or a store error), traced and counted like the middleware's own store calls, and bounds
    /// it by the request's [`store_deadline`](crate::SessionMiddlewareBuilder::store_deadline).
    /// A store failure is [`ErrorKind::Store`](crate::ErrorKind::Store) (a `503`).
    ///
    /// ```
    /// use actix_web::{App, HttpResponse, test, web};
    /// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
    ///
    /// async fn sign_in(session: Session) -> actix_web::Result<HttpResponse> {
    ///     session.set_user("ada").await?;
    ///     Ok(HttpResponse::Ok().finish())
    /// }
    ///
    /// async fn sign_out_elsewhere(
    ///     session: Session,
    ///     store: web::Data<MemoryStore>,
    /// ) -> actix_web::Result<String> {
    ///     let ended = session.revoke_other_sessions(store.get_ref()).await?;
    ///     Ok(format!("signed out {ended} other sessions"))
    /// }
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let store = MemoryStore::default();
    /// let app = test::init_service(
    ///     App::new()
    ///         .app_data(web::Data::new(store.clone()))
    ///         .wrap(SessionMiddleware::new(store))
    ///         .route("/sign-in", web::post().to(sign_in))
    ///         .route("/elsewhere", web::post().to(sign_out_elsewhere)),
    /// )
    /// .await;
    /// let sign_in = || test::TestRequest::post().uri("/sign-in").to_request();
    /// test::call_service(&app, sign_in()).await; // a second device
    /// let res = test::call_service(&app, sign_in()).await;
    /// let cookie = res.response().cookies().next().unwrap().into_owned();
    /// let req = test::TestRequest::post().uri("/elsewhere").cookie(cookie).to_request();
    /// let body = test::call_and_read_body(&app, req).await;
    /// assert_eq!(body, "signed out 1 other sessions");
    /// # });
    /// ```
    pub async fn revoke_other_sessions<S: UserSessionStore + ?Sized>(
        &self,
        store: &S,
    ) -> Result<usize, SessionError> {
        let Some(user) = self.user().await? else {
            return Ok(0);
        };
        // A session this request signed in and has not stored yet is in no listing: every
        // session the store holds for the user is another.
        let current = self.handle();
        let call = async {
            match &current {
                Some(current) => store.revoke_all_except(&user, current).await,
                None => store.revoke_all(&user).await,
            }
        };
        self.revoking(current, Some(&user), call, |n| *n).await
    }

    /// Ends every session of `user_id` in `store` (an account closed, an administrator's
    /// "sign out everywhere") and returns how many it ended. It checks nothing about who asks:
    /// authorize the request first (unlike [`revoke_session`](Self::revoke_session), which
    /// ends only the signed-in user's own). If this request's session is one of them, call
    /// [`purge`](Self::purge) as well, so the response removes its cookie.
    /// An event, traced, counted and bounded like
    /// [`revoke_other_sessions`](Self::revoke_other_sessions).
    pub async fn revoke_user_sessions<S: UserSessionStore + ?Sized>(
        &self,
        store: &S,
        user_id: &str,
    ) -> Result<usize, SessionError> {
        self.revoking(None, Some(user_id), store.revoke_all(user_id), |n| *n)
            .await
    }

    /// Ends the signed-in user's session that `handle` names in `store` (one row of a "your
    /// devices" page, from [`sessions_of`](UserSessionStore::sessions_of)) and returns whether
    /// it ended one. A handle that names no live session of this session's user (one typed
    /// into a form, or another user's) ends nothing and returns `false`, so a user can end
    /// only their own sessions; an administrator's tool that may end any session calls the
    /// store's [`revoke`](UserSessionStore::revoke). It lists the user's sessions first (one
    /// more store call, counted and traced with the revocation as one `revoke`). If `handle` is
    /// this request's own session, call [`purge`](Self::purge) as well, so the response removes
    /// its cookie. An event, traced, counted and bounded like
    /// [`revoke_other_sessions`](Self::revoke_other_sessions).
    pub async fn revoke_session<S: UserSessionStore + ?Sized>(
        &self,
        store: &S,
        handle: &SessionHandle,
    ) -> Result<bool, SessionError> {
        let Some(user) = self.user().await? else {
            return Ok(false);
        };
        let call = async {
            let sessions = store.sessions_of(&user).await?;
            if !sessions.iter().any(|session| session.handle == *handle) {
                return Ok(0);
            }
            store.revoke(handle).await.map(usize::from)
        };
        Ok(self
            .revoking(Some(*handle), Some(&user), call, |n| *n)
            .await?
            == 1)
    }

    /// Runs `call`, a revocation that ended `count` of its output's sessions, as a store call of
    /// this request, and emits what it did: `handle` is the session it ended, or the one that
    /// ended the user's others. The cap of sessions per user and the app's revocations alike.
    async fn revoking<T>(
        &self,
        handle: Option<SessionHandle>,
        user: Option<&str>,
        call: impl Future<Output = Result<T, StoreError>>,
        count: impl FnOnce(&T) -> usize,
    ) -> Result<T, SessionError> {
        let config = &self.0.config;
        let deadline = self.deadline();
        let (ended, took) = crate::events::store_call!(config, deadline, "revoke", call);
        let kind = match ended.as_ref().map(count) {
            Ok(0) => None,
            Ok(count) => Some(EventKind::Revoked { count }),
            Err(_) => Some(EventKind::StoreError {
                operation: "revoke",
            }),
        };
        if let Some(kind) = kind {
            config.emit(kind, |kind| {
                SessionEvent::new(kind, handle, user).took(took)
            });
        }
        Ok(ended?)
    }

    /// Moves the session to a new ID, keeping its data; the old ID stops working. Call it when
    /// privileges change (sign-in) to defeat session fixation.
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("user", "ada").await?;
    /// session.renew().await?;
    /// assert_eq!(session.get::<String>("user").await?.as_deref(), Some("ada"));
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn renew(&self) -> Result<(), SessionError> {
        self.state().renew();
        Ok(())
    }

    /// Deletes the session from the store and removes the cookie. Writes after a purge, in the
    /// same request, start a new session with a new ID (e.g. a "Signed out" flash message).
    ///
    /// ```
    /// # async fn handler(session: session_actix::Session) -> actix_web::Result<&'static str> {
    /// session.insert("user", "ada").await?;
    /// session.purge().await?;
    /// assert_eq!(session.get::<String>("user").await?, None);
    /// # Ok("") }
    /// # actix_web::rt::System::new().block_on(async { let app = actix_web::test::init_service(actix_web::App::new().wrap(session_actix::SessionMiddleware::new(session_actix::store::MemoryStore::default())).default_service(actix_web::web::to(handler))).await; assert!(actix_web::test::call_service(&app, actix_web::test::TestRequest::default().to_request()).await.status().is_success()); });
    /// ```
    pub async fn purge(&self) -> Result<(), SessionError> {
        self.state().purge();
        Ok(())
    }

    /// The request's commit plan, with the session then left as a commit leaves it: without
    /// a session, so a late write (after the response) changes nothing that is persisted.
    pub(crate) fn take_plan(&self) -> CommitPlan {
        let clock = Arc::clone(&self.0.config.clock);
        let state = std::mem::replace(&mut *self.state(), SessionState::with_clock(None, clock));
        state.into_plan(&self.0.config.policy)
    }
}

fn to_json(key: &str, value: impl Serialize) -> Result<Value, SessionError> {
    serde_json::to_value(value).map_err(|source| {
        SessionError::from(ErrorKind::Serialize {
            key: key.to_owned(),
            source,
        })
    })
}
