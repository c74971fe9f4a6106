//! The middleware's time rules, written once and run on a server-side store (memory) and on the
//! cookie store: the refresh threshold, idle expiry, absolute expiry and the cookie's `Max-Age`.
//! Nothing sleeps: the middleware and the store read one `TestClock`, which each test moves.
#![cfg(feature = "cookie")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{App, test, web};
use serde_json::{Value, json};
use session_actix::clock::{Clock as _, TestClock};
use session_actix::{IntoSessionBackend, Session, SessionMiddleware, Timestamp};

mod common;

use common::*;

const MINUTE: Duration = Duration::from_secs(60);
const MILLI: Duration = Duration::from_millis(1);
/// Refreshed once less than 15 minutes are left.
const IDLE: Duration = Duration::from_secs(30 * 60);
const ABSOLUTE: Duration = Duration::from_secs(2 * 60 * 60);

on_each_backend!(
    the_deadline_moves_only_once_less_than_half_the_idle_timeout_is_left,
    a_session_unused_for_its_idle_timeout_is_a_new_visitor,
    a_session_in_constant_use_ends_at_its_absolute_deadline,
    the_cookie_max_age_is_the_time_left_until_the_session_expires,
);

/// The app every rule runs: the common routes and `/expiry`, with `IDLE` and `ABSOLUTE`.
async fn app(
    store: impl IntoSessionBackend,
    clock: &TestClock,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    let middleware = SessionMiddleware::builder(store)
        .idle_timeout(IDLE)
        .absolute_timeout(ABSOLUTE)
        .clock(clock.shared())
        .build();
    test::init_service(
        App::new()
            .wrap(middleware)
            .configure(routes)
            .route("/expiry", web::get().to(expiry)),
    )
    .await
}

/// The session's deadlines as stored before the request, in Unix milliseconds.
async fn expiry(session: Session) -> actix_web::Result<web::Json<Value>> {
    let expiry = session.expiry().await?;
    Ok(web::Json(expiry.map_or(
        Value::Null,
        |e| json!({ "idle": e.idle.as_unix_millis(), "absolute": e.absolute.as_unix_millis() }),
    )))
}

/// The session's idle deadline, read through the app.
async fn idle_deadline<S, B>(app: &S, jar: &Jar) -> Timestamp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let res = test::call_service(app, get_with("/expiry", jar)).await;
    assert!(
        set_cookie(&res, "__sid").is_none(),
        "reading the deadline refreshed it"
    );
    let millis = body_json(res).await["idle"]
        .as_u64()
        .expect("a live session");
    Timestamp::from_unix_millis(millis)
}

/// The `Max-Age` of the session cookie `res` sets, in seconds.
fn max_age<B>(res: &ServiceResponse<B>) -> i64 {
    set_cookie(res, "__sid")
        .expect("a session cookie")
        .max_age()
        .expect("a Max-Age")
        .whole_seconds()
}

async fn the_deadline_moves_only_once_less_than_half_the_idle_timeout_is_left(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock).await;
    let start = clock.now();
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/a", &jar, json!(1))).await);
    assert_eq!(idle_deadline(&app, &jar).await, start + IDLE);

    // Half of the idle timeout is left: a read sends no cookie, the deadline stays.
    clock.set(start + IDLE / 2);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    assert!(set_cookie(&res, "__sid").is_none(), "refreshed too early");
    assert_eq!(body_json(res).await, json!(1));
    assert_eq!(idle_deadline(&app, &jar).await, start + IDLE);

    // A millisecond less: the read moves the deadline to a full idle timeout from now.
    let now = start + IDLE / 2 + MILLI;
    clock.set(now);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    jar.absorb(&res);
    assert_eq!(max_age(&res), IDLE.as_secs() as i64);
    assert_eq!(body_json(res).await, json!(1));
    assert_eq!(idle_deadline(&app, &jar).await, now + IDLE);

    // Past the first deadline, the session lives on.
    clock.set(start + IDLE + MINUTE);
    let res = test::call_service(&app, get_with("/get/a", &jar)).await;
    assert_eq!(
        body_json(res).await,
        json!(1),
        "expired at its old deadline"
    );
}

async fn a_session_unused_for_its_idle_timeout_is_a_new_visitor(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock).await;
    let start = clock.now();
    let (mut used, mut unused) = (Jar::default(), Jar::default());
    used.absorb(&test::call_service(&app, post_with("/set/a", &used, json!(1))).await);
    unused.absorb(&test::call_service(&app, post_with("/set/a", &unused, json!(2))).await);

    // A millisecond before the idle deadline, the session is live (and the read refreshes it).
    clock.set(start + (IDLE - MILLI));
    let res = test::call_service(&app, get_with("/get/a", &used)).await;
    used.absorb(&res);
    assert_eq!(body_json(res).await, json!(1));

    // At the deadline, the unused one is gone. Its cookie is replayed, as an attacker would (a
    // browser drops it at its Max-Age): the read finds nothing and removes the cookie.
    clock.set(start + IDLE);
    let stale = unused.clone();
    let res = test::call_service(&app, get_with("/get/a", &stale)).await;
    unused.absorb(&res);
    assert!(unused.0.is_empty(), "the expired cookie was not removed");
    assert_eq!(
        body_json(res).await,
        Value::Null,
        "expired session readable"
    );

    // A write with it starts a new session that holds only the new value.
    let mut fresh = stale.clone();
    fresh.absorb(&test::call_service(&app, post_with("/set/b", &stale, json!(3))).await);
    assert_ne!(fresh.0, stale.0, "the expired session was written to");
    let res = test::call_service(&app, get_with("/get/a", &fresh)).await;
    assert_eq!(
        body_json(res).await,
        Value::Null,
        "the new session inherited data"
    );
    let res = test::call_service(&app, get_with("/get/b", &fresh)).await;
    assert_eq!(body_json(res).await, json!(3));

    // The session in use lives on.
    let res = test::call_service(&app, get_with("/get/a", &used)).await;
    assert_eq!(body_json(res).await, json!(1));
}

async fn a_session_in_constant_use_ends_at_its_absolute_deadline(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock).await;
    let start = clock.now();
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/set/n", &jar, json!(0))).await);

    // A read-modify-write every 10 minutes, and one a millisecond before the absolute deadline:
    // the idle deadline keeps moving, but never past the absolute one.
    let times = (1..12)
        .map(|k| start + MINUTE * (10 * k))
        .chain([start + (ABSOLUTE - MILLI)]);
    for (n, now) in (1..).zip(times) {
        clock.set(now);
        let res = test::call_service(&app, get_with("/incr", &jar)).await;
        jar.absorb(&res);
        assert_eq!(body_json(res).await, json!(n), "ended early");
    }
    assert_eq!(idle_deadline(&app, &jar).await, start + ABSOLUTE);

    clock.set(start + ABSOLUTE);
    let res = test::call_service(&app, get_with("/get/n", &jar)).await;
    assert_eq!(
        body_json(res).await,
        Value::Null,
        "outlived its absolute deadline"
    );
}

async fn the_cookie_max_age_is_the_time_left_until_the_session_expires(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock).await;
    let start = clock.now();
    let mut jar = Jar::default();
    let res = test::call_service(&app, post_with("/set/a", &jar, json!(1))).await;
    jar.absorb(&res);
    assert_eq!(max_age(&res), IDLE.as_secs() as i64);

    // Each refresh (every 20 minutes, a quarter second past the minute) sends the cookie again
    // for a full idle timeout, until the absolute deadline is closer: then for the time left
    // until it, in whole seconds rounded up (19 min 59.75 s is 1200 s).
    let quarter = Duration::from_millis(250);
    for k in 1..=5 {
        let now = start + MINUTE * (20 * k) + quarter;
        clock.set(now);
        let res = test::call_service(&app, get_with("/get/a", &jar)).await;
        jar.absorb(&res);
        let expires_at = (now + IDLE).min(start + ABSOLUTE);
        let left = now.duration_until(expires_at);
        let expected = if k < 5 { IDLE.as_secs() } else { 20 * 60 };
        assert_eq!(left.as_millis().div_ceil(1000), u128::from(expected));
        assert_eq!(max_age(&res), expected as i64, "refresh at {k} × 20 min");
        assert_eq!(idle_deadline(&app, &jar).await, expires_at);
    }
}
