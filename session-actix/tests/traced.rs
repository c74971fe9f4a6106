//! Session events through `tracing`, in a test binary of its own: `tracing` keeps its level
//! filter process-wide, so tests running beside it would race it.
#![cfg(all(feature = "memory", feature = "tracing"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

/// The same life through `tracing`: spans around store calls and events at their levels, and
/// no ID or cookie value in any line.
#[actix_web::test]
async fn traced_lines_show_operations_and_kinds_but_never_an_id() {
    use actix_web::test;
    use serde_json::json;
    use session_actix::SessionMiddleware;

    let (captured, _guard) = capture_tracing(tracing::Level::DEBUG);

    let store = FailingStore::new(MemoryStore::default());
    let app = account_app(store.clone(), SessionMiddleware::new(store.clone())).await;
    let mut secrets = Vec::new();
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    secrets.push(id.clone());
    test::call_service(&app, get("/get/a", Some(&id))).await;
    let renewed = sid(&test::call_service(&app, post("/renew", Some(&id), json!(null))).await);
    secrets.push(renewed.clone());
    test::call_service(&app, get("/get/a", Some("not-an-id"))).await;
    for _ in 0..2 {
        secrets.push(sid(&test::call_service(
            &app,
            post("/login", None, json!(null)),
        )
        .await));
    }
    let last = secrets.last().unwrap();
    test::call_service(&app, post("/revoke-others", Some(last), json!(null))).await;
    store.set_failing(true);
    test::call_service(&app, get("/get/a", Some(&renewed))).await;
    test::call_service(&app, post("/set/b", Some(&renewed), json!(2))).await;

    // Under `tracing-actix-web`'s request span (its middleware outermost, as services wrap it):
    // the store call's span is its child.
    store.set_failing(false);
    let logged = test::init_service(
        actix_web::App::new()
            .wrap(SessionMiddleware::new(store.clone()))
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(routes),
    )
    .await;
    test::call_service(&logged, get("/get/a", Some(&renewed))).await;

    let text = captured.text();
    assert!(
        text.lines()
            .any(|line| line.contains("HTTP request{")
                && line.contains("}:session_store{op=\"load\"")),
        "no store span under the request span:\n{text}"
    );
    for expected in [
        "kind=\"created\"",
        "kind=\"loaded\"",
        "kind=\"renewed\"",
        "kind=\"refused\"",
        "reason=\"undecodable\"",
        "kind=\"store_error\"",
        "op=\"load\"",
        "op=\"revoke\"",
        "store=\"memory\"",
        "outcome=\"ok\"",
        "outcome=\"error\"",
        "session changes could not be saved",
    ] {
        assert!(text.contains(expected), "no {expected} in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("store_error")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("DEBUG") && l.contains("refused")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("INFO")
            && l.contains("kind=\"revoked\"")
            && l.contains("user=\"ada\"")),
        "{text}"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a traced line shows a session ID"
        );
    }
}
