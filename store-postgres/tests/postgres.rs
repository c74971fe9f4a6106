//! PostgreSQL specifics: the schema and its migration, expiry cleanup, corrupt rows, statement
//! timeouts, U+0000 in stored strings, and revocations racing a renew.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use serde_json::json;
use session_core::Renewal;
use session_core::clock::{Clock as _, TestClock};
use session_core::users::{CLIENT_KEY, USER_KEY};
use session_core::{
    SessionData, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore, StoreError,
    Timestamp, UserSessionStore,
};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};
use store_postgres::PostgresStore;

const MINUTE: Duration = Duration::from_secs(60);

async fn pool() -> PgPool {
    PgPool::connect(&common::database_url())
        .await
        .expect("PostgreSQL must be reachable")
}

/// A migrated store in a fresh schema, and that schema.
async fn fresh() -> (PostgresStore, String) {
    let schema = common::random_schema();
    let store = common::store_in(&schema).await;
    store.migrate().await.unwrap();
    (store, schema)
}

/// A session created `now` holding `data`, expiring after `idle` unless used, and after
/// `absolute` in any case.
fn record_at(
    now: Timestamp,
    data: SessionData,
    idle: Duration,
    absolute: Duration,
) -> SessionRecord {
    SessionRecord::new(data, now, now + idle, now + absolute)
}

fn record(idle: Duration, absolute: Duration) -> SessionRecord {
    let data: SessionData = [("user".to_owned(), json!("ada"))].into_iter().collect();
    record_at(Timestamp::now(), data, idle, absolute)
}

/// Creates `record` under a fresh ID, which it returns.
async fn created(store: &PostgresStore, record: &SessionRecord) -> SessionId {
    let id = SessionId::generate();
    assert!(store.create(&id, record).await.unwrap());
    id
}

/// A session of user `ada`.
async fn session_of_ada(store: &PostgresStore) -> SessionId {
    let data: SessionData = [(USER_KEY.to_owned(), json!("ada"))].into_iter().collect();
    created(
        store,
        &record_at(Timestamp::now(), data, MINUTE, 10 * MINUTE),
    )
    .await
}

fn setting(key: &str, value: serde_json::Value) -> SessionDelta {
    let mut delta = SessionDelta::default();
    delta.insert(key, value);
    delta
}

/// The rows in `schema.sessions`.
async fn count(pool: &PgPool, schema: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{schema}\".sessions"
    )))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A transaction on `locker` holding the row of `id` in `schema.sessions`: a write waits for it.
async fn lock_row<'c>(
    locker: &'c PgPool,
    schema: &str,
    id: &SessionId,
) -> Transaction<'c, Postgres> {
    let mut tx = locker.begin().await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "SELECT 1 FROM \"{schema}\".sessions WHERE id_hash = $1 FOR UPDATE"
    )))
    .bind(id.storage_key().as_bytes().as_slice())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}

/// A transaction on `locker` holding `schema.sessions` as a migration would: even a read waits.
async fn lock_table<'c>(locker: &'c PgPool, schema: &str) -> Transaction<'c, Postgres> {
    let mut tx = locker.begin().await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "LOCK TABLE \"{schema}\".sessions IN ACCESS EXCLUSIVE MODE"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}

fn assert_unavailable<T: Debug>(result: Result<T, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_and_safe_to_run_concurrently() {
    let schema = common::random_schema();
    let store = common::store_in(&schema).await;
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.migrate().await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().expect("concurrent migrate must succeed");
    }
    store.migrate().await.expect("a second migrate is a no-op");
    let versions: Vec<i32> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT version FROM \"{schema}\".sessions_migrations ORDER BY version"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(versions, vec![1], "the schema version is recorded once");
    created(&store, &record(MINUTE, MINUTE)).await;
}

#[tokio::test]
async fn rows_are_keyed_by_the_hash_and_hold_no_usable_cookie() {
    let (store, schema) = fresh().await;
    let record = record(MINUTE, MINUTE / 2);
    let id = created(&store, &record).await;
    let dump: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT row_to_json(s)::text FROM \"{schema}\".sessions s"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(dump.len(), 1);
    assert!(!dump[0].contains(id.expose_secret()), "{}", dump[0]);
    let (hash, expires_ms, absolute_ms): (Vec<u8>, i64, i64) =
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id_hash, (extract(epoch FROM expires_at) * 1000)::int8, \
             (extract(epoch FROM absolute_expires_at) * 1000)::int8 FROM \"{schema}\".sessions"
        )))
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(hash, id.storage_key().as_bytes().to_vec());
    // The idle deadline (60 s) is capped by the absolute one (30 s), to the millisecond.
    assert_eq!(
        expires_ms,
        i64::try_from(record.absolute_expires_at.as_unix_millis()).unwrap()
    );
    assert_eq!(absolute_ms, expires_ms);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'sessions'",
    )
    .bind(&schema)
    .fetch_all(store.pool())
    .await
    .unwrap();
    for column in ["(expires_at)", "(user_id)", "(renewed_from)"] {
        assert!(indexes.iter().any(|d| d.contains(column)), "{indexes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_expired_rows_in_batches_and_keeps_live_ones() {
    let (store, schema) = fresh().await;
    // 2500 expired rows (more than two batches) and 10 live ones, written directly.
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO \"{schema}\".sessions (id_hash, data, format_version, created_at, last_seen, \
         expires_at, absolute_expires_at) SELECT sha256(g::text::bytea), '{{}}', 1, now(), now(), \
         now() - interval '1 minute', now() - interval '1 minute' FROM generate_series(1, 2500) g"
    )))
    .execute(store.pool())
    .await
    .unwrap();
    for _ in 0..10 {
        created(&store, &record(MINUTE, MINUTE)).await;
    }
    assert_eq!(store.delete_expired().await.unwrap(), 2500);
    assert_eq!(count(store.pool(), &schema).await, 10);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
}

/// A store on a test clock in a fresh schema, not migrated yet, and that schema. Expiry follows
/// the clock; only a cleanup task's own interval runs in real time.
async fn store_on(clock: &TestClock) -> (PostgresStore, String) {
    let schema = common::random_schema();
    let store = common::store_in(&schema).await.with_clock(clock.shared());
    (store, schema)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_task_runs_survives_errors_and_stops_when_told() {
    let clock = TestClock::starting_now();
    let (store, schema) = store_on(&clock).await;
    // The table does not exist yet: every sweep fails until it does.
    let task = store.spawn_cleanup(Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(200)).await;
    store.migrate().await.unwrap();
    created(&store, &record(MINUTE, MINUTE * 60)).await;
    clock.advance(MINUTE * 2);
    eventually("the cleanup task never deleted the expired row", || async {
        count(store.pool(), &schema).await == 0
    })
    .await;

    task.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    created(&store, &record(MINUTE, MINUTE * 600)).await;
    clock.advance(MINUTE * 2);
    // Long enough for several sweeps, had the task not stopped.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        count(store.pool(), &schema).await,
        1,
        "the task kept running after it was stopped"
    );
}

/// `let _ = store.spawn_cleanup(..)` is the natural thing to write: the task keeps cleaning
/// after its handle is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_keeps_running_when_its_handle_is_dropped_and_ends_with_the_pool() {
    let clock = TestClock::starting_now();
    let (store, schema) = store_on(&clock).await;
    store.migrate().await.unwrap();
    let _ = store.spawn_cleanup(Duration::from_millis(20));
    let record = record_at(clock.now(), SessionData::new(), MINUTE, 10 * MINUTE);
    created(&store, &record).await;
    clock.advance(MINUTE + Duration::from_millis(1));
    eventually(
        "the cleanup task stopped when its handle was dropped",
        || async { count(store.pool(), &schema).await == 0 },
    )
    .await;

    let watched = store.spawn_cleanup(Duration::from_millis(20));
    store.pool().close().await;
    eventually("the cleanup task outlived its pool", || async {
        watched.is_finished()
    })
    .await;
}

#[tokio::test]
async fn corrupt_rows_are_typed_errors() {
    let (store, schema) = fresh().await;
    let id = created(&store, &record(MINUTE, MINUTE)).await;
    for corruption in ["data = '[1,2]'", "data = '{}', format_version = 99"] {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE \"{schema}\".sessions SET {corruption}"
        )))
        .execute(store.pool())
        .await
        .unwrap();
        assert!(matches!(store.load(&id).await, Err(StoreError::Corrupt(_))));
    }
}

#[tokio::test]
async fn unreachable_database_fails_at_connect_and_debug_hides_the_url() {
    assert!(
        PostgresStore::connect("postgres://postgres@127.0.0.1:1/test")
            .await
            .is_err()
    );
    assert!(PostgresStore::connect("not a url").await.is_err());
    let store = PostgresStore::connect("postgres://postgres:hunter2@127.0.0.1/test")
        .await
        .unwrap();
    let debug = format!("{store:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("127.0.0.1"),
        "{debug}"
    );
}

#[tokio::test]
async fn migrate_needs_no_database_level_create_when_the_schema_exists() {
    use std::str::FromStr as _;
    let admin = pool().await;
    let schema = common::random_schema();
    let role = format!("{schema}_app");
    // An application role that may create tables in its schema, but not schemas.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE ROLE {role} LOGIN; CREATE SCHEMA {schema}; GRANT USAGE, CREATE ON SCHEMA {schema} TO {role};"
    )))
    .execute(&admin)
    .await
    .unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&common::database_url())
        .unwrap()
        .username(&role);
    let app_pool = sqlx::postgres::PgPoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    let store = PostgresStore::new(app_pool.clone())
        .with_table(&schema, "sessions")
        .unwrap();
    let migrated = store.migrate().await;
    let created = store
        .create(&SessionId::generate(), &record(MINUTE, MINUTE))
        .await;
    app_pool.close().await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP SCHEMA {schema} CASCADE; DROP OWNED BY {role}; DROP ROLE {role};"
    )))
    .execute(&admin)
    .await
    .unwrap();
    migrated.expect("migrate works for a role without CREATE on the database");
    assert!(created.unwrap());
}

/// JSON strings may hold U+0000, which `jsonb` and `text` refuse: a session holding one (a
/// client's form field, say) still saves, loads back unchanged, updates and is listed under its
/// user, and the row holds no U+0000.
#[tokio::test]
async fn values_keys_and_user_ids_with_nul_characters_round_trip() {
    let store = common::fresh_store().await;
    let user = "ada\0\u{E000}0";
    let mut data = SessionData::new();
    data.insert("q\0".to_owned(), json!(["a\0b", {"k\0": "\u{E000}"}]));
    data.insert(USER_KEY.to_owned(), json!(user));
    data.insert(CLIENT_KEY.to_owned(), json!({"agent": "x\0y"}));
    let now = Timestamp::now();
    let id = created(&store, &record_at(now, data.clone(), MINUTE, 10 * MINUTE)).await;
    assert_eq!(store.load(&id).await.unwrap().unwrap().data, data);

    let mut delta = setting("n\0", json!("\0"));
    delta.remove("q\0");
    let updated = store.update(&id, &delta, now + MINUTE).await.unwrap();
    assert!(updated.is_some());
    let loaded = store.load(&id).await.unwrap().unwrap().data;
    assert_eq!(loaded.get("q\0"), None);
    assert_eq!(loaded["n\0"], json!("\0"));

    let listed = store.sessions_of(user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].client, Some(json!({"agent": "x\0y"})));
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
    assert_eq!(store.revoke_all(user).await.unwrap(), 1);
    assert!(store.load(&id).await.unwrap().is_none());
}

/// U+0000 is stored escaped as U+E000 `0`, and U+E000 as U+E000 U+E000: every string, the
/// escapes themselves among them, reads back as written, as a key or a value at any depth, and
/// no row holds U+0000. A stray U+E000 in a row (a foreign write) reads back as it is.
#[tokio::test]
async fn escaped_strings_round_trip_and_a_stray_escape_reads_back_as_it_is() {
    let (store, schema) = fresh().await;
    let texts = [
        "",
        "plain",
        "a\0b",
        "\0",
        "\u{E000}",
        "\u{E000}0",
        "x\u{E000}\0\u{E000}y",
    ];
    let mut data = SessionData::new();
    for (i, text) in texts.iter().enumerate() {
        data.insert(format!("{text}{i}"), json!(text));
        let object: serde_json::Map<_, _> =
            [((*text).to_owned(), json!([text]))].into_iter().collect();
        data.insert(format!("nested{i}"), json!([object]));
    }
    let id = created(
        &store,
        &record_at(Timestamp::now(), data.clone(), MINUTE, MINUTE),
    )
    .await;
    assert_eq!(store.load(&id).await.unwrap().unwrap().data, data);
    let table = format!("\"{schema}\".sessions");
    let stored: String =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT data::text FROM {table}")))
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(!stored.contains("\\u0000"), "{stored}");

    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET data = jsonb_build_object('s', $1::text)"
    )))
    .bind("a\u{E000}b\u{E000}")
    .execute(store.pool())
    .await
    .unwrap();
    let loaded = store.load(&id).await.unwrap().unwrap().data;
    assert_eq!(loaded["s"], json!("a\u{E000}b\u{E000}"));
}

/// A request that keeps the deadline it loaded must not pull back a refresh another request
/// stored meanwhile: `update` and `touch` keep the later of the stored and the given deadline,
/// and return it.
#[tokio::test]
async fn update_and_touch_never_move_the_idle_deadline_back() {
    let store = common::fresh_store().await;
    let now = Timestamp::now();
    let id = created(
        &store,
        &record_at(now, SessionData::new(), MINUTE, 10 * MINUTE),
    )
    .await;
    let (earlier, later) = (now + MINUTE * 3 / 2, now + MINUTE * 2);
    let delta = setting("a", json!(1));
    assert_eq!(store.update(&id, &delta, later).await.unwrap(), Some(later));

    let delta = setting("b", json!(2));
    assert_eq!(
        store.update(&id, &delta, earlier).await.unwrap(),
        Some(later)
    );
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.expires_at, later, "update moved the deadline back");
    assert_eq!(loaded.data["b"], json!(2), "the data was still written");

    assert_eq!(store.touch(&id, earlier).await.unwrap(), Some(later));
    assert_eq!(store.load(&id).await.unwrap().unwrap().expires_at, later);
}

/// The store computes every deadline on its clock: a test clock moved past the idle deadline
/// expires the session for every statement, and the sweep deletes it, without sleeping.
#[tokio::test]
async fn a_test_clock_expires_sessions_without_sleeping() {
    let clock = TestClock::starting_now();
    let (store, schema) = fresh().await;
    let store = store.with_clock(clock.shared());
    let record = record_at(clock.now(), SessionData::new(), MINUTE, 10 * MINUTE);
    let id = created(&store, &record).await;
    assert!(store.load(&id).await.unwrap().is_some());
    assert_eq!(store.delete_expired().await.unwrap(), 0);

    clock.advance(MINUTE + Duration::from_millis(1));
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "expired on the test clock"
    );
    let later = clock.now() + MINUTE;
    assert_eq!(store.touch(&id, later).await.unwrap(), None);
    let delta = setting("a", json!(1));
    assert_eq!(store.update(&id, &delta, later).await.unwrap(), None);
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    assert_eq!(count(store.pool(), &schema).await, 0);
}

/// How much later than its timeout a cut-off call may return on a busy two-core machine.
const SLACK: Duration = Duration::from_millis(1500);

/// Runs `call`, failing the test if it takes longer than `limit` (the code before statement
/// timeouts would wait for the lock forever).
async fn within<T>(limit: Duration, call: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, call)
        .await
        .expect("the store call hung past its statement timeout")
}

/// A statement blocked on a lock another connection holds (a long transaction, a migration)
/// fails as `Unavailable` once the store's timeout passes, and the store works again as soon
/// as the lock is gone: the cut-off connection is not reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_blocked_on_a_lock_times_out_as_unavailable_and_the_store_recovers() {
    let timeout = Duration::from_millis(300);
    let (patient, schema) = fresh().await;
    let store = patient.clone().with_statement_timeout(timeout);
    // Setup and recovery share the pool but get a budget of their own: under CI load a
    // healthy call can take longer than the 300 ms this test gives the blocked one.
    let patient = patient.with_statement_timeout(Duration::from_secs(5));
    let id = created(&patient, &record(MINUTE, 10 * MINUTE)).await;
    let delta = setting("a", json!(1));
    let deadline = Timestamp::now() + MINUTE;
    let locker = pool().await;
    let secs_5 = Duration::from_secs(5);

    let tx = lock_row(&locker, &schema, &id).await;
    let started = std::time::Instant::now();
    assert_unavailable(within(secs_5, store.update(&id, &delta, deadline)).await);
    let took = started.elapsed();
    assert!(took >= timeout && took < timeout + SLACK, "{took:?}");
    tx.rollback().await.unwrap();
    let updated = within(secs_5, patient.update(&id, &delta, deadline)).await;
    assert_eq!(updated.unwrap(), Some(deadline));

    let tx = lock_table(&locker, &schema).await;
    let started = std::time::Instant::now();
    assert_unavailable(within(secs_5, store.load(&id)).await);
    assert!(
        started.elapsed() < timeout + SLACK,
        "{:?}",
        started.elapsed()
    );
    tx.commit().await.unwrap();
    let loaded = within(secs_5, patient.load(&id)).await.unwrap().unwrap();
    assert_eq!(loaded.data["a"], json!(1));
}

/// A lock or statement timeout the server enforces (set for the application's role, as the
/// docs suggest) is `Unavailable` as well, on a pool the application built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_lock_timeout_is_unavailable() {
    use std::str::FromStr as _;

    let schema = common::random_schema();
    // Migrate without the 100 ms lock timeout: other tests migrating at the same time hold
    // catalog locks that would cancel it.
    common::store_in(&schema).await.migrate().await.unwrap();
    let options = sqlx::postgres::PgConnectOptions::from_str(&common::database_url())
        .unwrap()
        .options([("lock_timeout", "100ms")]);
    let store = PostgresStore::new(PgPool::connect_with(options).await.unwrap())
        .with_table(&schema, "sessions")
        .unwrap();
    let locker = pool().await;
    let tx = lock_table(&locker, &schema).await;
    let id = SessionId::generate();
    assert_unavailable(within(Duration::from_secs(3), store.load(&id)).await);
    tx.rollback().await.unwrap();
    assert!(store.load(&SessionId::generate()).await.unwrap().is_none());
}

/// The connection a timeout cut off is dropped, not handed back to the pool (where it would
/// hold its slot until the server finished the abandoned statement) nor closed gracefully
/// (which over TLS held it for sqlx's 5 s close timeout): on a one-connection pool the
/// application built, the next call runs while the lock is still held. Over plain TCP and TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_connection_frees_its_pool_slot() {
    use sqlx::postgres::PgSslMode;

    for ssl in [PgSslMode::Disable, PgSslMode::Require] {
        a_cut_off_connection_frees_its_pool_slot_over(ssl).await;
    }
}

async fn a_cut_off_connection_frees_its_pool_slot_over(ssl: sqlx::postgres::PgSslMode) {
    use std::str::FromStr as _;

    let schema = common::random_schema();
    let options = sqlx::postgres::PgConnectOptions::from_str(&common::database_url())
        .unwrap()
        .ssl_mode(ssl);
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    // Both stores share the one-connection pool; only the call meant to be cut off gets the
    // short budget, so a slow CI machine cannot fail the others.
    let patient = PostgresStore::new(one)
        .with_table(&schema, "sessions")
        .unwrap()
        .with_statement_timeout(Duration::from_secs(5));
    let store = patient
        .clone()
        .with_statement_timeout(Duration::from_millis(300));
    patient.migrate().await.unwrap();
    let locked = created(&patient, &record(MINUTE, 10 * MINUTE)).await;
    let free = created(&patient, &record(MINUTE, 10 * MINUTE)).await;
    let locker = pool().await;
    let tx = lock_row(&locker, &schema, &locked).await;
    let delta = setting("a", json!(1));
    let deadline = Timestamp::now() + MINUTE;
    let secs_5 = Duration::from_secs(5);
    assert_unavailable(within(secs_5, store.update(&locked, &delta, deadline)).await);

    // The lock is still held; another session's write does not need it, and gets the slot.
    let result = within(secs_5, patient.update(&free, &delta, deadline)).await;
    assert_eq!(result.unwrap(), Some(deadline), "{ssl:?}");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn revoke_all_after_renew_reaches_the_new_id_and_renew_after_revoke_all_finds_nothing() {
    let store = common::fresh_store().await;
    let deadline = Timestamp::now() + 2 * MINUTE;
    let old = session_of_ada(&store).await;
    let (new, expires) = store
        .renew(&old, &SessionDelta::default(), Renewal::Extend(deadline))
        .await
        .unwrap()
        .expect("a live session renews");
    assert_eq!(expires, deadline);
    assert!(store.load(&old).await.unwrap().is_none());
    assert_eq!(store.sessions_of("ada").await.unwrap().len(), 1);
    assert_eq!(store.revoke_all("ada").await.unwrap(), 1);
    assert!(store.load(&new).await.unwrap().is_none());

    let old = session_of_ada(&store).await;
    assert_eq!(store.revoke_all("ada").await.unwrap(), 1);
    let renewed = store
        .renew(&old, &SessionDelta::default(), Renewal::Extend(deadline))
        .await;
    assert!(renewed.unwrap().is_none(), "a revoked session renewed");
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
}

/// Polls `done` until it holds, failing with `what` after 10 s. For what a test cannot see
/// happen but can only observe: another connection queueing on a lock, a background task's
/// sweep.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `count` statements naming `schema` wait for a lock.
async fn wait_for_lock_waiters(observer: &PgPool, schema: &str, count: i64) {
    eventually("statements never reached the lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND position($1 in query) > 0",
        )
        .bind(schema)
        .fetch_one(observer)
        .await
        .unwrap();
        waiting >= count
    })
    .await;
}

/// Renews a session of Ada's while `revoke` runs, in that order on the row: a third connection
/// holds the row's lock until the renew and then the revocation queue on it. Returns the
/// renew's answer, the revocation's, and the old ID.
async fn renew_with_a_revocation_queued_behind<R, Fut>(
    store: &PostgresStore,
    schema: &str,
    revoke: R,
) -> (Option<(SessionId, Timestamp)>, Fut::Output, SessionId)
where
    R: FnOnce(PostgresStore, SessionId) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let old = session_of_ada(store).await;
    let locker = pool().await;
    let tx = lock_row(&locker, schema, &old).await;
    let renew = tokio::spawn({
        let (store, old) = (store.clone(), old.clone());
        async move {
            let deadline = Timestamp::now() + 2 * MINUTE;
            store
                .renew(&old, &SessionDelta::default(), Renewal::Extend(deadline))
                .await
        }
    });
    wait_for_lock_waiters(&locker, schema, 1).await;
    let revoke = tokio::spawn(revoke(store.clone(), old.clone()));
    wait_for_lock_waiters(&locker, schema, 2).await;
    tx.commit().await.unwrap();
    (renew.await.unwrap().unwrap(), revoke.await.unwrap(), old)
}

/// A `revoke_all` that runs while a renew is in flight wins: the renew reaches the row first
/// (it queues first on a lock a third connection holds), the revocation queues behind it, and
/// once both are done neither the old nor the new ID is live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_all_during_a_renew_leaves_neither_id_live() {
    let (store, schema) = fresh().await;
    let (renewed, revoked, old) =
        renew_with_a_revocation_queued_behind(&store, &schema, |store, _| async move {
            store.revoke_all("ada").await.unwrap()
        })
        .await;
    assert_eq!(revoked, 1, "the revocation reached the session");
    assert!(store.load(&old).await.unwrap().is_none());
    if let Some((new, _)) = renewed {
        assert!(
            store.load(&new).await.unwrap().is_none(),
            "the renewed ID survived revoke_all"
        );
    }
    assert!(store.sessions_of("ada").await.unwrap().is_empty());
    assert_eq!(count(store.pool(), &schema).await, 0);
}

/// A revoke of one session (by the handle an admin listed) that runs while the session is
/// being renewed wins too: it reaches the row under its new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_during_a_renew_leaves_neither_id_live() {
    let (store, schema) = fresh().await;
    let (renewed, revoked, _) =
        renew_with_a_revocation_queued_behind(&store, &schema, |store, old| async move {
            store.revoke(&SessionHandle::of(&old)).await.unwrap()
        })
        .await;
    assert!(revoked, "the revocation reached the session");
    if let Some((new, _)) = renewed {
        assert!(
            store.load(&new).await.unwrap().is_none(),
            "the renewed ID survived revoke"
        );
    }
    assert_eq!(count(store.pool(), &schema).await, 0);
}

/// The handle an admin listed before the session renewed still revokes it.
#[tokio::test]
async fn revoking_the_handle_listed_before_a_renew_reaches_the_renewed_session() {
    let store = common::fresh_store().await;
    let old = session_of_ada(&store).await;
    let listed = store.sessions_of("ada").await.unwrap();
    let deadline = Timestamp::now() + 2 * MINUTE;
    let (new, _) = store
        .renew(&old, &SessionDelta::default(), Renewal::Extend(deadline))
        .await
        .unwrap()
        .unwrap();
    assert!(store.revoke(&listed[0].handle).await.unwrap());
    assert!(store.load(&new).await.unwrap().is_none());
}

#[tokio::test]
async fn with_table_accepts_plain_identifiers_only() {
    // No statement runs: a lazy pool never connects.
    let store = PostgresStore::new(PgPool::connect_lazy(&common::database_url()).unwrap());
    let with_table = |schema: &str, table: &str| store.clone().with_table(schema, table);
    for good in ["sessions", "_s", "app_sessions_2", &"a".repeat(48)] {
        assert!(with_table("public", good).is_ok(), "{good}");
    }
    assert!(with_table(&"a".repeat(63), "sessions").is_ok());
    let too_long = "a".repeat(49);
    for bad in ["", "1abc", "a-b", "a\"b", "a;drop", "a b", "ä", &too_long] {
        assert!(with_table("public", bad).is_err(), "{bad}");
    }
    assert!(with_table(&"a".repeat(64), "sessions").is_err());
}
