//! The sealed cookie format.
//!
//! `<version>.<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`, where the
//! associated data binds the version, the cookie name and the key id, and the plaintext is, by
//! version:
//! - `v2`: the three timestamps (created, idle expiry, absolute expiry; milliseconds, 8 bytes
//!   each, big endian), then the data as a JSON object;
//! - `v1`: the JSON envelope `{"c": created, "e": expires, "a": absolute expiry, "d": data}`.
//!
//! Both open; new cookies are sealed in the store's [`CookieFormat`] (`v2` unless told
//! otherwise), and a cookie in the other one asks to be sealed again (see `needs_reseal`).
//! `v2` is 48 characters shorter for the same session (with 13-digit timestamps the envelope
//! takes 60 bytes around the data, the three timestamps 24) and cheaper to seal and open (the
//! timestamps are copied, not printed and parsed). The sealed string is split into chunks only
//! after sealing, so the chunks authenticate as one whole: a missing, reordered or foreign chunk
//! fails decryption.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
// SIMD base64: a sealed session is kilobytes of base64 decoded on every request that reads it,
// and the scalar decoder cost more than decrypting it.
use base64_simd::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use session_core::{SessionData, SessionRecord, Timestamp};
use sha2::Sha256;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes of the plaintext that the data limit leaves for what is not data: `v1`'s envelope
/// (field names, punctuation and three timestamps of up to 20 digits each, rounded up). `v2`'s
/// timestamps take 24 of them; the limit is the same for both formats, so a session that fits
/// one fits the other.
const NON_DATA_BYTES: usize = 96;

/// The format a [`CookieStore`](crate::CookieStore) seals new cookies in. Every format opens,
/// whichever is chosen, and a cookie in another format than the chosen one is sealed again in
/// it on the first response whose handler takes the session.
///
/// The choice exists for rolling upgrades. Versions of this crate before `CookieFormat` seal and
/// open only [`V1`](Self::V1): while some instances still run one of them, a `V2` cookie that
/// reaches such an instance does not open there, and its visitor is signed out. Deploy with
/// [`V1`](Self::V1) everywhere first, then switch to [`V2`](Self::V2) (the default) once no
/// instance runs the old version.
///
/// ```
/// use store_cookie::{CookieFormat, CookieStore, Key};
/// let store = CookieStore::builder()
///     .key("k1", Key::generate())
///     .seal_format(CookieFormat::V1)
///     .build()?;
/// # Ok::<(), store_cookie::CookieStoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CookieFormat {
    /// The first format: the deadlines in a JSON envelope around the data.
    V1,
    /// The three timestamps as 24 bytes, then the data: 48 characters shorter than `V1`, and
    /// cheaper to seal and open.
    #[default]
    V2,
}

impl CookieFormat {
    /// Every format, as `parts` looks labels up.
    const ALL: [Self; 2] = [Self::V1, Self::V2];

    /// The version label that starts a sealed value.
    const fn label(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// Every label is this long, so the data limit does not depend on the format.
const LABEL_LEN: usize = CookieFormat::V2.label().len();
const _: () = assert!(CookieFormat::V1.label().len() == LABEL_LEN);

/// The `v1` plaintext, as sealed.
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    c: u64,
    e: u64,
    a: u64,
    d: &'a SessionData,
}

/// The `v1` plaintext, as opened.
#[derive(Deserialize)]
struct Envelope {
    c: u64,
    e: u64,
    a: u64,
    d: SessionData,
}

/// A sealed value's parts: its format, key id and base64 payload. `None` when the value names
/// no known format.
fn parts(sealed: &str) -> Option<(CookieFormat, &str, &str)> {
    let (label, rest) = sealed.split_once('.')?;
    let format = CookieFormat::ALL
        .into_iter()
        .find(|format| format.label() == label)?;
    let (id, payload) = rest.split_once('.')?;
    Some((format, id, payload))
}

/// One encryption key and its label.
pub(crate) struct SealingKey {
    pub(crate) id: String,
    cipher: Aes256Gcm,
}

impl SealingKey {
    /// The AES-256 key is derived (HKDF-SHA256) from the `Key`'s encryption half rather than
    /// used as is, so an app that also uses its `Key` for actix-web private cookies does not
    /// share one AES key between the two formats.
    pub(crate) fn new(id: String, key: &cookie::Key) -> Option<Self> {
        let mut aes_key = [0u8; 32];
        Hkdf::<Sha256>::new(None, key.encryption())
            .expand(KEY_INFO, &mut aes_key)
            .ok()?;
        let cipher = Aes256Gcm::new_from_slice(&aes_key).ok()?;
        Some(Self { id, cipher })
    }
}

/// HKDF `info` for the session cookie's AES key. It names the key derivation, not the cookie
/// format: it stays `v1` for every format, or every live cookie stops opening.
const KEY_INFO: &[u8] = b"session-cookie/v1 AES-256-GCM";

fn aad(format: CookieFormat, cookie_name: &str, key_id: &str) -> Vec<u8> {
    // `session-cookie/<version>\0<cookie name>\0<key id>`, joined without the formatting
    // machinery: every seal and open builds it.
    const PREFIX: &[u8] = b"session-cookie/";
    let parts: [&[u8]; 6] = [
        PREFIX,
        format.label().as_bytes(),
        b"\0",
        cookie_name.as_bytes(),
        b"\0",
        key_id.as_bytes(),
    ];
    parts.concat()
}

/// Seals `record` with `key` for `cookie_name`, in `format`.
pub(crate) fn seal(
    key: &SealingKey,
    format: CookieFormat,
    cookie_name: &str,
    record: &SessionRecord,
) -> Option<String> {
    // nonce ‖ plaintext, encrypted in place, then ‖ tag: one buffer, no copies of the session.
    let mut sealed = Vec::with_capacity(512);
    sealed.extend_from_slice(&[0u8; NONCE_LEN]);
    match format {
        CookieFormat::V2 => {
            for at in [
                record.created_at,
                record.expires_at,
                record.absolute_expires_at,
            ] {
                sealed.extend_from_slice(&at.as_unix_millis().to_be_bytes());
            }
            serde_json::to_writer(&mut sealed, &record.data).ok()?;
        }
        CookieFormat::V1 => {
            let envelope = EnvelopeRef {
                c: record.created_at.as_unix_millis(),
                e: record.expires_at.as_unix_millis(),
                a: record.absolute_expires_at.as_unix_millis(),
                d: &record.data,
            };
            serde_json::to_writer(&mut sealed, &envelope).ok()?;
        }
    }
    seal_buffer(key, format, cookie_name, sealed)
}

/// Encrypts `buffer` (room for the nonce, then the plaintext) and writes the sealed value.
fn seal_buffer(
    key: &SealingKey,
    format: CookieFormat,
    cookie_name: &str,
    mut buffer: Vec<u8>,
) -> Option<String> {
    let (nonce, plaintext) = buffer.split_at_mut_checked(NONCE_LEN)?;
    rand::rng().fill_bytes(nonce);
    let tag = key
        .cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(nonce),
            &aad(format, cookie_name, &key.id),
            plaintext,
        )
        .ok()?;
    buffer.extend_from_slice(&tag);
    let label = format.label();
    let mut text = String::with_capacity(
        label.len() + key.id.len() + 2 + URL_SAFE_NO_PAD.encoded_length(buffer.len()),
    );
    text.push_str(label);
    text.push('.');
    text.push_str(&key.id);
    text.push('.');
    URL_SAFE_NO_PAD.encode_append(&buffer, &mut text);
    Some(text)
}

/// The key id a sealed value names, without decrypting anything.
pub(crate) fn key_id(sealed: &str) -> Option<&str> {
    parts(sealed).map(|(_, id, _)| id)
}

/// Whether a sealed value is in another format than `format` or names a key other than
/// `current_id`, so the response should seal it again. Decrypts nothing.
pub(crate) fn needs_reseal(sealed: &str, format: CookieFormat, current_id: &str) -> bool {
    parts(sealed).is_some_and(|(sealed_as, id, _)| sealed_as != format || id != current_id)
}

/// Opens a sealed value; `None` unless it was sealed by one of `keys` for `cookie_name`.
pub(crate) fn open<'k>(
    keys: impl IntoIterator<Item = &'k SealingKey>,
    cookie_name: &str,
    sealed: &str,
) -> Option<SessionRecord> {
    let (format, id, payload) = parts(sealed)?;
    let key = keys.into_iter().find(|key| key.id == id)?;
    let mut bytes = URL_SAFE_NO_PAD.decode_to_vec(payload).ok()?;
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    // Decrypted in place: the plaintext is not copied out of the decoded buffer.
    let (nonce, rest) = bytes.split_at_mut(NONCE_LEN);
    let (text, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    key.cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            &aad(format, cookie_name, id),
            text,
            Tag::from_slice(tag),
        )
        .ok()?;
    match format {
        CookieFormat::V2 => open_v2(text),
        CookieFormat::V1 => {
            let envelope: Envelope = serde_json::from_slice(text).ok()?;
            Some(SessionRecord::new(
                envelope.d,
                Timestamp::from_unix_millis(envelope.c),
                Timestamp::from_unix_millis(envelope.e),
                Timestamp::from_unix_millis(envelope.a),
            ))
        }
    }
}

/// The record in a decrypted `v2` plaintext.
fn open_v2(plaintext: &[u8]) -> Option<SessionRecord> {
    let (created, rest) = plaintext.split_first_chunk::<8>()?;
    let (expires, rest) = rest.split_first_chunk::<8>()?;
    let (absolute, json) = rest.split_first_chunk::<8>()?;
    let at = |bytes: &[u8; 8]| Timestamp::from_unix_millis(u64::from_be_bytes(*bytes));
    Some(SessionRecord::new(
        serde_json::from_slice(json).ok()?,
        at(created),
        at(expires),
        at(absolute),
    ))
}

/// How many bytes of data JSON fit in a sealed value of at most `max_sealed` bytes with a key
/// id of `key_id_len` characters.
pub(crate) fn data_capacity(max_sealed: usize, key_id_len: usize) -> usize {
    let prefix = LABEL_LEN + 1 + key_id_len + 1;
    let raw = max_sealed.saturating_sub(prefix) / 4 * 3;
    raw.saturating_sub(NONCE_LEN + TAG_LEN + NON_DATA_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Sealed by the `v1` code (before `v2` existed) with key `[7; 64]`, key id `k1`, cookie
    /// `__sid`: created 2025-12-01, idle expiry 4102444800000, absolute 4102444800001, data
    /// `{"n": 1, "user": "ada"}`.
    const V1_COOKIE: &str = include_str!("../tests/fixtures/v1_cookie.txt");

    fn key() -> SealingKey {
        SealingKey::new("k1".into(), &cookie::Key::from(&[7u8; 64])).unwrap()
    }

    fn v1_record() -> SessionRecord {
        let mut data = SessionData::new();
        data.insert("user".into(), json!("ada"));
        data.insert("n".into(), json!(1));
        SessionRecord::new(
            data,
            Timestamp::from_unix_millis(1_764_547_200_000),
            Timestamp::from_unix_millis(4_102_444_800_000),
            Timestamp::from_unix_millis(4_102_444_800_001),
        )
    }

    /// A `format` cookie of an arbitrary plaintext, authentic as `seal` makes them.
    fn seal_plaintext(key: &SealingKey, format: CookieFormat, plaintext: &[u8]) -> String {
        let buffer = [&[0u8; NONCE_LEN][..], plaintext].concat();
        seal_buffer(key, format, "__sid", buffer).unwrap()
    }

    /// Live cookies were sealed with this associated data: it must not change.
    #[test]
    fn associated_data_is_the_layout_live_cookies_carry() {
        assert_eq!(
            aad(CookieFormat::V1, "__sid", "k1"),
            b"session-cookie/v1\0__sid\0k1"
        );
        assert_eq!(aad(CookieFormat::V1, "", ""), b"session-cookie/v1\0\0");
        assert_eq!(
            aad(CookieFormat::V2, "__sid", "k1"),
            b"session-cookie/v2\0__sid\0k1"
        );
    }

    #[test]
    fn a_cookie_the_v1_code_sealed_still_opens() {
        assert_eq!(open([&key()], "__sid", V1_COOKIE), Some(v1_record()));
        assert!(needs_reseal(V1_COOKIE, CookieFormat::V2, "k1"));
        assert!(!needs_reseal(V1_COOKIE, CookieFormat::V1, "k1"));
        // Bound to its cookie name and key, as before.
        assert_eq!(open([&key()], "other", V1_COOKIE), None);
        let other_key = SealingKey::new("k1".into(), &cookie::Key::from(&[8u8; 64])).unwrap();
        assert_eq!(open([&other_key], "__sid", V1_COOKIE), None);
    }

    #[test]
    fn each_format_seals_what_opens_and_v2_is_shorter() {
        let v1 = seal(&key(), CookieFormat::V1, "__sid", &v1_record()).unwrap();
        let v2 = seal(&key(), CookieFormat::V2, "__sid", &v1_record()).unwrap();
        assert!(v1.starts_with("v1.k1."), "{v1}");
        assert!(v2.starts_with("v2.k1."), "{v2}");
        for sealed in [&v1, &v2] {
            assert_eq!(open([&key()], "__sid", sealed), Some(v1_record()));
        }
        assert_eq!(v1.len(), V1_COOKIE.len(), "v1 is sealed as the v1 code did");
        assert!(!needs_reseal(&v2, CookieFormat::V2, "k1"));
        assert!(needs_reseal(&v2, CookieFormat::V2, "k2"));
        assert!(needs_reseal(&v2, CookieFormat::V1, "k1"));
        // With 13-digit timestamps the envelope took 60 bytes around the data and the v2
        // timestamps take 24: 36 bytes fewer, 48 base64 characters.
        assert_eq!(v1.len() - v2.len(), 48);
    }

    #[test]
    fn the_version_label_is_authenticated() {
        let v2 = seal(&key(), CookieFormat::V2, "__sid", &v1_record()).unwrap();
        let as_v1 = v2.replacen("v2.", "v1.", 1);
        let as_v2 = V1_COOKIE.replacen("v1.", "v2.", 1);
        for (label, sealed) in [("v2 as v1", as_v1), ("v1 as v2", as_v2)] {
            assert_eq!(open([&key()], "__sid", &sealed), None, "{label}");
        }
        for unknown in ["v3", "V2", "v", "v22", ""] {
            let sealed = v2.replacen("v2", unknown, 1);
            assert_eq!(open([&key()], "__sid", &sealed), None, "{unknown:?}");
            assert!(
                !needs_reseal(&sealed, CookieFormat::V2, "k1"),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn an_authentic_v2_plaintext_that_is_not_a_session_opens_as_none() {
        let key = key();
        let mut whole = Vec::new();
        for part in [4_102_444_800_000u64, 4_102_444_800_000, 4_102_444_800_000] {
            whole.extend_from_slice(&part.to_be_bytes());
        }
        whole.extend_from_slice(br#"{"n":1}"#);
        let sealed = seal_plaintext(&key, CookieFormat::V2, &whole);
        let opened = open([&key], "__sid", &sealed).unwrap();
        assert_eq!(opened.data.get("n"), Some(&json!(1)));
        // Every shorter prefix: timestamps cut short, or data that is not a JSON object.
        for len in 0..whole.len() {
            let sealed = seal_plaintext(&key, CookieFormat::V2, &whole[..len]);
            assert_eq!(open([&key], "__sid", &sealed), None, "{len} bytes");
        }
        let array = [&whole[..24], b"[1]"].concat();
        let sealed = seal_plaintext(&key, CookieFormat::V2, &array);
        assert_eq!(open([&key], "__sid", &sealed), None);
    }
}
