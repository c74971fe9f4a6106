//! Sign out everywhere, across app instances: two instances share Redis (and two share
//! PostgreSQL), each with its own connection; after `revoke_all` every revoked cookie finds no
//! session in either instance.
#![cfg(all(feature = "redis", feature = "postgres"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, test, web};
use serde_json::{Value, json};
use session_actix::store::{PostgresStore, RedisStore};
use session_actix::{Session, SessionMiddleware, UserSessionStore};
use session_core::SessionId;

mod common;

use common::*;

fn user_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/login/{user}",
        web::post().to(|session: Session, user: web::Path<String>| async move {
            session.set_user(user.into_inner()).await?;
            session
                .set_client_info(json!({ "user_agent": "test" }))
                .await?;
            Ok::<_, actix_web::Error>("signed in")
        }),
    )
    .route(
        "/whoami",
        web::get().to(|session: Session| async move {
            Ok::<_, actix_web::Error>(web::Json(session.user().await?))
        }),
    );
}

async fn login<S, B>(app: &S, user: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    sid(&test::call_service(
        app,
        test::TestRequest::post()
            .uri(&format!("/login/{user}"))
            .to_request(),
    )
    .await)
}

async fn whoami<S, B>(app: &S, id: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::get()
        .uri("/whoami")
        .insert_header((header::COOKIE, format!("__sid={id}")));
    body_json(test::call_service(app, req.to_request()).await).await
}

/// Asserts that none of the session cookies `ids` works on either instance any more.
async fn assert_revoked<S, B>(app_a: &S, app_b: &S, ids: &[String])
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    for id in ids {
        assert_eq!(
            whoami(app_a, id).await,
            Value::Null,
            "a revoked cookie still works on A"
        );
        assert_eq!(
            whoami(app_b, id).await,
            Value::Null,
            "a revoked cookie still works on B"
        );
    }
}

macro_rules! instance {
    ($store:expr) => {
        test::init_service(
            App::new()
                .wrap(SessionMiddleware::new($store))
                .configure(user_routes),
        )
        .await
    };
}

/// Signs one user in on both instances, revokes all but one session through `admin`, then all,
/// and checks every cookie on both instances.
async fn revocation_reaches_every_instance<U: UserSessionStore + Clone>(a: U, b: U, admin: U) {
    let user = format!("ada-{}", &SessionId::generate().storage_key().to_hex()[..8]);
    let app_a = instance!(a);
    let app_b = instance!(b);
    let mut ids = vec![
        login(&app_a, &user).await,
        login(&app_a, &user).await,
        login(&app_b, &user).await,
    ];
    let other = login(&app_b, "grace").await;
    for id in &ids {
        assert_eq!(whoami(&app_a, id).await, json!(user));
        assert_eq!(whoami(&app_b, id).await, json!(user));
    }
    assert_eq!(admin.sessions_of(&user).await.unwrap().len(), 3);

    // "Sign out everywhere else" from the last session.
    let keep = session_core::SessionHandle::of(&SessionId::parse(&ids[2]).unwrap());
    assert_eq!(admin.revoke_all_except(&user, &keep).await.unwrap(), 2);
    assert_revoked(&app_a, &app_b, &ids[..2]).await;
    assert_eq!(whoami(&app_a, &ids[2]).await, json!(user));

    ids.push(login(&app_b, &user).await);
    assert_eq!(admin.revoke_all(&user).await.unwrap(), 2);
    assert_revoked(&app_a, &app_b, &ids).await;
    assert_eq!(
        whoami(&app_a, &other).await,
        json!("grace"),
        "another user was signed out"
    );
}

#[actix_web::test]
async fn revoke_all_reaches_every_instance_sharing_redis() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!(
        "test:{}:",
        &SessionId::generate().storage_key().to_hex()[..16]
    );
    let connect = || async {
        RedisStore::connect(&url)
            .await
            .expect("Redis must be reachable")
            .with_key_prefix(prefix.clone())
    };
    revocation_reaches_every_instance(connect().await, connect().await, connect().await).await;
}

#[actix_web::test]
async fn revoke_all_reaches_every_instance_sharing_postgres() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned());
    let schema = format!(
        "session_test_{}",
        &SessionId::generate().storage_key().to_hex()[..16]
    );
    let connect = || async {
        let store = PostgresStore::connect(&url)
            .await
            .expect("PostgreSQL must be reachable")
            .with_table(&schema, "sessions")
            .unwrap();
        store.migrate().await.unwrap();
        store
    };
    revocation_reaches_every_instance(connect().await, connect().await, connect().await).await;
}

/// A browser whose cookie names a session the store no longer holds (expired, purged, revoked
/// before this request began) signs in like a new visitor: the sign-in stands.
#[actix_web::test]
async fn signing_in_with_a_stale_cookie_binds_the_user() {
    let store = session_actix::store::MemoryStore::default();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store.clone()))
            .configure(user_routes),
    )
    .await;
    let stale = SessionId::generate();
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/login/ada")
            .insert_header((header::COOKIE, format!("__sid={}", stale.expose_secret())))
            .to_request(),
    )
    .await;
    let id = sid(&res);
    assert_ne!(id, stale.expose_secret());
    assert_eq!(whoami(&app, &id).await, json!("ada"));
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
}
