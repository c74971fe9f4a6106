//! The middleware's behaviour through actix-web's test utilities, against `MemoryStore` wrapped
//! in counting and failing doubles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::cookie::SameSite;
use actix_web::dev::Service;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{App, HttpResponse, test, web};
use serde_json::{Value, json};
use session_actix::store::{CookieStore, Key};
use session_actix::{
    ClearSiteData, ErrorKind, Session, SessionError, SessionMiddleware, SessionStore,
};
use session_core::SessionId;
use session_core::clock::{Clock as _, TestClock};
use store_acceptance::doubles::{Calls, CountingStore, FailingStore};
use store_memory::MemoryStore;

mod common;

use common::*;

#[actix_web::test]
async fn values_survive_across_requests_and_typed_values_round_trip() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let profile = Profile {
        name: "Ada".into(),
        tags: vec!["admin".into(), "ops".into()],
        age: 36,
    };
    let res = test::call_service(
        &app,
        post(
            "/set/profile",
            None,
            serde_json::to_value(&profile).unwrap(),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = sid(&res);
    for (key, value) in [
        ("n", json!(42)),
        ("f", json!(1.5)),
        ("v", json!([1, 2, 3])),
        ("s", json!("text")),
    ] {
        let res = test::call_service(&app, post(&format!("/set/{key}"), Some(&id), value)).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = test::call_service(&app, get("/profile", Some(&id))).await;
    assert_eq!(
        body_json(res).await,
        serde_json::to_value(&profile).unwrap()
    );
    let res = test::call_service(&app, get("/get_u64/n", Some(&id))).await;
    assert_eq!(body_json(res).await, json!(42));
    let res = test::call_service(&app, get("/get/v", Some(&id))).await;
    assert_eq!(body_json(res).await, json!([1, 2, 3]));
    let res = test::call_service(&app, get("/get/f", Some(&id))).await;
    assert_eq!(body_json(res).await, json!(1.5));
}

#[actix_web::test]
async fn untouched_session_costs_no_store_call_and_no_cookie() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);

    let before = store.calls();
    for (path, cookie) in [
        ("/plain", None),
        ("/plain", Some(id.as_str())),
        ("/ignore", None),
        ("/ignore", Some(id.as_str())),
    ] {
        let res = test::call_service(&app, get(path, cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(header::SET_COOKIE).is_none());
        assert!(res.headers().get(header::CACHE_CONTROL).is_none());
    }
    assert_eq!(
        store.calls().since(before).total(),
        0,
        "a handler that ignores the session hit the store"
    );
}

#[actix_web::test]
async fn read_only_request_makes_one_load_and_no_write() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);

    let before = store.calls();
    let res = test::call_service(&app, get("/two_reads", Some(&id))).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_json(res).await, json!([1, null]));
    assert_eq!(
        store.calls().since(before),
        Calls {
            load: 1,
            ..Calls::default()
        }
    );
}

#[actix_web::test]
async fn visitor_who_never_writes_gets_no_cookie_and_no_session() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let res = test::call_service(&app, get("/get/a", None)).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_json(res).await, Value::Null);
    // Removing or clearing without a session creates nothing either.
    let res = test::call_service(&app, post("/clear", None, json!(null))).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(store.calls().total(), 0);
    assert_eq!(store.inner().session_count(), 0);
}

#[actix_web::test]
async fn write_without_read_is_one_update_without_load() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    let before = store.calls();
    let res = test::call_service(&app, post("/set/b", Some(&id), json!(2))).await;
    assert_eq!(sid(&res), id, "an update keeps the ID");
    assert_eq!(
        store.calls().since(before),
        Calls {
            update: 1,
            ..Calls::default()
        }
    );
}

#[actix_web::test]
async fn concurrent_requests_changing_different_keys_both_survive() {
    let store = MemoryStore::default();
    let app = app!(SessionMiddleware::new(store.clone()));
    assert_concurrent_writes_both_survive(&app, &store).await;
}

#[actix_web::test]
async fn logout_is_not_undone_by_a_concurrent_late_write() {
    let store = MemoryStore::default();
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/user", None, json!("ada"))).await);
    let (slow, logout) = futures_util::join!(
        test::call_service(&app, post("/slow_set/cart", Some(&id), json!(null))),
        test::call_service(&app, post("/purge", Some(&id), json!(null))),
    );
    assert_eq!(
        set_cookie(&logout, "__sid").unwrap().max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
    assert!(
        store.load(&stored_id(&id)).await.unwrap().is_none(),
        "the purged session came back"
    );
    let fresh = sid(&slow);
    assert_ne!(fresh, id);
    let record = store.load(&stored_id(&fresh)).await.unwrap().unwrap();
    assert_eq!(
        record.data.get("user"),
        None,
        "the new session inherited the logged-out user"
    );
    assert_eq!(record.data.get("cart"), Some(&json!(true)));
}

#[actix_web::test]
async fn unknown_malformed_and_overlong_ids_get_a_fresh_session() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let unknown = SessionId::generate().expose_secret().to_owned();
    let cases = [
        unknown.clone(),
        "abc".to_owned(),
        "A".repeat(4096),
        format!("{unknown}x"),
        "%%%==".to_owned(),
        format!("\"{unknown}\"x"),
    ];
    for supplied in &cases {
        let res = test::call_service(&app, post("/set/a", Some(supplied), json!(1))).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "cookie {supplied:?} caused an error"
        );
        let fresh = sid(&res);
        assert_ne!(&fresh, supplied);
        assert!(SessionId::parse(&fresh).is_ok());
    }
    // Only the well-formed unknown ID ever reached the store (one update, then a create);
    // malformed values were dropped before any store call.
    let calls = store.calls();
    assert_eq!(
        calls,
        Calls {
            update: 1,
            create: cases.len(),
            ..Calls::default()
        },
        "{calls:?}"
    );
    assert!(
        store.load(&stored_id(&unknown)).await.unwrap().is_none(),
        "the supplied ID was stored"
    );
}

#[actix_web::test]
async fn reading_with_an_unknown_id_removes_the_stale_cookie() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let unknown = SessionId::generate().expose_secret().to_owned();
    let res = test::call_service(&app, get("/get/a", Some(&unknown))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = set_cookie(&res, "__sid").unwrap();
    assert_eq!(cookie.value(), "");
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
}

#[actix_web::test]
async fn flash_is_returned_once() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let id = sid(&test::call_service(&app, post("/flash", None, json!(null))).await);
    let res = test::call_service(&app, get("/get/notice", Some(&id))).await;
    assert_eq!(body_json(res).await, json!("Signed in"));
    let res = test::call_service(&app, get("/get/notice", Some(&id))).await;
    assert_eq!(body_json(res).await, Value::Null, "flash shown twice");
}

#[actix_web::test]
async fn renew_keeps_data_and_retires_the_old_id() {
    let store = CountingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let old = sid(&test::call_service(&app, post("/set/user", None, json!("ada"))).await);
    let before = store.calls();
    let res = test::call_service(&app, post("/renew", Some(&old), json!(null))).await;
    let new = sid(&res);
    assert_ne!(new, old);
    assert_eq!(
        store.calls().since(before),
        Calls {
            renew: 1,
            ..Calls::default()
        },
        "a renew without a read is one store call"
    );
    let res = test::call_service(&app, get("/get/user", Some(&new))).await;
    assert_eq!(body_json(res).await, json!("ada"));
    let res = test::call_service(&app, get("/get/user", Some(&old))).await;
    assert_eq!(
        body_json(res).await,
        Value::Null,
        "old ID still works after renew"
    );
    assert!(store.load(&stored_id(&old)).await.unwrap().is_none());
}

#[actix_web::test]
async fn purge_sends_a_removal_cookie_and_deletes_the_data() {
    let store = MemoryStore::default();
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/user", None, json!("ada"))).await);
    let res = test::call_service(&app, post("/purge", Some(&id), json!(null))).await;
    let cookie = set_cookie(&res, "__sid").expect("purge must send a removal cookie");
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
    assert_eq!(cookie.value(), "");
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    assert!(
        store.load(&stored_id(&id)).await.unwrap().is_none(),
        "purged data still stored"
    );
}

#[actix_web::test]
async fn purge_then_flash_starts_a_fresh_session() {
    let store = MemoryStore::default();
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/user", None, json!("ada"))).await);
    let res = test::call_service(&app, post("/logout", Some(&id), json!(null))).await;
    let fresh = sid(&res);
    assert_ne!(fresh, id);
    assert!(store.load(&stored_id(&id)).await.unwrap().is_none());
    let res = test::call_service(&app, get("/get/user", Some(&fresh))).await;
    assert_eq!(body_json(res).await, Value::Null);
    let res = test::call_service(&app, get("/get/notice", Some(&fresh))).await;
    assert_eq!(body_json(res).await, json!("Signed out"));
}

#[actix_web::test]
async fn remove_and_clear_are_persisted() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    test::call_service(&app, post("/set/b", Some(&id), json!(2))).await;
    test::call_service(&app, post("/remove/a", Some(&id), json!(null))).await;
    assert_eq!(
        body_json(test::call_service(&app, get("/get/a", Some(&id))).await).await,
        Value::Null
    );
    assert_eq!(
        body_json(test::call_service(&app, get("/get/b", Some(&id))).await).await,
        json!(2)
    );
    test::call_service(&app, post("/clear", Some(&id), json!(null))).await;
    assert_eq!(
        body_json(test::call_service(&app, get("/get/b", Some(&id))).await).await,
        Value::Null
    );
}

/// A memory store counting its calls and middleware over it, both on `clock`, with a 30 min
/// idle timeout (refreshed once less than 15 min are left) and a long absolute one.
fn short_idle(clock: &TestClock) -> (CountingStore<MemoryStore>, SessionMiddleware) {
    let store = CountingStore::new(MemoryStore::builder().clock(clock.shared()).build());
    let middleware = SessionMiddleware::builder(store.clone())
        .idle_timeout(MINUTE * 30)
        .absolute_timeout(MINUTE * 24 * 60)
        .clock(clock.shared())
        .build();
    (store, middleware)
}

const MINUTE: Duration = Duration::from_secs(60);

#[actix_web::test]
async fn idle_timeout_slides_only_past_half_and_expires_when_idle() {
    let clock = TestClock::starting_now();
    let start = clock.now();
    let at = |minutes: u32| clock.set(start + MINUTE * minutes);
    let (store, middleware) = short_idle(&clock);
    let app = app!(middleware);
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);

    // Early read: more than half the idle timeout remains, so no touch and no cookie.
    at(2);
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(store.calls().touch, 0);

    // Past half: the read refreshes the deadline once and re-sends the cookie.
    at(20);
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert_eq!(sid(&res), id);
    assert_eq!(store.calls().touch, 1);

    // Past the original deadline (30 min) the refreshed session is alive.
    at(36);
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert_eq!(
        body_json(res).await,
        json!(1),
        "refreshed session expired at its old deadline"
    );

    // Idle for longer than the timeout: gone.
    at(36 + 36);
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert_eq!(
        body_json(res).await,
        Value::Null,
        "idle session did not expire"
    );
}

#[actix_web::test]
async fn writes_to_a_loaded_session_resend_the_cookie_only_when_a_refresh_is_due() {
    let clock = TestClock::starting_now();
    let start = clock.now();
    let at = |minutes: u32| clock.set(start + MINUTE * minutes);
    let (store, middleware) = short_idle(&clock);
    let app = app!(middleware);
    let id = sid(&test::call_service(&app, post("/set/n", None, json!(1))).await);

    // Early read-modify-write: stored, but the deadline (and so the cookie) stays.
    at(2);
    let before = store.calls();
    let res = test::call_service(&app, get("/incr", Some(&id))).await;
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(body_json(res).await, json!(2));
    assert_eq!(
        store.calls().since(before),
        Calls {
            load: 1,
            update: 1,
            ..Calls::default()
        }
    );

    // Past half the idle timeout: the same write moves the deadline and re-sends the cookie.
    at(20);
    let res = test::call_service(&app, get("/incr", Some(&id))).await;
    assert_eq!(sid(&res), id);
    assert_eq!(body_json(res).await, json!(3));

    // Past the first deadline (30 min), the refreshed session holds both writes.
    at(36);
    let res = test::call_service(&app, get("/get/n", Some(&id))).await;
    assert_eq!(body_json(res).await, json!(3));

    // A write without a read cannot know the deadline: it moves it and sends the cookie.
    let res = test::call_service(&app, post("/set/m", Some(&id), json!(1))).await;
    assert_eq!(sid(&res), id);
}

#[actix_web::test]
async fn default_cookie_attributes_and_cache_control() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let res = test::call_service(&app, post("/set/a", None, json!(1))).await;
    let cookie = set_cookie(&res, "__sid").unwrap();
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_eq!(cookie.domain(), None);
    let max_age = cookie.max_age().unwrap().whole_seconds();
    assert!(
        (86_399..=86_400).contains(&max_age),
        "Max-Age {max_age}: the cookie should live until the idle expiry"
    );
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );

    // A handler's own Cache-Control without `no-store` is replaced.
    let res = test::call_service(&app, post("/cached", None, json!(null))).await;
    assert!(set_cookie(&res, "__sid").is_some());
    assert_eq!(cache_control(&res), ["no-store"]);
}

/// A handler that sets the given response headers (`[name, value]` pairs, repeated names
/// appended) after doing `action` to the session: `write`, `read`, `purge` or `none`.
async fn cacheable(session: Session, body: web::Json<Value>) -> actix_web::Result<HttpResponse> {
    match body["action"].as_str().unwrap() {
        "write" => session.insert("x", 1).await?,
        "read" => {
            let _: Option<Value> = session.get("x").await?;
        }
        "purge" => session.purge().await?,
        _ => {}
    }
    let mut res = HttpResponse::Ok();
    for pair in body["headers"].as_array().unwrap() {
        res.append_header((pair[0].as_str().unwrap(), pair[1].as_str().unwrap()));
    }
    Ok(res.finish())
}

fn cache_control<B>(res: &actix_web::dev::ServiceResponse<B>) -> Vec<&str> {
    res.headers()
        .get_all(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_response_that_sets_the_session_cookie_is_never_cacheable() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::default()))
            .configure(routes)
            .route("/cacheable", web::post().to(cacheable)),
    )
    .await;
    let call = |cookie: Option<String>, action: &str, headers: Value| {
        let req = post(
            "/cacheable",
            cookie.as_deref(),
            json!({ "action": action, "headers": headers }),
        );
        test::call_service(&app, req)
    };
    let public = json!([
        ["cache-control", "public, max-age=600"],
        ["cdn-cache-control", "max-age=600"],
        ["cloudflare-cdn-cache-control", "max-age=600"],
        ["surrogate-control", "max-age=600"],
        ["expires", "Thu, 01 Jan 2099 00:00:00 GMT"],
        ["x-cache-control", "max-age=600"],
        ["vary", "Cookie"],
    ]);

    // A new session: the handler's caching is replaced, and the fields that let a CDN ignore
    // Cache-Control are gone.
    let res = call(None, "write", public.clone()).await;
    let id = sid(&res);
    assert_eq!(cache_control(&res), ["no-store"]);
    for name in [
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
    ] {
        assert!(!res.headers().contains_key(name), "{name} kept");
    }
    for kept in [header::EXPIRES.as_str(), "x-cache-control", "vary"] {
        assert!(res.headers().contains_key(kept), "{kept} dropped");
    }

    // A removal cookie too.
    let res = call(Some(id.clone()), "purge", public.clone()).await;
    assert_eq!(set_cookie(&res, "__sid").unwrap().value(), "");
    assert_eq!(cache_control(&res), ["no-store"]);

    // Without a session Set-Cookie, whether the handler ignores, reads or never takes its
    // session, the handler's headers are untouched.
    let id = sid(&call(None, "write", json!([])).await);
    for (cookie, action) in [
        (None, "none"),
        (Some(id.clone()), "read"),
        (Some(id), "none"),
    ] {
        let res = call(cookie, action, public.clone()).await;
        assert!(res.headers().get(header::SET_COOKIE).is_none(), "{action}");
        assert_eq!(cache_control(&res), ["public, max-age=600"], "{action}");
        assert_eq!(
            res.headers().get("cdn-cache-control").unwrap(),
            "max-age=600"
        );
        assert_eq!(
            res.headers().get("surrogate-control").unwrap(),
            "max-age=600"
        );
    }

    // A Cache-Control that already forbids storing is kept as it is, on one line or several;
    // the CDN fields are still dropped.
    let res = call(
        None,
        "write",
        json!([
            ["cache-control", "no-store, private"],
            ["cdn-cache-control", "max-age=9"]
        ]),
    )
    .await;
    assert!(set_cookie(&res, "__sid").is_some());
    assert_eq!(cache_control(&res), ["no-store, private"]);
    assert!(!res.headers().contains_key("cdn-cache-control"));
    let res = call(
        None,
        "write",
        json!([["cache-control", "private"], ["cache-control", "No-Store"]]),
    )
    .await;
    assert_eq!(cache_control(&res), ["private", "No-Store"]);
    let res = call(
        None,
        "write",
        json!([["cache-control", " No-Store ,private,,"]]),
    )
    .await;
    assert_eq!(cache_control(&res), [" No-Store ,private,,"]);

    // Several lines none of which says no-store: all replaced by one. A `no-store` inside a
    // quoted value is not the directive.
    for lines in [
        json!([
            ["cache-control", "public"],
            ["cache-control", "max-age=600"]
        ]),
        json!([["cache-control", "private=\"no-store\", max-age=600"]]),
        json!([[
            "cache-control",
            r#"no-cache="a, no-store", private="x\", no-store", max-age=1"#
        ]]),
        json!([["cache-control", ", ,"]]),
    ] {
        let res = call(None, "write", lines.clone()).await;
        assert_eq!(cache_control(&res), ["no-store"], "{lines}");
    }
}

#[actix_web::test]
async fn builder_sets_every_cookie_attribute() {
    let app = app!(
        SessionMiddleware::builder(MemoryStore::default())
            .cookie_name("sid")
            .domain("example.com")
            .path("/app")
            .secure(false)
            .http_only(false)
            .same_site(SameSite::Strict)
            .idle_timeout(Duration::from_secs(1800))
            .build()
    );
    let res = test::call_service(&app, post("/set/a", None, json!(1))).await;
    let cookie = set_cookie(&res, "sid").expect("custom cookie name");
    assert_eq!(cookie.domain(), Some("example.com"));
    assert_eq!(cookie.path(), Some("/app"));
    assert_eq!(cookie.secure(), None);
    assert_eq!(cookie.http_only(), None);
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    assert!((1799..=1800).contains(&cookie.max_age().unwrap().whole_seconds()));
}

#[actix_web::test]
async fn host_prefix_names_the_cookie() {
    let app = app!(
        SessionMiddleware::builder(MemoryStore::default())
            .cookie_name("sid")
            .host_prefix(true)
            .build()
    );
    let res = test::call_service(&app, post("/set/a", None, json!(1))).await;
    let cookie = set_cookie(&res, "__Host-sid").expect("__Host- prefixed cookie");
    let id = cookie.value().to_owned();
    let req = test::TestRequest::get()
        .uri("/get/a")
        .insert_header((header::COOKIE, format!("__Host-sid={id}")))
        .to_request();
    assert_eq!(
        body_json(test::call_service(&app, req).await).await,
        json!(1)
    );
}

#[actix_web::test]
async fn failing_store_gives_an_opaque_503_and_recovers() {
    let store = FailingStore::new(MemoryStore::default());
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);

    store.set_failing(true);
    for req in [
        post("/set/b", Some(&id), json!(2)),
        get("/get/a", Some(&id)),
        post("/set/a", None, json!(1)),
    ] {
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            res.headers().get(header::SET_COOKIE).is_none(),
            "a failed write must not hand out a cookie"
        );
        let body = test::read_body(res).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(text, "Service Unavailable");
    }
    // A handler that ignores the session is unaffected.
    assert_eq!(
        test::call_service(&app, get("/plain", Some(&id)))
            .await
            .status(),
        StatusCode::OK
    );

    store.set_failing(false);
    let res = test::call_service(&app, post("/set/b", Some(&id), json!(2))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_json(test::call_service(&app, get("/get/b", Some(&id))).await).await,
        json!(2)
    );
}

#[actix_web::test]
async fn custom_error_handler_shapes_store_failures() {
    let store = FailingStore::new(MemoryStore::default());
    store.set_failing(true);
    let app = app!(
        SessionMiddleware::builder(store.clone())
            .error_handler(|err: &SessionError| {
                let status = if matches!(err.kind(), ErrorKind::Store(_)) {
                    507
                } else {
                    418
                };
                HttpResponse::build(StatusCode::from_u16(status).unwrap()).body("custom")
            })
            .build()
    );
    let id = SessionId::generate().expose_secret().to_owned();
    for req in [post("/set/a", None, json!(1)), get("/get/a", Some(&id))] {
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(test::read_body(res).await, "custom");
    }
}

#[actix_web::test]
async fn value_of_the_wrong_type_is_an_opaque_500_and_stays_stored() {
    let store = MemoryStore::default();
    let app = app!(SessionMiddleware::new(store.clone()));
    let id = sid(&test::call_service(&app, post("/set/n", None, json!("not a number"))).await);
    let res = test::call_service(&app, get("/get_u64/n", Some(&id))).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(test::read_body(res).await, "Internal Server Error");
    let record = store.load(&stored_id(&id)).await.unwrap().unwrap();
    assert_eq!(record.data.get("n"), Some(&json!("not a number")));
}

#[actix_web::test]
async fn reserved_flash_keys_are_refused() {
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let res = test::call_service(&app, post("/set/__flash:notice", None, json!("forged"))).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
}

#[actix_web::test]
async fn session_without_middleware_is_a_500() {
    let app = test::init_service(App::new().configure(routes)).await;
    let res = app.call(get("/get/a", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(test::read_body(res).await, "Internal Server Error");
}

#[actix_web::test]
async fn session_is_send_sync_and_debug_hides_the_id() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Session>();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::default()))
            .route(
                "/debug",
                web::get().to(|session: Session| async move { format!("{session:?}") }),
            ),
    )
    .await;
    let id = SessionId::generate().expose_secret().to_owned();
    let body = test::read_body(test::call_service(&app, get("/debug", Some(&id))).await).await;
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains(&id), "{text}");
    assert!(text.contains("has_cookie: true"), "{text}");
}

#[actix_web::test]
async fn session_extracts_while_the_caller_holds_the_extensions() {
    use actix_web::{FromRequest as _, HttpMessage as _, HttpRequest};

    // A custom extractor may look at the request's extensions while it takes the Session.
    async fn handler(req: HttpRequest) -> actix_web::Result<String> {
        let extensions = req.extensions();
        let mut payload = actix_web::dev::Payload::None;
        let session = Session::from_request(&req, &mut payload).into_inner()?;
        let same = Session::from_request(&req, &mut payload).into_inner()?;
        drop(extensions);
        session.insert("n", 1).await?;
        Ok(same.get::<u32>("n").await?.unwrap_or(0).to_string())
    }
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::default()))
            .route("/", web::get().to(handler)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key(header::SET_COOKIE));
    assert_eq!(test::read_body(res).await, "1");
}

#[actix_web::test]
async fn clear_site_data_is_sent_only_on_a_purge_that_leaves_no_session() {
    let backends = [
        (
            SessionMiddleware::builder(MemoryStore::default()),
            ClearSiteData::Cookies,
            "\"cookies\"",
        ),
        (
            SessionMiddleware::builder(MemoryStore::default()),
            ClearSiteData::Everything,
            "\"*\"",
        ),
        (
            SessionMiddleware::builder(CookieStore::new(Key::generate())),
            ClearSiteData::Cookies,
            "\"cookies\"",
        ),
    ];
    for (builder, what, expected) in backends {
        let app = app!(builder.clear_site_data(what).build());
        let mut jar = Jar::default();
        jar.absorb(&test::call_service(&app, post_with("/set/a", &jar, json!(1))).await);
        assert_eq!(
            clear_site_data(&test::call_service(&app, get_with("/get/a", &jar)).await),
            None
        );
        let res = test::call_service(&app, post_with("/purge", &jar, json!(null))).await;
        assert_eq!(set_cookie(&res, "__sid").unwrap().value(), "");
        assert_eq!(clear_site_data(&res).as_deref(), Some(expected), "{what:?}");

        // A purge followed by a write keeps the new session's cookie: no header.
        jar.absorb(&test::call_service(&app, post_with("/set/a", &Jar::default(), json!(1))).await);
        let res = test::call_service(&app, post_with("/logout", &jar, json!(null))).await;
        assert!(!set_cookie(&res, "__sid").unwrap().value().is_empty());
        assert_eq!(clear_site_data(&res), None, "purge then flash");
    }

    // A stale cookie's removal is no purge; without the setting, a purge sends nothing.
    let app = app!(
        SessionMiddleware::builder(MemoryStore::default())
            .clear_site_data(ClearSiteData::Everything)
            .build()
    );
    let unknown = SessionId::generate().expose_secret().to_owned();
    let res = test::call_service(&app, get("/get/a", Some(&unknown))).await;
    assert_eq!(set_cookie(&res, "__sid").unwrap().value(), "");
    assert_eq!(clear_site_data(&res), None, "stale cookie");
    let app = app!(SessionMiddleware::new(MemoryStore::default()));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    let res = test::call_service(&app, post("/purge", Some(&id), json!(null))).await;
    assert_eq!(clear_site_data(&res), None, "not configured");
}

fn clear_site_data<B>(res: &actix_web::dev::ServiceResponse<B>) -> Option<String> {
    res.headers()
        .get("clear-site-data")
        .map(|v| v.to_str().unwrap().to_owned())
}
