//! The cap of sessions per user through the middleware: a sign-in past it ends the user's
//! oldest sessions (and says which), or is refused with a typed error; signing in again on the
//! same session does not count it twice. The races are the acceptance suite's schedules.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use serde_json::{Value, json};
use session_actix::clock::TestClock;
use session_actix::store::MemoryStore;
use session_actix::{
    ConfigError, ErrorKind, Session, SessionLimit, SessionMiddleware, SessionMiddlewareBuilder,
};

mod common;

use common::*;

/// `/login` signs in as `ada` and answers how many sessions it ended, or `409` when refused;
/// `/login_or_error` lets the error through with `?`.
async fn app(
    builder: SessionMiddlewareBuilder,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .wrap(builder.build())
            .configure(routes)
            .route(
                "/login",
                web::post().to(|session: Session| async move {
                    match session.set_user("ada").await {
                        Ok(ended) => HttpResponse::Ok().json(ended.len()),
                        Err(err) => match err.into_kind() {
                            ErrorKind::TooManySessions { limit } => {
                                HttpResponse::Conflict().json(json!({ "limit": limit }))
                            }
                            other => HttpResponse::InternalServerError().body(other.to_string()),
                        },
                    }
                }),
            )
            .route(
                "/login_or_error",
                web::post().to(|session: Session| async move {
                    session.set_user("ada").await?;
                    Ok::<_, actix_web::Error>("signed in")
                }),
            )
            .route(
                "/whoami",
                web::get().to(|session: Session| async move {
                    Ok::<_, actix_web::Error>(web::Json(session.user().await?))
                }),
            ),
    )
    .await
}

/// A capped middleware over a memory store, both on `clock`: sessions created one after the
/// other must have distinct creation times for "the oldest" to be one session.
fn capped(limit: SessionLimit, clock: &TestClock) -> (MemoryStore, SessionMiddlewareBuilder) {
    let store = MemoryStore::builder().clock(clock.shared()).build();
    let builder = SessionMiddleware::builder(store.clone())
        .sessions_per_user(store.clone(), limit)
        .clock(clock.shared());
    (store, builder)
}

#[actix_web::test]
async fn a_sign_in_past_the_cap_ends_the_oldest_sessions() {
    let clock = TestClock::starting_now();
    let (store, builder) = capped(SessionLimit::revoke_oldest(2), &clock);
    let app = app(builder).await;
    let mut browsers = vec![Jar::default(), Jar::default(), Jar::default()];
    let mut ended = Vec::new();
    for jar in &mut browsers {
        clock.advance(Duration::from_secs(1));
        let res = test::call_service(&app, post_with("/login", jar, json!(null))).await;
        jar.absorb(&res);
        ended.push(body_json(res).await);
    }
    assert_eq!(ended, [json!(0), json!(0), json!(1)]);
    let whoami = |jar: Jar| {
        let app = &app;
        async move { body_json(test::call_service(app, get_with("/whoami", &jar)).await).await }
    };
    assert_eq!(
        whoami(browsers[0].clone()).await,
        Value::Null,
        "the oldest was ended"
    );
    assert_eq!(whoami(browsers[1].clone()).await, json!("ada"));
    assert_eq!(whoami(browsers[2].clone()).await, json!("ada"));
    use session_actix::UserSessionStore as _;
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 2);

    // Signing in again on a session the user holds does not count it against the cap.
    let res = test::call_service(&app, post_with("/login", &browsers[1], json!(null))).await;
    browsers[1].absorb(&res);
    assert_eq!(body_json(res).await, json!(0));
    assert_eq!(whoami(browsers[2].clone()).await, json!("ada"));
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 2);
}

#[actix_web::test]
async fn a_refused_sign_in_is_a_typed_error_and_changes_nothing() {
    let (store, builder) = capped(SessionLimit::refuse_new(1), &TestClock::starting_now());
    let app = app(builder).await;
    let mut first = Jar::default();
    first.absorb(&test::call_service(&app, post_with("/login", &first, json!(null))).await);

    let mut second = Jar::default();
    second.absorb(&test::call_service(&app, post_with("/set/cart", &second, json!(3))).await);
    let res = test::call_service(&app, post_with("/login", &second, json!(null))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        set_cookie(&res, "__sid").is_none(),
        "the session was renewed"
    );
    assert_eq!(body_json(res).await, json!({ "limit": 1 }));
    let res = test::call_service(&app, get_with("/whoami", &second)).await;
    assert_eq!(body_json(res).await, Value::Null);
    let res = test::call_service(&app, get_with("/get/cart", &second)).await;
    assert_eq!(
        body_json(res).await,
        json!(3),
        "the visitor's session is kept"
    );

    // Through `?`, the default answer is an opaque 403.
    let res = test::call_service(&app, post_with("/login_or_error", &second, json!(null))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(test::read_body(res).await, "Forbidden");
    use session_actix::UserSessionStore as _;
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
}

#[actix_web::test]
async fn a_cap_of_zero_is_refused_at_build() {
    let (_, builder) = capped(SessionLimit::revoke_oldest(0), &TestClock::starting_now());
    assert!(matches!(
        builder.try_build(),
        Err(ConfigError::ZeroSessionLimit)
    ));
}

/// The cap's listing and revocations are one `revoke` store call of the sign-in: an event with
/// its duration when it ends sessions, nothing when it refuses (a refusal is no store error).
#[actix_web::test]
async fn the_caps_revocation_is_a_timed_event_and_its_refusal_no_store_error() {
    use std::sync::{Arc, Mutex};

    use session_actix::{EventKind, SessionEvent};

    for limit in [SessionLimit::revoke_oldest(1), SessionLimit::refuse_new(1)] {
        let clock = TestClock::starting_now();
        let seen: Arc<Mutex<Vec<SessionEvent>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let (_, builder) = capped(limit, &clock);
        let app =
            app(builder.on_event(move |event| sink.lock().unwrap().push(event.clone()))).await;
        test::call_service(&app, post("/login", None, json!(null))).await;
        clock.advance(Duration::from_secs(1));
        seen.lock().unwrap().clear();
        test::call_service(&app, post("/login", None, json!(null))).await;
        let events = std::mem::take(&mut *seen.lock().unwrap());
        let revoked: Vec<_> = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Revoked { .. } | EventKind::StoreError { .. }
                )
            })
            .collect();
        if limit.refuses() {
            assert!(revoked.is_empty(), "{events:?}");
        } else {
            assert_eq!(revoked.len(), 1, "{events:?}");
            assert_eq!(revoked[0].kind, EventKind::Revoked { count: 1 });
            assert_eq!(revoked[0].user.as_deref(), Some("ada"));
            assert!(
                revoked[0].store_call.is_some(),
                "the cap's store call is timed"
            );
        }
    }
}
