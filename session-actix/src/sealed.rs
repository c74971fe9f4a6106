//! The sealed backend: the session opened from the cookie, and the commit plan applied to it
//! and sealed again.

use session_core::{CommitPlan, SealedWrite, SessionRecord, SessionSealer, StoreError};

use crate::cookie::{CookieWrite, SealedCookie};

/// The sealed session the request carried, opened (`None` without one, or one that does not
/// open). Expiry is the caller's to check.
pub(crate) fn open(
    sealer: &dyn SessionSealer,
    cookie_name: &str,
    carried: Option<&SealedCookie>,
) -> Option<SessionRecord> {
    sealer.open(cookie_name, carried?.value.as_deref()?)
}

/// Applies `plan` to the session the request carried and seals the result. A cookie sealed with
/// a previous key is sealed again with the current one even when nothing changed (and removed if
/// it no longer opens).
pub(crate) fn commit(
    sealer: &dyn SessionSealer,
    cookie_name: &str,
    carried: Option<&SealedCookie>,
    plan: CommitPlan,
) -> Result<CookieWrite, StoreError> {
    let value = carried.and_then(|c| c.value.as_deref());
    let reseal = value.is_some_and(|value| sealer.needs_reseal(value));
    let persistent = plan.is_persistent();
    match plan.apply(|| open(sealer, cookie_name, carried), reseal) {
        SealedWrite::Set(record) => Ok(CookieWrite::Set {
            value: sealer.seal(cookie_name, &record)?,
            expires_at: record.expires_at,
            persistent,
        }),
        SealedWrite::Remove => Ok(CookieWrite::Remove),
        _ => Ok(CookieWrite::Unchanged),
    }
}
