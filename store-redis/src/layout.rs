//! How a session is laid out in its Redis hash (see the crate docs), and how it is read back.
//! The format version in the metadata lets a later release migrate; this one reads only its
//! own. The field `@` tells what a hash is: a session's metadata, a renew's forwarding marker
//! or a revocation's tombstone; only sessions are loaded, written or taken.

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

/// The field that tells what a hash is: a session's metadata
/// (`<format version>:<created ms>:<absolute expiry ms>:<idle deadline ms>`), a [`TOMBSTONE`],
/// or a forwarding marker ([`MARKER`] and the hash of the key it forwards to). The idle
/// deadline moves only forward (see the crate docs).
pub(crate) const META_FIELD: &str = "@";
/// `@` of a revocation's tombstone: where a create still in flight must not succeed.
pub(crate) const TOMBSTONE: &str = "revoked";
/// The start of `@` of a renew's forwarding marker, before the hash of the key the session
/// is moving to.
pub(crate) const MARKER: &str = "moved:";
/// The hash field holding when the session was last written or refreshed (ms); a session not
/// written since its create has none, and was last seen when created.
pub(crate) const SEEN_FIELD: &str = "@seen";

/// The hash field holding the session value `key`.
pub(crate) fn data_field(key: &str) -> String {
    [".", key].concat()
}

/// The metadata field of `record`, whose idle deadline is its expiry.
pub(crate) fn encode_meta(record: &SessionRecord) -> String {
    [
        SessionRecord::FORMAT_VERSION.to_string(),
        record.created_at.as_unix_millis().to_string(),
        record.absolute_expires_at.as_unix_millis().to_string(),
        record.expires_at.as_unix_millis().to_string(),
    ]
    .join(":")
}

/// The hash a forwarding marker forwards to, given the marker's `@`; `None` for any other `@`.
pub(crate) fn forwarded_to(at: &str) -> Option<&str> {
    at.strip_prefix(MARKER)
}

/// `@` of a hash (`None` for a missing key) when it is a session's metadata: not a marker, not
/// a tombstone.
pub(crate) fn session_meta(meta: Option<&str>) -> Option<&str> {
    meta.filter(|meta| *meta != TOMBSTONE && forwarded_to(meta).is_none())
}

/// A session's metadata, decoded.
pub(crate) struct Meta {
    pub(crate) created_at: Timestamp,
    pub(crate) absolute_expires_at: Timestamp,
    pub(crate) idle_deadline: Timestamp,
}

impl Meta {
    /// When the session expires: the idle deadline, capped by the absolute one.
    pub(crate) fn expires_at(&self) -> Timestamp {
        self.idle_deadline.min(self.absolute_expires_at)
    }
}

/// Decodes a session's metadata field.
pub(crate) fn decode_meta(meta: &str) -> Result<Meta, StoreError> {
    let mut parts = meta.split(':');
    let (Some(version), Some(created), Some(absolute), Some(idle), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(StoreError::corrupt(
            "session metadata is not version:created:absolute:idle",
        ));
    };
    if version.parse::<u32>().ok() != Some(SessionRecord::FORMAT_VERSION) {
        return Err(StoreError::corrupt(format!(
            "unsupported session format version {version:?}"
        )));
    }
    Ok(Meta {
        created_at: decode_millis(created)?,
        absolute_expires_at: decode_millis(absolute)?,
        idle_deadline: decode_millis(idle)?,
    })
}

/// A time in milliseconds, as the metadata and `@seen` hold it.
fn decode_millis(value: &str) -> Result<Timestamp, StoreError> {
    value
        .parse()
        .map(Timestamp::from_unix_millis)
        .map_err(StoreError::corrupt)
}

/// A record from its hash fields: `None` for a hash that is no session (a missing key, a
/// forwarding marker, a tombstone) or a session past its expiry. The data keys are the field
/// names themselves, their `.` removed in place.
pub(crate) fn decode_record(
    fields: HashFields,
    now: Timestamp,
) -> Result<Option<SessionRecord>, StoreError> {
    let Some(meta) = session_meta(field(&fields, META_FIELD)) else {
        return Ok(None);
    };
    let meta = decode_meta(meta)?;
    if meta.expires_at() <= now {
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
        meta.created_at,
        meta.idle_deadline,
        meta.absolute_expires_at,
    )))
}

/// A live session's record and when it was last seen, for a listing.
pub(crate) fn decode_listed(
    fields: HashFields,
    now: Timestamp,
) -> Result<Option<(SessionRecord, Timestamp)>, StoreError> {
    // Decoded before the fields go to the record, and its error kept until the hash proves to
    // be a session.
    let seen = field(&fields, SEEN_FIELD).map(decode_millis);
    let Some(record) = decode_record(fields, now)? else {
        return Ok(None);
    };
    let seen = seen.transpose()?.unwrap_or(record.created_at);
    Ok(Some((record, seen)))
}
