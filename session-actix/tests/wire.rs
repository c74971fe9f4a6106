//! The session cookie on the wire, through the middleware: which `Cookie` header lines carry a
//! session (byte for byte, never percent-decoded), how a sealed session's chunks are put back
//! together, and that every `Set-Cookie` reads as the `cookie` crate writes it.
#![cfg(feature = "cookie")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::test;
use serde_json::{Value, json};
use session_actix::SessionMiddleware;
use store_acceptance::doubles::CountingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

/// A GET of `uri` with these raw `Cookie` header lines.
fn with_lines(uri: &str, lines: &[&[u8]]) -> actix_http::Request {
    let mut req = test::TestRequest::get().uri(uri);
    for line in lines {
        req = req.append_header((header::COOKIE, HeaderValue::from_bytes(line).unwrap()));
    }
    req.to_request()
}

#[actix_web::test]
async fn the_first_valid_id_among_cookies_and_lines_is_the_session() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let a = sid(&test::call_service(&app, post("/set/k", None, json!("a"))).await);
    let b = sid(&test::call_service(&app, post("/set/k", None, json!("b"))).await);
    for line in [
        format!("__sid={a}"),
        format!(" __sid = \"{a}\" "),
        format!("theme=dark; __sid=junk; __sid={a}; __sid={b}"),
        format!("x__sid={b}; __sidx={b}; __sid={a}"),
        format!("q=__sid={b}; __sid={a}"),
        format!("é=__sid; ;;__sid={a};"),
        // Never percent-decoded or Unicode-trimmed: none of these is the cookie `__sid`.
        format!("%5F%5Fsid={b}; \u{a0}__sid={b}; __sid\u{a0}={b}; __sid={a}"),
    ] {
        let res = test::call_service(&app, with_lines("/get/k", &[line.as_bytes()])).await;
        assert_eq!(body_json(res).await, json!("a"), "{line}");
    }
    let split = format!("__sid={a}");
    let res = test::call_service(&app, with_lines("/get/k", &[b"x=y", split.as_bytes()])).await;
    assert_eq!(body_json(res).await, json!("a"), "a second Cookie line");
}

#[actix_web::test]
async fn malformed_headers_carry_no_session_and_reach_no_store() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let long = "__sid=".repeat(1000);
    for line in [
        &b""[..],
        b";;;",
        b"__sid",
        b"__sid=",
        b"__sid=a=b",
        b"__sidx=1",
        b"__sid=\xff\xfe",
        long.as_bytes(),
    ] {
        let res = test::call_service(&app, with_lines("/get/k", &[line])).await;
        assert_eq!(body_json(res).await, Value::Null, "{line:?}");
    }
    assert_eq!(
        store.calls().load,
        0,
        "a malformed cookie reached the store"
    );
}

#[actix_web::test]
async fn a_foreign_cookie_with_other_bytes_does_not_hide_the_session() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let id = sid(&test::call_service(&app, post("/set/k", None, json!(1))).await);
    let line = [
        b"city=M\xfcnchen; e=\xf0\x9f\x8d\xaa; __sid=".as_slice(),
        id.as_bytes(),
    ]
    .concat();
    let res = test::call_service(&app, with_lines("/get/k", &[&line])).await;
    assert_eq!(body_json(res).await, json!(1));
}

#[actix_web::test]
async fn chunks_are_read_by_index_whatever_their_order_and_a_gap_loses_the_session() {
    let store = roomy_cookie_store();
    let app = app!(SessionMiddleware::new(store));
    let mut jar = Jar::default();
    let big = json!("x".repeat(6000));
    jar.absorb(&test::call_service(&app, post_with("/set/k", &jar, big.clone())).await);
    assert_eq!(jar.names(), ["__sid.0", "__sid.1", "__sid.2"]);
    let [c0, c1, c2] = [0, 1, 2].map(|i| jar.0[&format!("__sid.{i}")].clone());
    let opens = [
        format!("__sid.2={c2}; __sid.0={c0}; __sid.1={c1}"),
        // Only the first cookie of each name counts.
        format!("__sid.0={c0}; __sid.1={c1}; __sid.2={c2}; __sid.0=junk"),
        // Leading zeros name the same chunk; names that are no chunk are not read.
        format!("__sid.00={c0}; __sid.1={c1}; __sid.2={c2}; __sid.16=x; __sid.=x; __sid.x=x"),
        format!("city=M\u{fc}nchen; __sid.1={c1}; __sid.0={c0}; __sid.2={c2}"),
    ];
    let lost = [
        format!("__sid.0={c0}; __sid.2={c2}"),
        format!("__sid.0={c0}; __sid.1={c1}; __sid.123={c2}"),
        format!("__sid.0={c0}; __sid.1={c1}; __sidx.2={c2}"),
    ];
    for (line, found) in opens
        .iter()
        .map(|l| (l, &big))
        .chain(lost.iter().map(|l| (l, &Value::Null)))
    {
        let res = test::call_service(&app, with_lines("/get/k", &[line.as_bytes()])).await;
        assert_eq!(&body_json(res).await, found, "{line:.80}");
    }

    // The whole cookie wins over chunks, and a response that sets it removes the chunks.
    let small = sid(&test::call_service(&app, post("/set/k", None, json!("small"))).await);
    let line = format!("__sid.1={c1}; __sid={small}; __sid.0={c0}");
    let req = test::TestRequest::post()
        .uri("/set/n")
        .set_json(json!(1))
        .insert_header((header::COOKIE, line))
        .to_request();
    let res = test::call_service(&app, req).await;
    let mut carried = Jar([("__sid", &small), ("__sid.0", &c0), ("__sid.1", &c1)]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.clone()))
        .collect());
    carried.absorb(&res);
    assert_eq!(carried.names(), ["__sid"]);
    let res = test::call_service(&app, get_with("/get/k", &carried)).await;
    assert_eq!(body_json(res).await, json!("small"));
}

#[actix_web::test]
async fn every_set_cookie_reads_as_the_cookie_crate_writes_it() {
    let attributes = [SameSite::Strict, SameSite::Lax, SameSite::None]
        .into_iter()
        .flat_map(|same_site| {
            [(true, true), (false, false), (true, false)]
                .map(|(secure, http_only)| (same_site, secure, http_only))
        })
        .flat_map(|attrs| [None, Some("example.com")].map(|domain| (attrs, domain)))
        .flat_map(|attrs| [false, true].map(|partitioned| (attrs, partitioned)));
    for (((same_site, secure, http_only), domain), partitioned) in attributes {
        let mut builder = SessionMiddleware::builder(MemoryStore::default())
            .path("/app")
            .secure(secure)
            .http_only(http_only)
            .same_site(same_site)
            .partitioned(partitioned);
        if let Some(domain) = domain {
            builder = builder.domain(domain);
        }
        let Ok(middleware) = builder.try_build() else {
            assert!(!secure, "refused a Secure cookie");
            continue;
        };
        let app = app!(middleware);
        let what = format!("{same_site:?} {secure} {http_only} {domain:?} {partitioned}");
        let res = test::call_service(&app, post("/set/k", None, json!(1))).await;
        let written = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let id = sid(&res);
        let expected = |cookie: Cookie<'_>| {
            let mut text = cookie.encoded().to_string();
            if partitioned {
                // The cookie crate actix-web re-exports predates `Partitioned`.
                text.push_str("; Partitioned");
            }
            text
        };
        let cookie = |value: String| {
            let mut cookie = Cookie::build("__sid", value)
                .path("/app")
                .secure(secure)
                .http_only(http_only)
                .same_site(same_site)
                .finish();
            if let Some(domain) = domain {
                cookie.set_domain(domain);
            }
            cookie
        };
        let max_age = Cookie::parse_encoded(written.to_owned())
            .unwrap()
            .max_age()
            .unwrap();
        let mut set = cookie(id.clone());
        set.set_max_age(max_age);
        assert_eq!(written, expected(set), "{what}");

        // The removal carries the same attributes, or the browser keeps the cookie.
        let res = test::call_service(&app, post("/purge", Some(&id), json!(null))).await;
        let written = res
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        let mut removal = cookie(String::new());
        removal.make_removal();
        assert_eq!(written, expected(removal), "removal: {what}");
    }
}

#[actix_web::test]
async fn a_partitioned_sealed_session_marks_every_chunk_and_removal() {
    let store = roomy_cookie_store();
    let app = app!(SessionMiddleware::builder(store).partitioned(true).build());
    let mut jar = Jar::default();
    let res = test::call_service(&app, post_with("/set/k", &jar, json!("x".repeat(6000)))).await;
    jar.absorb(&res);
    let written: Vec<&str> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(written.len(), 3, "{written:?}");
    let res = test::call_service(&app, post_with("/purge", &jar, json!(null))).await;
    let removed: Vec<&str> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        removed.len(),
        4,
        "the cookie and its three chunks: {removed:?}"
    );
    for cookie in written.iter().chain(&removed) {
        assert!(cookie.ends_with("; Partitioned"), "{cookie}");
    }
}
