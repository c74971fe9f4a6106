//! The unit tests' own Redis helpers (`src/test_redis.rs`), so both find Redis in the same place
//! and open stores the same way.

use store_redis::RedisStore;

#[path = "../../src/test_redis.rs"]
mod test_redis;

pub(crate) use test_redis::*;
