//! Counters and the latency histogram a sequence of requests produces, through a recorder
//! installed for this test binary alone (a recorder is process-wide); no label holds an ID.
#![cfg(all(feature = "memory", feature = "redis", feature = "metrics"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use actix_web::http::StatusCode;
use actix_web::test;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use session_actix::SessionMiddleware;
use session_actix::store::RedisStore;
use session_core::SessionId;
use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

#[actix_web::test]
async fn requests_are_counted_by_kind_reason_and_store_call() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let store = FailingStore::new(MemoryStore::default());
    let mut secrets = Vec::new();
    sequence(store, &mut secrets).await;
    // A snapshot hands out what was counted since the previous one.
    let memory = counted(&snapshotter, &secrets);
    let count = |counters: &[(String, u64)], name: &str| {
        counters
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    };
    assert_eq!(count(&memory, "sessions_created_total{}"), 3, "{memory:?}");
    assert_eq!(count(&memory, "session_events_total{kind=created}"), 3);
    assert_eq!(count(&memory, "session_events_total{kind=loaded}"), 1);
    assert_eq!(count(&memory, "session_events_total{kind=store_error}"), 1);
    assert_eq!(
        count(&memory, "session_cookies_refused_total{reason=undecodable}"),
        1
    );
    assert_eq!(
        count(&memory, "session_cookies_refused_total{reason=unknown}"),
        1
    );
    assert_eq!(count(&memory, "session_events_total{kind=revoked}"), 1);

    let redis = RedisStore::connect("redis://127.0.0.1:6379")
        .await
        .expect("Redis must be reachable (scripts/services.sh starts it)")
        .with_key_prefix(format!(
            "test:{}:",
            &SessionId::generate().storage_key().to_hex()[..16]
        ));
    sequence(FailingStore::new(redis), &mut secrets).await;
    let redis = counted(&snapshotter, &secrets);
    for (counters, store) in [(&memory, "memory"), (&redis, "redis")] {
        let calls = |op: &str, outcome: &str| {
            count(
                counters,
                &format!("session_store_calls_total{{op={op},outcome={outcome},store={store}}}"),
            )
        };
        assert_eq!(calls("create", "ok"), 3, "{counters:?}");
        assert_eq!(calls("revoke", "ok"), 1, "{counters:?}");
        assert_eq!(calls("load", "ok"), 2, "{counters:?}");
        assert_eq!(calls("load", "error"), 1, "{counters:?}");
        let samples = format!("session_store_call_seconds{{op=load,store={store}}}");
        assert_eq!(count(counters, &samples), 3, "one latency sample per call");
    }
}

/// A new session, a read, a malformed and an unknown cookie, two sign-ins of one user and the
/// revocation of both, then a read during an outage.
async fn sequence<S>(store: FailingStore<S>, secrets: &mut Vec<String>)
where
    S: session_actix::UserSessionStore + Clone + 'static,
{
    let app = account_app(store.clone(), SessionMiddleware::new(store.clone())).await;
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    secrets.push(id.clone());
    test::call_service(&app, get("/get/a", Some(&id))).await;
    test::call_service(&app, get("/get/a", Some("not-an-id"))).await;
    let unknown = SessionId::generate().expose_secret().to_owned();
    secrets.push(unknown.clone());
    test::call_service(&app, get("/get/a", Some(&unknown))).await;
    for _ in 0..2 {
        secrets.push(sid(&test::call_service(
            &app,
            post("/login", None, json!(null)),
        )
        .await));
    }
    let res = test::call_service(&app, post("/revoke-user/ada", None, json!(null))).await;
    assert_eq!(test::read_body(res).await, "2");
    store.set_failing(true);
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// Every counter as `name{label=value,…}` with its count (a histogram: its number of samples),
/// after checking that no name or label shows one of `secrets`.
fn counted(snapshotter: &Snapshotter, secrets: &[String]) -> Vec<(String, u64)> {
    let mut counters = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        for secret in secrets {
            assert!(
                !name.contains(secret.as_str()),
                "a metric shows an ID: {name}"
            );
        }
        match value {
            DebugValue::Counter(n) => counters.push((name, n)),
            DebugValue::Histogram(samples) => counters.push((name, samples.len() as u64)),
            DebugValue::Gauge(_) => {}
        }
    }
    counters
}
