//! The background task that deletes expired rows.

use std::time::Duration;

use std::sync::Arc;

use sqlx::AssertSqlSafe;
use tokio::task::JoinHandle;

use session_core::StoreError;

use crate::PostgresStore;
use crate::statement::Retry;

/// Rows deleted per statement, so one sweep never holds many locks or a long transaction.
pub(crate) const BATCH: i64 = 1000;

/// Handle of the cleanup task started by
/// [`PostgresStore::spawn_cleanup`](crate::PostgresStore::spawn_cleanup). Dropping it stops the
/// task.
#[derive(Debug)]
#[must_use = "the cleanup task stops when its handle is dropped"]
pub struct CleanupTask {
    handle: JoinHandle<()>,
}

impl Drop for CleanupTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

pub(crate) fn spawn(store: PostgresStore, interval: Duration) -> CleanupTask {
    let handle = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = sweep(&store).await {
                // Keep going: the database may be restarting; the next tick tries again.
                log::warn!("session cleanup failed, retrying in {interval:?}: {err}");
            }
        }
    });
    CleanupTask { handle }
}

/// Deletes expired rows in batches until a batch comes back short. Returns how many it deleted.
/// Each batch is one statement, bounded by the store's timeout.
pub(crate) async fn sweep(store: &PostgresStore) -> Result<u64, StoreError> {
    let now = i64::try_from(store.clock.now().as_unix_millis()).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        // Deleting expired rows twice deletes the same rows.
        let deleted = store
            .run(Retry::OnBrokenConnection, |mut conn| async move {
                let result = sqlx::query(AssertSqlSafe(Arc::clone(&store.sql.cleanup)))
                    .bind(now)
                    .bind(BATCH)
                    .execute(&mut *conn)
                    .await;
                (conn, result)
            })
            .await?
            .rows_affected();
        total += deleted;
        if deleted < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
