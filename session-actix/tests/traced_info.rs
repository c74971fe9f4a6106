//! Session events through `tracing` under an `info` filter, in a test binary of its own:
//! `tracing` keeps its level filter process-wide, so a `debug` subscriber in another test of
//! the same binary would let this one pass whatever the code does.
#![cfg(all(feature = "memory", feature = "tracing"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

/// An operator's usual filter, `info`: sign-ins and revocations at `info` and store errors at
/// `warn` are logged, the per-request events at `debug` are not.
#[actix_web::test]
async fn at_info_sign_ins_revocations_and_store_errors_are_logged() {
    use actix_web::test;
    use serde_json::json;
    use session_actix::SessionMiddleware;

    let (captured, _guard) = capture_tracing(tracing::Level::INFO);

    let store = FailingStore::new(MemoryStore::default());
    let app = account_app(store.clone(), SessionMiddleware::new(store.clone())).await;
    let mut secrets = Vec::new();
    for _ in 0..2 {
        secrets.push(sid(&test::call_service(
            &app,
            post("/login", None, json!(null)),
        )
        .await));
    }
    test::call_service(&app, post("/revoke-others", Some(&secrets[1]), json!(null))).await;
    store.set_failing(true);
    test::call_service(&app, get("/get/a", Some(&secrets[1]))).await;

    let text = captured.text();
    let logged = |level: &str, kind: &str| {
        text.lines()
            .any(|l| l.contains(level) && l.contains(&format!("kind=\"{kind}\"")))
    };
    assert!(logged("INFO", "bound_to_user"), "{text}");
    assert!(logged("INFO", "revoked"), "{text}");
    assert!(logged("WARN", "store_error"), "{text}");
    assert!(!text.contains("DEBUG"), "{text}");
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a logged line shows a session ID"
        );
    }
}
