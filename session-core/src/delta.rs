//! The changes one request made to a session.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The data of one session: each key maps to a JSON value.
pub type SessionData = serde_json::Map<String, Value>;

/// What a request changed: keys set, keys removed, and whether all data was cleared first.
///
/// Stores apply a delta instead of rewriting the whole session, so two concurrent requests
/// that change different keys both survive.
///
/// ```
/// use serde_json::json;
/// use session_core::{SessionData, SessionDelta};
///
/// let mut data = SessionData::new();
/// data.insert("a".into(), json!(1));
/// data.insert("b".into(), json!(2));
///
/// let mut delta = SessionDelta::default();
/// delta.insert("c", json!(3));
/// delta.remove("a");
/// delta.apply_to(&mut data);
///
/// assert_eq!(data.get("a"), None);
/// assert_eq!(data.get("b"), Some(&json!(2)));
/// assert_eq!(data.get("c"), Some(&json!(3)));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionDelta {
    cleared: bool,
    set: BTreeMap<String, Value>,
    removed: BTreeSet<String>,
}

/// What a delta alone says about one key.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum DeltaLookup<'a> {
    /// The request set the key to this value.
    Set(&'a Value),
    /// The request removed the key, or cleared the session.
    Removed,
    /// The request did not touch the key: the stored value stands.
    Untouched,
}

impl SessionDelta {
    /// Records that `key` is set to `value`.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        self.removed.remove(&key);
        self.set.insert(key, value);
    }

    /// Records that `key` is removed.
    pub fn remove(&mut self, key: &str) {
        self.set.remove(key);
        if !self.cleared {
            self.removed.insert(key.to_owned());
        }
    }

    /// Records that all data is dropped; later inserts still apply.
    pub fn clear(&mut self) {
        self.cleared = true;
        self.set.clear();
        self.removed.clear();
    }

    /// Whether the request changed nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        !self.cleared && self.set.is_empty() && self.removed.is_empty()
    }

    /// Whether all stored data is dropped before the sets apply.
    #[must_use]
    pub fn is_cleared(&self) -> bool {
        self.cleared
    }

    /// The keys set, with their new values.
    #[must_use]
    pub fn set_entries(&self) -> &BTreeMap<String, Value> {
        &self.set
    }

    /// The keys removed (empty when the delta clears: everything is removed then).
    #[must_use]
    pub fn removed_keys(&self) -> &BTreeSet<String> {
        &self.removed
    }

    /// What this delta says about `key`.
    #[must_use]
    pub fn lookup(&self, key: &str) -> DeltaLookup<'_> {
        if let Some(value) = self.set.get(key) {
            DeltaLookup::Set(value)
        } else if self.cleared || self.removed.contains(key) {
            DeltaLookup::Removed
        } else {
            DeltaLookup::Untouched
        }
    }

    /// Applies the delta to `data` in place: clear, then removals, then sets.
    pub fn apply_to(&self, data: &mut SessionData) {
        if self.cleared {
            data.clear();
        }
        for key in &self.removed {
            data.remove(key);
        }
        for (key, value) in &self.set {
            data.insert(key.clone(), value.clone());
        }
    }
}

/// The length in bytes of `value`'s compact JSON text, counted without building the text: how
/// big a session's data is, for a size limit or an estimate.
///
/// ```
/// use serde_json::json;
/// assert_eq!(session_core::json_len(&json!({ "a": [1, "x"] })), r#"{"a":[1,"x"]}"#.len());
/// ```
#[must_use]
pub fn json_len(value: &impl serde::Serialize) -> usize {
    let mut counter = ByteCount(0);
    // Writing to a counter cannot fail; a value that does not serialize counts what it wrote.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// An `io::Write` that only counts bytes.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
