//! One connection type over a single node or a cluster, and one connection per worker thread.
//!
//! [`RedisStore::connect`](crate::RedisStore::connect) and
//! [`connect_cluster`](crate::RedisStore::connect_cluster) give each thread that runs a
//! current-thread runtime (every actix-web worker runs one) a multiplexed connection of its
//! own, so a request's Redis commands are written and answered on its worker's thread. One
//! connection shared by every worker is driven by the thread that opened it (`main` under
//! `#[actix_web::main]`): each command then wakes that thread and each reply wakes the worker
//! again.
//!
//! **What it buys**, measured against that shared [`ConnectionManager`] cloned per request
//! (bench server, one worker, `ours-redis`, a `redis-server` of its own; CPU time of the server
//! plus `redis-server` per request, medians of 7 alternating 4 s `wrk -t1 -c32` runs on 2
//! cores): `/read` 23.4 µs against 31.1 µs, `/incr` 38.1 against 53.6, `/incr` without a
//! cookie (a new session) 36.7 against 48.6, a session of 2 KB 28.3 against 33.2, that is 15 to
//! 29% less CPU per request. The cluster connections were not measured apart; they avoid the
//! same wake-ups.
//!
//! **What it assumes about the runtime**: a thread's connection belongs to the runtime it was
//! made on, because its driver task runs there, so a thread that runs several runtimes in turn
//! gets one connection each. A multi-thread runtime (where a task moves between threads) and
//! the runtime the store connected on use the shared connection. Code that enters a
//! current-thread runtime's context without driving it (`Runtime::enter` and another executor)
//! gets a connection whose driver never runs: drive the runtime, as actix-web does.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, Pipeline, RedisFuture, Value};
use tokio::runtime::{self, Handle, RuntimeFlavor};
use tokio::sync::watch;

/// A multiplexed connection to a single Redis node or to a Redis Cluster, as the
/// [`RedisStore`](crate::RedisStore) uses it. Build it from a connection you already have with
/// `From`, or let [`RedisStore::connect`](crate::RedisStore::connect) /
/// [`RedisStore::connect_cluster`](crate::RedisStore::connect_cluster) make one.
#[derive(Clone)]
#[non_exhaustive]
pub enum RedisConnection {
    /// A single node behind a [`ConnectionManager`], which reconnects after failures.
    Manager(ConnectionManager),
    /// A single node over a plain [`MultiplexedConnection`] (no automatic reconnection).
    Multiplexed(MultiplexedConnection),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl RedisConnection {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Manager(_) => "single node (connection manager)",
            Self::Multiplexed(_) => "single node (multiplexed)",
            Self::Cluster(_) => "cluster",
        }
    }
}

impl From<ConnectionManager> for RedisConnection {
    fn from(conn: ConnectionManager) -> Self {
        Self::Manager(conn)
    }
}

impl From<MultiplexedConnection> for RedisConnection {
    fn from(conn: MultiplexedConnection) -> Self {
        Self::Multiplexed(conn)
    }
}

impl From<ClusterConnection> for RedisConnection {
    fn from(conn: ClusterConnection) -> Self {
        Self::Cluster(conn)
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Manager(conn) => conn.req_packed_command(cmd),
            Self::Multiplexed(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Manager(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Multiplexed(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Manager(conn) => conn.get_db(),
            Self::Multiplexed(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// A store's connections, one per thread and runtime (see the module docs). A task on the
/// runtime drops the connection once every clone of its store is gone; the connections of
/// runtimes that have shut down are dropped when the thread next makes one.
///
/// - A single node's [`ConnectionManager`] is made lazily: its first command connects (a
///   failure there is reported like any other) and it reconnects by itself.
/// - A cluster connection can only be opened asynchronously: a task on the thread's runtime
///   opens it while the thread's commands keep using the shared connection; after a failed
///   attempt the next one starts no sooner than [`RETRY_AFTER`] later.
pub(crate) struct WorkerConnections {
    connector: Connector,
    /// The runtime the shared connection was opened on: its threads use that one.
    home: Option<runtime::Id>,
    /// Never sent on: dropping it (with the last clone of the store) wakes each slot's task,
    /// which then drops the store's connection on its thread.
    gone: watch::Sender<()>,
}

/// How long a thread waits after a failed attempt to open its cluster connection.
const RETRY_AFTER: Duration = Duration::from_secs(1);

enum Connector {
    Node {
        client: Client,
        config: ConnectionManagerConfig,
    },
    Cluster(ClusterClient),
}

/// A thread's connection for one store on one runtime.
struct Slot {
    /// The store the connection belongs to; dead once every clone of the store is dropped.
    owner: Weak<WorkerConnections>,
    runtime: runtime::Id,
    /// Dead once the runtime has shut down: a task that holds its `Arc` is dropped with it.
    runtime_alive: Weak<()>,
    connection: SlotConnection,
}

enum SlotConnection {
    Ready(RedisConnection),
    /// A cluster connection that a task on the slot's runtime is opening.
    Opening(Arc<Mutex<Opening>>),
}

enum Opening {
    Pending,
    Open(ClusterConnection),
    Failed(Instant),
}

impl Slot {
    fn is_live(&self) -> bool {
        self.owner.strong_count() > 0 && self.runtime_alive.strong_count() > 0
    }

    /// The slot's connection if it is open, starting a new attempt to open it when the last
    /// one failed long enough ago.
    fn current(&mut self, handle: &Handle, connector: &Connector) -> Option<RedisConnection> {
        let opening = match &self.connection {
            SlotConnection::Ready(connection) => return Some(connection.clone()),
            SlotConnection::Opening(opening) => opening,
        };
        let mut state = opening.lock().ok()?;
        match &*state {
            Opening::Open(connection) => {
                let connection = RedisConnection::Cluster(connection.clone());
                drop(state);
                self.connection = SlotConnection::Ready(connection.clone());
                Some(connection)
            }
            Opening::Failed(at) if at.elapsed() >= RETRY_AFTER => {
                *state = Opening::Pending;
                if let Connector::Cluster(client) = connector {
                    open_cluster(handle, client.clone(), Arc::clone(opening));
                }
                None
            }
            Opening::Pending | Opening::Failed(_) => None,
        }
    }
}

/// Opens a cluster connection on `handle`'s runtime into `opening`.
fn open_cluster(handle: &Handle, client: ClusterClient, opening: Arc<Mutex<Opening>>) {
    drop(handle.spawn(async move {
        let opened = match client.get_async_connection().await {
            Ok(connection) => Opening::Open(connection),
            Err(_) => Opening::Failed(Instant::now()),
        };
        if let Ok(mut state) = opening.lock() {
            *state = opened;
        }
    }));
}

thread_local! {
    static SLOTS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

impl WorkerConnections {
    /// Per-worker connections to a single node, beside a shared one opened on the current
    /// runtime.
    pub(crate) fn node(client: Client, config: ConnectionManagerConfig) -> Arc<Self> {
        Self::new(Connector::Node { client, config })
    }

    /// Per-worker connections to a cluster, beside a shared one opened on the current runtime.
    pub(crate) fn cluster(client: ClusterClient) -> Arc<Self> {
        Self::new(Connector::Cluster(client))
    }

    fn new(connector: Connector) -> Arc<Self> {
        let home = Handle::try_current().ok().map(|handle| handle.id());
        let (gone, _) = watch::channel(());
        Arc::new(Self {
            connector,
            home,
            gone,
        })
    }

    /// This thread's connection for this store, made now if it has none; `None` outside a
    /// current-thread runtime, on the runtime the shared connection was opened on, and while a
    /// cluster connection is still being opened: the shared connection serves then.
    pub(crate) fn connection(self: &Arc<Self>) -> Option<RedisConnection> {
        let handle = Handle::try_current().ok()?;
        if handle.runtime_flavor() != RuntimeFlavor::CurrentThread {
            return None;
        }
        let runtime = handle.id();
        if self.home == Some(runtime) {
            return None;
        }
        SLOTS
            .try_with(|slots| {
                // Never borrowed twice: nothing below calls back into this function.
                let mut slots = slots.try_borrow_mut().ok()?;
                // Compared by address, so a lookup touches no count shared between workers.
                if let Some(slot) = slots.iter_mut().find(|slot| {
                    slot.runtime == runtime
                        && std::ptr::eq(slot.owner.as_ptr(), Arc::as_ptr(self))
                        && slot.is_live()
                }) {
                    return slot.current(&handle, &self.connector);
                }
                slots.retain(Slot::is_live);
                let connection = match &self.connector {
                    // Lazy: no I/O here; the first command connects, on this thread's runtime.
                    Connector::Node { client, config } => {
                        SlotConnection::Ready(RedisConnection::Manager(
                            ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
                                .ok()?,
                        ))
                    }
                    Connector::Cluster(client) => {
                        let opening = Arc::new(Mutex::new(Opening::Pending));
                        open_cluster(&handle, client.clone(), Arc::clone(&opening));
                        SlotConnection::Opening(opening)
                    }
                };
                // The slot's task: dropped with the runtime (so the slot reads as dead), or woken
                // when the store is gone, to drop the store's connections on this thread.
                let alive = Arc::new(());
                let runtime_alive = Arc::downgrade(&alive);
                let mut gone = self.gone.subscribe();
                drop(handle.spawn(async move {
                    let _alive = alive;
                    // Only ever an error: the sender is dropped, never sent on.
                    let _ = gone.changed().await;
                    let _ = SLOTS.try_with(|slots| {
                        if let Ok(mut slots) = slots.try_borrow_mut() {
                            slots.retain(Slot::is_live);
                        }
                    });
                }));
                slots.push(Slot {
                    owner: Arc::downgrade(self),
                    runtime,
                    runtime_alive,
                    connection,
                });
                slots.last_mut()?.current(&handle, &self.connector)
            })
            .ok()
            .flatten()
    }

    /// How many connections this thread holds, for all stores, and how many of them are open
    /// (tests only).
    #[cfg(test)]
    pub(crate) fn on_this_thread() -> (usize, usize) {
        SLOTS.with(|slots| {
            let slots = slots.borrow();
            let open = slots
                .iter()
                .filter(|slot| matches!(slot.connection, SlotConnection::Ready(_)))
                .count();
            (slots.len(), open)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use session_core::{SessionId, SessionStore};

    use super::*;
    use crate::RedisStore;
    use crate::test_redis::{cluster, single as connect};

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// The Redis client ID of the connection the store would use for a command issued now.
    async fn client_id(store: &RedisStore) -> i64 {
        let mut connection = store.connection();
        let mut command = redis::cmd("CLIENT");
        command.arg("ID");
        let id = command.query_async(&mut connection);
        tokio::time::timeout(Duration::from_secs(5), id)
            .await
            .expect("the connection answers")
            .expect("Redis at REDIS_URL must be reachable (scripts/services.sh starts it)")
    }

    fn multi_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn each_worker_thread_has_its_own_connection_and_others_share_one() {
        // The store connects on a pool (as under `#[tokio::main]`), whose threads keep driving
        // the shared connection while this thread blocks on other runtimes.
        let pool = multi_thread();
        let store = pool.block_on(connect());
        let shared = pool.block_on(client_id(&store));

        let worker = |store: RedisStore| {
            std::thread::spawn(move || {
                let runtime = current_thread();
                let first = runtime.block_on(client_id(&store));
                let again = runtime.block_on(client_id(&store));
                (first, again, WorkerConnections::on_this_thread().0)
            })
            .join()
            .unwrap()
        };
        let (a, a_again, a_slots) = worker(store.clone());
        let (b, _, _) = worker(store.clone());
        assert_eq!(a, a_again, "a worker keeps its connection");
        assert_eq!(a_slots, 1);
        assert!(a != shared && b != shared && a != b, "{shared} {a} {b}");

        let other_pool = multi_thread();
        let in_pool = store.clone();
        let pooled = other_pool.block_on(async move {
            tokio::spawn(async move { client_id(&in_pool).await })
                .await
                .unwrap()
        });
        assert_eq!(
            pooled, shared,
            "a multi-thread runtime uses the shared connection"
        );
    }

    #[test]
    fn a_runtime_that_shut_down_leaves_a_working_connection_behind() {
        std::thread::spawn(|| {
            let first = current_thread();
            let store = first.block_on(connect());
            first.block_on(client_id(&store));
            assert_eq!(
                WorkerConnections::on_this_thread().0,
                0,
                "the runtime that connected uses the shared connection"
            );
            let other = current_thread();
            let store_b = store.clone();
            // A second runtime on this thread, while the first is alive: its own connection.
            other.block_on(client_id(&store_b));
            assert_eq!(WorkerConnections::on_this_thread().0, 1);
            drop(other);
            drop(first);

            // Both runtimes are gone, with the shared connection's driver and the slot's. A
            // new runtime on this thread still gets an answer, and the dead slot is dropped.
            let next = current_thread();
            next.block_on(client_id(&store));
            assert_eq!(WorkerConnections::on_this_thread().0, 1);

            // Once every clone of a store is dropped, its connection goes as soon as the
            // runtime runs again.
            let fresh = next.block_on(connect());
            let later = current_thread();
            later.block_on(client_id(&fresh));
            later.block_on(client_id(&store));
            assert_eq!(WorkerConnections::on_this_thread().0, 3);
            drop((store, store_b));
            later.block_on(tokio::task::yield_now());
            next.block_on(tokio::task::yield_now());
            assert_eq!(
                WorkerConnections::on_this_thread().0,
                1,
                "only the live store's connection stays"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_cluster_worker_opens_its_own_connection_and_keeps_it_when_the_shared_one_is_gone() {
        let pool = multi_thread();
        let store = pool.block_on(cluster());
        let (opened_tx, opened) = std::sync::mpsc::channel();
        let (pool_gone, pool_gone_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let runtime = current_thread();
            runtime.block_on(async {
                // The first command starts opening this worker's connection and uses the
                // shared one meanwhile.
                store.load(&SessionId::generate()).await.unwrap();
                let deadline = Instant::now() + Duration::from_secs(10);
                while WorkerConnections::on_this_thread() != (1, 1) {
                    assert!(
                        Instant::now() < deadline,
                        "the worker's connection never opened"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    store.load(&SessionId::generate()).await.unwrap();
                }
            });
            opened_tx.send(()).unwrap();
            pool_gone_rx.recv().unwrap();
            // The shared connection's driver went with the pool: the worker does not need it.
            let answer = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), store.load(&SessionId::generate()))
                    .await
            });
            assert!(
                matches!(answer, Ok(Ok(None))),
                "the worker's own connection answers: {answer:?}"
            );
        });
        opened.recv().unwrap();
        drop(pool);
        pool_gone.send(()).unwrap();
        worker.join().unwrap();
    }
}
