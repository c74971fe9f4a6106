//! Flash data: values kept for exactly one later read.
//!
//! A flash value lives in the same session record as ordinary values, under a reserved key
//! prefix, so every store supports flash data without knowing about it. The first `get` of the
//! key returns the value and records its removal in the request's delta.

/// The reserved prefix of flash entries in the stored data. Ordinary keys may not start with it.
pub const FLASH_PREFIX: &str = "__flash:";

/// The stored key under which a flash value for `key` lives.
///
/// ```
/// assert_eq!(session_core::flash::flash_key("notice"), "__flash:notice");
/// ```
#[must_use]
pub fn flash_key(key: &str) -> String {
    let mut stored = String::with_capacity(FLASH_PREFIX.len() + key.len());
    stored.push_str(FLASH_PREFIX);
    stored.push_str(key);
    stored
}

/// Whether `key` falls in a reserved namespace (flash values, or the library's own session
/// metadata such as the bound user), and so cannot be used as an ordinary key.
///
/// ```
/// use session_core::flash::is_reserved;
/// assert!(is_reserved("__flash:x"));
/// assert!(is_reserved("__session:user"));
/// assert!(!is_reserved("user"));
/// ```
#[must_use]
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(FLASH_PREFIX) || key.starts_with(crate::users::RESERVED_PREFIX)
}
