//! Session events through `tracing` under an `info` filter, in a test binary of its own:
//! `tracing` keeps its level filter process-wide, so a `debug` subscriber in another test of
//! the same binary would let this one pass whatever the code does.
#![cfg(all(feature = "memory", feature = "tracing"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;
use tracing_subscriber::fmt::MakeWriter;

mod common;

use common::*;

/// Where a test's subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// An operator's usual filter, `info`: sign-ins and revocations at `info` and store errors at
/// `warn` are logged, the per-request events at `debug` are not.
#[actix_web::test]
async fn at_info_sign_ins_revocations_and_store_errors_are_logged() {
    use actix_web::test;
    use serde_json::json;
    use session_actix::SessionMiddleware;

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let store = FailingStore::new(MemoryStore::default());
    let app = test::init_service(
        actix_web::App::new()
            .app_data(actix_web::web::Data::new(store.clone()))
            .wrap(SessionMiddleware::new(store.clone()))
            .configure(routes)
            .configure(account_routes::<FailingStore<MemoryStore>>),
    )
    .await;
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

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
