//! The fields of one session hash as `HGETALL` returns them.

use redis::{FromRedisValue, ParsingError, Value};

/// A session hash's fields and values, in the order Redis sent them.
///
/// A load reads a handful of fields, once each: a list searched in place costs less than
/// hashing every field into a map, and the strings are the reply's own buffers, not copies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HashFields(Vec<(String, String)>);

impl HashFields {
    /// Whether the hash has no fields (its key does not exist).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `field`, if the hash has it.
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
    }

    /// Removes `field` and returns its value.
    pub(crate) fn remove(&mut self, field: &str) -> Option<String> {
        let index = self.0.iter().position(|(name, _)| name == field)?;
        Some(self.0.swap_remove(index).1)
    }

    /// Sets `field` to `value`, replacing an earlier value.
    #[cfg(test)]
    pub(crate) fn insert(&mut self, field: &str, value: &str) {
        self.remove(field);
        self.0.push((field.to_owned(), value.to_owned()));
    }
}

impl IntoIterator for HashFields {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, String)> for HashFields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }
}

impl<const N: usize> From<[(&str, &str); N]> for HashFields {
    fn from(pairs: [(&str, &str); N]) -> Self {
        pairs
            .into_iter()
            .map(|(field, value)| (field.to_owned(), value.to_owned()))
            .collect()
    }
}

impl FromRedisValue for HashFields {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        match value {
            // RESP2: field, value, field, value, …
            Value::Array(items) => {
                let mut fields = Vec::with_capacity(items.len() / 2);
                let mut items = items.into_iter();
                while let Some(field) = items.next() {
                    let value = items
                        .next()
                        .ok_or_else(|| ParsingError::from("odd number of hash elements"))?;
                    fields.push((text(field)?, text(value)?));
                }
                Ok(Self(fields))
            }
            // RESP3: a map.
            Value::Map(pairs) => pairs
                .into_iter()
                .map(|(field, value)| Ok((text(field)?, text(value)?)))
                .collect::<Result<Vec<_>, ParsingError>>()
                .map(Self),
            Value::Nil => Ok(Self::default()),
            other => Err(ParsingError::from(format!(
                "a hash reply, not {}",
                kind(&other)
            ))),
        }
    }
}

/// A bulk or simple string as text, reusing its buffer.
fn text(value: Value) -> Result<String, ParsingError> {
    match value {
        Value::BulkString(bytes) => {
            String::from_utf8(bytes).map_err(|_| ParsingError::from("hash element is not UTF-8"))
        }
        Value::SimpleString(text) => Ok(text),
        other => Err(ParsingError::from(format!(
            "a hash element, not {}",
            kind(&other)
        ))),
    }
}

/// What kind of reply `value` is, for an error message (never its content).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Int(_) => "an integer",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        _ => "another reply type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn resp2_and_resp3_replies_give_the_same_fields() {
        let flat = Value::Array(vec![bulk("@"), bulk("1:2:3"), bulk(".k"), bulk("4")]);
        let map = Value::Map(vec![(bulk("@"), bulk("1:2:3")), (bulk(".k"), bulk("4"))]);
        let expected = HashFields::from([("@", "1:2:3"), (".k", "4")]);
        assert_eq!(HashFields::from_redis_value(flat).unwrap(), expected);
        assert_eq!(HashFields::from_redis_value(map).unwrap(), expected);
        assert_eq!(
            HashFields::from_redis_value(Value::Array(Vec::new())).unwrap(),
            HashFields::default()
        );
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        for bad in [
            Value::Array(vec![bulk("@")]),
            Value::Array(vec![bulk("@"), Value::Int(1)]),
            Value::Array(vec![Value::BulkString(vec![0xff]), bulk("x")]),
            Value::Int(3),
        ] {
            assert!(HashFields::from_redis_value(bad).is_err());
        }
    }

    #[test]
    fn fields_are_found_removed_and_replaced() {
        let mut fields = HashFields::from([("a", "1"), ("b", "2")]);
        assert_eq!(fields.get("b"), Some("2"));
        fields.insert("a", "3");
        assert_eq!(fields.remove("a").as_deref(), Some("3"));
        assert_eq!(fields.get("a"), None);
        assert_eq!(fields.into_iter().count(), 1);
    }
}
