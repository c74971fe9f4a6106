//! Sessions for actix-web that cost nothing until used.
//!
//! - **Lazy**: a handler that never reads its session makes no store call; a visitor who never
//!   writes gets no cookie.
//! - **Delta writes**: only changed keys are written, in one round trip, so concurrent requests
//!   of one session that change different keys both survive.
//! - **Strict, hashed IDs**: 256-bit random IDs; an unknown ID is never adopted; stores keep
//!   only a hash of the ID.
//! - **Idle + absolute expiry** enforced by the store; **flash data**; `renew` and `purge`.
//!
//! A complete program (the counter below answers `visit 0`, `visit 1`, …):
//!
//! ```no_run
//! use actix_web::{App, HttpServer, Responder, get};
//! use session_actix::{Session, SessionMiddleware, store::MemoryStore};
//!
//! #[get("/")]
//! async fn index(session: Session) -> actix_web::Result<impl Responder> {
//!     let visits: u64 = session.get("visits").await?.unwrap_or(0);
//!     session.insert("visits", visits + 1).await?;
//!     Ok(format!("visit {visits}"))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let store = MemoryStore::default();
//!     HttpServer::new(move || {
//!         App::new().wrap(SessionMiddleware::new(store.clone())).service(index)
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! Backends are chosen with Cargo features and re-exported under [`store`]: `memory` and `cookie` (default), `redis` and `postgres`.
//!
//! ## Observability
//!
//! Nothing here ever shows a session ID or a cookie value: sessions are named by their handle
//! (the SHA-256 of the ID, under which the store keeps them).
//!
//! - **Events**: [`SessionMiddlewareBuilder::on_event`] calls a listener with every
//!   [`SessionEvent`] (created, loaded, updated, refreshed, renewed, bound to a user, purged,
//!   revoked (by the cap, or through `Session::revoke_*`), refused cookie and why, over the size limit, store error), each with
//!   the handle, the user where known and the store call's duration.
//! - **Tracing** (feature `tracing`, on by default): each store call runs in a `debug` span
//!   `session_store` with `op`, `store` and `outcome`; events go to target `session` (refused
//!   cookies, creations, loads, writes, renewals at `debug`; sign-ins, purges, revocations,
//!   writes over the limit at `info`; store errors at `warn`, and a commit that fails at `error`
//!   with its cause). Fields: `kind`, `handle`, `user`, `reason`, `store_call_us`. They nest in
//!   the request's span (e.g. `tracing-actix-web`'s).
//! - **Metrics** (feature `metrics`), through the `metrics` facade, registered when the
//!   middleware is built (install the recorder before building it; with none installed then,
//!   nothing is recorded, and a recorder that is a zero-sized type is taken for none):
//!
//!   | name | kind | labels | what |
//!   |---|---|---|---|
//!   | `session_store_calls_total` | counter | `store`, `op`, `outcome` (`ok`, `error`) | store calls made by the middleware |
//!   | `session_store_call_seconds` | histogram | `store`, `op` | how long each took |
//!   | `session_events_total` | counter | `kind` (see [`EventKind::name`](crate::EventKind::name)) | lifecycle events |
//!   | `sessions_created_total` | counter | | new sessions stored |
//!   | `session_cookies_refused_total` | counter | `reason` (`unknown`, `expired`, `tampered`, `undecodable`) | cookies that brought no session |
//!
//!   No label holds an ID, a handle or a user.

mod cache;
mod config;
mod cookie;
mod error;
mod events;
mod extractor;
mod fresh;
#[cfg(feature = "metrics")]
mod measure;
#[cfg(not(feature = "metrics"))]
#[path = "measure_off.rs"]
mod measure;
mod middleware;
mod sealed;
mod server;
mod session;
mod slot;
#[cfg(feature = "tracing")]
mod trace;
#[cfg(not(feature = "tracing"))]
#[path = "trace_off.rs"]
mod trace;

#[doc(inline)]
pub use session_core::clock;

pub use config::{ClearSiteData, ConfigError, SessionMiddleware, SessionMiddlewareBuilder};
pub use error::{ErrorKind, SessionError};
pub use events::{EventKind, SessionEvent};
pub use extractor::MissingSessionMiddleware;
pub use fresh::{RequireFreshLogin, RequireFreshLoginService};
pub use middleware::SessionMiddlewareService;
pub use session::Session;
#[doc(inline)]
pub use session_core::{
    ActiveSession, ExpiryPolicy, IntoSessionBackend, Refusal, SessionBackend, SessionExpiry,
    SessionHandle, SessionLifetime, SessionLimit, SessionSealer, SessionStore, StoreError,
    Timestamp, UserSessionStore,
};

/// The session stores, each behind the Cargo feature of the same name.
pub mod store {
    #[cfg(feature = "cookie")]
    #[doc(inline)]
    pub use store_cookie::{
        CookieStore, CookieStoreBuilder, CookieStoreError, DEFAULT_KEY_ID,
        DEFAULT_MAX_COOKIE_BYTES, Key, MAX_COOKIE_BYTES, MIN_SECRET_BYTES, derive_key,
    };
    #[cfg(feature = "memory")]
    #[doc(inline)]
    pub use store_memory::{DEFAULT_MAX_SESSIONS, MemoryStore, MemoryStoreBuilder};
    #[cfg(feature = "postgres")]
    #[doc(inline)]
    pub use store_postgres::{
        CleanupTask, DEFAULT_SCHEMA, DEFAULT_STATEMENT_TIMEOUT, DEFAULT_TABLE, InvalidIdentifier,
        PostgresStore,
    };
    #[cfg(feature = "redis")]
    #[doc(inline)]
    pub use store_redis::{DEFAULT_KEY_PREFIX, RedisConnection, RedisStore};
}

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "memory"))]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

/// The guide's examples (`docs/guide.md`), compiled and run as doctests.
#[cfg(all(
    doctest,
    feature = "memory",
    feature = "cookie",
    feature = "redis",
    feature = "postgres"
))]
#[doc = include_str!("../../docs/guide.md")]
struct GuideExamples;

// The cookie store's largest session is what the middleware reads and writes as chunks.
#[cfg(feature = "cookie")]
const _: () = assert!(store_cookie::MAX_COOKIE_BYTES == cookie::MAX_CHUNKS * cookie::CHUNK_BYTES);
