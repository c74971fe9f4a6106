//! Arbitrary `Cookie` header lines through the stateless path: the chunk parser, then
//! `CookieStore`'s decoder. Never a panic, and nothing opens unless the store's key sealed it
//! (the fuzzer cannot forge AES-GCM).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use session_core::stateless::{CookieChunks, CookieCodec};
use session_core::{SessionStore, Timestamp};
use store_cookie::{CookieStore, Key};

static CODEC: LazyLock<std::sync::Arc<dyn CookieCodec>> = LazyLock::new(|| {
    let store = CookieStore::builder()
        .key("k1", Key::generate())
        .previous_key("old", Key::generate())
        .build()
        .expect("valid configuration");
    store.cookie_codec().expect("a cookie store has a codec")
});

fuzz_target!(|data: &[u8]| {
    // Each line is one `Cookie` header, as a client may send several, in raw bytes as the
    // server reads them.
    let chunks = CookieChunks::from_header_bytes(data.split(|&b| b == b'\n'), "__sid");
    let values: Vec<&str> = chunks.values.iter().map(String::as_str).collect();
    let _ = CODEC.needs_reseal(&values);
    assert!(CODEC.open("__sid", &values, Timestamp::now()).is_none());
});
