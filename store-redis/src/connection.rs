//! One connection type over a single node or a cluster.

use redis::aio::{ConnectionLike, ConnectionManager, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

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
