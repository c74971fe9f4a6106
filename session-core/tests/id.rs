//! Session IDs and storage keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use rand::RngCore as _;
use session_core::{SessionId, StorageKey};

#[test]
fn ids_equal_only_when_every_character_does() {
    let id = SessionId::generate();
    assert_eq!(id, id.clone());
    assert_eq!(id, SessionId::parse(id.expose_secret()).unwrap());
    assert_ne!(id, SessionId::generate());
    let text = id.expose_secret().as_bytes().to_vec();
    for position in 0..SessionId::ENCODED_LEN {
        let mut other = text.clone();
        // `A` and `Q` both end in two zero bits, so the last character stays canonical.
        other[position] = if other[position] == b'A' { b'Q' } else { b'A' };
        let other = SessionId::parse_bytes(&other).unwrap();
        assert_ne!(id, other, "differs at {position}");
        assert_ne!(other, id, "differs at {position}");
    }
}

#[test]
fn generated_ids_parse_back() {
    for _ in 0..100 {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.expose_secret()), Ok(id));
    }
}

#[test]
fn rejects_wrong_length_alphabet_and_non_canonical_tail() {
    let good = SessionId::generate();
    let s = good.expose_secret();
    assert!(SessionId::parse(&s[..42]).is_err());
    assert!(SessionId::parse(&format!("{s}A")).is_err());
    assert!(SessionId::parse(&format!("{}=", &s[..42])).is_err());
    assert!(SessionId::parse(&format!("{}+", &s[..42])).is_err());
    assert!(SessionId::parse(&format!("{}/", &s[..42])).is_err());
    // 43 chars encode 258 bits; the last char's low two bits must be zero.
    assert!(SessionId::parse(&format!("{}B", &s[..42])).is_err());
    assert!(SessionId::parse(&"é".repeat(21)).is_err());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = rand::rng();
    for len in 0..100 {
        let mut buf = vec![0u8; len];
        rng.fill_bytes(&mut buf);
        let _ = SessionId::parse_bytes(&buf);
    }
}

#[test]
fn debug_hides_secret() {
    let id = SessionId::generate();
    assert!(!format!("{id:?}").contains(id.expose_secret()));
    let key = id.storage_key();
    // The hash is shortened in Debug output; the full value stays out of logs too.
    assert!(!format!("{key:?}").contains(&key.to_hex()));
}

#[test]
fn storage_key_is_sha256_of_the_encoded_id_and_its_hex_round_trips() {
    let id = SessionId::parse(&"A".repeat(43)).unwrap();
    let hex = "0f007385b6f9d4b7eeb2748605afe1a984a0a3bfa3f014d09e2a784ce9e5cd1a";
    assert_eq!(id.storage_key().to_hex(), hex);
    assert_eq!(StorageKey::from_hex(hex), Some(id.storage_key()));
    assert_eq!(
        StorageKey::from_hex(&hex.to_uppercase()),
        Some(id.storage_key())
    );
    for bad in [
        "",
        &hex[1..],
        &format!("+{}", &hex[1..]),
        &format!("{}g", &hex[1..]),
    ] {
        assert_eq!(StorageKey::from_hex(bad), None, "{bad:?}");
    }
}
