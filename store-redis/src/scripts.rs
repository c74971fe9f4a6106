//! The server-side scripts that make create, update and touch one atomic round trip each.
//!
//! Layout of one session hash: field `@` holds the metadata `"<version>:<created_ms>:<absolute_ms>"`,
//! field `@seen` when it was last written or refreshed (server clock, ms), and each session key
//! `k` is the field `.k` holding its JSON value. The key's TTL is the
//! effective expiry, set with `PEXPIREAT`.

use std::sync::LazyLock;

use redis::Script;

/// Reads the absolute deadline from the metadata field and caps `ARGV[1]` (the idle deadline)
/// by it; returns `-1` when the session does not exist (or has expired, which Redis makes the
/// same thing).
const CAPPED_DEADLINE: &str = r"
local function NOW_MS() local t = redis.call('TIME'); return t[1] * 1000 + math.floor(t[2] / 1000) end
local meta = redis.call('HGET', KEYS[1], '@')
if not meta then return -1 end
local absolute = string.match(meta, '^%d+:%d+:(%d+)$')
if not absolute then return redis.error_reply('ERR corrupt session metadata') end
local deadline = ARGV[1]
if tonumber(absolute) < tonumber(deadline) then deadline = absolute end
";

/// `KEYS[1]` session key; `ARGV[1]` metadata, `ARGV[2]` expiry (ms), then field/value pairs.
/// Returns 1 when created, 0 (writing nothing) when the key exists.
pub(crate) static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local function NOW_MS() local t = redis.call('TIME'); return t[1] * 1000 + math.floor(t[2] / 1000) end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], '@', ARGV[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
-- Before the expiry: a deadline already past deletes the key, and nothing may recreate it.
redis.call('HSET', KEYS[1], '@seen', NOW_MS())
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
",
    )
});

/// `KEYS[1]` session key; `ARGV[1]` idle deadline (ms), `ARGV[2]` `1` when the delta clears,
/// `ARGV[3]` the number of field/value pairs that follow, then the removed fields.
/// Returns the new expiry, or -1 (writing nothing) when the session does not exist.
pub(crate) static UPDATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{CAPPED_DEADLINE}{}",
        r"
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '@', meta)
end
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for j = i, #ARGV do redis.call('HDEL', KEYS[1], ARGV[j]) end
-- Before the expiry: a deadline already past deletes the key, and nothing may recreate it.
redis.call('HSET', KEYS[1], '@seen', NOW_MS())
redis.call('PEXPIREAT', KEYS[1], deadline)
return tonumber(deadline)
"
    ))
});

/// `KEYS[1]` session key; `ARGV[1]` idle deadline (ms). Returns the new expiry, or -1 when the
/// session does not exist.
pub(crate) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{CAPPED_DEADLINE}{}",
        r"
-- Before the expiry: a deadline already past deletes the key, and nothing may recreate it.
redis.call('HSET', KEYS[1], '@seen', NOW_MS())
redis.call('PEXPIREAT', KEYS[1], deadline)
return tonumber(deadline)
"
    ))
});

/// `KEYS[1]` session key. Atomically reads and deletes the session: returns `{pttl, fields}`
/// (fields as the flat `HGETALL` list), or nil when the key does not exist.
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return {ttl, fields}
",
    )
});
