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

/// Calls `f` with the stored key of `key`'s flash value, built on the stack when it is short:
/// every read looks its key's flash value up, and almost never finds one.
pub(crate) fn with_flash_key<R>(key: &str, f: impl FnOnce(&str) -> R) -> R {
    const INLINE: usize = 64;
    let len = FLASH_PREFIX.len() + key.len();
    if len <= INLINE {
        let mut buf = [0u8; INLINE];
        let (prefix, rest) = buf.split_at_mut(FLASH_PREFIX.len());
        prefix.copy_from_slice(FLASH_PREFIX.as_bytes());
        if let Some(tail) = rest.get_mut(..key.len()) {
            tail.copy_from_slice(key.as_bytes());
            // Two whole strings side by side: always valid UTF-8.
            if let Some(stored) = buf.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
                return f(stored);
            }
        }
    }
    f(&flash_key(key))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_key_on_the_stack_is_the_heap_one() {
        let long = "k".repeat(100);
        for key in ["", "notice", "é✓", &"x".repeat(56), &"x".repeat(57), &long] {
            assert_eq!(
                with_flash_key(key, str::to_owned),
                flash_key(key),
                "{key:?}"
            );
        }
    }
}
