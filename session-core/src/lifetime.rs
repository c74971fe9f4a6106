//! A session's own lifetime: a browser session, or timeouts of its own ("remember me").

use std::time::Duration;

use serde_json::{Value, json};

use crate::ExpiryPolicy;

/// The reserved key holding a session's [`SessionLifetime`], set by
/// [`SessionState::set_lifetime`](crate::SessionState::set_lifetime).
pub const LIFETIME_KEY: &str = "__session:lifetime";

/// How long one session lives, in place of the middleware's defaults. The commit computes the
/// session's deadlines from it, and the store enforces them as it enforces any.
///
/// ```
/// use std::time::Duration;
/// use session_core::{ExpiryPolicy, SessionLifetime};
///
/// let defaults = ExpiryPolicy::default();
/// let remember = SessionLifetime::Timeouts {
///     idle: Duration::from_secs(30 * 24 * 3600),
///     absolute: Duration::from_secs(90 * 24 * 3600),
/// };
/// assert_eq!(remember.policy(&defaults).idle_timeout(), Duration::from_secs(30 * 24 * 3600));
/// assert!(remember.is_persistent());
/// assert!(!SessionLifetime::Browser.is_persistent());
/// assert_eq!(SessionLifetime::Browser.policy(&defaults), defaults);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionLifetime {
    /// A browser session: its cookie has no `Max-Age`, so the browser drops it when it closes.
    /// The server-side deadlines are the defaults.
    Browser,
    /// Idle and absolute timeouts of its own; its cookie lives until the idle deadline.
    Timeouts {
        /// The sliding idle timeout.
        idle: Duration,
        /// The absolute timeout, counted from when the lifetime was set.
        absolute: Duration,
    },
}

impl SessionLifetime {
    /// The expiry policy of a session with this lifetime, where `default` is the middleware's.
    #[must_use]
    pub fn policy(&self, default: &ExpiryPolicy) -> ExpiryPolicy {
        match *self {
            Self::Browser => *default,
            Self::Timeouts { idle, absolute } => ExpiryPolicy::new(idle, absolute),
        }
    }

    /// Whether the session's cookie outlives the browser (it carries a `Max-Age`).
    #[must_use]
    pub fn is_persistent(&self) -> bool {
        !matches!(self, Self::Browser)
    }

    /// The stored form.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Self::Browser => json!({ "browser": true }),
            Self::Timeouts { idle, absolute } => json!({
                "idle_ms": u64::try_from(idle.as_millis()).unwrap_or(u64::MAX),
                "absolute_ms": u64::try_from(absolute.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// Reads the stored form; `None` for anything else.
    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        if value.get("browser") == Some(&Value::Bool(true)) {
            return Some(Self::Browser);
        }
        let millis = |name: &str| value.get(name)?.as_u64().map(Duration::from_millis);
        let (idle, absolute) = (millis("idle_ms")?, millis("absolute_ms")?);
        (!idle.is_zero() && !absolute.is_zero()).then_some(Self::Timeouts { idle, absolute })
    }
}
