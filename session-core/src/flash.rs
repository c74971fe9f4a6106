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
    // Not `format!`: every `get` builds one, and the formatting machinery cost ~650 more
    // instructions per memory-store `/read` (callgrind, 2026-12-02) than copying two strings.
    [FLASH_PREFIX, key].concat()
}
