//! Running one statement: on a pooled connection, within the store's timeout, once more after a
//! broken connection when that is safe.
//!
//! The timeout is enforced by the client, and a connection whose statement it cuts off is
//! closed, never reused. Why that design:
//!
//! - It is the only bound that also covers a black-holed connection (the server never answers),
//!   and it works the same on a pool the application built ([`PostgresStore::new`]) as on the
//!   one [`PostgresStore::connect`] opens.
//! - A server-side `statement_timeout` would need either an extra round trip per call (`BEGIN;
//!   SET LOCAL …` before the statement) or a setting on every connection of the pool, which on
//!   a pool shared with the application would also cut off the application's own queries (and
//!   `migrate`'s wait for other instances).
//! - sqlx 0.9 lets a statement's future be dropped mid-flight, but a connection returned to the
//!   pool in that state is pinged on release, which first waits for the server to finish the
//!   abandoned statement (after the lock is gone; never, on a dead link), holding a pool slot
//!   all along. So a cut-off connection is closed instead, and the pool opens a fresh one.

use std::future::Future;
use std::ops::{Deref, DerefMut};

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

/// A pooled connection lent to one statement, which hands it back when it has its answer. If
/// it is dropped before that (the statement's future was cut off by the timeout) the
/// connection is closed instead of going back to the pool, since the server may still be
/// running the statement.
pub(crate) struct Lent {
    conn: PoolConnection<Postgres>,
    handed_back: bool,
}

impl Deref for Lent {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if !self.handed_back {
            self.conn.close_on_drop();
        }
    }
}

impl PostgresStore {
    /// Runs `statement` on a pooled connection: acquiring the connection and running the
    /// statement together take at most the store's timeout, past which the call fails with
    /// [`StoreError::Unavailable`]. `statement` gets the connection and hands it back with
    /// its result.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        retry: Retry,
        mut statement: F,
    ) -> Result<T, StoreError>
    where
        F: FnMut(Lent) -> Fut,
        Fut: Future<Output = (Lent, Result<T, sqlx::Error>)>,
    {
        // A timeout too large to add to now (`Duration::MAX`) means no deadline.
        let deadline = Instant::now().checked_add(self.timeout);
        let mut retry = retry == Retry::OnBrokenConnection;
        loop {
            let conn = self
                .within(deadline, Box::pin(self.pool.acquire()))
                .await?
                .map_err(store_error)?;
            let lent = Lent {
                conn,
                handed_back: false,
            };
            // On timeout the statement's future is dropped here, and the connection with it.
            // Both futures boxed (see `within`).
            let (mut lent, result) = self.within(deadline, Box::pin(statement(lent))).await?;
            lent.handed_back = true;
            drop(lent);
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
    /// 76k boxed, 73k before the timeout existed.
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
