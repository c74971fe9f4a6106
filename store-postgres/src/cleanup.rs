//! The background task that deletes expired rows.

use std::time::Duration;

use tokio::task::JoinHandle;

use session_core::StoreError;

use crate::statement::Retry;
use crate::{PostgresStore, millis};

/// Rows deleted per statement, so one sweep never holds many locks or a long transaction.
const BATCH: i64 = 1000;

/// Handle of the cleanup task started by
/// [`PostgresStore::spawn_cleanup`](crate::PostgresStore::spawn_cleanup).
///
/// The task runs until the store's pool is closed ([`PgPool::close`](sqlx::PgPool::close)),
/// the runtime it was spawned on shuts down, or [`stop`](Self::stop) is called. Dropping the
/// handle leaves it running, so `let _ = store.spawn_cleanup(..)` keeps cleaning.
#[derive(Debug)]
pub struct CleanupTask {
    handle: JoinHandle<()>,
}

impl CleanupTask {
    /// Stops the task. A batch being deleted at that moment is one statement, so the table is
    /// never left half swept; the next sweep (of a new task) picks up where this one stopped.
    ///
    /// ```
    /// # async fn run(store: store_postgres::PostgresStore) {
    /// use std::time::Duration;
    /// let cleanup = store.spawn_cleanup(Duration::from_secs(300));
    /// cleanup.stop();
    /// # }
    /// ```
    pub fn stop(self) {
        self.handle.abort();
    }

    /// Whether the task has ended: stopped, or its pool closed.
    ///
    /// ```
    /// # async fn run(store: store_postgres::PostgresStore) {
    /// use std::time::Duration;
    /// let cleanup = store.spawn_cleanup(Duration::from_secs(300));
    /// assert!(!cleanup.is_finished());
    /// store.pool().close().await; // the task ends with its pool, soon after
    /// # }
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

pub(crate) fn spawn(store: PostgresStore, interval: Duration) -> CleanupTask {
    let handle = tokio::spawn(async move {
        let mut closed = store.pool.close_event();
        // Ends when the pool closes (cutting off a sweep in progress); runs forever otherwise.
        let _ = closed.do_until(sweep_every(&store, interval)).await;
    });
    CleanupTask { handle }
}

async fn sweep_every(store: &PostgresStore, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(err) = sweep(store).await {
            // Keep going: the database may be restarting; the next tick tries again.
            tracing::warn!("session cleanup failed, retrying in {interval:?}: {err}");
        }
    }
}

/// Deletes expired rows in batches until a batch comes back short. Returns how many it deleted.
/// Each batch is one statement, bounded by the store's timeout.
pub(crate) async fn sweep(store: &PostgresStore) -> Result<u64, StoreError> {
    let now = millis(store.clock.now());
    let mut total = 0;
    loop {
        // Deleting expired rows twice deletes the same rows.
        let deleted = store
            .run(Retry::OnBrokenConnection, async |conn| {
                sqlx::query(store.sql.cleanup.clone())
                    .bind(now)
                    .bind(BATCH)
                    .execute(conn)
                    .await
            })
            .await?
            .rows_affected();
        total += deleted;
        if deleted < BATCH.unsigned_abs() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
