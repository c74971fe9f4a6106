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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        cache_directives(line.as_bytes())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect()
    }

    #[test]
    fn cache_directives_are_the_names_outside_quoted_values() {
        assert_eq!(names("public, max-age=600"), ["public", "max-age"]);
        assert_eq!(names(" No-Store ,private,,"), ["No-Store", "private"]);
        assert_eq!(
            names(r#"no-cache="a, no-store", private="x\", no-store", max-age=1"#),
            ["no-cache", "private", "max-age"]
        );
        assert!(names("").is_empty());
        assert!(names(", ,").is_empty());
    }

    #[test]
    fn only_fields_that_override_cache_control_are_dropped() {
        for name in [
            "cdn-cache-control",
            "cloudflare-cdn-cache-control",
            "surrogate-control",
        ] {
            assert!(overrides_cache_control(name), "{name}");
        }
        for name in ["cache-control", "expires", "x-cache-control", "vary"] {
            assert!(!overrides_cache_control(name), "{name}");
        }
    }
}
