//! Running one statement: on a pooled connection, within the store's timeout, once more after a
//! broken connection when that is safe.
//!
//! The timeout is enforced by the client: it is the only bound that also covers a black-holed
//! connection, and it works alike on a pool the application built and shares. (A server-side
//! `statement_timeout` would need an extra round trip per call, or a setting on every connection
//! of the pool, cutting off the application's own queries and `migrate`'s wait for other
//! instances.) A connection whose statement the timeout cuts off is dropped, never reused: handed
//! back to the pool, sqlx would ping it first, which waits for the server to finish the
//! abandoned statement (never, on a dead link), holding a pool slot all along. Nor is it closed
//! gracefully: over TLS, sqlx's close (a `Terminate`, then the TLS shutdown) took its whole 5 s
//! close timeout while the statement was blocked on a lock, holding the slot as long.

use std::future::Future;

use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnection;
use tokio::time::Instant;

use session_core::StoreError;

use crate::{PostgresStore, store_error};

/// Whether [`PostgresStore::run`] may run a statement a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Once more, on another connection, when the first turns out to be broken (the database
    /// restarted or the network dropped it): for statements that do the same thing twice.
    /// Without it, every connection a restart killed would fail one request with `503` after
    /// the database is back.
    OnBrokenConnection,
    /// Never: the first run may have taken effect before the connection broke, and running it
    /// again would change the answer (a `DELETE … RETURNING`, an insert, a move to a new ID).
    Never,
}

/// A pooled connection running a statement. Dropped before the statement finished (the timeout
/// cut it off, or the caller dropped the call), it leaves the pool at once, freeing its slot, and
/// its socket is closed, since the server may still be running the statement.
struct InFlight {
    conn: Option<PoolConnection<Postgres>>,
    finished: bool,
}

impl InFlight {
    fn connection(&mut self) -> &mut PgConnection {
        self.conn
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("the connection leaves only when dropped"))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished
            && let Some(conn) = self.conn.take()
        {
            drop(conn.detach());
        }
    }
}

impl PostgresStore {
    /// Runs `statement` on a pooled connection: acquiring the connection and running the
    /// statement together take at most the store's timeout, past which the call fails with
    /// [`StoreError::Unavailable`].
    pub(crate) async fn run<T>(
        &self,
        retry: Retry,
        statement: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error> + Clone,
    ) -> Result<T, StoreError> {
        // A timeout too large to add to now (`Duration::MAX`) means no deadline.
        let deadline = Instant::now().checked_add(self.timeout);
        let mut retry = retry == Retry::OnBrokenConnection;
        loop {
            let conn = self
                .within(deadline, Box::pin(self.pool.acquire()))
                .await?
                .map_err(store_error)?;
            let mut in_flight = InFlight {
                conn: Some(conn),
                finished: false,
            };
            let result = self
                .within(
                    deadline,
                    Box::pin(statement.clone()(in_flight.connection())),
                )
                .await?;
            in_flight.finished = true;
            match result {
                Err(sqlx::Error::Io(_) | sqlx::Error::Protocol(_)) if retry => retry = false,
                result => return result.map_err(store_error),
            }
        }
    }

    /// `future`'s output, or `Unavailable` if `deadline` passes first.
    ///
    /// Callers pass their futures boxed: a pool's acquire and a query hold kilobytes of state,
    /// which every wrapper copied as it moved in. Callgrind on the benchmark's PostgreSQL
    /// `/read`: 118k instructions per request with the futures moved (half of them memcpy),
    /// 76k boxed (36% fewer), 73k before the timeout existed.
    async fn within<F: Future>(
        &self,
        deadline: Option<Instant>,
        future: F,
    ) -> Result<F::Output, StoreError> {
        let Some(deadline) = deadline else {
            return Ok(future.await);
        };
        tokio::time::timeout_at(deadline, future)
            .await
            .map_err(|_| {
                StoreError::unavailable(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("session store call timed out after {:?}", self.timeout),
                ))
            })
    }
}
