//! The middleware over real PostgreSQL: concurrent delta writes, and a database that becomes
//! unreachable (through a TCP proxy the test controls) answers `503` and heals without
//! restarting the app.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test;
use serde_json::json;
use session_actix::SessionMiddleware;
use session_actix::store::PostgresStore;
use session_core::SessionId;
use sqlx::postgres::PgConnectOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mod common;

use common::*;

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned())
}

fn random_schema() -> String {
    format!(
        "session_test_{}",
        &SessionId::generate().storage_key().to_hex()[..16]
    )
}

async fn migrated(url: &str) -> PostgresStore {
    let store = PostgresStore::connect(url)
        .await
        .expect("PostgreSQL at DATABASE_URL must be reachable (scripts/services.sh starts it)")
        .with_table(&random_schema(), "sessions")
        .unwrap();
    store.migrate().await.unwrap();
    store
}

#[actix_web::test]
async fn concurrent_requests_changing_different_keys_both_survive_in_postgres() {
    let store = migrated(&database_url()).await;
    let app = app!(SessionMiddleware::new(store.clone()));
    assert_concurrent_writes_both_survive(&app, &store).await;
}

/// A statement stuck behind a lock (a migration holding the table) answers `503` once the
/// store's statement timeout passes, and the next request after the lock is gone is served.
#[actix_web::test]
async fn a_request_blocked_on_a_lock_answers_503_and_the_next_one_is_served() {
    let schema = random_schema();
    let store = PostgresStore::connect(&database_url())
        .await
        .unwrap()
        .with_table(&schema, "sessions")
        .unwrap()
        .with_statement_timeout(Duration::from_millis(300));
    store.migrate().await.unwrap();
    let app = app!(SessionMiddleware::new(store));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);

    let locker = sqlx::PgPool::connect(&database_url()).await.unwrap();
    let mut tx = locker.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE \"{schema}\".sessions IN ACCESS EXCLUSIVE MODE"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    let started = Instant::now();
    let res = actix_web::rt::time::timeout(
        Duration::from_secs(5),
        test::call_service(&app, get("/get/a", Some(&id))),
    )
    .await
    .expect("the request hung on the lock");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    tx.rollback().await.unwrap();
    let res = test::call_service(&app, get("/get/a", Some(&id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_json(res).await, json!(1));
}

/// A TCP proxy to PostgreSQL on a port of its own. `cut` closes the listener and every
/// connection through it, as a network partition or a database restart would.
struct Proxy {
    port: u16,
    upstream: (String, u16),
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: (String, u16)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = Arc::clone(&self.tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

#[actix_web::test]
async fn database_outage_gives_503_and_recovers_without_restart() {
    let options = PgConnectOptions::from_str(&database_url()).unwrap();
    let proxy = Proxy::start((options.get_host().to_owned(), options.get_port())).await;
    let url = format!(
        "postgres://{}@127.0.0.1:{}/{}",
        options.get_username(),
        proxy.port,
        options.get_database().unwrap_or("test")
    );
    let store = migrated(&url).await;
    let app = app!(SessionMiddleware::new(store));
    let id = sid(&test::call_service(&app, post("/set/a", None, json!(1))).await);
    assert_eq!(
        body_json(test::call_service(&app, get("/get/a", Some(&id))).await).await,
        json!(1)
    );

    proxy.cut();
    assert_outage_answers_503(&app, &id).await;

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = test::call_service(&app, get("/get/a", Some(&id))).await;
        if res.status() == StatusCode::OK {
            // The data written before the outage is still there: nothing was lost.
            assert_eq!(body_json(res).await, json!(1));
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            Instant::now() < deadline,
            "the app did not recover after the database came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let res = test::call_service(&app, post("/set/b", Some(&id), json!(2))).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn login_security_works_through_postgres() {
    assert_login_security_works(migrated(&database_url()).await).await;
}
