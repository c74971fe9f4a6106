//! Wall-clock timestamps and the idle + absolute expiry policy.

use std::ops::Add;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in wall-clock time with millisecond precision (milliseconds since the Unix epoch).
///
/// Stores persist it as an integer or a database timestamp; it is what every deadline in a
/// [`SessionRecord`](crate::SessionRecord) is made of.
///
/// ```
/// use std::time::Duration;
/// use session_core::Timestamp;
///
/// let t = Timestamp::from_unix_millis(1_000);
/// assert_eq!((t + Duration::from_millis(500)).as_unix_millis(), 1_500);
/// assert_eq!(t.duration_until(Timestamp::from_unix_millis(3_000)), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
    }

    /// From milliseconds since the Unix epoch.
    #[must_use]
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn as_unix_millis(self) -> u64 {
        self.0
    }

    /// Time from `self` until `later`; zero when `later` is not after `self`.
    #[must_use]
    pub const fn duration_until(self, later: Self) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        let millis = u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }
}

/// How long a session lives: an idle timeout that slides with activity, and an absolute timeout
/// counted from creation that nothing extends.
///
/// Defaults: 24 hours idle, 7 days absolute. A request that loaded the session, to read or to
/// write it, refreshes the idle deadline only once less than half of the idle timeout remains,
/// so a busy session does not get a new deadline and a new cookie on every request.
///
/// ```
/// use std::time::Duration;
/// use session_core::ExpiryPolicy;
///
/// let policy = ExpiryPolicy::default();
/// assert_eq!(policy.idle_timeout(), Duration::from_secs(24 * 3600));
/// assert_eq!(policy.absolute_timeout(), Duration::from_secs(7 * 24 * 3600));
///
/// let short = ExpiryPolicy::new(Duration::from_secs(60), Duration::from_secs(3600));
/// assert_eq!(short.idle_timeout(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryPolicy {
    idle_timeout: Duration,
    absolute_timeout: Duration,
}

impl Default for ExpiryPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(24 * 60 * 60),
            absolute_timeout: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

impl ExpiryPolicy {
    /// A policy with the given idle and absolute timeouts.
    #[must_use]
    pub const fn new(idle_timeout: Duration, absolute_timeout: Duration) -> Self {
        Self {
            idle_timeout,
            absolute_timeout,
        }
    }

    /// The sliding idle timeout.
    #[must_use]
    pub const fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The absolute timeout, counted from creation.
    #[must_use]
    pub const fn absolute_timeout(&self) -> Duration {
        self.absolute_timeout
    }

    /// The idle deadline for activity at `now` (before the absolute cap).
    #[must_use]
    pub fn idle_deadline(&self, now: Timestamp) -> Timestamp {
        now + self.idle_timeout
    }

    /// The absolute deadline of a session created at `created_at`.
    #[must_use]
    pub fn absolute_deadline(&self, created_at: Timestamp) -> Timestamp {
        created_at + self.absolute_timeout
    }

    /// Whether a session that expires at `expires_at` (and never later than `absolute_expires_at`)
    /// should have its idle deadline pushed forward by a read at `now`: once less than half of the
    /// idle timeout remains, and only if the absolute deadline leaves room to extend.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_core::{ExpiryPolicy, Timestamp};
    ///
    /// let policy = ExpiryPolicy::new(Duration::from_secs(100), Duration::from_secs(1000));
    /// let now = Timestamp::from_unix_millis(0);
    /// let far = Timestamp::from_unix_millis(1_000_000);
    /// assert!(!policy.needs_refresh(Timestamp::from_unix_millis(60_000), far, now));
    /// assert!(policy.needs_refresh(Timestamp::from_unix_millis(40_000), far, now));
    /// // Nothing to gain when the absolute deadline is the limit.
    /// let abs = Timestamp::from_unix_millis(40_000);
    /// assert!(!policy.needs_refresh(abs, abs, now));
    /// ```
    #[must_use]
    pub fn needs_refresh(
        &self,
        expires_at: Timestamp,
        absolute_expires_at: Timestamp,
        now: Timestamp,
    ) -> bool {
        expires_at < absolute_expires_at && now.duration_until(expires_at) < self.idle_timeout / 2
    }
}
