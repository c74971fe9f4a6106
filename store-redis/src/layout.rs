//! How a session is laid out in its Redis hash (see the crate docs), and how it is read back.
//! The format version in the metadata lets a later release migrate; this one reads only its
//! own. A renew's forwarding marker (field `@moved`) and a revocation's tombstone (field
//! `@revoked`, which only the revoke script writes) are hashes without metadata: no session.

use session_core::{SessionData, SessionRecord, StoreError, Timestamp};

/// A session hash's fields and values, as `HGETALL` returns them: a list searched in place, as
/// a `HashMap` cost 3,100 more instructions per request on the bench's `/read` (callgrind, 4%
/// of the server's) for the handful of fields a load looks up.
pub(crate) type HashFields = Vec<(String, String)>;

/// The value of `field` in `fields`.
pub(crate) fn field<'a>(fields: &'a HashFields, field: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(name, _)| name == field)
        .map(|(_, value)| value.as_str())
}

/// The hash field holding a session's metadata.
pub(crate) const META_FIELD: &str = "@";
/// The hash field holding when the session was last written or refreshed (ms).
pub(crate) const SEEN_FIELD: &str = "@seen";
/// The hash field holding the idle deadline (ms), beside the key's TTL, so that a load is one
/// `HGETALL`. It moves only forward (see the crate docs).
pub(crate) const IDLE_FIELD: &str = "@idle";
/// The field of a forwarding marker: the hash of the key a renew is moving the session to. A
/// marker has no metadata, so nothing loads it as a session.
pub(crate) const MOVED_FIELD: &str = "@moved";

/// The hash field holding the session value `key`.
pub(crate) fn data_field(key: &str) -> String {
    [".", key].concat()
}

/// The metadata field of `record`.
pub(crate) fn encode_meta(record: &SessionRecord) -> String {
    [
        SessionRecord::FORMAT_VERSION.to_string(),
        record.created_at.as_unix_millis().to_string(),
        record.absolute_expires_at.as_unix_millis().to_string(),
    ]
    .join(":")
}

/// `(created_at, absolute_expires_at)` from a metadata field.
pub(crate) fn decode_meta(meta: &str) -> Result<(Timestamp, Timestamp), StoreError> {
    let mut parts = meta.split(':');
    let (Some(version), Some(created), Some(absolute), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StoreError::corrupt(
            "session metadata is not version:created:absolute",
        ));
    };
    if version.parse::<u32>().ok() != Some(SessionRecord::FORMAT_VERSION) {
        return Err(StoreError::corrupt(format!(
            "unsupported session format version {version:?}"
        )));
    }
    Ok((
        decode_millis(Some(created), META_FIELD)?,
        decode_millis(Some(absolute), META_FIELD)?,
    ))
}

/// A time in milliseconds read from the field `name`, which a live session must have.
pub(crate) fn decode_millis(value: Option<&str>, name: &str) -> Result<Timestamp, StoreError> {
    value
        .ok_or_else(|| StoreError::corrupt(format!("session has no {name} field")))?
        .parse()
        .map(Timestamp::from_unix_millis)
        .map_err(StoreError::corrupt)
}

/// A record from its hash fields: `None` for a hash without metadata (a missing key, a
/// forwarding marker, a tombstone) or a session past its expiry, the `@idle` deadline capped by
/// the absolute one. The data keys are the field names themselves, their `.` removed in place.
pub(crate) fn decode_record(
    fields: HashFields,
    now: Timestamp,
) -> Result<Option<SessionRecord>, StoreError> {
    let Some(meta) = field(&fields, META_FIELD) else {
        return Ok(None);
    };
    let (created_at, absolute_expires_at) = decode_meta(meta)?;
    let expires_at = decode_millis(field(&fields, IDLE_FIELD), IDLE_FIELD)?;
    if expires_at.min(absolute_expires_at) <= now {
        return Ok(None);
    }
    let mut data = SessionData::new();
    for (mut name, json) in fields {
        if name.starts_with('.') {
            let value = serde_json::from_str(&json).map_err(StoreError::corrupt)?;
            name.remove(0);
            data.insert(name, value);
        }
    }
    Ok(Some(SessionRecord::new(
        data,
        created_at,
        expires_at,
        absolute_expires_at,
    )))
}

/// A live session's record and when it was last seen, for a listing.
pub(crate) fn decode_listed(
    fields: HashFields,
    now: Timestamp,
) -> Result<Option<(SessionRecord, Timestamp)>, StoreError> {
    // Read first, so that a hash without metadata is no session even when `@seen` is missing.
    let seen = field(&fields, SEEN_FIELD).map(str::to_owned);
    let Some(record) = decode_record(fields, now)? else {
        return Ok(None);
    };
    let seen = decode_millis(seen.as_deref(), SEEN_FIELD)?;
    Ok(Some((record, seen)))
}
