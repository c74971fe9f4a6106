//! The middleware over real Redis: concurrent delta writes, and an outage that answers `503`
//! and heals without restarting the app.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test;
use serde_json::json;
use session_actix::SessionMiddleware;
use session_actix::store::RedisStore;
use session_core::{SessionId, SessionStore};

mod common;

use common::*;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn shared_redis() -> RedisStore {
    let prefix = format!(
        "test:{}:",
        &SessionId::generate().storage_key().to_hex()[..16]
    );
    RedisStore::connect(&redis_url())
        .await
        .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
        .with_key_prefix(prefix)
}

#[actix_web::test]
async fn concurrent_requests_changing_different_keys_both_survive_in_redis() {
    let store = shared_redis().await;
    let app = app!(SessionMiddleware::new(store.clone()));
    assert_concurrent_writes_both_survive(&app, &store).await;
}

/// A `redis-server` this test owns, on its own port, so it can be stopped and started.
struct OwnedRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnedRedis {
    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "owned redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[actix_web::test]
async fn redis_outage_gives_503_and_recovers_without_restart() {
    let mut redis = OwnedRedis::start();
    let store = RedisStore::connect(&format!("redis://127.0.0.1:{}", redis.port))
        .await
        .unwrap();
    assert_outage_answers_503_and_recovers(store, &mut redis).await;
}

/// As in a server: the store connects on the main thread's runtime and serves requests on a
/// worker thread's runtime, over that worker's own connection, which must heal by itself too.
// `test` here is actix-web's module: the plain test attribute by its full path.
#[core::prelude::v1::test]
fn redis_outage_on_a_worker_thread_gives_503_and_recovers_without_restart() {
    let mut redis = OwnedRedis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = main.block_on(RedisStore::connect(&url)).unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let raw = redis::Client::open(url).unwrap();
            let mut raw = raw.get_multiplexed_async_connection().await.unwrap();
            store.delete(&SessionId::generate()).await.unwrap();
            let clients: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut raw)
                .await
                .unwrap();
            assert_eq!(
                clients.lines().count(),
                3,
                "the store's shared connection, this worker's own, and this test's: {clients}"
            );
            drop(raw);
            assert_outage_answers_503_and_recovers(store, &mut redis).await;
        });
    })
    .join()
    .unwrap();
    drop(main);
}

async fn assert_outage_answers_503_and_recovers(store: RedisStore, redis: &mut OwnedRedis) {
    let app = app!(SessionMiddleware::new(store));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    assert_eq!(
        body_json(test::call_service(&app, get("/get/a", Some(&id))).await).await,
        json!(1)
    );

    redis.stop();
    assert_outage_answers_503(&app, &id).await;
    // A handler that ignores the session does not notice the outage.
    assert_eq!(
        test::call_service(&app, get("/plain", Some(&id)))
            .await
            .status(),
        StatusCode::OK
    );

    let port = redis.port;
    let _restarted = OwnedRedis::start_on(port);
    // The connection manager reconnects on its own; allow it a few attempts.
    let deadline = Instant::now() + Duration::from_secs(20);
    let fresh = loop {
        let res = test::call_service(&app, post("/set/a", None, json!(7))).await;
        if res.status() == StatusCode::OK {
            break sid(&res);
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            Instant::now() < deadline,
            "the app did not recover after Redis came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        body_json(test::call_service(&app, get("/get/a", Some(&fresh))).await).await,
        json!(7)
    );
}

#[actix_web::test]
async fn login_security_works_through_redis() {
    assert_login_security_works(shared_redis().await).await;
}

#[actix_web::test]
async fn a_session_life_and_an_outage_are_events_in_redis() {
    let mut redis = OwnedRedis::start();
    let port = redis.port;
    let store = RedisStore::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_events_of_a_session_life(store, move |down| {
        if down {
            redis.stop();
        } else {
            redis = OwnedRedis::start_on(port);
        }
    })
    .await;
}
