//! Sessions written before the server starts, for `bench/scale.sh`: `BENCH_PRELOAD=<n>` makes
//! the server create `n` sessions through the store's own API (this workspace's stores and
//! actix-session's Redis store alike) before it binds its port. Each holds about 200 bytes of
//! data; a tenth are bound to a user (one user per ten sessions). `BENCH_PRELOAD_EXPIRED=1`
//! makes them expired an hour ago, for PostgreSQL's cleanup to delete.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use session_core::users::USER_KEY;
use session_core::{SessionData, SessionId, SessionRecord, SessionStore, Timestamp};

/// Writes in flight at once.
const CONCURRENCY: usize = 64;
/// How long a preloaded session lives (the bench server's default idle timeout is shorter
/// than a scale run needs, and the sessions only have to be there).
const LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What `BENCH_PRELOAD` and `BENCH_PRELOAD_EXPIRED` ask for: how many sessions, and whether
/// expired.
pub(crate) fn wanted() -> io::Result<Option<(usize, bool)>> {
    let Ok(count) = std::env::var("BENCH_PRELOAD") else {
        return Ok(None);
    };
    let count = count
        .parse()
        .map_err(|_| io::Error::other("BENCH_PRELOAD must be a number of sessions"))?;
    let expired = std::env::var("BENCH_PRELOAD_EXPIRED").is_ok_and(|value| value == "1");
    Ok(Some((count, expired)))
}

/// The data of preloaded session `n`: about 200 bytes of JSON, as key/value pairs.
fn data(n: usize) -> Vec<(String, Value)> {
    let mut data = vec![
        ("theme".to_owned(), json!("dark")),
        ("visits".to_owned(), json!(n % 1000)),
        ("csrf".to_owned(), json!(format!("{n:032x}"))),
        ("last_page".to_owned(), json!(format!("/products/{n}"))),
        (
            "cart".to_owned(),
            json!([n % 97, n % 89, n % 83, 1234, 5678]),
        ),
        ("locale".to_owned(), json!("en-GB")),
        ("tz".to_owned(), json!("Europe/London")),
        ("ref".to_owned(), json!("newsletter-2026-12")),
    ];
    if n.is_multiple_of(10) {
        data.push((USER_KEY.to_owned(), json!(format!("user-{}", n / 10))));
    }
    data
}

/// Creates `count` sessions in `store` through [`SessionStore::create`].
pub(crate) async fn ours(store: &dyn SessionStore, count: usize, expired: bool) -> io::Result<()> {
    let now = Timestamp::now();
    let (created, expires) = if expired {
        let ago = |by: Duration| {
            let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            Timestamp::from_unix_millis(now.as_unix_millis().saturating_sub(by))
        };
        (ago(2 * LIFETIME), ago(Duration::from_secs(3600)))
    } else {
        (now, now + LIFETIME)
    };
    futures_util::stream::iter(0..count)
        .map(|n| async move {
            let record =
                SessionRecord::new(SessionData::from_iter(data(n)), created, expires, expires);
            match store.create(&SessionId::generate(), &record).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(io::Error::other("a preloaded session's ID was taken")),
                Err(err) => Err(io::Error::other(err)),
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}

/// Saves `count` sessions through actix-session's `SessionStore::save`, which keeps each value
/// as a JSON string.
pub(crate) async fn actix(
    store: &impl actix_session::storage::SessionStore,
    count: usize,
) -> io::Result<()> {
    let ttl = actix_web::cookie::time::Duration::seconds(24 * 3600);
    futures_util::stream::iter(0..count)
        .map(|n| async move {
            let state: HashMap<String, String> = data(n)
                .into_iter()
                .map(|(key, value)| (key, value.to_string()))
                .collect();
            store
                .save(state, &ttl)
                .await
                .map(drop)
                .map_err(io::Error::other)
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}
