//! Stateless sessions: the whole session sealed in the client's cookie.
//!
//! A stateless store (such as `store_cookie::CookieStore`) implements [`CookieCodec`] and hands
//! it out through [`SessionStore::cookie_codec`]. For each request the framework integration
//! wraps the incoming cookie in a [`StatelessSession`], a request-scoped [`SessionStore`] that
//! opens the cookie on the first read and records what the response must carry. The ordinary
//! [`SessionState`](crate::SessionState) logic (lazy reads, deltas, flash, renew, purge, idle
//! and absolute expiry) then runs unchanged, and [`StatelessSession::finish`] turns its
//! [`CookieAction`] into the sealed cookie chunks to send.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use std::fmt::Write as _;

use async_trait::async_trait;
use serde_json::Value;

use crate::clock::SharedClock;
use crate::{
    CookieAction, SessionData, SessionDelta, SessionId, SessionRecord, SessionStore, StoreError,
    Timestamp,
};

/// Seals sessions into cookie values and opens them again.
pub trait CookieCodec: Send + Sync + 'static {
    /// Seals `record` for the cookie named `cookie_name`, as one or more chunk values (in order)
    /// that together authenticate as one whole.
    fn seal(&self, cookie_name: &str, record: &SessionRecord) -> Result<Vec<String>, StoreError>;

    /// Opens chunk values (in order). `None` for anything that is not a live session sealed by
    /// a known key for this cookie name: tampered, truncated, reordered, foreign, unknown key,
    /// garbage, or expired.
    fn open(&self, cookie_name: &str, chunks: &[&str], now: Timestamp) -> Option<SessionRecord>;

    /// Whether the chunks were sealed with a key other than the current one, or in an older
    /// format the codec still opens (a cheap check of the labels, no decryption), so the
    /// response should re-seal them.
    fn needs_reseal(&self, chunks: &[&str]) -> bool;

    /// Whether every request should read its cookie to ask
    /// [`needs_reseal`](Self::needs_reseal), i.e. previous keys are configured. When it is
    /// `false`, a request whose handler never takes its session skips reading the cookie
    /// altogether (so a cookie sealed with a retired key, or in an older format, is re-sealed
    /// or removed on the first response whose handler takes the session, not on every
    /// response). The default, `true`, always reads it.
    fn accepts_previous_keys(&self) -> bool {
        true
    }

    /// The most bytes the session's data may take as JSON; a larger session cannot be sealed.
    fn max_data_bytes(&self) -> usize;
}

/// The most chunk cookies (`name.0` … `name.63`) one stateless session may span; chunks beyond
/// are ignored, so a request cannot make the server assemble an unbounded value.
pub const MAX_CHUNKS: usize = 64;

/// The cookies a request carried for a stateless session named `name`: `name` (a session in
/// one cookie) or `name.0`, `name.1`, … (a chunked session).
///
/// ```
/// use session_core::stateless::CookieChunks;
/// let chunks = CookieChunks::from_header_lines(["s.1=b; s.0=a; theme=dark"], "s");
/// assert_eq!(chunks.values, ["a", "b"]);
/// assert_eq!(chunks.names, ["s.1", "s.0"]);
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieChunks {
    /// The chunk values in order; empty when there are none, or when one is missing (the
    /// session cannot open then).
    pub values: Vec<String>,
    /// Every matching cookie name the request carried, so the response can remove stale ones.
    pub names: Vec<String>,
}

impl CookieChunks {
    /// Collects the chunks of `name` from `Cookie` header lines.
    #[must_use]
    pub fn from_header_lines<'a>(lines: impl IntoIterator<Item = &'a str>, name: &str) -> Self {
        Self::from_header_bytes(lines.into_iter().map(str::as_bytes), name)
    }

    /// [`from_header_lines`](Self::from_header_lines) of the lines' raw bytes, as a server
    /// receives them. Other cookies may hold any bytes without hiding the session; a value of
    /// `name` or of one of its chunks that is not UTF-8 counts as missing. Only spaces and
    /// tabs around names and values are ignored (RFC 6265's optional whitespace).
    ///
    /// ```
    /// use session_core::stateless::CookieChunks;
    /// let chunks = CookieChunks::from_header_bytes([b"city=M\xfcnchen; s=sealed".as_slice()], "s");
    /// assert_eq!(chunks.values, ["sealed"]);
    /// ```
    #[must_use]
    pub fn from_header_bytes<'a>(lines: impl IntoIterator<Item = &'a [u8]>, name: &str) -> Self {
        let mut whole = None;
        let mut chunks: Vec<Option<String>> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let pairs = lines.into_iter().flat_map(cookie_pairs).filter_map(|pair| {
            let (key, value) = split_pair(pair)?;
            // A name of ours is ASCII, so a key that is not UTF-8 is never one.
            Some((std::str::from_utf8(key).ok()?, value))
        });
        for (key, value) in pairs {
            let value = std::str::from_utf8(value).ok();
            if key == name {
                if whole.is_none() {
                    whole = value.map(str::to_owned);
                }
            } else if let Some(index) = chunk_index(key, name) {
                if chunks.len() <= index {
                    chunks.resize(index + 1, None);
                }
                if chunks[index].is_none() {
                    chunks[index] = value.map(str::to_owned);
                }
            } else {
                continue;
            }
            if !names.iter().any(|seen| seen == key) {
                names.push(key.to_owned());
            }
        }
        let values = match whole {
            Some(value) => vec![value],
            // All of 0..n, or nothing: a gap means a lost chunk, so the session cannot open.
            None => chunks
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default(),
        };
        Self { values, names }
    }
}

/// The `name=value` pairs of one `Cookie` header line, split at `;` with a vectorized search:
/// a sealed session makes the line kilobytes long, and it is split on every request.
pub(crate) fn cookie_pairs(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b';', line)
        .chain(std::iter::once(line.len()))
        .map(move |end| {
            let pair = line.get(start..end).unwrap_or_default();
            start = end + 1;
            pair
        })
}

/// A `name=value` pair split at its first `=`, both sides without the spaces and tabs around
/// them (RFC 6265's optional whitespace); `None` without an `=`.
pub(crate) fn split_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = memchr::memchr(b'=', pair)?;
    Some((trim_ows(pair.get(..eq)?), trim_ows(pair.get(eq + 1..)?)))
}

/// `bytes` without the spaces and tabs at either end.
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// `Some(i)` when `key` is chunk `name.i` (at most two digits, below [`MAX_CHUNKS`]).
fn chunk_index(key: &str, name: &str) -> Option<usize> {
    key.strip_prefix(name)?
        .strip_prefix('.')
        .filter(|digits| digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()))?
        .parse::<usize>()
        .ok()
        .filter(|&index| index < MAX_CHUNKS)
}

/// The ID the request's incoming cookie stands for inside a [`StatelessSession`]. Stateless
/// sessions have no server-side ID; this fixed value only routes the store calls of one request.
/// Parsed once: it is compared against on every store call.
fn placeholder_id() -> Option<&'static SessionId> {
    static PLACEHOLDER: LazyLock<Option<SessionId>> =
        LazyLock::new(|| SessionId::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").ok());
    PLACEHOLDER.as_ref()
}

/// What the response must do with the session cookie chunks after a request on a stateless
/// store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum CookieWrite {
    /// Send nothing.
    Unchanged,
    /// Send these chunk values, valid until `expires_at`.
    Set {
        /// The sealed chunk values, in order.
        chunks: Vec<String>,
        /// The session's effective expiry.
        expires_at: Timestamp,
    },
    /// Remove the session cookie (every chunk the request carried).
    Remove,
}

#[derive(Debug, Default)]
struct Scratch {
    /// `None` until opened; then the incoming session, if valid and live.
    opened: Option<Option<Arc<SessionRecord>>>,
    /// The incoming session was deleted (purge, renew) during this request.
    origin_gone: bool,
    /// The session this request wrote, under the ID the commit logic gave it.
    written: Option<(SessionId, Arc<SessionRecord>)>,
}

impl Scratch {
    /// Drops what this request wrote under `id`, if anything.
    fn forget_written(&mut self, id: &SessionId) {
        if self
            .written
            .as_ref()
            .is_some_and(|(written, _)| written == id)
        {
            self.written = None;
        }
    }

    /// The session this request wrote, unless it has expired.
    fn live_written(&self, now: Timestamp) -> Option<&Arc<SessionRecord>> {
        self.written
            .as_ref()
            .map(|(_, record)| record)
            .filter(|r| !r.is_expired(now))
    }
}

/// One request's view of a stateless session, as a [`SessionStore`].
pub struct StatelessSession {
    codec: Arc<dyn CookieCodec>,
    cookie_name: String,
    incoming: Vec<String>,
    scratch: Mutex<Scratch>,
    /// What decides whether the incoming and the written session have expired.
    clock: SharedClock,
}

impl std::fmt::Debug for StatelessSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatelessSession")
            .field("cookie_name", &self.cookie_name)
            .field("incoming_chunks", &self.incoming.len())
            .finish_non_exhaustive()
    }
}

impl StatelessSession {
    /// Wraps the chunk values a request carried for `cookie_name` (empty when it carried none).
    #[must_use]
    pub fn new(
        codec: Arc<dyn CookieCodec>,
        cookie_name: impl Into<String>,
        incoming: Vec<String>,
    ) -> Self {
        Self::with_clock(codec, cookie_name, incoming, crate::clock::system())
    }

    /// [`new`](Self::new), deciding expiry by `clock` (the one the request's
    /// [`SessionState`](crate::SessionState) reads, a [`TestClock`](crate::clock::TestClock) in
    /// tests) instead of the system clock.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use session_core::clock::TestClock;
    /// use session_core::stateless::{CookieCodec, StatelessSession};
    /// use session_core::{SessionData, SessionRecord, SessionStore, StoreError, Timestamp};
    ///
    /// /// Opens any cookie as a session created at 0 that expires a minute later.
    /// struct MinuteCodec;
    /// impl CookieCodec for MinuteCodec {
    ///     fn seal(&self, _: &str, _: &SessionRecord) -> Result<Vec<String>, StoreError> {
    ///         Ok(vec!["sealed".into()])
    ///     }
    ///     fn open(&self, _: &str, _: &[&str], now: Timestamp) -> Option<SessionRecord> {
    ///         let (start, end) = (Timestamp::from_unix_millis(0), Timestamp::from_unix_millis(60_000));
    ///         Some(SessionRecord::new(SessionData::new(), start, end, end)).filter(|r| !r.is_expired(now))
    ///     }
    ///     fn needs_reseal(&self, _: &[&str]) -> bool { false }
    ///     fn max_data_bytes(&self) -> usize { 4096 }
    /// }
    ///
    /// let clock = TestClock::new(Timestamp::from_unix_millis(0));
    /// let request = || {
    ///     StatelessSession::with_clock(Arc::new(MinuteCodec), "sid", vec!["c".into()], clock.shared())
    /// };
    /// let session = request();
    /// let id = session.origin().unwrap();
    /// assert!(session.load(&id).await?.is_some());
    /// clock.advance(Duration::from_secs(60));
    /// assert!(request().load(&id).await?.is_none());
    /// # Ok::<(), StoreError>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn with_clock(
        codec: Arc<dyn CookieCodec>,
        cookie_name: impl Into<String>,
        incoming: Vec<String>,
        clock: SharedClock,
    ) -> Self {
        Self {
            codec,
            cookie_name: cookie_name.into(),
            incoming,
            scratch: Mutex::default(),
            clock,
        }
    }

    /// The ID to start the request's [`SessionState`](crate::SessionState) with: a stand-in
    /// when the request carried a cookie, `None` otherwise.
    #[must_use]
    pub fn origin(&self) -> Option<SessionId> {
        if self.incoming.is_empty() {
            None
        } else {
            placeholder_id().cloned()
        }
    }

    fn scratch(&self) -> MutexGuard<'_, Scratch> {
        self.scratch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live record under `id`: what this request wrote, else the incoming session.
    fn current(&self, scratch: &mut Scratch, id: &SessionId) -> Option<Arc<SessionRecord>> {
        self.current_ref(scratch, id).cloned()
    }

    /// [`current`](Self::current), borrowed: a session is a few kilobytes, so callers that
    /// only look at it do not copy it.
    fn current_ref<'s>(
        &self,
        scratch: &'s mut Scratch,
        id: &SessionId,
    ) -> Option<&'s Arc<SessionRecord>> {
        let now = self.clock.now();
        if let Some((written_id, _)) = &scratch.written
            && written_id == id
        {
            return scratch.live_written(now);
        }
        if scratch.origin_gone || Some(id) != placeholder_id() {
            return None;
        }
        let opened = scratch.opened.get_or_insert_with(|| {
            let chunks: Vec<&str> = self.incoming.iter().map(String::as_str).collect();
            self.codec
                .open(&self.cookie_name, &chunks, now)
                .map(Arc::new)
        });
        opened.as_ref().filter(|r| !r.is_expired(now))
    }

    fn write(&self, scratch: &mut Scratch, id: &SessionId, record: Arc<SessionRecord>) {
        if Some(id) == placeholder_id() {
            scratch.opened = Some(Some(Arc::clone(&record)));
        }
        scratch.written = Some((id.clone(), record));
    }

    /// Turns the commit's cookie action into the chunks to send. A cookie sealed with a previous
    /// key, or in a format other than the codec's, is re-sealed even when nothing changed.
    pub fn finish(&self, action: CookieAction) -> Result<CookieWrite, StoreError> {
        let mut scratch = self.scratch();
        let record = match action {
            CookieAction::Set { id, .. } => self.current_ref(&mut scratch, &id),
            CookieAction::Remove => return Ok(CookieWrite::Remove),
            // A write that kept the session's expiry still changed what the cookie holds.
            _ if scratch.written.is_some() => scratch.live_written(self.clock.now()),
            _ => {
                let chunks: Vec<&str> = self.incoming.iter().map(String::as_str).collect();
                if chunks.is_empty() || !self.codec.needs_reseal(&chunks) {
                    return Ok(CookieWrite::Unchanged);
                }
                let Some(origin) = placeholder_id() else {
                    return Ok(CookieWrite::Unchanged);
                };
                match self.current_ref(&mut scratch, origin) {
                    Some(record) => Some(record),
                    // An old-key or old-format cookie that does not open is stale: remove it.
                    None => return Ok(CookieWrite::Remove),
                }
            }
        };
        let Some(record) = record else {
            return Ok(CookieWrite::Remove);
        };
        let chunks = self.codec.seal(&self.cookie_name, record)?;
        Ok(CookieWrite::Set {
            chunks,
            expires_at: record.expires_at,
        })
    }
}

#[async_trait]
impl SessionStore for StatelessSession {
    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let mut scratch = self.scratch();
        Ok(self.current(&mut scratch, id).map(Arc::unwrap_or_clone))
    }

    /// The opened (or written) record itself: a read does not copy the session.
    async fn load_shared(&self, id: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let mut scratch = self.scratch();
        Ok(self.current(&mut scratch, id))
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let mut scratch = self.scratch();
        if self.current_ref(&mut scratch, id).is_some() {
            return Ok(false);
        }
        self.write(&mut scratch, id, Arc::new(record.clone()));
        Ok(true)
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut scratch = self.scratch();
        let Some(mut record) = self.current(&mut scratch, id) else {
            return Ok(None);
        };
        // The write below replaces the copies the scratch holds of this record: let them go
        // first, so that it changes in place when the request holds no other copy.
        if Some(id) == placeholder_id() {
            scratch.opened = None;
        }
        scratch.forget_written(id);
        let expires_at = Arc::make_mut(&mut record).apply_update(delta, idle_deadline);
        self.write(&mut scratch, id, record);
        Ok(Some(expires_at))
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update(id, &SessionDelta::default(), idle_deadline)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let mut scratch = self.scratch();
        if Some(id) == placeholder_id() {
            scratch.origin_gone = true;
        }
        scratch.forget_written(id);
        Ok(())
    }

    fn max_data_bytes(&self) -> Option<usize> {
        Some(self.codec.max_data_bytes())
    }
}

/// The size of `data` as JSON, as [`CookieCodec::max_data_bytes`] counts it.
#[must_use]
pub fn data_json_len(data: &SessionData) -> usize {
    object_json_len(data.iter().map(|(key, value)| (key.as_str(), value)))
}

// The size check runs on every write to a stateless session, which is kilobytes long: these
// compute the length `serde_json::to_vec` would produce without producing it, and count the
// escapes of a string in one pass that compiles to vector instructions, where the serializer
// escapes byte by byte.

/// The length of an object with these entries as compact JSON.
pub(crate) fn object_json_len<'a>(
    entries: impl ExactSizeIterator<Item = (&'a str, &'a Value)>,
) -> usize {
    let separators = entries.len().saturating_sub(1);
    let entries: usize = entries
        .map(|(key, value)| string_json_len(key) + 1 + json_len(value))
        .sum();
    2 + separators + entries
}

/// The length of `value` as compact JSON.
fn json_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        // serde_json writes a number as its `Display` form (itoa, or ryu for floats).
        Value::Number(number) => {
            let mut counter = Counter(0);
            let _ = write!(counter, "{number}");
            counter.0
        }
        Value::String(text) => string_json_len(text),
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>()
        }
        Value::Object(map) => object_json_len(map.iter().map(|(key, value)| (key.as_str(), value))),
    }
}

/// The length of `text` as a JSON string: serde_json writes `"`, `\`, `\b`, `\t`, `\n`, `\f`
/// and `\r` as two-byte escapes, other control characters as six-byte `\u00XX`, and every
/// other byte as it is.
fn string_json_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let controls = count_bytes(bytes, |b| b < 0x20);
    let quoted = count_bytes(bytes, |b| (b == b'"') | (b == b'\\'));
    let short = if controls == 0 {
        0
    } else {
        count_bytes(bytes, |b| matches!(b, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d))
    };
    2 + bytes.len() + controls * 5 - short * 4 + quoted
}

/// How many of `bytes` match `test`, counted in blocks of 128 with byte-wide counters, a shape
/// the compiler turns into vector instructions.
fn count_bytes(bytes: &[u8], test: impl Fn(u8) -> bool + Copy) -> usize {
    let mut blocks = bytes.chunks_exact(128);
    let in_blocks: usize = blocks
        .by_ref()
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(test(b)))))
        .sum();
    in_blocks + blocks.remainder().iter().filter(|&&b| test(b)).count()
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::fmt::Write for Counter {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_pairs_split_like_str_split() {
        for line in ["", ";", "a=1", "a=1; b=2", ";;a=1;", " a = 1 ;b=é;c"] {
            let ours: Vec<&[u8]> = cookie_pairs(line.as_bytes()).collect();
            let std: Vec<&[u8]> = line.split(';').map(str::as_bytes).collect();
            assert_eq!(ours, std, "{line:?}");
        }
    }

    #[test]
    fn pairs_lose_only_spaces_and_tabs() {
        let split = |pair: &str| {
            split_pair(pair.as_bytes()).map(|(k, v)| {
                (
                    String::from_utf8(k.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                )
            })
        };
        let pair = |k: &str, v: &str| Some((k.to_owned(), v.to_owned()));
        assert_eq!(split(" \ta = b=c \t"), pair("a", "b=c"));
        assert_eq!(split("a="), pair("a", ""));
        assert_eq!(split("  =  "), pair("", ""));
        assert_eq!(split("\u{a0}a=b\r"), pair("\u{a0}a", "b\r"));
        assert_eq!(split("no equals"), None);
    }

    #[test]
    fn other_cookies_with_any_bytes_leave_the_chunks_readable() {
        let lines: [&[u8]; 2] = [b"city=M\xfcnchen; s.1=b; \xff=\x00", b"s.0=a; x=\xc3"];
        let read = CookieChunks::from_header_bytes(lines, "s");
        assert_eq!(read.values, ["a", "b"]);
        assert_eq!(read.names, ["s.1", "s.0"]);
        // A chunk that is not UTF-8 is a missing chunk: the session cannot open.
        let broken = CookieChunks::from_header_bytes([b"s.0=a; s.1=\xff".as_slice()], "s");
        assert!(broken.values.is_empty());
        assert_eq!(broken.names, ["s.0", "s.1"]);
    }

    #[test]
    fn chunks_are_read_in_order_and_gaps_invalidate() {
        let read = |line: &str| CookieChunks::from_header_lines([line], "s");
        let whole = read("s=abc; other=1");
        assert_eq!(whole.values, ["abc"]);
        assert_eq!(whole.names, ["s"]);
        let chunked = read("s.1=b; s.0=a; s.2=c; s.x=junk; sx.0=no; s.007=no");
        assert_eq!(chunked.values, ["a", "b", "c"]);
        assert_eq!(chunked.names, ["s.1", "s.0", "s.2"]);
        let gap = read("s.0=a; s.2=c");
        assert!(gap.values.is_empty());
        assert_eq!(gap.names.len(), 2);
        assert!(read("s.99=a; s.100=b").values.is_empty());
        assert!(read("").values.is_empty());
        let two_lines = CookieChunks::from_header_lines(["s.0=a", "s.1=b"], "s");
        assert_eq!(two_lines.values, ["a", "b"]);
    }

    #[test]
    fn json_length_matches_serde_json() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let mut data = SessionData::new();
        for (i, value) in [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(false),
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(1.5),
            serde_json::json!(-0.0),
            serde_json::json!(0.1),
            serde_json::json!(1e300),
            serde_json::json!(f64::MIN_POSITIVE),
            serde_json::json!(""),
            serde_json::json!(controls),
            serde_json::json!(format!("{}{controls}", "long \" \\ \t text ".repeat(40))),
            serde_json::json!("quote \" backslash \\ slash / del \u{7f} é 💡 \u{2028}"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([1, "two", [3.0, {"four": null}], {}]),
            serde_json::json!({"nested": {"a\"b": [true, false], "": {}}}),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(
                json_len(&value),
                serde_json::to_vec(&value).unwrap().len(),
                "{value}"
            );
            data.insert(format!("key {i} \n\u{1}"), value);
        }
        assert_eq!(
            data_json_len(&data),
            serde_json::to_vec(&data).unwrap().len()
        );
        assert_eq!(data_json_len(&SessionData::new()), 2);
    }
}
