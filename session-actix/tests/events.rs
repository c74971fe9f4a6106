//! Session lifecycle events through the memory store (with a failing double for the outage);
//! the same sequence runs on Redis in `tests/redis.rs`.
#![cfg(feature = "memory")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use store_acceptance::doubles::FailingStore;
use store_memory::MemoryStore;

mod common;

use common::*;

#[actix_web::test]
async fn a_session_life_and_an_outage_are_events_that_never_show_an_id() {
    let store = FailingStore::new(MemoryStore::default());
    let switch = store.clone();
    assert_events_of_a_session_life(store, move |failing| switch.set_failing(failing)).await;
}

/// A sealed cookie refused, and why: tampered, not a sealed value, a chunk missing, expired.
#[cfg(feature = "cookie")]
#[actix_web::test]
async fn a_refused_sealed_cookie_says_why() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::json;
    use session_actix::clock::TestClock;
    use session_actix::{EventKind, Refusal, SessionEvent, SessionMiddleware};

    let clock = TestClock::starting_now();
    let seen: Arc<Mutex<Vec<SessionEvent>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let store = roomy_cookie_store();
    let app = app!(
        SessionMiddleware::builder(store)
            .idle_timeout(Duration::from_secs(60))
            .clock(clock.shared())
            .on_event(move |event| sink.lock().unwrap().push(event.clone()))
            .build()
    );
    let refusals = || -> Vec<EventKind> {
        std::mem::take(&mut *seen.lock().unwrap())
            .into_iter()
            .map(|event| event.kind)
            .filter(|kind| matches!(kind, EventKind::Refused(_)))
            .collect()
    };
    let mut jar = Jar::default();
    jar.absorb(&actix_web::test::call_service(&app, post_with("/set/a", &jar, json!(1))).await);
    let sealed = jar.0["__sid"].clone();
    refusals();

    // A character in the middle of the payload: all six of its bits are data, so the value still
    // decodes and only authentication fails (the last one may hold padding bits, which the
    // decoder refuses: undecodable).
    let mut tampered = sealed.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (value, why) in [
        (tampered.as_str(), Refusal::Tampered),
        ("v1.k.!!!", Refusal::Undecodable),
        ("v1.other-key.AAAA", Refusal::Tampered),
        ("garbage", Refusal::Undecodable),
    ] {
        actix_web::test::call_service(&app, get("/get/a", Some(value))).await;
        assert_eq!(refusals(), [EventKind::Refused(why)], "{value:.20}");
    }

    let mut big = Jar::default();
    big.absorb(
        &actix_web::test::call_service(&app, post_with("/set/a", &big, json!("x".repeat(6000))))
            .await,
    );
    big.0.remove("__sid.1");
    refusals();
    actix_web::test::call_service(&app, get_with("/get/a", &big)).await;
    assert_eq!(
        refusals(),
        [EventKind::Refused(Refusal::Undecodable)],
        "a chunk missing"
    );

    clock.advance(Duration::from_secs(61));
    actix_web::test::call_service(&app, get_with("/get/a", &jar)).await;
    assert_eq!(refusals(), [EventKind::Refused(Refusal::Expired)]);
}
