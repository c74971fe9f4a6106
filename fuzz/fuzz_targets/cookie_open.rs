//! Arbitrary cookie chunks fed to `CookieStore`'s decoder: never a panic, and nothing opens
//! unless it was sealed by the store's key (the fuzzer cannot forge AES-GCM).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use session_core::stateless::CookieCodec;
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
    let Ok(text) = std::str::from_utf8(data) else { return };
    // `|` separates chunks, as `name.0`, `name.1`, … would.
    let chunks: Vec<&str> = text.split('|').collect();
    let _ = CODEC.needs_reseal(&chunks);
    assert!(CODEC.open("__sid", &chunks, Timestamp::now()).is_none());
});
