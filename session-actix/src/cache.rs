//! Keeping responses that set a session cookie out of shared caches.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// A response that carries a session cookie must not be stored by any cache: a shared cache
/// would hand the cookie, and the signed-in page, to other visitors. The handler's
/// `Cache-Control` is kept only when its directives (all of its lines together) already include
/// `no-store`; otherwise every line is replaced by `Cache-Control: no-store`. The fields with
/// which CDNs are told to ignore `Cache-Control` (`CDN-Cache-Control` of RFC 9213 and its
/// vendor forms `<vendor>-CDN-Cache-Control`, and `Surrogate-Control`) are removed in both cases,
/// so every cache falls back to `Cache-Control`.
pub(crate) fn forbid_caching(headers: &mut HeaderMap) {
    let no_store = headers
        .get_all(header::CACHE_CONTROL)
        .any(|line| cache_directives(line.as_bytes()).any(|d| d.eq_ignore_ascii_case(b"no-store")));
    if !no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let overriding: Vec<HeaderName> = headers
        .keys()
        .filter(|name| overrides_cache_control(name.as_str()))
        .cloned()
        .collect();
    for name in overriding {
        headers.remove(name);
    }
}

/// Whether a response field tells some caches to ignore `Cache-Control` (header names are
/// lowercase in `HeaderName`).
fn overrides_cache_control(name: &str) -> bool {
    name == "cdn-cache-control"
        || name.ends_with("-cdn-cache-control")
        || name == "surrogate-control"
}

/// The directive names of one `Cache-Control` line (RFC 9111 §5.2: `name` or `name=value`,
/// comma-separated, the value a token or a quoted string that may itself hold commas).
fn cache_directives(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = line;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            // The directive runs to the next comma outside a quoted string.
            let (mut quoted, mut escaped, mut end) = (false, false, rest.len());
            for (i, &b) in rest.iter().enumerate() {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let (directive, next) = rest.split_at(end);
            rest = next.get(1..).unwrap_or_default();
            let name = directive.split(|&b| b == b'=').next().unwrap_or_default();
            let name = name.trim_ascii();
            if !name.is_empty() {
                return Some(name);
            }
        }
    })
}
