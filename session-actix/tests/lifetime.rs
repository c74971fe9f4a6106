//! Lifetimes per session and re-authentication, on a server store (memory) and the cookie
//! store, on one test clock: a browser session's cookie has no `Max-Age`; "remember me"
//! timeouts replace the defaults and are enforced; bounds are refused; signing in again restarts
//! both deadlines.
#![cfg(feature = "cookie")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, HttpResponse, test, web};
use serde_json::{Value, json};
use session_actix::clock::{Clock as _, TestClock};
use session_actix::{
    ErrorKind, IntoSessionBackend, Session, SessionLifetime, SessionMiddleware, Timestamp,
};

mod common;

use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
/// The defaults.
const IDLE: Duration = Duration::from_secs(30 * 60);
const ABSOLUTE: Duration = Duration::from_secs(2 * 3600);
/// "Remember me".
const LONG_IDLE: Duration = Duration::from_secs(4 * 3600);
const LONG_ABSOLUTE: Duration = Duration::from_secs(10 * 3600);

on_each_backend!(
    a_browser_session_cookie_has_no_max_age_and_keeps_the_default_deadlines,
    remember_me_timeouts_replace_the_defaults_and_are_enforced,
    a_lifetime_past_the_bounds_is_refused_and_changes_nothing,
    signing_in_again_restarts_both_deadlines,
    with_browser_sessions_by_default_only_remember_me_gets_a_max_age,
);

/// With `browser_sessions`, sessions without a lifetime of their own are browser sessions.
/// `/login/{lifetime}` signs in as `ada` with `browser`, `remember` or `default`; `/lifetime`
/// sets one without signing in (`too_long`, `zero`); `/expiry` answers the stored deadlines.
async fn app(
    store: impl IntoSessionBackend,
    clock: &TestClock,
    browser_sessions: bool,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    let middleware = SessionMiddleware::builder(store)
        .idle_timeout(IDLE)
        .absolute_timeout(ABSOLUTE)
        .allow_session_lifetimes(LONG_IDLE, LONG_ABSOLUTE)
        .browser_sessions(browser_sessions)
        .clock(clock.shared())
        .build();
    test::init_service(
        App::new()
            .wrap(middleware)
            .configure(routes)
            .route(
                "/login/{lifetime}",
                web::post().to(|session: Session, lifetime: web::Path<String>| async move {
                    session.set_user("ada").await?;
                    if let Some(lifetime) = lifetime_named(&lifetime) {
                        session.set_lifetime(lifetime)?;
                    }
                    Ok::<_, actix_web::Error>("signed in")
                }),
            )
            .route(
                "/lifetime/{lifetime}",
                web::post().to(|session: Session, lifetime: web::Path<String>| async move {
                    let lifetime = lifetime_named(&lifetime).unwrap();
                    match session.set_lifetime(lifetime) {
                        Ok(()) => HttpResponse::Ok().json("set"),
                        Err(err) => match err.into_kind() {
                            ErrorKind::LifetimeNotAllowed { .. } => {
                                HttpResponse::UnprocessableEntity().json("refused")
                            }
                            other => HttpResponse::InternalServerError().body(other.to_string()),
                        },
                    }
                }),
            )
            .route(
                "/expiry",
                web::get().to(|session: Session| async move {
                    let expiry = session.expiry().await?;
                    Ok::<_, actix_web::Error>(web::Json(expiry.map(|e| {
                        json!({ "idle": e.idle.as_unix_millis(), "absolute": e.absolute.as_unix_millis() })
                    })))
                }),
            ),
    )
    .await
}

fn lifetime_named(name: &str) -> Option<SessionLifetime> {
    match name {
        "browser" => Some(SessionLifetime::Browser),
        "remember" => Some(SessionLifetime::Timeouts {
            idle: LONG_IDLE,
            absolute: LONG_ABSOLUTE,
        }),
        "too_long" => Some(SessionLifetime::Timeouts {
            idle: LONG_IDLE,
            absolute: LONG_ABSOLUTE + MINUTE,
        }),
        "zero" => Some(SessionLifetime::Timeouts {
            idle: Duration::ZERO,
            absolute: LONG_ABSOLUTE,
        }),
        _ => None,
    }
}

/// The stored deadlines, `(idle, absolute)`.
async fn expiry<S, B>(app: &S, jar: &Jar) -> Option<(Timestamp, Timestamp)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let value = body_json(test::call_service(app, get_with("/expiry", jar)).await).await;
    let at = |name: &str| Timestamp::from_unix_millis(value[name].as_u64().unwrap());
    (!value.is_null()).then(|| (at("idle"), at("absolute")))
}

async fn a_browser_session_cookie_has_no_max_age_and_keeps_the_default_deadlines(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock, false).await;
    let start = clock.now();
    let mut jar = Jar::default();
    let res = test::call_service(&app, post_with("/login/browser", &jar, json!(null))).await;
    let cookie = set_cookie(&res, "__sid").unwrap();
    assert_eq!(
        cookie.max_age(),
        None,
        "a browser session's cookie has no Max-Age"
    );
    jar.absorb(&res);
    assert_eq!(
        expiry(&app, &jar).await,
        Some((start + IDLE, start + ABSOLUTE))
    );

    // A refresh, and a write to the session without reading it, keep it a browser session.
    clock.set(start + IDLE / 2 + MINUTE);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    assert_eq!(
        set_cookie(&res, "__sid").unwrap().max_age(),
        None,
        "refresh"
    );
    jar.absorb(&res);
    // Less than half the idle timeout left: the blind write refreshes and resends the cookie.
    clock.set(start + IDLE + 2 * MINUTE);
    let res = test::call_service(&app, post_with("/set/a", &jar, json!(1))).await;
    assert_eq!(
        set_cookie(&res, "__sid").unwrap().max_age(),
        None,
        "blind write"
    );
    jar.absorb(&res);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    assert_eq!(body_json(res).await, json!(1));

    // A default session keeps its Max-Age.
    let res = test::call_service(
        &app,
        post_with("/login/default", &Jar::default(), json!(null)),
    )
    .await;
    assert!(set_cookie(&res, "__sid").unwrap().max_age().is_some());
}

/// `browser_sessions(true)`: a session without a lifetime of its own gets a cookie without
/// `Max-Age`, refreshed or not, and keeps the default deadlines on the server; "remember me"
/// still gets its `Max-Age`, and keeps it when it is refreshed.
async fn with_browser_sessions_by_default_only_remember_me_gets_a_max_age(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock, true).await;
    let start = clock.now();
    let mut jar = Jar::default();
    let res = test::call_service(&app, post_with("/set/a", &jar, json!(1))).await;
    assert_eq!(set_cookie(&res, "__sid").unwrap().max_age(), None, "new");
    jar.absorb(&res);
    assert_eq!(
        expiry(&app, &jar).await,
        Some((start + IDLE, start + ABSOLUTE))
    );
    clock.set(start + IDLE / 2 + MINUTE);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    assert_eq!(
        set_cookie(&res, "__sid").unwrap().max_age(),
        None,
        "refresh"
    );
    jar.absorb(&res);
    let res = test::call_service(&app, post_with("/login/default", &jar, json!(null))).await;
    assert_eq!(
        set_cookie(&res, "__sid").unwrap().max_age(),
        None,
        "sign-in"
    );

    let mut remembered = Jar::default();
    let res =
        test::call_service(&app, post_with("/login/remember", &remembered, json!(null))).await;
    let max_age = set_cookie(&res, "__sid").unwrap().max_age().unwrap();
    assert_eq!(max_age.whole_seconds(), LONG_IDLE.as_secs() as i64);
    remembered.absorb(&res);
    // A blind write past half of its own idle timeout refreshes it, still persistent.
    clock.set(clock.now() + LONG_IDLE / 2 + MINUTE);
    let res = test::call_service(&app, post_with("/set/b", &remembered, json!(2))).await;
    let max_age = set_cookie(&res, "__sid").unwrap().max_age().unwrap();
    assert_eq!(max_age.whole_seconds(), LONG_IDLE.as_secs() as i64);
}

async fn remember_me_timeouts_replace_the_defaults_and_are_enforced(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock, false).await;
    let start = clock.now();
    let mut jar = Jar::default();
    let res = test::call_service(&app, post_with("/login/remember", &jar, json!(null))).await;
    let max_age = set_cookie(&res, "__sid").unwrap().max_age().unwrap();
    assert_eq!(max_age.whole_seconds(), LONG_IDLE.as_secs() as i64);
    jar.absorb(&res);
    assert_eq!(
        expiry(&app, &jar).await,
        Some((start + LONG_IDLE, start + LONG_ABSOLUTE))
    );

    // Idle past the default timeout, within its own: still signed in, and a blind write
    // refreshes by its own timeout.
    clock.set(start + 3 * HOUR);
    let res = test::call_service(&app, post_with("/set/a", &jar, json!(1))).await;
    let cookie = set_cookie(&res, "__sid").unwrap();
    assert_eq!(
        cookie.max_age().unwrap().whole_seconds(),
        LONG_IDLE.as_secs() as i64
    );
    jar.absorb(&res);
    assert_eq!(
        expiry(&app, &jar).await,
        Some((start + 3 * HOUR + LONG_IDLE, start + LONG_ABSOLUTE))
    );

    // Its own idle timeout ends it.
    clock.set(start + 3 * HOUR + LONG_IDLE);
    assert_eq!(
        expiry(&app, &jar).await,
        None,
        "outlived its own idle timeout"
    );

    // Its own absolute timeout ends it, however busy.
    let start = clock.now();
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/login/remember", &jar, json!(null))).await);
    for hours in 1..10 {
        clock.set(start + HOUR * hours);
        jar.absorb(&test::call_service(&app, get_with("/get/a", &jar)).await);
        assert!(expiry(&app, &jar).await.is_some(), "ended after {hours} h");
    }
    clock.set(start + LONG_ABSOLUTE);
    assert_eq!(
        expiry(&app, &jar).await,
        None,
        "outlived its own absolute timeout"
    );
}

async fn a_lifetime_past_the_bounds_is_refused_and_changes_nothing(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock, false).await;
    let start = clock.now();
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/login/default", &jar, json!(null))).await);
    for name in ["too_long", "zero"] {
        let res = test::call_service(
            &app,
            post_with(&format!("/lifetime/{name}"), &jar, json!(null)),
        )
        .await;
        assert_eq!(res.status(), 422, "{name}");
        assert!(
            set_cookie(&res, "__sid").is_none(),
            "{name}: the session changed"
        );
    }
    assert_eq!(
        expiry(&app, &jar).await,
        Some((start + IDLE, start + ABSOLUTE))
    );

    // Without allow_session_lifetimes, every lifetime is refused.
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store_memory::MemoryStore::default()))
            .route(
                "/",
                web::get().to(|session: Session| async move {
                    let refused = session.set_lifetime(SessionLifetime::Browser).is_err();
                    Ok::<_, actix_web::Error>(web::Json(refused))
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().to_request()).await;
    assert_eq!(body_json(res).await, Value::Bool(true));
}

async fn signing_in_again_restarts_both_deadlines(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock, false).await;
    let start = clock.now();
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/login/default", &jar, json!(null))).await);
    for minutes in [20, 40, 60, 80] {
        clock.set(start + MINUTE * minutes);
        jar.absorb(&test::call_service(&app, get_with("/get/a", &jar)).await);
    }
    let (_, absolute) = expiry(&app, &jar).await.unwrap();
    assert_eq!(absolute, start + ABSOLUTE);

    let again = clock.now();
    let before = jar.clone();
    jar.absorb(&test::call_service(&app, post_with("/login/default", &jar, json!(null))).await);
    assert_ne!(jar.0, before.0, "a new ID");
    assert_eq!(
        expiry(&app, &jar).await,
        Some((again + IDLE, again + ABSOLUTE))
    );
    // Past the first sign-in's absolute deadline, the second's session lives on.
    for minutes in [100, 120, 140] {
        clock.set(start + MINUTE * minutes);
        jar.absorb(&test::call_service(&app, get_with("/get/a", &jar)).await);
        assert!(expiry(&app, &jar).await.is_some(), "ended at {minutes} min");
    }
}
