//! The sealed cookie format.
//!
//! `v1.<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`, where the plaintext is the
//! JSON envelope `{"c": created, "e": expires, "a": absolute expiry, "d": data}` (milliseconds)
//! and the associated data binds the format version, the cookie name and the key id. The sealed
//! string is split into chunks only after sealing, so the chunks authenticate as one whole: a
//! missing, reordered or foreign chunk fails decryption.

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

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes the envelope adds around the data's JSON: field names, punctuation and three
/// timestamps of up to 20 digits each, rounded up.
const ENVELOPE_OVERHEAD: usize = 96;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    c: u64,
    e: u64,
    a: u64,
    d: &'a SessionData,
}

#[derive(Deserialize)]
struct Envelope {
    c: u64,
    e: u64,
    a: u64,
    d: SessionData,
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

/// HKDF `info` for the session cookie's AES key.
const KEY_INFO: &[u8] = b"session-cookie/v1 AES-256-GCM";

fn aad(cookie_name: &str, key_id: &str) -> Vec<u8> {
    // `session-cookie/<version>\0<cookie name>\0<key id>`, joined without the formatting
    // machinery: every seal and open builds it.
    const PREFIX: &[u8] = b"session-cookie/";
    let parts: [&[u8]; 6] = [
        PREFIX,
        VERSION.as_bytes(),
        b"\0",
        cookie_name.as_bytes(),
        b"\0",
        key_id.as_bytes(),
    ];
    parts.concat()
}

/// Seals `record` with `key` for `cookie_name`.
pub(crate) fn seal(key: &SealingKey, cookie_name: &str, record: &SessionRecord) -> Option<String> {
    let envelope = EnvelopeRef {
        c: record.created_at.as_unix_millis(),
        e: record.expires_at.as_unix_millis(),
        a: record.absolute_expires_at.as_unix_millis(),
        d: &record.data,
    };
    // nonce ‖ plaintext, encrypted in place, then ‖ tag: one buffer, no copies of the session.
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut sealed = Vec::with_capacity(512);
    sealed.extend_from_slice(&nonce);
    serde_json::to_writer(&mut sealed, &envelope).ok()?;
    let tag = key
        .cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            &aad(cookie_name, &key.id),
            &mut sealed[NONCE_LEN..],
        )
        .ok()?;
    sealed.extend_from_slice(&tag);
    let mut text = String::with_capacity(
        VERSION.len() + key.id.len() + 2 + URL_SAFE_NO_PAD.encoded_length(sealed.len()),
    );
    text.push_str(VERSION);
    text.push('.');
    text.push_str(&key.id);
    text.push('.');
    URL_SAFE_NO_PAD.encode_append(&sealed, &mut text);
    Some(text)
}

/// The key id a sealed value names, without decrypting anything.
pub(crate) fn key_id(sealed: &str) -> Option<&str> {
    let rest = sealed.strip_prefix(VERSION)?.strip_prefix('.')?;
    rest.split_once('.').map(|(id, _)| id)
}

/// Opens a sealed value; `None` unless it was sealed by one of `keys` for `cookie_name`.
pub(crate) fn open<'k>(
    keys: impl IntoIterator<Item = &'k SealingKey>,
    cookie_name: &str,
    sealed: &str,
) -> Option<SessionRecord> {
    let id = key_id(sealed)?;
    let key = keys.into_iter().find(|key| key.id == id)?;
    let payload = &sealed[VERSION.len() + 1 + id.len() + 1..];
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
            &aad(cookie_name, id),
            text,
            Tag::from_slice(tag),
        )
        .ok()?;
    let envelope: Envelope = serde_json::from_slice(text).ok()?;
    Some(SessionRecord::new(
        envelope.d,
        Timestamp::from_unix_millis(envelope.c),
        Timestamp::from_unix_millis(envelope.e),
        Timestamp::from_unix_millis(envelope.a),
    ))
}

/// How many bytes of data JSON fit in a sealed value of at most `max_sealed` bytes with a key
/// id of `key_id_len` characters.
pub(crate) fn data_capacity(max_sealed: usize, key_id_len: usize) -> usize {
    let prefix = VERSION.len() + 1 + key_id_len + 1;
    let raw = max_sealed.saturating_sub(prefix) / 4 * 3;
    raw.saturating_sub(NONCE_LEN + TAG_LEN + ENVELOPE_OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live cookies were sealed with this associated data: it must not change.
    #[test]
    fn associated_data_is_the_v1_layout() {
        assert_eq!(aad("__sid", "k1"), b"session-cookie/v1\0__sid\0k1");
        assert_eq!(aad("", ""), b"session-cookie/v1\0\0");
    }
}
