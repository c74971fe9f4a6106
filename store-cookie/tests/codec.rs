//! The sealing codec on its own: configuration errors, the sealed format (checked against a
//! value sealed by hand from its description), and hostile input that must open as nothing
//! without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use session_core::{Refusal, SessionData, SessionRecord, SessionSealer, Timestamp};
use store_cookie::{CookieStore, CookieStoreError, Key, MAX_COOKIE_BYTES};

fn record() -> SessionRecord {
    let now = Timestamp::from_unix_millis(1_800_000_000_000);
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
    // A session at the limit takes what the limit allows, and opens again.
    let codec = with_limit(MAX_COOKIE_BYTES).unwrap();
    let mut record = record();
    record.data = [(
        "p".to_owned(),
        json!("x".repeat(codec.max_data_bytes() - 8)),
    )]
    .into_iter()
    .collect();
    let sealed = codec.seal("__sid", &record).unwrap();
    assert!(sealed.len() > MAX_COOKIE_BYTES - 4, "{}", sealed.len());
    assert_eq!(codec.open("__sid", &sealed), Ok(record));
}

#[test]
fn same_secret_opens_across_instances_and_the_cookie_name_is_bound() {
    let a = CookieStore::from_secret(&[9; 48]).unwrap();
    let b = CookieStore::from_secret(&[9; 48]).unwrap();
    let sealed = a.seal("__sid", &record()).unwrap();
    assert_eq!(b.open("__sid", &sealed).unwrap().data, record().data);
    assert!(
        b.open("other", &sealed) == Err(Refusal::Tampered),
        "a cookie moved to another name opened"
    );
}

#[test]
fn arbitrary_input_opens_as_nothing() {
    let codec = CookieStore::new(Key::generate());
    let sealed = codec.seal("__sid", &record()).unwrap();
    let mut inputs: Vec<String> = vec![
        String::new(),
        "v1".into(),
        "v1.".into(),
        "v1.k1".into(),
        "v1.k1.".into(),
        "v1.k1.!!!!".into(),
        "v1.k1.AAAA".into(),
        "v2.k1.AAAA".into(),
        "\u{0}\u{ffff}".into(),
    ];
    for cut in (0..sealed.len()).step_by(7) {
        inputs.push(sealed[..cut].to_owned());
        let mut flipped = sealed.clone().into_bytes();
        flipped[cut] ^= 0x01;
        inputs.push(String::from_utf8_lossy(&flipped).into_owned());
    }
    for input in inputs {
        assert!(codec.open("__sid", &input).is_err(), "{input:.40} opened");
    }
}

#[test]
fn a_cookie_of_a_previous_key_opens_and_asks_to_be_sealed_again() {
    let (old, new) = (Key::generate(), Key::generate());
    let before = CookieStore::builder()
        .key("k1", old.clone())
        .build()
        .unwrap();
    let after = CookieStore::builder()
        .key("k2", new)
        .previous_key("k1", old)
        .build()
        .unwrap();
    assert!(!before.has_previous_keys() && after.has_previous_keys());
    let sealed = before.seal("__sid", &record()).unwrap();
    assert!(after.needs_reseal(&sealed));
    assert_eq!(after.open("__sid", &sealed), Ok(record()));
    let resealed = after.seal("__sid", &record()).unwrap();
    assert!(resealed.starts_with("v1.k2."), "{resealed}");
    assert!(!after.needs_reseal(&resealed));
    assert!(before.open("__sid", &resealed).is_err());
}

#[test]
fn an_expired_session_still_opens_so_the_caller_can_tell_it_from_a_forgery() {
    let store = CookieStore::new(Key::generate());
    let sealed = store.seal("__sid", &record()).unwrap();
    let later = record().created_at + Duration::from_secs(61);
    assert!(store.open("__sid", &sealed).unwrap().is_expired(later));
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
        let codec = &store;
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
            let opened = codec.open("__sid", &sealed);
            assert_eq!(
                opened,
                Ok(record),
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

/// The key [`sealed_by_hand`] seals with, under the id `k1`.
fn fixed_key() -> Key {
    Key::from(&[7u8; 64])
}

fn store_with(key: Key) -> CookieStore {
    CookieStore::builder().key("k1", key).build().unwrap()
}

/// A value sealed for `__sid` with [`fixed_key`], of any plaintext, built from the documented
/// format alone (`seal.rs`): the AES-256 key is HKDF-SHA256 of the key's encryption half with
/// the info `session-cookie/v1 AES-256-GCM`, the associated data
/// `session-cookie/v1\0<cookie name>\0<key id>`, the payload base64url(nonce ‖ ciphertext ‖ tag).
fn sealed_by_hand(plaintext: &[u8]) -> String {
    use aes_gcm::aead::{AeadInPlace, KeyInit};
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::Engine as _;

    let mut aes_key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(None, fixed_key().encryption())
        .expand(b"session-cookie/v1 AES-256-GCM", &mut aes_key)
        .unwrap();
    let cipher = Aes256Gcm::new_from_slice(&aes_key).unwrap();
    let mut buffer = [&[0u8; 12][..], plaintext].concat();
    let (nonce, text) = buffer.split_at_mut(12);
    let tag = cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(nonce),
            b"session-cookie/v1\0__sid\0k1",
            text,
        )
        .unwrap();
    buffer.extend_from_slice(&tag);
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&buffer);
    format!("v1.k1.{payload}")
}

/// The plaintext of [`record`] as the format lays it out: three big-endian millisecond
/// timestamps, then the data as a JSON object.
fn plaintext_of(record: &SessionRecord) -> Vec<u8> {
    let mut plaintext = Vec::new();
    for at in [
        record.created_at,
        record.expires_at,
        record.absolute_expires_at,
    ] {
        plaintext.extend_from_slice(&at.as_unix_millis().to_be_bytes());
    }
    serde_json::to_writer(&mut plaintext, &record.data).unwrap();
    plaintext
}

#[test]
fn the_version_cookie_name_and_key_are_bound() {
    let store = store_with(fixed_key());
    let sealed = store.seal("__sid", &record()).unwrap();
    assert!(sealed.starts_with("v1.k1."), "{sealed}");
    assert_eq!(store.open("__sid", &sealed), Ok(record()));
    // The associated data and the key derivation are the documented ones.
    let by_hand = sealed_by_hand(&plaintext_of(&record()));
    assert_eq!(store.open("__sid", &by_hand), Ok(record()));
    assert_eq!(store.open("other", &sealed), Err(Refusal::Tampered));
    let other_key = store_with(Key::from(&[8u8; 64]));
    assert_eq!(other_key.open("__sid", &sealed), Err(Refusal::Tampered));
    for label in ["v2", "V1", "v", "v11", ""] {
        let relabelled = sealed.replacen("v1", label, 1);
        assert_eq!(
            store.open("__sid", &relabelled),
            Err(Refusal::Undecodable),
            "{label:?}"
        );
    }
}

#[test]
fn an_authentic_plaintext_that_is_not_a_session_opens_as_none() {
    let store = store_with(fixed_key());
    let mut whole = Vec::new();
    for part in [4_102_444_800_000u64; 3] {
        whole.extend_from_slice(&part.to_be_bytes());
    }
    whole.extend_from_slice(br#"{"n":1}"#);
    let opened = store.open("__sid", &sealed_by_hand(&whole)).unwrap();
    assert_eq!(opened.data.get("n"), Some(&json!(1)));
    // Every shorter prefix: timestamps cut short, or data that is not a JSON object.
    for len in 0..whole.len() {
        let sealed = sealed_by_hand(&whole[..len]);
        assert_eq!(
            store.open("__sid", &sealed),
            Err(Refusal::Undecodable),
            "{len} bytes"
        );
    }
    let array = [&whole[..24], b"[1]"].concat();
    assert_eq!(
        store.open("__sid", &sealed_by_hand(&array)),
        Err(Refusal::Undecodable)
    );
}
