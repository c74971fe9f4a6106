//! Framework-free core of the session workspace.
//!
//! It holds what every backend and every framework integration share:
//!
//! - the two kinds of backend ([`SessionBackend`]): a server store implements [`SessionStore`],
//!   a stateless one [`SessionSealer`]; a framework takes either as [`IntoSessionBackend`];
//! - [`SessionId`], 256-bit CSPRNG IDs that never show in logs, and their hashed
//!   [`StorageKey`] kept at rest;
//! - [`SessionState`], one request's view of a session with change tracking ([`SessionDelta`])
//!   and lazy loading, and the [`CommitPlan`] it turns into: run against a store with the
//!   fewest calls the changes need, or applied to a sealed session;
//! - [`flash`] data semantics, [`ExpiryPolicy`] (idle + absolute), and typed errors.
//!
//! A complete round trip through a store, with no web framework involved:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use session_core::{CookieAction, ExpiryPolicy, Lookup, SessionState};
//! # use session_core::*;
//! # use std::sync::Mutex;
//! # #[derive(Default)]
//! # struct Store(Mutex<Option<SessionRecord>>);
//! # #[async_trait::async_trait]
//! # impl SessionStore for Store {
//! #     async fn load(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> { Ok(self.0.lock().unwrap().clone()) }
//! #     async fn create(&self, _: &SessionId, r: &SessionRecord) -> Result<bool, StoreError> { *self.0.lock().unwrap() = Some(r.clone()); Ok(true) }
//! #     async fn update(&self, _: &SessionId, d: &SessionDelta, _: Timestamp) -> Result<Option<Timestamp>, StoreError> {
//! #         let mut g = self.0.lock().unwrap(); let r = g.as_mut().unwrap(); d.apply_to(&mut r.data); Ok(Some(r.expires_at)) }
//! #     async fn touch(&self, _: &SessionId, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
//! #     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
//! # }
//! let store = Store::default();
//! let policy = ExpiryPolicy::default();
//!
//! // Request 1: a new visitor logs in and gets a flash message.
//! let mut first = SessionState::new(None);
//! first.insert("user", "ada")?;
//! first.flash("notice", "Welcome back")?;
//! let CookieAction::Set { id, .. } = first.commit(&store, &policy).await? else { panic!() };
//!
//! // Request 2 carries the cookie: the first read loads, the flash is consumed.
//! let mut second = SessionState::new(Some(id.clone()));
//! assert_eq!(second.get::<String>("notice")?, Lookup::NeedsLoad);
//! second.set_loaded(store.load(&id).await?);
//! assert_eq!(second.get::<String>("notice")?, Lookup::Ready(Some("Welcome back".into())));
//! assert_eq!(second.get::<String>("notice")?, Lookup::Ready(None));
//! second.commit(&store, &policy).await?;
//!
//! // The removal was persisted.
//! assert!(!store.load(&id).await?.unwrap().data.contains_key("__flash:notice"));
//! # Ok::<(), SessionError>(())
//! # }).unwrap();
//! ```

mod backend;
pub mod clock;
mod delta;
mod error;
mod expiry;
pub mod flash;
mod id;
pub mod lifetime;
mod plan;
mod record;
mod server;
mod state;
mod store;
pub mod users;

pub use async_trait::async_trait;
pub use backend::{IntoSessionBackend, Refusal, SessionBackend, SessionSealer};
pub use delta::{DeltaLookup, SessionData, SessionDelta, json_len};
pub use error::{BoxError, SessionError, StoreError};
pub use expiry::{ExpiryPolicy, Timestamp};
pub use id::{InvalidSessionId, SessionId, StorageKey};
pub use lifetime::SessionLifetime;
pub use plan::{CommitPlan, SealedWrite, Step};
pub use record::{Renewal, SessionExpiry, SessionRecord};
pub use server::CookieAction;
pub use state::{Lookup, SessionState};
pub use store::SessionStore;
pub use users::{
    ActiveSession, InvalidSessionHandle, SessionHandle, SessionLimit, UserSessionStore,
};
