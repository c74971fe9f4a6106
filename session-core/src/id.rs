//! Session identifiers and the hashed form stores keep at rest.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Number of random bytes in a session ID (256 bits).
const ID_BYTES: usize = 32;

/// Below this many bytes a `Cookie` header holds a pair or two (a session cookie alone is 49).
const SHORT_HEADER: usize = 96;

/// A session identifier: 256 bits from a CSPRNG, encoded as URL-safe base64 without padding.
///
/// The ID is the secret a browser holds. It never shows in [`Debug`](fmt::Debug) output, compares
/// in constant time, and is only built from external input through the fallible
/// [`SessionId::parse`] / [`TryFrom`], which accept exactly the shape [`SessionId::generate`]
/// produces.
///
/// ```
/// use session_core::SessionId;
///
/// let id = SessionId::generate();
/// let cookie = id.expose_secret().to_owned();
/// assert_eq!(SessionId::parse(&cookie).unwrap(), id);
/// assert!(SessionId::parse("not-a-session-id").is_err());
/// assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
/// ```
#[derive(Clone)]
pub struct SessionId {
    /// The base64url characters, inline: every request parses its cookie's ID and the load and
    /// the write each clone it, so an ID that owned a heap string cost an allocation each time.
    encoded: [u8; Self::ENCODED_LEN],
    /// The storage key, computed on first use: a request asks for it at its load and again at
    /// its write.
    key: OnceLock<StorageKey>,
}

/// The error for a string that is not a well-formed session ID.
///
/// It says nothing about the rejected input, so it is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed session ID")]
pub struct InvalidSessionId;

impl SessionId {
    /// Length of the encoded ID in characters.
    pub const ENCODED_LEN: usize = 43;

    /// Generates a fresh ID from the thread-local CSPRNG.
    ///
    /// ```
    /// use session_core::SessionId;
    /// assert_ne!(SessionId::generate(), SessionId::generate());
    /// ```
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let mut encoded = [0u8; Self::ENCODED_LEN];
        // 32 bytes are exactly 43 characters unpadded, so the buffer always fits.
        let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut encoded);
        Self::from_encoded(encoded)
    }

    /// Parses an ID received from a client. Anything but the exact canonical encoding of 32 bytes
    /// is refused, so a client cannot pick, pad or stretch an ID.
    ///
    /// ```
    /// use session_core::SessionId;
    /// assert!(SessionId::parse(&"A".repeat(43)).is_ok());
    /// assert!(SessionId::parse(&"A".repeat(44)).is_err());
    /// assert!(SessionId::parse("").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, InvalidSessionId> {
        Self::parse_bytes(value.as_bytes())
    }

    /// [`parse`](Self::parse) of raw bytes: anything but base64url is refused.
    fn parse_bytes(value: &[u8]) -> Result<Self, InvalidSessionId> {
        // The canonical encoding of 32 bytes: 43 base64url characters whose last one carries
        // two unused bits, which must be zero. Checked without decoding: every request with a
        // cookie parses its ID.
        let Ok(encoded) = <[u8; Self::ENCODED_LEN]>::try_from(value) else {
            return Err(InvalidSessionId);
        };
        let [body @ .., last] = &encoded;
        // Branch-free over the body: one table lookup per byte, OR-ed together.
        let body_bits = body
            .iter()
            .fold(0, |acc, &b| acc | BASE64URL[usize::from(b)]);
        let last_bits = BASE64URL[usize::from(*last)];
        if (body_bits | last_bits) & NOT_BASE64URL == 0 && last_bits & 0b11 == 0 {
            Ok(Self::from_encoded(encoded))
        } else {
            Err(InvalidSessionId)
        }
    }

    /// The first well-formed ID among the cookies named `cookie_name` in one `Cookie` request
    /// header line. Malformed, over-long or foreign values are skipped: a bad cookie is a visitor
    /// without a session, never an error.
    ///
    /// ```
    /// use session_core::SessionId;
    /// let id = SessionId::generate();
    /// let header = format!("theme=dark; __sid=junk; __sid={}", id.expose_secret());
    /// assert_eq!(SessionId::from_cookie_header(&header, "__sid"), Some(id));
    /// assert_eq!(SessionId::from_cookie_header("__sid=junk", "__sid"), None);
    /// ```
    ///
    /// Only spaces and tabs around names and values are ignored (RFC 6265's optional
    /// whitespace), and one pair of double quotes around the value.
    #[must_use]
    pub fn from_cookie_header(header: &str, cookie_name: &str) -> Option<Self> {
        Self::from_cookie_bytes(header.as_bytes(), cookie_name)
    }

    /// [`from_cookie_header`](Self::from_cookie_header) of the header's raw bytes, as a server
    /// receives them. Only the session cookie's own value must be base64url: other cookies may
    /// hold any bytes (UTF-8, Latin-1, control characters) without hiding the session, and
    /// the header is not validated as text first.
    ///
    /// ```
    /// use session_core::SessionId;
    /// let id = SessionId::generate();
    /// let header = [b"city=M\xfcnchen; __sid=".as_slice(), id.expose_secret().as_bytes()].concat();
    /// assert_eq!(SessionId::from_cookie_bytes(&header, "__sid"), Some(id));
    /// assert_eq!(SessionId::from_cookie_bytes(b"__sid=\xff", "__sid"), None);
    /// ```
    #[must_use]
    pub fn from_cookie_bytes(header: &[u8], cookie_name: &str) -> Option<Self> {
        let name = cookie_name.as_bytes();
        // A header of a pair or two is read pair by pair: the vectorised search below costs more
        // to set up than it saves there (callgrind: +0.5k instructions a request on a lone
        // session cookie, -2.7k on a header of eleven cookies).
        if name.is_empty() || header.len() < SHORT_HEADER {
            return Self::first_in(crate::stateless::cookie_pairs(header), name);
        }
        // Only a pair that contains the name can carry it: a vectorised search finds those, where
        // splitting every pair of a header that a browser fills with other cookies would not.
        // Each pair is looked at once, however often the name occurs in it.
        let mut looked_up_to = 0;
        let pairs = memchr::memmem::find_iter(header, name).filter_map(|at| {
            if at < looked_up_to {
                return None;
            }
            let start = memchr::memrchr(b';', header.get(..at)?).map_or(0, |i| i + 1);
            let end = memchr::memchr(b';', header.get(at..)?).map_or(header.len(), |i| at + i);
            looked_up_to = end;
            header.get(start..end)
        });
        Self::first_in(pairs, name)
    }

    /// The first well-formed ID among `pairs` (`name=value` pieces of a `Cookie` header) named
    /// `cookie_name`. Only spaces and tabs around names and values are ignored (RFC 6265's
    /// optional whitespace), and one pair of double quotes around the value.
    fn first_in<'a>(pairs: impl Iterator<Item = &'a [u8]>, cookie_name: &[u8]) -> Option<Self> {
        pairs
            .filter_map(|pair| {
                let (name, value) = crate::stateless::split_pair(pair)?;
                (name == cookie_name).then(|| {
                    value
                        .strip_prefix(b"\"")
                        .and_then(|v| v.strip_suffix(b"\""))
                        .unwrap_or(value)
                })
            })
            .find_map(|value| Self::parse_bytes(value).ok())
    }

    /// The encoded ID, for the cookie value. This is the secret: do not log it.
    ///
    /// ```
    /// use session_core::SessionId;
    /// assert_eq!(SessionId::generate().expose_secret().len(), SessionId::ENCODED_LEN);
    /// ```
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        // Only base64url characters get in (`generate`, `parse`), so this is never empty.
        std::str::from_utf8(&self.encoded).unwrap_or_default()
    }

    fn from_encoded(encoded: [u8; Self::ENCODED_LEN]) -> Self {
        Self {
            encoded,
            key: OnceLock::new(),
        }
    }

    /// The SHA-256 of the ID: what server-side stores key their records by, so a leaked table or
    /// keyspace holds no usable cookie.
    ///
    /// ```
    /// use session_core::SessionId;
    /// let id = SessionId::generate();
    /// assert_eq!(id.storage_key(), id.clone().storage_key());
    /// assert_eq!(id.storage_key().to_hex().len(), 64);
    /// ```
    #[must_use]
    pub fn storage_key(&self) -> StorageKey {
        *self
            .key
            .get_or_init(|| StorageKey(Sha256::digest(self.encoded).into()))
    }
}

/// The bit [`BASE64URL`] sets for a byte outside the base64url alphabet.
const NOT_BASE64URL: u8 = 0x40;

/// The 6-bit value of each base64url character, and [`NOT_BASE64URL`] for every other byte.
const BASE64URL: [u8; 256] = {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut table = [NOT_BASE64URL; 256];
    let mut value = 0;
    while value < ALPHABET.len() {
        // `value` < 64: the cast is lossless.
        table[ALPHABET[value] as usize] = value as u8;
        value += 1;
    }
    table
};

/// Constant time: how many leading characters two IDs share does not change how long the
/// comparison takes.
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        // The bytes' differences are OR-ed together without a branch, and the result passes an
        // optimisation barrier before it is tested: the compiler must compute all of it, so it
        // cannot stop at the first difference (what the `constant_time_eq` crate does). One
        // barrier per byte, as `subtle`'s slice comparison has, cost a stateless request ~0.5k
        // instructions per comparison.
        let diff = self
            .encoded
            .iter()
            .zip(&other.encoded)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for SessionId {}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

impl TryFrom<&str> for SessionId {
    type Error = InvalidSessionId;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

/// The one-way hash of a [`SessionId`] under which stores keep a session.
///
/// It cannot be turned back into a cookie, so it is fine to show in logs.
///
/// ```
/// use session_core::SessionId;
/// let key = SessionId::generate().storage_key();
/// assert_eq!(key.as_bytes().len(), 32);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey([u8; 32]);

impl StorageKey {
    /// A key from its raw 32 hash bytes, as a store read them back.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 hash bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses the 64-digit hexadecimal form [`to_hex`](Self::to_hex) produces.
    ///
    /// ```
    /// use session_core::{SessionId, StorageKey};
    /// let key = SessionId::generate().storage_key();
    /// assert_eq!(StorageKey::from_hex(&key.to_hex()), Some(key));
    /// assert_eq!(StorageKey::from_hex("zz"), None);
    /// ```
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (out, pair) in key.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |b: u8| (b as char).to_digit(16);
            *out = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(key))
    }

    /// Lowercase hexadecimal form (64 characters), e.g. for a key name.
    #[must_use]
    pub fn to_hex(&self) -> String {
        // A table lookup per digit, not `write!` per byte: the Redis store names its key with
        // this on every call, and the formatting machinery cost more than the SHA-256 itself.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageKey({}…)", &self.to_hex()[..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain reading `from_cookie_header` must agree with: every pair, split with `str`'s
    /// own methods.
    fn every_pair(header: &str, name: &str) -> Option<SessionId> {
        let ows = |c: char| c == ' ' || c == '\t';
        header.split(';').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            if key.trim_matches(ows) != name {
                return None;
            }
            let value = value.trim_matches(ows);
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            SessionId::parse(value).ok()
        })
    }

    #[test]
    fn the_name_search_reads_the_header_as_every_pair_would() {
        let id = SessionId::generate();
        let other = SessionId::generate();
        let (a, b) = (id.expose_secret(), other.expose_secret());
        let headers = [
            format!("__sid={a}"),
            format!(" __sid = \"{a}\" "),
            format!("theme=dark; __sid=junk; __sid={a}; __sid={b}"),
            format!("x__sid={b}; __sidx={b}; __sid={a}"),
            format!("q=__sid={b}; __sid={a}"),
            format!("__sid=__sid__sid; __sid\u{a0}={a}"),
            format!("é=__sid; ;;__sid={a};"),
            format!("__sid{a}; __sid"),
            format!("__sid=\"{a}; __sid=\t{b}\t"),
            format!("__sid=\"\"{a}\"\"; theme=dark; lang=en; tz=utc; __sid=\"{b}\""),
            "__sid".repeat(50),
            String::new(),
        ];
        for header in &headers {
            for name in ["__sid", "sid", "__s", "é", "__sid__sid"] {
                assert_eq!(
                    SessionId::from_cookie_header(header, name),
                    every_pair(header, name),
                    "{header:?} {name:?}"
                );
            }
        }
        assert_eq!(
            SessionId::from_cookie_header(&headers[2], "__sid"),
            Some(id)
        );
    }

    #[test]
    fn other_cookies_may_hold_any_bytes() {
        let id = SessionId::generate();
        let a = id.expose_secret().as_bytes();
        let short = [b"x=\xff\x00; __sid=".as_slice(), a].concat();
        let long = [
            b"city=M\xfcnchen; emoji=\xf0\x9f\x8d\xaa; ctl=\x01\x7f; theme=dark; __sid=".as_slice(),
            a,
            b"; after=\xc3\xa9",
        ]
        .concat();
        for header in [short, long] {
            assert_eq!(
                SessionId::from_cookie_bytes(&header, "__sid"),
                Some(id.clone())
            );
        }
        // The session cookie's own value must be the ID, byte for byte.
        let tampered = [b"__sid=".as_slice(), &a[..42], b"\xff"].concat();
        assert_eq!(SessionId::from_cookie_bytes(&tampered, "__sid"), None);
    }

    #[test]
    fn ids_equal_only_when_every_character_does() {
        let id = SessionId::generate();
        assert_eq!(id, id.clone());
        assert_eq!(id, SessionId::parse(id.expose_secret()).unwrap());
        assert_ne!(id, SessionId::generate());
        let text = id.expose_secret().as_bytes().to_vec();
        for position in 0..SessionId::ENCODED_LEN {
            let mut other = text.clone();
            // `A` and `Q` both end in two zero bits, so the last character stays canonical.
            other[position] = if other[position] == b'A' { b'Q' } else { b'A' };
            let other = SessionId::parse_bytes(&other).unwrap();
            assert_ne!(id, other, "differs at {position}");
            assert_ne!(other, id, "differs at {position}");
        }
    }

    #[test]
    fn generated_ids_parse_back() {
        for _ in 0..100 {
            let id = SessionId::generate();
            assert_eq!(SessionId::parse(id.expose_secret()), Ok(id));
        }
    }

    #[test]
    fn rejects_wrong_length_alphabet_and_non_canonical_tail() {
        let good = SessionId::generate();
        let s = good.expose_secret();
        assert!(SessionId::parse(&s[..42]).is_err());
        assert!(SessionId::parse(&format!("{s}A")).is_err());
        assert!(SessionId::parse(&format!("{}=", &s[..42])).is_err());
        assert!(SessionId::parse(&format!("{}+", &s[..42])).is_err());
        assert!(SessionId::parse(&format!("{}/", &s[..42])).is_err());
        // 43 chars encode 258 bits; the last char's low two bits must be zero.
        assert!(SessionId::parse(&format!("{}B", &s[..42])).is_err());
        assert!(SessionId::parse(&"é".repeat(21)).is_err());
    }

    #[test]
    fn accepts_exactly_what_the_base64_decoder_accepts() {
        // Every byte as the last character after a valid body, and every byte in the middle
        // of one: the table check without decoding agrees with a strict decode of 32 bytes.
        let valid = SessionId::generate().expose_secret().as_bytes().to_vec();
        for position in [ID_BYTES / 2, SessionId::ENCODED_LEN - 1] {
            for byte in 0u8..=255 {
                let mut candidate = valid.clone();
                candidate[position] = byte;
                let mut bytes = [0u8; ID_BYTES];
                let decodes = URL_SAFE_NO_PAD.decode_slice(&candidate, &mut bytes) == Ok(ID_BYTES);
                assert_eq!(
                    SessionId::parse_bytes(&candidate).is_ok(),
                    decodes,
                    "byte {byte:#04x} at {position}"
                );
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = rand::rng();
        for len in 0..100 {
            let mut buf = vec![0u8; len];
            rng.fill_bytes(&mut buf);
            let s = String::from_utf8_lossy(&buf);
            let _ = SessionId::parse(&s);
        }
    }

    #[test]
    fn debug_hides_secret() {
        let id = SessionId::generate();
        assert!(!format!("{id:?}").contains(id.expose_secret()));
        let key = id.storage_key();
        // The hash is shortened in Debug output; the full value stays out of logs too.
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }

    #[test]
    fn storage_key_is_sha256_of_the_encoded_id() {
        let id = SessionId::parse(&"A".repeat(43)).unwrap();
        assert_eq!(
            id.storage_key().to_hex(),
            "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a"
        );
    }
}
