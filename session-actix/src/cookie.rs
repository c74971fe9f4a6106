//! The session cookie on the wire: reading it (or a sealed session's chunks) from a request's
//! `Cookie` headers, and writing the `Set-Cookie`s of a response.
//!
//! A sealed session longer than one cookie travels as chunks `<name>.0`, `<name>.1`, …, which
//! the sealer authenticates as one whole, so a missing, reordered or foreign chunk fails to open.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use session_core::clock::Clock;
use session_core::{Refusal, SessionId, Timestamp};

use crate::config::CookieConfig;

/// The largest value one chunk cookie holds, leaving room for the name and attributes within
/// the 4096 bytes browsers accept per cookie.
pub(crate) const CHUNK_BYTES: usize = 3800;
/// The most chunks of one sealed session that are read or written: 60 800 bytes, the cookie
/// store's `MAX_COOKIE_BYTES` (see there for why).
pub(crate) const MAX_CHUNKS: usize = 16;

/// The request's cookies as `(name, value)` pairs, read as RFC 6265 has a server read them:
/// byte for byte, without percent-decoding or Unicode trimming (which would let a cookie set as
/// `%5F%5FHost-sid` or `\u{a0}__Host-sid`, outside the browser's `__Host-` rules, pass for
/// `__Host-sid`); only spaces and tabs around names and values, and one pair of double quotes
/// around a value, are dropped. A value that is not UTF-8 is `None`, so a foreign cookie holding
/// other bytes never hides the session.
fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, Option<&str>)> {
    headers
        .get_all(header::COOKIE)
        .flat_map(|line| pairs(line.as_bytes()))
        .filter_map(|pair| {
            let eq = memchr::memchr(b'=', pair)?;
            let (name, value) = (trim(pair.get(..eq)?), trim(pair.get(eq + 1..)?));
            let value = std::str::from_utf8(value).ok();
            let value = value.map(|v| {
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
            });
            Some((std::str::from_utf8(name).ok()?, value))
        })
}

/// The `;`-separated pieces of a `Cookie` line. Found with `memchr`, not a byte-by-byte
/// `split`: a sealed session of 2 KB fills the line, and the byte loop took the cookie store's
/// `/big` from 64.0k instructions per request to 77.8k, 18% (callgrind on the bench server,
/// 2026-12-07).
fn pairs(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b';', line)
        .chain(std::iter::once(line.len()))
        .map(move |end| {
            let pair = line.get(start..end).unwrap_or_default();
            start = end + 1;
            pair
        })
}

/// `bytes` without the spaces and tabs around them (RFC 6265's optional whitespace).
fn trim(bytes: &[u8]) -> &[u8] {
    let ows = |b: &u8| matches!(b, b' ' | b'\t');
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// The first well-formed session ID among the request's cookies named `name`; `Ok(None)` when
/// there is no such cookie, [`Refusal::Undecodable`] when none of them holds an ID. Malformed or
/// foreign values are skipped: a bad cookie is a visitor without a session, never an error, and
/// it never reaches the store.
pub(crate) fn read_session_id(
    headers: &HeaderMap,
    name: &str,
) -> Result<Option<SessionId>, Refusal> {
    let mut named = false;
    for (cookie, value) in request_cookies(headers) {
        if cookie == name {
            named = true;
            if let Some(id) = value.and_then(|value| SessionId::parse(value).ok()) {
                return Ok(Some(id));
            }
        }
    }
    if named {
        Err(Refusal::Undecodable)
    } else {
        Ok(None)
    }
}

/// The sealed session a request carried.
#[derive(Debug, Default)]
pub(crate) struct SealedCookie {
    /// The sealed value: cookie `name` (a session in one cookie), else the chunks `name.0`,
    /// `name.1`, … joined. `None` when there is none, or a chunk is missing.
    pub(crate) value: Option<String>,
    /// Every session cookie name the request carried, so the response removes stale ones.
    pub(crate) names: Vec<String>,
}

/// Reads the sealed session of cookie `name`. Only the first cookie of each name counts.
pub(crate) fn read_sealed(headers: &HeaderMap, name: &str) -> SealedCookie {
    let mut whole = None;
    let mut chunks: Vec<Option<String>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (cookie, value) in request_cookies(headers) {
        let slot = if cookie == name {
            &mut whole
        } else if let Some(index) = chunk_index(cookie, name) {
            if chunks.len() <= index {
                chunks.resize(index + 1, None);
            }
            &mut chunks[index]
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = value.map(str::to_owned);
        }
        if !names.iter().any(|seen| seen == cookie) {
            names.push(cookie.to_owned());
        }
    }
    // All of 0..n, or nothing: a gap means a lost chunk, so the session cannot open.
    let value = whole.or_else(|| chunks.into_iter().collect::<Option<String>>());
    SealedCookie {
        value: value.filter(|v| !v.is_empty()),
        names,
    }
}

/// `Some(i)` when `key` is chunk `name.i` (below [`MAX_CHUNKS`]).
fn chunk_index(key: &str, name: &str) -> Option<usize> {
    let digits = key.strip_prefix(name)?.strip_prefix('.')?;
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&index| index < MAX_CHUNKS)
}

/// What a response does with the session cookie.
#[derive(Debug)]
pub(crate) enum CookieWrite {
    /// Nothing.
    Unchanged,
    /// Sets the cookie (chunked when longer than [`CHUNK_BYTES`]) until `expires_at`, or
    /// until the browser closes when not `persistent`.
    Set {
        /// The cookie value: a session ID, or a sealed session.
        value: String,
        /// When the session expires.
        expires_at: Timestamp,
        /// Whether the cookie has a `Max-Age` (a browser session's has none).
        persistent: bool,
    },
    /// Removes the cookie.
    Remove,
}

/// The `Set-Cookie` values of `write`, the time read from `clock`: the session cookie, or its
/// chunks, and removals of every cookie in `carried` (names the request carried) it does not
/// overwrite.
pub(crate) fn set_cookies(
    config: &CookieConfig,
    write: CookieWrite,
    carried: &[String],
    clock: &dyn Clock,
) -> Vec<HeaderValue> {
    let mut written: Vec<(String, Option<Value<'_>>)> = match &write {
        CookieWrite::Unchanged => return Vec::new(),
        CookieWrite::Set {
            value,
            expires_at,
            persistent,
        } => {
            // Rounded up, so a session with a few hundred milliseconds left is not deleted by
            // `Max-Age=0`.
            let seconds = clock
                .now()
                .duration_until(*expires_at)
                .as_millis()
                .div_ceil(1000)
                .max(1);
            let max_age = persistent.then(|| i64::try_from(seconds).unwrap_or(i64::MAX));
            if value.len() <= CHUNK_BYTES {
                vec![(config.name.clone(), Some((value.as_str(), max_age)))]
            } else {
                // The value is ASCII (an ID or base64url), so byte chunks are string chunks.
                let pieces = (0..value.len()).step_by(CHUNK_BYTES);
                pieces
                    .filter_map(|at| value.get(at..value.len().min(at + CHUNK_BYTES)))
                    .enumerate()
                    .map(|(i, chunk)| (format!("{}.{i}", config.name), Some((chunk, max_age))))
                    .collect()
            }
        }
        CookieWrite::Remove => vec![(config.name.clone(), None)],
    };
    for name in carried {
        if !written.iter().any(|(written, _)| written == name) {
            written.push((name.clone(), None));
        }
    }
    written
        .into_iter()
        .filter_map(|(name, set)| set_cookie(config, name, set))
        .collect()
}

/// A cookie's value and its `Max-Age` in seconds (none: until the browser closes).
type Value<'a> = (&'a str, Option<i64>);

/// One `Set-Cookie` value: cookie `name` holding `set`'s value, or its removal.
fn set_cookie(config: &CookieConfig, name: String, set: Option<Value<'_>>) -> Option<HeaderValue> {
    if let Some((value, max_age)) = set
        && [name.as_str(), value]
            .iter()
            .all(|text| text.bytes().all(unreserved))
    {
        return set_cookie_text(config, &name, value, max_age);
    }
    let value = set.map_or_else(String::new, |(value, _)| value.to_owned());
    let mut cookie = Cookie::build(name, value)
        .path(config.path.clone())
        .secure(config.secure)
        .http_only(config.http_only)
        .same_site(config.same_site)
        .finish();
    if let Some(domain) = &config.domain {
        cookie.set_domain(domain.clone());
    }
    match set {
        Some((_, Some(max_age))) => cookie.set_max_age(time::Duration::seconds(max_age)),
        Some((_, None)) => {}
        None => cookie.make_removal(),
    }
    // The cookie crate that actix-web re-exports predates `Partitioned`.
    let partitioned = if config.partitioned {
        "; Partitioned"
    } else {
        ""
    };
    HeaderValue::try_from(format!("{}{partitioned}", cookie.encoded())).ok()
}

/// Whether percent-encoding leaves `b` as it is. Session IDs and sealed values are base64url
/// (and `.`), so every value the middleware sets passes.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// The `Set-Cookie` text the `cookie` crate writes for a cookie with nothing to encode, written
/// directly: with the crate formatting it, a memory-store request that starts a session took
/// 36.8k instructions, with this function 34.3k (7% fewer; callgrind, 2026-12-02), and in CPU
/// time that cell was 1.06 to 1.10 of before (cpucompare against dc3964c).
/// `tests/wire.rs` (`every_set_cookie_reads_as_the_cookie_crate_writes_it`) holds it to the crate.
fn set_cookie_text(
    config: &CookieConfig,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let same_site = match config.same_site {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        SameSite::None => "; SameSite=None",
    };
    let domain = config.domain.as_deref().map(|d| ["; Domain=", d].concat());
    let max_age = max_age.map(|seconds| format!("; Max-Age={seconds}"));
    let text = [
        name,
        "=",
        value,
        if config.http_only { "; HttpOnly" } else { "" },
        same_site,
        if config.secure { "; Secure" } else { "" },
        "; Path=",
        &config.path,
        domain.as_deref().unwrap_or_default(),
        max_age.as_deref().unwrap_or_default(),
        if config.partitioned {
            "; Partitioned"
        } else {
            ""
        },
    ]
    .concat();
    HeaderValue::try_from(text).ok()
}
