//! Where time comes from: the system clock in production, a [`TestClock`] that tests move.
//!
//! The middleware and the stores that compute deadlines themselves (memory, cookie, PostgreSQL)
//! read the current time through one [`SharedClock`]. Give them the same [`TestClock`] and a
//! test can cross the refresh threshold or the idle and absolute deadlines without sleeping.
//! Redis enforces TTLs on its own clock, so it always runs on the system clock.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::Timestamp;

/// A source of the current time.
///
/// ```
/// use session_core::clock::{Clock, SystemClock};
/// assert!(SystemClock.now().as_unix_millis() > 0);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// A clock that several owners share: what the middleware and the stores hold.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock, shared: the default of everything that reads time.
///
/// ```
/// let clock = session_core::clock::system();
/// assert!(clock.now().as_unix_millis() > 0);
/// ```
#[must_use]
pub fn system() -> SharedClock {
    static SYSTEM: LazyLock<SharedClock> = LazyLock::new(|| Arc::new(SystemClock));
    Arc::clone(&SYSTEM)
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one clone
/// and hands others to the middleware and the store.
///
/// ```
/// use std::time::Duration;
/// use session_core::Timestamp;
/// use session_core::clock::{Clock, TestClock};
///
/// let clock = TestClock::new(Timestamp::from_unix_millis(1_000));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(shared.now(), Timestamp::from_unix_millis(3_000));
/// ```
#[derive(Debug, Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// A clock standing at `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicU64::new(start.as_unix_millis())))
    }

    /// A clock standing at the current system time (so stores that also consult a server's
    /// clock see plausible deadlines).
    ///
    /// ```
    /// use session_core::clock::{Clock, TestClock};
    /// let clock = TestClock::starting_now();
    /// assert!(clock.now().as_unix_millis() > 0);
    /// ```
    #[must_use]
    pub fn starting_now() -> Self {
        Self::new(Timestamp::now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(millis))
            });
    }

    /// Sets the clock to `to` (which may be earlier, to test a clock that steps back).
    ///
    /// ```
    /// use session_core::Timestamp;
    /// use session_core::clock::{Clock, TestClock};
    /// let clock = TestClock::new(Timestamp::from_unix_millis(5));
    /// clock.set(Timestamp::from_unix_millis(9));
    /// assert_eq!(clock.now(), Timestamp::from_unix_millis(9));
    /// ```
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.as_unix_millis(), Ordering::SeqCst);
    }

    /// This clock as a [`SharedClock`] for a middleware or a store.
    ///
    /// ```
    /// use session_core::clock::{Clock, TestClock};
    /// let clock = TestClock::starting_now();
    /// assert_eq!(clock.shared().now(), clock.now());
    /// ```
    #[must_use]
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(Ordering::SeqCst))
    }
}
