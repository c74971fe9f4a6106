//! Reading the session ID from the request and writing the session cookie on the response.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use session_core::stateless::CookieChunks;
use session_core::{SessionId, Timestamp};

use crate::config::CookieConfig;

/// The first well-formed session ID among the request's cookies named `name`.
///
/// Malformed, over-long or foreign values are skipped: a bad cookie is a visitor without a
/// session, never an error, and it never reaches the store.
pub(crate) fn read_session_id(headers: &HeaderMap, name: &str) -> Option<SessionId> {
    headers
        .get_all(header::COOKIE)
        .find_map(|line| SessionId::from_cookie_bytes(line.as_bytes(), name))
}

/// Reads `name` (a session in one cookie) or `name.0`, `name.1`, … (a chunked session), from
/// the lines' raw bytes: a foreign cookie holding other bytes does not hide the session.
pub(crate) fn read_chunks(headers: &HeaderMap, name: &str) -> CookieChunks {
    CookieChunks::from_header_bytes(
        headers.get_all(header::COOKIE).map(HeaderValue::as_bytes),
        name,
    )
}

/// The `Set-Cookie` value that hands `id` to the browser until `expires_at`, it being `now`.
pub(crate) fn session_cookie(
    config: &CookieConfig,
    id: &SessionId,
    expires_at: Timestamp,
    now: Timestamp,
) -> Option<HeaderValue> {
    named_cookie(config, &config.name, id.expose_secret(), expires_at, now)
}

/// A `Set-Cookie` value for cookie `name` (the session cookie or one of its chunks) holding
/// `value` until `expires_at`, it being `now`: its `Max-Age` is the time left, in seconds
/// rounded up.
pub(crate) fn named_cookie(
    config: &CookieConfig,
    name: &str,
    value: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Option<HeaderValue> {
    let remaining = now.duration_until(expires_at);
    // Round up so a session with a few hundred milliseconds left is not deleted by `Max-Age=0`.
    let seconds = remaining.as_millis().div_ceil(1000).max(1);
    let max_age = i64::try_from(seconds).unwrap_or(i64::MAX);
    if !(unreserved(name) && unreserved(value)) {
        let mut cookie = base_cookie(config, name.to_owned(), value.to_owned());
        cookie.set_max_age(time::Duration::seconds(max_age));
        return header_value(&cookie);
    }
    // Written directly, in the order `Cookie`'s `Display` uses: this runs on every response that
    // sets the session cookie, and formatting through `Cookie` cost several times more.
    let mut text = String::with_capacity(name.len() + value.len() + 96);
    text.push_str(name);
    text.push('=');
    text.push_str(value);
    if config.http_only {
        text.push_str("; HttpOnly");
    }
    text.push_str(match config.same_site {
        SameSite::Strict => "; SameSite=Strict",
        SameSite::Lax => "; SameSite=Lax",
        SameSite::None => "; SameSite=None",
    });
    if config.secure {
        text.push_str("; Secure");
    }
    text.push_str("; Path=");
    text.push_str(&config.path);
    if let Some(domain) = &config.domain {
        text.push_str("; Domain=");
        text.push_str(domain);
    }
    text.push_str("; Max-Age=");
    text.push_str(&max_age.to_string());
    HeaderValue::try_from(text).ok()
}

/// The `Set-Cookie` value that makes the browser drop the session cookie.
pub(crate) fn removal_cookie(config: &CookieConfig) -> Option<HeaderValue> {
    named_removal(config, config.name.clone())
}

/// The `Set-Cookie` value that makes the browser drop cookie `name`.
pub(crate) fn named_removal(config: &CookieConfig, name: String) -> Option<HeaderValue> {
    let mut cookie = base_cookie(config, name, String::new());
    cookie.make_removal();
    header_value(&cookie)
}

/// Whether percent-encoding leaves `text` as it is. Session IDs and sealed sessions are
/// base64url (and `.`), so this holds for every value the middleware writes, and the encoder's
/// byte-by-byte pass over a value that may be kilobytes long can be skipped. The test has no early
/// exit, so it compiles to vector instructions.
fn unreserved(text: &str) -> bool {
    text.bytes().fold(true, |all, b| {
        all & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_') | (b == b'.') | (b == b'~'))
    })
}

/// The `Set-Cookie` value of `cookie`, its name and value percent-encoded.
fn header_value(cookie: &Cookie<'_>) -> Option<HeaderValue> {
    let text = if unreserved(cookie.name()) && unreserved(cookie.value()) {
        cookie.to_string()
    } else {
        cookie.encoded().to_string()
    };
    HeaderValue::try_from(text).ok()
}

fn base_cookie(config: &CookieConfig, name: String, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, value);
    cookie.set_path(config.path.clone());
    if let Some(domain) = &config.domain {
        cookie.set_domain(domain.clone());
    }
    cookie.set_secure(config.secure);
    cookie.set_http_only(config.http_only);
    cookie.set_same_site(config.same_site);
    cookie
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;

    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(
                HeaderName::from_static("cookie"),
                HeaderValue::from_str(line).unwrap(),
            );
        }
        map
    }

    #[test]
    fn finds_the_first_valid_id_among_cookies() {
        let id = SessionId::generate();
        let line = format!("other=1; __sid=garbage; __sid={}; x=y", id.expose_secret());
        assert_eq!(
            read_session_id(&headers(&[&line]), "__sid"),
            Some(id.clone())
        );
        let split = headers(&["a=b", &format!("__sid={}", id.expose_secret())]);
        assert_eq!(read_session_id(&split, "__sid"), Some(id));
    }

    #[test]
    fn a_foreign_cookie_with_other_bytes_does_not_hide_the_session() {
        let id = SessionId::generate();
        let mut map = HeaderMap::new();
        let line = [
            b"city=M\xfcnchen; __sid=".as_slice(),
            id.expose_secret().as_bytes(),
        ]
        .concat();
        map.append(
            HeaderName::from_static("cookie"),
            HeaderValue::from_bytes(&line).unwrap(),
        );
        assert_eq!(read_session_id(&map, "__sid"), Some(id));
    }

    #[test]
    fn a_foreign_cookie_with_other_bytes_does_not_hide_a_sealed_session() {
        let mut map = HeaderMap::new();
        map.append(
            HeaderName::from_static("cookie"),
            HeaderValue::from_bytes(b"city=M\xfcnchen; __sid.1=b; __sid.0=a").unwrap(),
        );
        assert_eq!(read_chunks(&map, "__sid").values, ["a", "b"]);
    }

    #[test]
    fn set_cookie_matches_what_the_cookie_crate_writes() {
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let expires_at = now + std::time::Duration::from_millis(3_600_500);
        let mut configs = Vec::new();
        for same_site in [SameSite::Strict, SameSite::Lax, SameSite::None] {
            for (secure, http_only) in [(true, true), (false, false), (true, false)] {
                for domain in [None, Some("example.com"), Some(".example.com")] {
                    configs.push(CookieConfig {
                        name: "__sid".to_owned(),
                        path: "/app".to_owned(),
                        domain: domain.map(str::to_owned),
                        secure,
                        http_only,
                        same_site,
                    });
                }
            }
        }
        for config in configs {
            for (name, value) in [("__sid", "abc-_.~XYZ09"), ("__sid", "needs encoding;=")] {
                let fast = named_cookie(&config, name, value, expires_at, now);
                let mut cookie = base_cookie(&config, name.to_owned(), value.to_owned());
                cookie.set_max_age(time::Duration::seconds(3601));
                let expected = HeaderValue::try_from(cookie.encoded().to_string()).unwrap();
                assert_eq!(fast, Some(expected), "{config:?} {value}");
            }
        }
    }

    #[test]
    fn malformed_headers_give_no_id() {
        for line in [
            "",
            ";;;",
            "__sid",
            "__sid=",
            "__sid=a=b",
            "__sidx=1",
            &format!("__sid={}", "A".repeat(5000)),
        ] {
            assert_eq!(read_session_id(&headers(&[line]), "__sid"), None, "{line}");
        }
        let mut map = HeaderMap::new();
        map.append(
            HeaderName::from_static("cookie"),
            HeaderValue::from_bytes(b"__sid=\xff\xfe").unwrap(),
        );
        assert_eq!(read_session_id(&map, "__sid"), None);
    }
}
