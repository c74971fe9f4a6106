//! What a session looks like in Redis: hashed key, one field per value, TTL capped by the
//! absolute expiry, and nothing that could be used as a cookie.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands as _;
use serde_json::json;
use session_core::Renewal;
use session_core::users::USER_KEY;
use session_core::{SessionData, SessionId, SessionRecord, SessionStore, StoreError, Timestamp};
use store_redis::RedisStore;

async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(common::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn raw_cluster() -> redis::cluster_async::ClusterConnection {
    redis::cluster::ClusterClient::new(common::cluster_urls())
        .unwrap()
        .get_async_connection()
        .await
        .expect("the Redis Cluster must be reachable (scripts/redis-cluster.sh starts it)")
}

#[tokio::test]
async fn keys_are_hashed_ids_and_hold_one_field_per_value() {
    let (store, prefix) = common::single_with_prefix().await;
    let id = SessionId::generate();
    let now = Timestamp::now();
    let data: SessionData = [
        ("user".to_owned(), json!("ada")),
        ("cart".to_owned(), json!([1, 2])),
    ]
    .into_iter()
    .collect();
    let record = SessionRecord::new(
        data,
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(30),
    );
    assert!(store.create(&id, &record).await.unwrap());

    let mut conn = raw().await;
    let keys: Vec<String> = conn.keys(format!("{prefix}*")).await.unwrap();
    assert_eq!(keys, vec![format!("{prefix}{}", id.storage_key().to_hex())]);
    assert!(!keys[0].contains(id.expose_secret()));

    let fields: HashMap<String, String> = conn.hgetall(&keys[0]).await.unwrap();
    assert_eq!(
        fields.len(),
        3,
        "no last-seen time until a write: {fields:?}"
    );
    assert_eq!(fields[".user"], "\"ada\"");
    assert_eq!(fields[".cart"], "[1,2]");
    // The format version, the creation, the absolute expiry and the idle deadline (capped by
    // the absolute one), recorded beside the TTL.
    assert_eq!(
        fields["@"],
        format!(
            "{}:{}:{}:{}",
            SessionRecord::FORMAT_VERSION,
            now.as_unix_millis(),
            record.absolute_expires_at.as_unix_millis(),
            record.expires_at.as_unix_millis()
        )
    );
    assert!(fields.values().all(|v| !v.contains(id.expose_secret())));

    // TTL is the effective expiry: the idle deadline (60 s) capped by the absolute one (30 s).
    let expiry: i64 = redis::cmd("PEXPIRETIME")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        u64::try_from(expiry).unwrap(),
        record.expires_at.as_unix_millis()
    );
}

#[tokio::test]
async fn a_refused_create_leaves_the_live_session_and_nothing_else() {
    let (store, prefix) = common::single_with_prefix().await;
    let id = SessionId::generate();
    let now = Timestamp::now();
    let record = |value: &str, secs: u64| {
        SessionRecord::new(
            [("owner".to_owned(), json!(value))].into_iter().collect(),
            now,
            now + Duration::from_secs(secs),
            now + Duration::from_secs(secs),
        )
    };
    assert!(store.create(&id, &record("first", 30)).await.unwrap());
    let mut second = record("second", 600);
    second.data.insert("extra".to_owned(), json!(1));
    assert!(!store.create(&id, &second).await.unwrap());

    let mut conn = raw().await;
    let keys: Vec<String> = conn.keys(format!("{prefix}*")).await.unwrap();
    assert_eq!(
        keys,
        vec![store.key_of(&id)],
        "the refused create leaves nothing of its own behind"
    );
    let fields: HashMap<String, String> = conn.hgetall(&keys[0]).await.unwrap();
    assert_eq!(fields[".owner"], "\"first\"");
    assert_eq!(
        fields.len(),
        2,
        "no field of the refused create stays: {fields:?}"
    );
    let ttl: i64 = conn.pttl(&keys[0]).await.unwrap();
    assert!(
        (25_000..=30_000).contains(&ttl),
        "the TTL is untouched: {ttl}"
    );
}

#[tokio::test]
async fn the_scripts_run_after_redis_forgot_them() {
    scripts_run_after_a_flush(common::single().await, raw().await).await;
}

#[tokio::test]
async fn the_scripts_run_after_the_cluster_forgot_them() {
    scripts_run_after_a_flush(common::cluster().await, raw_cluster().await).await;
}

/// `SCRIPT FLUSH` (or a restart) leaves Redis without the scripts; each must load its script
/// again and then do its work, not fail with `NOSCRIPT`. `conn` is a raw connection to the
/// same Redis as `store`.
async fn scripts_run_after_a_flush(store: RedisStore, mut conn: impl redis::aio::ConnectionLike) {
    let flush = || redis::cmd("SCRIPT").arg("FLUSH").to_owned();
    let now = Timestamp::now();
    let id = SessionId::generate();
    let record = SessionRecord::new(
        [("n".to_owned(), json!(1)), ("m".to_owned(), json!(2))]
            .into_iter()
            .collect(),
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(120),
    );

    let _: () = flush().query_async(&mut conn).await.unwrap();
    assert!(store.create(&id, &record).await.unwrap(), "create");
    assert_eq!(store.load(&id).await.unwrap().unwrap().data, record.data);

    let _: () = flush().query_async(&mut conn).await.unwrap();
    let mut clear = session_core::SessionDelta::default();
    clear.clear();
    clear.insert("m", json!(3));
    let deadline = now + Duration::from_secs(90);
    assert_eq!(
        store.update(&id, &clear, deadline).await.unwrap(),
        Some(deadline),
        "clear"
    );
    let cleared = store.load(&id).await.unwrap().unwrap();
    assert_eq!(
        cleared.data,
        [("m".to_owned(), json!(3))].into_iter().collect()
    );

    let _: () = flush().query_async(&mut conn).await.unwrap();
    let taken = store.take(&id).await.unwrap().expect("take");
    assert_eq!(taken.data, cleared.data);
    assert_eq!(store.load(&id).await.unwrap(), None);
}

#[tokio::test]
async fn corrupt_metadata_is_a_typed_error_not_a_panic() {
    let store = common::single().await;
    let id = SessionId::generate();
    let mut conn = raw().await;
    let _: () = conn.hset(store.key_of(&id), "@", "garbage").await.unwrap();
    let _: () = conn.expire(store.key_of(&id), 60).await.unwrap();
    assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
    let mut delta = session_core::SessionDelta::default();
    delta.insert("a", json!(1));
    assert!(matches!(
        store
            .update_keeping_deadline(&id, &delta, Timestamp::now())
            .await,
        Err(StoreError::Corrupt(_))
    ));
    // The update script refuses it too, as an error of its own.
    assert!(
        store
            .update(&id, &delta, Timestamp::now() + Duration::from_secs(5))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn unreachable_redis_fails_at_connect() {
    // Port 1 on loopback: nothing listens there.
    assert!(RedisStore::connect("redis://127.0.0.1:1").await.is_err());
    assert!(RedisStore::connect("not a url").await.is_err());
}

#[tokio::test]
async fn debug_shows_no_address() {
    let store = common::single().await;
    let debug = format!("{store:?}");
    assert!(debug.contains("single node"), "{debug}");
    assert!(!debug.contains("6379"), "{debug}");
}

#[tokio::test]
async fn the_user_index_is_trimmed_and_keyed_by_absolute_expiry() {
    use session_core::{CookieAction, ExpiryPolicy, SessionState, UserSessionStore as _};
    let (store, prefix) = common::single_with_prefix().await;
    let policy = ExpiryPolicy::new(Duration::from_secs(60), Duration::from_secs(120));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut state = SessionState::new(None);
        state.set_user("ada");
        let CookieAction::Set { id, .. } = state.commit(&store, &policy).await.unwrap() else {
            panic!("sign-in sets a cookie");
        };
        ids.push(id);
    }
    let mut conn = raw().await;
    let index: Vec<String> = conn.keys(format!("{prefix}user:*")).await.unwrap();
    assert_eq!(index.len(), 1, "one index per user: {index:?}");
    let scores: Vec<(String, f64)> = conn.zrange_withscores(&index[0], 0, -1).await.unwrap();
    assert_eq!(scores.len(), 3);
    let absolute = store
        .load(&ids[0])
        .await
        .unwrap()
        .unwrap()
        .absolute_expires_at;
    assert!(
        scores
            .iter()
            .any(|(_, s)| (*s as u64) == absolute.as_unix_millis())
    );
    // A key that holds another user's session leaves the index at the next listing.
    let mut rebind = session_core::SessionDelta::default();
    rebind.insert(USER_KEY, json!("grace"));
    let far = Timestamp::now() + Duration::from_secs(60);
    assert!(store.update(&ids[0], &rebind, far).await.unwrap().is_some());
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 2);
    let left: i64 = conn.zcard(&index[0]).await.unwrap();
    assert_eq!(
        left, 2,
        "the entry of another user's session was not trimmed"
    );
    // A missing key is not listed, but its entry stays: its create may be in flight, and
    // revocation must find the session once it exists.
    let _: () = conn.del(store.key_of(&ids[1])).await.unwrap();
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
    let left: i64 = conn.zcard(&index[0]).await.unwrap();
    assert_eq!(left, 2, "the entry of a missing key was dropped");
}

#[tokio::test]
async fn updates_cap_the_ttl_and_leave_nothing_behind_for_a_missing_session() {
    let store = common::single().await;
    let mut conn = raw().await;
    let now = Timestamp::now();
    let record = SessionRecord::new(
        SessionData::new(),
        now,
        now + Duration::from_secs(10),
        now + Duration::from_secs(30),
    );
    let id = SessionId::generate();
    assert!(store.create(&id, &record).await.unwrap());
    let mut delta = session_core::SessionDelta::default();
    delta.insert("a", json!(1));

    // Within the absolute deadline: the TTL is the idle deadline.
    let idle = Timestamp::now() + Duration::from_secs(20);
    assert_eq!(store.update(&id, &delta, idle).await.unwrap(), Some(idle));
    let ttl: i64 = conn.pttl(store.key_of(&id)).await.unwrap();
    assert!((15_000..=20_000).contains(&ttl), "ttl {ttl}");

    // Past it: capped at the absolute deadline, in Redis as in the answer.
    let late = Timestamp::now() + Duration::from_secs(3600);
    assert_eq!(
        store.update(&id, &delta, late).await.unwrap(),
        Some(record.absolute_expires_at)
    );
    let ttl: i64 = conn.pttl(store.key_of(&id)).await.unwrap();
    assert!((25_000..=30_000).contains(&ttl), "ttl {ttl}");
    assert_eq!(
        store.touch(&id, late).await.unwrap(),
        Some(record.absolute_expires_at)
    );

    // A missing session: no answer, and no hash of the written fields left in Redis.
    let missing = SessionId::generate();
    assert_eq!(store.update(&missing, &delta, idle).await.unwrap(), None);
    assert_eq!(store.touch(&missing, idle).await.unwrap(), None);
    let exists: bool = conn.exists(store.key_of(&missing)).await.unwrap();
    assert!(!exists, "update of a missing session left a key behind");
}

/// The user index lives as long as its longest-lived member: a shorter-lived session indexed
/// later must not take the index (and with it the older session's listing) down with it.
#[tokio::test]
async fn the_user_index_outlives_a_shorter_lived_session_indexed_later() {
    use session_core::UserSessionStore as _;
    let (store, prefix) = common::single_with_prefix().await;
    let user = "ada";
    let bound = |absolute: Duration| {
        let now = Timestamp::now();
        SessionRecord::new(
            [(session_core::users::USER_KEY.to_owned(), json!(user))]
                .into_iter()
                .collect(),
            now,
            now + absolute,
            now + absolute,
        )
    };
    let long = SessionId::generate();
    let long_record = bound(Duration::from_secs(60));
    assert!(store.create(&long, &long_record).await.unwrap());
    let short = SessionId::generate();
    let short_record = bound(Duration::from_secs(1));
    assert!(store.create(&short, &short_record).await.unwrap());
    let mut conn = raw().await;
    let index: Vec<String> = conn.keys(format!("{prefix}user:*")).await.unwrap();
    let index_expiry: i64 = redis::cmd("PEXPIRETIME")
        .arg(&index[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        u64::try_from(index_expiry).unwrap(),
        long_record.absolute_expires_at.as_unix_millis(),
        "the index expires with its longest-lived member"
    );

    // Redis expires keys on its own clock: only real time can cross the short deadline.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let listed = store.sessions_of(user).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.handle).collect::<Vec<_>>(),
        vec![session_core::SessionHandle::of(&long)],
        "the long-lived session left the listing with the short one"
    );
    assert_eq!(store.revoke_all(user).await.unwrap(), 1);
    assert!(
        store.load(&long).await.unwrap().is_none(),
        "revoke_all missed it"
    );
}

#[tokio::test]
async fn writes_never_move_the_idle_deadline_earlier() {
    deadlines_only_move_forward(common::single().await, raw().await).await;
}

#[tokio::test]
async fn writes_never_move_the_idle_deadline_earlier_on_the_cluster() {
    deadlines_only_move_forward(common::cluster().await, raw_cluster().await).await;
}

/// A request that loaded before another refreshed the session writes with the older, earlier
/// deadline: update, touch and clear all leave the later one, in the key's TTL as in what loads
/// and what the write answers; a deadline already past leaves a live session live. `conn` is a
/// raw connection to the same Redis as `store`.
async fn deadlines_only_move_forward(store: RedisStore, mut conn: impl redis::aio::ConnectionLike) {
    let now = Timestamp::now();
    let id = SessionId::generate();
    let record = SessionRecord::new(
        SessionData::new(),
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(3600),
    );
    assert!(store.create(&id, &record).await.unwrap());
    let later = now + Duration::from_secs(600);
    let earlier = now + Duration::from_secs(120);
    let past = Timestamp::from_unix_millis(now.as_unix_millis() - 1000);
    let mut delta = session_core::SessionDelta::default();
    delta.insert("a", json!(1));
    assert_eq!(store.update(&id, &delta, later).await.unwrap(), Some(later));

    let mut clear = session_core::SessionDelta::default();
    clear.clear();
    clear.insert("b", json!(2));
    for what in ["update", "touch", "clear", "update past", "touch past"] {
        let write = match what {
            "update" => store.update(&id, &delta, earlier).await,
            "touch" => store.touch(&id, earlier).await,
            "clear" => store.update(&id, &clear, earlier).await,
            "update past" => store.update(&id, &delta, past).await,
            _ => store.touch(&id, past).await,
        };
        assert_eq!(
            write.unwrap(),
            Some(later),
            "{what} answered another expiry"
        );
        let loaded = store.load(&id).await.unwrap();
        assert_eq!(
            loaded.map(|r| r.expires_at),
            Some(later),
            "{what} moved the loaded deadline"
        );
        let expiry: i64 = redis::cmd("PEXPIRETIME")
            .arg(store.key_of(&id))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            u64::try_from(expiry).ok(),
            Some(later.as_unix_millis()),
            "{what} moved the key's TTL"
        );
    }
    assert_eq!(
        store.load(&id).await.unwrap().unwrap().data,
        [("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))]
            .into_iter()
            .collect::<SessionData>(),
    );
}

#[tokio::test]
async fn an_undecodable_session_is_skipped_by_listing_and_still_revoked() {
    undecodable_sessions(common::single().await, raw().await).await;
}

#[tokio::test]
async fn an_undecodable_session_is_skipped_by_listing_and_still_revoked_on_the_cluster() {
    undecodable_sessions(common::cluster().await, raw_cluster().await).await;
}

/// A user with one good session and three that cannot be decoded (a value that is not JSON,
/// garbled metadata, a newer format): the listing skips those three and shows the good one;
/// `revoke_all` ends all four, since revoking needs no decoding. `conn` is a raw connection to
/// the same Redis as `store`.
async fn undecodable_sessions(store: RedisStore, mut conn: impl redis::aio::ConnectionLike) {
    use session_core::UserSessionStore as _;
    let user = "ada";
    let now = Timestamp::now();
    let record = SessionRecord::new(
        [(session_core::users::USER_KEY.to_owned(), json!(user))]
            .into_iter()
            .collect(),
        now,
        now + Duration::from_secs(60),
        now + Duration::from_secs(120),
    );
    let good = SessionId::generate();
    assert!(store.create(&good, &record).await.unwrap());
    let corruptions = [
        (".cart", "{not json".to_owned()),
        ("@", "garbage".to_owned()),
        ("@", format!("99:{}:{}", now.as_unix_millis(), u64::MAX)),
    ];
    let mut bad = Vec::new();
    for (field, value) in corruptions {
        let id = SessionId::generate();
        assert!(store.create(&id, &record).await.unwrap());
        let _: () = redis::cmd("HSET")
            .arg(store.key_of(&id))
            .arg(field)
            .arg(value)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(store.load(&id).await.is_err(), "{field} is not corrupt");
        bad.push(id);
    }

    let listed = store.sessions_of(user).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.handle).collect::<Vec<_>>(),
        vec![session_core::SessionHandle::of(&good)]
    );
    assert_eq!(store.revoke_all(user).await.unwrap(), 4);
    for id in bad.iter().chain([&good]) {
        let exists: bool = redis::cmd("EXISTS")
            .arg(store.key_of(id))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!exists, "revoke_all left a session's key behind");
    }
}

/// Replaces the hash under `store`'s key for `id` with `fields`, for a minute.
async fn write_hash(store: &RedisStore, id: &SessionId, fields: &[(&str, String)]) {
    let key = store.key_of(id);
    let mut pipe = redis::pipe();
    pipe.del(&key).ignore();
    for (field, value) in fields {
        pipe.hset(&key, *field, value).ignore();
    }
    pipe.expire(&key, 60).ignore();
    let () = pipe.query_async(&mut raw().await).await.unwrap();
}

#[tokio::test]
async fn metadata_is_version_created_absolute_idle_and_anything_else_is_corrupt() {
    let store = common::single().await;
    let id = SessionId::generate();
    let now = Timestamp::now();
    let meta = format!(
        "{}:{}:{}:{}",
        SessionRecord::FORMAT_VERSION,
        now.as_unix_millis(),
        (now + Duration::from_secs(120)).as_unix_millis(),
        (now + Duration::from_secs(60)).as_unix_millis()
    );
    write_hash(&store, &id, &[("@", meta)]).await;
    let record = store.load(&id).await.unwrap().unwrap();
    assert_eq!(record.created_at, now);
    assert_eq!(record.absolute_expires_at, now + Duration::from_secs(120));
    assert_eq!(record.expires_at, now + Duration::from_secs(60));
    let idle = (now + Duration::from_secs(60)).as_unix_millis();
    for bad in [
        String::new(),
        "1".to_owned(),
        "1:2:3".to_owned(),
        format!("1:2:{idle}:{idle}:5"),
        format!("2:1:{idle}:{idle}"),
        format!("1:x:{idle}:{idle}"),
        format!("1:1:-1:{idle}"),
        format!("1:1:{idle}:y"),
    ] {
        write_hash(&store, &id, &[("@", bad.clone())]).await;
        assert!(
            matches!(store.load(&id).await, Err(StoreError::Corrupt(_))),
            "{bad:?}"
        );
    }
    // Nor does a refresh move the deadline of a format this version cannot read.
    let other_version = format!("2:1:{idle}:{idle}");
    write_hash(&store, &id, &[("@", other_version.clone())]).await;
    assert!(
        store
            .touch(&id, now + Duration::from_secs(100))
            .await
            .is_err()
    );
    let at: String = raw().await.hget(store.key_of(&id), "@").await.unwrap();
    assert_eq!(at, other_version);
}

#[tokio::test]
async fn records_decode_from_fields_and_skip_foreign_ones() {
    use session_core::UserSessionStore as _;
    let store = common::single().await;
    let id = SessionId::generate();
    let now = Timestamp::now();
    let ms = |at: Timestamp| at.as_unix_millis().to_string();
    let created = Timestamp::from_unix_millis(now.as_unix_millis() - 500);
    let absolute = now + Duration::from_secs(90);
    let meta = |idle: Timestamp| format!("1:{}:{}:{}", ms(created), ms(absolute), ms(idle));
    let with_idle = |idle: Timestamp| {
        vec![
            ("@", meta(idle)),
            ("@seen", ms(created)),
            (".visits", "3".to_owned()),
            ("foreign", "x".to_owned()),
        ]
    };
    let idle = now + Duration::from_secs(5);
    write_hash(&store, &id, &with_idle(idle)).await;
    let record = store.load(&id).await.unwrap().unwrap();
    assert_eq!(record.data.len(), 1);
    assert_eq!(record.data["visits"], json!(3));
    assert_eq!(record.created_at, created);
    assert_eq!(record.expires_at, idle);

    // The idle deadline is capped by the absolute one.
    write_hash(&store, &id, &with_idle(now + Duration::from_secs(999))).await;
    let capped = store.load(&id).await.unwrap().unwrap();
    assert_eq!(capped.expires_at, absolute);
    write_hash(&store, &id, &with_idle(now)).await;
    assert!(store.load(&id).await.unwrap().is_none(), "expired");
    write_hash(&store, &id, &[("@", "moved:ab".to_owned())]).await;
    assert!(store.load(&id).await.unwrap().is_none(), "a marker");
    write_hash(&store, &id, &[("@", "revoked".to_owned())]).await;
    assert!(store.load(&id).await.unwrap().is_none(), "a tombstone");
    let corrupt = [
        vec![
            ("@", format!("1:{}:{}", ms(created), ms(absolute))),
            (".v", "1".to_owned()),
        ],
        vec![("@", meta(idle)), (".v", "{not json".to_owned())],
    ];
    for fields in corrupt {
        write_hash(&store, &id, &fields).await;
        assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
    }

    // A listing reads `@seen` too; a session not written since its create was last seen then.
    let user = SessionRecord::new(
        [(USER_KEY.to_owned(), json!("ada"))].into_iter().collect(),
        created,
        idle,
        absolute,
    );
    let listed_id = SessionId::generate();
    assert!(store.create(&listed_id, &user).await.unwrap());
    let seen = Timestamp::from_unix_millis(now.as_unix_millis() - 100);
    let mut conn = raw().await;
    let () = conn
        .hset(store.key_of(&listed_id), "@seen", ms(seen))
        .await
        .unwrap();
    let listed = store.sessions_of("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_seen, seen);
    let () = conn.hdel(store.key_of(&listed_id), "@seen").await.unwrap();
    let listed = store.sessions_of("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_seen, created);
}

#[tokio::test]
async fn a_revocation_after_a_renew_ends_the_new_id_through_the_marker() {
    for by_handle in [false, true] {
        revoked_after_a_renew(common::single().await, raw().await, by_handle).await;
    }
}

#[tokio::test]
async fn a_revocation_after_a_renew_ends_the_new_id_through_the_marker_on_the_cluster() {
    for by_handle in [false, true] {
        revoked_after_a_renew(common::cluster().await, raw_cluster().await, by_handle).await;
    }
}

/// Revoked after a complete renew, whose forwarding marker (a hash of the one field `@`,
/// `moved:` and the new key's hash, living at most a minute) is still on the old key: the new ID ends, and
/// the session counts once. `conn` is a raw connection to the same Redis as `store`.
async fn revoked_after_a_renew(
    store: RedisStore,
    mut conn: impl redis::aio::ConnectionLike,
    by_handle: bool,
) {
    use session_core::{SessionDelta, SessionHandle, UserSessionStore as _};
    let now = Timestamp::now();
    let created = Timestamp::from_unix_millis(now.as_unix_millis() - 10_000);
    let record = SessionRecord::new(
        [
            (USER_KEY.to_owned(), json!("ada")),
            ("cart".to_owned(), json!(1)),
        ]
        .into_iter()
        .collect(),
        created,
        now + Duration::from_secs(600),
        now + Duration::from_secs(3600),
    );
    let old = SessionId::generate();
    assert!(store.create(&old, &record).await.unwrap());
    let later = now + Duration::from_secs(900);
    let (new, _) = store
        .renew(&old, &SessionDelta::default(), Renewal::Extend(later))
        .await
        .unwrap()
        .expect("the session renews");
    assert!(store.load(&new).await.unwrap().is_some());
    let listed = store.sessions_of("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].created_at, created);
    assert!(listed[0].last_seen >= now, "a renew is a sighting");
    let (marker, ttl): (Vec<(String, String)>, i64) = redis::pipe()
        .hgetall(store.key_of(&old))
        .pttl(store.key_of(&old))
        .query_async(&mut conn)
        .await
        .unwrap();
    let new_hash = new.storage_key().to_hex();
    assert_eq!(marker, vec![("@".to_owned(), format!("moved:{new_hash}"))]);
    assert!(0 < ttl && ttl <= 60_000, "marker TTL {ttl}");
    if by_handle {
        assert!(store.revoke(&SessionHandle::of(&old)).await.unwrap());
    } else {
        assert_eq!(store.revoke_all("ada").await.unwrap(), 1);
    }
    for id in [&old, &new] {
        assert!(store.load(id).await.unwrap().is_none(), "an ID is live");
    }
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
}
