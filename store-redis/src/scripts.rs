//! The server-side scripts for what plain commands cannot do atomically: create without
//! overwriting, clear without losing the metadata, take (and leave a forwarding marker), revoke.
//! Each touches exactly one key, so each runs on Redis Cluster.
//!
//! Layout of one session hash: field `@` holds the metadata `"<version>:<created_ms>:<absolute_ms>"`,
//! field `@seen` when it was last written or refreshed (ms), `@idle` the idle deadline (ms), and each session key `k` is the
//! field `.k` holding its JSON value. The key's TTL is the effective expiry (the idle deadline,
//! capped by the absolute one), set with `PEXPIREAT`, and moves only forward. Two other hashes
//! hold no session, and every script but `REVOKE` treats them as absent: a forwarding marker
//! (field `@moved`, the hash of the key a renew moves the session to) and a tombstone (field
//! `@revoked`). Both live a short while (`IN_FLIGHT` in the crate root).

use std::sync::LazyLock;

use redis::{
    Cmd, ErrorKind, FromRedisValue, ParsingError, RedisResult, Script, ServerErrorKind, Value,
};

use redis::aio::ConnectionLike;

/// `KEYS[1]` session key; `ARGV[1]` expiry (ms), then field/value pairs (metadata and `@seen`
/// first). Returns 1 when created, 0 (writing nothing) when the key exists.
pub(crate) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- HSET in slices: unpack() of thousands of arguments would overflow Lua's stack.
for i = 2, #ARGV, 200 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
-- After the fields: a deadline already past deletes the key, and nothing may recreate it.
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
",
    )
});

/// An update that moves the idle deadline (a refresh, a touch) or clears the session; the
/// common write, which keeps the deadline, is plain commands (see
/// `RedisStore::write_keeping_deadline`). `KEYS[1]` session key; `ARGV[1]` idle deadline (ms),
/// `ARGV[2]` now (ms, for `@seen`), `ARGV[3]` `1` to clear the data first, `ARGV[4]` the number
/// of field/value pairs that follow, then the removed fields. The deadline only moves forward
/// (a later one already set stays, TTL and `@idle` alike) and never past the absolute one.
/// Returns the new expiry, or -1 (writing nothing) when no session holds the key.
pub(crate) static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local meta = redis.call('HGET', KEYS[1], '@')
if not meta then return -1 end
local absolute = string.match(meta, '^%d+:%d+:(%d+)$')
if not absolute then return redis.error_reply('ERR corrupt session metadata') end
-- Never earlier than the deadline already set (-1, no TTL, never wins), never past the absolute.
local deadline = math.max(tonumber(ARGV[1]), redis.call('PEXPIRETIME', KEYS[1]))
deadline = math.min(deadline, tonumber(absolute))
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '@', meta)
end
redis.call('HSET', KEYS[1], '@seen', ARGV[2], '@idle', string.format('%d', deadline))
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for j = i, #ARGV do redis.call('HDEL', KEYS[1], ARGV[j]) end
-- After the fields: a deadline already past deletes the key, and nothing may recreate it.
redis.call('PEXPIREAT', KEYS[1], string.format('%d', deadline))
return deadline
",
    )
});

/// `KEYS[1]` session key; for a renew, `ARGV[1]` the hash of the key the session moves to and
/// `ARGV[2]` how long the forwarding marker left in its place lives (ms). Atomically reads and
/// deletes the session: returns its fields (the flat `HGETALL` list), or
/// nil when the key holds no session (missing, a marker, a tombstone).
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[1], '@') == 0 then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
if ARGV[1] then
  redis.call('HSET', KEYS[1], '@moved', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return fields
",
    )
});

/// `KEYS[1]` a session key; `ARGV[1]` how long a tombstone lives (ms). Ends what the key holds,
/// decoding nothing (a session this version cannot read is revoked all the same):
///
/// - a forwarding marker: deletes it (a renew still in flight then finds it gone and undoes
///   itself) and returns the hash it forwarded to, for the caller to revoke too;
/// - a session (metadata present): deletes it and returns 1;
/// - nothing (or a hash without metadata, the trace of a write to a missing key): leaves a
///   tombstone, so that a create still in flight for this key (a renew's new ID, indexed before
///   it is created) is refused, and returns 0. An existing tombstone is left as it is.
pub(crate) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local target = redis.call('HGET', KEYS[1], '@moved')
if target then
  redis.call('DEL', KEYS[1])
  return target
end
if redis.call('HEXISTS', KEYS[1], '@') == 1 then
  redis.call('DEL', KEYS[1])
  return 1
end
if redis.call('HEXISTS', KEYS[1], '@revoked') == 0 then
  redis.call('HSET', KEYS[1], '@revoked', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
",
    )
});

/// What [`REVOKE`] found under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// A session, now deleted.
    Session,
    /// A forwarding marker, now deleted, to the key with this hash.
    Forwarded(String),
    /// No session: a tombstone stands there now.
    Nothing,
}

impl FromRedisValue for Revoked {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        match value {
            Value::Int(1) => Ok(Self::Session),
            Value::Int(0) => Ok(Self::Nothing),
            Value::BulkString(hash) => String::from_utf8(hash)
                .map(Self::Forwarded)
                .map_err(|_| ParsingError::from("a forwarding marker that is not UTF-8")),
            _ => Err(ParsingError::from(
                "an unexpected reply to the revoke script",
            )),
        }
    }
}

/// How many times [`eval`] loads a script that Redis answers it does not have.
const LOADS: usize = 3;

/// Runs `script` on the one key `key`, with the arguments `args` adds, as an `EVALSHA` built in
/// place, loading the script first when Redis answers that it does not have it (after a restart
/// or `SCRIPT FLUSH`), as redis-rs's `invoke_async` does. That API first collects every argument
/// in a buffer of its own and then copies them all into the command: callgrind counted about
/// 2k instructions of that per new session.
///
/// Unlike `invoke_async`, it loads again if the script is gone once more by the time it runs (a
/// flush that landed between the load and the run, as the tests' own flushes can), up to
/// [`LOADS`] times, and then gives up with Redis's answer.
pub(crate) async fn eval<T: FromRedisValue>(
    connection: &mut impl ConnectionLike,
    script: &Script,
    key: &str,
    args: impl FnOnce(&mut Cmd),
) -> RedisResult<T> {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(1).arg(key);
    args(&mut cmd);
    let mut loads = 0;
    loop {
        match cmd.query_async(connection).await {
            Err(err)
                if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) && loads < LOADS =>
            {
                loads += 1;
                script.load_async(connection).await?;
            }
            reply => return reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use redis::{Pipeline, RedisError, RedisFuture};

    use super::*;

    /// A connection to a Redis that forgets its scripts `forgets` times in a row: each time a
    /// flush lands between loading a script and running it.
    struct Forgetful {
        forgets: usize,
        hash: String,
        loads: usize,
    }

    impl ConnectionLike for Forgetful {
        fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
            let reply = if cmd.args_iter().next() == Some(redis::Arg::Simple(b"SCRIPT")) {
                self.loads += 1;
                Ok(Value::BulkString(self.hash.clone().into_bytes()))
            } else if self.forgets > 0 {
                self.forgets -= 1;
                Err(RedisError::from((
                    ErrorKind::Server(ServerErrorKind::NoScript),
                    "no matching script",
                )))
            } else {
                Ok(Value::Int(1))
            };
            Box::pin(std::future::ready(reply))
        }

        fn req_packed_commands<'a>(
            &'a mut self,
            _: &'a Pipeline,
            _: usize,
            _: usize,
        ) -> RedisFuture<'a, Vec<Value>> {
            Box::pin(std::future::ready(Ok(Vec::new())))
        }

        fn get_db(&self) -> i64 {
            0
        }
    }

    fn forgetful(forgets: usize) -> Forgetful {
        Forgetful {
            forgets,
            hash: REVOKE.get_hash().to_owned(),
            loads: 0,
        }
    }

    #[tokio::test]
    async fn a_script_flushed_again_while_it_is_reloaded_still_runs() {
        let mut connection = forgetful(3);
        let reply: i64 = eval(&mut connection, &REVOKE, "key", |_| {}).await.unwrap();
        assert_eq!((reply, connection.loads), (1, 3));
    }

    #[tokio::test]
    async fn a_redis_that_never_keeps_the_script_is_an_error_not_a_loop() {
        let mut connection = forgetful(usize::MAX);
        let reply: RedisResult<i64> = eval(&mut connection, &REVOKE, "key", |_| {}).await;
        assert!(reply.is_err());
    }
}
