//! The two kinds of backend: a server store, or a sealer that keeps the whole session in the
//! cookie.

use std::sync::Arc;

use crate::{SessionRecord, SessionStore, StoreError};

/// Why a session cookie brought no session: what a request's cookie named is refused, and the
/// visitor starts afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// A well-formed ID the server store holds no live session for (a server store does not
    /// tell an expired session from one that never existed).
    Unknown,
    /// A sealed session past its deadline.
    Expired,
    /// A sealed value that does not authenticate: forged, or sealed with a key the store no
    /// longer has.
    Tampered,
    /// A value that is no session ID, or no sealed value.
    Undecodable,
}

impl Refusal {
    /// A short name, for logs and metric labels.
    ///
    /// ```
    /// assert_eq!(session_core::Refusal::Tampered.as_str(), "tampered");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Tampered => "tampered",
            Self::Undecodable => "undecodable",
        }
    }
}

/// Seals sessions into cookie values and opens them again: the backend of a stateless store
/// such as `store_cookie::CookieStore`. It works on values, not on HTTP: the framework
/// integration reads and writes the cookies (and splits a long value into several). Sealed
/// values are cookie-safe ASCII (e.g. base64url and `.`).
///
/// ```
/// use session_core::{Refusal, SessionRecord, SessionSealer, StoreError};
///
/// /// Keeps nothing: every cookie opens as no session.
/// struct Forgetful;
///
/// impl SessionSealer for Forgetful {
///     fn seal(&self, _: &str, _: &SessionRecord) -> Result<String, StoreError> {
///         Ok("v1.none".to_owned())
///     }
///     fn open(&self, _: &str, _: &str) -> Result<SessionRecord, Refusal> {
///         Err(Refusal::Undecodable)
///     }
///     fn needs_reseal(&self, _: &str) -> bool {
///         false
///     }
///     fn has_previous_keys(&self) -> bool {
///         false
///     }
///     fn max_data_bytes(&self) -> usize {
///         4096
///     }
/// }
/// assert_eq!(Forgetful.open("__sid", "v1.none"), Err(Refusal::Undecodable));
/// ```
pub trait SessionSealer: Send + Sync + 'static {
    /// Seals `record` for the cookie named `cookie_name`, which the value is bound to. Fails when
    /// the sealed value would be over the sealer's size limit.
    fn seal(&self, cookie_name: &str, record: &SessionRecord) -> Result<String, StoreError>;

    /// Opens a sealed value, or says why it is no session: [`Refusal::Tampered`] when it does
    /// not authenticate (altered, forged, sealed for another cookie name or with a key the
    /// sealer does not hold), [`Refusal::Undecodable`] when it is not a sealed value at all
    /// (garbage, truncated, over the size limit). Expiry is the caller's to check.
    fn open(&self, cookie_name: &str, sealed: &str) -> Result<SessionRecord, Refusal>;

    /// Whether a value that opens should be sealed again on this response even if the session
    /// did not change (it was sealed with a previous key). A cheap look at the value's label,
    /// no decryption.
    #[must_use]
    fn needs_reseal(&self, sealed: &str) -> bool;

    /// Whether previous keys are configured, so every response must check
    /// [`needs_reseal`](Self::needs_reseal), also for requests whose handler never takes the
    /// session.
    #[must_use]
    fn has_previous_keys(&self) -> bool;

    /// The most bytes the session's data may take as JSON; a larger session cannot be sealed,
    /// and writes that would exceed it are refused when made.
    #[must_use]
    fn max_data_bytes(&self) -> usize;
}

/// Where sessions live: in a server store, or sealed in the cookie. There are exactly these two
/// kinds, by design; a framework integration handles each.
#[derive(Clone)]
pub enum SessionBackend {
    /// A store keeping sessions by hashed ID.
    Store(Arc<dyn SessionStore>),
    /// A sealer keeping the whole session in the cookie.
    Sealed(Arc<dyn SessionSealer>),
}

impl std::fmt::Debug for SessionBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Store(_) => "SessionBackend::Store",
            Self::Sealed(_) => "SessionBackend::Sealed",
        })
    }
}

/// What a framework integration accepts as a backend: every [`SessionStore`], and stateless
/// stores that implement it to hand over their [`SessionSealer`].
///
/// ```
/// use session_core::{IntoSessionBackend, SessionBackend};
/// # use session_core::*;
/// # struct MyStore;
/// # #[async_trait::async_trait]
/// # impl SessionStore for MyStore {
/// #     async fn load(&self, _: &SessionId) -> Result<Option<SessionRecord>, StoreError> { Ok(None) }
/// #     async fn create(&self, _: &SessionId, _: &SessionRecord) -> Result<bool, StoreError> { Ok(true) }
/// #     async fn update(&self, _: &SessionId, _: &SessionDelta, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
/// #     async fn touch(&self, _: &SessionId, _: Timestamp) -> Result<Option<Timestamp>, StoreError> { Ok(None) }
/// #     async fn delete(&self, _: &SessionId) -> Result<(), StoreError> { Ok(()) }
/// # }
/// assert!(matches!(MyStore.into_backend(), SessionBackend::Store(_)));
/// ```
pub trait IntoSessionBackend {
    /// The backend.
    #[must_use]
    fn into_backend(self) -> SessionBackend;
}

impl<S: SessionStore> IntoSessionBackend for S {
    fn into_backend(self) -> SessionBackend {
        SessionBackend::Store(Arc::new(self))
    }
}
