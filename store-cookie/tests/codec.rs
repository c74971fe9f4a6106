//! The sealing codec on its own: configuration errors, and hostile input that must open as
//! nothing without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use session_core::{SessionData, SessionRecord, Timestamp};
use store_cookie::{CookieStore, CookieStoreError, Key, MAX_COOKIE_BYTES, MAX_SESSION_CHUNKS};

fn record() -> SessionRecord {
    let now = Timestamp::now();
    let data: SessionData = [("user".to_owned(), json!("ada"))].into_iter().collect();
    SessionRecord::new(
        data,
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(120),
    )
}

#[test]
fn builder_refuses_bad_configurations() {
    let key = Key::generate;
    assert_eq!(
        CookieStore::builder().build().unwrap_err(),
        CookieStoreError::NoKey
    );
    assert!(matches!(
        CookieStore::builder().key("bad id", key()).build(),
        Err(CookieStoreError::InvalidKeyId(_))
    ));
    assert!(matches!(
        CookieStore::builder()
            .key("a", key())
            .previous_key("a", key())
            .build(),
        Err(CookieStoreError::DuplicateKeyId(_))
    ));
    assert!(matches!(
        CookieStore::builder()
            .key("a", key())
            .max_cookie_bytes(100)
            .build(),
        Err(CookieStoreError::MaxSizeTooSmall(100))
    ));
    assert_eq!(
        CookieStore::from_secret(&[1; 31]).unwrap_err(),
        CookieStoreError::SecretTooShort(31)
    );
    let debug = format!(
        "{:?}",
        CookieStore::builder()
            .key("2026-11", key())
            .build()
            .unwrap()
    );
    assert!(debug.contains("2026-11"), "{debug}");
}

#[test]
fn the_largest_cookie_limit_is_what_a_browser_and_actix_web_carry() {
    let with_limit = |bytes| {
        CookieStore::builder()
            .key("a-key-id-of-32-characters-000000", Key::generate())
            .max_cookie_bytes(bytes)
            .build()
    };
    assert_eq!(MAX_COOKIE_BYTES, 16 * 3800);
    assert!(with_limit(MAX_COOKIE_BYTES).is_ok());
    let err = with_limit(MAX_COOKIE_BYTES + 1).unwrap_err();
    assert_eq!(err, CookieStoreError::MaxSizeTooLarge(MAX_COOKIE_BYTES + 1));
    let message = err.to_string();
    for reason in [
        "60801 bytes",
        "more than 16 cookies of 3800 bytes",
        "50 cookies per site",
        "128 KiB request head actix-web accepts",
        "allow at most 60800",
    ] {
        assert!(message.contains(reason), "{message:?} lacks {reason:?}");
    }
    // A session at the limit takes every chunk the limit allows, and opens again.
    let codec = with_limit(MAX_COOKIE_BYTES)
        .unwrap()
        .cookie_codec_for_tests();
    let mut record = record();
    record.data = [(
        "p".to_owned(),
        json!("x".repeat(codec.max_data_bytes() - 8)),
    )]
    .into_iter()
    .collect();
    let sealed = codec.seal("__sid", &record).unwrap();
    assert_eq!(sealed.len(), MAX_SESSION_CHUNKS);
    let chunks: Vec<&str> = sealed.iter().map(String::as_str).collect();
    assert_eq!(codec.open("__sid", &chunks, Timestamp::now()), Some(record));
}

#[test]
fn same_secret_opens_across_instances_and_the_cookie_name_is_bound() {
    let a = CookieStore::from_secret(&[9; 48])
        .unwrap()
        .cookie_codec_for_tests();
    let b = CookieStore::from_secret(&[9; 48])
        .unwrap()
        .cookie_codec_for_tests();
    let sealed = a.seal("__sid", &record()).unwrap();
    let chunks: Vec<&str> = sealed.iter().map(String::as_str).collect();
    assert_eq!(
        b.open("__sid", &chunks, Timestamp::now()).unwrap().data,
        record().data
    );
    assert!(
        b.open("other", &chunks, Timestamp::now()).is_none(),
        "a cookie moved to another name opened"
    );
    let later = Timestamp::now() + Duration::from_secs(61);
    assert!(
        b.open("__sid", &chunks, later).is_none(),
        "an expired cookie opened"
    );
}

#[test]
fn arbitrary_input_opens_as_nothing() {
    let codec = CookieStore::new(Key::generate()).cookie_codec_for_tests();
    let sealed = codec.seal("__sid", &record()).unwrap().concat();
    let mut inputs: Vec<String> = vec![
        String::new(),
        "v1".into(),
        "v1.".into(),
        "v1.k1".into(),
        "v1.k1.".into(),
        "v1.k1.!!!!".into(),
        "v1.k1.AAAA".into(),
        "v2".into(),
        "v2.".into(),
        "v2.k1".into(),
        "v2.k1.".into(),
        "v2.k1.!!!!".into(),
        "v2.k1.AAAA".into(),
        "v3.k1.AAAA".into(),
        "\u{0}\u{ffff}".into(),
    ];
    for cut in (0..sealed.len()).step_by(7) {
        inputs.push(sealed[..cut].to_owned());
        let mut flipped = sealed.clone().into_bytes();
        flipped[cut] ^= 0x01;
        inputs.push(String::from_utf8_lossy(&flipped).into_owned());
    }
    for input in inputs {
        assert!(
            codec.open("__sid", &[&input], Timestamp::now()).is_none(),
            "{input:.40} opened"
        );
    }
}

#[test]
fn a_chunked_v1_cookie_opens_and_asks_to_be_sealed_again() {
    // Sealed by the v1 code with key `[7; 64]` and key id `k1` (see src/seal.rs).
    let v1 = include_str!("fixtures/v1_cookie.txt");
    let codec = CookieStore::new(Key::from(&[7u8; 64])).cookie_codec_for_tests();
    let chunks = [&v1[..40], &v1[40..]];
    assert!(codec.needs_reseal(&chunks));
    let record = codec.open("__sid", &chunks, Timestamp::now()).unwrap();
    assert_eq!(record.data.get("user"), Some(&serde_json::json!("ada")));
    // Its v2 successor does not.
    let resealed = codec.seal("__sid", &record).unwrap();
    let resealed: Vec<&str> = resealed.iter().map(String::as_str).collect();
    assert!(resealed[0].starts_with("v2.k1."));
    assert!(!codec.needs_reseal(&resealed));
}

#[test]
fn a_session_that_seals_always_opens_again() {
    // The data limit is what always seals; data a little over it may still seal within the
    // cookie limit (the base64 length rounds, the key id may be short). A cookie that sealed
    // must open on the next request, not sign the user out.
    let mut sealed_over_the_data_limit = 0;
    for key_id in ["k", "k1", "a-key-id-of-32-characters-000000"] {
        let store = CookieStore::builder()
            .key(key_id, Key::generate())
            .build()
            .unwrap();
        let codec = store.cookie_codec_for_tests();
        let max = codec.max_data_bytes();
        for extra in 0..64 {
            // `{"p":"…"}` is the value's length plus 8 bytes of JSON.
            let mut record = record();
            record.data = [("p".to_owned(), json!("x".repeat(max - 8 + extra)))]
                .into_iter()
                .collect();
            let Ok(sealed) = codec.seal("__sid", &record) else {
                continue;
            };
            let chunks: Vec<&str> = sealed.iter().map(String::as_str).collect();
            let opened = codec.open("__sid", &chunks, Timestamp::now());
            assert_eq!(
                opened,
                Some(record),
                "{key_id}: {extra} bytes over the data limit"
            );
            sealed_over_the_data_limit += usize::from(extra > 0);
        }
    }
    assert!(
        sealed_over_the_data_limit > 0,
        "no session sealed past the data limit"
    );
}

trait CodecForTests {
    fn cookie_codec_for_tests(&self) -> std::sync::Arc<dyn session_core::stateless::CookieCodec>;
}

impl CodecForTests for CookieStore {
    fn cookie_codec_for_tests(&self) -> std::sync::Arc<dyn session_core::stateless::CookieCodec> {
        use session_core::SessionStore as _;
        self.cookie_codec().unwrap()
    }
}
