//! The middleware and its configuration: the builder and what `build()` refuses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::cookie::SameSite;
use actix_web::http::header::HeaderValue;
use session_core::clock::{self, SharedClock};
use session_core::{
    ExpiryPolicy, IntoSessionBackend, SessionBackend, SessionLimit, UserSessionStore,
};

use crate::error::SessionError;
use crate::events::{EventKind, Listener, SessionEvent};

/// The store a sign-in makes room in, and the cap of sessions per user.
pub(crate) type UserLimit = (Arc<dyn UserSessionStore>, SessionLimit);

/// Builds the response for a session error (a failing store, a value of the wrong type).
pub(crate) type ErrorHandler = Arc<dyn Fn(&SessionError) -> HttpResponse + Send + Sync>;

const HOST_PREFIX: &str = "__Host-";
const SECURE_PREFIX: &str = "__Secure-";

/// A configuration that browsers would reject or that cannot work, found by
/// [`SessionMiddlewareBuilder::try_build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The cookie name is empty or has characters not allowed in a cookie name.
    #[error("cookie name {0:?} is empty or contains characters not allowed in a cookie name")]
    InvalidCookieName(String),
    /// The cookie path does not start with `/` or contains `;` or control characters.
    #[error("cookie path {0:?} must start with '/' and contain no ';' or control characters")]
    InvalidPath(String),
    /// The cookie domain is empty or contains `;`, spaces or control characters.
    #[error("cookie domain {0:?} is empty or contains ';', spaces or control characters")]
    InvalidDomain(String),
    /// A `__Host-` cookie must be `Secure`, have `Path=/` and no `Domain`.
    #[error("a __Host- cookie must be Secure, have Path=/ and no Domain; change: {0}")]
    HostPrefix(&'static str),
    /// A `__Secure-` cookie must be `Secure`.
    #[error("a __Secure- cookie must be Secure; call .secure(true)")]
    SecurePrefix,
    /// `SameSite=None` is only accepted by browsers together with `Secure`.
    #[error("SameSite=None requires Secure; call .secure(true) or choose another SameSite")]
    SameSiteNoneWithoutSecure,
    /// A `Partitioned` cookie (CHIPS) is only accepted by browsers together with `Secure`.
    #[error("a Partitioned cookie requires Secure; call .secure(true)")]
    PartitionedWithoutSecure,
    /// A cap of zero sessions per user would refuse every sign-in.
    #[error("the cap of sessions per user must be at least one")]
    ZeroSessionLimit,
    /// A timeout of zero would expire every session at once.
    #[error("the {0} timeout must be longer than zero")]
    ZeroTimeout(&'static str),
}

/// Cookie attributes, validated.
#[derive(Debug, Clone)]
pub(crate) struct CookieConfig {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    /// `Partitioned` (CHIPS): the browser keys the cookie by the top-level site too.
    pub(crate) partitioned: bool,
}

/// What a `Clear-Site-Data` header on the response that purges a session asks the browser to
/// clear (see [`SessionMiddlewareBuilder::clear_site_data`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClearSiteData {
    /// `"cookies"`: every cookie of the site (the registrable domain), not only the session's.
    Cookies,
    /// `"*"`: cookies, storage (local storage, IndexedDB, service workers…) and cache.
    Everything,
}

impl ClearSiteData {
    pub(crate) fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Cookies => "\"cookies\"",
            Self::Everything => "\"*\"",
        })
    }
}

/// The secure defaults: `__sid`, `Path=/`, no `Domain`, `Secure`, `HttpOnly`, `SameSite=Lax`.
impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "__sid".to_owned(),
            path: "/".to_owned(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            partitioned: false,
        }
    }
}

/// Everything the middleware service needs, shared by all requests.
pub(crate) struct SessionConfig {
    pub(crate) backend: SessionBackend,
    pub(crate) cookie: CookieConfig,
    pub(crate) policy: ExpiryPolicy,
    pub(crate) error_handler: ErrorHandler,
    /// Sent on the response that purges a session, if set.
    pub(crate) clear_site_data: Option<ClearSiteData>,
    /// The store a sign-in lists and revokes the user's sessions in, and the cap.
    pub(crate) user_limit: Option<UserLimit>,
    /// The longest idle and absolute timeouts a session's own lifetime may have; `None`:
    /// lifetimes are not allowed.
    pub(crate) max_lifetime: Option<ExpiryPolicy>,
    /// Where every time the middleware reads comes from.
    pub(crate) clock: SharedClock,
    /// Told of every session event, if registered.
    pub(crate) listener: Option<Listener>,
    /// How long the store calls of one request may take together, if bounded.
    pub(crate) store_deadline: Option<Duration>,
    /// Whether a session without a lifetime of its own gets a cookie with `Max-Age` (not when
    /// [`browser_sessions`](SessionMiddlewareBuilder::browser_sessions) is set).
    pub(crate) persistent_by_default: bool,
    /// The metrics, registered once (feature `metrics`).
    pub(crate) meters: crate::measure::Meters,
}

impl SessionConfig {
    /// Tells the listener, if there is one, of the event `event` builds: without a listener,
    /// nothing is built.
    pub(crate) fn emit(&self, kind: EventKind, build: impl FnOnce(EventKind) -> SessionEvent) {
        self.meters.count(&kind);
        let traced = crate::trace::wanted_for(&kind);
        if self.listener.is_none() && !traced {
            return;
        }
        let event = build(kind);
        if traced {
            crate::trace::record(&event);
        }
        if let Some(listener) = &self.listener {
            listener(&event);
        }
    }

    /// Whether events are listened to or may be traced, so they are built in full.
    pub(crate) fn listens(&self) -> bool {
        self.listener.is_some() || crate::trace::any_wanted()
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("cookie", &self.cookie)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Session middleware for actix-web.
///
/// Per request it gives handlers a lazy [`Session`](crate::Session), read from the session cookie when a handler
/// first takes it and loaded from the store when it first reads, and afterwards persists what
/// changed with at most one store call (two for a renew of a session the handler never read). A
/// request whose handler never takes its `Session` costs no cookie parsing and no store call. A
/// store failure becomes a `503` with an opaque body, never a silently dropped write.
///
/// A response that carries a session `Set-Cookie` (a new or refreshed cookie, or a removal) is
/// made uncacheable, whatever the handler set: unless the handler's `Cache-Control` (all of its
/// lines together) already has the `no-store` directive, every `Cache-Control` line is replaced
/// by `Cache-Control: no-store`; and `CDN-Cache-Control`, `<vendor>-CDN-Cache-Control` and
/// `Surrogate-Control`, which tell CDNs to ignore `Cache-Control`, are removed. A response
/// without a session `Set-Cookie` keeps its headers as the handler set them.
///
/// Wrap an app (or scope) once: an inner `SessionMiddleware` replaces the outer one's session
/// for the requests it serves.
///
/// ```
/// use actix_web::{App, web};
/// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
///
/// let store = MemoryStore::default();
/// let app = App::new()
///     .wrap(SessionMiddleware::new(store.clone()))
///     .route("/", web::get().to(|session: Session| async move {
///         session.insert("seen", true).await?;
///         Ok::<_, actix_web::Error>("hello")
///     }));
/// # let _ = app;
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    pub(crate) config: Arc<SessionConfig>,
}

impl SessionMiddleware {
    /// Middleware over `store` (a server store such as `MemoryStore`, `RedisStore` or your own
    /// [`SessionStore`](session_core::SessionStore), or the sealed `CookieStore`) with the default
    /// (secure) settings.
    #[must_use]
    pub fn new(store: impl IntoSessionBackend) -> Self {
        Self::builder(store).build()
    }

    /// A builder to change cookie attributes, timeouts and the error response.
    pub fn builder(store: impl IntoSessionBackend) -> SessionMiddlewareBuilder {
        SessionMiddlewareBuilder::new(store.into_backend())
    }

    pub(crate) fn from_config(config: SessionConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

/// Builds a [`SessionMiddleware`]. Defaults are the secure ones: cookie `__sid`, `Path=/`,
/// `HttpOnly`, `Secure`, `SameSite=Lax`, idle timeout 24 h, absolute timeout 7 days; time is
/// read from the system clock.
///
/// ```
/// use std::time::Duration;
/// use actix_web::cookie::SameSite;
/// use session_actix::{SessionMiddleware, store::MemoryStore};
///
/// let middleware = SessionMiddleware::builder(MemoryStore::default())
///     .cookie_name("sid")
///     .same_site(SameSite::Strict)
///     .idle_timeout(Duration::from_secs(30 * 60))
///     .absolute_timeout(Duration::from_secs(12 * 3600))
///     .build();
/// # let _ = middleware;
/// ```
#[must_use]
pub struct SessionMiddlewareBuilder {
    backend: SessionBackend,
    cookie: CookieConfig,
    host_prefix: bool,
    idle_timeout: Duration,
    absolute_timeout: Duration,
    error_handler: Option<ErrorHandler>,
    clear_site_data: Option<ClearSiteData>,
    user_limit: Option<UserLimit>,
    max_lifetime: Option<(Duration, Duration)>,
    listener: Option<Listener>,
    store_deadline: Option<Duration>,
    browser_sessions: bool,
    clock: SharedClock,
}

impl fmt::Debug for SessionMiddlewareBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddlewareBuilder")
            .field("cookie", &self.cookie)
            .field("host_prefix", &self.host_prefix)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .field("clear_site_data", &self.clear_site_data)
            .field(
                "user_limit",
                &self.user_limit.as_ref().map(|(_, limit)| limit),
            )
            .field("max_lifetime", &self.max_lifetime)
            .field("store_deadline", &self.store_deadline)
            .field("browser_sessions", &self.browser_sessions)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl SessionMiddlewareBuilder {
    pub(crate) fn new(backend: SessionBackend) -> Self {
        let policy = ExpiryPolicy::default();
        Self {
            backend,
            cookie: CookieConfig::default(),
            host_prefix: false,
            idle_timeout: policy.idle_timeout(),
            absolute_timeout: policy.absolute_timeout(),
            error_handler: None,
            clear_site_data: None,
            user_limit: None,
            max_lifetime: None,
            listener: None,
            store_deadline: None,
            browser_sessions: false,
            clock: clock::system(),
        }
    }

    /// The session cookie's name (default `__sid`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// The cookie's `Domain` attribute (default: none, so the cookie is host-only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// The cookie's `Path` attribute (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// Whether the cookie is `Secure`, sent over HTTPS only (default `true`). Turn it off only
    /// for local development over plain HTTP.
    pub fn secure(mut self, secure: bool) -> Self {
        self.cookie.secure = secure;
        self
    }

    /// Whether the cookie is `HttpOnly`, hidden from scripts (default `true`).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.cookie.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` attribute (default `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// Whether the cookie is `Partitioned` (default `false`): with CHIPS, a browser keys it by
    /// the top-level site as well, so a widget embedded in other sites keeps one session per
    /// embedding site where third-party cookies are blocked. Browsers accept it only with
    /// `Secure`, and `build()` refuses it without.
    ///
    /// ```
    /// use session_actix::{ConfigError, SessionMiddleware, store::MemoryStore};
    /// let refused = SessionMiddleware::builder(MemoryStore::default())
    ///     .partitioned(true)
    ///     .secure(false)
    ///     .try_build();
    /// assert!(matches!(refused, Err(ConfigError::PartitionedWithoutSecure)));
    /// ```
    pub fn partitioned(mut self, partitioned: bool) -> Self {
        self.cookie.partitioned = partitioned;
        self
    }

    /// Sends `Clear-Site-Data` with `what` on the response that purges a session and leaves
    /// none (default: not sent), so the browser also drops what the page kept beside the
    /// session: other cookies of the site with [`ClearSiteData::Cookies`], and storage and
    /// cache as well with [`ClearSiteData::Everything`]. A purge followed by writes in the same
    /// request (a "signed out" flash message) starts a new session, whose cookie the header
    /// would clear, so that response does not carry it. Browsers honour the header over HTTPS
    /// (and on `localhost`) only.
    ///
    /// ```
    /// use session_actix::{ClearSiteData, SessionMiddleware, store::MemoryStore};
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .clear_site_data(ClearSiteData::Cookies)
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn clear_site_data(mut self, what: ClearSiteData) -> Self {
        self.clear_site_data = Some(what);
        self
    }

    /// Caps how many live sessions one user may hold: when [`Session::set_user`] binds a
    /// session to a user who already holds `limit.max()` others in `store` (the server store
    /// the middleware uses, given again as a
    /// [`UserSessionStore`](session_core::UserSessionStore)), it ends the oldest of them
    /// ([`SessionLimit::revoke_oldest`]) or refuses the sign-in with
    /// [`ErrorKind::TooManySessions`](crate::ErrorKind::TooManySessions)
    /// ([`SessionLimit::refuse_new`]). Two sign-ins of one user at the same moment can leave one
    /// session over the cap (see [`SessionLimit`]). Off by default. A sealed-cookie backend
    /// keeps no list of a user's sessions, so it cannot cap them: its store is no
    /// `UserSessionStore`.
    ///
    /// [`Session::set_user`]: crate::Session::set_user
    ///
    /// ```
    /// use session_actix::{SessionLimit, SessionMiddleware, store::MemoryStore};
    /// let store = MemoryStore::default();
    /// let middleware = SessionMiddleware::builder(store.clone())
    ///     .sessions_per_user(store, SessionLimit::revoke_oldest(3))
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn sessions_per_user(mut self, store: impl UserSessionStore, limit: SessionLimit) -> Self {
        self.user_limit = Some((Arc::new(store), limit));
        self
    }

    /// Lets handlers give a session a lifetime of its own with [`Session::set_lifetime`]: a
    /// browser session (no `Max-Age`), or idle and absolute timeouts up to `max_idle` and
    /// `max_absolute` ("remember me for 30 days"). Off by default: `set_lifetime` is refused.
    ///
    /// With lifetimes allowed, a request that writes to a session it did not read loads it
    /// first (one more store round trip for such writes only), because the session's lifetime
    /// decides its deadlines and its cookie.
    ///
    /// [`Session::set_lifetime`]: crate::Session::set_lifetime
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_actix::{SessionMiddleware, store::MemoryStore};
    /// const DAY: Duration = Duration::from_secs(24 * 3600);
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .allow_session_lifetimes(30 * DAY, 90 * DAY)
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn allow_session_lifetimes(mut self, max_idle: Duration, max_absolute: Duration) -> Self {
        self.max_lifetime = Some((max_idle, max_absolute));
        self
    }

    /// Makes every session a browser session by default: its cookie has no `Max-Age`, so the
    /// browser drops it when it closes (actix-session's default, `BrowserSession`). The store
    /// still ends the session at its idle and absolute deadlines. A session's own lifetime
    /// ([`Session::set_lifetime`](crate::Session::set_lifetime), e.g. "remember me") overrides
    /// it. Default: `false`, the cookie's `Max-Age` is the session's deadline.
    ///
    /// ```
    /// use actix_web::{App, test, web};
    /// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .browser_sessions(true)
    ///     .build();
    /// let app = test::init_service(App::new().wrap(middleware).default_service(web::to(
    ///     |session: Session| async move { session.insert("seen", true).await.map(|()| "ok") },
    /// )))
    /// .await;
    /// let res = test::call_service(&app, test::TestRequest::default().to_request()).await;
    /// let cookie = res.response().cookies().next().unwrap();
    /// assert_eq!(cookie.max_age(), None);
    /// # });
    /// ```
    pub fn browser_sessions(mut self, enabled: bool) -> Self {
        self.browser_sessions = enabled;
        self
    }

    /// Bounds the time the store calls of one request take together: a call still running
    /// `budget` after the request's first store call began fails as the store being unavailable
    /// (`503` by default). Without it (the default) each call is bounded only by the store's
    /// own timeouts (2 s for Redis; 2 s to get a PostgreSQL connection and 5 s for the
    /// statement), so a request that makes two calls, such as a sign-in (a load, then a renew),
    /// can take two of them. With a `budget` of zero every store call fails.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_actix::{SessionMiddleware, store::MemoryStore};
    ///
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .store_deadline(Duration::from_secs(2))
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn store_deadline(mut self, budget: Duration) -> Self {
        self.store_deadline = Some(budget);
        self
    }

    /// Calls `listener` with every [`SessionEvent`]: created, loaded, updated, refreshed,
    /// renewed, bound to a user, purged, revoked (by the cap or a `Session::revoke_*` call),
    /// refused cookies (and why), writes
    /// over the size limit, store errors. It runs on the request's thread, before the response
    /// is sent: hand slow work (a database write) to a task or a channel. Events name sessions
    /// by handle, never by ID. Without a listener no event is built.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use session_actix::{EventKind, SessionMiddleware, store::MemoryStore};
    ///
    /// let refused = Arc::new(Mutex::new(0_u64));
    /// let counter = Arc::clone(&refused);
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .on_event(move |event| {
    ///         if let EventKind::Refused(_) = event.kind {
    ///             *counter.lock().unwrap() += 1;
    ///         }
    ///     })
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn on_event(mut self, listener: impl Fn(&SessionEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Prefixes the cookie name with `__Host-`, which browsers accept only for a `Secure` cookie
    /// with `Path=/` and no `Domain`, so no subdomain can set or shadow it. `build()` refuses any
    /// configuration that breaks those rules.
    ///
    /// ```
    /// use session_actix::{SessionMiddleware, store::MemoryStore};
    /// let refused = SessionMiddleware::builder(MemoryStore::default())
    ///     .host_prefix(true)
    ///     .domain("example.com")
    ///     .try_build();
    /// assert!(refused.is_err());
    /// ```
    pub fn host_prefix(mut self, enabled: bool) -> Self {
        self.host_prefix = enabled;
        self
    }

    /// The sliding idle timeout (default 24 h). A request pushes the deadline forward (and
    /// re-sends the cookie) once less than half of it remains, whether it reads or writes; a
    /// write to a session the request did not read always does, as it cannot know the deadline.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The absolute timeout counted from the session's creation, never extended (default 7 days).
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = timeout;
        self
    }

    /// The response sent when a session operation fails: a store error at commit, or a session
    /// error a handler returned with `?`. The default answers `503` for store errors and `500`
    /// otherwise, with a body that says nothing but the status.
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use session_actix::{SessionMiddleware, store::MemoryStore};
    ///
    /// let middleware = SessionMiddleware::builder(MemoryStore::default())
    ///     .error_handler(|_err| HttpResponse::ServiceUnavailable().body("Try again shortly"))
    ///     .build();
    /// # let _ = middleware;
    /// ```
    pub fn error_handler(
        mut self,
        handler: impl Fn(&SessionError) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.error_handler = Some(Arc::new(handler));
        self
    }

    /// The clock the middleware reads the time from (default: the system clock): for the
    /// deadlines of new and refreshed sessions, whether a refresh is due, whether a session in a
    /// cookie store has expired, and the cookie's `Max-Age`. Tests give the middleware and the
    /// store the same [`TestClock`](crate::clock::TestClock) and move it instead of sleeping. A
    /// server-side store decides what has expired by a clock of its own (the memory store's is
    /// set with `MemoryStore::builder().clock(..)`); the cookie store has none, this one decides.
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_web::{App, test, web};
    /// use session_actix::clock::TestClock;
    /// use session_actix::{Session, SessionMiddleware, store::MemoryStore};
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let clock = TestClock::starting_now();
    /// let store = MemoryStore::builder().clock(clock.shared()).build();
    /// let middleware = SessionMiddleware::builder(store)
    ///     .idle_timeout(Duration::from_secs(30 * 60))
    ///     .clock(clock.shared())
    ///     .build();
    /// let app = test::init_service(App::new().wrap(middleware).route(
    ///     "/",
    ///     web::get().to(|session: Session| async move {
    ///         let visits: u32 = session.get("visits").await?.unwrap_or(0);
    ///         session.insert("visits", visits + 1).await?;
    ///         Ok::<_, actix_web::Error>(visits.to_string())
    ///     }),
    /// ))
    /// .await;
    /// let res = test::call_service(&app, test::TestRequest::get().to_request()).await;
    /// let cookie = res.response().cookies().next().unwrap().into_owned();
    ///
    /// // Half an hour without a request, on the test clock: the session has expired.
    /// clock.advance(Duration::from_secs(30 * 60));
    /// let req = test::TestRequest::get().cookie(cookie).to_request();
    /// let res = test::call_service(&app, req).await;
    /// assert_eq!(test::read_body(res).await, "0");
    /// # });
    /// ```
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the middleware, or says which setting a browser would reject.
    ///
    /// ```
    /// use session_actix::{ConfigError, SessionMiddleware, store::MemoryStore};
    /// let err = SessionMiddleware::builder(MemoryStore::default())
    ///     .cookie_name("bad name")
    ///     .try_build()
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::InvalidCookieName(_)));
    /// ```
    pub fn try_build(self) -> Result<SessionMiddleware, ConfigError> {
        let mut cookie = self.cookie;
        if self.host_prefix && !cookie.name.starts_with(HOST_PREFIX) {
            cookie.name.insert_str(0, HOST_PREFIX);
        }
        validate_cookie(&cookie)?;
        if self.idle_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("idle"));
        }
        if self.absolute_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout("absolute"));
        }
        if let Some((idle, absolute)) = self.max_lifetime {
            if idle.is_zero() {
                return Err(ConfigError::ZeroTimeout("longest lifetime's idle"));
            }
            if absolute.is_zero() {
                return Err(ConfigError::ZeroTimeout("longest lifetime's absolute"));
            }
        }
        if self
            .user_limit
            .as_ref()
            .is_some_and(|(_, limit)| limit.max() == 0)
        {
            return Err(ConfigError::ZeroSessionLimit);
        }
        // Registered now, with the recorder the app installed before building the middleware.
        let meters = crate::measure::Meters::new(match &self.backend {
            SessionBackend::Store(store) => store.name(),
            SessionBackend::Sealed(_) => "cookie",
        });
        let config = SessionConfig {
            backend: self.backend,
            cookie,
            policy: ExpiryPolicy::new(self.idle_timeout, self.absolute_timeout),
            error_handler: self
                .error_handler
                .unwrap_or_else(|| Arc::new(default_error_response)),
            clear_site_data: self.clear_site_data,
            user_limit: self.user_limit,
            max_lifetime: self
                .max_lifetime
                .map(|(idle, absolute)| ExpiryPolicy::new(idle, absolute)),
            listener: self.listener,
            store_deadline: self.store_deadline,
            persistent_by_default: !self.browser_sessions,
            meters,
            clock: self.clock,
        };
        Ok(SessionMiddleware::from_config(config))
    }

    /// Builds the middleware.
    ///
    /// # Panics
    ///
    /// When the configuration is one a browser would reject (see [`try_build`](Self::try_build)),
    /// with a message that says what to change: misconfiguration fails at startup, never at the
    /// first request.
    #[allow(clippy::panic)]
    #[must_use]
    pub fn build(self) -> SessionMiddleware {
        match self.try_build() {
            Ok(middleware) => middleware,
            Err(err) => panic!("invalid session middleware configuration: {err}"),
        }
    }
}

fn default_error_response(err: &SessionError) -> HttpResponse {
    actix_web::ResponseError::error_response(err)
}

fn validate_cookie(cookie: &CookieConfig) -> Result<(), ConfigError> {
    let name_ok = !cookie.name.is_empty() && cookie.name.bytes().all(is_token_byte);
    if !name_ok {
        return Err(ConfigError::InvalidCookieName(cookie.name.clone()));
    }
    let path_ok = cookie.path.starts_with('/') && cookie.path.bytes().all(is_attribute_byte);
    if !path_ok {
        return Err(ConfigError::InvalidPath(cookie.path.clone()));
    }
    if let Some(domain) = &cookie.domain {
        let domain_ok =
            !domain.is_empty() && domain.bytes().all(|b| is_attribute_byte(b) && b != b' ');
        if !domain_ok {
            return Err(ConfigError::InvalidDomain(domain.clone()));
        }
    }
    if cookie.name.starts_with(HOST_PREFIX) {
        if !cookie.secure {
            return Err(ConfigError::HostPrefix("call .secure(true)"));
        }
        if cookie.path != "/" {
            return Err(ConfigError::HostPrefix("set .path(\"/\")"));
        }
        if cookie.domain.is_some() {
            return Err(ConfigError::HostPrefix("remove .domain(..)"));
        }
    }
    if cookie.name.starts_with(SECURE_PREFIX) && !cookie.secure {
        return Err(ConfigError::SecurePrefix);
    }
    if cookie.same_site == SameSite::None && !cookie.secure {
        return Err(ConfigError::SameSiteNoneWithoutSecure);
    }
    if cookie.partitioned && !cookie.secure {
        return Err(ConfigError::PartitionedWithoutSecure);
    }
    Ok(())
}

/// RFC 6265 cookie-name characters (an RFC 7230 token).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Characters allowed in a cookie attribute value (RFC 6265 `av-octet`: no controls, no `;`).
fn is_attribute_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b';'
}
