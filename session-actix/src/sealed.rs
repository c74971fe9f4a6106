//! The sealed backend's commit: the plan applied to the session opened from the cookie, and
//! the result sealed again.

use session_core::{CommitPlan, SealedWrite, SessionSealer, StoreError, Timestamp};

use crate::cookie::CookieWrite;
use crate::session::Session;

/// Applies `plan` to the sealed session `session` carried and seals the result. A cookie sealed
/// with a previous key is sealed again with the current one even when nothing changed (and
/// removed if it no longer opens).
pub(crate) fn commit(
    sealer: &dyn SessionSealer,
    cookie_name: &str,
    session: &Session,
    plan: CommitPlan,
    now: Timestamp,
) -> Result<CookieWrite, StoreError> {
    let write = match plan.apply(|| session.open_sealed()) {
        SealedWrite::Unchanged => {
            let carried = session.sealed_cookie().and_then(|c| c.value.as_deref());
            if !carried.is_some_and(|value| sealer.needs_reseal(value)) {
                return Ok(CookieWrite::Unchanged);
            }
            match session.open_sealed().filter(|r| !r.is_expired(now)) {
                Some(record) => SealedWrite::Set(record),
                None => SealedWrite::Remove,
            }
        }
        write => write,
    };
    match write {
        SealedWrite::Set(record) => Ok(CookieWrite::Set {
            value: sealer.seal(cookie_name, &record)?,
            expires_at: record.expires_at,
        }),
        SealedWrite::Remove => Ok(CookieWrite::Remove),
        _ => Ok(CookieWrite::Unchanged),
    }
}
