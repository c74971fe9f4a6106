//! The sealed backend: the session opened from the cookie, and the commit plan applied to it
//! and sealed again.

use session_core::{CommitPlan, Refusal, SealedWrite, SessionRecord, SessionSealer, StoreError};

use crate::cookie::{CookieWrite, SealedCookie};

/// The sealed session the request carried, opened: `Ok(None)` without one, the refusal when it
/// does not open. Expiry is the caller's to check.
pub(crate) fn open(
    sealer: &dyn SessionSealer,
    cookie_name: &str,
    carried: Option<&SealedCookie>,
) -> Result<Option<SessionRecord>, Refusal> {
    match carried.and_then(|carried| carried.value.as_deref()) {
        Some(value) => sealer.open(cookie_name, value).map(Some),
        None => Ok(None),
    }
}

/// Applies `plan` to the session the request carried and seals the result. A cookie sealed with
/// a previous key is sealed again with the current one even when nothing changed (and removed if
/// it no longer opens).
pub(crate) fn commit(
    sealer: &dyn SessionSealer,
    cookie_name: &str,
    carried: Option<&SealedCookie>,
    plan: CommitPlan,
    persistent: bool,
) -> Result<CookieWrite, StoreError> {
    let value = carried.and_then(|c| c.value.as_deref());
    let reseal = value.is_some_and(|value| sealer.needs_reseal(value));
    let opened = || open(sealer, cookie_name, carried).ok().flatten();
    match plan.apply(opened, reseal) {
        SealedWrite::Set(record) => Ok(CookieWrite::Set {
            value: sealer.seal(cookie_name, &record)?,
            expires_at: record.expires_at,
            persistent,
        }),
        SealedWrite::Remove => Ok(CookieWrite::Remove),
        _ => Ok(CookieWrite::Unchanged),
    }
}
