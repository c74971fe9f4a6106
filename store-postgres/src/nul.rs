//! U+0000 in stored strings.
//!
//! JSON strings may hold U+0000, but PostgreSQL's `jsonb` and `text` cannot: a session value
//! with one (a client's form field, say) would fail every write of its session. Strings are
//! therefore stored with U+0000 written as U+E000 `0`, and U+E000 itself, so that the escape
//! reads back unambiguously, as U+E000 U+E000. Keys and values are escaped alike, at any depth,
//! as are the user IDs the `user_id` column is matched against.

use serde_json::{Map, Value};

/// The character that starts an escape (the first of Unicode's private use area).
const ESCAPE: char = '\u{E000}';

/// `text` as stored.
pub(crate) fn escape(text: &str) -> String {
    text.replace(ESCAPE, "\u{E000}\u{E000}")
        .replace('\0', "\u{E000}0")
}

/// `stored` as the application wrote it. An escape character followed by anything else than
/// the two escapes (which only a foreign write leaves) is kept as it is.
pub(crate) fn unescape(stored: &str) -> String {
    let mut text = String::with_capacity(stored.len());
    let mut chars = stored.chars();
    while let Some(c) = chars.next() {
        if c != ESCAPE {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => text.push('\0'),
            Some(ESCAPE) => text.push(ESCAPE),
            other => {
                text.push(ESCAPE);
                text.extend(other);
            }
        }
    }
    text
}

/// `entries` (session data, or a delta's set keys) with every string in them, keys and values
/// at any depth, passed through `f`: [`escape`] before a write, [`unescape`] after a read.
pub(crate) fn map_entries<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
    f: fn(&str) -> String,
) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(key, value)| (f(key), map_value(value, f)))
        .collect()
}

fn map_value(value: &Value, f: fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(f(text)),
        Value::Array(items) => Value::Array(items.iter().map(|item| map_value(item, f)).collect()),
        Value::Object(map) => Value::Object(map_entries(map, f)),
        other => other.clone(),
    }
}
