//! U+0000 in stored strings.
//!
//! JSON strings may hold U+0000, but PostgreSQL's `jsonb` and `text` cannot: a session value
//! with one (a client's form field, say) would fail every write of its session. Strings are
//! therefore stored with U+0000 written as U+E000 `0`, and U+E000 itself, so that the escape
//! reads back unambiguously, as U+E000 U+E000. Other strings, nearly all of them, are stored as
//! they are, without a copy. Keys and values are escaped alike, at any depth, as are the user
//! IDs the `user_id` column is matched against.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The character that starts an escape (the first of Unicode's private use area).
const ESCAPE: char = '\u{E000}';

/// Whether `text` needs escaping before PostgreSQL stores it.
fn needs_escape(text: &str) -> bool {
    text.contains(['\0', ESCAPE])
}

/// `text` as stored.
pub(crate) fn escape_str(text: &str) -> Cow<'_, str> {
    if !needs_escape(text) {
        return Cow::Borrowed(text);
    }
    let mut stored = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\0' => {
                stored.push(ESCAPE);
                stored.push('0');
            }
            ESCAPE => {
                stored.push(ESCAPE);
                stored.push(ESCAPE);
            }
            c => stored.push(c),
        }
    }
    Cow::Owned(stored)
}

/// `stored` as written by the application. An escape character followed by anything else
/// than the two escapes (which only a foreign write leaves) is kept as it is.
pub(crate) fn unescape_str(stored: String) -> String {
    if !holds_escape(&stored) {
        return stored;
    }
    let mut text = String::with_capacity(stored.len());
    let mut chars = stored.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ESCAPE {
            text.push(c);
            continue;
        }
        match chars.peek() {
            Some('0') => {
                chars.next();
                text.push('\0');
            }
            Some(&ESCAPE) => {
                chars.next();
                text.push(ESCAPE);
            }
            _ => text.push(ESCAPE),
        }
    }
    text
}

/// Whether `text` holds an escape, and so must be unescaped when read.
fn holds_escape(text: &str) -> bool {
    text.contains(ESCAPE)
}

/// Whether any string in `value`, key or value, at any depth, passes `test`.
fn value_has(value: &Value, test: fn(&str) -> bool) -> bool {
    match value {
        Value::String(text) => test(text),
        Value::Array(items) => items.iter().any(|item| value_has(item, test)),
        Value::Object(map) => entries_have(map, test),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

fn entries_have<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
    test: fn(&str) -> bool,
) -> bool {
    entries
        .into_iter()
        .any(|(key, value)| test(key) || value_has(value, test))
}

fn escape_value(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(escape_str(text).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(escape_value).collect()),
        Value::Object(map) => Value::Object(escape_entries(map)),
        other => other.clone(),
    }
}

fn escape_entries<'a, M: FromIterator<(String, Value)>>(
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> M {
    entries
        .into_iter()
        .map(|(key, value)| (escape_str(key).into_owned(), escape_value(value)))
        .collect()
}

/// Session data (or a delta's set keys) as stored: borrowed when nothing needs escaping.
pub(crate) fn escape_entries_of<'a, M>(entries: &'a M) -> Cow<'a, M>
where
    M: Clone + FromIterator<(String, Value)>,
    &'a M: IntoIterator<Item = (&'a String, &'a Value)>,
{
    if !entries_have(entries, needs_escape) {
        return Cow::Borrowed(entries);
    }
    Cow::Owned(escape_entries(entries))
}

/// A stored JSON value as the application wrote it.
pub(crate) fn unescape_value(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(unescape_str(text)),
        Value::Array(items) => Value::Array(items.into_iter().map(unescape_value).collect()),
        Value::Object(map) => Value::Object(unescape_entries(map)),
        other => other,
    }
}

/// Stored session data as the application wrote it: returned as it is when it holds no escape.
pub(crate) fn unescape_map(map: Map<String, Value>) -> Map<String, Value> {
    if !entries_have(&map, holds_escape) {
        return map;
    }
    unescape_entries(map)
}

fn unescape_entries(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| (unescape_str(key), unescape_value(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_round_trip_and_plain_ones_are_not_copied() {
        for text in [
            "",
            "plain",
            "a\0b",
            "\0",
            "\u{E000}",
            "\u{E000}0",
            "x\u{E000}\0\u{E000}y",
        ] {
            let stored = escape_str(text);
            assert!(!stored.contains('\0'), "{text:?}");
            assert_eq!(unescape_str(stored.into_owned()), text, "{text:?}");
        }
        assert!(matches!(escape_str("plain"), Cow::Borrowed(_)));
        // A stray escape character (a foreign write) reads back as it is.
        assert_eq!(
            unescape_str("a\u{E000}b\u{E000}".to_owned()),
            "a\u{E000}b\u{E000}"
        );
    }

    #[test]
    fn nested_keys_and_values_round_trip() {
        let Value::Object(data) = json!({
            "k\0": ["x\0", {"n\u{E000}": "v\0"}],
            "plain": 1,
        }) else {
            unreachable!()
        };
        let stored = escape_entries_of(&data);
        let text = serde_json::to_string(stored.as_ref()).unwrap();
        assert!(!text.contains("\\u0000"), "{text}");
        assert_eq!(unescape_map(stored.into_owned()), data);

        let Value::Object(plain) = json!({"a": [1, "b"], "c": {"d": null}}) else {
            unreachable!()
        };
        assert!(matches!(escape_entries_of(&plain), Cow::Borrowed(_)));
    }
}
