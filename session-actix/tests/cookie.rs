//! The middleware over the stateless `CookieStore`: values, flash, renew and purge in the
//! cookie; tampered, truncated, foreign and expired cookies refused; key rotation; chunking;
//! and the size limit as a typed error at `insert` time.
#![cfg(feature = "cookie")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{App, HttpResponse, test, web};
use serde_json::{Value, json};
use session_actix::store::{CookieStore, Key};
use session_actix::{ErrorKind, Session, SessionError, SessionMiddleware};

mod common;

use common::*;

fn cookie_app_routes(cfg: &mut web::ServiceConfig) {
    routes(cfg);
    cfg.route(
        "/try_set/{key}",
        web::post().to(
            |session: Session, key: web::Path<String>, body: web::Json<Value>| async move {
                match session.insert(key.into_inner(), body.into_inner()).await {
                    Ok(()) => HttpResponse::Ok().body("stored"),
                    Err(err) => match err.into_kind() {
                        ErrorKind::TooLarge { size, limit, .. } => {
                            HttpResponse::PayloadTooLarge().body(format!("{size} > {limit}"))
                        }
                        other => HttpResponse::InternalServerError().body(other.to_string()),
                    },
                }
            },
        ),
    );
}

/// Tries `set_user` with the body's `user` and then `set_client_info` with its `client` (each
/// when given), ignoring their errors, and answers what each said and whom the session is bound
/// to afterwards: a refused call must leave the session as it was.
fn identity_route(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/identity",
        web::post().to(|session: Session, body: web::Json<Value>| async move {
            let outcome = |result: Result<(), SessionError>| match result {
                Ok(()) => json!("ok"),
                Err(err) => match err.into_kind() {
                    ErrorKind::TooLarge { key, .. } => json!(format!("too large: {key}")),
                    other => json!(other.to_string()),
                },
            };
            let user = match body["user"].as_str() {
                Some(user) => outcome(session.set_user(user).await.map(drop)),
                None => Value::Null,
            };
            let client = match body.get("client") {
                Some(info) => outcome(session.set_client_info(info).await),
                None => Value::Null,
            };
            let bound = session.user().await?;
            Ok::<_, actix_web::Error>(web::Json(json!({
                "user": user,
                "client": client,
                "bound": bound,
            })))
        }),
    );
}

macro_rules! cookie_app {
    ($middleware:expr) => {
        test::init_service(App::new().wrap($middleware).configure(cookie_app_routes)).await
    };
}

#[actix_web::test]
async fn values_flash_renew_and_purge_live_in_the_cookie() {
    let app = cookie_app!(SessionMiddleware::new(CookieStore::new(Key::generate())));
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/user", &jar, json!("ada"))).await);
    assert_eq!(jar.names(), ["__sid"]);
    let first = jar.0["__sid"].clone();
    assert!(first.starts_with("v1.k1."), "{first}");
    assert!(!first.contains("ada"), "the value is encrypted");

    jar.absorb(&test::call_service(&app, post_with("/flash", &jar, json!(null))).await);
    let res = test::call_service(&app, get_with("/get/user", &jar)).await;
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "a read of a fresh session writes nothing"
    );
    assert_eq!(body_json(res).await, json!("ada"));
    let res = test::call_service(&app, get_with("/get/notice", &jar)).await;
    jar.absorb(&res);
    assert_eq!(body_json(res).await, json!("Signed in"));
    let res = test::call_service(&app, get_with("/get/notice", &jar)).await;
    assert_eq!(body_json(res).await, Value::Null, "flash shown twice");

    let before = jar.0["__sid"].clone();
    jar.absorb(&test::call_service(&app, post_with("/renew", &jar, json!(null))).await);
    assert_ne!(jar.0["__sid"], before, "renew re-seals with a fresh nonce");
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/user", &jar)).await).await,
        json!("ada")
    );

    let res = test::call_service(&app, post_with("/purge", &jar, json!(null))).await;
    jar.absorb(&res);
    assert!(
        jar.0.is_empty(),
        "purge removes the cookie: {:?}",
        jar.names()
    );
}

#[actix_web::test]
async fn tampered_truncated_foreign_and_garbage_cookies_are_a_fresh_session() {
    let app = cookie_app!(SessionMiddleware::new(CookieStore::new(Key::generate())));
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/user", &jar, json!("ada"))).await);
    let sealed = jar.0["__sid"].clone();

    let foreign = {
        let other = cookie_app!(SessionMiddleware::new(CookieStore::new(Key::generate())));
        let mut jar = Jar::default();
        jar.absorb(
            &test::call_service(&other, post_with("/set/user", &jar, json!("mallory"))).await,
        );
        jar.0["__sid"].clone()
    };
    let mut flipped = sealed.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let cases = [
        String::from_utf8(flipped).unwrap(),
        sealed[..sealed.len() - 10].to_owned(),
        foreign,
        sealed.replace("v1.k1.", "v1.k2."),
        "garbage".to_owned(),
        sealed.replacen("v1.", "v2.", 1),
        "v1.k1.".to_owned(),
        format!("v1.k1.{}", "A".repeat(40_000)),
    ];
    for bad in cases {
        let bad_jar = Jar(BTreeMap::from([("__sid".to_owned(), bad.clone())]));
        let res = test::call_service(&app, get_with("/get/user", &bad_jar)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "cookie {bad:.40} caused an error"
        );
        assert_eq!(
            body_json(res).await,
            Value::Null,
            "cookie {bad:.40} was accepted"
        );
        let res = test::call_service(&app, post_with("/set/n", &bad_jar, json!(1))).await;
        assert_eq!(res.status(), StatusCode::OK);
        let mut after = bad_jar.clone();
        after.absorb(&res);
        assert_ne!(after.0["__sid"], bad);
        let res = test::call_service(&app, get_with("/get/user", &after)).await;
        assert_eq!(
            body_json(res).await,
            Value::Null,
            "the new session inherited data"
        );
    }
}

#[actix_web::test]
async fn cookies_sealed_with_a_previous_key_are_accepted_and_resealed() {
    let (old, new) = (Key::generate(), Key::generate());
    let old_app = cookie_app!(SessionMiddleware::new(
        CookieStore::builder()
            .key("2026-05", old.clone())
            .build()
            .unwrap()
    ));
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&old_app, post_with("/set/user", &jar, json!("ada"))).await);
    assert!(jar.0["__sid"].starts_with("v1.2026-05."));

    let rotated = cookie_app!(SessionMiddleware::new(
        CookieStore::builder()
            .key("2026-11", new.clone())
            .previous_key("2026-05", old)
            .build()
            .unwrap()
    ));
    // Even a handler that never reads the session re-seals an old-key cookie.
    let res = test::call_service(&rotated, get_with("/plain", &jar)).await;
    jar.absorb(&res);
    assert!(
        jar.0["__sid"].starts_with("v1.2026-11."),
        "not re-sealed: {}",
        jar.0["__sid"]
    );
    assert_eq!(
        body_json(test::call_service(&rotated, get_with("/get/user", &jar)).await).await,
        json!("ada")
    );

    // Once the old key is retired, only the re-sealed cookie still opens.
    let retired = cookie_app!(SessionMiddleware::new(
        CookieStore::builder().key("2026-11", new).build().unwrap()
    ));
    assert_eq!(
        body_json(test::call_service(&retired, get_with("/get/user", &jar)).await).await,
        json!("ada")
    );
}

#[actix_web::test]
async fn large_sessions_are_chunked_and_stale_chunks_removed() {
    let store = roomy_cookie_store();
    let app = cookie_app!(SessionMiddleware::new(store));
    let mut jar = Jar::default();
    let big = "x".repeat(6000);
    jar.absorb(&test::call_service(&app, post_with("/set/big", &jar, json!(big))).await);
    assert_eq!(
        jar.names(),
        ["__sid.0", "__sid.1", "__sid.2"],
        "a 6 KB session takes several cookies"
    );
    for value in jar.0.values() {
        assert!(value.len() <= 3800);
    }
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/big", &jar)).await).await,
        json!(big)
    );

    // A missing, reordered or foreign chunk invalidates the whole session.
    let mut missing = jar.clone();
    missing.0.remove("__sid.1");
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/big", &missing)).await).await,
        Value::Null
    );
    let mut reordered = jar.clone();
    let (zero, one) = (
        reordered.0["__sid.0"].clone(),
        reordered.0["__sid.1"].clone(),
    );
    reordered.0.insert("__sid.0".into(), one);
    reordered.0.insert("__sid.1".into(), zero);
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/big", &reordered)).await).await,
        Value::Null
    );
    let mut other = Jar::default();
    other.absorb(
        &test::call_service(&app, post_with("/set/big", &other, json!("y".repeat(6000)))).await,
    );
    let mut foreign = jar.clone();
    foreign
        .0
        .insert("__sid.2".into(), other.0["__sid.2"].clone());
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/big", &foreign)).await).await,
        Value::Null
    );

    // Shrinking back to one cookie removes every stale chunk.
    jar.absorb(&test::call_service(&app, post_with("/remove/big", &jar, json!(null))).await);
    jar.absorb(&test::call_service(&app, post_with("/set/small", &jar, json!(1))).await);
    assert_eq!(jar.names(), ["__sid"]);
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/small", &jar)).await).await,
        json!(1)
    );

    // Purging a chunked session removes every chunk.
    jar.absorb(&test::call_service(&app, post_with("/set/big", &jar, json!(big))).await);
    assert_eq!(jar.0.len(), 3);
    jar.absorb(&test::call_service(&app, post_with("/purge", &jar, json!(null))).await);
    assert!(jar.0.is_empty(), "{:?}", jar.names());
}

#[actix_web::test]
async fn the_size_limit_is_a_typed_error_at_insert_time() {
    let app = cookie_app!(SessionMiddleware::new(CookieStore::new(Key::generate())));
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/user", &jar, json!("ada"))).await);
    let res = test::call_service(
        &app,
        post_with("/try_set/huge", &jar, json!("z".repeat(20_000))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The refused write changed nothing, and the session is intact.
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/user", &jar)).await).await,
        json!("ada")
    );
    // Just under the limit still fits.
    let res = test::call_service(
        &app,
        post_with("/try_set/fits", &jar, json!("z".repeat(2000))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn a_session_over_a_lowered_limit_opens_as_a_fresh_visitor() {
    let key = Key::generate();
    let roomy = CookieStore::builder()
        .key("k", key.clone())
        .max_cookie_bytes(16 * 1024)
        .build()
        .unwrap();
    let app = cookie_app!(SessionMiddleware::new(roomy));
    let mut jar = Jar::default();
    jar.absorb(
        &test::call_service(&app, post_with("/set/big", &jar, json!("x".repeat(6000)))).await,
    );
    assert_eq!(jar.0.len(), 3, "{:?}", jar.names());

    // The same key under the default limit: the session no longer fits, so it is not adopted
    // (writes to it would all fail); the visitor starts afresh and can write.
    let app = cookie_app!(SessionMiddleware::new(
        CookieStore::builder().key("k", key).build().unwrap()
    ));
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/big", &jar)).await).await,
        Value::Null
    );
    let res = test::call_service(&app, post_with("/set/user", &jar, json!("ada"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    jar.absorb(&res);
    assert_eq!(jar.names(), ["__sid"], "the stale chunks are removed");
    assert_eq!(
        body_json(test::call_service(&app, get_with("/get/user", &jar)).await).await,
        json!("ada")
    );
}

#[actix_web::test]
async fn set_user_and_set_client_info_past_the_size_limit_are_a_typed_error_and_change_nothing() {
    let store = CookieStore::builder()
        .key("k1", Key::generate())
        .max_cookie_bytes(1024)
        .build()
        .unwrap();
    let limit = session_core::SessionSealer::max_data_bytes(&store);
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store))
            .configure(cookie_app_routes)
            .configure(identity_route),
    )
    .await;
    let identity =
        |jar: &Jar, body: Value| test::call_service(&app, post_with("/identity", jar, body));
    let huge = "x".repeat(limit);

    // A new visitor: refused, and no session is started, for values a little over the limit
    // and far over what a cookie holds.
    let far = "x".repeat(2 * limit);
    for body in [
        json!({ "user": huge }),
        json!({ "client": { "user_agent": huge } }),
        json!({ "user": far }),
        json!({ "client": { "user_agent": far } }),
    ] {
        let res = identity(&Jar::default(), body.clone()).await;
        let shown = body.to_string();
        assert_eq!(res.status(), StatusCode::OK, "{shown:.40}");
        assert!(
            res.headers().get(header::SET_COOKIE).is_none(),
            "{shown:.40}"
        );
        let answer = body_json(res).await;
        assert!(
            answer.to_string().contains("too large: __session:"),
            "{answer}"
        );
        assert_eq!(answer["bound"], Value::Null);
    }

    // A signed-in session: an oversized user ID neither binds nor renews it, oversized client
    // info is not recorded, and nothing is written.
    let mut jar = Jar::default();
    let res = identity(
        &jar,
        json!({ "user": "ada", "client": { "user_agent": "Firefox" } }),
    )
    .await;
    jar.absorb(&res);
    assert_eq!(
        body_json(res).await,
        json!({ "user": "ok", "client": "ok", "bound": "ada" })
    );
    let res = identity(
        &jar,
        json!({ "user": huge, "client": { "user_agent": huge } }),
    )
    .await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(
        body_json(res).await,
        json!({
            "user": "too large: __session:user",
            "client": "too large: __session:client",
            "bound": "ada",
        })
    );
    // The session still takes a user that fits.
    let res = identity(&jar, json!({ "user": "grace" })).await;
    jar.absorb(&res);
    assert_eq!(body_json(res).await["bound"], json!("grace"));
}

/// One HTTP/1.1 request on a new connection to `addr`, through actix-web's own request parser:
/// the response's status, its `Set-Cookie` values and its body.
async fn http(
    addr: std::net::SocketAddr,
    head: &str,
    body: &[u8],
) -> (StatusCode, Vec<String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut set_cookies = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        assert!(!name.eq_ignore_ascii_case("transfer-encoding"), "{line}");
        if name.eq_ignore_ascii_case("set-cookie") {
            set_cookies.push(value.trim().to_owned());
        }
    }
    let status = StatusCode::from_u16(status).unwrap();
    (status, set_cookies, response[split + 4..].to_vec())
}

#[actix_web::test]
async fn a_session_at_the_largest_limit_reaches_a_real_server_in_one_request() {
    let store = CookieStore::builder()
        .key("k1", Key::generate())
        .max_cookie_bytes(store_cookie::MAX_COOKIE_BYTES)
        .build()
        .unwrap();
    let max = session_core::SessionSealer::max_data_bytes(&store);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = actix_web::HttpServer::new(move || {
        App::new()
            .wrap(SessionMiddleware::new(store.clone()))
            .configure(cookie_app_routes)
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    // Fill the session to the limit: `{"p":"…"}` is the value's length plus 8 bytes of JSON.
    let fill = json!("x".repeat(max - 8));
    let body = serde_json::to_vec(&fill).unwrap();
    let head = format!(
        "POST /try_set/p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (status, set_cookies, _) = http(addr, &head, &body).await;
    assert_eq!(status, StatusCode::OK);
    let mut jar = Jar::default();
    for value in &set_cookies {
        let cookie = Cookie::parse_encoded(value.clone()).unwrap();
        jar.0
            .insert(cookie.name().to_owned(), cookie.value().to_owned());
    }
    assert_eq!(jar.0.len(), 16, "{:?}", jar.names());

    // The browser sends every chunk in one Cookie header, beside its other cookies and headers.
    let other_cookies = format!("theme=dark; tracking={}", "t".repeat(3000));
    let head = format!(
        "GET /get/p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0\r\n\
         Referer: http://localhost/{}\r\nCookie: {}; {other_cookies}\r\n\r\n",
        "r".repeat(2000),
        jar.header(),
    );
    assert!(head.len() > 60_000, "{}", head.len());
    let (status, set_cookies, body) = http(addr, &head, b"").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        set_cookies.is_empty(),
        "a read of a fresh session writes nothing"
    );
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), fill);

    // The server does refuse a request head that reaches 128 KiB, so the session's room is
    // real. (Sent without its end, so that the server reads all of it before it answers and
    // closes: unread bytes would make the close a reset that loses the answer.)
    let mut head = String::from("GET /get/p HTTP/1.1\r\nHost: localhost\r\nCookie: c=");
    head.push_str(&"c".repeat(128 * 1024 - head.len()));
    let (status, _, _) = http(addr, &head, b"").await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    handle.stop(true).await;
}

#[actix_web::test]
async fn a_read_modify_write_always_sends_the_new_cookie() {
    // Server-side stores skip the Set-Cookie of a write that keeps the expiry; here the
    // cookie is the data, so it must still be sent.
    let app = cookie_app!(SessionMiddleware::new(CookieStore::new(Key::generate())));
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/n", &jar, json!(1))).await);
    let before = jar.0["__sid"].clone();
    let res = test::call_service(&app, get_with("/incr", &jar)).await;
    jar.absorb(&res);
    assert_eq!(body_json(res).await, json!(2));
    assert_ne!(
        jar.0["__sid"], before,
        "the write was not sealed into the cookie"
    );
    let res = test::call_service(&app, get_with("/get/n", &jar)).await;
    assert_eq!(body_json(res).await, json!(2));
}
