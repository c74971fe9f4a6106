//! `SessionMiddlewareBuilder::store_deadline`: the store calls of one request together take at
//! most the budget; a call still running then fails as the store being unavailable (`503`).
//! Found by the fault suite: under a slow then unreachable Redis, a sign-in (a load, then a
//! renew, each bounded by the store's 2 s) took 3.8 s.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use actix_web::rt::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use serde_json::json;
use session_actix::{Session, SessionError, SessionMiddleware};
use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

/// On the paused clock: reached only if the deadline failed to end a request.
const HANG: Duration = Duration::from_secs(20);

#[actix_web::test]
async fn the_store_deadline_ends_a_request_whose_write_never_returns() {
    let store = FailingStore::new(MemoryStore::default());
    let app = app!(
        SessionMiddleware::builder(store.clone())
            .store_deadline(Duration::from_millis(200))
            .build()
    );
    let res = test::call_service(&app, post("/set/n", None, json!(1))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = sid(&res);

    // The runtime's clock, paused: it moves only to the next timer once every task waits, so
    // the deadline decides, not how long the machine takes.
    tokio::time::pause();
    store.set_stalling(true);
    let started = Instant::now();
    let stalled = test::call_service(&app, post("/set/n", Some(&id), json!(2)));
    let res = actix_web::rt::time::timeout(HANG, stalled)
        .await
        .expect("the deadline ends the request");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Tokio's timers fire on the next whole millisecond.
    let ended = started.elapsed();
    assert!(
        (Duration::from_millis(200)..=Duration::from_millis(201)).contains(&ended),
        "ended at the deadline, after {ended:?}"
    );

    store.set_stalling(false);
    let res = test::call_service(&app, get("/get/n", Some(&id))).await;
    assert_eq!(
        body_json(res).await,
        json!(1),
        "the write that was cut short never ran"
    );
}

#[actix_web::test]
async fn a_sign_in_within_the_store_deadline_is_unaffected() {
    let store = MemoryStore::default();
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store)
                    .store_deadline(Duration::from_secs(10))
                    .build(),
            )
            .configure(routes)
            .route(
                "/login",
                web::post().to(|session: Session| async move {
                    session.set_user("ada").await?;
                    Ok::<_, SessionError>("signed in")
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, post("/set/n", None, json!(1))).await;
    let id = sid(&res);
    // A load, then a renew: two store calls under one budget.
    let res = test::call_service(&app, post("/login", Some(&id), json!(null))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = sid(&res);
    assert_ne!(renewed, id, "signing in renews the ID");
    let res = test::call_service(&app, get("/get/n", Some(&renewed))).await;
    assert_eq!(body_json(res).await, json!(1));
}
