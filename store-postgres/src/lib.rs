//! `PostgresStore`: sessions in PostgreSQL, one row per session.
//!
//! - **Schema**: the primary key is the SHA-256 of the session ID (`bytea`), so the table holds
//!   no usable cookie; data is `jsonb`; the deadlines are `timestamptz`, with an index on
//!   `expires_at` for the cleanup sweep. The row carries its format version.
//!   [`migrate`](PostgresStore::migrate) creates the table. `jsonb` cannot hold U+0000, which
//!   JSON strings may: it is stored escaped, so such sessions save and read back unchanged.
//! - **One statement each**: load ignores expired rows; update applies the delta in SQL
//!   (`data - removed_keys || set_values`) and is a no-op on a missing or expired row, so a purged
//!   session is never recreated; create is one `INSERT … ON CONFLICT` that cannot overwrite a
//!   live row; renew is one `UPDATE` that moves the row to the new ID's key. Statements are
//!   prepared and cached per connection by sqlx.
//! - **Concurrency**: each update is one row-locking `UPDATE` that applies its own delta to the
//!   current row, so concurrent requests changing different keys both survive. Update and touch
//!   set the idle deadline to the later of the stored one and their own (capped by the absolute
//!   deadline), so a request that kept the deadline it loaded never pulls back a refresh that
//!   another request stored meanwhile.
//! - **Revocation wins over renew**: a renew holds the row's lock while it moves the row to its
//!   new key, so a `revoke_all` or `revoke` running at the same time either deletes the row
//!   first (the renew then finds nothing) or waits for the lock and deletes the moved row,
//!   whose `user_id` is generated from its data as the renew left it, and which remembers the
//!   key it was renewed from (`renewed_from`): a `revoke` by the handle of the session before
//!   its last renew still reaches it.
//! - **Failures**: a connection problem is [`StoreError::Unavailable`] (`503`); the pool opens
//!   new connections once the database is back. Every call is bounded (5 s unless
//!   [`with_statement_timeout`](PostgresStore::with_statement_timeout) says otherwise): a
//!   statement stuck behind a lock or on a dead connection fails as `Unavailable` too, and its
//!   connection is closed rather than reused.
//!
//! ```no_run
//! use std::time::Duration;
//! use store_postgres::PostgresStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = PostgresStore::connect("postgres://postgres@127.0.0.1/test").await?;
//! store.migrate().await?;
//! let _ = store.spawn_cleanup(Duration::from_secs(300)); // runs until the pool is closed
//! # Ok(())
//! # }
//! ```
//!
//! Deadlines are computed on the application's clock (the system clock, or the one given to
//! [`with_clock`](PostgresStore::with_clock)), so keep application hosts synchronised (NTP); the
//! database clock is not consulted.

mod cleanup;
mod migrate;
mod nul;
mod sql;
mod statement;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;

use session_core::clock::{self, SharedClock};
use session_core::{
    ActiveSession, Renewal, SessionDelta, SessionHandle, SessionId, SessionRecord, SessionStore,
    StorageKey, StoreError, Timestamp, UserSessionStore,
};

pub use cleanup::CleanupTask;
pub use sql::InvalidIdentifier;
use sql::Statements;
use statement::Retry;

/// The default schema.
pub const DEFAULT_SCHEMA: &str = "public";
/// The default table.
pub const DEFAULT_TABLE: &str = "sessions";

/// How long a request waits for a pooled connection before it fails with `503`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one store call may take unless
/// [`with_statement_timeout`](PostgresStore::with_statement_timeout) says otherwise.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// A session store on PostgreSQL. Cloning is cheap: clones share the pool.
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
/// use store_postgres::PostgresStore;
/// let store = PostgresStore::new(pool).with_table("auth", "web_sessions")?;
/// store.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    sql: Arc<Statements>,
    clock: SharedClock,
    timeout: Duration,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool is left out: its connect options may carry a password.
        f.debug_struct("PostgresStore")
            .field("table", &self.sql.qualified)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// A store over a pool you already have, on table `public.sessions`. Call
    /// [`migrate`](Self::migrate) before the first request.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        let sql = Statements::new(DEFAULT_SCHEMA, DEFAULT_TABLE).unwrap_or_else(|_| unreachable!());
        Self {
            pool,
            sql: Arc::new(sql),
            clock: clock::system(),
            timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }

    /// Connects a pool to `url` and returns a store on `public.sessions`. A request waits at
    /// most 2 s for a connection before it fails with `503`.
    ///
    /// Fails when the URL is invalid or the database cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // One round trip per operation: no ping before each use. A connection the server
            // dropped fails one request (503) and is discarded.
            .test_before_acquire(false)
            .connect(url)
            .await
            .map_err(store_error)?;
        Ok(Self::new(pool))
    }

    /// Uses table `schema.table` instead of `public.sessions`. Both must be plain identifiers
    /// (ASCII letters, digits, `_`; a schema up to 63 bytes, a table up to 48), which keeps them
    /// safe to put in SQL.
    ///
    /// ```
    /// # async fn run(pool: sqlx::PgPool) {
    /// use store_postgres::PostgresStore;
    /// assert!(PostgresStore::new(pool.clone()).with_table("app", "sessions").is_ok());
    /// assert!(PostgresStore::new(pool).with_table("app", "x; DROP TABLE users").is_err());
    /// # }
    /// ```
    pub fn with_table(self, schema: &str, table: &str) -> Result<Self, InvalidIdentifier> {
        let sql = Arc::new(Statements::new(schema, table)?);
        Ok(Self { sql, ..self })
    }

    /// Reads the current time from `clock` instead of the system clock (the default). Every
    /// deadline the store checks or writes is computed from it, so a
    /// [`TestClock`](session_core::clock::TestClock) moves sessions past their idle or absolute
    /// deadline, for `load`, `update`, `touch` and [`delete_expired`](Self::delete_expired)
    /// alike, without waiting: the database's own clock is not consulted.
    ///
    /// ```
    /// # async fn run(pool: sqlx::PgPool) {
    /// use session_core::clock::TestClock;
    /// use store_postgres::PostgresStore;
    ///
    /// let clock = TestClock::starting_now();
    /// let store = PostgresStore::new(pool).with_clock(clock.shared());
    /// # }
    /// ```
    #[must_use]
    pub fn with_clock(self, clock: SharedClock) -> Self {
        Self { clock, ..self }
    }

    /// Bounds every call the store makes (default [`DEFAULT_STATEMENT_TIMEOUT`], 5 s): waiting
    /// for a pooled connection and running the statement together take at most `timeout`.
    /// Past it the call fails with [`StoreError::Unavailable`] (the middleware answers `503`)
    /// instead of hanging the request on a lock (a migration, a long transaction) or on a
    /// connection the network black-holed.
    ///
    /// The connection whose statement was cut off is closed, not returned to the pool, so the
    /// next call runs on another connection and the store keeps working. Closing it does not
    /// stop a statement the server is still waiting to run: once the lock it waited for is
    /// released, the server may still apply that write, although the caller was told it failed.
    /// Until then its server process stays, blocked: while a lock is held, every request that
    /// times out leaves one behind and the pool opens a fresh connection, so a long-held lock
    /// can use up the server's `max_connections`. For the server to give up at the same time,
    /// set a `lock_timeout` (or `statement_timeout`) for the application's role, e.g.
    /// `ALTER ROLE app SET lock_timeout = '5s'`; the error it raises is `Unavailable` too.
    ///
    /// Every batch of [`delete_expired`](Self::delete_expired) is bounded the same way;
    /// [`migrate`](Self::migrate) is not, since it waits for other instances' migrations.
    ///
    /// ```
    /// # async fn run(pool: sqlx::PgPool) {
    /// use std::time::Duration;
    /// use store_postgres::PostgresStore;
    ///
    /// let store = PostgresStore::new(pool).with_statement_timeout(Duration::from_secs(2));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If `timeout` is zero, which would fail every call.
    #[must_use]
    pub fn with_statement_timeout(self, timeout: Duration) -> Self {
        assert!(
            !timeout.is_zero(),
            "a zero statement timeout would fail every session store call: give a duration such as 5 s"
        );
        Self { timeout, ..self }
    }

    /// Creates the table if it is not there yet: idempotent, and safe to run from many
    /// instances at once (they serialize on an advisory lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate::run(&self.pool, &self.sql).await
    }

    /// Deletes expired rows now, in batches of 1000, and returns how many it deleted.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        cleanup::sweep(self).await
    }

    /// Starts a background task that runs [`delete_expired`](Self::delete_expired) every
    /// `interval`, from now on. A failed sweep is logged and retried at the next tick. The task
    /// runs until the store's pool is closed or the runtime shuts down; the returned handle can
    /// [`stop`](CleanupTask::stop) it earlier, and dropping the handle does not.
    ///
    /// ```
    /// # async fn run(store: store_postgres::PostgresStore) {
    /// use std::time::Duration;
    /// let _ = store.spawn_cleanup(Duration::from_secs(300)); // keeps running
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, like `tokio::spawn`.
    #[allow(
        clippy::must_use_candidate,
        reason = "the task keeps running when its handle is dropped, which is the common use"
    )]
    pub fn spawn_cleanup(&self, interval: Duration) -> CleanupTask {
        // A zero period would make the timer panic inside the task, silently ending cleanup.
        let interval = interval.max(Duration::from_millis(1));
        cleanup::spawn(self.clone(), interval)
    }

    /// The pool this store uses.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies `delta` to the live row keyed by `id`'s hash and moves its idle deadline forward
    /// to `idle_deadline`: the update statement, or with a `new_key` the renew statement, which
    /// also moves the row to that key. Returns the row's new idle deadline, if it was live.
    async fn write_delta(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
        renew: Option<(&StorageKey, Option<Timestamp>)>,
    ) -> Result<Option<Timestamp>, StoreError> {
        let (sql, retry) = match renew {
            // Applying a delta twice leaves the same data, and the deadline only moves
            // forward, so an update may run again.
            None => (&self.sql.update, Retry::OnBrokenConnection),
            // Had the first run moved the row, a second would find the old key gone.
            Some(_) => (&self.sql.renew, Retry::Never),
        };
        let removed: Vec<String> = delta
            .removed_keys()
            .iter()
            .map(|k| nul::escape(k))
            .collect();
        let set = Json(nul::map_entries(delta.set_entries(), nul::escape));
        let (key, now) = (id.storage_key(), millis(self.clock.now()));
        let expires = self
            .run(retry, async |conn| {
                let mut query = sqlx::query_scalar::<_, i64>(sql.clone())
                    .bind(key.as_bytes())
                    .bind(delta.is_cleared())
                    .bind(&removed)
                    .bind(&set)
                    .bind(millis(idle_deadline))
                    .bind(now);
                if let Some((new_key, absolute)) = renew {
                    query = query.bind(new_key.as_bytes()).bind(absolute.map(millis));
                }
                query.fetch_optional(conn).await
            })
            .await?;
        expires.map(timestamp).transpose()
    }

    /// Deletes the live sessions of `user_id`, but the one keyed `keep`. Returns how many.
    async fn revoke_user(
        &self,
        user_id: &str,
        keep: Option<&StorageKey>,
    ) -> Result<usize, StoreError> {
        let (user_id, now) = (nul::escape(user_id), millis(self.clock.now()));
        let keep = keep.map(|key| key.as_bytes());
        let deleted = self
            .run(Retry::OnBrokenConnection, async |conn| {
                sqlx::query(self.sql.revoke_user.clone())
                    .bind(&user_id)
                    .bind(now)
                    .bind(keep)
                    .execute(conn)
                    .await
            })
            .await?
            .rows_affected();
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }
}

/// A connection problem is `Unavailable` (retryable, `503`); a row that does not decode is
/// `Corrupt`; anything else is a backend error.
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    let unavailable = match &err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // 08: connection exception; 57P0x: server shutting down; 53300: too many connections;
        // 57014, 55P03: a statement or lock timeout the server enforces (set for the role).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("57P")
                || matches!(&*code, "53300" | "57014" | "55P03")
        }),
        _ => false,
    };
    if unavailable {
        StoreError::unavailable(err)
    } else if matches!(
        err,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)
    ) {
        StoreError::corrupt(err)
    } else {
        StoreError::backend(err)
    }
}

fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.as_unix_millis()).unwrap_or(i64::MAX)
}

fn timestamp(millis: i64) -> Result<Timestamp, StoreError> {
    u64::try_from(millis)
        .map(Timestamp::from_unix_millis)
        .map_err(|_| StoreError::corrupt("negative timestamp in session row"))
}

/// The timestamp in `row`'s `column`.
fn timestamp_at(row: &PgRow, column: &str) -> Result<Timestamp, StoreError> {
    timestamp(row.try_get(column).map_err(store_error)?)
}

/// The record in a row holding the columns `sql::RECORD` names.
fn record_of(row: &PgRow) -> Result<SessionRecord, StoreError> {
    let version: i32 = row.try_get("format_version").map_err(store_error)?;
    if u32::try_from(version) != Ok(SessionRecord::FORMAT_VERSION) {
        return Err(StoreError::corrupt(format!(
            "unsupported session format version {version}"
        )));
    }
    // A row whose data is not a JSON object fails to decode: `Corrupt`.
    let Json(data): Json<Map<String, Value>> = row.try_get("data").map_err(store_error)?;
    Ok(SessionRecord::new(
        nul::map_entries(&data, nul::unescape),
        timestamp_at(row, "created")?,
        timestamp_at(row, "expires")?,
        timestamp_at(row, "absolute")?,
    ))
}

#[async_trait]
impl SessionStore for PostgresStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let (key, now) = (id.storage_key(), millis(self.clock.now()));
        let row = self
            .run(Retry::OnBrokenConnection, async |conn| {
                sqlx::query(self.sql.load.clone())
                    .bind(key.as_bytes())
                    .bind(now)
                    .fetch_optional(conn)
                    .await
            })
            .await?;
        row.as_ref().map(record_of).transpose()
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let (key, now) = (id.storage_key(), millis(self.clock.now()));
        let data = Json(nul::map_entries(&record.data, nul::escape));
        let version = i32::try_from(SessionRecord::FORMAT_VERSION).unwrap_or(i32::MAX);
        let inserted = self
            .run(Retry::Never, async |conn| {
                sqlx::query(self.sql.create.clone())
                    .bind(key.as_bytes())
                    .bind(&data)
                    .bind(version)
                    .bind(millis(record.created_at))
                    .bind(millis(record.expires_at))
                    .bind(millis(record.absolute_expires_at))
                    .bind(now)
                    .execute(conn)
                    .await
            })
            .await?
            .rows_affected();
        Ok(inserted == 1)
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.write_delta(id, delta, idle_deadline, None).await
    }

    /// An update with nothing to apply: it moves the idle deadline and `last_seen` alike.
    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update(id, &SessionDelta::default(), idle_deadline)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let key = id.storage_key();
        self.run(Retry::OnBrokenConnection, async |conn| {
            sqlx::query(self.sql.delete.clone())
                .bind(key.as_bytes())
                .execute(conn)
                .await
        })
        .await?;
        Ok(())
    }

    /// One `UPDATE` that moves the row to the new ID's key, applying `delta` and the deadlines
    /// (as [`update`](SessionStore::update) does, or restarting both): the old ID stops working at the
    /// instant the new one starts, and a revocation that runs meanwhile reaches the row under
    /// whichever key it has (see the crate docs).
    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        // A 256-bit ID from the CSPRNG: colliding with a stored key is not a case to handle.
        let new_id = SessionId::generate();
        let new_key = new_id.storage_key();
        let (idle_deadline, absolute) = match renewal {
            Renewal::Extend(idle_deadline) => (idle_deadline, None),
            Renewal::Restart(expiry) => (expiry.idle, Some(expiry.absolute)),
        };
        let expires = self
            .write_delta(old_id, delta, idle_deadline, Some((&new_key, absolute)))
            .await?;
        Ok(expires.map(|expires| (new_id, expires)))
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let (key, now) = (id.storage_key(), millis(self.clock.now()));
        let row = self
            .run(Retry::Never, async |conn| {
                sqlx::query(self.sql.take.clone())
                    .bind(key.as_bytes())
                    .bind(now)
                    .fetch_optional(conn)
                    .await
            })
            .await?;
        match row {
            Some(row) if row.try_get("live").map_err(store_error)? => record_of(&row).map(Some),
            _ => Ok(None),
        }
    }
}

/// Lists and revokes a user's sessions through the indexed `user_id` column (derived from the
/// session data), each in one statement; revocations delete rows, so every app instance sharing
/// the database sees them on its next request.
#[async_trait]
impl UserSessionStore for PostgresStore {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        let (user_id, now) = (nul::escape(user_id), millis(self.clock.now()));
        let rows = self
            .run(Retry::OnBrokenConnection, async |conn| {
                sqlx::query(self.sql.sessions_of.clone())
                    .bind(&user_id)
                    .bind(now)
                    .fetch_all(conn)
                    .await
            })
            .await?;
        rows.iter()
            .map(|row| {
                let key = row.try_get("id_hash").map_err(store_error)?;
                let record = record_of(row)?;
                Ok(ActiveSession::new(
                    SessionHandle::from_storage_key(StorageKey::from_bytes(key)),
                    record.created_at,
                    timestamp_at(row, "last_seen")?,
                    record.expires_at,
                    record.client().cloned(),
                ))
            })
            .collect()
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        let now = millis(self.clock.now());
        let deleted = self
            .run(Retry::OnBrokenConnection, async |conn| {
                sqlx::query(self.sql.revoke.clone())
                    .bind(handle.storage_key().as_bytes())
                    .bind(now)
                    .execute(conn)
                    .await
            })
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        self.revoke_user(user_id, None).await
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        self.revoke_user(user_id, Some(keep.storage_key())).await
    }
}
