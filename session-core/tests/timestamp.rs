//! Timestamps: the system clock reads a real date, and arithmetic saturates instead of wrapping.
#![allow(missing_docs)]

use std::time::Duration;

use session_core::Timestamp;

#[test]
fn addition_saturates() {
    let t = Timestamp::from_unix_millis(u64::MAX - 1);
    assert_eq!((t + Duration::from_secs(10)).as_unix_millis(), u64::MAX);
    assert_eq!((t + Duration::MAX).as_unix_millis(), u64::MAX);
}

#[test]
fn now_is_after_2020() {
    assert!(Timestamp::now().as_unix_millis() > 1_577_836_800_000);
}
