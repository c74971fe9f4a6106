//! Session identifiers and the hashed form stores keep at rest.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Number of random bytes in a session ID (256 bits).
const ID_BYTES: usize = 32;

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
    /// The base64url characters.
    encoded: [u8; Self::ENCODED_LEN],
    /// Its hash, computed once with the ID: every server store call needs it.
    key: StorageKey,
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

    /// [`parse`](Self::parse) of raw bytes, such as a cookie value that may not be UTF-8.
    ///
    /// ```
    /// use session_core::SessionId;
    /// assert!(SessionId::parse_bytes(b"\xff").is_err());
    /// ```
    pub fn parse_bytes(value: &[u8]) -> Result<Self, InvalidSessionId> {
        // The engine refuses non-zero trailing bits, so only the canonical encoding of 32 bytes
        // decodes to 32 bytes.
        let encoded = <[u8; Self::ENCODED_LEN]>::try_from(value).map_err(|_| InvalidSessionId)?;
        let mut bytes = [0u8; ID_BYTES + 2];
        match URL_SAFE_NO_PAD.decode_slice(encoded, &mut bytes) {
            Ok(ID_BYTES) => Ok(Self::from_encoded(encoded)),
            _ => Err(InvalidSessionId),
        }
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
        let key = StorageKey(Sha256::digest(encoded).into());
        Self { encoded, key }
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
        self.key
    }
}

/// Constant time: how many leading characters two IDs share does not change how long the
/// comparison takes.
impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        // The differences are OR-ed together without a branch, and the result passes an
        // optimisation barrier before it is tested, so the compiler cannot stop at the first
        // difference.
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
        let mut key = [0u8; 32];
        hex::decode_to_slice(text, &mut key).ok()?;
        Some(Self(key))
    }

    /// Lowercase hexadecimal form (64 characters), e.g. for a key name.
    #[must_use]
    pub fn to_hex(&self) -> String {
        // Into a buffer, not through `hex::encode`'s char-by-char `collect`: the Redis store
        // names its key with this on every call, and that cost 1,480 more instructions per
        // `/read` (callgrind on the bench server, 76.4k against 74.9k, 2026-12-07).
        let mut digits = [0u8; 64];
        let _ = hex::encode_to_slice(self.0, &mut digits);
        std::str::from_utf8(&digits).unwrap_or_default().to_owned()
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageKey({}…)", &self.to_hex()[..12])
    }
}
