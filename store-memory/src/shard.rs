//! One shard of the store: its sessions in two LRU lists, anonymous and user-bound, under one
//! budget of sessions (and optionally of bytes) that evicts anonymous sessions first.

use std::sync::Arc;

use lru::LruCache;
use session_core::{SessionRecord, StorageKey, Timestamp};

use crate::SESSION_OVERHEAD_BYTES;

/// One stored session and when it was last written or refreshed.
pub(crate) struct Stored {
    /// Shared with the requests that loaded it; a write changes it in place when no request
    /// holds it, and copies it first when one does (`Arc::make_mut`).
    pub(crate) record: Arc<SessionRecord>,
    pub(crate) last_seen: Timestamp,
    /// Its [`estimated_size`] under a byte bound; 0 without one, so that unbounded stores never
    /// serialize a value to size it.
    pub(crate) size: u64,
}

impl Stored {
    fn is_bound(&self) -> bool {
        self.record.user().is_some()
    }
}

/// The estimated size of a session under a byte bound: [`SESSION_OVERHEAD_BYTES`] plus, for each
/// entry of its data, the key's length and the length of the value's JSON text.
pub(crate) fn estimated_size(record: &SessionRecord) -> u64 {
    let data: usize = record
        .data
        .iter()
        .map(|(key, value)| key.len() + session_core::json_len(value))
        .sum();
    SESSION_OVERHEAD_BYTES.saturating_add(u64::try_from(data).unwrap_or(u64::MAX))
}

/// The sessions of one shard, each list least recently used last.
///
/// The lists are unbounded: the shard enforces its budget itself, in [`Shard::pop_victim`]'s
/// order, so that a flood of anonymous visitors cannot evict a signed-in user while it still
/// holds an anonymous session to evict instead.
pub(crate) struct Shard {
    anonymous: LruCache<StorageKey, Stored>,
    bound: LruCache<StorageKey, Stored>,
    max_sessions: usize,
    max_bytes: Option<u64>,
    /// The sum of the held sessions' sizes (0 without a byte bound).
    bytes: u64,
}

impl Shard {
    pub(crate) fn new(max_sessions: usize, max_bytes: Option<u64>) -> Self {
        Self {
            // Unbounded lists grow with the sessions held, not with the bound.
            anonymous: LruCache::unbounded(),
            bound: LruCache::unbounded(),
            max_sessions,
            max_bytes,
            bytes: 0,
        }
    }

    /// The sessions held, expired ones not yet removed included.
    pub(crate) fn len(&self) -> usize {
        self.anonymous.len() + self.bound.len()
    }

    /// The summed estimated size of the sessions held (0 without a byte bound).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The session under `key`, without marking it used.
    pub(crate) fn peek(&self, key: &StorageKey) -> Option<&Stored> {
        self.anonymous.peek(key).or_else(|| self.bound.peek(key))
    }

    /// The session under `key`, marked most recently used of its list. A caller that changes
    /// whether it is bound, or its size, must [`pop`](Self::pop) and [`push`](Self::push) it.
    pub(crate) fn get_mut(&mut self, key: &StorageKey) -> Option<&mut Stored> {
        match self.anonymous.get_mut(key) {
            Some(stored) => Some(stored),
            None => self.bound.get_mut(key),
        }
    }

    /// Removes the session under `key`.
    pub(crate) fn pop(&mut self, key: &StorageKey) -> Option<Stored> {
        let stored = self.anonymous.pop(key).or_else(|| self.bound.pop(key))?;
        self.bytes -= stored.size;
        Some(stored)
    }

    /// Adds a session as the most recently used of its list. `key` must not be held; call
    /// [`make_room`](Self::make_room) first to keep the budget.
    pub(crate) fn push(&mut self, key: StorageKey, stored: Stored) {
        self.bytes += stored.size;
        let list = if stored.is_bound() {
            &mut self.bound
        } else {
            &mut self.anonymous
        };
        // `key` is not held and the list is unbounded, so nothing comes back.
        let _ = list.push(key, stored);
    }

    /// Removes the least recently used session of either list if it has expired.
    pub(crate) fn pop_expired(&mut self, now: Timestamp) -> Option<(StorageKey, Stored)> {
        let expired = |list: &LruCache<StorageKey, Stored>| {
            list.peek_lru()
                .is_some_and(|(_, stored)| stored.record.is_expired(now))
        };
        let list = if expired(&self.anonymous) {
            &mut self.anonymous
        } else if expired(&self.bound) {
            &mut self.bound
        } else {
            return None;
        };
        let (key, stored) = list.pop_lru()?;
        self.bytes -= stored.size;
        Some((key, stored))
    }

    /// Whether a session of `size` bytes needs room made first: the shard holds its share of
    /// sessions, or of bytes with it added.
    fn is_full_for(&self, size: u64) -> bool {
        self.len() >= self.max_sessions
            || self
                .max_bytes
                .is_some_and(|max| self.bytes.saturating_add(size) > max)
    }

    /// Evicts sessions, in [`pop_victim`](Self::pop_victim)'s order, until a session of `size`
    /// bytes fits, or none is left (a session larger than the byte share is then held alone).
    /// Hands each evicted session to `evicted`.
    pub(crate) fn make_room(&mut self, size: u64, mut evicted: impl FnMut(StorageKey, Stored)) {
        while self.is_full_for(size) {
            let Some((key, stored)) = self.pop_victim() else {
                break;
            };
            evicted(key, stored);
        }
    }

    /// Removes the next session to evict: the least recently used anonymous one, or when there
    /// is none, the least recently used bound one.
    fn pop_victim(&mut self) -> Option<(StorageKey, Stored)> {
        let (key, stored) = self.anonymous.pop_lru().or_else(|| self.bound.pop_lru())?;
        self.bytes -= stored.size;
        Some((key, stored))
    }

    /// The sizes of the sessions held computed afresh, and how many are bound to a user: what
    /// the running total and the user index must agree with.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> (u64, usize) {
        let all = self.anonymous.iter().chain(self.bound.iter());
        let bytes = all.map(|(_, stored)| estimated_size(&stored.record)).sum();
        (
            bytes,
            self.bound.iter().filter(|(_, s)| s.is_bound()).count(),
        )
    }

    /// Keeps only the sessions for which `keep` returns true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&StorageKey, &Stored) -> bool) {
        let mut freed = 0;
        for list in [&mut self.anonymous, &mut self.bound] {
            list.retain(|key, stored| {
                let kept = keep(key, stored);
                if !kept {
                    freed += stored.size;
                }
                kept
            });
        }
        self.bytes -= freed;
    }
}
