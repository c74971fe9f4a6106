//! The stored form of one session.

use crate::{SessionData, SessionDelta, Timestamp};

/// One session as a store keeps it: its data and its deadlines.
///
/// `expires_at` is the effective expiry (the idle deadline, never later than
/// `absolute_expires_at`); a store treats a record past `expires_at` as absent.
///
/// ```
/// use std::time::Duration;
/// use session_core::{SessionData, SessionRecord, Timestamp};
///
/// let now = Timestamp::now();
/// let record = SessionRecord::new(
///     SessionData::new(),
///     now,
///     now + Duration::from_secs(60),
///     now + Duration::from_secs(3600),
/// );
/// assert!(!record.is_expired(now));
/// assert!(record.is_expired(now + Duration::from_secs(61)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The session's key/value data, flash entries included.
    pub data: SessionData,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When the session expires unless refreshed: `min(idle deadline, absolute_expires_at)`.
    pub expires_at: Timestamp,
    /// When the session expires whatever happens.
    pub absolute_expires_at: Timestamp,
}

impl SessionRecord {
    /// Version of the stored layout. Stores that serialize records write it, so the format can
    /// evolve without breaking live sessions.
    pub const FORMAT_VERSION: u32 = 1;

    /// Builds a record; `expires_at` is capped at `absolute_expires_at`.
    #[must_use]
    pub fn new(
        data: SessionData,
        created_at: Timestamp,
        expires_at: Timestamp,
        absolute_expires_at: Timestamp,
    ) -> Self {
        Self {
            data,
            created_at,
            expires_at: expires_at.min(absolute_expires_at),
            absolute_expires_at,
        }
    }

    /// Whether the record is expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }

    /// Moves the idle deadline to `idle_deadline` unless the record's is already later (deadlines
    /// only move forward), capped by the absolute deadline, and returns the new effective expiry.
    ///
    /// ```
    /// use session_core::{SessionData, SessionRecord, Timestamp};
    ///
    /// let at = Timestamp::from_unix_millis;
    /// let mut record = SessionRecord::new(SessionData::new(), at(0), at(50), at(100));
    /// assert_eq!(record.extend_to(at(80)), at(80));
    /// assert_eq!(record.extend_to(at(60)), at(80), "an earlier deadline never pulls it back");
    /// assert_eq!(record.extend_to(at(500)), at(100), "capped by the absolute deadline");
    /// ```
    pub fn extend_to(&mut self, idle_deadline: Timestamp) -> Timestamp {
        self.expires_at = idle_deadline
            .max(self.expires_at)
            .min(self.absolute_expires_at);
        self.expires_at
    }

    /// What [`SessionStore::update`](crate::SessionStore::update) does to a live record: applies
    /// `delta` to the data and moves the idle deadline as [`extend_to`](Self::extend_to) does
    /// (forward only, capped by the absolute deadline). Returns the new effective expiry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use serde_json::json;
    /// use session_core::{SessionData, SessionDelta, SessionRecord, Timestamp};
    ///
    /// let now = Timestamp::now();
    /// let mut record =
    ///     SessionRecord::new(SessionData::new(), now, now, now + Duration::from_secs(60));
    /// let mut delta = SessionDelta::default();
    /// delta.insert("a", json!(1));
    /// let expires = record.apply_update(&delta, now + Duration::from_secs(3600));
    /// assert_eq!(expires, record.absolute_expires_at);
    /// assert_eq!(record.data["a"], json!(1));
    /// ```
    pub fn apply_update(&mut self, delta: &SessionDelta, idle_deadline: Timestamp) -> Timestamp {
        delta.apply_to(&mut self.data);
        self.extend_to(idle_deadline)
    }

    /// Applies `delta` and moves the deadlines as `renewal` says, as a renew does; returns the
    /// new effective expiry.
    ///
    /// ```
    /// use session_core::{Renewal, SessionData, SessionDelta, SessionExpiry, SessionRecord, Timestamp};
    /// let t = Timestamp::from_unix_millis;
    /// let mut record = SessionRecord::new(SessionData::new(), t(0), t(10), t(20));
    /// assert_eq!(record.apply_renewal(&SessionDelta::default(), Renewal::Extend(t(30))), t(20));
    /// let restart = Renewal::Restart(SessionExpiry::new(t(40), t(100)));
    /// assert_eq!(record.apply_renewal(&SessionDelta::default(), restart), t(40));
    /// assert_eq!(record.absolute_expires_at, t(100));
    /// ```
    pub fn apply_renewal(&mut self, delta: &SessionDelta, renewal: Renewal) -> Timestamp {
        match renewal {
            Renewal::Extend(idle_deadline) => self.apply_update(delta, idle_deadline),
            Renewal::Restart(expiry) => {
                delta.apply_to(&mut self.data);
                self.absolute_expires_at = expiry.absolute;
                self.expires_at = expiry.idle.min(expiry.absolute);
                self.expires_at
            }
        }
    }
}

/// When a session expires: its idle deadline (as last stored) and its absolute deadline.
///
/// ```
/// use session_core::{SessionExpiry, Timestamp};
/// let expiry = SessionExpiry::new(Timestamp::from_unix_millis(10), Timestamp::from_unix_millis(20));
/// assert!(expiry.idle <= expiry.absolute);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionExpiry {
    /// The idle deadline: the session ends then unless used again.
    pub idle: Timestamp,
    /// The absolute deadline: the session ends then whatever happens.
    pub absolute: Timestamp,
}

impl SessionExpiry {
    /// An expiry with these deadlines.
    #[must_use]
    pub const fn new(idle: Timestamp, absolute: Timestamp) -> Self {
        Self { idle, absolute }
    }
}

/// How a [`renew`](crate::SessionStore::renew) moves the session's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// The idle deadline moves forward to this one, capped by the absolute deadline, as an
    /// [`update`](crate::SessionStore::update) moves it.
    Extend(Timestamp),
    /// Both deadlines start again, as at creation (the user authenticated again, or the
    /// session was given a lifetime of its own): they are set to these, whatever they were.
    Restart(SessionExpiry),
}
