//! `RedisStore`: sessions in Redis or Redis Cluster, one hash per session.
//!
//! - **Layout**: the key is `<prefix><hex SHA-256 of the session ID>` (default prefix
//!   `session:`), so the keyspace holds no usable cookie. Field `@` holds the metadata
//!   (`<format version>:<created ms>:<absolute expiry ms>:<idle deadline ms>`; the version
//!   lets a later release migrate), field `@seen` when the session was last written or
//!   refreshed (ms; none until the first write after its create), and each session key `k` is
//!   the field `.k` with its JSON value. The key's TTL is the effective expiry (the idle
//!   deadline, capped by the absolute one). A renew's forwarding marker and a revocation's
//!   tombstone hold `@` too (`moved:<hash>`, `revoked`), and are no session.
//!   The sessions bound to a user are listed in the sorted set `<prefix>user:<hex SHA-256 of
//!   the user ID>` (members: session hashes; scores: their absolute expiry), which expires with
//!   its longest-lived member.
//! - **One round trip each**: load is one `HGETALL`; a write that keeps the deadline (most
//!   writes: a request whose refresh is not due) is a pipeline of plain commands (`HSET`,
//!   `HDEL`, then `HGET` of the metadata), which costs Redis half the CPU of a script; create,
//!   take, and the rare updates that move the deadline (a refresh, a touch) or clear the session
//!   are server-side scripts ([`redis::Script`]); a renew takes a few (see below). Create never
//!   overwrites an existing key; writes never bring back a missing session (a purged session
//!   stays purged: fields written to a missing key form a hash without metadata, which no load
//!   accepts, and are deleted again at once).
//! - **Deadlines only move forward**: only the update script moves a deadline, to the later of
//!   the stored one and the one asked for, TTL and metadata together, never past the absolute
//!   expiry; a write that keeps its deadline touches neither, so a request that loaded before
//!   another refreshed the session never pulls the refresh back.
//! - **Delta writes**: update applies `HSET`/`HDEL` for just the changed keys, so concurrent
//!   requests that change different keys both survive.
//! - **Connections**: [`RedisStore::connect`] and [`RedisStore::connect_cluster`] give each
//!   actix-web worker thread its own multiplexed connection, so a request's commands never
//!   leave its thread (see there).
//! - **Failures**: a connection problem is [`StoreError::Unavailable`] (the middleware answers
//!   `503`); the [`ConnectionManager`]s that [`RedisStore::connect`] builds reconnect by
//!   themselves once Redis is back.
//!
//! Deadlines are computed on the application's clock and applied with `PEXPIREAT`, which Redis
//! evaluates on its own clock: keep both synchronised (NTP), as for any expiring cache.
//!
//! ```no_run
//! use store_redis::RedisStore;
//!
//! # async fn run() -> Result<(), session_core::StoreError> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?.with_key_prefix("myapp:session:");
//! let cluster = RedisStore::connect_cluster(&[
//!     "redis://127.0.0.1:7000",
//!     "redis://127.0.0.1:7001",
//!     "redis://127.0.0.1:7002",
//! ])
//! .await?;
//! # let _ = (store, cluster);
//! # Ok(())
//! # }
//! ```
//!
//! ## Redis Cluster
//!
//! Each session is one key, so every operation on it lands on one slot: create, clear, take and
//! revoke are atomic scripts that each touch exactly one key, and update and touch keep their
//! guarantees without being atomic (see the layout notes above). A user's index lives in a slot
//! of its own, and [`renew`](SessionStore::renew) moves a session between two keys in different
//! slots; the next section says how revocation stays sound without a command spanning them. The
//! same steps run on a single node.
//!
//! ## Revocation and renew
//!
//! A renew takes a session from its old key and creates it under a new one, in separate
//! round trips. A [`revoke`](session_core::UserSessionStore::revoke) or
//! [`revoke_all`](session_core::UserSessionStore::revoke_all) that runs in between still wins: neither ID
//! stays live.
//!
//! 1. The renew picks the new ID first. A script atomically takes the session from the old key
//!    and leaves there a *forwarding marker*: a hash whose field `@` is `moved:` and the new
//!    key's hash.
//!    Its `@` holds no metadata, so loads, writes and takes find no session there.
//! 2. It applies the request's changes and deadline, adds the new ID to the user's index and
//!    creates it. The create script refuses any existing key; for a fresh ID only a revocation's
//!    tombstone can be there, so a refusal ends the renew with `None` (no other ID is tried).
//! 3. It reads the marker again: if it no longer forwards to the new key, a revocation (or a
//!    logout of the old ID, which deletes it) got there meanwhile, so it deletes the new session
//!    and answers `None`.
//!
//! Revocation runs one script per key. A session there is deleted. A marker is deleted and the
//! key it forwards to is revoked in turn. Where there is nothing, it leaves a tombstone (its
//! `@` is `revoked`), so a create still in flight for that key is refused. Whenever the revocation
//! lands, the session ends:
//!
//! - before the take: the take finds nothing, and the renew answers `None`;
//! - between the take and the create: it follows the marker to the new key and leaves a
//!   tombstone there, so the create is refused;
//! - after the create: it deletes the new session, which it reaches through the marker (step 3
//!   then finds the marker gone) or through the index;
//! - after the renew: `revoke_all` finds the new ID in the index, and one that read the index
//!   before the new ID was added still reaches it through the marker.
//!
//! Listing leaves an index entry whose key is a marker in place, so revocation can follow it.
//! Markers and tombstones live a minute, far longer than the steps of a renew or a
//! `revoke_all`'s walk through the index take: a renew that stalls longer fails closed (step 3
//! finds no marker), but a `revoke_all` that took longer than that to reach an old key could
//! miss the renew that completed meanwhile. `revoke_all` returns how many sessions it ended,
//! each counted once: those it deleted, and those whose renew it stopped before their new ID
//! was in the index; `revoke` returns `true` for a session it caught mid-renew too. A session
//! that a new sign-in creates while `revoke_all` runs did not exist when it started, and may
//! survive it.

mod connection;
mod layout;
mod scripts;
mod users;

#[cfg(test)]
mod test_redis;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{AsyncCommands as _, Client, FromRedisValue, RedisError, Script, ScriptInvocation};
use session_core::{
    Renewal, SessionDelta, SessionId, SessionRecord, SessionStore, StoreError, Timestamp,
};

pub use connection::RedisConnection;

use connection::WorkerConnections;

use layout::{
    HashFields, META_FIELD, SEEN_FIELD, data_field, decode_meta, decode_record, encode_meta,
    forwarded_to, session_meta,
};

/// The default key prefix.
pub const DEFAULT_KEY_PREFIX: &str = "session:";

/// How long a forwarding marker and a tombstone live. Far longer than a renew takes between
/// taking the old key and checking it again (a few commands, each bounded by [`TIMEOUT`]), and
/// than a `revoke_all` takes between reading the index and reaching each session; short enough
/// that renewing on every request leaves little behind.
const IN_FLIGHT: Duration = Duration::from_secs(60);

/// How long a connection attempt or a command may take before the request fails with `503`.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A session store on Redis or Redis Cluster. Cloning is cheap: clones share their
/// connections (multiplexed: each serves concurrent requests without a pool).
///
/// ```
/// # async fn run(manager: redis::aio::ConnectionManager) {
/// use store_redis::RedisStore;
/// let store = RedisStore::new(manager).with_key_prefix("app1:");
/// # let _ = store;
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: RedisConnection,
    /// Per-worker connections, when the store was made by [`RedisStore::connect`] or
    /// [`RedisStore::connect_cluster`].
    workers: Option<Arc<WorkerConnections>>,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection is left out: its address may carry credentials.
        f.debug_struct("RedisStore")
            .field("connection", &self.connection.kind())
            .field("per_worker_connections", &self.workers.is_some())
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisStore {
    /// A store over a connection you already have: a [`ConnectionManager`], a
    /// [`MultiplexedConnection`](redis::aio::MultiplexedConnection) or a
    /// [`ClusterConnection`](redis::cluster_async::ClusterConnection).
    #[must_use]
    pub fn new(connection: impl Into<RedisConnection>) -> Self {
        Self {
            connection: connection.into(),
            workers: None,
            prefix: Arc::from(DEFAULT_KEY_PREFIX),
        }
    }

    /// Connects to a single Redis node through a [`ConnectionManager`] that reconnects after
    /// failures. Commands and connection attempts time out after 2 s, so an outage answers
    /// requests with `503` quickly instead of holding them.
    ///
    /// Each thread that runs a current-thread runtime (every actix-web worker runs one) gets
    /// its own connection on first use, so its requests' Redis commands stay on that thread
    /// (less CPU per request: `connection.rs` has the figures); a server with `n` workers holds
    /// `n + 1` connections. The runtime this is called on, and any multi-thread runtime, use the
    /// connection opened here. [`RedisStore::new`] uses only the connection it is given.
    ///
    /// Fails when the URL is invalid or the node cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(StoreError::backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_with_config(client.clone(), config.clone())
            .await
            .map_err(store_error)?;
        Ok(Self {
            workers: Some(WorkerConnections::node(client, config)),
            ..Self::new(manager)
        })
    }

    /// Connects to a Redis Cluster given some of its nodes; the rest are discovered.
    ///
    /// As with [`RedisStore::connect`], each worker thread gets its own cluster connection: a
    /// task on the worker opens it after the worker's first command, which (like any until it
    /// is open) uses the connection opened here.
    ///
    /// Fails when a URL is invalid or no node can be reached now.
    pub async fn connect_cluster<I, S>(nodes: I) -> Result<Self, StoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let client = ClusterClient::builder(nodes)
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            .retries(2)
            .build()
            .map_err(StoreError::backend)?;
        let connection = client.get_async_connection().await.map_err(store_error)?;
        Ok(Self {
            workers: Some(WorkerConnections::cluster(client)),
            ..Self::new(connection)
        })
    }

    /// Sets the prefix of every key this store writes (default [`DEFAULT_KEY_PREFIX`]), e.g. to
    /// share one Redis between apps.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The Redis key of a session: the prefix and the hex SHA-256 of its ID.
    #[must_use]
    pub fn key_of(&self, id: &SessionId) -> String {
        self.member_key(&id.storage_key().to_hex())
    }

    /// The key of the session whose hash is `member` (an entry of a user's index, a handle).
    fn member_key(&self, member: &str) -> String {
        [&self.prefix, member].concat()
    }

    /// Runs `script` on the one key `key` with the arguments `args` adds. Redis-rs loads the
    /// script first when Redis answers that it does not have it (after a restart or a
    /// `SCRIPT FLUSH`; on Redis Cluster the load goes to every primary).
    async fn run_script<T: FromRedisValue>(
        &self,
        script: &Script,
        key: &str,
        args: impl FnOnce(&mut ScriptInvocation<'_>),
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        invocation.key(key);
        args(&mut invocation);
        invocation
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)
    }

    /// The connection for a command issued now: this worker thread's own when there is one
    /// (see [`RedisStore::connect`]), the shared one otherwise.
    fn connection(&self) -> RedisConnection {
        match self
            .workers
            .as_ref()
            .and_then(WorkerConnections::connection)
        {
            Some(local) => local,
            None => self.connection.clone(),
        }
    }

    /// Applies `delta` (which does not clear) and leaves the deadlines alone, in one pipelined
    /// round trip of plain commands: `HSET` of the changed values and `@seen`, `HDEL` of the
    /// removed ones, `PEXPIREAT … NX`, then `HGET` of the metadata. It is
    /// what most writes are (a request whose refresh is not due), and costs Redis half the CPU
    /// of the update script: measured on the bench's `/incr` (server plus `redis-server`,
    /// medians of 7 alternating runs), 39.3 µs per request against 48.8 µs with every write
    /// through the script (Redis alone 7.5 µs against 15.8). The metadata read, after the writes, tells whether they reached a
    /// live session. Only create and the update script write the metadata, so:
    ///
    /// - metadata present: the session was live from before the writes until after them, and
    ///   holds every one of them; its TTL and idle deadline are untouched, so a concurrent refresh
    ///   stands;
    /// - metadata missing: the session was deleted or expired before or during the writes, or
    ///   the key holds a forwarding marker or a tombstone. The fields written form (or join) a
    ///   hash without metadata, which no load accepts; they are deleted again (those fields
    ///   only, so a marker or tombstone stays) and the answer is `None`, so the middleware
    ///   starts a new session with this request's changes rather than losing them. `NX` gives
    ///   a hash formed on a missing key a short TTL, so nothing outlives it even if the deletion
    ///   never happens; it never changes a live session's TTL (which always has one).
    ///
    /// Corrupt metadata is found only after the writes went to that (unusable) hash.
    async fn write_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
    ) -> Result<Option<Timestamp>, StoreError> {
        let key = self.key_of(id);
        let now = Timestamp::now();
        let mut pipe = redis::pipe();
        let set = pipe.cmd("HSET").arg(&key);
        for (field, value) in delta.set_entries() {
            set.arg(data_field(field)).arg(value.to_string());
        }
        set.arg(SEEN_FIELD).arg(now.as_unix_millis()).ignore();
        if !delta.removed_keys().is_empty() {
            let del = pipe.cmd("HDEL").arg(&key);
            for field in delta.removed_keys() {
                del.arg(data_field(field));
            }
            del.ignore();
        }
        pipe.cmd("PEXPIREAT")
            .arg(&key)
            .arg((now + IN_FLIGHT).as_unix_millis())
            .arg("NX")
            .ignore();
        pipe.hget(&key, META_FIELD);
        let (meta,): (Option<String>,) = pipe
            .query_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        let Some(meta) = session_meta(meta.as_deref()) else {
            // Only the fields this write added, never the key: it may hold a forwarding marker
            // or a tombstone, which revocations rely on.
            let mut added = redis::cmd("HDEL");
            added.arg(&key).arg(SEEN_FIELD);
            for field in delta.set_entries().keys() {
                added.arg(data_field(field));
            }
            let () = added
                .query_async(&mut self.connection())
                .await
                .map_err(store_error)?;
            return Ok(None);
        };
        Ok(Some(decode_meta(meta)?.expires_at()))
    }

    /// Runs the update script: applies `delta` (clearing first if it says so) and moves the idle
    /// deadline forward to `idle_deadline` (never earlier, never past the absolute deadline), TTL
    /// and metadata alike, atomically. Returns the expiry, or `None` when no live session holds
    /// the key (a marker or tombstone included), writing nothing then.
    async fn update_script(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let now = Timestamp::now();
        let reply: i64 = self
            .run_script(&scripts::UPDATE, &self.key_of(id), |script| {
                script
                    .arg(idle_deadline.as_unix_millis())
                    .arg(now.as_unix_millis())
                    .arg(if delta.is_cleared() { "1" } else { "0" })
                    .arg(delta.set_entries().len());
                for (key, value) in delta.set_entries() {
                    script.arg(data_field(key)).arg(value.to_string());
                }
                for key in delta.removed_keys() {
                    script.arg(data_field(key));
                }
            })
            .await?;
        // -1: no session.
        let expires_at = u64::try_from(reply).ok().map(Timestamp::from_unix_millis);
        Ok(expires_at.filter(|&expires_at| expires_at > now))
    }

    /// The second step of [`create`](SessionStore::create), after the user index lists the
    /// session: the create script, which never overwrites an existing key. `seen` is when a
    /// renew moved the session (a new session was last seen when created).
    async fn create_unindexed(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        seen: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        let created: i64 = self
            .run_script(&scripts::CREATE, &self.key_of(id), |script| {
                script
                    .arg(record.expires_at.as_unix_millis())
                    .arg(META_FIELD)
                    .arg(encode_meta(record));
                if let Some(seen) = seen {
                    script.arg(SEEN_FIELD).arg(seen.as_unix_millis());
                }
                for (key, value) in &record.data {
                    script.arg(data_field(key)).arg(value.to_string());
                }
            })
            .await?;
        Ok(created == 1)
    }

    /// Indexes the session under its user, if bound, then creates it (see
    /// [`create_unindexed`](Self::create_unindexed)).
    async fn create_indexed(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        seen: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        if let Some(user) = record.user() {
            // Index first: a create that then fails leaves a stale entry (skipped when listed),
            // never a session that revoke_all cannot find.
            self.index_session(user, id, record.absolute_expires_at)
                .await?;
        }
        self.create_unindexed(id, record, seen).await
    }

    /// The first step of a renew: atomically takes the session `old_id` and leaves on its key
    /// a forwarding marker to `new_id`'s key, which revocations follow (see the crate docs).
    async fn take_for_move(
        &self,
        old_id: &SessionId,
        new_id: &SessionId,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let now = Timestamp::now();
        let fields: Option<HashFields> = self
            .run_script(&scripts::TAKE, &self.key_of(old_id), |script| {
                script
                    .arg(new_id.storage_key().to_hex())
                    .arg(IN_FLIGHT.as_secs());
            })
            .await?;
        fields.map_or(Ok(None), |fields| decode_record(fields, now))
    }

    /// The rest of a renew, once [`take_for_move`](Self::take_for_move) took the session
    /// (`record`) from `old_id`: applies `delta` and the deadline, creates the session under
    /// `new_id` and settles the move.
    async fn finish_renew(
        &self,
        old_id: &SessionId,
        new_id: SessionId,
        mut record: SessionRecord,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        let expires_at = record.apply_renewal(delta, renewal);
        let now = Timestamp::now();
        if record.is_expired(now) {
            return Ok(None);
        }
        // Only a revocation's tombstone refuses a fresh ID: another ID would escape it.
        if !self.create_indexed(&new_id, &record, Some(now)).await? {
            return Ok(None);
        }
        if !self.settle_move(old_id, &new_id).await? {
            return Ok(None);
        }
        Ok(Some((new_id, expires_at)))
    }

    /// The last step of a renew, after the session was created under `new_id`: it stays only
    /// if the marker on `old_id` still forwards to it, that is if no revocation and no logout
    /// reached the old ID while the session moved. Otherwise (or if Redis cannot tell) it is
    /// deleted again and the answer is `false` (or the error). This makes a revocation win even
    /// if it never got to follow the marker (it failed half-way, or the marker expired).
    ///
    /// The marker stays until it expires: a `revoke_all` that read the index before the new ID
    /// was added to it reaches the session through the marker.
    async fn settle_move(
        &self,
        old_id: &SessionId,
        new_id: &SessionId,
    ) -> Result<bool, StoreError> {
        let marker: redis::RedisResult<Option<String>> = self
            .connection()
            .hget(self.key_of(old_id), META_FIELD)
            .await;
        match marker {
            Ok(Some(at)) if forwarded_to(&at) == Some(&new_id.storage_key().to_hex()) => Ok(true),
            other => {
                let deleted = SessionStore::delete(self, new_id).await;
                other.map_err(store_error)?;
                deleted?;
                Ok(false)
            }
        }
    }
}

/// A connection problem is `Unavailable` (retryable, `503`); anything else is a backend error.
fn store_error(err: RedisError) -> StoreError {
    if err.is_io_error()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_timeout()
        || err.is_cluster_error()
    {
        StoreError::unavailable(err)
    } else {
        StoreError::backend(err)
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn load(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let now = Timestamp::now();
        let fields: HashFields = self
            .connection()
            .hgetall(self.key_of(id))
            .await
            .map_err(store_error)?;
        decode_record(fields, now)
    }

    async fn create(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        self.create_indexed(id, record, None).await
    }

    async fn update(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update_script(id, delta, idle_deadline).await
    }

    async fn update_keeping_deadline(
        &self,
        id: &SessionId,
        delta: &SessionDelta,
        _loaded: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        if delta.is_cleared() {
            // Clearing must keep the metadata, which only the script can do atomically; a
            // deadline that never wins keeps the stored one.
            return self
                .update_script(id, delta, Timestamp::from_unix_millis(0))
                .await;
        }
        self.write_keeping_deadline(id, delta).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        idle_deadline: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.update_script(id, &SessionDelta::default(), idle_deadline)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.connection()
            .del(self.key_of(id))
            .await
            .map_err(store_error)
    }

    /// Moves the session to a fresh ID so that a revocation running meanwhile wins: the take
    /// leaves a forwarding marker that revocations follow, and the move settles only if the
    /// marker is still there once the new ID exists (see the crate docs).
    async fn renew(
        &self,
        old_id: &SessionId,
        delta: &SessionDelta,
        renewal: Renewal,
    ) -> Result<Option<(SessionId, Timestamp)>, StoreError> {
        // The new ID first: the marker names it.
        let new_id = SessionId::generate();
        let Some(record) = self.take_for_move(old_id, &new_id).await? else {
            return Ok(None);
        };
        self.finish_renew(old_id, new_id, record, delta, renewal)
            .await
    }

    async fn take(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let now = Timestamp::now();
        let fields: Option<HashFields> = self
            .run_script(&scripts::TAKE, &self.key_of(id), |_| {})
            .await?;
        fields.map_or(Ok(None), |fields| decode_record(fields, now))
    }
}

/// A revocation placed between the steps of a renew (the interleavings a request and an admin
/// job can produce), on a single node and on a cluster.
#[cfg(test)]
mod renew_vs_revocation {
    use serde_json::json;
    use session_core::users::USER_KEY;
    use session_core::{SessionHandle, UserSessionStore as _};

    use super::*;
    use crate::test_redis::{cluster, random_prefix, single};

    const USER: &str = "ada";

    /// A sign-in indexes its new session, then creates it; a listing in between must not
    /// drop the entry (it finds no key yet), or `revoke_all` would miss the session.
    #[tokio::test]
    async fn a_listing_between_indexing_and_creating_keeps_the_entry() {
        let store = single().await;
        let first = signed_in(&store).await;
        let id = SessionId::generate();
        let Some(record) = store.load(&first).await.unwrap() else {
            panic!("the first session is live");
        };
        store
            .index_session(USER, &id, record.absolute_expires_at)
            .await
            .unwrap();
        assert_eq!(store.sessions_of(USER).await.unwrap().len(), 1);
        assert!(store.create_unindexed(&id, &record, None).await.unwrap());
        assert_eq!(store.revoke_all(USER).await.unwrap(), 2);
        assert!(store.load(&id).await.unwrap().is_none());
    }

    /// A live session bound to [`USER`], and its ID.
    async fn signed_in(store: &RedisStore) -> SessionId {
        let now = Timestamp::now();
        let record = SessionRecord::new(
            [
                (USER_KEY.to_owned(), json!(USER)),
                ("cart".to_owned(), json!(1)),
            ]
            .into_iter()
            .collect(),
            now,
            now + Duration::from_secs(600),
            now + Duration::from_secs(3600),
        );
        let id = SessionId::generate();
        assert!(store.create(&id, &record).await.unwrap());
        id
    }

    fn later() -> Timestamp {
        Timestamp::now() + Duration::from_secs(900)
    }

    async fn assert_signed_out(store: &RedisStore, ids: [&SessionId; 2]) {
        for id in ids {
            assert!(store.load(id).await.unwrap().is_none(), "an ID is live");
        }
        assert!(store.sessions_of(USER).await.unwrap().is_empty());
    }

    /// Revoked once the session was taken from its old ID and before it exists under the
    /// new one. A late write to the old ID and a listing come first: neither may erase the
    /// marker the revocation follows.
    async fn revoked_between_take_and_create(store: RedisStore, by_handle: bool) {
        let old = signed_in(&store).await;
        let new = SessionId::generate();
        let record = store
            .take_for_move(&old, &new)
            .await
            .unwrap()
            .expect("the session is live");
        let mut late = SessionDelta::default();
        late.insert("late", json!(true));
        assert_eq!(store.update(&old, &late, later()).await.unwrap(), None);
        assert!(store.sessions_of(USER).await.unwrap().is_empty());

        if by_handle {
            assert!(store.revoke(&SessionHandle::of(&old)).await.unwrap());
        } else {
            assert_eq!(store.revoke_all(USER).await.unwrap(), 1);
        }
        assert!(
            !store.create(&new, &record).await.unwrap(),
            "the new ID was created after the revocation"
        );
        let renewed = store
            .finish_renew(
                &old,
                new.clone(),
                record,
                &SessionDelta::default(),
                Renewal::Extend(later()),
            )
            .await
            .unwrap();
        assert_eq!(renewed, None, "the renew went through");
        assert_signed_out(&store, [&old, &new]).await;
    }

    /// Revoked once the session exists under its new ID, before the renew settled.
    async fn revoked_between_create_and_settle(store: RedisStore, by_handle: bool) {
        let old = signed_in(&store).await;
        let new = SessionId::generate();
        let record = store.take_for_move(&old, &new).await.unwrap().unwrap();
        assert!(store.create(&new, &record).await.unwrap());
        if by_handle {
            assert!(store.revoke(&SessionHandle::of(&old)).await.unwrap());
        } else {
            assert_eq!(store.revoke_all(USER).await.unwrap(), 1, "counted once");
        }
        assert!(!store.settle_move(&old, &new).await.unwrap());
        assert_signed_out(&store, [&old, &new]).await;
    }

    async fn every_schedule(store: impl Fn() -> RedisStore) {
        for by_handle in [false, true] {
            revoked_between_take_and_create(store(), by_handle).await;
            revoked_between_create_and_settle(store(), by_handle).await;
        }
    }

    #[tokio::test]
    async fn a_revocation_during_a_renew_ends_both_ids() {
        let store = single().await;
        every_schedule(|| store.clone().with_key_prefix(random_prefix())).await;
    }

    #[tokio::test]
    async fn a_revocation_during_a_renew_ends_both_ids_on_the_cluster() {
        let store = cluster().await;
        every_schedule(|| store.clone().with_key_prefix(random_prefix())).await;
    }
}
