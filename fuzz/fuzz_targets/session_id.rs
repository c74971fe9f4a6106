//! Arbitrary bytes as a session ID and as a `Cookie` header line: never a panic, and whatever
//! parses is exactly the canonical encoding of 32 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::SessionId;

fuzz_target!(|data: &[u8]| {
    // The server's path: the header line's raw bytes.
    if let Some(id) = SessionId::from_cookie_bytes(data, "__sid") {
        let secret = id.expose_secret().as_bytes();
        assert!(data.windows(secret.len()).any(|w| w == secret));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = SessionId::parse(text) {
        assert_eq!(id.expose_secret(), text);
        assert_eq!(text.len(), SessionId::ENCODED_LEN);
        let _ = id.storage_key();
    }
    if let Some(id) = SessionId::from_cookie_header(text, "__sid") {
        assert!(text.contains(id.expose_secret()));
    }
});
