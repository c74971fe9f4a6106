//! Arbitrary cookie values through `CookieStore`'s opener: never a panic, and nothing opens
//! unless the store's key sealed it (the fuzzer cannot forge AES-GCM).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use session_core::SessionSealer;
use store_cookie::{CookieStore, Key};

static STORE: LazyLock<CookieStore> = LazyLock::new(|| {
    CookieStore::builder()
        .key("k1", Key::generate())
        .previous_key("old", Key::generate())
        .build()
        .expect("valid configuration")
});

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let _ = STORE.needs_reseal(&value);
    assert!(STORE.open("__sid", &value).is_none());
});
