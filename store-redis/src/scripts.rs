//! The server-side scripts for what plain commands cannot do atomically: create without
//! overwriting, move a deadline forward or clear without losing the metadata, take (and leave a
//! forwarding marker), revoke.
//! Each declares the one key it touches, so each runs on Redis Cluster. The hash they work on is
//! described in `layout.rs`, whose constants the scripts are built from; its TTL is the
//! effective expiry (the idle deadline, capped by the absolute one), set with `PEXPIREAT`, and
//! moves only forward. Every script but `REVOKE` treats a forwarding marker and a tombstone as
//! absent; both live a short while (`IN_FLIGHT` in the crate root).

use std::sync::LazyLock;

use redis::{FromRedisValue, ParsingError, Script, Value};

use session_core::SessionRecord;

use crate::layout::{MARKER, META_FIELD, SEEN_FIELD, TOMBSTONE};

/// A script whose `$META`, `$SEEN`, `$TOMBSTONE`, `$MARKER` and `$VERSION` are the layout's
/// names and the format version. Given `at`, the value of `@` (false for a missing key), the
/// Lua `forwarded_to(at)` is the hash a forwarding marker forwards to, and `session_meta(at)`
/// is `at` when it holds a session's metadata; each is false otherwise, as
/// `layout::forwarded_to` and `layout::session_meta`.
fn script(body: &str) -> Script {
    let prelude = "
local function forwarded_to(at)
  if at and string.sub(at, 1, #'$MARKER') == '$MARKER' then return string.sub(at, #'$MARKER' + 1) end
  return false
end
local function session_meta(at)
  if not at or at == '$TOMBSTONE' or forwarded_to(at) then return false end
  return at
end
";
    Script::new(
        &[prelude, body]
            .concat()
            .replace("$META", META_FIELD)
            .replace("$SEEN", SEEN_FIELD)
            .replace("$TOMBSTONE", TOMBSTONE)
            .replace("$MARKER", MARKER)
            .replace("$VERSION", &SessionRecord::FORMAT_VERSION.to_string()),
    )
}

/// `KEYS[1]` session key; `ARGV[1]` expiry (ms), then field/value pairs (the metadata first).
/// Returns 1 when created, 0 (writing nothing) when the key exists: a live session, a forwarding
/// marker, a tombstone, or the trace of a write to a missing key.
///
/// A transaction of plain commands (`HSETNX` of each field, `PEXPIREAT … NX`) cost Redis 30,900
/// instructions against this script's 53,100 on the bench's new session, but the app 13,900
/// more to parse its six replies, so the same CPU in all; it also added the fields missing from
/// a live session until a second round trip removed them, and on Redis Cluster a `MULTI` does
/// not follow a slot's move as a single command does.
pub(crate) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    script(
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
/// (a later one already set stays, TTL and metadata alike) and never past the absolute one.
/// Returns the new expiry, or -1 (writing nothing) when no session holds the key.
pub(crate) static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local meta = session_meta(redis.call('HGET', KEYS[1], '$META'))
if not meta then return -1 end
local head, absolute, idle = string.match(meta, '^($VERSION:%d+:(%d+)):(%d+)$')
if not head then return redis.error_reply('ERR corrupt session metadata') end
-- Never earlier than the deadline already set, never past the absolute one.
local deadline = math.min(math.max(tonumber(ARGV[1]), tonumber(idle)), tonumber(absolute))
if ARGV[3] == '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], '$META', head .. ':' .. string.format('%d', deadline), '$SEEN', ARGV[2])
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
/// `ARGV[2]` how long the forwarding marker left in its place lives (s). Atomically reads and
/// deletes the session: returns its fields (the flat `HGETALL` list), or
/// nil when the key holds no session (missing, a marker, a tombstone).
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
if not session_meta(redis.call('HGET', KEYS[1], '$META')) then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
if ARGV[1] then
  redis.call('HSET', KEYS[1], '$META', '$MARKER' .. ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return fields
",
    )
});

/// `KEYS[1]` a session key; `ARGV[1]` how long a tombstone lives (s). Ends what the key holds,
/// decoding nothing (a session this version cannot read is revoked all the same):
///
/// - a forwarding marker: deletes it (a renew still in flight then finds it gone and undoes
///   itself) and returns the hash it forwarded to, for the caller to revoke too;
/// - a session: deletes it and returns 1;
/// - nothing (or a hash without `@`, the trace of a write to a missing key): leaves a
///   tombstone, so that a create still in flight for this key (a renew's new ID, indexed before
///   it is created) is refused, and returns 0. An existing tombstone is left as it is.
pub(crate) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r"
local at = redis.call('HGET', KEYS[1], '$META')
if at == '$TOMBSTONE' then return 0 end
local target = forwarded_to(at)
if target then
  redis.call('DEL', KEYS[1])
  return target
end
if at then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('HSET', KEYS[1], '$META', '$TOMBSTONE')
redis.call('EXPIRE', KEYS[1], ARGV[1])
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
