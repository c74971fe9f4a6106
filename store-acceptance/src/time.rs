//! Time as a check sees it: a [`TestClock`] that the check moves, or real time for a backend
//! whose server enforces expiry on its own clock (Redis TTLs).

use std::time::Duration;

use session_core::clock::{self, Clock as _, SharedClock, TestClock};
use session_core::{SessionId, SessionState, Timestamp};

/// The time a check runs in. Give the store under test [`Time::clock`].
#[derive(Debug, Clone)]
pub enum Time {
    /// A test clock, moved by [`pass`](Self::pass) without sleeping.
    Test(TestClock),
    /// The system clock: [`pass`](Self::pass) sleeps.
    Real,
}

impl Time {
    /// A fresh test clock standing at the current system time.
    #[must_use]
    pub fn test() -> Self {
        Self::Test(TestClock::starting_now())
    }

    /// The clock to give the store and every [`SessionState`] of the check.
    #[must_use]
    pub fn clock(&self) -> SharedClock {
        match self {
            Self::Test(clock) => clock.shared(),
            Self::Real => clock::system(),
        }
    }

    /// The current time on this clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        match self {
            Self::Test(clock) => clock.now(),
            Self::Real => Timestamp::now(),
        }
    }

    /// The unit checks count their timeouts in: a minute on a test clock, so they read like real
    /// timeouts; 100 ms in real time, where a check sleeps through them (Redis enforces TTLs on
    /// its own clock).
    #[must_use]
    pub fn tick(&self) -> Duration {
        match self {
            Self::Test(_) => Duration::from_secs(60),
            Self::Real => Duration::from_millis(100),
        }
    }

    /// Lets `by` pass: moves the test clock, or sleeps.
    pub async fn pass(&self, by: Duration) {
        match self {
            Self::Test(clock) => clock.advance(by),
            Self::Real => tokio::time::sleep(by).await,
        }
    }

    /// A request's session state on this clock.
    #[must_use]
    pub fn state(&self, origin: Option<SessionId>) -> SessionState {
        SessionState::with_clock(origin, self.clock())
    }
}
