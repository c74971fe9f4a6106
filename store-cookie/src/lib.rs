//! `CookieStore`: stateless sessions, the whole session sealed in the cookie.
//!
//! The session's data and deadlines are encrypted and authenticated with AES-256-GCM, so the
//! server keeps nothing and the client can read or change nothing. The sealed value names the
//! key that sealed it: keys rotate without signing anyone out (a cookie sealed with a previous
//! key is accepted and re-sealed with the current key on that response). Idle and absolute
//! expiry live inside the sealed payload, so a replayed old cookie is refused once expired, even
//! if the browser kept it. The framework integration splits a sealed value longer than one
//! cookie into several (session-actix: `<name>.0`, `<name>.1`, …), which authenticate as one
//! whole.
//!
//! ```
//! use store_cookie::{CookieStore, Key};
//!
//! // In production, load the key or secret from a secret store: `Key::generate()` signs
//! // everyone out on every restart. With session-actix:
//! // `SessionMiddleware::new(store)`, the same as for any other store.
//! let store = CookieStore::new(Key::generate());
//! let from_secret = CookieStore::from_secret(&[0x5a; 64])?;
//! # let _ = (store, from_secret);
//! # Ok::<(), store_cookie::CookieStoreError>(())
//! ```
//!
//! What a stateless store cannot do, by its nature: revoke a session before it expires (a copied
//! cookie keeps working until its idle or absolute expiry: keep timeouts short for sensitive
//! apps, or use a server-side store), and merge concurrent writes (each response carries a whole
//! session, so of two concurrent requests that change different keys the later response wins),
//! and list a user's sessions: it is no `UserSessionStore`, so "sign out everywhere" and a cap of
//! sessions per user need a server-side store. Lifetimes per session, fresh-login checks and the
//! cookie attributes work as on any store.

mod seal;

use std::fmt;
use std::sync::Arc;

use session_core::{
    IntoSessionBackend, Refusal, SessionBackend, SessionRecord, SessionSealer, StoreError,
};

pub use cookie::Key;

use seal::SealingKey;

/// Default limit of one sealed session, in bytes of cookie value: two cookies at most, so the
/// whole `Cookie` header stays well under the 8 KiB per header line that proxies such as nginx
/// accept by default.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 4 * 1024;
/// The largest [`CookieStoreBuilder::max_cookie_bytes`] a store accepts: 60 800 bytes, which
/// session-actix splits into 16 cookies of 3 800 bytes.
///
/// Two limits meet here. Browsers need only keep 50 cookies per site (RFC 6265 §6.1; Chrome
/// keeps 180), and the site's other cookies need some of them. actix-web (actix-http 3) refuses
/// an HTTP/1 request head of 128 KiB (131 072 bytes) or more; the session's cookies may take at
/// most half of it, leaving the rest to the request line, the other headers and the site's other
/// cookies. A browser holding more could not reach the server at all, not even to sign out.
pub const MAX_COOKIE_BYTES: usize = 60_800;
/// The shortest secret [`CookieStore::from_secret`] accepts.
pub const MIN_SECRET_BYTES: usize = 32;
/// The key id [`CookieStore::new`] and [`CookieStore::from_secret`] give their key.
pub const DEFAULT_KEY_ID: &str = "k1";

/// A misconfiguration found when building a [`CookieStore`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieStoreError {
    /// The secret is shorter than [`MIN_SECRET_BYTES`].
    #[error("the secret is {0} bytes; at least 32 random bytes are needed")]
    SecretTooShort(usize),
    /// No current key was given to the builder.
    #[error("no current key: call .key(id, key)")]
    NoKey,
    /// A key id is empty, longer than 32 characters, or has characters other than ASCII letters,
    /// digits, `-` and `_`.
    #[error("key id {0:?} must be 1 to 32 ASCII letters, digits, '-' or '_'")]
    InvalidKeyId(String),
    /// Two keys share one id.
    #[error("key id {0:?} is used twice")]
    DuplicateKeyId(String),
    /// The size limit leaves no room for any data.
    #[error("a limit of {0} bytes leaves no room for session data; allow at least 512")]
    MaxSizeTooSmall(usize),
    /// The size limit is over [`MAX_COOKIE_BYTES`]: a session that large would span more
    /// cookies than a browser and actix-web can be relied on to carry in one request.
    #[error(
        "a limit of {0} bytes lets one session span more than 16 cookies of 3800 bytes: too \
         many of the 50 cookies per site browsers must keep, and a Cookie header over half of \
         the 128 KiB request head actix-web accepts, so a browser holding it could be locked \
         out, not even able to sign out; allow at most {max}",
        max = MAX_COOKIE_BYTES
    )]
    MaxSizeTooLarge(usize),
}

/// A stateless session store. Cloning is cheap.
#[derive(Clone)]
pub struct CookieStore {
    codec: Arc<Codec>,
}

struct Codec {
    current: SealingKey,
    previous: Vec<SealingKey>,
    max_cookie_bytes: usize,
    max_data_bytes: usize,
}

impl fmt::Debug for CookieStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: never key material.
        f.debug_struct("CookieStore")
            .field("current_key", &self.codec.current.id)
            .field(
                "previous_keys",
                &self
                    .codec
                    .previous
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("max_cookie_bytes", &self.codec.max_cookie_bytes)
            .finish()
    }
}

impl CookieStore {
    /// A store sealing with `key` (id [`DEFAULT_KEY_ID`]) and the default size limit.
    ///
    /// ```
    /// use store_cookie::{CookieStore, Key};
    /// let store = CookieStore::new(Key::generate());
    /// assert!(format!("{store:?}").contains("k1"));
    /// ```
    #[must_use]
    pub fn new(key: Key) -> Self {
        // A single key under the default id and the default limit always builds.
        let current = SealingKey::new(DEFAULT_KEY_ID.to_owned(), &key)
            .unwrap_or_else(|| unreachable!("a cookie::Key's encryption half is 32 bytes"));
        let max_data_bytes = seal::data_capacity(DEFAULT_MAX_COOKIE_BYTES, DEFAULT_KEY_ID.len());
        let codec = Codec {
            current,
            previous: Vec::new(),
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            max_data_bytes,
        };
        Self {
            codec: Arc::new(codec),
        }
    }

    /// A store whose key is derived (HKDF-SHA256) from `secret`, which must hold at least
    /// [`MIN_SECRET_BYTES`] random bytes; a shorter one is refused here, not at the first request.
    ///
    /// ```
    /// use store_cookie::{CookieStore, CookieStoreError};
    /// assert!(CookieStore::from_secret(&[7u8; 32]).is_ok());
    /// assert_eq!(CookieStore::from_secret(b"hunter2").unwrap_err(), CookieStoreError::SecretTooShort(7));
    /// ```
    pub fn from_secret(secret: &[u8]) -> Result<Self, CookieStoreError> {
        Ok(Self::new(derive_key(secret)?))
    }

    /// A builder for key rotation and the size limit.
    ///
    /// ```
    /// use store_cookie::{CookieStore, Key};
    /// let (current, old) = (Key::generate(), Key::generate());
    /// let store = CookieStore::builder()
    ///     .key("2026-11", current)
    ///     .previous_key("2026-05", old)
    ///     .max_cookie_bytes(12 * 1024)
    ///     .build()?;
    /// # Ok::<(), store_cookie::CookieStoreError>(())
    /// ```
    pub fn builder() -> CookieStoreBuilder {
        CookieStoreBuilder {
            current: None,
            previous: Vec::new(),
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
        }
    }
}

/// Derives a [`Key`] from a secret of at least [`MIN_SECRET_BYTES`].
///
/// ```
/// assert!(store_cookie::derive_key(&[1u8; 40]).is_ok());
/// assert!(store_cookie::derive_key(&[1u8; 31]).is_err());
/// ```
pub fn derive_key(secret: &[u8]) -> Result<Key, CookieStoreError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(CookieStoreError::SecretTooShort(secret.len()));
    }
    Ok(Key::derive_from(secret))
}

/// Builds a [`CookieStore`] with a current key, previous keys still accepted, and a size limit.
#[must_use]
pub struct CookieStoreBuilder {
    current: Option<(String, Key)>,
    previous: Vec<(String, Key)>,
    max_cookie_bytes: usize,
}

impl fmt::Debug for CookieStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStoreBuilder")
            .field("current_key", &self.current.as_ref().map(|(id, _)| id))
            .field(
                "previous_keys",
                &self.previous.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("max_cookie_bytes", &self.max_cookie_bytes)
            .finish()
    }
}

impl CookieStoreBuilder {
    /// The key new cookies are sealed with, and its id (named in every cookie it seals).
    pub fn key(mut self, id: impl Into<String>, key: Key) -> Self {
        self.current = Some((id.into(), key));
        self
    }

    /// A previous key: cookies it sealed are still accepted, and re-sealed with the current key
    /// on the response.
    pub fn previous_key(mut self, id: impl Into<String>, key: Key) -> Self {
        self.previous.push((id.into(), key));
        self
    }

    /// The limit of one session's cookies together, in bytes of cookie value (default
    /// [`DEFAULT_MAX_COOKIE_BYTES`], at most [`MAX_COOKIE_BYTES`]: [`build`](Self::build)
    /// refuses a larger one with [`CookieStoreError::MaxSizeTooLarge`], see
    /// [`MAX_COOKIE_BYTES`] for why). A write (`insert`, `flash`, `set_user`,
    /// `set_client_info`) that would exceed it fails with a `TooLarge` error (`ErrorKind::TooLarge` in session-actix). A session
    /// sealed under a higher limit than today's no longer fits: it opens as none (the visitor
    /// starts a new session) rather than failing every write. Mind proxies: nginx refuses
    /// request header lines over 8 KiB by default.
    ///
    /// ```
    /// use store_cookie::{CookieStore, CookieStoreError, Key, MAX_COOKIE_BYTES};
    /// let with_limit = |bytes| CookieStore::builder().key("k1", Key::generate()).max_cookie_bytes(bytes).build();
    /// assert!(with_limit(MAX_COOKIE_BYTES).is_ok());
    /// assert_eq!(
    ///     with_limit(MAX_COOKIE_BYTES + 1).unwrap_err(),
    ///     CookieStoreError::MaxSizeTooLarge(MAX_COOKIE_BYTES + 1)
    /// );
    /// ```
    pub fn max_cookie_bytes(mut self, bytes: usize) -> Self {
        self.max_cookie_bytes = bytes;
        self
    }

    /// Builds the store, or says what is wrong.
    pub fn build(self) -> Result<CookieStore, CookieStoreError> {
        let (current_id, current_key) = self.current.ok_or(CookieStoreError::NoKey)?;
        let mut ids = vec![current_id.clone()];
        for (id, _) in &self.previous {
            if ids.contains(id) {
                return Err(CookieStoreError::DuplicateKeyId(id.clone()));
            }
            ids.push(id.clone());
        }
        if let Some(bad) = ids.iter().find(|id| !valid_key_id(id)) {
            return Err(CookieStoreError::InvalidKeyId(bad.clone()));
        }
        let sealing = |id: String, key: &Key| {
            SealingKey::new(id, key).ok_or(CookieStoreError::InvalidKeyId(String::new()))
        };
        let max_data_bytes = seal::data_capacity(self.max_cookie_bytes, current_id.len());
        if self.max_cookie_bytes < 512 || max_data_bytes == 0 {
            return Err(CookieStoreError::MaxSizeTooSmall(self.max_cookie_bytes));
        }
        if self.max_cookie_bytes > MAX_COOKIE_BYTES {
            return Err(CookieStoreError::MaxSizeTooLarge(self.max_cookie_bytes));
        }
        let current = sealing(current_id, &current_key)?;
        let previous = self
            .previous
            .into_iter()
            .map(|(id, key)| sealing(id, &key))
            .collect::<Result<Vec<_>, _>>()?;
        let codec = Codec {
            current,
            previous,
            max_cookie_bytes: self.max_cookie_bytes,
            max_data_bytes,
        };
        Ok(CookieStore {
            codec: Arc::new(codec),
        })
    }
}

/// The longest key id a store accepts.
const MAX_KEY_ID_LEN: usize = 32;

fn valid_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Seals with the current key; opens with the current key and every previous one.
impl SessionSealer for CookieStore {
    fn seal(&self, cookie_name: &str, record: &SessionRecord) -> Result<String, StoreError> {
        let sealed = seal::seal(&self.codec.current, cookie_name, record)
            .ok_or_else(|| StoreError::backend("sealing the session cookie failed"))?;
        if sealed.len() > self.codec.max_cookie_bytes {
            return Err(StoreError::backend(format!(
                "sealed session is {} bytes, over the cookie limit of {}",
                sealed.len(),
                self.codec.max_cookie_bytes
            )));
        }
        Ok(sealed)
    }

    fn open(&self, cookie_name: &str, sealed: &str) -> Result<SessionRecord, Refusal> {
        // A session sealed under a higher limit than today's would fail every later write and
        // refresh: it opens as none, so the visitor starts afresh. Oversized means what `seal`
        // refuses: sealed again with the current key (whose id may differ in length), the same
        // session would pass the cookie limit. Checked before decrypting.
        let codec = &self.codec;
        let key_id = seal::key_id(sealed).ok_or(Refusal::Undecodable)?;
        let resealed_len = sealed.len() - key_id.len() + codec.current.id.len();
        if resealed_len > codec.max_cookie_bytes {
            return Err(Refusal::Undecodable);
        }
        seal::open(
            std::iter::once(&codec.current).chain(&codec.previous),
            cookie_name,
            sealed,
        )
    }

    fn needs_reseal(&self, sealed: &str) -> bool {
        seal::key_id(sealed).is_some_and(|id| id != self.codec.current.id)
    }

    fn has_previous_keys(&self) -> bool {
        !self.codec.previous.is_empty()
    }

    fn max_data_bytes(&self) -> usize {
        self.codec.max_data_bytes
    }
}

/// A `CookieStore` is a sealed backend: `SessionMiddleware::new(CookieStore::new(key))`.
impl IntoSessionBackend for CookieStore {
    fn into_backend(self) -> SessionBackend {
        SessionBackend::Sealed(Arc::new(self))
    }
}
