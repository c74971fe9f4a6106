//! Fresh login: `set_user` records when the user authenticated, `RequireFreshLogin` refuses a
//! login older than its limit (a redirect for pages, `401` JSON for the API), and signing in
//! again makes it fresh. On a server store (memory) and the cookie store, on one test clock.
#![cfg(feature = "cookie")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{App, test, web};
use serde_json::json;
use session_actix::clock::{Clock as _, TestClock};
use session_actix::{IntoSessionBackend, RequireFreshLogin, Session, SessionMiddleware};

mod common;

use common::*;

const FRESH: Duration = Duration::from_secs(5 * 60);
const MILLI: Duration = Duration::from_millis(1);

on_each_backend!(
    a_login_older_than_the_limit_is_sent_to_reauthenticate,
    signing_in_again_makes_the_login_fresh,
    a_visitor_without_a_login_is_refused,
);

/// `/login/{user}` signs in; `/auth_at` answers the authentication time; `/account/*` and
/// `/api/*` sit behind the guard.
async fn app(
    store: impl IntoSessionBackend,
    clock: &TestClock,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    let guard = || RequireFreshLogin::within(FRESH).reauthenticate_at("/reauth");
    let middleware = SessionMiddleware::builder(store)
        .clock(clock.shared())
        .build();
    test::init_service(
        App::new()
            .wrap(middleware)
            .configure(routes)
            .route(
                "/login/{user}",
                web::post().to(|session: Session, user: web::Path<String>| async move {
                    session.set_user(user.into_inner()).await?;
                    Ok::<_, actix_web::Error>("signed in")
                }),
            )
            .route(
                "/auth_at",
                web::get().to(|session: Session| async move {
                    let at = session.authenticated_at().await?;
                    Ok::<_, actix_web::Error>(web::Json(at.map(|at| at.as_unix_millis())))
                }),
            )
            .service(
                web::scope("/account")
                    .wrap(guard())
                    .route("/password", web::get().to(|| async { "sensitive" })),
            )
            .service(
                web::scope("/api")
                    .wrap(guard())
                    .route("/password", web::get().to(|| async { "sensitive" })),
            ),
    )
    .await
}

async fn call<S, B>(app: &S, uri: &str, jar: &Jar) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    test::call_service(app, get_with(uri, jar)).await
}

async fn a_login_older_than_the_limit_is_sent_to_reauthenticate(
    store: impl IntoSessionBackend,
    clock: TestClock,
) {
    let app = app(store, &clock).await;
    let mut jar = Jar::default();
    let signed_in = clock.now();
    jar.absorb(&test::call_service(&app, post_with("/login/ada", &jar, json!(null))).await);
    let at = body_json(call(&app, "/auth_at", &jar).await).await;
    assert_eq!(at, json!(signed_in.as_unix_millis()));

    clock.set(signed_in + (FRESH - MILLI));
    let res = call(&app, "/account/password", &jar).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, "sensitive");
    assert_eq!(
        call(&app, "/api/password", &jar).await.status(),
        StatusCode::OK
    );

    clock.set(signed_in + FRESH);
    let res = call(&app, "/account/password?tab=2", &jar).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/reauth?next=%2Faccount%2Fpassword%3Ftab%3D2"
    );
    let res = call(&app, "/api/password", &jar).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(res).await,
        json!({ "error": "reauthentication_required" })
    );
    // Still signed in: the guard refuses the action, not the session.
    let res = call(&app, "/get/missing", &jar).await;
    assert_eq!(res.status(), StatusCode::OK);
    let at = body_json(call(&app, "/auth_at", &jar).await).await;
    assert_eq!(at, json!(signed_in.as_unix_millis()));
}

async fn signing_in_again_makes_the_login_fresh(store: impl IntoSessionBackend, clock: TestClock) {
    let app = app(store, &clock).await;
    let mut jar = Jar::default();
    jar.absorb(&test::call_service(&app, post_with("/login/ada", &jar, json!(null))).await);
    clock.advance(FRESH * 2);
    let stale = call(&app, "/account/password", &jar).await;
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);

    let again = clock.now();
    let before = jar.clone();
    jar.absorb(&test::call_service(&app, post_with("/login/ada", &jar, json!(null))).await);
    assert_ne!(jar.0, before.0, "a new cookie");
    let at = body_json(call(&app, "/auth_at", &jar).await).await;
    assert_eq!(at, json!(again.as_unix_millis()));
    let res = call(&app, "/account/password", &jar).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_visitor_without_a_login_is_refused(store: impl IntoSessionBackend, clock: TestClock) {
    let app = app(store, &clock).await;
    let mut jar = Jar::default();
    let res = call(&app, "/account/password", &jar).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get(header::LOCATION).unwrap(),
        "/reauth?next=%2Faccount%2Fpassword"
    );
    // A session without a user is no login either.
    jar.absorb(&test::call_service(&app, post_with("/set/a", &jar, json!(1))).await);
    assert_eq!(
        body_json(call(&app, "/auth_at", &jar).await).await,
        json!(null)
    );
    let res = call(&app, "/api/password", &jar).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
