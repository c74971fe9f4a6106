//! Listing and revoking a user's sessions take several commands; each operation as a whole is
//! bounded by the store's timeout (2 s), like a single command. Found by the fault suite
//! (`scripts/faults.sh redis-slow`): behind a Redis slowed to 200 ms per packet, "sign out
//! everywhere" took 3.2 s, three commands in turn each within its own timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use serde_json::json;
use session_core::users::USER_KEY;
use session_core::{
    SessionData, SessionId, SessionRecord, SessionStore, StoreError, Timestamp, UserSessionStore,
};
use store_redis::RedisStore;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

mod common;

/// Each chunk this many ms late, each way: a command takes twice that, within the timeout, and
/// the three commands of a revocation together take longer than it.
const DELAY: Duration = Duration::from_millis(700);

/// A TCP proxy to Redis that delays every chunk by [`DELAY`]; returns its port.
async fn slow_proxy(target: (String, u16)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(target.clone()).await.unwrap();
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pipe(client_read, server_write));
            tokio::spawn(pipe(server_read, client_write));
        }
    });
    port
}

async fn pipe(mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf) {
    let mut buffer = vec![0; 65536];
    while let Ok(read) = from.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        tokio::time::sleep(DELAY).await;
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
}

#[tokio::test]
async fn revoking_all_of_a_users_sessions_behind_a_slow_redis_ends_within_the_timeout() {
    let url = common::redis_url();
    let target = url
        .trim_start_matches("redis://")
        .split_once(':')
        .map(|(host, port)| (host.to_owned(), port.trim_end_matches('/').parse().unwrap()))
        .expect("REDIS_URL is redis://host:port");
    let prefix = common::random_prefix();
    let direct = RedisStore::connect(&url)
        .await
        .unwrap()
        .with_key_prefix(prefix.clone());
    let now = Timestamp::now();
    let later = now + Duration::from_secs(3600);
    for _ in 0..3 {
        let data = SessionData::from_iter([(USER_KEY.to_owned(), json!("ada"))]);
        let record = SessionRecord::new(data, now, later, later);
        assert!(
            direct
                .create(&SessionId::generate(), &record)
                .await
                .unwrap()
        );
    }

    let port = slow_proxy(target).await;
    let slow = RedisStore::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap()
        .with_key_prefix(prefix);
    let started = Instant::now();
    let revoked = slow.revoke_all("ada").await;
    let took = started.elapsed();
    assert!(
        matches!(revoked, Err(StoreError::Unavailable(_))),
        "cut short as the store being unavailable, got {revoked:?}"
    );
    assert!(
        took < Duration::from_millis(2900),
        "bounded by the 2 s timeout, took {took:?}"
    );
    // Revoking again on a store that answers in time ends what the first one left.
    direct.revoke_all("ada").await.unwrap();
    assert!(direct.sessions_of("ada").await.unwrap().is_empty());
}
