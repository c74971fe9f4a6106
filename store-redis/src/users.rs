//! The user index: a sorted set per user that lists the user's sessions, and the listing and
//! revocation that read it (see the crate docs on revocation and renew).

use std::collections::HashSet;
use std::future::Future;

use async_trait::async_trait;
use futures_util::future::join_all;
use redis::AsyncCommands as _;
use session_core::{
    ActiveSession, SessionHandle, SessionId, StorageKey, StoreError, Timestamp, UserSessionStore,
};
use sha2::{Digest as _, Sha256};

use crate::layout::{HashFields, META_FIELD, decode_listed, field, forwarded_to};
use crate::scripts::{self, Revoked};
use crate::{IN_FLIGHT, RedisStore, TIMEOUT, store_error};

impl RedisStore {
    /// The sorted set listing a user's sessions: members are session hashes, scores their
    /// absolute expiry (which nothing extends, so trimming by score never drops a live session).
    fn user_index_key(&self, user_id: &str) -> String {
        let hash = StorageKey::from_bytes(Sha256::digest(user_id.as_bytes()).into());
        format!("{}user:{}", self.prefix, hash.to_hex())
    }

    /// Revokes what the key of the session with hash `member` holds and, while that is a
    /// forwarding marker, what the key it forwards to holds (a renew's new ID), and so on.
    ///
    /// Returns whether it ended a session: deleted a live one, or a marker to a key that is not
    /// among `listed` (the index entries the caller revokes by themselves, each counted once
    /// there). A marker to `keep` is deleted, but `keep` is left alone.
    async fn revoke_forwarded(
        &self,
        member: &str,
        listed: &HashSet<&str>,
        keep: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut ended = false;
        let mut key = self.member_key(member);
        // A new ID never repeats, so a cycle means a keyspace written by someone else.
        let mut visited = HashSet::new();
        while visited.insert(key.clone()) {
            let revoked: Revoked = self
                .run_script(&scripts::REVOKE, &key, |script| {
                    script.arg(IN_FLIGHT.as_secs());
                })
                .await?;
            match revoked {
                Revoked::Session => return Ok(true),
                Revoked::Nothing => break,
                Revoked::Forwarded(target) => {
                    if keep == Some(target.as_str()) {
                        break;
                    }
                    ended |= !listed.contains(target.as_str());
                    key = self.member_key(&target);
                }
            }
        }
        Ok(ended)
    }

    /// Ends every session in the user's index but `keep`, following forwarding markers, and
    /// returns how many it ended. Every entry is revoked, whatever its score: revoking one that
    /// is already gone costs little, and a clock that drifted must not leave a live session out.
    /// The entries revoked then leave the index: each is gone or a tombstone now.
    async fn revoke_indexed(
        &self,
        user_id: &str,
        keep: Option<&SessionHandle>,
    ) -> Result<usize, StoreError> {
        let index = self.user_index_key(user_id);
        let members: Vec<String> = self
            .connection()
            .zrange(&index, 0, -1)
            .await
            .map_err(store_error)?;
        let keep = keep.map(ToString::to_string);
        let keep = keep.as_deref();
        let listed: HashSet<&str> = members.iter().map(String::as_str).collect();
        let revoked_members: Vec<&str> = members
            .iter()
            .map(String::as_str)
            .filter(|&member| Some(member) != keep)
            .collect();
        let revocations = revoked_members
            .iter()
            .map(|member| self.revoke_forwarded(member, &listed, keep));
        let mut revoked = 0;
        for ended in join_all(revocations).await {
            revoked += usize::from(ended?);
        }
        self.unindex(&index, &revoked_members).await?;
        Ok(revoked)
    }

    /// Removes `members` from the user index `index`.
    async fn unindex(&self, index: &str, members: &[&str]) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        self.connection()
            .zrem(index, members)
            .await
            .map_err(store_error)
    }

    /// Adds the session to its user's index and trims entries whose sessions can no longer be
    /// alive, so the index never grows without bound.
    ///
    /// The index expires with its longest-lived member: its TTL only ever moves later. `GT`
    /// alone would never set it, since Redis compares against a key without TTL as if it lived
    /// forever, so `NX` first gives a new index its first deadline.
    pub(crate) async fn index_session(
        &self,
        user_id: &str,
        id: &SessionId,
        absolute: Timestamp,
    ) -> Result<(), StoreError> {
        let index = self.user_index_key(user_id);
        let now = Timestamp::now().as_unix_millis();
        let absolute = absolute.as_unix_millis();
        let mut pipe = redis::pipe();
        pipe.zadd(&index, id.storage_key().to_hex(), absolute)
            .ignore()
            .zrembyscore(&index, "-inf", now)
            .ignore();
        for condition in ["NX", "GT"] {
            pipe.cmd("PEXPIREAT")
                .arg(&index)
                .arg(absolute)
                .arg(condition)
                .ignore();
        }
        let () = pipe
            .query_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// Lists and revokes a user's sessions through a per-user sorted set.
///
/// In a Redis Cluster the index and the session keys live in different slots, so no single
/// command or script covers both. The index is written before the session it lists (a failure
/// in between leaves a stale entry, never an unlisted session); listing checks every entry
/// against its session (the user stored in it, its TTL) and drops those whose key holds
/// something else (another user's or an expired session, a tombstone), but keeps the entry of
/// a renew's forwarding marker and of a missing key (a create may be in flight; such entries go
/// when their absolute expiry passes, trimmed as sessions are indexed); revocation revokes
/// session keys one by one, each atomically, and follows forwarding markers (see the crate docs
/// on revocation and renew).
///
/// Revocation decodes nothing: it ends every key in the user's index that holds a session (has
/// metadata), so a session this version cannot read (corrupt, or written by a newer format) is
/// revoked all the same. Listing skips such a session, keeps it in the index for revocation to
/// find, and reports it with `tracing::warn!` (by handle, never by ID).
#[async_trait]
impl UserSessionStore for RedisStore {
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        bounded(self.list(user_id)).await
    }

    async fn revoke(&self, handle: &SessionHandle) -> Result<bool, StoreError> {
        bounded(self.revoke_forwarded(&handle.to_string(), &HashSet::new(), None)).await
    }

    async fn revoke_all(&self, user_id: &str) -> Result<usize, StoreError> {
        bounded(self.revoke_indexed(user_id, None)).await
    }

    async fn revoke_all_except(
        &self,
        user_id: &str,
        keep: &SessionHandle,
    ) -> Result<usize, StoreError> {
        bounded(self.revoke_indexed(user_id, Some(keep))).await
    }
}

/// `operation`, several commands, failed as the store being unavailable if it takes longer
/// than one command may (`TIMEOUT`): listing or revoking a user's sessions is bounded like any
/// other store call. Cut short, a revocation may have ended some of the sessions; the index
/// entries it did not remove are skipped when listed, as after any failed revocation.
async fn bounded<T>(
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(TIMEOUT, operation)
        .await
        .unwrap_or_else(|elapsed| Err(StoreError::unavailable(elapsed)))
}

impl RedisStore {
    /// The user's live sessions, oldest first; index entries of sessions gone leave the index.
    async fn list(&self, user_id: &str) -> Result<Vec<ActiveSession>, StoreError> {
        let index = self.user_index_key(user_id);
        let now = Timestamp::now();
        let members: Vec<String> = self
            .connection()
            .zrangebyscore(&index, now.as_unix_millis(), "+inf")
            .await
            .map_err(store_error)?;
        let lookups = members.iter().map(|member| {
            let key = self.member_key(member);
            let mut connection = self.connection();
            async move { connection.hgetall::<_, HashFields>(key).await }
        });
        let mut sessions = Vec::new();
        let mut stale = Vec::new();
        let replies = join_all(lookups).await;
        for (member, reply) in members.iter().map(String::as_str).zip(replies) {
            let fields = reply.map_err(store_error)?;
            let Ok(handle) = member.parse::<SessionHandle>() else {
                stale.push(member);
                continue;
            };
            if field(&fields, META_FIELD).and_then(forwarded_to).is_some() || fields.is_empty() {
                // A renew's forwarding marker: not a session to list, but revocations must still
                // find the entry to follow it. A missing key may be a session whose create is in
                // flight (the index is written first): its entry stays until the trim by
                // absolute expiry, or revocation could miss the session once it exists.
                continue;
            }
            match decode_listed(fields, now) {
                Ok(Some((record, seen))) if record.user() == Some(user_id) => {
                    sessions.push(ActiveSession::new(
                        handle,
                        record.created_at,
                        seen,
                        record.expires_at,
                        record.client().cloned(),
                    ));
                }
                Ok(_) => stale.push(member),
                Err(err) => tracing::warn!(
                    "session {handle} of a listed user cannot be decoded, so it is not listed \
                     (revoking the user's sessions still ends it): {err}"
                ),
            }
        }
        self.unindex(&index, &stale).await?;
        sessions.sort_by_key(|s| s.created_at);
        Ok(sessions)
    }
}

#[cfg(test)]
mod tests {
    //! The bound on a listing or revocation as a whole, on tokio's paused clock: it moves only to
    //! the next timer once every task waits, so the arithmetic decides, not the machine. The
    //! fault suite (`scripts/faults.sh redis-slow`) found the defect this guards against: behind
    //! a Redis slowed to 200 ms per packet, "sign out everywhere" took 3.2 s, three commands in
    //! turn, each within its own timeout. The acceptance suite runs the operations themselves on
    //! the real Redis and Redis Cluster.
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use tokio::time::{Instant, sleep};

    use super::*;

    /// Three steps, each well within `TIMEOUT`, together past it: what a revocation's index
    /// read, revocations and unindex were behind the slow Redis.
    async fn three_slow_steps() -> Result<u32, StoreError> {
        for _ in 0..3 {
            sleep(TIMEOUT * 3 / 5).await;
        }
        Ok(3)
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_of_several_commands_is_cut_at_the_timeout() {
        let started = Instant::now();
        let result = bounded(three_slow_steps()).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
        let ended = started.elapsed();
        // Tokio's timers fire on the next whole millisecond.
        assert!(
            (TIMEOUT..=TIMEOUT + Duration::from_millis(1)).contains(&ended),
            "cut at the timeout, after {ended:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_within_the_timeout_is_left_alone() {
        let quick = async {
            sleep(TIMEOUT / 2).await;
            Ok::<_, StoreError>(1)
        };
        assert_eq!(bounded(quick).await.unwrap(), 1);
    }
}
