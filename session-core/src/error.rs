//! Typed errors of the session API and of stores.

/// A boxed error from a store's backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from a [`SessionStore`](crate::SessionStore).
///
/// Messages never include a session ID or a key.
///
/// ```
/// use session_core::StoreError;
/// let err = StoreError::unavailable(std::io::Error::other("connection refused"));
/// assert_eq!(err.to_string(), "session store unavailable");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached (connection refused, timeout, failover in progress).
    #[error("session store unavailable")]
    Unavailable(#[source] BoxError),
    /// The backend answered with an error.
    #[error("session store backend error")]
    Backend(#[source] BoxError),
    /// A stored record could not be decoded.
    #[error("stored session record is corrupt")]
    Corrupt(#[source] BoxError),
}

impl StoreError {
    /// Wraps a connection-level failure.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    /// Wraps an error the backend returned.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::Backend(source.into())
    }

    /// Wraps a decoding failure of a stored record.
    pub fn corrupt(source: impl Into<BoxError>) -> Self {
        Self::Corrupt(source.into())
    }
}

/// An error from a session operation, returned to the handler.
///
/// ```
/// use session_core::SessionError;
/// let err = SessionError::ReservedKey { key: "__flash:x".into() };
/// assert!(err.to_string().contains("reserved"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The value given for `key` could not be serialized to JSON.
    #[error("value for session key `{key}` could not be serialized")]
    Serialize {
        /// The key being written.
        key: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// The stored value of `key` does not deserialize into the requested type. The stored value
    /// is left as it was.
    #[error("stored value for session key `{key}` does not match the requested type")]
    Deserialize {
        /// The key being read.
        key: String,
        /// The deserializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// The key is one the library keeps for itself (see
    /// [`users::is_reserved`](crate::users::is_reserved)).
    #[error("session key `{key}` is in a reserved namespace")]
    ReservedKey {
        /// The refused key.
        key: String,
    },
    /// Writing `key` would make the session larger than the store can hold (a cookie store's
    /// size limit). Nothing was written.
    #[error(
        "writing session key `{key}` would make the session {size} bytes, over the limit of {limit}"
    )]
    TooLarge {
        /// The key being written.
        key: String,
        /// The session's data size (JSON bytes) with the write.
        size: usize,
        /// The store's limit.
        limit: usize,
    },
    /// Binding a session to a user who already holds `limit` other live sessions, under a
    /// [`SessionLimit`](crate::SessionLimit) that refuses new ones. Nothing was bound.
    #[error("the user already has {limit} live sessions, the most allowed")]
    TooManySessions {
        /// The most sessions a user may hold.
        limit: usize,
    },
    /// A lifetime the middleware does not allow: lifetimes are not enabled, or the timeouts
    /// are zero or longer than its bounds. Nothing was changed.
    #[error("session lifetime not allowed: {reason}")]
    LifetimeNotAllowed {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
