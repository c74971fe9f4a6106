//! Arbitrary bytes as a session ID: never a panic, and whatever parses is exactly the
//! canonical encoding of 32 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::SessionId;

fuzz_target!(|data: &[u8]| {
    if let Ok(id) = SessionId::parse_bytes(data) {
        assert_eq!(id.expose_secret().as_bytes(), data);
        assert_eq!(data.len(), SessionId::ENCODED_LEN);
        let _ = id.storage_key();
    }
});
