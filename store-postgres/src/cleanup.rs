//! The background task that deletes expired rows.

use std::time::Duration;

use sqlx::{AssertSqlSafe, PgPool};
use tokio::task::JoinHandle;

use session_core::clock::SharedClock;

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

pub(crate) fn spawn(
    pool: PgPool,
    statement: std::sync::Arc<str>,
    clock: SharedClock,
    interval: Duration,
) -> CleanupTask {
    let handle = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = sweep(&pool, &statement, &clock).await {
                // Keep going: the database may be restarting; the next tick tries again.
                log::warn!("session cleanup failed, retrying in {interval:?}: {err}");
            }
        }
    });
    CleanupTask { handle }
}

/// Deletes expired rows in batches until a batch comes back short. Returns how many it deleted.
pub(crate) async fn sweep(
    pool: &PgPool,
    statement: &std::sync::Arc<str>,
    clock: &SharedClock,
) -> Result<u64, sqlx::Error> {
    let now = i64::try_from(clock.now().as_unix_millis()).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        let deleted = sqlx::query(AssertSqlSafe(statement.clone()))
            .bind(now)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
